import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitBreaker } from "../../src/engine/breaker.ts";

const spec = { failureThreshold: 3, resetTimeoutMs: 100 };

test("CircuitBreaker starts closed and admits messages", () => {
  const b = new CircuitBreaker(spec);
  assert.equal(b.state, "closed");
  assert.equal(b.admit(0), true);
  assert.equal(b.admit(0), true);
});

test("CircuitBreaker opens once the failures in a row reach the threshold", () => {
  const b = new CircuitBreaker(spec);
  b.failed(10);
  b.failed(11);
  assert.equal(b.state, "closed");
  b.failed(12);
  assert.equal(b.state, "open");
  assert.equal(b.openedAt, 12);
});

test("CircuitBreaker.succeeded() resets the count of failures in a row", () => {
  const b = new CircuitBreaker(spec);
  b.failed(0);
  b.failed(0);
  b.succeeded();
  b.failed(0);
  b.failed(0);
  assert.equal(b.state, "closed");
});

test("CircuitBreaker rejects messages while open", () => {
  const b = new CircuitBreaker(spec);
  for (let i = 0; i < 3; i++) b.failed(0);
  assert.equal(b.admit(50), false);
  assert.equal(b.admit(99), false);
});

test("CircuitBreaker is half-open after the reset timeout and admits one trial", () => {
  const b = new CircuitBreaker(spec);
  for (let i = 0; i < 3; i++) b.failed(0);
  assert.equal(b.stateAt(99), "open");
  assert.equal(b.stateAt(100), "half-open");
  assert.equal(b.admit(100), true);
  assert.equal(b.state, "half-open");
  assert.equal(b.trial, true);
  // A second message while the trial is in flight is rejected.
  assert.equal(b.admit(101), false);
});

test("CircuitBreaker closes when the half-open trial succeeds", () => {
  const b = new CircuitBreaker(spec);
  for (let i = 0; i < 3; i++) b.failed(0);
  b.admit(100);
  b.succeeded();
  assert.equal(b.state, "closed");
  assert.equal(b.trial, false);
  assert.equal(b.admit(101), true);
});

test("CircuitBreaker opens again at once when the half-open trial fails", () => {
  const b = new CircuitBreaker(spec);
  for (let i = 0; i < 3; i++) b.failed(0);
  b.admit(100);
  b.failed(150);
  assert.equal(b.state, "open");
  assert.equal(b.openedAt, 150);
  assert.equal(b.trial, false);
  assert.equal(b.admit(200), false);
  assert.equal(b.admit(250), true);
});

test("CircuitBreaker.stateAt() does not change the state", () => {
  const b = new CircuitBreaker(spec);
  for (let i = 0; i < 3; i++) b.failed(0);
  assert.equal(b.stateAt(500), "half-open");
  assert.equal(b.state, "open");
});
