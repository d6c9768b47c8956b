import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { problemsOf } from "./_graph_helpers.ts";

const BAD_OPTIONS: [string, string, RegExp][] = [
  [
    "core/Interval interval 0",
    "'0' -> interval C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "interval" of "C" \(core\/Interval\) is not valid: expected a duration of at least 1 ms, received (number 0|string "0")$/,
  ],
  [
    "core/Interval interval that is not a duration",
    "'fast' -> interval C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "interval" of "C" \(core\/Interval\): expected a duration such as 500, "500ms", "1\.5s", "2m" or "1h", received string "fast"$/,
  ],
  [
    "core/Interval negative count",
    "'-1' -> count C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "count" of "C" \(core\/Interval\) is not valid: expected a non-negative integer \(0 for no limit\), received number -1$/,
  ],
  [
    "core/Interval fractional count",
    "'1.5' -> count C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "count" of "C" \(core\/Interval\): expected an integer, received string "1\.5"$/,
  ],
  [
    "core/Delay delay that is not a duration",
    "'soon' -> delay C(core/Delay)",
    /^IIP for in-port "delay" of "C" \(core\/Delay\): expected a duration such as .*received string "soon"$/,
  ],
  [
    "flow/Batch size 0",
    "'0' -> size C(flow/Batch)",
    /^IIP for in-port "size" of "C" \(flow\/Batch\) is not valid: expected a positive integer up to 100000, received number 0$/,
  ],
  [
    "flow/Batch size 1e12 (issue 18: it held 12 million messages)",
    "'1000000000000' -> size C(flow/Batch)",
    /^IIP for in-port "size" of "C" \(flow\/Batch\) is not valid: expected a positive integer up to 100000, received number 1000000000000$/,
  ],
  [
    "core/Interval interval 1e-9 ms (issue 18: it ticked as fast as the host ran)",
    "'0.000000001' -> interval C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "interval" of "C" \(core\/Interval\) is not valid: expected a duration of at least 1 ms, received string "0.000000001"$/,
  ],
  [
    "flow/Batch negative timeout",
    "'-5' -> timeout C(flow/Batch)",
    /^IIP for in-port "timeout" of "C" \(flow\/Batch\): expected a duration such as .*received string "-5"$/,
  ],
  [
    "flow/Throttle rate 0",
    "'0' -> rate C(flow/Throttle)",
    /^IIP for in-port "rate" of "C" \(flow\/Throttle\) is not valid: expected a rate in messages per second above 0, received number 0$/,
  ],
  [
    "flow/Throttle rate that is not a number",
    "'fast' -> rate C(flow/Throttle)",
    /^IIP for in-port "rate" of "C" \(flow\/Throttle\): expected a number, received string "fast"$/,
  ],
  [
    "flow/Map expr with a syntax error",
    "'price * ' -> expr C(flow/Map)",
    /^IIP for in-port "expr" of "C" \(flow\/Map\) is not valid: invalid JSONata expression "price \* " at position \d+: .+$/,
  ],
  [
    "flow/Filter expr with a syntax error",
    "'temp >' -> expr C(flow/Filter)",
    /^IIP for in-port "expr" of "C" \(flow\/Filter\) is not valid: invalid JSONata expression "temp >" at position \d+: .+$/,
  ],
  [
    "json/Stringify indent above 10",
    "'11' -> indent C(json/Stringify)",
    /^IIP for in-port "indent" of "C" \(json\/Stringify\) is not valid: expected an indent of 0 to 10 spaces or a string of up to 10 characters, received (number 11|string "11")$/,
  ],
  [
    "json/Stringify negative indent",
    "'-1' -> indent C(json/Stringify)",
    /^IIP for in-port "indent" of "C" \(json\/Stringify\) is not valid: expected an indent of 0 to 10 spaces/,
  ],
  [
    "strings/Split invalid /pattern/",
    "'/(/' -> delimiter C(strings/Split)",
    /^IIP for in-port "delimiter" of "C" \(strings\/Split\) is not valid: invalid regular expression delimiter \/\(\/: .+$/,
  ],
  [
    "fs/ReadLines without a path",
    "C(fs/ReadLines) out -> in D(core/Drop)",
    /^in-port "path" of "C" \(fs\/ReadLines\) is required: connect it or give it an IIP$/,
  ],
  [
    "fs/WriteLines append that is not a boolean",
    "'/tmp/x' -> path C(fs/WriteLines)\n'yes' -> append C",
    /^IIP for in-port "append" of "C" \(fs\/WriteLines\): expected a boolean, received string "yes"$/,
  ],
  [
    "fs/ReadFile unknown encoding",
    "'klingon' -> encoding C(filesystem/ReadFile)",
    /^IIP for in-port "encoding" of "C" \(fs\/ReadFile\) is not valid: expected an encoding \(.*\), received string "klingon"$/,
  ],
];

for (const [what, text, message] of BAD_OPTIONS) {
  test(`validateGraph reports a bad option with a sentence: ${what}`, () => {
    const problems = problemsOf(text);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], message);
  });
}

test("validateGraph reports an empty strings/Split delimiter from a JSON graph", () => {
  const graph = loadGraph(JSON.stringify({
    processes: { C: { component: "strings/SplitStr" } },
    connections: [{ data: "", tgt: { process: "C", port: "delimiter" } }],
  }));
  const problems = validateGraph(graph, builtins()).map((p) => p.message);
  assert.deepEqual(problems, [
    'IIP for in-port "delimiter" of "C" (strings/Split) is not valid: expected a non-empty delimiter string (or "/pattern/"), received string ""',
  ]);
});

test("validateGraph accepts every option of a well-formed graph of all built-ins", () => {
  const problems = problemsOf(`
    '250ms' -> interval Tick(core/Interval)
    '3' -> count Tick
    Tick out -> in Delay(core/Delay) out -> in Batch(flow/Batch)
    '10ms' -> delay Delay
    '2' -> size Batch
    '1s' -> timeout Batch
    Batch out -> in Throttle(flow/Throttle) out -> in Map(flow/Map)
    '100' -> rate Throttle
    '$count($)' -> expr Map
    Map out -> in Filter(flow/Filter) out -> in Str(json/Stringify)
    '$ > 0' -> expr Filter
    '2' -> indent Str
    Str out -> in Split(strings/Split) out -> in Drop(core/Drop)
    '/,/' -> delimiter Split
  `);
  assert.deepEqual(problems, []);
});
