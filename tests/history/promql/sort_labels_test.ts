import assert from "node:assert/strict";
import { test } from "node:test";
import { sortByLabelsOf } from "../../../src/history/promql/_points.ts";

// Prometheus orders series by labels.Compare: the label sets' names
// (sorted) and values compared pair by pair as Go compares strings (byte
// by byte in UTF-8), a set that runs out first sorting first.

const encoder = new TextEncoder();

/** Go's string comparison: UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** labels.Compare, written out plainly. */
function compareLabels(
  a: Record<string, string>,
  b: Record<string, string>,
): number {
  const an = Object.keys(a).sort(compareBytes);
  const bn = Object.keys(b).sort(compareBytes);
  for (let i = 0; i < an.length && i < bn.length; i++) {
    const byName = compareBytes(an[i], bn[i]);
    if (byName !== 0) return byName;
    const byValue = compareBytes(a[an[i]], b[bn[i]]);
    if (byValue !== 0) return byValue;
  }
  return an.length - bn.length;
}

test("sortByLabelsOf() orders label sets as Prometheus's labels.Compare does", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 48271) % 2147483647;
    return seed % n;
  };
  // Values that share prefixes, are empty, or hold characters whose UTF-16
  // order differs from their UTF-8 order.
  const values = [
    "",
    "a",
    "ab",
    "a b",
    "b",
    "10",
    "9",
    "\uFFFD",
    "\u{1F600}",
    "\uE000x",
    "é",
    "z",
  ];
  const names = ["__name__", "flow", "process", "a", "a_b", "ab", "z"];
  for (let round = 0; round < 40; round++) {
    const sets: Record<string, string>[] = [];
    for (let i = 0; i < 200; i++) {
      const set: Record<string, string> = {};
      // Names in any order of insertion, as objects may hold them.
      for (let k = random(5); k > 0; k--) {
        set[names[random(names.length)]] = values[random(values.length)];
      }
      sets.push(set);
    }
    const got = sortByLabelsOf(sets.map((_, i) => i), sets);
    const want = sets.map((_, i) => i).sort((x, y) =>
      compareLabels(sets[x], sets[y]) || x - y
    );
    // Equal sets may come in either order: compare the sets themselves.
    assert.deepEqual(
      got.map((i) => sets[i]),
      want.map((i) => sets[i]),
      `round ${round}`,
    );
  }
});
