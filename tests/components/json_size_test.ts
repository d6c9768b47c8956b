/**
 * Every component that writes a message as JSON refuses one whose text
 * would be longer than MAX_JSON_CHARS (64 Mi) before writing it: a value of
 * a few dozen arrays that share each other, which an expression builds in
 * thirty steps, has a text of billions of characters (core/Output held the
 * event loop for more than a minute on it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { _logLine } from "../../src/components/core.ts";
import { JsonStringify } from "../../src/components/json.ts";
import { encodeBody } from "../../src/components/http_body.ts";
import { _keyOf } from "../../src/components/_shaping.ts";
import { TextTemplate } from "../../src/components/text.ts";
import { _toJson, MAX_JSON_CHARS } from "../../src/components/_to_json.ts";
import { FlowDedupe } from "../../src/components/flow_dedupe.ts";
import { CsvStringify } from "../../src/components/csv.ts";
import { runComponent } from "./_helpers.ts";

/** 2^levels leaves of 1 through `levels` arrays, each holding the one below twice. */
function doubled(levels: number): unknown[] {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v, v];
  return v as unknown[];
}

const HUGE = doubled(40);

test("core/Output and json/Stringify refuse a text longer than 64 Mi as too large, and write one within it", async () => {
  assert.equal(
    _logLine({ x: HUGE }),
    "[an object that JSON could not write: it is too large]",
  );
  assert.equal(_logLine(doubled(3)), "[[[1,1],[1,1]],[[1,1],[1,1]]]");
  const { outputs, errors } = await runComponent(JsonStringify, {
    input: [HUGE, doubled(2)],
  });
  assert.deepEqual(outputs.out, ["[[1,1],[1,1]]"]);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /cannot write array of 2 as JSON: it is too large, its text more than 67,108,864 characters$/,
  );
  // At the bound: a string of exactly as many characters as the text allows.
  const fits = "x".repeat(MAX_JSON_CHARS - 2);
  assert.equal(_toJson(fits)!.length, MAX_JSON_CHARS);
  assert.throws(() => _toJson(fits + "x"), /it is too large/);
});

test("http/Response's and http/Request's body, text/Template's values and a keyed component's key refuse the same value", async () => {
  assert.throws(
    () => encodeBody({ rows: HUGE }),
    {
      name: "TypeError",
      message:
        /^the body cannot be sent as JSON: it is too large, its text more than 67,108,864 characters$/,
    },
  );
  assert.deepEqual(encodeBody({ a: 1 }), {
    body: '{"a":1}',
    type: "application/json",
  });
  assert.throws(
    () => _keyOf(HUGE),
    /^TypeError: cannot use array of 2 as a key: it is too large/,
  );
  assert.equal(_keyOf([1, 2]), "[1,2]");
  const { outputs, errors } = await runComponent(TextTemplate, {
    iips: { template: "rows: {{rows}}" },
    input: [{ rows: HUGE }, { rows: [1] }],
  });
  assert.deepEqual(outputs.out, ["rows: [1]"]);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /cannot write array of 2 into the template: it is too large/,
  );
});

test("flow/Dedupe compares two values that share parts in many places by their objects, not their paths", async () => {
  // Two equal values built apart (2^40 paths each), then a different one.
  const other = doubled(40);
  const changed = doubled(40);
  (changed[0] as unknown[])[1] = [7];
  const { outputs, errors } = await runComponent(FlowDedupe, {
    input: [HUGE, other, changed],
  });
  assert.deepEqual(errors, []);
  assert.equal(outputs.out.length, 2);
  assert.equal(outputs.out[0], HUGE);
  assert.equal(outputs.out[1], changed);
});

test("csv/Stringify refuses rows whose fields would be written as too long a JSON text", async () => {
  const { outputs, errors } = await runComponent(CsvStringify, {
    input: [[{ a: HUGE }], [{ a: [1, 2] }]],
  });
  assert.deepEqual(outputs.out, ['a\n"[1,2]"\n']);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /Cannot write CSV: the rows' fields as JSON: it is too large/,
  );
});
