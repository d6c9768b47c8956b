import { test } from "node:test";
import assert from "node:assert/strict";
import { CsvParse, CsvRowsError } from "../../src/components/csv.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { builtins } from "../../src/components/mod.ts";
import { runShaping } from "./_shaping_helpers.ts";
import { fakeContext } from "./_helpers.ts";

/** .fbp text for an IIP of `values` (JSON inside '...'). */
function iip(values: unknown[]): string {
  return `'${JSON.stringify(values).replaceAll("'", "\\'")}'`;
}

/** Runs `values` through `component` with `settings`; out and error sinks. */
async function through(
  component: string,
  values: unknown[],
  settings = "",
) {
  const run = await runShaping(`
    ${iip(values)} -> values V(test/Values) out -> in T(${component})
    T out -> in K(test/Sink)
    T error -> in E(test/Sink)
    ${settings}
  `);
  assert.deepEqual(run.errors, []);
  return {
    out: run.sinks.K ?? [],
    errors: (run.sinks.E ?? []) as ProcessError[],
  };
}

test("csv/Parse reads a whole text into one array of objects keyed by the header row", async () => {
  const { out } = await through("csv/Parse", [
    'time,sensor,temp\n1,"a, north",21.5\n2,b,22\n',
  ]);
  assert.deepEqual(out, [[
    { time: "1", sensor: "a, north", temp: "21.5" },
    { time: "2", sensor: "b", temp: "22" },
  ]]);
});

test("csv/Parse with cast reads unquoted numbers and booleans, and keeps quoted fields as text", async () => {
  const { out } = await through(
    "csv/Parse",
    ['n,ok,code,name\n1.5,true,"007",x\n-2e3,false,42,\n'],
    "'true' -> cast T",
  );
  assert.deepEqual(out, [[
    { n: 1.5, ok: true, code: "007", name: "x" },
    { n: -2000, ok: false, code: 42, name: "" },
  ]]);
});

test("csv/Parse with cast keeps as text a number no double holds: one past its range, an integer past 2^53", async () => {
  // 1e999 was Infinity (written null as JSON) and a 20-digit id another
  // number (12345678901234567000).
  const { out } = await through(
    "csv/Parse",
    ["v,id\n1e999,12345678901234567890\n-1e400,9007199254740991\n"],
    "'true' -> cast T",
  );
  assert.deepEqual(out, [[
    { v: "1e999", id: "12345678901234567890" },
    { v: "-1e400", id: 9007199254740991 },
  ]]);
});

test("csv/Parse takes given columns, in place of the header row when header is on", async () => {
  const text = "a,b\n1,2\n";
  const replaced = await through(
    "csv/Parse",
    [text],
    `'["x","y"]' -> columns T`,
  );
  assert.deepEqual(replaced.out, [[{ x: "1", y: "2" }]]);
  const noHeader = await through(
    "csv/Parse",
    [text],
    `'["x","y"]' -> columns T\n'false' -> header T`,
  );
  assert.deepEqual(noHeader.out, [[{ x: "a", y: "b" }, { x: "1", y: "2" }]]);
  const arrays = await through("csv/Parse", [text], "'false' -> header T");
  assert.deepEqual(arrays.out, [[["a", "b"], ["1", "2"]]]);
});

test("csv/Parse honours the delimiter and the quote of the file", async () => {
  const { out } = await through(
    "csv/Parse",
    ["a;b\n'x;y';2\n"],
    `';' -> delimiter T\n'\\'' -> quote T`,
  );
  assert.deepEqual(out, [[{ a: "x;y", b: "2" }]]);
});

test("csv/Parse sends the good rows of a text and its malformed rows, with their lines, to error", async () => {
  const { out, errors } = await through("csv/Parse", [
    'a,b\n1,2\n3\n\n4,5,6\n7,8\n"9,10\n',
  ]);
  assert.deepEqual(out, [[{ a: "1", b: "2" }, { a: "7", b: "8" }]]);
  assert.equal(errors.length, 1);
  const cause = errors[0].cause;
  assert.ok(cause instanceof CsvRowsError);
  assert.deepEqual(cause.rows.map((r) => r.line), [3, 5, 7]);
  assert.equal(
    cause.rows[0].reason,
    "expected 2 fields (a, b), received 1",
  );
  assert.match(cause.rows[2].reason, /Quote Not Closed/);
  assert.match(
    errors[0].message,
    /Cannot parse CSV: 3 malformed rows: line 3: expected 2 fields \(a, b\), received 1; line 5: expected 2 fields \(a, b\), received 3; line 7: /,
  );
});

test("csv/Parse refuses a record of more than maxFields fields (default 100,000) as a malformed row, and reads the rows around it", async () => {
  // csv-parse made every field: a 16 MiB line of commas was 16 million
  // of them, 954 MB (Deno) before the row was refused as malformed.
  const many = ",".repeat(100_000);
  const { out, errors } = await through("csv/Parse", [
    `a,b\n1,2\n${many}\n3,4\n`,
  ]);
  assert.deepEqual(out, [[{ a: "1", b: "2" }, { a: "3", b: "4" }]]);
  assert.deepEqual(errors.map((e) => e.message), [
    'process "T" failed on in-port "in": Cannot parse CSV: line 3: the record has more than 100,000 fields (maxFields)',
  ]);
  // 100,000 fields are within it; a header row past it is malformed.
  const within = await through(
    "csv/Parse",
    [`${many.slice(1)}\n`],
    "'false' -> header T",
  );
  assert.equal((within.out[0] as unknown[][])[0].length, 100_000);
  const lines = await through(
    "csv/Parse",
    ["a,b,c,d", "1,2,3,4", "5,6"],
    "'lines' -> mode T\n'3' -> maxFields T\n'[\"x\",\"y\"]' -> columns T",
  );
  assert.deepEqual(lines.out, [{ x: "5", y: "6" }]);
  assert.deepEqual(
    lines.errors.map((e) => (e.cause as CsvRowsError).rows),
    [
      [{
        line: 1,
        reason:
          "the header row is malformed (the record has more than 3 fields (maxFields)); the columns name the fields",
      }],
      [{ line: 2, reason: "the record has more than 3 fields (maxFields)" }],
    ],
  );
});

test("csv/Parse reads a whole text with CRLF line ends (RFC 4180, spreadsheet exports), a quoted line break kept as it is", async () => {
  const { out, errors } = await through("csv/Parse", [
    'time,sensor,temp\r\n10:00,north,21.0\r\n10:01,"so, uth",19.5\r\n',
    'a,b\r\n1,"x"\r\n2,"two\r\nlines"\r\n',
  ], "'true' -> cast T");
  assert.deepEqual(errors, []);
  assert.deepEqual(out, [
    [
      { time: "10:00", sensor: "north", temp: 21 },
      { time: "10:01", sensor: "so, uth", temp: 19.5 },
    ],
    [{ a: 1, b: "x" }, { a: 2, b: "two\r\nlines" }],
  ]);
});

test("csv/Parse and csv/Stringify read '\\t' in .fbp text as a tab delimiter (the text keeps its backslash)", async () => {
  const parsed = await runShaping(`
    ${iip(["a\tb\n1\t2\n"])} -> values V(test/Values) out -> in T(csv/Parse)
    '\\t' -> delimiter T
    T out -> in K(test/Sink)
  `);
  assert.deepEqual(parsed.sinks.K, [[{ a: "1", b: "2" }]]);
  const written = await runShaping(`
    ${
    iip([[{ a: 1, b: 2 }]])
  } -> values V(test/Values) out -> in T(csv/Stringify)
    '\\t' -> delimiter T
    T out -> in K(test/Sink)
  `);
  assert.deepEqual(written.sinks.K, ["a\tb\n1\t2\n"]);
});

test("csv/Parse goes on after a row with a stray or unclosed quote in a whole text, naming the line where the row starts", async () => {
  const { out, errors } = await through("csv/Parse", [
    'a,b\n1,"x"y\n3,4\n5,6,7\n8,9\n',
    'a,b\n"1,2\n3,4\n5,6\n',
    'a,b\n1,"multi\nline"\n\n\n2,"x"y\n\n3,4\n',
    // A CRLF inside a quoted field is one line break, not two.
    'a,b\r\n"x\r\ny",1\r\nq"r,2\r\nc,d\r\ne,f\r\n',
  ]);
  assert.deepEqual(out, [
    [{ a: "3", b: "4" }, { a: "8", b: "9" }],
    [{ a: "3", b: "4" }, { a: "5", b: "6" }],
    [{ a: "1", b: "multi\nline" }, { a: "3", b: "4" }],
    [{ a: "x\r\ny", b: "1" }, { a: "c", b: "d" }, { a: "e", b: "f" }],
  ]);
  const lines = errors.map((e) =>
    (e.cause as CsvRowsError).rows.map((r) => r.line)
  );
  assert.deepEqual(lines, [[2, 4], [2], [6], [4]]);
  assert.match(errors[0].message, /line 2: Invalid Closing Quote/);
  assert.match(errors[1].message, /line 2: Quote Not Closed/);
});

test("csv/Parse refuses a whole text whose header row is malformed: no data row becomes the header, the error names the header's line", async () => {
  const { out, errors } = await through("csv/Parse", [
    'time,"sensor"x,temp\n1,a,21\n2,b,22\n',
    'time,"sensor,temp\n1,a,21\n2,b,22\n',
    '\n\ntime,sensor",temp\r\n1,a,21\r\n',
    // The next text has its own header row, and reads as ever.
    "time,sensor,temp\n3,c,23\n",
  ]);
  assert.deepEqual(out, [[{ time: "3", sensor: "c", temp: "23" }]]);
  const rows = errors.map((e) => (e.cause as CsvRowsError).rows);
  assert.deepEqual(rows.map((r) => r.map((b) => b.line)), [[1], [1], [3]]);
  assert.match(
    (errors[0].cause as CsvRowsError).message,
    /^Cannot parse CSV: line 1: the header row is malformed \(Invalid Closing Quote: .*\), so the text's rows have no field names and are not read$/,
  );
  assert.match(
    rows[1][0].reason,
    /^the header row is malformed \(Quote Not Closed/,
  );
  assert.match(
    rows[2][0].reason,
    /^the header row is malformed \(Invalid Opening Quote/,
  );
});

test("csv/Parse with columns reports a malformed header row and keys the rows after it by the columns", async () => {
  const { out, errors } = await through(
    "csv/Parse",
    ['time,"sensor"x\n1,a\n2,b\n', 'time,"sensor\n1,a\n'],
    `'["t","s"]' -> columns T`,
  );
  assert.deepEqual(out, [
    [{ t: "1", s: "a" }, { t: "2", s: "b" }],
    [{ t: "1", s: "a" }],
  ]);
  assert.deepEqual(
    errors.map((e) => (e.cause as CsvRowsError).rows.map((r) => r.line)),
    [[1], [1]],
  );
  assert.match(
    (errors[0].cause as CsvRowsError).message,
    /line 1: the header row is malformed \(Invalid Closing Quote: .*\); the columns name the fields$/,
  );
});

test("csv/Parse line by line: after a malformed header line no line becomes the header, each is reported without field names", async () => {
  const { out, errors } = await through(
    "csv/Parse",
    ['time,"sensor"x,temp', "1,a,21", "", "2,b,22"],
    "'lines' -> mode T",
  );
  assert.deepEqual(out, []);
  const rows = errors.map((e) => (e.cause as CsvRowsError).rows);
  assert.deepEqual(rows.map((r) => r.map((b) => b.line)), [[1], [2], [4]]);
  assert.match(
    rows[0][0].reason,
    /^the header row is malformed \(Invalid Closing Quote: .*\), so the lines after it have no field names and are not read$/,
  );
  assert.equal(
    errors[1].message,
    'process "T" failed on in-port "in": Cannot parse CSV: line 2: no field names: the header row (line 1) is malformed',
  );
  const unclosed = await through(
    "csv/Parse",
    ['time,"sensor,temp', "1,a,21"],
    "'lines' -> mode T",
  );
  assert.deepEqual(unclosed.out, []);
  assert.deepEqual(
    unclosed.errors.map((e) => (e.cause as CsvRowsError).rows[0].reason),
    [
      "the header row is malformed (Quote Not Closed: the parsing is finished with an opening quote), so the lines after it have no field names and are not read",
      "no field names: the header row (line 1) is malformed",
    ],
  );
});

test("csv/Parse line by line with columns reports a malformed header line and reads the lines after it, cast", async () => {
  const { out, errors } = await through(
    "csv/Parse",
    ['time,"sensor"x', "1,a", "2,b"],
    `'lines' -> mode T\n'true' -> cast T\n'["t","s"]' -> columns T`,
  );
  assert.deepEqual(out, [{ t: 1, s: "a" }, { t: 2, s: "b" }]);
  assert.deepEqual(
    errors.map((e) => (e.cause as CsvRowsError).rows.map((r) => r.line)),
    [[1]],
  );
});

test("csv/Parse line by line sends each row alone and names a malformed line by its number", async () => {
  const { out, errors } = await through(
    "csv/Parse",
    ["id,v", "1,a", "2", "", '3,"b,c"', '4,"x', "5,e"],
    "'lines' -> mode T\n'true' -> cast T",
  );
  assert.deepEqual(out, [
    { id: 1, v: "a" },
    { id: 3, v: "b,c" },
    { id: 5, v: "e" },
  ]);
  assert.deepEqual(
    errors.map((e) => (e.cause as CsvRowsError).rows.map((r) => r.line)),
    [[3], [6]],
  );
  assert.match(
    errors[0].message,
    /Cannot parse CSV: line 3: expected 2 fields \(id, v\), received 1$/,
  );
  assert.match(errors[1].message, /Cannot parse CSV: line 6: Quote Not Closed/);
});

test("csv/Parse line by line counts the lines of a message of several, skips CRLF ends and goes on after a broken quote", async () => {
  const { out, errors } = await through(
    "csv/Parse",
    ["x,1.50\r", "1,2\n3\n4,5", '6,"q"x', "7,8\r\n"],
    "'lines' -> mode T\n'true' -> cast T",
  );
  // The header is not cast: "1.50" stays a name.
  assert.deepEqual(out, [
    { x: 1, "1.50": 2 },
    { x: 4, "1.50": 5 },
    { x: 7, "1.50": 8 },
  ]);
  assert.deepEqual(
    errors.map((e) => (e.cause as CsvRowsError).rows.map((r) => r.line)),
    [[3], [5]],
  );
  assert.match(errors[1].message, /line 5: Invalid Closing Quote/);
});

test("csv/Parse reads a whole text of 150,000 rows into one array", async () => {
  const lines = ["id,v"];
  for (let i = 0; i < 150_000; i++) lines.push(`${i},x`);
  const { out, errors } = await through("csv/Parse", [lines.join("\n")]);
  assert.deepEqual(errors, []);
  const rows = out[0] as { id: string; v: string }[];
  assert.equal(rows.length, 150_000);
  assert.deepEqual(rows.at(-1), { id: "149999", v: "x" });
});

test("csv/Parse line by line keeps every good row of a message of several lines around a stray or unclosed quote, naming the line the bad row starts on", async () => {
  const { out, errors } = await through(
    "csv/Parse",
    [
      'id,v\n1,a\n2,"x\n3,c\n4,d',
      '5,e\n6,"q"r\n7,g',
      '8,"two\nlines"\n9,i',
      "10,j",
    ],
    "'lines' -> mode T\n'true' -> cast T",
  );
  assert.deepEqual(out, [
    { id: 1, v: "a" },
    { id: 3, v: "c" },
    { id: 4, v: "d" },
    { id: 5, v: "e" },
    { id: 7, v: "g" },
    { id: 8, v: "two\nlines" },
    { id: 9, v: "i" },
    { id: 10, v: "j" },
  ]);
  const rows = errors.map((e) => (e.cause as CsvRowsError).rows);
  assert.deepEqual(rows.map((r) => r.map((b) => b.line)), [[3], [7]]);
  assert.match(rows[0][0].reason, /^Quote Not Closed/);
  assert.match(rows[1][0].reason, /^Invalid Closing Quote/);
});

test("csv/Parse line by line reports a malformed header row in a message of several lines at its line, and each line after it", async () => {
  const bare = await through(
    "csv/Parse",
    ['t,"s\n1,a\n2,b', "3,c"],
    "'lines' -> mode T",
  );
  assert.deepEqual(bare.out, []);
  const rows = bare.errors.map((e) => (e.cause as CsvRowsError).rows);
  assert.deepEqual(rows.map((r) => r.map((b) => b.line)), [[1, 2, 3], [4]]);
  assert.match(
    rows[0][0].reason,
    /^the header row is malformed \(Quote Not Closed/,
  );
  const named = await through(
    "csv/Parse",
    ['t,"s"x\n1,a\n2,"b\n3,c'],
    `'lines' -> mode T\n'["t","s"]' -> columns T`,
  );
  assert.deepEqual(named.out, [{ t: "1", s: "a" }, { t: "3", s: "c" }]);
  assert.deepEqual(
    named.errors.map((e) => (e.cause as CsvRowsError).rows.map((r) => r.line)),
    [[1, 3]],
  );
});

/**
 * csv/Parse line by line, called directly: `put(line)` parses a line,
 * `set(port, value)` changes a setting as a packet while the flow runs
 * does; `out()` and `bad()` are the rows sent and the lines reported.
 */
function linesParser(controls: Record<string, unknown> = {}) {
  const fake = fakeContext(CsvParse, { mode: "lines", ...controls });
  const bad: string[] = [];
  return {
    put(line: string) {
      try {
        CsvParse.process!(line, fake.ctx);
      } catch (e) {
        for (const r of (e as CsvRowsError).rows) {
          bad.push(`line ${r.line}: ${r.reason}`);
        }
      }
    },
    set(port: string, value: unknown) {
      fake.setControl(port, value);
      CsvParse.onControl!(
        port,
        CsvParse.inPorts[port].parse?.(value) ?? value,
        fake.ctx,
      );
    },
    out: () => fake.sent.map(([, v]) => v),
    bad: () => bad,
  };
}

test("csv/Parse line by line keys the rows after a change of columns by the new columns", () => {
  const p = linesParser();
  p.put("a,b");
  p.put("1,2");
  p.set("columns", ["x", "y"]);
  p.put("3,4");
  p.set("columns", ["x", "y", "z"]);
  p.put("5,6,7");
  assert.deepEqual(p.out(), [
    { a: "1", b: "2" },
    { x: "3", y: "4" },
    { x: "5", y: "6", z: "7" },
  ]);
  assert.deepEqual(p.bad(), []);
});

test("csv/Parse line by line: header turned off sends the rows after it as arrays, turned on again takes the next row as the header row", () => {
  const p = linesParser({ cast: true });
  p.put("a,b");
  p.put("1,2");
  p.set("header", false);
  p.put("3,4");
  p.set("header", true);
  p.put("c,d");
  p.put("5,6");
  // The same setting again changes nothing: no row becomes a header.
  p.set("header", true);
  p.put("7,8");
  assert.deepEqual(p.out(), [
    { a: 1, b: 2 },
    [3, 4],
    { c: 5, d: 6 },
    { c: 7, d: 8 },
  ]);
  assert.deepEqual(p.bad(), []);
});

test("csv/Parse line by line: after a malformed header row, columns or header off let the rows after them go out", () => {
  const p = linesParser();
  p.put('t,"s"x');
  p.put("1,a");
  p.set("columns", ["t", "s"]);
  p.put("2,b");
  const q = linesParser();
  q.put('t,"s"x');
  q.set("header", false);
  q.put("1,a");
  assert.deepEqual(p.out(), [{ t: "2", s: "b" }]);
  assert.deepEqual(p.bad().map((b) => b.slice(0, 30)), [
    "line 1: the header row is malf",
    "line 2: no field names: the he",
  ]);
  assert.deepEqual(q.out(), [["1", "a"]]);
});

test("csv/Parse fails a message that is not text", async () => {
  const { out, errors } = await through("csv/Parse", [{ a: 1 }, "a\n1\n"]);
  assert.deepEqual(out, [[{ a: "1" }]]);
  assert.match(
    errors[0].message,
    /Cannot parse CSV: expected a string, received object$/,
  );
});

test("csv/Stringify writes an array of rows as one text with a header, in the columns' order", async () => {
  const rows = [
    { time: 1, sensor: "a, north", ok: true },
    { time: 2, sensor: 'say "hi"', ok: false },
  ];
  const plain = await through("csv/Stringify", [rows]);
  assert.deepEqual(plain.out, [
    'time,sensor,ok\n1,"a, north",true\n2,"say ""hi""",false\n',
  ]);
  const picked = await through(
    "csv/Stringify",
    [rows],
    `'["ok","time"]' -> columns T\n';' -> delimiter T`,
  );
  assert.deepEqual(picked.out, ["ok;time\ntrue;1\nfalse;2\n"]);
  const arrays = await through(
    "csv/Stringify",
    [[[1, 2], [3, 4]]],
    "'false' -> header T",
  );
  assert.deepEqual(arrays.out, ["1,2\n3,4\n"]);
});

test("csv/Stringify writes a field a row lacks as empty, even one every object inherits (constructor, __proto__)", async () => {
  // The F1 results of a season: the second row has no constructor yet.
  const rows: Record<string, string>[] = [
    { driver: "A", constructor: "Ferrari" },
    { driver: "B" },
  ];
  const inherited = await through("csv/Stringify", [rows]);
  assert.deepEqual(inherited.errors, []);
  assert.deepEqual(inherited.out, ["driver,constructor\nA,Ferrari\nB,\n"]);
  const lines = await through(
    "csv/Stringify",
    rows,
    "'lines' -> mode T",
  );
  assert.deepEqual(lines.errors, []);
  assert.deepEqual(lines.out, ["driver,constructor", "A,Ferrari", "B,"]);
  const proto = await through(
    "csv/Stringify",
    [[{ id: 1 }]],
    `'["id","__proto__","toString"]' -> columns T`,
  );
  assert.deepEqual(proto.errors, []);
  assert.deepEqual(proto.out, ["id,__proto__,toString\n1,,\n"]);
});

test("csv/Stringify line by line sends a header line, then one line per row", async () => {
  const { out, errors } = await through(
    "csv/Stringify",
    [{ a: 1, b: "x" }, { b: "y,z", a: 2 }, "oops", { a: 3 }],
    "'lines' -> mode T",
  );
  assert.deepEqual(out, ["a,b", "1,x", '2,"y,z"', "3,"]);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /Cannot write CSV: a row must be an object or an array, received string "oops"$/,
  );
});

test("csv/Stringify lines read back by csv/Parse with cast give the rows again", async () => {
  const rows = [
    { id: 1, name: "a, b", ok: true },
    { id: 2.5, name: 'q"uote', ok: false },
  ];
  const run = await runShaping(`
    ${iip(rows)} -> values V(test/Values) out -> in W(csv/Stringify)
    'lines' -> mode W
    W out -> in P(csv/Parse) out -> in K(test/Sink)
    'lines' -> mode P
    'true' -> cast P
  `);
  assert.deepEqual(run.errors, []);
  assert.deepEqual(run.sinks.K, rows);
});

test("csv settings are checked when the graph is validated, with their line", () => {
  const text = [
    "'x' -> in P(csv/Parse)",
    "'' -> delimiter P",
    "'rows' -> mode P",
    `'[]' -> columns P`,
    `'""' -> quote S(csv/Stringify)`,
  ].join("\n");
  const problems = validateGraph(loadGraph(text), builtins()).map((p) =>
    `${p.line}: ${p.message}`
  );
  assert.deepEqual(problems, [
    '2: IIP for in-port "delimiter" of "P" (csv/Parse) is not valid: expected a delimiter: a non-empty string without a line break, such as ";" or "\\t", received string ""',
    '3: IIP for in-port "mode" of "P" (csv/Parse) is not valid: expected one of "text", "lines", received string "rows"',
    '4: IIP for in-port "columns" of "P" (csv/Parse) is not valid: expected a non-empty array of column names (non-empty strings), received array of 0',
    '5: IIP for in-port "quote" of "S" (csv/Stringify) is not valid: expected a quote: one character, or "" for none, received string "\\"\\""',
  ]);
});

test("csv settings whose delimiter holds the quote character are refused when the graph is validated, naming the process", () => {
  const text = [
    `'"' -> delimiter P(csv/Parse)`,
    "'|' -> quote S(csv/Stringify)",
    "'a|b' -> delimiter S",
    `'"' -> delimiter Q(csv/Parse)`,
    "'' -> quote Q",
    // The delimiter comes while the flow runs: not the default "," then.
    "',' -> quote R(csv/Stringify)",
    "'[\"x\"]' -> in V(json/Parse) out -> delimiter R",
  ].join("\n");
  const problems = validateGraph(loadGraph(text), builtins()).map((p) =>
    `${p.line}: ${p.message}`
  );
  assert.deepEqual(problems, [
    '1: "P" (csv/Parse): the delimiter "\\"" holds the quote character "\\"", so a quoted field cannot be told from the next one; set another quote (or "" for none) or another delimiter',
    '2: "S" (csv/Stringify): the delimiter "a|b" holds the quote character "|", so a quoted field cannot be told from the next one; set another quote (or "" for none) or another delimiter',
  ]);
});

test("csv/Stringify and csv/Parse fail a message while their delimiter, given by a connection, holds the quote character", async () => {
  const inputs = {
    "csv/Stringify": [{ a: "x y", b: 2 }],
    "csv/Parse": 'a,b\n"x y",2\n',
  };
  for (const [component, input] of Object.entries(inputs)) {
    const { out, errors } = await through(
      component,
      [input],
      `'["\\""]' -> values D(test/Values) out -> delimiter T`,
    );
    assert.deepEqual(out, [], component);
    assert.equal(errors.length, 1, component);
    assert.match(
      String(errors[0].cause),
      /CSV: the delimiter "\\"" holds the quote character "\\""/,
      component,
    );
  }
});
