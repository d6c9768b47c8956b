/**
 * The monotonic clock of the HTTP metrics: on Deno with FFI (the tests
 * run with -A) it is libc's clock_gettime and agrees with
 * performance.now(); elsewhere it is performance.now().
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CLOCK_SOURCE, monotonicMs } from "../../src/runtime/clock.ts";

const onDeno = "Deno" in globalThis && !("Bun" in globalThis);

test("on Deno with FFI the clock is clock_gettime, on Bun performance.now()", () => {
  assert.equal(CLOCK_SOURCE, onDeno ? "clock_gettime" : "performance.now");
});

test("the clock and performance.now() measure the same time: each interval holds the other's", () => {
  for (let round = 0; round < 5; round++) {
    const m0 = monotonicMs();
    const p0 = performance.now();
    const until = p0 + 3;
    while (performance.now() < until);
    const p1 = performance.now();
    const m1 = monotonicMs();
    // The clock's interval encloses performance.now()'s (within a tenth of
    // a millisecond of their resolutions)...
    assert.ok(m1 - m0 >= p1 - p0 - 0.1, `${m1 - m0} < ${p1 - p0}`);
    // ...and performance.now()'s one that encloses the clock's.
    const q0 = performance.now();
    const n0 = monotonicMs();
    const stop = q0 + 3;
    while (performance.now() < stop);
    const n1 = monotonicMs();
    const q1 = performance.now();
    assert.ok(q1 - q0 >= n1 - n0 - 0.1, `${q1 - q0} < ${n1 - n0}`);
    assert.ok(n1 - n0 >= 2.9, `${n1 - n0}`);
  }
});

test("the clock never goes back and resolves below a microsecond", () => {
  let last = monotonicMs();
  let smallest = Infinity;
  for (let i = 0; i < 100_000; i++) {
    const t = monotonicMs();
    assert.ok(t >= last, `${t} < ${last}`);
    if (t > last) smallest = Math.min(smallest, t - last);
    last = t;
  }
  assert.ok(smallest < 0.001, `smallest step ${smallest} ms`);
});
