import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GraphError,
  parseGraphJson,
  sourceMapOf,
  stringifyGraph,
} from "../../src/graph/mod.ts";
import { colOf, graphErrorOf, plain, TWO, where } from "./_helpers.ts";

const NOFLO_GRAPH = `{
  "caseSensitive": false,
  "properties": {
    "name": "clock",
    "environment": { "type": "noflo-nodejs", "content": "" },
    "icon": "clock-o",
    "defaultCapacity": 20
  },
  "inports": {
    "start": { "process": "Ticker", "port": "interval", "metadata": { "x": 36, "y": 72 } }
  },
  "outports": {},
  "groups": [
    { "name": "Timing", "nodes": ["Ticker"], "metadata": { "description": "clock", "color": 2 } }
  ],
  "processes": {
    "Ticker": {
      "component": "core/Interval",
      "metadata": { "label": "Ticker", "x": 180.5, "y": 72, "width": 72, "timeoutMs": 500 }
    },
    "core/Output_q8xi1": {
      "component": "core/Output",
      "metadata": { "label": "Display", "x": 360, "y": 72, "retry": { "attempts": 3, "backoffMs": 10 } }
    }
  },
  "connections": [
    {
      "src": { "process": "Ticker", "port": "out" },
      "tgt": { "process": "core/Output_q8xi1", "port": "in" },
      "metadata": { "route": 5, "capacity": 50, "policy": "drop-oldest", "secure": false }
    },
    { "data": "1s", "tgt": { "process": "Ticker", "port": "interval" }, "metadata": { "route": null } },
    { "data": { "deep": [1, 2.5, -3e2, "\\u00e9\\n", null, true] }, "tgt": { "process": "core/Output_q8xi1", "port": "in" } }
  ],
  "x-unknown-top-level": ["kept"]
}`;

function problemOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e}`);
    assert.equal(e.problems.length, 1);
    return e.problems[0];
  }
  assert.fail("expected a GraphError");
}

test("parseGraphJson() keeps every field of a NoFlo graph (JSON round trip)", () => {
  const graph = parseGraphJson(NOFLO_GRAPH);
  assert.deepEqual(JSON.parse(JSON.stringify(graph)), JSON.parse(NOFLO_GRAPH));
  assert.deepEqual(JSON.parse(stringifyGraph(graph)), JSON.parse(NOFLO_GRAPH));
});

test("parseGraphJson() records the line:col of keys and array elements", () => {
  const graph = parseGraphJson(NOFLO_GRAPH, { file: "clock.json" });
  const map = sourceMapOf(graph)!;
  assert.equal(map.file, "clock.json");
  assert.deepEqual(map.positions.get("processes.Ticker"), { line: 17, col: 5 });
  assert.deepEqual(map.positions.get('processes["core/Output_q8xi1"]'), {
    line: 21,
    col: 5,
  });
  assert.deepEqual(map.positions.get("connections[1]"), { line: 32, col: 5 });
  assert.deepEqual(map.positions.get("connections[0].metadata.capacity"), {
    line: 30,
    col: 33,
  });
});

test("parseGraphJson() reports a JSON syntax error with line:col", () => {
  const p = problemOf(() =>
    parseGraphJson(
      '{\n  "processes": {\n    "A": { "component": "x/Y", }\n  }\n}',
      {
        file: "bad.json",
      },
    )
  );
  assert.equal(p.line, 3);
  assert.equal(p.col, 32);
  assert.match(p.message, /trailing comma/);
  assert.equal(p.path, "processes.A");
});

test("parseGraphJson() points at the start of an unclosed string", () => {
  const p = problemOf(() =>
    parseGraphJson('{\n  "processes": {\n    "A: {}\n  }\n}')
  );
  assert.deepEqual([p.line, p.col], [3, 5]);
  assert.match(p.message, /line/);
});

test("parseGraphJson() explains single-quoted strings", () => {
  const p = problemOf(() => parseGraphJson("{ 'processes': {} }"));
  assert.deepEqual([p.line, p.col], [1, 3]);
  assert.match(p.message, /expected a key in double quotes/);
});

test("parseGraphJson() rejects text after the graph object", () => {
  const p = problemOf(() => parseGraphJson("{}\n}"));
  assert.deepEqual([p.line, p.col], [2, 1]);
});

test("parseGraphJson() rejects JSON that is not an object", () => {
  const p = problemOf(() => parseGraphJson("  [1, 2]"));
  assert.equal(p.path, "$");
  assert.deepEqual([p.line, p.col], [1, 3]);
  assert.match(p.message, /must be a JSON object/);
});

test("parseGraphJson() error message reads file:line:col: message", () => {
  assert.throws(
    () => parseGraphJson('{\n  "a": tru\n}', { file: "g.json" }),
    (e: unknown) =>
      e instanceof GraphError && e.name === "GraphError" &&
      /\ng\.json:2:8: JSON syntax error: expected a value/.test(e.message),
  );
});

test("parseGraphJson() records a duplicate process name with both positions", () => {
  const graph = parseGraphJson(`{
  "processes": {
    "A": { "component": "core/Repeat" },
    "B": { "component": "core/Output" },
    "A": { "component": "core/Kick" }
  }
}`);
  const [problem] = sourceMapOf(graph)!.problems;
  assert.equal(problem.path, "processes.A");
  assert.deepEqual([problem.line, problem.col], [5, 5]);
  assert.match(
    problem.message,
    /process "A" is declared twice \(first at line 3, col 5\)/,
  );
  // JSON.parse keeps the last one; so do the positions.
  assert.equal(graph.processes?.A.component, "core/Kick");
  assert.deepEqual(sourceMapOf(graph)!.positions.get("processes.A.component"), {
    line: 5,
    col: 12,
  });
});

test("parseGraphJson() records a duplicate key in any object", () => {
  const graph = parseGraphJson('{"properties": {"name": "a", "name": "b"}}');
  const [problem] = sourceMapOf(graph)!.problems;
  assert.equal(problem.path, "properties.name");
  assert.match(problem.message, /key "name" appears twice/);
});

test("parseGraphJson() reads text that starts with a byte order mark", () => {
  const graph = parseGraphJson("\uFEFF" + TWO);
  assert.deepEqual(plain(graph), JSON.parse(TWO));
});

test("parseGraphJson() does not count a byte order mark as a column", () => {
  const graph = parseGraphJson('\uFEFF{"processes": {}}');
  assert.deepEqual(sourceMapOf(graph)!.positions.get("processes"), {
    line: 1,
    col: 2,
  });
});

test("parseGraphJson() reports a // comment as a syntax error at the slash", () => {
  const error = graphErrorOf(() =>
    parseGraphJson('{\n  // flows\n  "processes": {}\n}')
  );
  assert.deepEqual(where(error.problems), [["$", 2, 3]]);
  assert.match(error.message, /JSON syntax error/);
});

test("parseGraphJson() reports a trailing comma in an object at the closing brace", () => {
  const line = '  "processes": { "A": { "component": "x" }, }';
  const error = graphErrorOf(() => parseGraphJson(`{\n${line}\n}`));
  assert.deepEqual(where(error.problems), [
    ["processes", 2, colOf(line, "}", 1)],
  ]);
  assert.match(error.message, /trailing comma before "}"/);
});

test("parseGraphJson() reports a trailing comma in an array at the closing bracket", () => {
  const error = graphErrorOf(() =>
    parseGraphJson('{ "groups": [\n  { "name": "g", "nodes": [] },\n] }')
  );
  assert.deepEqual(where(error.problems), [["groups", 3, 1]]);
  assert.match(error.message, /trailing comma before "]"/);
});
