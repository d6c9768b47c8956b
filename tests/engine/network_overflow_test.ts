/**
 * Overflow policies other than `block`: what a full connection does with a
 * new value, and how the drops are counted.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { overflowNet, proc, until } from "./_helpers.ts";

test("Network drop-oldest keeps the newest values and counts each drop", async () => {
  const got: unknown[] = [];
  const { net, open } = overflowNet("drop-oldest", got);
  await net.start();
  await until(() => proc(net.stats(), "B").activations === 1);
  open();
  await net.finished;
  // 0..9 fought for 3 places while G was busy.
  assert.deepEqual(got, ["first", 7, 8, 9]);
  const s = net.stats();
  assert.equal(s.drops.drop_oldest, 7);
  assert.equal(s.processes.find((p) => p.name === "G")!.drops.drop_oldest, 7);
});

test("Network drop-newest keeps the oldest values and counts each drop", async () => {
  const got: unknown[] = [];
  const { net, open } = overflowNet("drop-newest", got);
  await net.start();
  await until(() => proc(net.stats(), "B").activations === 1);
  open();
  await net.finished;
  assert.deepEqual(got, ["first", 0, 1, 2]);
  assert.equal(net.stats().drops.drop_newest, 7);
});

test("Network error policy refuses the value, counts it and fails the sender", async () => {
  const got: unknown[] = [];
  const { net, open, errors } = overflowNet("error", got);
  await net.start();
  await until(() => proc(net.stats(), "B").activations === 1);
  open();
  await net.finished;
  assert.deepEqual(got, ["first", 0, 1, 2]);
  const s = net.stats();
  assert.equal(s.drops.refused, 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, "overflow");
  assert.equal(errors[0].process, "B");
  assert.equal(s.processes.find((p) => p.name === "B")!.errors.overflow, 1);
});
