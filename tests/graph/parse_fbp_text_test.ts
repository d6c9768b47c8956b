import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFbp, sourceMapOf, validateGraph } from "../../src/graph/mod.ts";
import { testRegistry } from "./_registry.ts";
import { colOf, graphErrorOf, plain, where } from "./_helpers.ts";

const LF_FLOW = [
  "# @name crlf",
  "'x' -> in A(core/Repeat) # first",
  "A out -> (4) in B(core/Output)",
  "INPORT=A.in:IN",
  "",
].join("\n");

test("parseFbp() reads CRLF text like the same text with LF", () => {
  const crlf = parseFbp(LF_FLOW.replaceAll("\n", "\r\n"));
  assert.deepEqual(plain(crlf), plain(parseFbp(LF_FLOW)));
});

test("parseFbp() gives CRLF text the positions of the same text with LF", () => {
  const crlf = sourceMapOf(parseFbp(LF_FLOW.replaceAll("\n", "\r\n")));
  const lf = sourceMapOf(parseFbp(LF_FLOW));
  assert.deepEqual([...crlf!.positions], [...lf!.positions]);
});

test("parseFbp() accepts a tab as whitespace between tokens", () => {
  const spaced = "'x' -> in A(core/Repeat)\nA out -> in B(core/Output)\n";
  const tabbed = "\t'x'\t->\tin A(core/Repeat)\nA\tout -> in\tB(core/Output)\n";
  assert.deepEqual(plain(parseFbp(tabbed)), plain(parseFbp(spaced)));
});

test("parseFbp() reads text that starts with a byte order mark", () => {
  const graph = parseFbp("\uFEFF" + LF_FLOW.replaceAll("\n", "\r\n"));
  assert.deepEqual(plain(graph), plain(parseFbp(LF_FLOW)));
});

test("parseFbp() ignores trailing spaces after a connection", () => {
  const graph = parseFbp("'x' -> in A(core/Repeat)   \nA out -> in B   \n");
  assert.deepEqual(graph.connections?.map((c) => c.tgt.process), ["A", "B"]);
});

test("parseFbp() trims trailing spaces from a # @ annotation value", () => {
  const graph = parseFbp("# @name sensors  \nA(core/Repeat)\n");
  assert.equal(graph.properties?.name, "sensors");
});

test("parseFbp() reads # @defaultCapacity with a trailing space as a number", () => {
  const graph = parseFbp("# @defaultCapacity 20 \nA(core/Repeat)\n");
  assert.equal(graph.properties?.defaultCapacity, 20);
});

test("parseFbp() reads a # @ annotation on the last line without a newline", () => {
  const graph = parseFbp("A(core/Repeat)\n# @name sensors");
  assert.equal(graph.properties?.name, "sensors");
});

test("parseFbp() ignores a comment at the end of a line, with quotes and arrows in it", () => {
  const graph = parseFbp(
    "'x' -> in A(core/Repeat) # it's A -> (3) B, \"really\"\nA out -> in B(core/Output) #\n",
  );
  assert.equal(graph.connections?.length, 2);
  assert.equal(graph.connections?.[1].metadata, undefined);
});

test("parseFbp() keeps # inside a quoted IIP", () => {
  const graph = parseFbp("'color #fff # not a comment' -> in A(core/Repeat)");
  assert.equal(graph.connections?.[0].data, "color #fff # not a comment");
});

test("parseFbp() reads \\' as a quote and keeps any other backslash", () => {
  const graph = parseFbp(String.raw`'it\'s C:\dir\n' -> in A(core/Repeat)`);
  assert.equal(graph.connections?.[0].data, String.raw`it's C:\dir\n`);
});

test("parseFbp() keeps unicode IIP text and counts columns in UTF-16 code units", () => {
  const line = "'héllo 🌊' -> in A(core/Repeat) out -> (3) in B(core/Output)";
  const graph = parseFbp(line);
  assert.equal(graph.connections?.[0].data, "héllo 🌊");
  const positions = sourceMapOf(graph)!.positions;
  assert.deepEqual(positions.get("connections[1]"), {
    line: 1,
    col: colOf(line, "->", 1),
  });
  assert.deepEqual(positions.get("processes.B"), {
    line: 1,
    col: colOf(line, "B("),
  });
});

test("parseFbp() reports a non-ASCII process name at its column", () => {
  const line = "'x' -> in Zähler(core/Repeat)";
  const error = graphErrorOf(() => parseFbp(line));
  assert.deepEqual(where(error.problems), [["$", 1, colOf(line, "ä")]]);
});

test("parseFbp() reads empty text as an empty graph", () => {
  const graph = parseFbp("");
  assert.deepEqual(graph.processes, {});
  assert.deepEqual(graph.connections, []);
  assert.deepEqual(validateGraph(graph, testRegistry()), []);
});

test("parseFbp() reads text of only comments and blank lines as an empty graph", () => {
  const graph = parseFbp("# one\n\n   # two -> (3)\r\n#\n");
  assert.deepEqual(graph.processes, {});
  assert.deepEqual(graph.connections, []);
});

test("parseFbp() reads a 200,000-character line", () => {
  const long = "y".repeat(200_000);
  const graph = parseFbp(`'${long}' -> in A(core/Repeat) out -> (2) in B`);
  assert.equal((graph.connections?.[0].data as string).length, 200_000);
  assert.equal(graph.connections?.[1].metadata?.capacity, 2);
});

test("parseFbp() reads a JSON IIP written over several lines, placed at its arrow", () => {
  const text = '{\n  "a": 1,\n  "b": "->"\n} -> options T(test/Typed)\n';
  const graph = parseFbp(text);
  assert.deepEqual(graph.connections?.[0].data, { a: 1, b: "->" });
  assert.deepEqual(sourceMapOf(graph)!.positions.get("connections[0]"), {
    line: 4,
    col: 3,
  });
});

test("parseFbp() counts lone CR line breaks as the parser does, for validation problems too", () => {
  // The parser (and its syntax errors) treats a lone \r as a line break.
  const syntax = graphErrorOf(() =>
    parseFbp("'a' -> in A(core/Repeat)\rA out -> in B(core/Output) ]")
  );
  assert.equal(syntax.problems[0].line, 2);
  const graph = parseFbp(
    "'a' -> in A(core/Repeat)\rA out -> in B(core/Output)\rB out -> in C(nope/X)",
  );
  const problems = validateGraph(graph, testRegistry());
  assert.deepEqual(where(problems), [["processes.C.component", 3, 13]]);
});

test("parseFbp() gives a syntax error after an IIP holding U+2028 the line a validation problem would get", () => {
  const before = "'a\u2028b' -> in A(core/Repeat)\n";
  const bad = graphErrorOf(() =>
    parseFbp(before + "A out -> in B(core/Output) ]")
  );
  const checked = validateGraph(
    parseFbp(before + "A out -> in B(nope/X)"),
    testRegistry(),
  );
  assert.equal(bad.problems[0].line, checked[0].line);
});

test("parseFbp() ends a comment at U+2028 as the parser does", () => {
  const graph = parseFbp("# note\u2028A(core/Repeat) out -> in B(core/Output)");
  assert.equal(graph.connections?.length, 1);
});

test("parseFbp() records a bare word that names no declared process as a problem at its line:col", () => {
  const problems = validateGraph(parseFbp("\n  hello\n"), testRegistry());
  assert.deepEqual(where(problems), [["processes.hello", 2, 3]]);
  assert.match(
    problems[0].message,
    /"hello" is not connected and has no component/,
  );
  const comma = validateGraph(
    parseFbp("'x' -> in A(core/Output), stray"),
    testRegistry(),
  );
  assert.deepEqual(where(comma), [["processes.stray", 1, 27]]);
});

test("parseFbp() accepts a bare word that names a process declared with a component", () => {
  const graph = parseFbp("'x' -> in Log(core/Output)\nLog\n");
  assert.deepEqual(validateGraph(graph, testRegistry()), []);
});

test("parseFbp() reads a # @ annotation value with characters the fbp parser does not allow", () => {
  const graph = parseFbp("# @name my flow!\n'x' -> in A(core/Output)\n");
  assert.equal(graph.properties?.name, "my flow!");
  assert.deepEqual(sourceMapOf(graph)!.positions.get("properties.name"), {
    line: 1,
    col: 1,
  });
});
