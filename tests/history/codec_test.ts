import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ChunkEncoder,
  CorruptChunkError,
  decodeChunk,
  decodeSamplesInto,
  RowBuffer,
} from "../../src/history/codec.ts";
import { seededRandom as rng } from "../_seeded_random.ts";

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE ? 1 : 0;
const LO = 1 - HI;

/** Float64 bit patterns a store meets, and the awkward ones. */
const SPECIAL: [number, number][] = [
  [0x7ff00000, 2], // Prometheus's stale marker
  [0x7ff80000, 0], // the canonical NaN
  [0xfff80000, 1], // a negative quiet NaN with a payload
  [0x7ff00000, 0xffffffff], // a signalling NaN, all payload bits
  [0x80000000, 0], // -0
  [0, 0], // +0
  [0x7ff00000, 0], // +Infinity
  [0xfff00000, 0], // -Infinity
  [0, 1], // the smallest subnormal
  [0x000fffff, 0xffffffff], // the largest subnormal
  [0x7fefffff, 0xffffffff], // the largest finite
  [0xffefffff, 0xffffffff], // its negative
  [0x3ff00000, 0], // 1
  [0x3fb99999, 0x9999999a], // 0.1
];

type Gen = (i: number, r: () => number, out: Uint32Array, k: number) => void;

/** Writes a number's bits into out[k], out[k+1] (as a Float64Array view would hold them). */
function setNumber(out: Uint32Array, k: number, v: number): void {
  const f = new Float64Array(1);
  f[0] = v;
  const u = new Uint32Array(f.buffer);
  out[k + HI] = u[HI];
  out[k + LO] = u[LO];
}

/** Value generators: (sample index, rng, out, word index). */
function valueGen(r: () => number): Gen {
  const kind = Math.floor(r() * 9);
  const base = r() * 1e6;
  const step = Math.floor(r() * 1000);
  let acc = Math.floor(r() * 1e9);
  let walk = (r() - 0.5) * 100;
  switch (kind) {
    case 0: // a constant
      return (_i, _r, out, k) => setNumber(out, k, base);
    case 1: // an integer counter going up by a varying amount, sometimes reset
      return (_i, r, out, k) => {
        acc += Math.floor(r() * step);
        if (r() < 0.01) acc = 0;
        setNumber(out, k, acc);
      };
    case 2: // a float counter (seconds)
      return (_i, r, out, k) => {
        acc += r() * 0.01;
        setNumber(out, k, acc);
      };
    case 3: // a gauge: a random walk
      return (_i, r, out, k) => {
        walk += (r() - 0.5) * 3;
        setNumber(out, k, walk);
      };
    case 4: // random bits, NaN payloads included
      return (_i, r, out, k) => {
        out[k + HI] = Math.floor(r() * 4294967296);
        out[k + LO] = Math.floor(r() * 4294967296);
      };
    case 5: // special values
      return (_i, r, out, k) => {
        const [hi, lo] = SPECIAL[Math.floor(r() * SPECIAL.length)];
        out[k + HI] = hi;
        out[k + LO] = lo;
      };
    case 6: // decimals of a few digits (prices, ratios)
      return (_i, r, out, k) =>
        setNumber(out, k, Math.round(r() * 10000) / 100);
    case 7: // mostly constant, now and then a change
      return (_i, r, out, k) => {
        if (r() < 0.05) walk = Math.floor(r() * 100);
        setNumber(out, k, walk);
      };
    default: // small integers and huge magnitudes mixed
      return (_i, r, out, k) =>
        setNumber(
          out,
          k,
          r() < 0.5 ? Math.floor(r() * 10) : (r() - 0.5) * 1e300,
        );
  }
}

/** Timestamps: regular, jittered, irregular, repeated, huge and negative. */
function times(r: () => number, n: number): Float64Array {
  const t = new Float64Array(n);
  const kind = Math.floor(r() * 6);
  const intervals = [1, 10, 1000, 15_000, 60_000, 3_600_000];
  const interval = intervals[Math.floor(r() * intervals.length)];
  let now = kind === 4
    ? Number.MAX_SAFE_INTEGER - n * (interval + 20) - 1
    : kind === 5
    ? -Math.floor(r() * 1e12)
    : 1_700_000_000_000 + Math.floor(r() * 1e9);
  for (let i = 0; i < n; i++) {
    t[i] = now;
    if (kind === 0 || kind === 4 || kind === 5) now += interval;
    else if (kind === 1) now += interval + Math.floor((r() - 0.5) * 20);
    else if (kind === 2) {
      now += r() < 0.1
        ? Math.floor(r() * 2 ** (1 + r() * 40))
        : Math.floor(r() * 3000);
    } else now += r() < 0.3 ? 0 : interval;
    if (now < t[i]) now = t[i];
  }
  return t;
}

interface Case {
  t: Float64Array;
  /** One Float64Array per column. */
  columns: Float64Array[];
}

function makeCase(r: () => number, n: number, cols: number): Case {
  const t = times(r, n);
  const columns: Float64Array[] = [];
  for (let c = 0; c < cols; c++) {
    const col = new Float64Array(n);
    const words = new Uint32Array(col.buffer);
    const gen = valueGen(r);
    for (let i = 0; i < n; i++) gen(i, r, words, 2 * i);
    columns.push(col);
  }
  return { t, columns };
}

/** Asserts that `got` holds exactly the first n samples of `want`, bit for bit. */
function assertSame(got: Case, want: Case, n: number, label: string): void {
  assert.equal(got.t.length, n, `${label}: time count`);
  assert.equal(got.columns.length, want.columns.length, `${label}: columns`);
  for (let i = 0; i < n; i++) {
    if (got.t[i] !== want.t[i]) {
      assert.fail(`${label}: t[${i}] is ${got.t[i]}, want ${want.t[i]}`);
    }
  }
  for (let c = 0; c < want.columns.length; c++) {
    // The decoded arrays share one buffer: view each at its own offset.
    const gc = got.columns[c];
    const g = new Uint32Array(gc.buffer, gc.byteOffset, 2 * n);
    const w = new Uint32Array(want.columns[c].buffer, 0, 2 * n);
    for (let k = 0; k < 2 * n; k++) {
      if (g[k] !== w[k]) {
        const i = k >> 1;
        assert.fail(
          `${label}: column ${c} sample ${i} bits ${
            g[2 * i + HI].toString(16)
          }:${g[2 * i + LO].toString(16)}, want ${w[2 * i + HI].toString(16)}:${
            w[2 * i + LO].toString(16)
          }`,
        );
      }
    }
  }
}

/** Encodes a case through appendRow with Float64Array rows (bit exact on every runtime). */
function encodeRows(c: Case): ChunkEncoder {
  const cols = c.columns.length;
  const e = new ChunkEncoder(cols);
  const row = new Float64Array(cols);
  const rowWords = new Uint32Array(row.buffer);
  const colWords = c.columns.map((col) => new Uint32Array(col.buffer));
  for (let i = 0; i < c.t.length; i++) {
    for (let k = 0; k < cols; k++) {
      rowWords[2 * k] = colWords[k][2 * i];
      rowWords[2 * k + 1] = colWords[k][2 * i + 1];
    }
    e.appendRow(c.t[i], row);
  }
  return e;
}

/** True when a value's bits survive being read into a number on every runtime. */
function keepsBits(words: Uint32Array, i: number): boolean {
  const hi = words[2 * i + HI];
  const lo = words[2 * i + LO];
  const nan = (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
  return !nan || (hi === 0x7ff80000 && lo === 0);
}

test(
  "decodeChunk(finish()) gives back every time and float64 bit for bit (20,000 seeded cases)",
  { timeout: 120_000 },
  () => {
    const r = rng(14);
    const sizes = [0, 1, 2, 3, 5, 8, 60, 120, 300];
    for (let n = 0; n < 20_000; n++) {
      const size = n < 100
        ? sizes[n % sizes.length]
        : r() < 0.5
        ? Math.floor(r() * 8)
        : Math.floor(r() * 400);
      const cols = r() < 0.7 ? 1 : 1 + Math.floor(r() * 7);
      const c = makeCase(r, size, cols);
      const e = encodeRows(c);
      assert.equal(e.count, size);
      const bytes = e.finish();
      assert.equal(bytes.length, e.byteLength);
      assertSame(decodeChunk(bytes), c, size, `case ${n} (${size}x${cols})`);
    }
  },
);

test(
  "ChunkEncoder.append() of numbers round-trips like appendRow() (5,000 seeded cases)",
  { timeout: 120_000 },
  () => {
    const r = rng(7);
    for (let n = 0; n < 5_000; n++) {
      const size = Math.floor(r() * 200);
      const c = makeCase(r, size, 1);
      const words = new Uint32Array(c.columns[0].buffer);
      // A number cannot carry a NaN payload on JavaScriptCore: canonical NaNs only here.
      for (let i = 0; i < size; i++) {
        if (!keepsBits(words, i)) {
          words[2 * i + HI] = 0x7ff80000;
          words[2 * i + LO] = 0;
        }
      }
      const e = new ChunkEncoder();
      for (let i = 0; i < size; i++) e.append(c.t[i], c.columns[0][i]);
      const bytes = e.finish();
      assertSame(decodeChunk(bytes), c, size, `case ${n}`);
      assert.deepEqual(bytes, encodeRows(c).finish(), `case ${n}: same bytes`);
    }
  },
);

test(
  "ChunkEncoder.finish() mid-way: each chunk holds the samples so far, and appending goes on",
  { timeout: 120_000 },
  () => {
    const r = rng(99);
    for (let n = 0; n < 2_000; n++) {
      const size = 1 + Math.floor(r() * 150);
      const cols = r() < 0.5 ? 1 : 6;
      const c = makeCase(r, size, cols);
      const e = new ChunkEncoder(cols);
      const row = new Float64Array(cols);
      const rowWords = new Uint32Array(row.buffer);
      const colWords = c.columns.map((col) => new Uint32Array(col.buffer));
      for (let i = 0; i < size; i++) {
        for (let k = 0; k < cols; k++) {
          rowWords[2 * k] = colWords[k][2 * i];
          rowWords[2 * k + 1] = colWords[k][2 * i + 1];
        }
        e.appendRow(c.t[i], row);
        if (r() < 0.2 || i === size - 1) {
          assertSame(decodeChunk(e.finish()), c, i + 1, `case ${n} at ${i}`);
        }
      }
    }
  },
);

test("a chunk of 0 samples decodes to empty arrays, one per column", () => {
  const bytes = new ChunkEncoder(3).finish();
  assert.equal(bytes.length, 3);
  const { t, columns } = decodeChunk(bytes);
  assert.equal(t.length, 0);
  assert.deepEqual(columns.map((c) => c.length), [0, 0, 0]);
});

test("samples on a regular tick cost about 1 bit of time each", () => {
  const e = new ChunkEncoder();
  for (let i = 0; i < 10_000; i++) e.append(1_700_000_000_000 + i * 1000, 7);
  // 1 bit of time + 1 bit of value per sample, plus the first sample and header.
  assert.ok(e.byteLength <= 10_000 * 2 / 8 + 24, `${e.byteLength} bytes`);
  const counter = new ChunkEncoder();
  for (let i = 0; i < 10_000; i++) {
    counter.append(1_700_000_000_000 + i * 1000, i * 3);
  }
  // An integer counter: well under 8 bytes a sample.
  assert.ok(counter.byteLength / 10_000 < 3, `${counter.byteLength} bytes`);
});

test("integers after integers round-trip through their difference, -0, huge and non-integers around them", () => {
  const values = [
    0,
    -0,
    0,
    5,
    -0,
    3,
    3,
    -7,
    2 ** 53 - 1,
    2 ** 53 - 2,
    -(2 ** 53) + 1,
    -(2 ** 53) + 1 + 2 ** 31,
    2 ** 53, // not a safe integer: XOR
    2 ** 53 + 2,
    1e300,
    1e300,
    0.5,
    1,
    NaN,
    2,
    Infinity,
    3,
    -Infinity,
    65_535,
    65_536 + 65_535,
    4,
  ];
  const e = new ChunkEncoder();
  values.forEach((v, i) => e.append(i * 1000, v));
  const got = decodeChunk(e.finish()).columns[0];
  values.forEach((v, i) =>
    assert.ok(Object.is(got[i], v), `sample ${i}: ${got[i]}, want ${v}`)
  );
});

test("a counter going up by about the same each second costs about a byte a sample", () => {
  const r = rng(11);
  for (const rate of [20, 1000, 123_456]) {
    const e = new ChunkEncoder();
    let v = 1000;
    for (let i = 0; i < 1200; i++) {
      e.append(1_700_000_000_000 + i * 1000, v);
      v += rate + Math.floor(r() * 7) - 3;
    }
    // 1 bit of time, 8 of value (111 0 + 4 bits of the difference's change),
    // against 10 to 30 for the XOR.
    const perSample = e.byteLength / 1200;
    assert.ok(perSample <= 1.2, `rate ${rate}: ${perSample} bytes/sample`);
  }
  // Random increments of 0 to 15: the change of the difference needs 8 bits at times.
  const e = new ChunkEncoder();
  let v = 0;
  for (let i = 0; i < 1200; i++) {
    e.append(i * 1000, v);
    v += Math.floor(r() * 16);
  }
  assert.ok(e.byteLength / 1200 <= 1.5, `${e.byteLength / 1200} bytes/sample`);
});

test("the stale marker NaN 0x7ff0000000000002 keeps its payload through appendRow()", () => {
  const row = new Float64Array(1);
  const w = new Uint32Array(row.buffer);
  const e = new ChunkEncoder();
  e.appendRow(1000, [1]);
  w[HI] = 0x7ff00000;
  w[LO] = 2;
  e.appendRow(2000, row);
  e.appendRow(3000, [1]);
  const col = decodeChunk(e.finish()).columns[0];
  const out = new Uint32Array(col.buffer, col.byteOffset, 2 * col.length);
  assert.deepEqual([out[2 + HI], out[2 + LO]], [0x7ff00000, 2]);
  assert.deepEqual([out[4 + HI], out[4 + LO]], [0x3ff00000, 0]);
});

test("ChunkEncoder refuses bad columns, times out of order and rows of the wrong length", () => {
  for (const bad of [0, 256, 1.5, NaN]) {
    assert.throws(() => new ChunkEncoder(bad), /columns must be an integer/);
  }
  const e = new ChunkEncoder();
  for (const bad of [1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => e.append(bad, 1), /integer number of ms/);
  }
  e.append(1000, 1);
  assert.throws(() => e.append(999, 1), /not before the last \(1000\)/);
  assert.throws(() => e.append(1000.5, 1), RangeError);
  assert.throws(() => e.append(NaN, 1), RangeError);
  e.append(1000, 2); // an equal time is kept
  assert.throws(() => e.appendRow(2000, [1, 2]), /a row of 2/);
  assert.equal(e.count, 2);
  assert.deepEqual([...decodeChunk(e.finish()).columns[0]], [1, 2]);
  const rows = new ChunkEncoder(2);
  assert.throws(() => rows.append(1, 1), /use appendRow/);
});

test(
  "decodeChunk() refuses every truncation of a chunk with CorruptChunkError",
  { timeout: 120_000 },
  () => {
    const r = rng(3);
    for (let n = 0; n < 200; n++) {
      const c = makeCase(r, Math.floor(r() * 40), 1 + Math.floor(r() * 3));
      const bytes = encodeRows(c).finish();
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.throws(
          () => decodeChunk(bytes.subarray(0, cut)),
          CorruptChunkError,
          `case ${n} cut at ${cut} of ${bytes.length}`,
        );
      }
    }
  },
);

test("decodeChunk() refuses a wrong version, 0 columns, a count the bytes cannot hold, bytes or padding left over", () => {
  const e = new ChunkEncoder();
  e.append(1000, 1.25);
  e.append(2000, 2.5);
  const good = e.finish();
  const variant = (f: (b: Uint8Array) => void) => {
    const b = good.slice();
    f(b);
    return b;
  };
  assert.throws(
    () => decodeChunk(variant((b) => b[0] = 2)),
    /unknown format version 2/,
  );
  assert.throws(() => decodeChunk(variant((b) => b[1] = 0)), /0 columns/);
  assert.throws(
    () => decodeChunk(variant((b) => b[2] = 100)),
    /cannot fit/,
  );
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  assert.throws(() => decodeChunk(longer), /bits left after 2 samples/);
  // The last byte holds padding after the last value: set a padding bit.
  const padded = variant((b) => b[b.length - 1] |= 1);
  assert.throws(() => decodeChunk(padded), CorruptChunkError);
  // A count far beyond the bytes is refused before any array is made.
  assert.throws(
    () => decodeChunk(new Uint8Array([1, 1, 0xff, 0xff, 0xff, 0xff, 0x07, 0])),
    /cannot fit/,
  );
  assert.throws(
    () => decodeChunk(new Uint8Array([1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 1])),
    /count/,
  );
  assert.throws(
    () => decodeChunk(new Uint8Array([1, 1])),
    /shorter than a header/,
  );
});

test(
  "decodeChunk() of garbage or flipped bits throws CorruptChunkError or returns the header's count, never more",
  { timeout: 120_000 },
  () => {
    const r = rng(5);
    let refused = 0;
    let cases = 0;
    for (let n = 0; n < 3_000; n++) {
      const cols = 1 + Math.floor(r() * 3);
      const count = Math.floor(r() * 50);
      const len = 3 + Math.floor(r() * 200);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
      b[0] = 1;
      b[1] = cols;
      b[2] = count;
      cases++;
      try {
        const { t, columns } = decodeChunk(b);
        assert.equal(t.length, count);
        for (const c of columns) assert.equal(c.length, count);
      } catch (e) {
        assert.ok(e instanceof CorruptChunkError, String(e));
        refused++;
      }
    }
    // Random bytes almost never end exactly where the header's count says.
    assert.ok(refused / cases > 0.95, `${refused} of ${cases} refused`);

    // Every single flipped bit of a real chunk: refused, or the same count.
    const c = makeCase(rng(8), 30, 2);
    const bytes = encodeRows(c).finish();
    for (let bitIndex = 0; bitIndex < bytes.length * 8; bitIndex++) {
      const b = bytes.slice();
      b[bitIndex >> 3] ^= 0x80 >> (bitIndex & 7);
      try {
        const { t } = decodeChunk(b);
        assert.ok(t.length <= 30 || bitIndex < 24, `bit ${bitIndex}`);
        for (let i = 1; i < t.length; i++) assert.ok(t[i] >= t[i - 1]);
      } catch (e) {
        assert.ok(e instanceof CorruptChunkError, `bit ${bitIndex}: ${e}`);
      }
    }
  },
);

test("decodeChunk() returns arrays that do not overlap, and a second decode does not change the first's", () => {
  const e = new ChunkEncoder(2);
  e.appendRow(1000, [1, 2]);
  e.appendRow(2000, [3, 4]);
  const a = decodeChunk(e.finish());
  const f = new ChunkEncoder(2);
  f.appendRow(5000, [9, 9]);
  decodeChunk(f.finish());
  a.t[0] = -1;
  a.columns[0][1] = -3;
  assert.deepEqual([...a.t], [-1, 2000]);
  assert.deepEqual([...a.columns[0]], [1, -3]);
  assert.deepEqual([...a.columns[1]], [2, 4]);
});

test("RowBuffer decodes each chunk as decodeChunk() does, bit for bit, reused across chunks of other columns and lengths (nothing of an earlier chunk shows)", () => {
  const r = rng(29);
  const rows = new RowBuffer();
  const bits = (a: Float64Array, n: number) =>
    [...new Uint32Array(a.buffer, a.byteOffset, 2 * n)].join(",");
  for (let round = 0; round < 300; round++) {
    const cols = 1 + Math.floor(r() * 7);
    const n = Math.floor(r() * (r() < 0.1 ? 200 : 12));
    const e = new ChunkEncoder(cols);
    const row = new Float64Array(cols);
    const words = new Uint32Array(row.buffer);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < cols; c++) {
        const k = r();
        // Zeros first (the codec's "same as before" bit before any value),
        // repeats, integers, floats, -0 and the stale marker.
        row[c] = k < 0.3
          ? 0
          : k < 0.5
          ? row[c]
          : k < 0.7
          ? Math.floor(r() * 1000)
          : k < 0.9
          ? r() * 1e6
          : -0;
        if (r() < 0.02) {
          words[2 * c + HI] = 0x7ff00000;
          words[2 * c + (1 - HI)] = 2;
        }
      }
      e.appendRow(1000 * (i + 1) + (r() < 0.1 ? 7 : 0), row);
    }
    const bytes = e.finish();
    // Inside a bigger buffer, as an open chunk's copy is.
    const padded = new Uint8Array(bytes.length + 9).fill(0xff);
    padded.set(bytes);
    const want = decodeChunk(bytes);
    assert.equal(rows.decode(padded, bytes.length), n, `round ${round}`);
    assert.equal(rows.columns.length, cols);
    assert.equal(bits(rows.t, n), bits(want.t, n), `round ${round}: times`);
    for (let c = 0; c < cols; c++) {
      assert.equal(
        bits(rows.columns[c], n),
        bits(want.columns[c], n),
        `round ${round}: column ${c}`,
      );
    }
  }
  assert.throws(
    () => rows.decode(new Uint8Array([1, 1, 0]), 2),
    CorruptChunkError,
  );
});

test("decodeChunk() refuses what is not a Uint8Array", () => {
  assert.throws(
    () => decodeChunk([1, 1, 0] as unknown as Uint8Array),
    TypeError,
  );
});

/**
 * Samples as weir's sampler writes them: times on the tick (now and then
 * a late one), counters whose difference changes by a little or a lot
 * (and resets), constants, and now and then a stale marker.
 */
function weirCase(r: () => number, n: number): Case {
  const t = new Float64Array(n);
  const col = new Float64Array(n);
  const words = new Uint32Array(col.buffer);
  const kind = Math.floor(r() * 4);
  let now = 1_700_000_000_000 + Math.floor(r() * 1e6) * 1000;
  let acc = Math.floor(r() * 1e6);
  const rate = Math.floor(r() * 50);
  for (let i = 0; i < n; i++) {
    t[i] = now;
    now += r() < 0.98 ? 1000 : 1000 + Math.floor(r() * 3000);
    if (kind === 0) acc += rate + Math.floor(r() * 7); // steady counter
    else if (kind === 1) acc += Math.floor(r() * (r() < 0.9 ? 200 : 1e5));
    else if (kind === 2) acc = r() < 0.97 ? acc : acc + 1; // mostly constant
    else acc = r() < 0.02 ? 0 : acc + Math.floor(r() * 20); // resets
    col[i] = acc;
    if (r() < 0.01) {
      words[2 * i + HI] = 0x7ff00000; // the stale marker
      words[2 * i + LO] = 2;
    }
  }
  return { t, columns: [col] };
}

test(
  "decodeSamplesInto() writes a chunk's samples bit for bit at any offset of used arrays, from inside a bigger buffer (6,000 seeded cases)",
  { timeout: 120_000 },
  () => {
    const r = rng(31);
    const t = new Float64Array(1000);
    const v = new Float64Array(1000);
    for (let n = 0; n < 6_000; n++) {
      const size = Math.floor(r() * 400);
      const c = n % 2 === 0 ? weirCase(r, size) : makeCase(r, size, 1);
      const at = Math.floor(r() * (1000 - size));
      t.fill(-1);
      v.fill(NaN);
      // The chunk in the middle of a bigger buffer, as a ring holds it.
      const bytes = encodeRows(c).finish();
      const buf = new Uint8Array(bytes.length + 10).fill(0xa5);
      buf.set(bytes, 7);
      const found = { from: 7, to: 7 + bytes.length, nan: false };
      const got = decodeSamplesInto(buf, t, v, at, found);
      assert.equal(got, size, `case ${n}`);
      assertSame(
        {
          t: t.slice(at, at + size),
          columns: [new Float64Array(v.buffer, 8 * at, size).slice()],
        },
        c,
        size,
        `case ${n}`,
      );
      assert.equal(t[at - 1] ?? -1, -1, `case ${n}: before`);
      assert.equal(t[at + size] ?? -1, -1, `case ${n}: after`);
      assert.equal(found.nan, c.columns[0].some((x) => x !== x), `case ${n}`);
    }
  },
);

test(
  "decodeSamplesInto() of every flipped bit and every cut of weir-like chunks: refused, or the header's count in time order",
  { timeout: 120_000 },
  () => {
    const r = rng(32);
    const t = new Float64Array(400);
    const v = new Float64Array(400);
    let refused = 0;
    let tried = 0;
    for (let n = 0; n < 40; n++) {
      const bytes = encodeRows(weirCase(r, 1 + Math.floor(r() * 150)))
        .finish();
      const variants: Uint8Array[] = [];
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const b = bytes.slice();
        b[bit >> 3] ^= 0x80 >> (bit & 7);
        variants.push(b);
      }
      for (let cut = 0; cut < bytes.length; cut++) {
        variants.push(bytes.subarray(0, cut));
      }
      for (const b of variants) {
        tried++;
        try {
          const got = decodeSamplesInto(b, t, v, 0);
          assert.equal(got, decodeChunk(b).t.length);
          for (let i = 1; i < got; i++) assert.ok(t[i] >= t[i - 1]);
        } catch (e) {
          assert.ok(e instanceof CorruptChunkError, String(e));
          refused++;
        }
      }
    }
    assert.ok(refused > tried / 2, `${refused} of ${tried} refused`);
  },
);

test("decodeSamplesInto() refuses a chunk of several columns, and samples that do not fit", () => {
  const rows = new ChunkEncoder(2);
  rows.appendRow(1000, [1, 2]);
  const e = new ChunkEncoder();
  for (let i = 0; i < 5; i++) e.append(1000 * i, i);
  const t = new Float64Array(6);
  const v = new Float64Array(6);
  assert.throws(
    () => decodeSamplesInto(rows.finish(), t, v, 0),
    /2 columns, expected 1/,
  );
  assert.throws(
    () => decodeSamplesInto(e.finish(), t, v, 2),
    /its 5 samples do not fit from index 2 of 6/,
  );
  assert.equal(decodeSamplesInto(e.finish(), t, v, 1), 5);
  assert.deepEqual([...v.subarray(1)], [0, 1, 2, 3, 4]);
});
