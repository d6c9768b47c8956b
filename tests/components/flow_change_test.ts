import { test } from "node:test";
import assert from "node:assert/strict";
import { problemsOf, runGraph } from "./_graph_helpers.ts";
import { builtins } from "../../src/components/mod.ts";
import { MAX_ARRAY_HOLES } from "../../src/components/_message_path.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";

/** `value` as JSON in an .fbp IIP (single quotes escaped). */
function iip(value: unknown): string {
  return `'${JSON.stringify(value).replaceAll("'", "\\'")}'`;
}

/** .fbp lines sending each value, as JSON, through json/Parse process `P` to `C`. */
function feed(values: unknown[]): string {
  const lines = values.map((v, i) =>
    `${iip(v)} -> in P${i === 0 ? "(json/Parse)" : ""}`
  );
  return `${lines.join("\n")}\nP out -> in C`;
}

/** Runs one flow/Change with `rules` over `values`; what came out and failed. */
async function change(rules: unknown[], values: unknown[]) {
  const { sinks, errors } = await runGraph(`
${iip(rules)} -> rules C(flow/Change)
${feed(values)}
C out -> in Out(test/Sink)
C error -> in Err(test/Sink)
`);
  assert.deepEqual(errors, []);
  return { out: sinks.Out ?? [], err: (sinks.Err ?? []) as Error[] };
}

test("flow/Change sets, moves and deletes fields in order", async () => {
  const { out } = await change([
    { op: "set", path: "alert", value: true },
    { op: "move", path: "temp", to: "reading.celsius" },
    {
      op: "set",
      path: "reading.fahrenheit",
      expr: "reading.celsius * 9 / 5 + 32",
    },
    { op: "delete", path: "raw" },
  ], [{ temp: 30, raw: "30C", id: 1 }]);
  assert.deepEqual(out, [{
    id: 1,
    alert: true,
    reading: { celsius: 30, fahrenheit: 86 },
  }]);
});

test("flow/Change never changes the message it received, which a fan-out shares", async () => {
  const rules = [
    { op: "set", path: "a.b", value: 2 },
    { op: "delete", path: "list[0]" },
    { op: "move", path: "m", to: "n" },
  ];
  const { sinks } = await runGraph(`
${iip(rules)} -> rules C(flow/Change)
${
    feed([{
      a: { b: 1, c: { deep: true } },
      list: [1, 2],
      m: 3,
      keep: { x: 1 },
    }])
  }
P out -> in Orig(test/Sink)
C out -> in Out(test/Sink)
`);
  const original = {
    a: { b: 1, c: { deep: true } },
    list: [1, 2],
    m: 3,
    keep: { x: 1 },
  };
  assert.deepEqual(sinks.Orig, [original]);
  const out = sinks.Out[0] as typeof original & { n: number };
  assert.deepEqual(out, {
    a: { b: 2, c: { deep: true } },
    list: [2],
    keep: { x: 1 },
    n: 3,
  });
  const input = sinks.Orig[0] as typeof original;
  assert.notEqual(out, input);
  assert.notEqual(
    out.a,
    input.a,
    "the object along the written path is a copy",
  );
  assert.equal(out.keep, input.keep, "what no operation touched is shared");
  assert.equal(out.a.c, input.a.c);
});

test("flow/Change copies once per message, yet a later write does not reach a copy an expr shared", async () => {
  const { out } = await change([
    { op: "set", path: "a.x", value: 1 },
    { op: "set", path: "b", expr: "a" },
    { op: "set", path: "a.y", value: 2 },
    { op: "delete", path: "a.k" },
    { op: "move", path: "b.x", to: "c" },
  ], [{ a: { k: 0 } }]);
  assert.deepEqual(out, [{ a: { x: 1, y: 2 }, b: { k: 0 }, c: 1 }]);
});

test("flow/Change evaluates an expr with the message as changed so far", async () => {
  const { out } = await change([
    { op: "set", path: "total", expr: "price * qty" },
    { op: "set", path: "label", expr: "name & ': ' & $string(total)" },
  ], [{ name: "tea", price: 2, qty: 3 }]);
  assert.deepEqual(out, [{
    name: "tea",
    price: 2,
    qty: 3,
    total: 6,
    label: "tea: 6",
  }]);
});

test('flow/Change creates missing objects and arrays along a path, and reads ["quoted"] keys', async () => {
  const { out } = await change([
    { op: "set", path: 'a.b["c d"]', value: 1 },
    { op: "set", path: "list[0]", value: "x" },
    { op: "set", path: "list[1].k", value: "y" },
  ], [{}]);
  assert.deepEqual(out, [{ a: { b: { "c d": 1 } }, list: ["x", { k: "y" }] }]);
});

test("flow/Change replaces the whole message with a set of the empty path", async () => {
  const { out } = await change([
    { op: "set", path: "", expr: "{ 'v': value }" },
    { op: "set", path: "seen", value: true },
  ], [{ value: 5, other: 1 }, { value: 6 }]);
  assert.deepEqual(out, [{ v: 5, seen: true }, { v: 6, seen: true }]);
});

test("flow/Change deletes a field whose expr gives nothing, and leaves a missing field's move alone", async () => {
  const { out } = await change([
    { op: "set", path: "a", expr: "missing" },
    { op: "move", path: "nothing", to: "b" },
  ], [{ a: 1, c: 2 }]);
  assert.deepEqual(out, [{ c: 2 }]);
});

test("flow/Change sends a message it cannot write to error and changes the next", async () => {
  const { out, err } = await change(
    [{ op: "set", path: "a.b", value: 1 }],
    [{ a: 5 }, "text", { a: {} }],
  );
  assert.deepEqual(out, [{ a: { b: 1 } }]);
  assert.equal(err.length, 2);
  assert.match(err[0].message, /cannot write a\.b: "a" holds number 5/);
  assert.match(
    err[1].message,
    /cannot write a\.b: the message is string "text", not an object/,
  );
});

test("flow/Change writes an index past an array's end with holes up to a bound, and sends a write far past it to error", async () => {
  const { out, err } = await change(
    [{ op: "set", path: "a[999999999]", value: 1 }],
    [{ a: [1] }, {}, { a: [] }],
  );
  assert.deepEqual(out, []);
  assert.equal(err.length, 3);
  assert.match(
    err[0].message,
    /cannot write a\[999999999\]: index 999999999 is 999999998 items past the end of "a" \(1 items\), and a write may leave at most 10000 unset before it/,
  );
  assert.match(err[1].message, /past the end of "a" \(0 items\)/);
  const ok = await change([
    { op: "set", path: `a[${MAX_ARRAY_HOLES + 1}]`, value: "x" },
  ], [{ a: [0] }]);
  assert.equal(ok.err.length, 0);
  const a = (ok.out[0] as { a: unknown[] }).a;
  assert.equal(a.length, MAX_ARRAY_HOLES + 2);
  assert.equal(a[MAX_ARRAY_HOLES + 1], "x");
  const far = await change(
    [{ op: "set", path: `a[${MAX_ARRAY_HOLES + 2}]`, value: "x" }],
    [{ a: [0] }],
  );
  assert.match(far.err[0].message, /10001 items past the end/);
});

test('flow/Change keeps a message\'s own "__proto__" field when it deletes or moves another, and gives the copy no prototype of it', async () => {
  // JSON.parse keeps a "__proto__" key as an own field; a copy that wrote
  // it back by assignment set the copy's prototype instead (on Bun), so the
  // field was lost and its members read as the message's own fields.
  const { out } = await change([
    { op: "delete", path: "raw" },
    { op: "move", path: "m", to: "n" },
    { op: "set", path: "seen", expr: "admin" },
  ], [JSON.parse('{"__proto__": {"admin": true}, "raw": 1, "m": 2}')]);
  assert.equal(out.length, 1);
  const m = out[0] as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
  assert.ok(Object.hasOwn(m, "__proto__"));
  assert.equal(
    JSON.stringify(m),
    '{"__proto__":{"admin":true},"n":2}',
  );
});

test("flow/Change moves an array's length without taking out its first item, and deletes an object's field named by an index", async () => {
  const { out } = await change([
    { op: "move", path: "items.length", to: "count" },
    { op: "delete", path: "items.length" },
    { op: "delete", path: "byIndex[0]" },
  ], [{ items: ["a", "b", "c"], byIndex: { "0": "x", "1": "y" } }]);
  assert.deepEqual(out, [{
    items: ["a", "b", "c"],
    byIndex: { "1": "y" },
    count: 3,
  }]);
});

test("flow/Change runs an expression the compiler leaves to the jsonata package", async () => {
  const { out } = await change([
    { op: "set", path: "x", expr: "[$y := n * 2, 0][0]" },
    { op: "delete", path: "n" },
  ], [{ n: 4 }]);
  assert.deepEqual(out, [{ x: 8 }]);
});

test("validateGraph() reports a bad change operation with its index and its line:col", () => {
  const text = `'x' -> in P(json/Parse) out -> in C(flow/Change)
'[{"op": "set", "path": "a", "value": 1}, {"op": "change", "path": "a"}]' -> rules C
C out -> in D(core/Drop)`;
  const problems = validateGraph(loadGraph(text), builtins());
  assert.equal(problems.length, 1);
  assert.equal(problems[0].line, 2);
  assert.equal(
    problems[0].message,
    'IIP for in-port "rules" of "C" (flow/Change) is not valid: rules[1] has an unknown operation "change"; use one of set, move, delete (for a search and replace, "set" an "expr" with $replace)',
  );
});

const BAD: [string, unknown, RegExp][] = [
  [
    "an unknown operation",
    [{ op: "copy" }],
    /rules\[0\] has an unknown operation "copy"/,
  ],
  [
    "a set without value or expr",
    [{ op: "set", path: "a" }],
    /rules\[0\] \(set\) needs a value or an expr/,
  ],
  [
    "an expr that does not compile",
    [{ op: "delete", path: "a" }, { op: "set", path: "a", expr: "1 +" }],
    /rules\[1\] has an expr that is not a JSONata expression that compiles: invalid JSONata expression "1 \+"/,
  ],
  [
    "a path that is an expression",
    [{ op: "delete", path: "a + 1" }],
    /rules\[0\] \(delete\) has a path "a \+ 1" that is not a path/,
  ],
  [
    "a delete of the whole message",
    [{ op: "delete", path: "" }],
    /rules\[0\] \(delete\) cannot delete the message itself/,
  ],
  [
    "a move without to",
    [{ op: "move", path: "a" }],
    /rules\[0\] \(move\) needs a to such as "payload.a.b", received undefined/,
  ],
  [
    "a path through __proto__",
    [{ op: "set", path: "__proto__.x", value: 1 }],
    /rules\[0\] \(set\) cannot use path: the path "__proto__.x" names __proto__/,
  ],
  [
    "a misspelt field",
    [{ op: "delete", path: "a", value: 1 }],
    /rules\[0\] \(delete\) has an unknown field "value"; it takes op, path/,
  ],
];

for (const [what, rules, message] of BAD) {
  test(`validateGraph() refuses a change with ${what}`, () => {
    const problems = problemsOf(
      `'${
        JSON.stringify(rules)
      }' -> rules C(flow/Change)\nC out -> in D(core/Drop)`,
    );
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(
      problems[0],
      /^IIP for in-port "rules" of "C" \(flow\/Change\) is not valid: /,
    );
    assert.match(problems[0], message);
  });
}
