import { test } from "node:test";
import assert from "node:assert/strict";
import { problemsOf, runGraph } from "./_graph_helpers.ts";
import { runShaping } from "./_shaping_helpers.ts";
import {
  FlowSwitch,
  parseSwitchRules,
} from "../../src/components/flow_switch.ts";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";

/** .fbp lines sending each value, as JSON, through json/Parse process `P`. */
function feed(values: unknown[], to = "Sw"): string {
  const lines = values.map((v, i) =>
    `'${JSON.stringify(v)}' -> in P${i === 0 ? "(json/Parse)" : ""}`
  );
  return `${lines.join("\n")}\nP out -> in ${to}`;
}

const BUDGET = { timeoutMs: 1000, maxDepth: 1000 };
const SITE = { flow: "f", process: "Sw" };

/** Whether `value` (and `msg`, default the same) matches the one rule given. */
async function matches(
  rule: Record<string, unknown>,
  value: unknown,
  msg: unknown = value,
): Promise<boolean> {
  return await parseSwitchRules([rule]).rules[0].test(value, msg, BUDGET, SITE);
}

test("flow/Switch routes by a path property to out[i] of the rule that matches", async () => {
  const { sinks, errors } = await runGraph(`
'[{"op": ">", "value": 30}, {"op": "between", "value": [10, 30]}, {"op": "else"}]' -> rules Sw(flow/Switch)
'payload.temp' -> property Sw
${
    feed([
      { payload: { temp: 31 } },
      { payload: { temp: 20 } },
      { payload: { temp: 5 } },
      { payload: { temp: "35" } },
      { payload: {} },
    ])
  }
Sw out[0] -> in Hot(test/Sink)
Sw out[1] -> in Mild(test/Sink)
Sw out[2] -> in Cold(test/Sink)
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.Hot, [{ payload: { temp: 31 } }, {
    payload: { temp: "35" },
  }]);
  assert.deepEqual(sinks.Mild, [{ payload: { temp: 20 } }]);
  assert.deepEqual(sinks.Cold, [{ payload: { temp: 5 } }, { payload: {} }]);
});

test("flow/Switch in mode all sends to every matching rule's port, in first mode to the first only", async () => {
  const rules =
    `'[{"op": ">", "value": 10}, {"op": ">", "value": 20}, {"op": "else"}]' -> rules Sw(flow/Switch)`;
  const wiring = `Sw out[0] -> in A(test/Sink)
Sw out[1] -> in B(test/Sink)
Sw out[2] -> in E(test/Sink)`;
  const all = await runGraph(`${rules}\n${feed([25, 15, 5])}\n${wiring}`);
  assert.deepEqual(all.sinks, { A: [25, 15], B: [25], E: [5] });
  const first = await runGraph(
    `${rules}\n'first' -> mode Sw\n${feed([25, 15, 5])}\n${wiring}`,
  );
  assert.deepEqual(first.sinks, { A: [25, 15], E: [5] });
});

test("flow/Switch sends once per port when several matching rules name the same out", async () => {
  const { sinks } = await runGraph(`
'[{"op": "contains", "value": "a", "out": 0}, {"op": "contains", "value": "b", "out": 0}, {"op": "contains", "value": "c", "out": 1}]' -> rules Sw(flow/Switch)
${feed(["ab", "b", "c", "x"])}
Sw out[0] -> in AB(test/Sink)
Sw out[1] -> in C(test/Sink)
Sw unmatched -> in None(test/Sink)
`);
  assert.deepEqual(sinks, { AB: ["ab", "b"], C: ["c"], None: ["x"] });
});

test("flow/Switch sends the message itself, unchanged, to a fan-out that shares it", async () => {
  const seen: unknown[] = [];
  const { sinks } = await runGraph(
    `'[{"op": "istype", "value": "object"}]' -> rules Sw(flow/Switch)
${feed([{ a: 1 }])}
P out -> in Orig(test/Sink)
Sw out[0] -> in Out(test/Sink)`,
    { onSink: (_p, v) => seen.push(v) },
  );
  assert.deepEqual(sinks.Out, [{ a: 1 }]);
  assert.equal(seen[0], seen[1], "the same object reached both");
});

test("flow/Switch routes by a JSONata property, a jsonata rule and an expr operand", async () => {
  const { sinks, errors } = await runGraph(`
'[{"op": ">", "expr": "limit"}, {"op": "jsonata", "value": "unit = \\"F\\" and $count(readings) > 2"}]' -> rules Sw(flow/Switch)
'$max(readings)' -> property Sw
${
    feed([
      { limit: 10, unit: "C", readings: [1, 12, 3] },
      { limit: 50, unit: "F", readings: [1, 2, 3] },
      { limit: 50, unit: "C", readings: [1, 2] },
    ])
  }
Sw out[0] -> in OverLimit(test/Sink)
Sw out[1] -> in Fahrenheit(test/Sink)
Sw unmatched -> in Other(test/Sink)
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.OverLimit, [{
    limit: 10,
    unit: "C",
    readings: [1, 12, 3],
  }]);
  assert.deepEqual(sinks.Fahrenheit, [{
    limit: 50,
    unit: "F",
    readings: [1, 2, 3],
  }]);
  assert.deepEqual(sinks.Other, [{ limit: 50, unit: "C", readings: [1, 2] }]);
});

test("flow/Switch sends a message whose expression fails to error and routes the next", async () => {
  const { sinks, errors } = await runGraph(`
'[{"op": "jsonata", "value": "n + 1 > 2"}]' -> rules Sw(flow/Switch)
${feed([{ n: "x" }, { n: 5 }])}
Sw out[0] -> in Out(test/Sink)
Sw error -> in Err(test/Sink)
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.Out, [{ n: 5 }]);
  assert.equal(sinks.Err.length, 1);
  assert.match(
    (sinks.Err[0] as Error).message,
    /JSONata expression failed at position \d+/,
  );
});

test("flow/Switch runs a regex rule of a backtracking shape in linear time", async () => {
  const a = "a".repeat(30_000);
  const { sinks } = await runGraph(`
'[{"op": "regex", "value": "^(a+)+b$"}, {"op": "regex", "value": "^A+$", "flags": "i"}]' -> rules Sw(flow/Switch)
${feed([a + "!", a])}
Sw out[0] -> in B(test/Sink)
Sw out[1] -> in I(test/Sink)
Sw unmatched -> in None(test/Sink)
`);
  assert.deepEqual(sinks, { I: [a], None: [a + "!"] });
});

test("flow/Switch compares as Node-RED's switch, with numbers and numeric strings alike", async () => {
  const cases: [Record<string, unknown>, unknown, boolean][] = [
    [{ op: "==", value: 5 }, 5, true],
    [{ op: "==", value: 5 }, "5", true],
    [{ op: "eq", value: "5" }, 5, true],
    [{ op: "==", value: "a" }, "a", true],
    [{ op: "==", value: { a: [1] } }, { a: [1] }, true],
    [{ op: "==", value: 0 }, false, false],
    [{ op: "==", value: null }, undefined, false],
    [{ op: "!=", value: 5 }, "6", true],
    [{ op: "<", value: 10 }, 9, true],
    [{ op: "<", value: 10 }, "9", true],
    [{ op: "<", value: "b" }, "a", true],
    [{ op: "<", value: "10" }, "9", false],
    [{ op: "<", value: 10 }, null, false],
    [{ op: "<", value: 10 }, "abc", false],
    [{ op: "<=", value: 10 }, 10, true],
    [{ op: "gt", value: 10 }, 11, true],
    [{ op: ">=", value: 10 }, 9.5, false],
    [{ op: "between", value: [10, 20] }, 10, true],
    [{ op: "between", value: [20, 10] }, "15", true],
    [{ op: "btwn", value: [10, 20] }, 20.5, false],
    [{ op: "contains", value: "ell" }, "hello", true],
    [{ op: "contains", value: 2 }, [1, 2], true],
    [{ op: "contains", value: { a: 1 } }, [{ a: 1 }], true],
    [{ op: "cont", value: "x" }, 5, false],
    [{ op: "contains", value: "1" }, 31, true],
    [{ op: "contains", value: "ru" }, true, true],
    [{ op: "contains", value: "ul" }, null, false],
    // Where Node-RED's JavaScript coercions answer true, on purpose not:
    [{ op: "<", value: 10 }, "", false],
    [{ op: "<", value: 10 }, true, false],
    [{ op: "<", value: 10 }, [5], false],
    [{ op: "==", value: 0 }, "", false],
    [{ op: "==", value: 5 }, [5], false],
    [{ op: "regex", value: "^t\\d+$" }, "t42", true],
    [{ op: "regex", value: "^4" }, 42, true],
    [{ op: "istype", value: "number" }, 1, true],
    [{ op: "istype", value: "array" }, [], true],
    [{ op: "istype", value: "object" }, [], false],
    [{ op: "istype", value: "json" }, '{"a":1}', true],
    [{ op: "istype", value: "json" }, "{a", false],
    [{ op: "istype", value: "null" }, null, true],
    [{ op: "istype", value: "undefined" }, undefined, true],
    [{ op: "istype", value: "buffer" }, new Uint8Array(2), true],
    [{ op: "empty" }, "", true],
    [{ op: "empty" }, [], true],
    [{ op: "empty" }, {}, true],
    [{ op: "empty" }, 0, false],
    [{ op: "nonempty" }, [0], true],
    [{ op: "nempty" }, null, false],
    [{ op: "true" }, true, true],
    [{ op: "true" }, 1, false],
    [{ op: "false" }, false, true],
    [{ op: "null" }, undefined, true],
    [{ op: "null" }, 0, false],
    [{ op: "notnull" }, 0, true],
    [{ op: "nnull" }, null, false],
  ];
  for (const [rule, value, expected] of cases) {
    assert.equal(
      await matches(rule, value),
      expected,
      `${JSON.stringify(rule)} on ${JSON.stringify(value)}`,
    );
  }
  // A jsonata rule looks at the message and wants exactly true.
  assert.equal(
    await matches({ op: "jsonata", value: "a" }, 0, { a: true }),
    true,
  );
  assert.equal(
    await matches({ op: "jsonata_exp", value: "a" }, 0, { a: 1 }),
    false,
  );
});

test("flow/Switch compares Infinity, -Infinity, NaN and -0 as JSONata does, however a comparison's operand is written", async () => {
  const Specials = defineComponent({
    name: "test/Specials",
    description: "Sends {t} for t Infinity, -Infinity, NaN and -0.",
    outPorts: { out: {} },
    async run(ctx) {
      for (const t of [Infinity, -Infinity, NaN, -0]) {
        await ctx.send("out", { t });
      }
    },
  });
  const ops: [string, string, (a: number, b: number) => boolean][] = [
    [">", ">", (a, b) => a > b],
    [">=", ">=", (a, b) => a >= b],
    ["<", "<", (a, b) => a < b],
    ["<=", "<=", (a, b) => a <= b],
    ["==", "=", (a, b) => a === b],
    ["!=", "!=", (a, b) => a !== b],
  ];
  for (const [op, jsonataOp, js] of ops) {
    for (const n of [0, 30]) {
      // A number operand (tested inline), its numeric string, an expr and
      // the same comparison as a jsonata rule: one answer for each value.
      const rules = [
        { op, value: n },
        { op, value: String(n) },
        { op, expr: String(n) },
        { op: "jsonata", value: `t ${jsonataOp} ${n}` },
      ];
      const { sinks, errors } = await runGraph(
        `'${JSON.stringify(rules)}' -> rules Sw(flow/Switch)
't' -> property Sw
Src(test/Specials) out -> in Sw
Sw out[0] -> in Number(test/Sink)
Sw out[1] -> in Text(test/Sink)
Sw out[2] -> in Expr(test/Sink)
Sw out[3] -> in Jsonata(test/Sink)`,
        { extra: [Specials] },
      );
      assert.deepEqual(errors, []);
      const expected = [Infinity, -Infinity, NaN, -0]
        .filter((t) => js(t, n)).map((t) => ({ t }));
      for (const sink of ["Number", "Text", "Expr", "Jsonata"]) {
        assert.deepEqual(sinks[sink] ?? [], expected, `${sink} ${op} ${n}`);
      }
    }
  }
});

test("flow/Switch takes an expression the compiler leaves to the jsonata package", async () => {
  const { sinks, errors } = await runGraph(`
'[{"op": "==", "expr": "[$x := 2, 0][0]"}]' -> rules Sw(flow/Switch)
'[$y := n, 0][0]' -> property Sw
${feed([{ n: 2 }, { n: 3 }])}
Sw out[0] -> in Two(test/Sink)
Sw unmatched -> in Other(test/Sink)
`);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks, { Two: [{ n: 2 }], Other: [{ n: 3 }] });
});

test("validateGraph() reports a bad switch rule with the rule's index and its line:col", () => {
  const text = `'x' -> in P(json/Parse) out -> in Sw(flow/Switch)
'[{"op": ">", "value": 1}, {"op": "~", "value": 2}]' -> rules Sw
Sw out[0] -> in D(core/Drop)`;
  const problems = validateGraph(loadGraph(text), builtins());
  assert.equal(problems.length, 1);
  assert.equal(problems[0].line, 2);
  assert.equal(
    problems[0].message,
    'IIP for in-port "rules" of "Sw" (flow/Switch) is not valid: rules[1] has an unknown operator "~"; use one of ==, !=, <, <=, >, >=, between, contains, regex, istype, empty, nonempty, true, false, null, notnull, else, jsonata',
  );
});

const BAD_RULES: [string, string, RegExp][] = [
  [
    "a regex that does not compile",
    '[{"op": "else"}, {"op": "regex", "value": "a("}]',
    /: rules\[1\] has a regular expression that does not compile: /,
  ],
  [
    "a regex RE2 cannot run",
    '[{"op": "regex", "value": "(a)\\\\1"}]',
    /: rules\[0\] has a regular expression that does not compile: .*backreference/,
  ],
  [
    "a jsonata rule that does not compile",
    '[{"op": "jsonata", "value": "a >"}]',
    /: rules\[0\] has a value that is not a JSONata expression that compiles: invalid JSONata expression "a >"/,
  ],
  [
    "a jsonata rule with its expression in expr",
    '[{"op": "jsonata", "expr": "a > 1"}]',
    /: rules\[0\] \(jsonata\) takes its expression as value \(as Node-RED's does\), not as expr: \{"op": "jsonata", "value": "a > 1"\}$/,
  ],
  [
    "an expr operand that does not compile",
    '[{"op": "==", "value": 1}, {"op": "<", "expr": "(("}]',
    /: rules\[1\] has an expr that is not a JSONata expression that compiles/,
  ],
  [
    "a misspelt field",
    '[{"op": "==", "vaule": 1}]',
    /: rules\[0\] has an unknown field "vaule"; a rule takes op, value, expr, flags and out$/,
  ],
  [
    "a comparison without an operand",
    '[{"op": "<"}]',
    /: rules\[0\] \(<\) needs a value or an expr/,
  ],
  [
    "between with one number",
    '[{"op": "between", "value": [1]}]',
    /: rules\[0\] \(between\) needs a value of two numbers \[low, high\], received array of 1$/,
  ],
  [
    "an unknown type",
    '[{"op": "istype", "value": "date"}]',
    /: rules\[0\] \(istype\) needs a value among string, number/,
  ],
  [
    "a value given to empty",
    '[{"op": "empty", "value": 1}]',
    /: rules\[0\] \(empty\) takes no value$/,
  ],
  [
    "an out that is not an index",
    '[{"op": "true", "out": -1}]',
    /: rules\[0\] has an out of number -1; out is the index/,
  ],
  [
    "text that is not JSON",
    "[{op: true}]",
    /: expected a JSON array of rules .*, but the text does not parse: /,
  ],
  [
    "an empty list",
    "[]",
    /: expected an array of 1 to 1000 rules/,
  ],
];

for (const [what, rules, message] of BAD_RULES) {
  test(`validateGraph() refuses a switch with ${what}`, () => {
    const problems = problemsOf(
      `'${rules}' -> rules Sw(flow/Switch)\nSw out[0] -> in D(core/Drop)`,
    );
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(
      problems[0],
      /^IIP for in-port "rules" of "Sw" \(flow\/Switch\) is not valid/,
    );
    assert.match(problems[0], message);
  });
}

test("validateGraph() refuses a bad switch property and mode", () => {
  assert.deepEqual(
    problemsOf(
      `'[{"op": "true"}]' -> rules Sw(flow/Switch)\n'a >' -> property Sw\n'any' -> mode Sw\nSw out[0] -> in D(core/Drop)`,
    ).map((p) => p.replace(/: invalid JSONata.*/, "")),
    [
      'IIP for in-port "property" of "Sw" (flow/Switch) is not valid',
      'IIP for in-port "mode" of "Sw" (flow/Switch) is not valid: expected "first" (the first matching rule) or "all" (every matching rule), received string "any"',
    ],
  );
  assert.deepEqual(
    problemsOf(`S(flow/Switch) out[0] -> in D(core/Drop)`),
    [
      'in-port "rules" of "S" (flow/Switch) is required: connect it or give it an IIP',
    ],
  );
});

test("flow/Switch compiles its rules once, when they are parsed", () => {
  const parsed = FlowSwitch.inPorts.rules.parse!(
    '[{"op": "jsonata", "value": "a > 1"}]',
  ) as ReturnType<typeof parseSwitchRules>;
  assert.equal(Object.isFrozen(parsed.rules), true);
  assert.equal(parsed.rules[0].op, "jsonata");
});

test("flow/Switch takes its rules as a JSON array in a JSON graph", async () => {
  const graph = JSON.stringify({
    processes: {
      Sw: { component: "flow/Switch" },
      Hot: { component: "test/Sink" },
      Rest: { component: "test/Sink" },
    },
    connections: [
      {
        data: [{ op: ">", value: 30 }, { op: "else" }],
        tgt: { process: "Sw", port: "rules" },
      },
      { data: "t", tgt: { process: "Sw", port: "property" } },
      { data: { t: 31 }, tgt: { process: "Sw", port: "in" } },
      { data: { t: 3 }, tgt: { process: "Sw", port: "in" } },
      {
        src: { process: "Sw", port: "out", index: 0 },
        tgt: { process: "Hot", port: "in" },
      },
      {
        src: { process: "Sw", port: "out", index: 1 },
        tgt: { process: "Rest", port: "in" },
      },
    ],
  });
  const { sinks, errors } = await runGraph(graph);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks, { Hot: [{ t: 31 }], Rest: [{ t: 3 }] });
});

test("flow/Switch waits for room on each port it sends to: nothing lost or reordered behind a slow consumer", async () => {
  const values = Array.from({ length: 40 }, (_, i) => i);
  const { sinks, errors } = await runShaping(
    `V(test/Values) out -> (1) in Sw(flow/Switch)
'${JSON.stringify(values)}' -> values V
'[{"op": ">=", "value": 0}, {"op": "<", "value": 20}]' -> rules Sw
Sw out[0] -> (1) in All(test/SlowSink)
Sw out[1] -> (1) in Low(test/Sink)`,
    { timeoutMs: 10_000 },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.All, values);
  assert.deepEqual(sinks.Low, values.slice(0, 20));
});

test("a flow's stats name each output of flow/Switch apart (Sw.out[0], Sw.out[1]), as a tap does", async () => {
  const { net } = await runGraph(`
'[{"op": ">", "value": 30}, {"op": "else"}]' -> rules Sw(flow/Switch)
'payload.temp' -> property Sw
${
    feed([{ payload: { temp: 31 } }, { payload: { temp: 20 } }, {
      payload: { temp: 40 },
    }])
  }
Sw out[0] -> in Hot(test/Sink)
Sw out[1] -> in Cold(test/Sink)
`);
  const conns = net.stats().connections.filter((c) => c.toProcess !== "P");
  const fromSw = conns.filter((c) => c.from?.startsWith("Sw."));
  assert.deepEqual(
    fromSw.map((c) => [c.from, c.to, c.delivered]).sort(),
    [["Sw.out[0]", "Hot.in", 2], ["Sw.out[1]", "Cold.in", 1]],
  );
});
