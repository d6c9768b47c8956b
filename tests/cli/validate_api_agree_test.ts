/**
 * `weir validate` and `POST /flows` see the same problems of a graph, in
 * the same order: by line and column, those without a position last, and
 * what the engine would refuse at build time as well as the rest.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cli } from "./_weir.ts";
import { fbp, setup } from "../server/_flow_api.ts";
import { checkGraph } from "../../src/cli/serve.ts";
import { builtins } from "../../src/components/mod.ts";
import type { Registry } from "../../src/engine/registry.ts";
import { defineSubgraph, parseFbp } from "../../src/graph/mod.ts";

/**
 * The problems `weir validate` prints for `text` (as `line:col: message`
 * or `path: message`), and those POST /flows answers, alike.
 */
async function bothSee(
  text: string,
): Promise<{ validate: string[]; api: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "weir-agree-"));
  const s = setup();
  try {
    const file = join(dir, "g.fbp");
    writeFileSync(file, text);
    const r = await cli(["validate", file]);
    assert.equal(r.code, 1, r.out + r.err);
    const validate = r.out.split("\n").map((l) =>
      l.startsWith(`${file}: `)
        ? l.slice(file.length + 2)
        : l.slice(file.length + 1)
    );
    const res = await s.app.request("/flows", fbp(`# @name g\n${text}`));
    assert.equal(res.status, 400);
    const body = await res.json() as {
      problems: {
        path: string;
        line?: number;
        col?: number;
        message: string;
      }[];
    };
    const api = body.problems.map((p) =>
      // The API's text has the @name line first: one line lower.
      p.line === undefined
        ? `${p.path}: ${p.message}`
        : `${p.line - 1}:${p.col}: ${p.message}`
    );
    return { validate, api };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("weir validate and POST /flows list a graph's problems by line and column, those without one last", async () => {
  // Checked processes first, then connections, then flow properties: in
  // the order found, line 3 came before line 1 and line 2 after both.
  const text = `'x' -> nope A(core/Repeat)
# @restart sometimes
'y' -> in B(core/Ouput)
A out -> in C(core/Drop)
`;
  const { validate, api } = await bothSee(text);
  assert.deepEqual(validate, api);
  assert.deepEqual(validate.map((l) => l.replace(/: .*/, "")), [
    "1:5",
    "2:1",
    "3:11",
  ]);
  assert.match(validate[0], /no in-port "nope"/);
  assert.match(validate[1], /restart must be one of/);
  assert.match(validate[2], /unknown component "core\/Ouput"/);
});

/**
 * The problems `weir validate`'s check (`checkGraph()`) finds in `text`
 * with `registry`, and those POST /flows answers with the same components,
 * each as `line:col: message` or `path: message`.
 */
async function bothSeeWith(
  registry: Registry,
  text: string,
): Promise<{ validate: string[]; api: string[] }> {
  const validate = checkGraph(text, "g.fbp", registry, { format: "fbp" })
    .problems.map((l) => l.replace(/^g\.fbp:? ?/, ""));
  const s = setup({ components: registry });
  try {
    const res = await s.app.request("/flows", fbp(text));
    const body = await res.json() as {
      problems?: {
        path: string;
        line?: number;
        col?: number;
        message: string;
      }[];
    };
    assert.equal(res.status, 400, JSON.stringify(body));
    const api = (body.problems ?? []).map((p) =>
      p.line === undefined
        ? `${p.path}: ${p.message}`
        : `${p.line}:${p.col}: ${p.message}`
    );
    return { validate, api };
  } finally {
    await s.close();
  }
}

/**
 * Builtins, my/Guarded (a subgraph with three unrouted error ports) and
 * my/Routed (one that routes every inner error port itself).
 */
function withSubgraphs(): Registry {
  const registry = builtins();
  registry.register(defineSubgraph(
    "my/Guarded",
    parseFbp(`INPORT=Parse.in:IN
OUTPORT=Out.out:OUT
Parse(core/Repeat) out -> in Check(core/Repeat) out -> in Out(core/Repeat)
Check error -> in Fix(core/Repeat) out -> in Out
`),
    registry,
  ));
  registry.register(defineSubgraph(
    "my/Routed",
    parseFbp(`INPORT=A.in:IN
OUTPORT=Log.error:LOGERR
A(core/Repeat) error -> in Log(core/Drop)
`),
    registry,
  ));
  return registry;
}

test("weir validate and POST /flows refuse a flow exporting a subgraph's error port that stands for several inner ports, at its line", async () => {
  const { validate, api } = await bothSeeWith(
    withSubgraphs(),
    "# @name g\n'x' -> IN G(my/Guarded)\nOUTPORT=G.error:ERR\n",
  );
  assert.deepEqual(validate, api);
  assert.equal(validate.length, 1, validate.join("\n"));
  assert.match(
    validate[0],
    /^3:1: exported out-port "ERR" names "G error", which stands for the error ports of 3 inner processes of subgraph process "G", but a network's exported out-port is one port/,
  );
});

test("weir validate and POST /flows refuse a flow exporting a subgraph's error port that stands for none, at its line", async () => {
  const { validate, api } = await bothSeeWith(
    withSubgraphs(),
    "# @name g\n'x' -> IN R(my/Routed)\nOUTPORT=R.error:ERR\n",
  );
  assert.deepEqual(validate, api);
  assert.equal(validate.length, 1, validate.join("\n"));
  assert.match(validate[0], /^3:1: exported out-port "ERR" .*no port at all/);
});

test("a component made by hand with nothing to run is refused when registered, so no graph of weir validate or POST /flows can name it", () => {
  // new Network() refused it ("has no process function") at the process's
  // line; the registry now refuses it first, saying what it expects.
  const registry = builtins();
  const Repeat = registry.get("core/Repeat")!;
  assert.throws(
    () =>
      registry.register({ ...Repeat, name: "my/Hollow", process: undefined }),
    {
      name: "TypeError",
      message:
        'Cannot register component "my/Hollow": expected a component made with defineComponent(), received object',
    },
  );
  assert.equal(registry.get("my/Hollow"), undefined);
});

test("weir validate, POST /flows and weir serve's graph files refuse two http/In serving the same method and path, at the second's line, naming both", async () => {
  const text =
    `'/readings/:sensor' -> path A(http/In) out -> in R(http/Response)
'GET, POST' -> method B(http/In)
'/readings/:id/' -> path B
B out -> in R
`;
  const { validate, api } = await bothSee(text);
  assert.deepEqual(validate, api);
  const served = checkGraph(text, "g.fbp", builtins(), { format: "fbp" })
    .problems.map((l) => l.replace(/^g\.fbp:/, ""));
  assert.deepEqual(served, validate);
  assert.deepEqual(validate, [
    '2:23: Cannot serve GET /readings/:id/ from process "B" (http/In): process "A" serves GET /readings/:sensor already, the same method and path, so the flow would fail to start; give each http/In its own method or path',
  ]);
});
