import assert from "node:assert/strict";
import { test } from "node:test";
import snappy from "snappyjs";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { decodeWriteRequest } from "./_remote_write_decode.ts";
import {
  encodeLabels,
  snappyCompress,
  WriteRequestEncoder,
} from "../../src/history/remote_write_proto.ts";
import type { SeriesLabels } from "../../src/history/types.ts";
import { seededRandom } from "../_seeded_random.ts";

const STALE = 0x7ff0000000000002n;

/** A Float64Array holding the given 64-bit patterns. */
function fromBits(bits: bigint[]): Float64Array {
  const v = new Float64Array(bits.length);
  new BigUint64Array(v.buffer).set(bits);
  return v;
}

/** A number's 64 bits. */
function bitsOf(x: number): bigint {
  return new BigUint64Array(new Float64Array([x]).buffer)[0];
}

/** One series' bytes from a fresh encoder. */
function encodeOne(
  labels: SeriesLabels,
  t: number[],
  v: Float64Array,
): Uint8Array {
  const e = new WriteRequestEncoder();
  e.addSeries(encodeLabels(labels), new Float64Array(t), v, 0, t.length);
  return e.bytes().slice();
}

/** Labels in UTF-8 byte order, computed independently of the encoder. */
function byteSorted(labels: [string, string][]): [string, string][] {
  const enc = new TextEncoder();
  return [...labels].sort(([a], [b]) => {
    const x = enc.encode(a);
    const y = enc.encode(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i] - y[i];
    }
    return x.length - y.length;
  });
}

function labelsOf(bytes: Uint8Array): [string, string][] {
  const e = new WriteRequestEncoder();
  e.addSeries(bytes, new Float64Array(0), new Float64Array(0), 0, 0);
  return decodeWriteRequest(e.bytes())[0].labels;
}

test("encodeLabels() sorts names in UTF-8 byte order, not JS code-unit order", () => {
  const labels = {
    "\u{1F600}": "astral",
    "\uFF5E": "bmp",
    "a": "1",
    "Z": "2",
    "__name__": "m",
    "ab": "3",
  };
  const got = labelsOf(encodeLabels(labels));
  assert.deepEqual(got, byteSorted(Object.entries(labels)));
  assert.deepEqual(got.map(([n]) => n), [
    "Z",
    "__name__",
    "a",
    "ab",
    "\uFF5E",
    "\u{1F600}",
  ]);
});

test("encodeLabels() writes label values as UTF-8 (é, emoji, CJK)", () => {
  const labels = { __name__: "café_total", flow: "é🚀漢字", x: "🚀" };
  assert.deepEqual(
    labelsOf(encodeLabels(labels)),
    byteSorted(Object.entries(labels)),
  );
});

test("encodeLabels() adds external labels the series lacks, and the series' own label wins", () => {
  const got = labelsOf(
    encodeLabels(
      { __name__: "up", job: "flow", zone: "" },
      { job: "weir", instance: "edge-1", zone: "eu" },
    ),
  );
  assert.deepEqual(got, [
    ["__name__", "up"],
    ["instance", "edge-1"],
    ["job", "flow"],
    ["zone", "eu"],
  ]);
});

test("encodeLabels() leaves out labels with an empty value, the series' and external ones", () => {
  const got = labelsOf(
    encodeLabels({ __name__: "up", a: "", b: "1" }, { c: "", d: "2" }),
  );
  assert.deepEqual(got, [["__name__", "up"], ["b", "1"], ["d", "2"]]);
  assert.equal(encodeLabels({ a: "" }).length, 0);
  assert.equal(encodeLabels({}).length, 0);
});

test("encodeLabels() writes a label longer than 127 bytes with multi-byte varint lengths", () => {
  const long = "v".repeat(300) + "é".repeat(100);
  assert.deepEqual(labelsOf(encodeLabels({ n: long })), [["n", long]]);
});

test("addSeries() writes timestamps exactly: 0, varint boundaries, 1.8e12, 2^53-1", () => {
  const t = [
    0,
    1,
    127,
    128,
    2 ** 14 - 1,
    2 ** 14,
    2 ** 28,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 35 - 1,
    2 ** 35,
    1.8e12,
    1_700_000_000_123,
    2 ** 42,
    2 ** 49,
    2 ** 53 - 1,
  ];
  const v = new Float64Array(t.map((_, i) => i));
  const [series] = decodeWriteRequest(encodeOne({ __name__: "x" }, t, v));
  assert.deepEqual(series.samples.map((s) => s.t), t);
  assert.deepEqual(series.samples.map((s) => s.value), [...v]);
});

test("addSeries() writes a negative timestamp as a 10-byte two's complement int64", () => {
  const t = [-1, -1000, -(2 ** 32), -(2 ** 32) - 1, -(2 ** 53 - 1)];
  const [series] = decodeWriteRequest(
    encodeOne({ __name__: "x" }, t, new Float64Array(t.length)),
  );
  assert.deepEqual(series.samples.map((s) => s.t), t);
  const one = encodeOne({}, [-1], new Float64Array(1));
  // Sample: tag, 8 bytes, tag, 10 bytes of varint.
  assert.deepEqual(
    [...one.subarray(-10)],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  );
  assert.equal(one[3], 20); // the Sample's length
});

test("addSeries() copies a value's exact bits: the stale marker, other NaNs, -0, ±Infinity", () => {
  const bits = [
    STALE,
    0x7ff8000000000000n, // the canonical NaN
    0xfff8000000000001n, // a negative quiet NaN with a payload
    0x7ff0000000000001n, // a signalling NaN
    bitsOf(-0),
    bitsOf(Infinity),
    bitsOf(-Infinity),
    1n, // the smallest subnormal
    bitsOf(Number.MAX_VALUE),
    bitsOf(0.1),
  ];
  const t = bits.map((_, i) => 1.8e12 + i * 1000);
  const [series] = decodeWriteRequest(
    encodeOne({ __name__: "x" }, t, fromBits(bits)),
  );
  assert.deepEqual(series.samples.map((s) => s.bits), bits);
  assert.ok(Object.is(series.samples[4].value, -0));
  assert.equal(series.samples[5].value, Infinity);
  assert.equal(series.samples[6].value, -Infinity);
});

test("addSeries() writes samples [from, to) of arrays that are views at an offset", () => {
  const buffer = new ArrayBuffer(8 * 20);
  const t = new Float64Array(buffer, 8 * 3, 6);
  const v = new Float64Array(buffer, 8 * 10, 6);
  for (let i = 0; i < 6; i++) {
    t[i] = 1000 * (i + 1);
    v[i] = i + 0.5;
  }
  const e = new WriteRequestEncoder();
  e.addSeries(encodeLabels({ __name__: "x" }), t, v, 2, 5);
  const [series] = decodeWriteRequest(e.bytes());
  assert.deepEqual(series.samples.map((s) => [s.t, s.value]), [
    [3000, 2.5],
    [4000, 3.5],
    [5000, 4.5],
  ]);
  assert.equal(e.samples, 3);
});

test("addSeries() keeps series in the order added, and counts series, samples and bytes", () => {
  const e = new WriteRequestEncoder();
  const n = 500;
  for (let s = 0; s < n; s++) {
    const labels = encodeLabels({ __name__: "m", id: String(s) });
    const t = new Float64Array([1.8e12, 1.8e12 + 1000, 1.8e12 + s]);
    e.addSeries(labels, t, new Float64Array([s, -s, s / 3]), 0, s % 4);
  }
  const decoded = decodeWriteRequest(e.bytes());
  assert.equal(decoded.length, n);
  assert.equal(e.series, n);
  let samples = 0;
  for (let s = 0; s < n; s++) {
    assert.deepEqual(decoded[s].labels, [["__name__", "m"], ["id", String(s)]]);
    const want = [[1.8e12, s], [1.8e12 + 1000, -s], [1.8e12 + s, s / 3]]
      .slice(0, s % 4);
    assert.deepEqual(decoded[s].samples.map((x) => [x.t, x.value]), want);
    samples += want.length;
  }
  assert.equal(e.samples, samples);
  assert.equal(e.byteLength, e.bytes().length);
});

test("reset() starts a new request: the same bytes as a fresh encoder's", () => {
  const labels = encodeLabels({ __name__: "up", job: "weir" });
  const t = new Float64Array([1.8e12, 1.8e12 + 1000]);
  const v = new Float64Array([1, 2]);
  const e = new WriteRequestEncoder();
  for (let i = 0; i < 50; i++) e.addSeries(labels, t, v, 0, 2);
  e.reset();
  assert.equal(e.byteLength, 0);
  assert.equal(e.series, 0);
  assert.equal(e.samples, 0);
  e.addSeries(labels, t, v, 1, 2);
  const fresh = new WriteRequestEncoder();
  fresh.addSeries(labels, t, v, 1, 2);
  assert.deepEqual(e.bytes(), fresh.bytes());
  assert.equal(e.samples, 1);
});

test("the buffer grows beyond initialBytes and keeps what was written", () => {
  const small = new WriteRequestEncoder(1);
  const large = new WriteRequestEncoder(1 << 20);
  const t = new Float64Array(1000).map((_, i) => 1.8e12 + i * 1000);
  const v = new Float64Array(1000).map((_, i) => i * 1.25);
  for (let s = 0; s < 40; s++) {
    const labels = encodeLabels({ __name__: "grow", s: String(s) });
    small.addSeries(labels, t, v, 0, 25 * s);
    large.addSeries(labels, t, v, 0, 25 * s);
  }
  assert.ok(small.byteLength > 100_000);
  assert.deepEqual(small.bytes(), large.bytes());
  assert.equal(decodeWriteRequest(small.bytes()).length, 40);
});

test("addSeries() refuses a range outside the arrays or a bad timestamp, adding nothing", () => {
  const e = new WriteRequestEncoder();
  const labels = encodeLabels({ __name__: "x" });
  const t = new Float64Array([1000, 2000]);
  const v = new Float64Array([1, 2]);
  e.addSeries(labels, t, v, 0, 1);
  const before = e.bytes().slice();
  const bad: [Float64Array, Float64Array, number, number][] = [
    [t, v, -1, 1],
    [t, v, 1, 0],
    [t, v, 0, 3],
    [t, v.subarray(1), 0, 2],
    [t, v, 0.5, 1],
    [new Float64Array([1000, 1000.5]), v, 0, 2],
    [new Float64Array([NaN]), v, 0, 1],
    [new Float64Array([Infinity]), v, 0, 1],
    [new Float64Array([2 ** 53]), v, 0, 1],
    [new Float64Array([-(2 ** 53)]), v, 0, 1],
  ];
  for (const [bt, bv, from, to] of bad) {
    assert.throws(() => e.addSeries(labels, bt, bv, from, to), RangeError);
  }
  assert.deepEqual(e.bytes(), before);
  assert.equal(e.series, 1);
  assert.equal(e.samples, 1);
});

test("new WriteRequestEncoder() refuses an initialBytes that is not a positive integer", () => {
  for (const n of [0, -1, 1.5, NaN]) {
    assert.throws(() => new WriteRequestEncoder(n), RangeError);
  }
});

test("snappyCompress() output uncompresses to the request, stale marker included", () => {
  const e = new WriteRequestEncoder();
  for (let s = 0; s < 200; s++) {
    const t = new Float64Array(10).map((_, i) => 1.8e12 + i * 1000);
    const v = new Float64Array(10).map((_, i) => s * 10 + i);
    new BigUint64Array(v.buffer)[9] = STALE;
    e.addSeries(
      encodeLabels({ __name__: "weir_messages_total", flow: `f${s}` }),
      t,
      v,
      0,
      10,
    );
  }
  const compressed = snappyCompress(e.bytes());
  assert.ok(compressed instanceof Uint8Array);
  assert.ok(compressed.length < e.byteLength);
  const back = snappy.uncompress(compressed);
  assert.deepEqual(back, e.bytes());
  const decoded = decodeWriteRequest(back);
  assert.equal(decoded[199].samples[9].bits, STALE);
  assert.equal(decoded[199].samples[8].value, 1998);
  assert.deepEqual(
    snappy.uncompress(snappyCompress(new Uint8Array(0))),
    new Uint8Array(0),
  );
});

/** The same request through @bufbuild/protobuf's writer (numbers, so no NaN payloads). */
function bufbuildRequest(
  series: { labels: [string, string][]; t: number[]; v: number[] }[],
): Uint8Array {
  const w = new BinaryWriter();
  for (const s of series) {
    w.tag(1, WireType.LengthDelimited).fork();
    for (const [name, value] of s.labels) {
      w.tag(1, WireType.LengthDelimited).fork();
      w.tag(1, WireType.LengthDelimited).string(name);
      w.tag(2, WireType.LengthDelimited).string(value);
      w.join();
    }
    for (let i = 0; i < s.t.length; i++) {
      w.tag(2, WireType.LengthDelimited).fork();
      w.tag(1, WireType.Bit64).double(s.v[i]);
      w.tag(2, WireType.Varint).int64(s.t[i]);
      w.join();
    }
    w.join();
  }
  return w.finish();
}

test("random requests decode to what was added, and match @bufbuild/protobuf's bytes (property)", () => {
  const alphabet = ["a", "b", "_", "Z", "0", "é", "🚀", "漢", "\uFF5E"];
  for (let seed = 1; seed <= 60; seed++) {
    const r = seededRandom(seed);
    const int = (n: number) => Math.floor(r() * n);
    const str = (max: number) => {
      let s = "";
      for (let n = int(max + 1); n > 0; n--) {
        s += alphabet[int(alphabet.length)];
      }
      return s;
    };
    // Even seeds add NaNs (with payloads) and random bit patterns.
    const nans = seed % 2 === 0;
    const e = new WriteRequestEncoder(1 + int(256));
    const want: { labels: [string, string][]; t: number[]; v: number[] }[] = [];
    const wantBits: bigint[][] = [];
    for (let s = int(30); s > 0; s--) {
      const labels: Record<string, string> = {};
      for (let l = int(6); l > 0; l--) labels[str(8) || "n"] = str(12);
      const external: Record<string, string> = {};
      for (let l = int(3); l > 0; l--) external[str(3) || "x"] = str(4);
      const n = int(40);
      const from = int(5);
      const t = new Float64Array(from + n + int(5));
      const v = new Float64Array(t.length);
      const bits = new BigUint64Array(v.buffer);
      for (let i = 0; i < t.length; i++) {
        const kind = int(10);
        t[i] = kind === 0
          ? -int(2 ** 53 - 1)
          : kind === 1
          ? int(2 ** 53)
          : kind === 2
          ? int(200)
          : 1.8e12 + int(1e9);
        const vk = int(8);
        if (nans && vk === 0) bits[i] = STALE;
        else if (vk === 1) v[i] = int(1e6);
        else if (nans && vk === 2) {
          bits[i] = (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32));
        } else v[i] = (r() - 0.5) * 10 ** int(20);
      }
      const merged = new Map<string, string>();
      for (const [k, x] of Object.entries(labels)) if (x) merged.set(k, x);
      for (const [k, x] of Object.entries(external)) {
        if (x && !merged.has(k)) merged.set(k, x);
      }
      e.addSeries(encodeLabels(labels, external), t, v, from, from + n);
      want.push({
        labels: byteSorted([...merged]),
        t: [...t.subarray(from, from + n)],
        v: [...v.subarray(from, from + n)],
      });
      wantBits.push([...bits.subarray(from, from + n)]);
    }
    const decoded = decodeWriteRequest(e.bytes());
    assert.equal(decoded.length, want.length, `seed ${seed}`);
    assert.equal(e.series, want.length);
    assert.equal(e.samples, want.reduce((n, s) => n + s.t.length, 0));
    for (let s = 0; s < want.length; s++) {
      assert.deepEqual(decoded[s].labels, want[s].labels, `seed ${seed}`);
      assert.deepEqual(decoded[s].samples.map((x) => x.t), want[s].t);
      assert.deepEqual(decoded[s].samples.map((x) => x.bits), wantBits[s]);
    }
    // A NaN through a JS number may lose its payload, so compare the
    // bytes with @bufbuild/protobuf's only for requests without a NaN.
    if (!nans) {
      assert.deepEqual(e.bytes(), bufbuildRequest(want), `seed ${seed}`);
    }
    assert.deepEqual(snappy.uncompress(snappyCompress(e.bytes())), e.bytes());
  }
});

test("addSeries() writes each series' own times when series share some times at the same places and not others", () => {
  // The encoder keeps the varints of the last times seen at each place of
  // a series; a series whose time at a place differs must not get them.
  const e = new WriteRequestEncoder();
  const base = 1_764_900_000_000;
  const times: number[][] = [
    Array.from({ length: 20 }, (_, i) => base + 1000 * i),
    Array.from({ length: 20 }, (_, i) => base + 1000 * i),
    Array.from(
      { length: 20 },
      (_, i) => base + 1000 * i + (i % 3 === 0 ? 1 : 0),
    ),
    [base, 2 ** 40 + 5, 5, base + 1000],
    Array.from({ length: 18 }, (_, i) => base + 1000 * (i + 2)),
    Array.from({ length: 20 }, (_, i) => base + 1000 * i),
  ];
  const labels = new Uint8Array([
    ...encodeLabels({ __name__: "a" }),
    ...encodeLabels({ __name__: "b" }),
  ]);
  const a = encodeLabels({ __name__: "a" }).length;
  for (const [k, t] of times.entries()) {
    const v = Float64Array.from(t, (_, i) => k * 100 + i);
    if (k % 2 === 0) {
      e.addSeries(
        encodeLabels({ __name__: "a" }),
        new Float64Array(t),
        v,
        0,
        t.length,
      );
    } else {e.addSeriesAt(
        labels,
        a,
        labels.length,
        new Float64Array(t),
        v,
        0,
        t.length,
      );}
  }
  const decoded = decodeWriteRequest(e.bytes());
  assert.deepEqual(decoded.map((s) => s.samples.map((x) => x.t)), times);
  assert.deepEqual(
    decoded.map((s) => s.labels[0][1]),
    ["a", "b", "a", "b", "a", "b"],
  );
  assert.deepEqual(decoded[3].samples.map((x) => x.value), [
    300,
    301,
    302,
    303,
  ]);
});
