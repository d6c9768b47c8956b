import assert from "node:assert/strict";
import { test } from "node:test";
import {
  increaseSweep,
  rateSweep,
  rawRangeFunction,
  resetCorrections,
  type Window,
  windowRangeFunction,
} from "../../../src/history/promql/range_functions.ts";
import { seededRandom as rng } from "../../_seeded_random.ts";

test("rateSweep() gives rawRangeFunction()'s rate, increase and delta at every step, bit for bit, told or not that a series rises (2,000 seeded series)", () => {
  const r = rng(41);
  for (let n = 0; n < 2_000; n++) {
    // Irregular times, gaps, counters with resets, negative and NaN values.
    const size = Math.floor(r() * 300);
    const t = new Float64Array(size);
    const values = new Float64Array(size);
    let now = Math.floor(r() * 1e6);
    let x = r() * 100;
    for (let i = 0; i < size; i++) {
      now += r() < 0.05
        ? Math.floor(r() * 120_000)
        : 1000 + Math.floor(r() * 50);
      t[i] = now;
      x = r() < 0.03 ? r() * 10 : x + Math.floor(r() * 40);
      values[i] = r() < 0.005 ? NaN : r() < 0.01 ? -x : x;
    }
    const steps = 1 + Math.floor(r() * 80);
    const stepMs = 1000 * (1 + Math.floor(r() * 60));
    const ends = new Float64Array(steps);
    for (let i = 0; i < steps; i++) {
      ends[i] = (t[0] ?? 0) - 30_000 + i * stepMs;
    }
    const rangeMs = 1000 * (1 + Math.floor(r() * 300));
    const points = { labels: {}, kind: "counter" as const, t, value: values };
    // Some on a regular grid (rateSweep then guesses each range's ends),
    // one gap in some of those.
    if (n % 5 === 1) {
      const gapAt = n % 10 === 1 ? Math.floor(size / 2) : size;
      for (let i = 0; i < size; i++) {
        t[i] = 1_000_000 + i * 1000 + (i >= gapAt ? 45_000 : 0);
      }
      for (let i = 0; i < steps; i++) ends[i] = 970_000 + i * stepMs;
    }
    // Some series rise (no reset, no NaN): rateSweep may then skip the scan.
    if (n % 3 === 0) {
      for (let i = 0; i < size; i++) values[i] = i * (n % 7);
    }
    let rises = true;
    for (let i = 0; i < size; i++) {
      if (values[i] !== values[i] || (i > 0 && values[i] < values[i - 1])) {
        rises = false;
      }
    }
    const resets = resetCorrections(values);
    for (
      const [func, told] of [
        ["rate", rises],
        ["increase", rises],
        ["delta", rises],
        ["rate", false],
        ["increase", false],
      ] as const
    ) {
      const v = new Float64Array(steps);
      const ok = new Uint8Array(steps);
      const produced = rateSweep(func, t, values, ends, rangeMs, told, v, ok);
      let want = 0;
      for (let i = 0; i < steps; i++) {
        // The evaluator's window for step i: [end - range, end].
        let lo = 0;
        while (lo < size && t[lo] < ends[i] - rangeMs) lo++;
        let hi = lo - 1;
        while (hi + 1 < size && t[hi + 1] <= ends[i]) hi++;
        const w: Window = {
          points,
          lo,
          hi,
          end: ends[i],
          stepTime: ends[i],
          rangeMs,
          param: 0,
          param2: 0,
          boundary: -1,
          resets,
        };
        const x = hi >= lo ? rawRangeFunction(func, w) : undefined;
        const label = `series ${n}, ${func}, step ${i}`;
        if (x === undefined) {
          assert.equal(ok[i], 0, label);
          continue;
        }
        want++;
        assert.equal(ok[i], 1, label);
        assert.ok(Object.is(v[i], x), `${label}: ${v[i]} !== ${x}`);
      }
      assert.equal(produced, want, `series ${n}, ${func}`);
    }
  }
});

test("increaseSweep() gives windowRangeFunction()'s rate and increase of a downsampled tier at every step, bit for bit (1,000 seeded series)", () => {
  const r = rng(43);
  for (let n = 0; n < 1_000; n++) {
    // Minute windows with gaps, increases with NaN now and then.
    const size = Math.floor(r() * 200);
    const t = new Float64Array(size);
    const increase = new Float64Array(size);
    let now = 60_000 * Math.floor(r() * 1000);
    for (let i = 0; i < size; i++) {
      now += 60_000 * (r() < 0.1 ? 1 + Math.floor(r() * 30) : 1);
      t[i] = now;
      increase[i] = r() < 0.01 ? NaN : r() * 1000;
    }
    const one = new Float64Array(size);
    const points = {
      labels: {},
      kind: "counter" as const,
      t,
      value: one,
      count: one,
      sum: one,
      min: one,
      max: one,
      increase,
    };
    const steps = 1 + Math.floor(r() * 100);
    const stepMs = 60_000 * (1 + Math.floor(r() * 90));
    const ends = new Float64Array(steps);
    for (let i = 0; i < steps; i++) {
      ends[i] = (t[0] ?? 0) - 600_000 + i * stepMs + (r() < 0.2 ? 1000 : 0);
      if (i > 0 && ends[i] < ends[i - 1]) ends[i] = ends[i - 1];
    }
    const rangeMs = 60_000 * (1 + Math.floor(r() * 120));
    for (const func of ["rate", "increase"] as const) {
      const v = new Float64Array(steps);
      const ok = new Uint8Array(steps);
      const produced = increaseSweep(
        func === "rate",
        t,
        increase,
        ends,
        rangeMs,
        v,
        ok,
      );
      let want = 0;
      for (let i = 0; i < steps; i++) {
        // The evaluator's windows for step i: (end - range, end].
        let lo = 0;
        while (lo < size && t[lo] <= ends[i] - rangeMs) lo++;
        let hi = lo - 1;
        while (hi + 1 < size && t[hi + 1] <= ends[i]) hi++;
        const w: Window = {
          points,
          lo,
          hi,
          end: ends[i],
          stepTime: ends[i],
          rangeMs,
          param: 0,
          param2: 0,
          boundary: -1,
          resets: undefined,
        };
        const x = windowRangeFunction(func, w);
        const label = `series ${n}, ${func}, step ${i}`;
        if (x === undefined) {
          assert.equal(ok[i], 0, label);
          continue;
        }
        want++;
        assert.equal(ok[i], 1, label);
        assert.ok(Object.is(v[i], x), `${label}: ${v[i]} !== ${x}`);
      }
      assert.equal(produced, want, `series ${n}, ${func}`);
    }
  }
});
