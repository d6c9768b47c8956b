/** parseGraphJson(): a depth limit instead of a stack overflow. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GraphError } from "../../src/graph/graph_error.ts";
import { parseGraphJson } from "../../src/graph/parse_graph_json.ts";
import { MAX_GRAPH_JSON_DEPTH } from "../../src/graph/_json_scan.ts";

test("parseGraphJson() refuses JSON nested deeper than 64 levels with a problem at its line and column", () => {
  assert.equal(MAX_GRAPH_JSON_DEPTH, 64);
  const text = `{"processes":{},\n"properties":{"x":${"[".repeat(100_000)}${
    "]".repeat(100_000)
  }}}`;
  assert.throws(
    () => parseGraphJson(text),
    (e: unknown) => {
      assert.ok(e instanceof GraphError);
      const [p] = e.problems;
      assert.match(p.message, /nested more than 64 levels deep/);
      // The graph and properties objects are levels 1 and 2, so level 65
      // is the 63rd bracket, and the first is at col 19.
      assert.deepEqual([p.line, p.col], [2, 19 + 62]);
      return true;
    },
  );
});

test("parseGraphJson() reads data nested 60 levels deep", () => {
  const data = "[".repeat(60) + "]".repeat(60);
  const graph = parseGraphJson(`{"processes":{},"properties":{"x":${data}}}`);
  assert.ok(Array.isArray(graph.properties?.x));
});
