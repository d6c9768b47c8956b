import { test } from "node:test";
import assert from "node:assert/strict";
import { runComponent } from "./_helpers.ts";
import { runGraph } from "./_graph_helpers.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import { JsonParse, JsonStringify } from "../../src/components/json.ts";
import { _nestedDeeperThan } from "../../src/components/_to_json.ts";

test("json/Parse sends the value of each JSON string", async () => {
  const { outputs, errors } = await runComponent(JsonParse, {
    input: ['{"a":[1,2]}', "3", '"s"', "null"],
  });
  assert.deepEqual(outputs.out, [{ a: [1, 2] }, 3, "s", null]);
  assert.deepEqual(errors, []);
});

test("json/Parse sends bad JSON to the error port and parses the next message", async () => {
  const { outputs, errors } = await runComponent(JsonParse, {
    input: ['{"ok":1}', "{oops", "[2]"],
  });
  assert.deepEqual(outputs.out, [{ ok: 1 }, [2]]);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /^process "T" failed on in-port "in": cannot parse JSON from string "\{oops": /,
  );
  assert.equal(errors[0].input, "{oops");
  assert.ok(errors[0].cause instanceof SyntaxError);
});

test("json/Parse sends bad JSON to its error port when connected", async () => {
  const { outputs, errors } = await runComponent(JsonParse, {
    input: ["{oops", "1"],
    capture: ["out", "error"],
  });
  assert.deepEqual(outputs.out, [1]);
  assert.deepEqual(errors, []);
  assert.equal(outputs.error.length, 1);
  const e = outputs.error[0] as ProcessError;
  assert.ok(e instanceof ProcessError);
  assert.equal(e.process, "T");
  assert.equal(e.input, "{oops");
});

test("json/Parse refuses text nested deeper than MAX_JSON_DEPTH before it parses it, and parses the next", async () => {
  const { MAX_JSON_DEPTH } = await import("../../src/components/json.ts");
  const deepest = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
  const deeper = `{"a": "[[",\n "b": ${"[".repeat(MAX_JSON_DEPTH)}1${
    "]".repeat(MAX_JSON_DEPTH)
  }}`;
  const { outputs, errors } = await runComponent(JsonParse, {
    input: [deeper, deepest, "[1]"],
  });
  assert.equal(outputs.out.length, 2);
  assert.deepEqual(outputs.out[1], [1]);
  assert.equal(errors.length, 1);
  // Brackets in a string do not count; the place is the 1,001st level's.
  assert.match(
    errors[0].message,
    /: cannot parse JSON from string "\{.*: it is nested too deeply: objects and arrays more than 1000 levels within each other \(line 2, col 1006\)$/,
  );
});

test("json/Parse fails a message that is not a string", async () => {
  const { errors } = await runComponent(JsonParse, { input: [42] });
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /cannot parse JSON: expected a string, received number 42/,
  );
});

test("json/Stringify fails a value nested deeper than MAX_JSON_DEPTH in the same words on every runtime, and writes the next", async () => {
  const nest = (n: number) => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const { outputs, errors } = await runComponent(JsonStringify, {
    input: [nest(1_001), nest(100_000), nest(1_000)],
  });
  assert.equal(outputs.out.length, 1);
  assert.deepEqual(outputs.out, ["[".repeat(1_000) + "1" + "]".repeat(1_000)]);
  assert.equal(errors.length, 2);
  for (const e of errors) {
    assert.match(
      e.message,
      /: cannot write array of 1 as JSON: it is nested too deeply, objects and arrays more than 1000 levels within each other$/,
    );
  }
});

test("json/Stringify writes each value as one line of JSON by default", async () => {
  const { outputs } = await runComponent(JsonStringify, {
    input: [{ a: 1, b: [true, null] }, "x", 5],
  });
  assert.deepEqual(outputs.out, ['{"a":1,"b":[true,null]}', '"x"', "5"]);
});

test("json/Stringify indents nested levels by indent", async () => {
  const { outputs } = await runComponent(JsonStringify, {
    iips: { indent: 2 },
    input: [{ a: 1 }],
  });
  assert.deepEqual(outputs.out, ['{\n  "a": 1\n}']);
});

test("json/Stringify fails a value JSON cannot hold", async () => {
  const { outputs, errors } = await runComponent(JsonStringify, {
    input: [() => 1, 1n, "ok"],
  });
  assert.deepEqual(outputs.out, ['"ok"']);
  assert.equal(errors.length, 2);
  assert.match(errors[0].message, /cannot write a function as JSON/);
});

test("json/Stringify rejects an indent above 10 with a sentence", () => {
  assert.throws(
    () => JsonStringify.inPorts.indent.parse!(11),
    {
      name: "RangeError",
      message:
        "expected an indent of 0 to 10 spaces or a string of up to 10 characters, received number 11",
    },
  );
});

test("json/Stringify names the bigint or the cycle it cannot write, in the same words on every runtime", async () => {
  const cyclic: Record<string, unknown> = { list: [1] };
  (cyclic.list as unknown[]).push(cyclic);
  const { errors } = await runComponent(JsonStringify, {
    input: [{ n: { "big one": 1n } }, cyclic, 2n],
  });
  assert.deepEqual(errors.map((e) => e.cause instanceof TypeError), [
    true,
    true,
    true,
  ]);
  assert.deepEqual(errors.map((e) => (e.cause as Error).message), [
    'cannot write object as JSON: it holds a bigint at .n["big one"]',
    "cannot write object as JSON: it refers to itself at .list[1]",
    "cannot write bigint 2 as JSON: JSON has no bigints",
  ]);
});

test("json/Stringify reads a string of digits as a number of spaces and other strings as the indent", () => {
  const parse = JsonStringify.inPorts.indent.parse!;
  assert.equal(parse("2"), 2);
  assert.equal(parse("\t"), "\t");
  assert.equal(parse(" 2"), " 2");
  for (const bad of ["11", "-1"]) {
    assert.throws(() => parse(bad), {
      name: "RangeError",
      message:
        `expected an indent of 0 to 10 spaces or a string of up to 10 characters, received number ${bad}`,
    });
  }
});

test("json/Parse sends an empty string to the error port", async () => {
  const { outputs, errors } = await runComponent(JsonParse, {
    input: ["", " 1 "],
  });
  assert.deepEqual(outputs.out, [1]);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /cannot parse JSON from string "": /);
});

test("json/Stringify fails a cyclic value saying it cannot write it as JSON", async () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const { outputs, errors } = await runComponent(JsonStringify, {
    input: [cyclic, 1],
  });
  assert.deepEqual(outputs.out, ["1"]);
  assert.equal(errors.length, 1);
  // The same sentence on every runtime (the runtimes' own texts differ).
  assert.match(
    errors[0].message,
    /^process "T" failed on in-port "in": cannot write object as JSON/,
  );
});

test("json/Stringify fails a bigint saying it cannot write it as JSON", async () => {
  const { errors } = await runComponent(JsonStringify, { input: [{ n: 1n }] });
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /^process "T" failed on in-port "in": cannot write object as JSON/,
  );
});

test("json/Stringify reads an indent IIP written in .fbp as a number of spaces", async () => {
  const { sinks } = await runGraph(`
    '{"a":1}' -> in P(json/Parse) out -> in S(json/Stringify) out -> in K(test/Sink)
    '2' -> indent S
  `);
  assert.deepEqual(sinks.K, ['{\n  "a": 1\n}']);
});

test("how deep a value nests is told alike whether it is small (a quick look) or not: trees, shared objects, references back, bytes", () => {
  const nest = (levels: number, leaf: unknown = 1): unknown => {
    let v = leaf;
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };
  for (const levels of [1, 63, 64, 65, 999, 1000, 1001, 1500]) {
    for (const max of [10, 64, 1000]) {
      const deeper = levels > max;
      assert.equal(
        _nestedDeeperThan(nest(levels), max),
        deeper,
        `${levels} > ${max}`,
      );
      // Bytes at the bottom are written flat: no level of their own.
      assert.equal(
        _nestedDeeperThan(nest(levels, new Uint8Array(3)), max),
        deeper,
      );
      // A reference back to the path is not followed, at any depth.
      const inner: Record<string, unknown> = {};
      const looped = nest(levels - 1, inner) as object;
      inner.back = looped;
      assert.equal(_nestedDeeperThan(looped, max), deeper, `looped ${levels}`);
    }
  }
  // One object shared by every level, 40 levels of two references each
  // (2^40 paths): measured once, answered at once.
  let shared: unknown = { x: 1 };
  for (let i = 0; i < 40; i++) shared = { l: shared, r: shared };
  assert.equal(_nestedDeeperThan(shared, 1000), false);
  assert.equal(_nestedDeeperThan(shared, 40), true);
  // More objects than the quick look takes, shallow: not deeper.
  const wide = Array.from({ length: 10_000 }, (_, i) => ({ i: [i] }));
  assert.equal(_nestedDeeperThan(wide, 1000), false);
  assert.equal(_nestedDeeperThan({ w: wide }, 3), true);
});
