import { test } from "node:test";
import assert from "node:assert/strict";
import { runComponent } from "./_helpers.ts";
import { StringsSplit } from "../../src/components/strings.ts";

test("strings/Split splits by line break by default and sends each part", async () => {
  const { outputs } = await runComponent(StringsSplit, {
    input: ["a\nb\n\nc", "d"],
  });
  assert.deepEqual(outputs.out, ["a", "b", "", "c", "d"]);
});

test("strings/Split splits by the delimiter string", async () => {
  const { outputs } = await runComponent(StringsSplit, {
    iips: { delimiter: ", " },
    input: ["x, y, z"],
  });
  assert.deepEqual(outputs.out, ["x", "y", "z"]);
});

test("strings/Split reads /pattern/ as a regular expression, as NoFlo does", async () => {
  const { outputs } = await runComponent(StringsSplit, {
    iips: { delimiter: "/[,;]\\s*/" },
    input: ["a, b;c"],
  });
  assert.deepEqual(outputs.out, ["a", "b", "c"]);
});

test("strings/Split sends every part of a long string, waiting for room", async () => {
  const parts = Array.from({ length: 100 }, (_, i) => `p${i}`);
  const { outputs } = await runComponent(StringsSplit, {
    iips: { delimiter: "|" },
    input: [parts.join("|")],
    capacity: 2,
  });
  assert.deepEqual(outputs.out, parts);
});

test("strings/Split fails a message that is not a string", async () => {
  const { outputs, errors } = await runComponent(StringsSplit, {
    input: [{}, "a"],
  });
  assert.deepEqual(outputs.out, ["a"]);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /cannot split object: expected a string/);
});

test("strings/Split rejects an empty delimiter with a sentence", () => {
  assert.throws(
    () => StringsSplit.inPorts.delimiter.parse!(""),
    {
      name: "TypeError",
      message:
        'expected a non-empty delimiter string (or "/pattern/"), received string ""',
    },
  );
});

test("strings/Split rejects a /pattern/ that is not a regular expression", () => {
  assert.throws(
    () => StringsSplit.inPorts.delimiter.parse!("/(/"),
    (e: unknown) =>
      e instanceof SyntaxError &&
      e.message.startsWith("invalid regular expression delimiter /(/: "),
  );
});

test("strings/Split sends empty parts for delimiters at both ends", async () => {
  const { outputs } = await runComponent(StringsSplit, {
    iips: { delimiter: "," },
    input: [",a,,b,"],
  });
  assert.deepEqual(outputs.out, ["", "a", "", "b", ""]);
});

test("strings/Split with a regular expression splits at every match", async () => {
  const { outputs } = await runComponent(StringsSplit, {
    iips: { delimiter: "/\\s+/" },
    input: ["a  b\t\nc"],
  });
  assert.deepEqual(outputs.out, ["a", "b", "c"]);
});

test("strings/Split splits \\r\\n text by its default delimiter, keeping the \\r", async () => {
  const { outputs } = await runComponent(StringsSplit, { input: ["a\r\nb"] });
  assert.deepEqual(outputs.out, ["a\r", "b"]);
});

test("strings/Split of an empty string sends one empty part", async () => {
  const { outputs } = await runComponent(StringsSplit, { input: [""] });
  assert.deepEqual(outputs.out, [""]);
});
