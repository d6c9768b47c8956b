import { test } from "node:test";
import assert from "node:assert/strict";
import { OverflowError, ProcessError } from "../../src/engine/errors.ts";

test("ProcessError names the process and in-port in its message and keeps its data", () => {
  const cause = new TypeError("boom");
  const e = new ProcessError("boom", {
    network: "demo",
    process: "Parse",
    port: "in",
    kind: "exception",
    input: "{oops",
    cause,
  });
  assert.ok(e instanceof Error);
  assert.equal(e.name, "ProcessError");
  assert.equal(e.message, 'process "Parse" failed on in-port "in": boom');
  assert.deepEqual(
    [e.network, e.process, e.port, e.kind, e.input, e.cause],
    ["demo", "Parse", "in", "exception", "{oops", cause],
  );
});

test("ProcessError leaves the in-port out of its message when there is none", () => {
  const e = new ProcessError("flush failed", {
    network: "demo",
    process: "Batch",
    port: "",
    kind: "exception",
  });
  assert.equal(e.message, 'process "Batch" failed: flush failed');
  assert.equal(e.input, undefined);
});

test("OverflowError names the connection and its capacity", () => {
  const e = new OverflowError("A.out -> B.in", 3);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "OverflowError");
  assert.equal(
    e.message,
    'connection A.out -> B.in is full (3 of 3) and its policy is "error"',
  );
  assert.deepEqual([e.connection, e.capacity], ["A.out -> B.in", 3]);
});
