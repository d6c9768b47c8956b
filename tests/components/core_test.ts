import { test } from "node:test";
import assert from "node:assert/strict";
import {
  _logLine,
  CoreDrop,
  CoreKick,
  CoreMerge,
  CoreOutput,
  CoreRepeat,
} from "../../src/components/core.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { deferred, runComponent } from "./_helpers.ts";

test("core/Repeat forwards every message unchanged and in order", async () => {
  const value = { a: 1 };
  const { outputs, errors } = await runComponent(CoreRepeat, {
    input: [1, "two", value, null],
  });
  assert.deepEqual(outputs.out, [1, "two", value, null]);
  assert.equal(outputs.out[2], value);
  assert.deepEqual(errors, []);
});

test("core/Drop takes every message, sends nothing and finishes", async () => {
  const { outputs, errors, state } = await runComponent(CoreDrop, {
    input: [1, 2, 3],
  });
  assert.deepEqual(outputs, {});
  assert.deepEqual(errors, []);
  assert.equal(state, "finished");
});

/** What `core/Output` logs (console.log's arguments, a call each) of `input`, and its outputs. */
async function outputOf(input: unknown[]): Promise<{
  logged: unknown[][];
  outputs: Record<string, unknown[]>;
}> {
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  try {
    const { outputs } = await runComponent(CoreOutput, { input });
    return { logged, outputs };
  } finally {
    console.log = original;
  }
}

test("core/Output logs each message as one line and forwards it", async () => {
  const { logged, outputs } = await outputOf([
    "hello",
    { n: 1 },
    2,
    new TypeError("bad"),
    10n,
  ]);
  assert.deepEqual(logged, [
    ["hello"],
    ['{"n":1}'],
    ["2"],
    ["TypeError: bad"],
    ["10"],
  ]);
  assert.deepEqual(outputs.out?.slice(0, 3), ["hello", { n: 1 }, 2]);
});

test("core/Output logs bytes as their text when they are UTF-8, else (and inside an object) as arrays of numbers", async () => {
  const { logged } = await outputOf([
    new TextEncoder().encode("line one"),
    new TextEncoder().encode("ünï").buffer,
    new Uint8Array([0xc3, 0x28]),
    { code: 0, stdout: new Uint8Array([104, 105]), n: new Int16Array([-1]) },
    { big: new BigInt64Array([2n ** 63n - 1n]) },
  ]);
  assert.deepEqual(logged, [
    ["line one"],
    ["ünï"],
    ["[195,40]"],
    ['{"code":0,"stdout":[104,105],"n":[-1]}'],
    ['{"big":["9223372036854775807"]}'],
  ]);
});

test("core/Output logs a value JSON cannot write as what it is and why, never [object Object]", async () => {
  // Each throws the runtime's own error, at once, as JSON.stringify does
  // when its text grows longer than a string can be (Deno's "Invalid
  // string length", Bun's "Out of memory") or a value nests deeper than
  // the stack goes ("Maximum call stack size exceeded"): a value that
  // really nests that deep takes Bun seconds to refuse.
  const tooLong = { toJSON: () => "x".repeat(2 ** 31) };
  const down = (n: number): number => down(n + 1) + 1;
  const tooDeep = { toJSON: () => down(0) };
  const { logged, outputs } = await outputOf([
    tooLong,
    [tooLong, 2],
    tooDeep,
    [tooDeep],
    {
      toJSON: () => {
        throw new Error("sensor gone");
      },
    },
  ]);
  assert.deepEqual(logged, [
    ["[an object that JSON could not write: it is too large]"],
    ["[an array of 2 items that JSON could not write: it is too large]"],
    ["[an object that JSON could not write: it is nested too deeply]"],
    ["[an array of 1 item that JSON could not write: it is nested too deeply]"],
    [
      '[an object that JSON could not write: it threw "sensor gone" while being written]',
    ],
  ]);
  assert.equal(outputs.out?.length, 5, "each one forwarded all the same");
});

test("core/Kick sends its data value once for each message on in", async () => {
  const { outputs } = await runComponent(CoreKick, {
    iips: { data: { go: true } },
    input: ["a", "b", "c"],
  });
  assert.deepEqual(outputs.out, [{ go: true }, { go: true }, { go: true }]);
});

test("core/Kick sends null when no data value was given", async () => {
  const { outputs } = await runComponent(CoreKick, { input: [1] });
  assert.deepEqual(outputs.out, [null]);
});

test("core/Merge forwards every message of every connection, each connection in order", async () => {
  const { outputs } = await runComponent(CoreMerge, {
    feeds: [
      { port: "in", values: ["a1", "a2", "a3"] },
      { port: "in", values: ["b1", "b2"] },
      { port: "in", values: ["c1"] },
    ],
  });
  const got = outputs.out as string[];
  assert.deepEqual([...got].sort(), ["a1", "a2", "a3", "b1", "b2", "c1"]);
  for (const prefix of ["a", "b", "c"]) {
    const mine = got.filter((v) => v.startsWith(prefix));
    assert.deepEqual(mine, [...mine].sort());
  }
});

test("core/Output ignores NoFlo's options and logs the same line", async () => {
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  try {
    await runComponent(CoreOutput, {
      iips: { options: { depth: 0, colors: true } },
      input: [{ deep: { er: [1] } }],
    });
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, [['{"deep":{"er":[1]}}']]);
});

test("core/Kick sends null for every message when no data is given, whatever the message", async () => {
  const { outputs } = await runComponent(CoreKick, {
    input: [undefined, null, 0, "x", { y: 1 }],
  });
  assert.deepEqual(outputs.out, [null, null, null, null, null]);
});

test("core/Merge of many inputs finishes only when the last input ends", async () => {
  const release = deferred();
  const Late = defineComponent({
    name: "test/Late",
    description: "Sends once released.",
    outPorts: { out: {} },
    async run(ctx) {
      await release.promise;
      await ctx.send("out", "late");
    },
  });
  // 30 inputs of 0 to 3 messages each, and one that sends only once all
  // the others' messages have arrived.
  const feeds = Array.from({ length: 30 }, (_, i) => ({
    port: "in",
    values: Array.from({ length: i % 4 }, (_, j) => `${i}.${j}`),
  }));
  const expected = feeds.flatMap((f) => f.values);
  let arrived = 0;
  const { outputs, state } = await runComponent(CoreMerge, {
    feeds: [...feeds, { port: "in", component: Late }],
    capacity: 1,
    onArrival: () => {
      if (++arrived === expected.length) release.resolve();
    },
  });
  assert.equal(state, "finished");
  assert.equal(outputs.out.length, expected.length + 1);
  assert.equal(outputs.out.at(-1), "late");
  assert.deepEqual(
    (outputs.out as string[]).slice(0, -1).sort(),
    [...expected].sort(),
  );
});

test("_logLine's cycle check costs the same for every object however deep it is, so a deep value costs its size, not its size squared", () => {
  // 990 levels (within MAX_JSON_DEPTH), a BigInt and a reference back to the top at the bottom:
  // JSON.stringify throws, and the lenient writing walks every level.
  const depth = 990;
  const top: Record<string, unknown> = {};
  let v = top;
  for (let i = 0; i < depth; i++) v = (v.a = {}) as Record<string, unknown>;
  const shared = { s: 1 };
  Object.assign(v, { n: 5n, up: top, x: shared, y: shared });
  // Elements compared by a search through an array: a check that scans
  // the path compares as many elements as the path is long, for each of
  // the 990 objects (490,000 in all).
  let scanned = 0;
  const proto = Array.prototype as unknown as Record<string, unknown>;
  const searches = ["includes", "indexOf", "lastIndexOf"] as const;
  const real = searches.map((name) =>
    proto[name] as (...a: unknown[]) => unknown
  );
  searches.forEach((name, i) => {
    proto[name] = function (this: unknown[], ...args: unknown[]) {
      scanned += this.length;
      return real[i].apply(this, args);
    };
  });
  let line: string;
  try {
    line = _logLine(top);
  } finally {
    searches.forEach((name, i) => proto[name] = real[i]);
  }
  assert.ok(scanned <= 10 * depth, `${scanned} elements compared`);
  assert.equal(
    line,
    `${
      '{"a":'.repeat(depth)
    }{"n":"5","up":"[Circular]","x":{"s":1},"y":{"s":1}}${"}".repeat(depth)}`,
  );
});

test("core/Output logs a value nested deeper than MAX_JSON_DEPTH as nested too deeply, before JSON.stringify walks it, and a value as deep as that as JSON", async () => {
  const { MAX_JSON_DEPTH } = await import("../../src/components/_to_json.ts");
  const nest = (n: number) => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = { a: v };
    return v;
  };
  const stringify = JSON.stringify;
  let walked = 0;
  JSON.stringify = ((...args: Parameters<typeof stringify>) => {
    walked++;
    return stringify(...args);
  }) as typeof JSON.stringify;
  let lines: string[];
  try {
    lines = [
      _logLine(nest(MAX_JSON_DEPTH + 1)),
      _logLine([nest(MAX_JSON_DEPTH)]),
    ];
  } finally {
    JSON.stringify = stringify;
  }
  assert.deepEqual(lines, [
    "[an object that JSON could not write: it is nested too deeply]",
    "[an array of 1 item that JSON could not write: it is nested too deeply]",
  ]);
  assert.equal(walked, 0, "refused before JSON.stringify walked it");
  // 100,000 levels, which an expression can build: Bun took 5 s to refuse.
  assert.equal(
    _logLine(nest(100_000)),
    "[an object that JSON could not write: it is nested too deeply]",
  );
  const deepest = _logLine(nest(MAX_JSON_DEPTH - 1));
  assert.ok(deepest.startsWith('{"a":{"a":'));
  // Shared objects are measured once, and count wherever they are.
  const shared = nest(600);
  assert.equal(
    _logLine({ x: shared, y: { z: shared } }).length,
    2 * stringify(shared).length + '{"x":,"y":{"z":}}'.length,
  );
  // Met first at level 2 (x), then at the end of a chain of 500 (y).
  const chain: Record<string, unknown> = {};
  let bottom = chain;
  for (let i = 1; i < 500; i++) bottom = (bottom.a = {}) as typeof chain;
  bottom.s = shared;
  assert.equal(
    _logLine({ x: shared, y: chain }),
    "[an object that JSON could not write: it is nested too deeply]",
    "1 + 500 + 600 levels along y",
  );
});
