import assert from "node:assert/strict";
import { test } from "node:test";
import {
  COL_COUNT,
  COL_INCREASE,
  COL_MAX,
  COL_MIN,
  COL_SUM,
  COL_VALUE,
  RowAggregator,
  STATE_LENGTH,
  WindowAggregator,
} from "../../src/history/aggregator.ts";
import { seededRandom } from "../_seeded_random.ts";
import {
  ReferenceRowAggregator,
  ReferenceWindowAggregator,
} from "./_window_reference.ts";

function feed(
  a: WindowAggregator,
  samples: [number, number][],
  counter: boolean,
) {
  const rows: number[][] = [];
  for (const [t, v] of samples) {
    const end = a.add(0, t, v, counter);
    if (end !== 0) rows.push([end, ...a.row]);
  }
  return rows;
}

test("WindowAggregator: a window (t - res, t] closes when a later sample crosses its end", () => {
  const a = new WindowAggregator(10);
  a.ensure(1);
  const rows = feed(a, [[1, 4], [5, -2], [10, 7], [11, 1], [25, 3]], false);
  // (0, 10] holds 1, 5, 10; (10, 20] holds 11; 25 opens (20, 30].
  assert.deepEqual(rows.map((r) => r[0]), [10, 20]);
  const [w] = rows;
  assert.equal(w[1 + COL_VALUE], 7);
  assert.equal(w[1 + COL_COUNT], 3);
  assert.equal(w[1 + COL_SUM], 9);
  assert.equal(w[1 + COL_MIN], -2);
  assert.equal(w[1 + COL_MAX], 7);
  assert.equal(w[1 + COL_INCREASE], 0);
  assert.deepEqual(rows[1].slice(1, 6), [1, 1, 1, 1, 1]);
  assert.equal(a.take(0), 30);
  assert.equal(a.row[COL_VALUE], 3);
  assert.equal(a.take(0), 0);
});

test("WindowAggregator: a counter's increase starts from the last sample before the window and handles resets", () => {
  const a = new WindowAggregator(10);
  a.ensure(1);
  const rows = feed(a, [
    [5, 100], // first window: no sample before, increase 0
    [15, 110], // +10 from 100
    [16, 3], // reset: +3
    [18, 5], // +2
    [25, 9], // next window: +4 from 5
    [31, 20],
  ], true);
  assert.deepEqual(rows.map((r) => [r[0], r[1 + COL_INCREASE]]), [
    [10, 0],
    [20, 15],
    [30, 4],
  ]);
});

test("WindowAggregator: NaN does not hide a real min or max", () => {
  const a = new WindowAggregator(10);
  a.ensure(1);
  const rows = feed(a, [[1, NaN], [2, 5], [3, 1], [11, 0]], false);
  assert.equal(rows[0][1 + COL_MIN], 1);
  assert.equal(rows[0][1 + COL_MAX], 5);
});

test("WindowAggregator: state() and restore() carry an open window over", () => {
  const a = new WindowAggregator(10);
  a.ensure(1);
  feed(a, [[1, 1], [2, 2]], true);
  const s = new Float64Array(STATE_LENGTH);
  a.state(0, s);
  const b = new WindowAggregator(10);
  b.restore(0, s);
  assert.equal(b.add(0, 3, 0, true), 0);
  assert.equal(b.add(0, 12, 1, true), 10);
  assert.deepEqual([...b.row], [0, 3, 3, 0, 2, 1 + 0]);
});

test("WindowAggregator gives the rows, ends, open windows and states of the 8-number layout, to the bit: full windows (a sample every ms), negative times, NaN, -0, resets, windows closed early and series seeded", () => {
  for (const res of [1, 7, 10, 60_000]) {
    const rand = seededRandom(res);
    const n = 40;
    const a = new WindowAggregator(res);
    const b = new ReferenceWindowAggregator(res);
    a.ensure(n);
    b.ensure(n);
    const t = new Float64Array(n);
    for (let id = 0; id < n; id++) {
      t[id] = Math.floor((rand() - 0.5) * 50 * res);
    }
    const values = [0, -0, 1, 2.5, -3, NaN, 1e300, 7, 7, 7];
    const stateA = new Float64Array(STATE_LENGTH);
    const stateB = new Float64Array(STATE_LENGTH);
    const same = (what: string) => {
      assert.deepEqual([...a.row].map(String), [...b.row].map(String), what);
      for (let i = 0; i < 6; i++) {
        assert.ok(Object.is(a.row[i], b.row[i]), what);
      }
    };
    for (let step = 0; step < 6000; step++) {
      const id = Math.floor(rand() * n);
      const counter = id % 2 === 0;
      const r = rand();
      // Mostly the next ms (windows filled to res samples), some gaps.
      t[id] += r < 0.7 ? 1 : r < 0.95 ? 1 + Math.floor(rand() * res) : 3 * res;
      const v = values[Math.floor(rand() * values.length)] +
        (counter ? step : 0);
      const what = `res ${res}, step ${step}, id ${id}, t ${t[id]}`;
      assert.equal(
        a.add(id, t[id], v, counter),
        b.add(id, t[id], v, counter),
        what,
      );
      same(what);
      // === : the window ending at 0 (never open) is -0 or 0 in the old.
      assert.ok(a.openEnd(id) === b.openEnd(id), what);
      assert.equal(a.isOpen(id), b.isOpen(id), what);
      const k = rand();
      if (k < 0.01) {
        assert.equal(a.take(id), b.take(id), what);
        same(what);
      } else if (k < 0.015) {
        a.seed(id, v);
        b.seed(id, v);
      }
      a.state(id, stateA);
      b.state(id, stateB);
      if (b.isOpen(id)) {
        // The sample before an open window is not kept (NaN): its part is
        // in the increase.
        assert.ok(Number.isNaN(stateA[7]), what);
        assert.deepEqual(
          [...stateA.subarray(0, 7)].map(String),
          [...stateB.subarray(0, 7)].map(String),
          what,
        );
      } else {
        // None open: the sample before the next window.
        assert.deepEqual([stateA[0], stateA[1]], [0, 0], what);
        assert.ok(Object.is(stateA[7], stateB[7]), what);
        // Carried over: the next window's rows are the same.
        const c = new WindowAggregator(res);
        c.restore(0, stateA);
        const d = new ReferenceWindowAggregator(res);
        d.restore(0, stateB);
        const next = t[id] + 1 + Math.floor(rand() * 2 * res);
        c.add(0, next, 5, counter);
        d.add(0, next, 5, counter);
        assert.equal(c.take(0), d.take(0), what);
        assert.deepEqual([...c.row].map(String), [...d.row].map(String), what);
      }
    }
    for (let id = 0; id < n; id++) {
      assert.equal(a.take(id), b.take(id));
      same(`take ${id}`);
    }
  }
});

test("WindowAggregator.restore() refuses a window that state() cannot have packed", () => {
  const a = new WindowAggregator(10);
  assert.throws(
    () => a.restore(0, [25, 1, 0, 0, 0, 0, 0, 0]),
    /end must be a multiple of 10 and its count from 1 to 10, received 25 and 1/,
  );
  assert.throws(() => a.restore(0, [30, 11, 0, 0, 0, 0, 0, 0]), RangeError);
  assert.throws(() => a.restore(0, [30, 0, 0, 0, 0, 0, 0, 0]), RangeError);
  a.restore(0, [0, 0, 0, 0, 0, 5, 0, 5]); // none open
  assert.equal(a.isOpen(0), false);
});

test("WindowAggregator refuses a resolution that is not a positive integer", () => {
  assert.throws(() => new WindowAggregator(0), /positive integer, received 0/);
});

/**
 * Rows `[0, n)` of `columns` (value, count, sum, min, max[, increase])
 * combined at once into one coarser row, into `out`: the reference the
 * row-by-row fold must equal (the hour tier combined a sealed hour chunk
 * this way before it folded rows as they came).
 */
function combined(columns: Float64Array[], n: number, out: Float64Array) {
  let count = 0;
  let sum = 0;
  let min = NaN;
  let max = NaN;
  let inc = 0;
  const counter = columns.length > COL_INCREASE;
  for (let i = 0; i < n; i++) {
    count += columns[COL_COUNT][i];
    sum += columns[COL_SUM][i];
    const lo = columns[COL_MIN][i];
    const hi = columns[COL_MAX][i];
    if (lo < min || min !== min) min = lo;
    if (hi > max || max !== max) max = hi;
    if (counter) inc += columns[COL_INCREASE][i];
  }
  out[COL_VALUE] = columns[COL_VALUE][n - 1];
  out[COL_COUNT] = count;
  out[COL_SUM] = sum;
  out[COL_MIN] = min;
  out[COL_MAX] = max;
  out[COL_INCREASE] = inc;
}

test("RowAggregator folds rows into the same coarser row as rows combined at once, to the bit (floats, NaN, -0, gauges and counters)", () => {
  let seed = 3;
  const rnd = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = () => {
    const r = rnd();
    return r < 0.05 ? NaN : r < 0.1 ? -0 : (rnd() - 0.5) * 1e3 + rnd() * 1e-7;
  };
  // A row's count: the samples of a finer window (up to 10 of 60,000).
  const count = () => 1 + Math.floor(rnd() * 60_000);
  const up = new RowAggregator(600_000);
  up.ensure(2);
  for (const columns of [5, 6]) {
    const id = columns - 5;
    for (let w = 1; w <= 30; w++) {
      const n = 1 + Math.floor(rnd() * 10);
      const cols = Array.from({ length: 6 }, () => new Float64Array(n));
      for (let i = 0; i < n; i++) for (const c of cols) c[i] = pick();
      for (let i = 0; i < n; i++) cols[COL_COUNT][i] = count();
      const want = new Float64Array(6);
      combined(cols.slice(0, columns), n, want);
      const row = new Float64Array(6);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 6; c++) row[c] = cols[c][i];
        assert.equal(up.addRow(id, w * 600_000, row, columns), 0);
      }
      assert.equal(up.take(id), w * 600_000);
      assert.equal(up.columns, columns);
      const got = up.row.subarray(0, columns);
      assert.deepEqual(
        [...new Uint32Array(got.slice().buffer)],
        [...new Uint32Array(want.subarray(0, columns).slice().buffer)],
        `window ${w}, ${columns} columns`,
      );
    }
  }
});

test("RowAggregator gives each series' window its own columns, row and end, kept through the growth of its arrays", () => {
  const h = new RowAggregator(3_600_000);
  const n = 3000;
  const row = new Float64Array([7, 60, 300, 1, 9, 4]);
  for (let id = 0; id < n; id++) {
    h.ensure(id + 1); // grown as series come
    row[0] = id;
    h.addRow(id, 3_600_000, row, id % 3 === 0 ? 6 : 5);
  }
  for (let id = 0; id < n; id++) {
    assert.equal(h.openEnd(id), 3_600_000);
    assert.equal(h.take(id), 3_600_000);
    assert.equal(h.columns, id % 3 === 0 ? 6 : 5);
    assert.equal(h.row[COL_VALUE], id);
    assert.equal(h.row[COL_INCREASE], id % 3 === 0 ? 4 : 0);
  }
});

test("RowAggregator gives the rows, ends and open windows of the 7-number layout, to the bit: windows filled to one sample a ms, negative ends, gaps, windows closed early and cleared", () => {
  for (const res of [1, 6, 60, 3_600_000]) {
    const rand = seededRandom(res + 1);
    const n = 30;
    const a = new RowAggregator(res);
    const b = new ReferenceRowAggregator(res);
    a.ensure(n);
    b.ensure(n);
    // Per series: the window ending at end[id] and its samples so far.
    const end = new Float64Array(n);
    const used = new Float64Array(n);
    for (let id = 0; id < n; id++) {
      end[id] = (Math.floor((rand() - 0.5) * 40) || 1) * res;
    }
    const values = [0, -0, 1, 2.5, -3, NaN, 1e300, 7, 7, 7];
    const pick = () => values[Math.floor(rand() * values.length)];
    const row = new Float64Array(6);
    const same = (what: string) => {
      assert.deepEqual([...a.row].map(String), [...b.row].map(String), what);
      assert.equal(a.columns, b.columns, what);
    };
    for (let step = 0; step < 6000; step++) {
      const id = Math.floor(rand() * n);
      const r = rand();
      // The next window (or one further) when this one is full or by chance.
      if (used[id] === res || r < 0.2) {
        // Never a window ending at 0: 0 is "none" (see the next test).
        end[id] += (r < 0.1 ? 2 : 1) * res;
        if (end[id] === 0) end[id] += res;
        used[id] = 0;
      }
      // Mostly a few samples, at times all the window has left.
      const left = res - used[id];
      const count = rand() < 0.1 ? left : 1 + Math.floor(rand() * left);
      used[id] += count;
      row[COL_VALUE] = pick();
      row[COL_COUNT] = count;
      row[COL_SUM] = pick();
      row[COL_MIN] = pick();
      row[COL_MAX] = pick();
      row[COL_INCREASE] = pick();
      const columns = id % 2 === 0 ? 6 : 5;
      const what = `res ${res}, step ${step}, id ${id}, end ${end[id]}`;
      const got = a.addRow(id, end[id], row, columns);
      assert.ok(Object.is(got, b.addRow(id, end[id], row, columns)), what);
      if (got !== 0) same(what);
      assert.equal(a.openEnd(id), b.openEnd(id), what);
      assert.equal(a.isOpen(id), b.isOpen(id), what);
      const k = rand();
      if (k < 0.02) {
        assert.equal(a.take(id), b.take(id), what);
        same(what);
        used[id] = res; // the next row starts a later window
      } else if (k < 0.03) {
        a.clear(id);
        b.clear(id);
        used[id] = res;
      }
    }
    for (let id = 0; id < n; id++) {
      assert.equal(a.take(id), b.take(id));
      same(`take ${id}`);
    }
  }
});

test("RowAggregator refuses a row whose samples the window cannot hold (more than one a ms, none, or not whole), and keeps the window as it was", () => {
  const h = new RowAggregator(60);
  h.ensure(1);
  const row = new Float64Array([1, 50, 1, 1, 1, 0]);
  h.addRow(0, 120, row, 6);
  for (const count of [11, 0, 2.5, NaN]) {
    row[COL_COUNT] = count;
    assert.throws(
      () => h.addRow(0, 120, row, 6),
      /Cannot fold a row into a window of 60 ms: its samples \(count .*, 50 before\) must be a whole number from 1 up to one a ms/,
    );
  }
  row[COL_COUNT] = 10;
  h.addRow(0, 120, row, 6);
  assert.equal(h.take(0), 120);
  assert.equal(h.row[COL_COUNT], 60);
  // A window ending at 0 is never open, as in the 7-number layout.
  row[COL_COUNT] = 3;
  assert.equal(h.addRow(0, 0, row, 6), 0);
  assert.equal(h.isOpen(0), false);
});

test("RowAggregator refuses a row of a later window that cannot hold it without closing the open one: the open window and its figures stay as they were", () => {
  const h = new RowAggregator(60);
  h.ensure(1);
  const row = new Float64Array([3, 30, 1, 9, 9, 4]);
  h.addRow(0, 120, row, 6);
  // A row of the next window (ending at 180) with more samples than it can hold.
  const bad = new Float64Array([1, 1, 1, 1, 1, 0]);
  bad[COL_COUNT] = 61;
  assert.throws(
    () => h.addRow(0, 180, bad, 6),
    /Cannot fold a row into a window of 60 ms: its samples \(count 61, 0 before\)/,
  );
  assert.equal(h.isOpen(0), true);
  assert.equal(h.take(0), 120);
  assert.deepEqual([...h.row], [3, 30, 1, 9, 9, 4]);
});
