/**
 * The history charts' range queries (`src/ui/charts.ts`): planned so that
 * the history's downsampled tiers answer them, and the end as recent as
 * those tiers allow.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../../src/ui/api_error.ts";
import { planRange, RANGES, refusedUnit } from "../../src/ui/range_plan.ts";

const NOW = 1_700_000_123.456;

test("planRange aligns a day or more to whole minutes and 30 days or more to whole hours, ending at the last whole one", () => {
  for (const r of RANGES) {
    for (const width of [130, 330, 800, 1210]) {
      const p = planRange(r.seconds, width, NOW);
      const unit = r.seconds >= 30 * 86_400
        ? 3600
        : r.seconds >= 86_400
        ? 60
        : 1;
      const what = `${r.label} at ${width} px`;
      assert.equal(p.step % unit, 0, what);
      assert.equal(p.start % unit, 0, what);
      assert.equal(Number(p.window.slice(0, -1)) % unit, 0, what);
      assert.ok(Number(p.window.slice(0, -1)) >= p.step, what);
      // The last point is at most one unit old, whatever the step.
      assert.ok(p.end <= NOW && NOW - p.end < unit, what);
      assert.ok(p.end - p.start >= r.seconds, what);
      assert.ok((p.end - p.start) / p.step <= width / 2 + 1, what);
    }
  }
});

test("planRange with minUnit aligns shorter ranges too (a server that keeps raw samples for less than a day)", () => {
  const p = planRange(6 * 3600, 900, NOW, 60);
  assert.equal(p.step % 60, 0);
  assert.equal(p.start % 60, 0);
  assert.equal(p.end % 60, 0);
});

test("refusedUnit reads the tier of a refused unaligned query, and nothing else", () => {
  const refusal = (tier: string) =>
    new ApiError(
      422,
      `Cannot answer the query exactly from the ${tier} tier (raw keeps 1h, the query reaches back to 2026-12-05T02:55:15.000Z): the evaluation times (start, step) are not multiples of ${tier}`,
      null,
    );
  assert.equal(refusedUnit(refusal("1m")), 60);
  assert.equal(refusedUnit(refusal("1h")), 3600);
  assert.equal(refusedUnit(new ApiError(400, "parse error", null)), 0);
  assert.equal(refusedUnit(new Error("Failed to fetch")), 0);
});
