import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { inTempDir, NAMES } from "./_helpers.ts";
import { type GraphRun, problemsOf, runGraph } from "./_graph_helpers.ts";
import { builtins } from "../../src/components/mod.ts";
import { _logLine } from "../../src/components/core.ts";
import { createNetwork } from "../../src/embed.ts";

const ALIASES: Record<string, string> = {
  "core/RepeatDelayed": "core/Delay",
  "filesystem/ReadFile": "fs/ReadFile",
  "packets/Counter": "flow/Counter",
  "strings/SplitStr": "strings/Split",
};

test("builtins() registers every built-in component under its weir name", () => {
  const registry = builtins();
  assert.deepEqual(registry.components().map((c) => c.name), NAMES);
});

test("builtins() resolves NoFlo names to the component with the same meaning", () => {
  const registry = builtins();
  for (const [alias, name] of Object.entries(ALIASES)) {
    assert.equal(registry.get(alias)?.name, name, alias);
  }
  assert.deepEqual(
    registry.names(),
    [...NAMES, ...Object.keys(ALIASES)].sort(),
  );
});

test("builtins() returns a new registry on each call", () => {
  const a = builtins();
  const b = builtins();
  assert.notEqual(a, b);
  a.register(defineComponent({
    name: "mine/Noop",
    description: "Does nothing.",
    inPorts: { in: { description: "Anything." } },
    process() {},
  }));
  assert.equal(b.has("mine/Noop"), false);
});

test("every port of every built-in component has a description", () => {
  for (const c of builtins().components()) {
    assert.ok(c.description, `${c.name} has a description`);
    for (
      const [port, spec] of [
        ...Object.entries(c.inPorts),
        ...Object.entries(c.outPorts),
      ]
    ) {
      assert.ok(spec.description, `${c.name} port ${port} has a description`);
    }
  }
});

test("the default of every control port passes the port's own parse", () => {
  for (const c of builtins().components()) {
    for (const [port, spec] of Object.entries(c.inPorts)) {
      if (!spec.control || spec.default === undefined || !spec.parse) continue;
      assert.doesNotThrow(() => spec.parse!(spec.default), `${c.name}.${port}`);
    }
  }
});

test("createNetwork reads .fbp text whose last line is only indentation", async () => {
  // The usual shape of a graph in an indented template literal.
  const net = createNetwork(`
    'x' -> in R(core/Repeat) out -> in D(core/Drop)
    `);
  await net.start();
  assert.equal(await net.finished, "finished");
});

test("NoFlo's core/Repeat, core/Drop and core/Output run a classic .fbp graph", async () => {
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  let run: GraphRun;
  try {
    run = await runGraph(`
      'hello' -> in R(core/Repeat) out -> in O(core/Output) out -> in K(test/Sink)
      'bye' -> in D(core/Drop)
    `);
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, [["hello"]]);
  assert.deepEqual(run.sinks.K, ["hello"]);
  assert.equal(run.state, "finished");
});

test("NoFlo's core/Kick sends its data IIP for each message on in", async () => {
  const { sinks } = await runGraph(`
    'go' -> data K(core/Kick) out -> in S(test/Sink)
    'a' -> in Split(strings/SplitStr) out -> in K
  `);
  assert.deepEqual(sinks.S, ["go"]);
});

test("NoFlo's core/Kick waits for a data value from a connected process before it sends", async () => {
  // NoFlo's Kick holds the signal while "data" is attached but empty.
  const Later = defineComponent({
    name: "test/Later",
    description: "Sends 'go' after a turn of the event loop.",
    outPorts: { out: {} },
    async run(ctx) {
      await new Promise((r) => setTimeout(r, 0));
      await ctx.send("out", "go");
    },
  });
  const { sinks } = await runGraph(
    `
    S(test/Later) out -> data K(core/Kick) out -> in O(test/Sink)
    'x' -> in K
    `,
    { extra: [Later] },
  );
  assert.deepEqual(sinks.O, ["go"]);
});

test("NoFlo's core/Output takes the options port of classic graphs", () => {
  assert.deepEqual(
    problemsOf(`
      '{"depth": 1}' -> options Log(core/Output)
      'x' -> in Log
    `),
    [],
  );
});

test("NoFlo's strings/SplitStr splits by a delimiter IIP, including /regex/", async () => {
  const { sinks } = await runGraph(`
    'a,b;c' -> in A(strings/SplitStr) out -> in S(test/Sink)
    ',' -> delimiter A
    'x1y22z' -> in B(strings/SplitStr) out -> in T(test/Sink)
    '/[0-9]+/' -> delimiter B
  `);
  assert.deepEqual(sinks.S, ["a", "b;c"]);
  assert.deepEqual(sinks.T, ["x", "y", "z"]);
});

test("NoFlo's packets/Counter forwards the packets and sends their number at the end", async () => {
  const { sinks } = await runGraph(`
    'a b c' -> in Split(strings/SplitStr) out -> in C(packets/Counter)
    ' ' -> delimiter Split
    C out -> in O(test/Sink)
    C count -> in N(test/Sink)
  `);
  assert.deepEqual(sinks.O, ["a", "b", "c"]);
  assert.deepEqual(sinks.N, [3]);
});

test("NoFlo's filesystem/ReadFile reads the file named by an IIP and reports a missing one", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "hello.txt");
    writeFileSync(file, "hello, file\n");
    const missing = join(dir, "missing.txt");
    const { sinks } = await runGraph(`
      '${file}' -> in R(filesystem/ReadFile) out -> in S(test/Sink)
      R error -> in E(test/Sink)
      '${missing}' -> in M(filesystem/ReadFile) error -> in F(test/Sink)
    `);
    assert.deepEqual(sinks.S, ["hello, file\n"]);
    assert.equal(sinks.E, undefined);
    assert.equal(sinks.F.length, 1);
    assert.match(
      (sinks.F[0] as Error).message,
      /cannot read ".*missing\.txt": no such file$/,
    );
  });
});

test("NoFlo's core/RepeatDelayed reads a delay IIP in milliseconds", async () => {
  const t0 = performance.now();
  const { sinks } = await runGraph(`
    '30' -> delay D(core/RepeatDelayed)
    'x' -> in D out -> in S(test/Sink)
  `);
  assert.deepEqual(sinks.S, ["x"]);
  assert.ok(performance.now() - t0 >= 30);
});

test("core/Output writes a value JSON refuses as JSON: a cycle as [Circular], a BigInt inside as a string of its digits; a shared object twice", () => {
  const a: Record<string, unknown> = { id: 1, list: [] as unknown[] };
  (a.list as unknown[]).push(a, { up: a });
  assert.equal(
    _logLine(a),
    '{"id":1,"list":["[Circular]",{"up":"[Circular]"}]}',
  );
  const shared = { k: 1 };
  const both: Record<string, unknown> = { x: shared, y: shared, big: 10n };
  assert.equal(
    _logLine(both),
    '{"x":{"k":1},"y":{"k":1},"big":"10"}',
  );
  assert.equal(_logLine({ t: 1 }), '{"t":1}');
  assert.equal(_logLine(10n), "10");
  assert.equal(_logLine(new RangeError("no")), "RangeError: no");
});
