/**
 * The allow list in a graph's text: `# @allow <kind> <entries...>` lines
 * in .fbp add up into `properties.allow`, and `toFbp` writes them back.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFbp } from "../../src/graph/parse_fbp.ts";
import { toFbp } from "../../src/graph/to_fbp.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { Registry } from "../../src/engine/registry.ts";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";

test("# @allow lines add up into properties.allow, one kind a line", () => {
  const g = parseFbp(`# @allow files in/ out/report.csv
# @allow hosts example.com
# @allow files more/
# @allow exec
'x' -> in D(core/Drop)
`);
  assert.deepEqual(g.properties?.allow, {
    files: ["in/", "out/report.csv", "more/"],
    hosts: ["example.com"],
    exec: [],
  });
});

test("toFbp() writes properties.allow as # @allow lines that read back the same", () => {
  const g = parseFbp(
    `# @allow files in/ out/report.csv\n'x' -> in D(core/Drop)\n`,
  );
  const text = toFbp(g);
  assert.match(text, /^# @allow files in\/ out\/report.csv$/m);
  assert.deepEqual(parseFbp(text).properties?.allow, g.properties?.allow);
  assert.throws(
    () =>
      toFbp({
        properties: { allow: { files: ["my file.txt"] } },
        processes: {},
        connections: [],
      }),
    /properties.allow: only lists of entries without blanks/,
  );
});

test("a problem with an @allow line points at it", () => {
  const g = parseFbp(`'x' -> in D(core/Drop)\n# @allow file in/\n`);
  const p = validateGraph(g, new Registry()).find((p) =>
    p.path.startsWith("properties.allow")
  )!;
  assert.equal(p.path, "properties.allow.file");
  assert.equal(p.line, 2);
  assert.match(
    p.message,
    /allow has no kind "file"; the kinds are files, hosts, exec/,
  );
});

test("a malformed allow.hosts entry is a validation problem at its @allow line, not a crash; the other entries still apply", () => {
  for (const entry of ["::1", "http://api.example.com", "a/b", "x.com:99999"]) {
    const g = loadGraph(`# @allow hosts ${entry} api.example.com
'https://api.example.com/x' -> url R(http/Request)
'https://other.example/x' -> url S(http/Request)
`);
    const problems = validateGraph(g, builtins());
    const allow = problems.filter((p) => p.path === "properties.allow.hosts");
    assert.equal(allow.length, 1, JSON.stringify(problems));
    assert.equal(allow[0].line, 1);
    assert.match(
      allow[0].message,
      /^allow\.hosts: Cannot use host allow list entry /,
    );
    // api.example.com is still allowed; other.example still refused.
    assert.deepEqual(
      problems.filter((p) => p.path !== "properties.allow.hosts").map((p) =>
        p.line
      ),
      [3],
    );
  }
});

test("an @allow line of an unknown kind does not hide the problems of the other lines: every problem at once", () => {
  const g = loadGraph(`# @allow hosts http://api.example.com
# @allow host api.example.com
'https://api.example.com/x' -> url R(http/Request)
`);
  const problems = validateGraph(g, builtins());
  assert.deepEqual(
    problems.map((p) => [p.path, p.line]),
    [["properties.allow.hosts", 1], ["properties.allow.host", 2]],
    JSON.stringify(problems),
  );
  assert.match(
    problems[0].message,
    /^allow\.hosts: Cannot use host allow list entry "http:\/\/api\.example\.com"/,
  );
  assert.match(problems[1].message, /allow has no kind "host"/);
});
