import assert from "node:assert/strict";
import { test } from "node:test";
import { ChunkEncoder, decodeChunk } from "../../src/history/codec.ts";
import { MAX_STREAM_BITS, OpenChunks } from "../../src/history/open_chunks.ts";
import { seededRandom as rng } from "../_seeded_random.ts";

/**
 * Samples: the very bytes of ChunkEncoder. Rows (which skip the codec's
 * integer mode): the same times and value bits once decoded.
 */
function same(
  got: Uint8Array,
  want: Uint8Array,
  columns: number,
  what: string,
) {
  if (columns === 1) {
    assert.deepEqual(got, want, what);
    return;
  }
  const a = decodeChunk(got);
  const b = decodeChunk(want);
  assert.deepEqual(a.t, b.t, what);
  for (let c = 0; c < columns; c++) {
    assert.deepEqual(
      new Uint32Array(a.columns[c].buffer),
      new Uint32Array(b.columns[c].buffer),
      `${what} column ${c}`,
    );
  }
}

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-310, 5e-324, 2 ** 53];

function value(r: () => number): number {
  const k = r();
  if (k < 0.1) return SPECIAL[Math.floor(r() * SPECIAL.length)];
  if (k < 0.3) return Math.floor(r() * 10);
  if (k < 0.5) return 1e6 + Math.floor(r() * 4) * 1000;
  if (k < 0.8) return r() * 1e6 - 5e5;
  return Math.floor(r() * 1000) / 8;
}

test("OpenChunks writes ChunkEncoder's bytes for samples, and rows decodeChunk() reads bit for bit (seeded, interleaved series)", () => {
  for (const columns of [1, 5, 6]) {
    const r = rng(columns * 7919);
    const open = new OpenChunks(columns === 1 ? 1 : 6);
    const series = 40;
    open.ensure(series);
    const encoders = Array.from(
      { length: series },
      () => new ChunkEncoder(columns),
    );
    const t = Array.from(
      { length: series },
      () => Math.floor(r() * 2e12) - 1e12,
    );
    const row = new Float64Array(columns);
    for (let step = 0; step < 4000; step++) {
      const id = Math.floor(r() * series);
      // Mostly regular ticks, sometimes jitter or big jumps.
      const k = r();
      t[id] += k < 0.7
        ? 1000
        : k < 0.95
        ? Math.floor(r() * 5000)
        : Math.floor(r() * 2 ** 40);
      for (let c = 0; c < columns; c++) row[c] = value(r);
      if (columns === 1) {
        open.append(id, t[id], row[0]);
        encoders[id].append(t[id], row[0]);
      } else {
        open.appendRow(id, t[id], row, columns);
        encoders[id].appendRow(t[id], row);
      }
      if (encoders[id].count >= 60 || r() < 0.01) {
        same(open.finish(id), encoders[id].finish(), columns, `series ${id}`);
        open.reset(id);
        encoders[id] = new ChunkEncoder(columns);
      }
    }
    for (let id = 0; id < series; id++) {
      if (encoders[id].count === 0) continue;
      const bytes = open.finish(id);
      same(bytes, encoders[id].finish(), columns, `series ${id}`);
      assert.equal(open.byteLength(id), bytes.length);
      decodeChunk(bytes);
    }
  }
});

test("OpenChunks grows a chunk block by block and reuses freed blocks", () => {
  const open = new OpenChunks(1);
  open.ensure(2);
  const r = rng(1);
  let bits = 0;
  let n = 0;
  while (bits <= MAX_STREAM_BITS) {
    bits = open.append(0, ++n * 1000 + Math.floor(r() * 100), r());
  }
  const { t } = decodeChunk(open.finish(0));
  assert.equal(t.length, n);
  open.reset(0);
  const before = open.memoryBytes();
  for (let i = 1; i <= n; i++) open.append(1, i * 1000, r());
  // The blocks series 0 freed take series 1: no new pages.
  assert.equal(open.memoryBytes(), before);
  assert.equal(open.openCount, 1);
});

test("OpenChunks refuses a row whose column count differs from the chunk's", () => {
  const open = new OpenChunks(6);
  open.ensure(1);
  open.appendRow(0, 1000, new Float64Array(5), 5);
  assert.throws(
    () => open.appendRow(0, 2000, new Float64Array(6), 6),
    /it has 5 columns, received 6/,
  );
});

test("OpenChunks rows use the integer mode too: counter rows cost what ChunkEncoder's do, jumps past 32 bits included", () => {
  const open = new OpenChunks(6);
  open.ensure(1);
  const enc = new ChunkEncoder(6);
  const row = new Float64Array(6);
  let v = 1000;
  for (let i = 1; i <= 60; i++) {
    v += i === 30 ? 2 ** 40 : 3000 + (i % 3);
    row.set([v, 60, v * 60 - 90_000, v - 3000, v, 3000 + (i % 3)]);
    open.appendRow(0, i * 60_000, row, 6);
    enc.appendRow(i * 60_000, row);
  }
  const got = open.finish(0);
  const want = enc.finish();
  const a = decodeChunk(got);
  const b = decodeChunk(want);
  assert.deepEqual(a.t, b.t);
  assert.deepEqual(a.columns, b.columns);
  // Within a few bytes of the codec's own choice (the jump past 32 bits
  // costs an XOR here where ChunkEncoder keeps its 53-bit difference).
  assert.ok(got.length <= want.length + 16, `${got.length} vs ${want.length}`);
  assert.ok(got.length < 60 * 14, `${got.length} bytes for 60 rows`);
});

test("OpenChunks.appendSamples() writes the bytes append() writes one by one, and names the chunks that reached their limit (seeded, jitter, jumps, special values)", () => {
  const r = rng(4242);
  const series = 50;
  const a = new OpenChunks(1);
  const b = new OpenChunks(1);
  a.ensure(series);
  b.ensure(series);
  const limit = new Uint16Array(series).map((_, i) => 20 + (i % 7) * 10);
  const full = new Int32Array(series);
  const last = new Float64Array(series).fill(-Infinity);
  let t = 1_700_000_000_000;
  let sealed = 0;
  for (let step = 0; step < 3000; step++) {
    const k = r();
    t += k < 0.8 ? 1000 : k < 0.97 ? Math.floor(r() * 5000) + 1 : 2 ** 33;
    // Each tick a random subset of the series, in increasing id order.
    const ids: number[] = [];
    for (let id = 0; id < series; id++) if (r() < 0.7) ids.push(id);
    const values = new Float64Array(ids.map(() => value(r)));
    const m = a.appendSamples(
      new Int32Array(ids),
      values,
      ids.length,
      t,
      limit,
      full,
    );
    const want: number[] = [];
    ids.forEach((id, i) => {
      const bits = b.append(id, t, values[i]);
      last[id] = t;
      if (b.count(id) >= limit[id] || bits > MAX_STREAM_BITS) want.push(id);
    });
    assert.deepEqual([...full.subarray(0, m)], want, `tick ${step}`);
    for (const id of want) {
      assert.deepEqual(a.finish(id), b.finish(id), `series ${id}`);
      a.reset(id);
      b.reset(id);
      sealed++;
    }
  }
  for (let id = 0; id < series; id++) {
    assert.deepEqual(a.finish(id), b.finish(id), `series ${id} at the end`);
    assert.equal(a.lastT(id), b.lastT(id));
  }
  assert.ok(sealed > 100, `only ${sealed} chunks sealed`);
});

test("OpenChunks.appendSamples() writes append()'s bytes for repeated values at steady ticks (the two-bit fast path), over reused blocks that hold old bytes", () => {
  const r = rng(99);
  const series = 40;
  const a = new OpenChunks(1);
  const b = new OpenChunks(1);
  a.ensure(series);
  b.ensure(series);
  const limit = new Uint16Array(series).map((_, i) => 30 + (i % 5) * 17);
  const full = new Int32Array(series);
  const current = new Float64Array(series).map(() => value(r));
  const ids = new Int32Array(series).map((_, i) => i);
  let t = 1_700_000_000_000;
  let sealed = 0;
  for (let step = 0; step < 4000; step++) {
    // Mostly steady ticks, sometimes a jitter that breaks the fast path.
    t += r() < 0.95 ? 1000 : 1000 + Math.floor(r() * 300);
    // Most values repeat; some change (a counter step, a new random value).
    for (let id = 0; id < series; id++) {
      const k = r();
      if (k < 0.1) current[id] += 1;
      else if (k < 0.15) current[id] = value(r);
    }
    const values = current.slice();
    const m = a.appendSamples(ids, values, series, t, limit, full);
    const want: number[] = [];
    for (let id = 0; id < series; id++) {
      const bits = b.append(id, t, values[id]);
      if (b.count(id) >= limit[id] || bits > MAX_STREAM_BITS) want.push(id);
    }
    assert.deepEqual([...full.subarray(0, m)], want, `tick ${step}`);
    for (let id = 0; id < series; id++) {
      assert.equal(
        a.byteLength(id),
        b.byteLength(id),
        `series ${id}, tick ${step}`,
      );
    }
    for (const id of want) {
      const bytes = a.finish(id);
      assert.deepEqual(bytes, b.finish(id), `series ${id}`);
      assert.equal(decodeChunk(bytes).t.length, a.count(id));
      a.reset(id);
      b.reset(id);
      sealed++;
    }
  }
  for (let id = 0; id < series; id++) {
    assert.deepEqual(a.finish(id), b.finish(id), `series ${id} at the end`);
  }
  assert.ok(sealed > 500, `only ${sealed} chunks sealed`);
});

test("OpenChunks.appendSamples() refuses open chunks of rows", () => {
  const open = new OpenChunks(6);
  open.ensure(1);
  assert.throws(
    () =>
      open.appendSamples(
        new Int32Array([0]),
        new Float64Array([1]),
        1,
        1000,
        new Uint16Array([10]),
        new Int32Array(1),
      ),
    /Cannot append samples: these open chunks hold rows of several columns/,
  );
});

test("OpenChunks lean (column state of one series at a time) writes the same bytes as the full state, series interleaved, and keeps what the head log holds", () => {
  const rand = (() => {
    let seed = 11;
    return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  })();
  const full = new OpenChunks(6);
  const lean = new OpenChunks(6, true);
  assert.equal(lean.lean, true);
  full.ensure(5);
  lean.ensure(5);
  const row = new Float64Array(6);
  const t = [0, 0, 0, 0, 0];
  for (let step = 0; step < 400; step++) {
    const id = Math.floor(rand() * 5);
    t[id] += 3_600_000;
    const columns = id % 2 === 0 ? 6 : 5;
    row[0] = rand() < 0.1 ? NaN : Math.floor(rand() * 100);
    row[1] = 60;
    row[2] = rand() * 1e6;
    row[3] = -0;
    row[4] = step;
    row[5] = rand() < 0.5 ? 2 ** 40 + step : step;
    full.appendRow(id, t[id], row, columns);
    lean.appendRow(id, t[id], row, columns);
    if (step % 7 === 0) {
      full.markLogged(id);
      lean.markLogged(id);
    }
    if (full.count(id) >= 9) {
      assert.deepEqual(lean.finish(id), full.finish(id), `step ${step}`);
      full.reset(id);
      lean.reset(id);
    }
    for (let k = 0; k < 5; k++) {
      assert.equal(lean.loggedRows(k), full.loggedRows(k));
      assert.equal(lean.loggedByte(k), full.loggedByte(k));
    }
  }
  for (let id = 0; id < 5; id++) {
    assert.deepEqual(lean.finish(id), full.finish(id));
    assert.equal(lean.count(id), full.count(id));
  }
  assert.ok(lean.memoryBytes() < full.memoryBytes());
});

test("OpenChunks lean takes a series' state from a decode of its chunk: the same bytes as the full state for uneven times, XOR windows, integer steps, repeats, wide differences and one-column rows", () => {
  const rand = rng(23);
  const full = new OpenChunks(6);
  const lean = new OpenChunks(6, true);
  const n = 8;
  full.ensure(n);
  lean.ensure(n);
  const row = new Float64Array(6);
  const t = new Array<number>(n).fill(0);
  const level = new Array<number>(n).fill(0);
  for (let step = 0; step < 2000; step++) {
    const id = Math.floor(rand() * n);
    // Now and then a window or a few without a row.
    t[id] += 60_000 * (rand() < 0.8 ? 1 : 1 + Math.floor(rand() * 4));
    level[id] += id % 4 === 0 ? 1200 : rand() * 3;
    // Each series its own mix, so windows are set, reused and reset and
    // integer differences are kept, widened past 32 bits and dropped.
    const columns = id === 7 ? 1 : id % 2 === 0 ? 6 : 5;
    row[0] = id % 4 === 0 ? level[id] : Math.floor(level[id] * 100) / 100;
    row[1] = rand() < 0.9 ? 60 : 59;
    row[2] = id === 3 ? 2 ** 52 * rand() : level[id] * 60.5;
    row[3] = rand() < 0.05 ? NaN : rand() < 0.5 ? -0 : level[id] - 1;
    row[4] = rand() < 0.3 ? row[4] : Math.floor(rand() * 2 ** 35) - 2 ** 34;
    row[5] = rand() < 0.5 ? 2 ** 40 + step : step;
    full.appendRow(id, t[id], row, columns);
    lean.appendRow(id, t[id], row, columns);
    if (rand() < 0.2) {
      full.markLogged(id);
      lean.markLogged(id);
    }
    if (full.count(id) >= 4 + (id % 7)) {
      assert.deepEqual(lean.finish(id), full.finish(id), `step ${step}`);
      full.reset(id);
      lean.reset(id);
    }
    assert.equal(lean.loggedRows(id), full.loggedRows(id));
    assert.equal(lean.loggedByte(id), full.loggedByte(id));
  }
  for (let id = 0; id < n; id++) {
    assert.deepEqual(lean.finish(id), full.finish(id));
  }
});

test("OpenChunks.firstT() gives each open chunk's first time exactly, at any size and sign, for samples and rows, lean or not, in blocks freed and used again", () => {
  const times = [
    0,
    1,
    -1,
    127,
    128,
    -128,
    16_383,
    16_384,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 + 5,
    1_733_500_000_000,
    -1_733_500_000_000,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
  ];
  const row = new Float64Array([1, 2, 3, 4, 5, 6]);
  for (
    const open of [
      new OpenChunks(1),
      new OpenChunks(6),
      new OpenChunks(6, true),
    ]
  ) {
    const rows = open.maxColumns > 1;
    const n = times.length;
    open.ensure(2 * n);
    assert.ok(Number.isNaN(open.firstT(0)));
    for (let round = 0; round < 3; round++) {
      // Each round the chunks of the last are reset: their blocks, with
      // their old bytes, go to other series' new chunks.
      for (let k = 0; k < 2 * n; k++) {
        const id = (k + round * 7) % (2 * n);
        const t0 = times[(k + round) % n];
        const t1 = t0 + (rows ? 60_000 : 1000);
        // A second row when there is room for one after the first.
        const second = t1 <= Number.MAX_SAFE_INTEGER;
        if (rows) {
          open.appendRow(id, t0, row, 6);
          if (second) open.appendRow(id, t1, row, 6);
        } else {
          open.append(id, t0, k);
          if (second) open.append(id, t1, k + 0.5);
        }
        assert.equal(open.firstT(id), t0, `id ${id} round ${round}`);
        assert.equal(decodeChunk(open.finish(id)).t[0], t0);
      }
      for (let id = 0; id < 2 * n; id++) open.reset(id);
    }
  }
});

test("OpenChunks refuses a row past 65,535 in a chunk that was not sealed, and keeps the rows it has", () => {
  const open = new OpenChunks(1);
  open.ensure(1);
  for (let i = 1; i <= 65_535; i++) open.append(0, i * 1000, 0);
  assert.equal(open.count(0), 65_535);
  assert.throws(
    () => open.append(0, 65_536_000, 0),
    /Cannot append to an open chunk: it holds 65,535 rows/,
  );
  const { t } = decodeChunk(open.finish(0));
  assert.deepEqual([t.length, t[65_534]], [65_535, 65_535_000]);
});

test("OpenChunks.appendSamples() refuses a row past 65,535 in a chunk its caller did not seal, as append() does, rather than wrap the row count", () => {
  const open = new OpenChunks(1);
  open.ensure(1);
  const ids = new Int32Array([0]);
  const values = new Float64Array([7]);
  // A limit the caller ignores: `full` says so at row 65,525, never sealed.
  const limit = new Uint16Array([0xffff]);
  const full = new Int32Array(1);
  for (let i = 1; i <= 65_535; i++) {
    open.appendSamples(ids, values, 1, i * 1000, limit, full);
  }
  assert.equal(open.count(0), 65_535);
  assert.throws(
    () => open.appendSamples(ids, values, 1, 65_536_000, limit, full),
    /Cannot append to an open chunk: it holds 65,535 rows/,
  );
  assert.equal(open.count(0), 65_535);
  assert.equal(decodeChunk(open.finish(0)).t.length, 65_535);
});

test("OpenChunks reuses the blocks of reset chunks, raw and lean, before it takes a new page, and every chunk keeps its own bytes", () => {
  for (const [columns, lean] of [[1, false], [6, true]] as const) {
    const open = new OpenChunks(columns, lean);
    const series = 3000;
    open.ensure(series);
    const row = new Float64Array(columns);
    const fill = (round: number) => {
      for (let id = 0; id < series; id++) {
        // 1 to 20 rows of values that do not repeat: chains of 1 to 5 blocks.
        for (let i = 0; i < 1 + ((id * 7 + round) % 20); i++) {
          for (let c = 0; c < columns; c++) row[c] = id * 1000 + i * 3.7 + c;
          if (columns === 1) open.append(id, (i + 1) * 1000, row[0]);
          else open.appendRow(id, (i + 1) * 60_000, row, columns);
        }
      }
    };
    const check = (round: number) => {
      for (let id = 0; id < series; id += 7) {
        const { t, columns: got } = decodeChunk(open.finish(id));
        assert.equal(t.length, 1 + ((id * 7 + round) % 20));
        assert.equal(
          got[columns - 1][t.length - 1],
          id * 1000 + (t.length - 1) * 3.7 + columns - 1,
        );
      }
    };
    fill(0);
    check(0);
    const bytes = open.memoryBytes();
    const bound = open.bytesBound();
    for (let round = 1; round <= 5; round++) {
      // Every other chunk sealed and written again, in a shuffled order.
      for (let id = round % 2; id < series; id += 2) open.reset(id);
      for (let id = round % 2; id < series; id += 2) {
        for (let i = 0; i < 1 + ((id * 7 + round) % 20); i++) {
          for (let c = 0; c < columns; c++) row[c] = id * 1000 + i * 3.7 + c;
          if (columns === 1) open.append(id, (i + 1) * 1000, row[0]);
          else open.appendRow(id, (i + 1) * 60_000, row, columns);
        }
      }
      for (let id = round % 2; id < series; id += 14) {
        const { t, columns: got } = decodeChunk(open.finish(id));
        assert.equal(t.length, 1 + ((id * 7 + round) % 20), `round ${round}`);
        assert.equal(
          got[columns - 1][t.length - 1],
          id * 1000 + (t.length - 1) * 3.7 + columns - 1,
        );
      }
    }
    // The same rows over all chunks again: the blocks freed were enough.
    for (let id = 0; id < series; id++) open.reset(id);
    assert.equal(open.bytesBound(), 0);
    fill(0);
    check(0);
    assert.equal(open.memoryBytes(), bytes, `${columns} columns`);
    assert.equal(open.bytesBound(), bound, `${columns} columns`);
  }
});

test("OpenChunks keeps streams past 65,535 bits (its bit counts turn 32-bit), every series' bytes and head log position kept, in appendSamples() as in append()", () => {
  const r = rng(65536);
  const series = 4;
  const a = new OpenChunks(1);
  const b = new OpenChunks(1);
  a.ensure(series);
  b.ensure(series);
  const ids = new Int32Array([0, 1, 2, 3]);
  const limit = new Uint16Array(series).fill(0xffff);
  const full = new Int32Array(series);
  const logged: number[] = [];
  for (let step = 1; step <= 1500; step++) {
    // Series 0 random doubles (about 70 bits a row), the others steady.
    const values = new Float64Array([r() * 1e6, 5, step, step % 3]);
    a.appendSamples(ids, values, series, step * 1000, limit, full);
    for (let id = 0; id < series; id++) b.append(id, step * 1000, values[id]);
    if (step === 10) {
      for (let id = 0; id < series; id++) {
        a.markLogged(id);
        logged.push(a.loggedByte(id));
      }
    }
  }
  assert.ok(a.byteLength(0) > 65_536 / 8, `${a.byteLength(0)} bytes`);
  for (let id = 0; id < series; id++) {
    assert.deepEqual(a.finish(id), b.finish(id), `series ${id}`);
    assert.equal(a.loggedByte(id), logged[id], `series ${id}`);
    assert.equal(a.loggedRows(id), 10);
    assert.equal(
      a.partLength(id, logged[id]),
      a.byteLength(id) - 2 - 2 - logged[id],
    );
  }
  // A row chunk passes it too (through appendRow).
  const rows = new OpenChunks(6);
  rows.ensure(2);
  const row = new Float64Array(6);
  for (let i = 1; i <= 400; i++) {
    for (let c = 0; c < 6; c++) row[c] = r() * 1e9;
    rows.appendRow(1, i * 60_000, row, 6);
  }
  const { t, columns } = decodeChunk(rows.finish(1));
  assert.equal(t.length, 400);
  assert.equal(columns[5][399], row[5]);
  assert.ok(rows.byteLength(1) > 8192);
});

test("OpenChunks on a grid keeps last times as steps, and any time off the grid (or -0, or beyond 32 bits of steps) as it is, for every series", () => {
  for (
    const odd of [90_000, -0, 60_000 * 2 ** 32, 1.5e15 + 1] as const
  ) {
    const grid = new OpenChunks(6, true, 60_000);
    const plain = new OpenChunks(6, true);
    grid.ensure(3);
    plain.ensure(3);
    const row = new Float64Array([1, 60, 60, 1, 1, 0]);
    const times = [-120_000, 60_000, 1_700_000_040_000];
    for (let id = 0; id < 3; id++) {
      grid.appendRow(id, times[id], row, 6);
      plain.appendRow(id, times[id], row, 6);
      assert.ok(Object.is(grid.lastT(id), times[id]));
    }
    // Series 1 goes on at a time off the grid: the others keep theirs.
    const next = Object.is(odd, -0) ? -0 : odd;
    if (next > 60_000 || Object.is(next, -0)) {
      const s = Object.is(next, -0) ? 0 : 1;
      if (s === 0) {
        grid.reset(0);
        plain.reset(0);
      }
      grid.appendRow(s, next, row, 6);
      plain.appendRow(s, next, row, 6);
      grid.appendRow(s, next + 60_000, row, 6);
      plain.appendRow(s, next + 60_000, row, 6);
    }
    for (let id = 0; id < 3; id++) {
      assert.ok(Object.is(grid.lastT(id), plain.lastT(id)), `${odd} ${id}`);
      assert.equal(grid.firstT(id), plain.firstT(id));
      assert.deepEqual(grid.finish(id), plain.finish(id), `${odd} ${id}`);
    }
    // Later rows on the grid still come out the same.
    for (let id = 0; id < 3; id++) {
      const t = Math.ceil((grid.lastT(id) + 1) / 60_000) * 60_000;
      grid.appendRow(id, t, row, 6);
      plain.appendRow(id, t, row, 6);
      assert.equal(grid.lastT(id), t);
      assert.deepEqual(grid.finish(id), plain.finish(id));
    }
  }
  assert.throws(
    () => new OpenChunks(1, false, 1000),
    /gridMs must be 0, or a positive integer for rows of several columns, received 1000/,
  );
});

test("OpenChunks keeps time deltas and integer differences past 32 bits (kept apart) as ChunkEncoder does, in appendSamples() and append(), across resets", () => {
  const a = new OpenChunks(1);
  const b = new OpenChunks(1);
  a.ensure(3);
  b.ensure(3);
  const ids = new Int32Array([0, 1, 2]);
  const limit = new Uint16Array([50, 50, 50]);
  const full = new Int32Array(3);
  let enc = [0, 1, 2].map(() => new ChunkEncoder(1));
  let t = 1_700_000_000_000;
  for (let step = 0; step < 240; step++) {
    // Deltas of 1 s, 2^31 ms and 2^33 ms; differences of 1, -2^31, 2^40.
    t += step % 7 === 3 ? 2 ** 31 : step % 11 === 5 ? 2 ** 33 : 1000;
    const v = new Float64Array([
      step % 5 === 0 ? 2 ** 40 + step : step,
      step % 3 === 0 ? -(2 ** 31) * step : 7,
      step,
    ]);
    const m = a.appendSamples(ids, v, 3, t, limit, full);
    for (let id = 0; id < 3; id++) {
      b.append(id, t, v[id]);
      enc[id].append(t, v[id]);
    }
    for (let j = 0; j < m; j++) {
      const id = full[j];
      assert.deepEqual(a.finish(id), enc[id].finish(), `step ${step}`);
      assert.deepEqual(b.finish(id), enc[id].finish(), `step ${step}`);
      a.reset(id);
      b.reset(id);
      enc = enc.map((e, k) => (k === id ? new ChunkEncoder(1) : e));
    }
  }
  for (let id = 0; id < 3; id++) {
    assert.deepEqual(a.finish(id), enc[id].finish());
    assert.deepEqual(b.finish(id), enc[id].finish());
  }
});

test("OpenChunks keeps samples' last times exactly as they move past 32 bits of ms (series close together, one left open for weeks, -0), in appendSamples() and append()", () => {
  const DAY = 86_400_000;
  for (const odd of ["none", "weeks", "-0"]) {
    const a = new OpenChunks(1);
    const b = new OpenChunks(1);
    const series = 4;
    a.ensure(series);
    b.ensure(series);
    const enc = Array.from({ length: series }, () => new ChunkEncoder(1));
    const last = new Float64Array(series).fill(NaN);
    const limit = new Uint16Array(series).fill(1000);
    const full = new Int32Array(series);
    const add = (ids: number[], t: number) => {
      const v = Float64Array.from(ids, (id) => id * 10 + (t % 7));
      a.appendSamples(Int32Array.from(ids), v, ids.length, t, limit, full);
      ids.forEach((id, i) => {
        b.append(id, t, v[i]);
        enc[id].append(t, v[i]);
        last[id] = t;
      });
    };
    let t = odd === "-0" ? -5000 : 1_700_000_000_000;
    // Series 3 once at the start: left open ("weeks") or sealed at once.
    add([3], t);
    if (odd !== "weeks") {
      a.reset(3);
      b.reset(3);
      enc[3] = new ChunkEncoder(1);
      last[3] = NaN;
    }
    if (odd === "-0") add([0, 1, 2], -0);
    // 40 days in steps of 1 s and of a day: past 2^31 ms (24.9 days) of
    // the first time, and of where the base moves.
    for (let k = 0; k < 40 * 24; k++) {
      t = Math.max(t, 0) + (k % 24 === 0 ? DAY : 1000);
      add([0, 1, 2], t);
    }
    for (let id = 0; id < series; id++) {
      const want = Number.isNaN(last[id]) ? undefined : last[id];
      if (want !== undefined) {
        assert.ok(Object.is(a.lastT(id), want), `${odd} ${id} ${a.lastT(id)}`);
        assert.ok(Object.is(b.lastT(id), want), `${odd} ${id} ${b.lastT(id)}`);
        assert.deepEqual(a.finish(id), enc[id].finish(), `${odd} ${id}`);
        assert.deepEqual(b.finish(id), enc[id].finish(), `${odd} ${id}`);
      } else assert.equal(a.count(id), 0);
    }
    // And on from there, the same bytes.
    add([0, 1, 2], t + 2000);
    for (let id = 0; id < 3; id++) {
      assert.deepEqual(a.finish(id), enc[id].finish(), `${odd} ${id} after`);
    }
  }
});
