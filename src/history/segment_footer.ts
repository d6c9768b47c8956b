/**
 * A closed segment's index, written as the last record of its file (the
 * footer; `segments.ts` describes the segment files), and the cache of
 * footers read back, bounded in bytes.
 *
 * The footer is one framed record (`record_frame.ts`) whose payload is:
 *
 * | bytes | what |
 * |---|---|
 * | 0 | record type 2 (a chunk record is 1: older readers skip this one) |
 * | 1 | footer version, 1 |
 * | 2..6 | the widths of the five columns below, in bytes (1, 2, 4: an unsigned integer; 8: a float64) |
 * | 7 | 0 |
 * | 8..15 | `base`, the segment's first time (f64, ms) |
 * | 16..23 | the segment's last time (f64, ms) |
 * | 24..31 | `unit` (f64, ms): the times below are in units of it |
 * | 32..39 | `dataEnd` (f64): where this record starts in the file, after every chunk record |
 * | 40..43 | `n`, the entries (u32) |
 * | 44..47 | 0 |
 * | 48.. | five columns of `n` values each, every column starting on a multiple of 8 (zeros between): the series id, where the chunk's bytes start in the file, their length, its first time as `(minT - base) / unit`, and its last time as `(maxT - minT) / unit` |
 * | last 4 | the payload's length again (u32): read from the file's end, it says where the footer starts |
 *
 * All numbers little-endian. Entries are sorted by (id, first time), so
 * the entries of a set of ids are found by binary search, and the columns
 * are read in place as typed arrays (the record is read into a buffer of
 * its own, so the 8-byte record header keeps the columns aligned).
 * `unit` is the greatest common divisor of the times (1 when one is not
 * an integer), so sampled times on a round grid need narrower columns.
 *
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import { crc32 } from "./crc32.ts";
import { MAX_PAYLOAD_BYTES, RECORD_HEADER_BYTES } from "./record_frame.ts";

/** The record type of a footer (a chunk record is 1). */
export const FOOTER_RECORD = 2;
const FOOTER_VERSION = 1;
/** Payload bytes before the columns. */
const HEAD = 48;
/** Payload bytes after the columns: the length again. */
const TAIL = 4;
/** The record header's marker byte (`record_frame.ts`). */
const MARKER = 0xa7;
/** Bytes of a footer that do not depend on the entries, at most (the column padding included). */
const FIXED_BYTES = RECORD_HEADER_BYTES + HEAD + TAIL + 5 * 7;
/** The most an entry takes in a footer: 8 (id) + 8 (offset) + 4 (length) + 8 + 8 (times). */
export const FOOTER_ENTRY_MAX_BYTES = 36;
/** The default bound of a {@linkcode FooterCache}: 8 MiB. */
export const DEFAULT_FOOTER_CACHE_BYTES = 8 * 1024 * 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The most bytes a footer of `n` entries takes, whatever its entries:
 * what the byte budget counts for a segment still taking chunks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFooter, footerBound } from "./segment_footer.ts";
 *
 * const e = { n: 1, id: () => 2 ** 40, minT: () => 0.5, maxT: () => 1e300, from: () => 2 ** 40, to: () => 2 ** 40 + 70_000 };
 * assert.ok(encodeFooter(e, 2 ** 41).length <= footerBound(1));
 * ```
 */
export function footerBound(n: number): number {
  return FIXED_BYTES + n * FOOTER_ENTRY_MAX_BYTES;
}

/** The entries a footer is built from (`SegmentIndex` is one), in file order. */
export interface FooterEntries {
  /** Entries. */
  readonly n: number;
  /** Entry k's series id. */
  id(k: number): number;
  /** Entry k's first time. */
  minT(k: number): number;
  /** Entry k's last time. */
  maxT(k: number): number;
  /** Where entry k's chunk bytes start in the file. */
  from(k: number): number;
  /** Where they end. */
  to(k: number): number;
}

/** The narrowest width that holds the unsigned integers up to `max` (8: a float64). */
function _width(max: number, integers: boolean, min = 1): number {
  if (!integers) return 8;
  for (const w of [1, 2, 4]) {
    if (w >= min && max < 2 ** (8 * w)) return w;
  }
  return 8;
}

function _gcd(a: number, b: number): number {
  // No `[a, b] = [b, a % b]`: Deno made an array of each step (17 KB of
  // garbage a sampling pass at 100 x 10, from the footers of a flush).
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

function _pad8(n: number): number {
  return (n + 7) & ~7;
}

function _set(
  view: DataView,
  at: number,
  width: number,
  k: number,
  v: number,
): void {
  const p = at + k * width;
  if (width === 1) view.setUint8(p, v);
  else if (width === 2) view.setUint16(p, v, true);
  else if (width === 4) view.setUint32(p, v, true);
  else view.setFloat64(p, v, true);
}

/**
 * Encodes the footer record of a segment whose chunk records end at
 * `dataEnd` (where the footer will start): the whole framed record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFooter, Footer } from "./segment_footer.ts";
 *
 * const at = [0, 40, 90], len = [30, 40, 20], id = [9, 3, 9];
 * const e = { n: 3, id: (k: number) => id[k], minT: (k: number) => 60_000 * k, maxT: (k: number) => 60_000 * k + 120_000, from: (k: number) => at[k] + 10, to: (k: number) => at[k] + 10 + len[k] };
 * const f = Footer.parse(encodeFooter(e, 120), 120)!;
 * assert.deepEqual([f.n, f.id(0), f.id(1), f.minT(2), f.maxT(2), f.from(2), f.to(2)], [3, 3, 9, 120_000, 240_000, 100, 120]);
 * ```
 */
export function encodeFooter(e: FooterEntries, dataEnd: number): Uint8Array {
  const n = e.n;
  // The sort keys copied out (the sort reads them n log n times); the
  // other columns are read from `e` (three more copies were 720 KB of
  // garbage a footer of 30,000 chunks).
  const id = new Float64Array(n);
  const minT = new Float64Array(n);
  let base = Infinity;
  let last = -Infinity;
  for (let k = 0; k < n; k++) {
    id[k] = e.id(k);
    minT[k] = e.minT(k);
    const maxT = e.maxT(k);
    if (minT[k] < base) base = minT[k];
    if (maxT > last) last = maxT;
  }
  if (n === 0) base = last = 0;
  // One unit for both time columns: the greatest common divisor of them.
  let unit = 0;
  let integers = true;
  for (let k = 0; k < n && integers; k++) {
    const a = minT[k] - base;
    const b = e.maxT(k) - minT[k];
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < 0) {
      integers = false;
    } else unit = _gcd(_gcd(unit, a), b);
  }
  if (!integers || unit === 0) unit = 1;
  let maxId = 0;
  let maxAt = 0;
  let maxLen = 0;
  let maxMin = 0;
  let maxSpan = 0;
  for (let k = 0; k < n; k++) {
    const at = e.from(k);
    const len = e.to(k) - at;
    if (id[k] > maxId) maxId = id[k];
    if (at > maxAt) maxAt = at;
    if (len > maxLen) maxLen = len;
    const m = (minT[k] - base) / unit;
    const s = (e.maxT(k) - minT[k]) / unit;
    if (m > maxMin) maxMin = m;
    if (s > maxSpan) maxSpan = s;
  }
  const widths = [
    _width(maxId, true, 2),
    _width(maxAt, true, 4),
    _width(maxLen, true),
    _width(maxMin, integers),
    _width(maxSpan, integers),
  ];
  // Sorted by (id, first time); file order among equals.
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  order.sort((a, b) => id[a] - id[b] || minT[a] - minT[b] || a - b);
  const starts: number[] = [];
  let size = HEAD;
  for (const w of widths) {
    size = _pad8(size);
    starts.push(RECORD_HEADER_BYTES + size);
    size += w * n;
  }
  const payload = size + TAIL;
  if (payload > MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `Cannot write a segment footer: its ${n} entries take ${payload} bytes, more than a record holds (${MAX_PAYLOAD_BYTES})`,
    );
  }
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload);
  const view = new DataView(out.buffer);
  const p = RECORD_HEADER_BYTES;
  view.setUint8(p, FOOTER_RECORD);
  view.setUint8(p + 1, FOOTER_VERSION);
  widths.forEach((w, c) => view.setUint8(p + 2 + c, w));
  view.setFloat64(p + 8, base, true);
  view.setFloat64(p + 16, last, true);
  view.setFloat64(p + 24, unit, true);
  view.setFloat64(p + 32, dataEnd, true);
  view.setUint32(p + 40, n, true);
  for (let j = 0; j < n; j++) {
    const k = order[j];
    const at = e.from(k);
    _set(view, starts[0], widths[0], j, id[k]);
    _set(view, starts[1], widths[1], j, at);
    _set(view, starts[2], widths[2], j, e.to(k) - at);
    _set(view, starts[3], widths[3], j, (minT[k] - base) / unit);
    _set(view, starts[4], widths[4], j, (e.maxT(k) - minT[k]) / unit);
  }
  view.setUint32(out.length - TAIL, payload, true);
  view.setUint32(0, ((MARKER << 24) | payload) >>> 0, true);
  view.setUint32(4, crc32(out, RECORD_HEADER_BYTES, out.length), true);
  return out;
}

type _Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** A column of `n` values of `width` bytes at `at` of `record` (8-aligned in its buffer). */
function _column(
  record: Uint8Array,
  at: number,
  width: number,
  n: number,
): _Column | undefined {
  const Type = width === 1
    ? Uint8Array
    : width === 2
    ? Uint16Array
    : width === 4
    ? Uint32Array
    : width === 8
    ? Float64Array
    : undefined;
  if (!Type) return undefined;
  if (LITTLE_ENDIAN) {
    return new Type(record.buffer as ArrayBuffer, record.byteOffset + at, n);
  }
  // A big-endian host: the values are copied out.
  const view = new DataView(record.buffer, record.byteOffset);
  const out = new Type(n);
  for (let k = 0; k < n; k++) {
    const p = at + k * width;
    out[k] = width === 1
      ? view.getUint8(p)
      : width === 2
      ? view.getUint16(p, true)
      : width === 4
      ? view.getUint32(p, true)
      : view.getFloat64(p, true);
  }
  return out;
}

/**
 * Step windows a read keeps chunks for: a chunk spanning `minT..maxT`
 * reaches them when the first end at or after `minT` (ascending `ends`)
 * is at most `reachMs` after `maxT` (the test of the store's
 * `Steps.overlaps`).
 */
export interface StepWindows {
  /** The windows' ends, ascending. */
  readonly ends: Float64Array;
  /** How far back from its end a window reaches. */
  readonly reachMs: number;
}

/**
 * The test of {@linkcode StepWindows} with a cursor: chunks asked in
 * ascending `minT` (a series' entries in a footer) advance it; a lower
 * `minT` (the next series) searches again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WindowCursor } from "./segment_footer.ts";
 *
 * const w = new WindowCursor({ ends: new Float64Array([100, 200, 300]), reachMs: 10 });
 * assert.deepEqual([w.reaches(0, 50), w.reaches(60, 95), w.reaches(150, 190), w.reaches(0, 90)], [false, true, true, true]);
 * assert.equal(w.reaches(301, 400), false);
 * ```
 */
export class WindowCursor {
  readonly #ends: Float64Array;
  readonly #reach: number;
  #i = 0;
  #last = Infinity;

  /** @param windows the step windows */
  constructor(windows: StepWindows) {
    this.#ends = windows.ends;
    this.#reach = windows.reachMs;
  }

  /** Whether a chunk spanning `minT..maxT` reaches a window. */
  reaches(minT: number, maxT: number): boolean {
    const ends = this.#ends;
    const n = ends.length;
    let i = this.#i;
    if (minT < this.#last) {
      i = 0;
      let hi = n;
      while (i < hi) {
        const mid = (i + hi) >>> 1;
        if (ends[mid] < minT) i = mid + 1;
        else hi = mid;
      }
    } else while (i < n && ends[i] < minT) i++;
    this.#i = i;
    this.#last = minT;
    return i < n && ends[i] - this.#reach <= maxT;
  }
}

/**
 * `overlaps` as a test: itself, or for step windows their test through a
 * {@linkcode WindowCursor}; undefined for undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlapsTest } from "./segment_footer.ts";
 *
 * const test = overlapsTest({ ends: new Float64Array([100]), reachMs: 10 })!;
 * assert.deepEqual([test(0, 89), test(0, 90)], [false, true]);
 * assert.equal(overlapsTest(undefined), undefined);
 * ```
 */
export function overlapsTest(
  overlaps: ((minT: number, maxT: number) => boolean) | StepWindows | undefined,
): ((minT: number, maxT: number) => boolean) | undefined {
  if (overlaps === undefined || typeof overlaps === "function") return overlaps;
  const cursor = new WindowCursor(overlaps);
  return (minT, maxT) => cursor.reaches(minT, maxT);
}

/**
 * A segment's footer read back: its entries, sorted by (id, first time),
 * read in place from the record's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFooter, Footer } from "./segment_footer.ts";
 *
 * const e = { n: 4, id: (k: number) => [5, 1, 5, 8][k], minT: (k: number) => 1000 * k, maxT: (k: number) => 1000 * k + 500, from: (k: number) => 100 * k, to: (k: number) => 100 * k + 90 };
 * const f = Footer.parse(encodeFooter(e, 400), 400)!;
 * const seen: number[] = [];
 * f.pick([5, 8], 0, 2600, (k) => seen.push(f.id(k), f.minT(k)));
 * assert.deepEqual(seen, [5, 0, 5, 2000]);
 * assert.equal(Footer.parse(new Uint8Array(64), 0), undefined);
 * ```
 */
export class Footer {
  /** Entries. */
  readonly n: number;
  /** The segment's first time. */
  readonly base: number;
  /** The segment's last time. */
  readonly last: number;
  /** Where the chunk records end and the footer starts in the file. */
  readonly dataEnd: number;
  /** The whole record (its header included). */
  readonly bytes: Uint8Array;
  readonly #unit: number;
  readonly #id: _Column;
  readonly #at: _Column;
  readonly #len: _Column;
  readonly #min: _Column;
  readonly #span: _Column;

  private constructor(
    bytes: Uint8Array,
    head: { n: number; base: number; last: number; unit: number; end: number },
    columns: _Column[],
  ) {
    this.bytes = bytes;
    this.n = head.n;
    this.base = head.base;
    this.last = head.last;
    this.#unit = head.unit;
    this.dataEnd = head.end;
    [this.#id, this.#at, this.#len, this.#min, this.#span] = columns;
  }

  /**
   * The footer in `record` (a whole framed record, its CRC not checked
   * here), which starts at `at` in its file; undefined when it is not a
   * footer this version reads or does not say it starts at `at`.
   */
  static parse(record: Uint8Array, at: number): Footer | undefined {
    if (record.byteOffset % 8 !== 0) record = record.slice();
    const p = RECORD_HEADER_BYTES;
    if (record.length < p + HEAD + TAIL) return undefined;
    const view = new DataView(record.buffer, record.byteOffset, record.length);
    if (
      view.getUint8(p) !== FOOTER_RECORD ||
      view.getUint8(p + 1) !== FOOTER_VERSION
    ) return undefined;
    const head = {
      base: view.getFloat64(p + 8, true),
      last: view.getFloat64(p + 16, true),
      unit: view.getFloat64(p + 24, true),
      end: view.getFloat64(p + 32, true),
      n: view.getUint32(p + 40, true),
    };
    if (head.end !== at || !(head.unit > 0)) return undefined;
    const columns: _Column[] = [];
    let size = HEAD;
    for (let c = 0; c < 5; c++) {
      const w = view.getUint8(p + 2 + c);
      size = _pad8(size);
      if (p + size + w * head.n + TAIL > record.length) return undefined;
      const col = _column(record, p + size, w, head.n);
      if (!col) return undefined;
      columns.push(col);
      size += w * head.n;
    }
    if (p + size + TAIL !== record.length) return undefined;
    return new Footer(record, head, columns);
  }

  /** Entry k's series id. */
  id(k: number): number {
    return this.#id[k];
  }

  /** Entry k's first time. */
  minT(k: number): number {
    return this.base + this.#min[k] * this.#unit;
  }

  /** Entry k's last time. */
  maxT(k: number): number {
    return this.base + this.#min[k] * this.#unit + this.#span[k] * this.#unit;
  }

  /** Where entry k's chunk bytes start in the file. */
  from(k: number): number {
    return this.#at[k];
  }

  /** Where they end. */
  to(k: number): number {
    return this.#at[k] + this.#len[k];
  }

  /**
   * Calls `visit(k)` for each entry of a series `wanted` whose span
   * overlaps `[start, end]`: by id then time. `wanted` is a predicate
   * (every entry is looked at) or ids in ascending order (found by
   * binary search, or by one walk when they are many).
   */
  pick(
    wanted: ((id: number) => boolean) | readonly number[],
    start: number,
    end: number,
    visit: (k: number) => void,
  ): void {
    const found: number[] = [];
    this.collect(wanted, start, end, undefined, found);
    for (const k of found) visit(k);
  }

  /**
   * {@linkcode pick} into `out`, of the entries that also pass `overlaps`
   * (a test, or step windows) when given: pushes each one's k (one tight
   * loop).
   */
  collect(
    wanted: ((id: number) => boolean) | readonly number[],
    start: number,
    end: number,
    overlaps:
      | ((minT: number, maxT: number) => boolean)
      | StepWindows
      | undefined,
    out: number[],
  ): void {
    // Step windows are tested with a cursor: a series' entries come in
    // time order, and a binary search a chunk in that order mispredicts
    // (about twice the time).
    const test = overlapsTest(overlaps);
    const ids = this.#id;
    const min = this.#min;
    const span = this.#span;
    const base = this.base;
    const unit = this.#unit;
    const n = this.n;
    if (typeof wanted === "function") {
      for (let k = 0; k < n; k++) {
        const minT = base + min[k] * unit;
        if (minT > end) continue;
        const maxT = minT + span[k] * unit;
        if (maxT < start || !wanted(ids[k])) continue;
        if (!test || test(minT, maxT)) out.push(k);
      }
      return;
    }
    const walk = wanted.length * Math.log2(n + 1) > n;
    let k = 0;
    for (let w = 0; w < wanted.length && k < n; w++) {
      const id = wanted[w];
      if (walk) {
        while (k < n && ids[k] < id) k++;
      } else {
        let hi = n;
        while (k < hi) {
          const mid = (k + hi) >>> 1;
          if (ids[mid] < id) k = mid + 1;
          else hi = mid;
        }
      }
      for (; k < n && ids[k] === id; k++) {
        const minT = base + min[k] * unit;
        if (minT > end) continue;
        const maxT = minT + span[k] * unit;
        if (maxT < start) continue;
        if (!test || test(minT, maxT)) out.push(k);
      }
    }
  }

  /** Bytes it holds in memory. */
  get memoryBytes(): number {
    return this.bytes.buffer.byteLength;
  }
}

/**
 * Reads `length` bytes at `at` of the file `path` into a buffer of their
 * own (so typed arrays over them are aligned); fewer when the file is
 * shorter.
 */
export function readRange(
  path: string,
  at: number,
  length: number,
): Uint8Array {
  const out = new Uint8Array(length);
  const fd = openSync(path, "r");
  try {
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, at + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? out : out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * The footer that ends the file `path` of `size` bytes, its CRC checked;
 * undefined when the file does not end with a good one (none yet, torn,
 * corrupt, or chunks appended after it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { encodeFooter, readFooter } from "./segment_footer.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-footer-"));
 * try {
 *   const path = join(dir, "000001.seg");
 *   const e = { n: 1, id: () => 7, minT: () => 10, maxT: () => 20, from: () => 21, to: () => 30 };
 *   const footer = encodeFooter(e, 30);
 *   writeFileSync(path, new Uint8Array([...new Uint8Array(30), ...footer]));
 *   assert.equal(readFooter(path, 30 + footer.length)?.id(0), 7);
 *   writeFileSync(path, new Uint8Array([...new Uint8Array(30), ...footer.subarray(0, 50)]));
 *   assert.equal(readFooter(path, 80), undefined);
 * } finally {
 *   rmSync(dir, { recursive: true });
 * }
 * ```
 */
export function readFooter(path: string, size: number): Footer | undefined {
  if (size < RECORD_HEADER_BYTES + HEAD + TAIL) return undefined;
  let tail: Uint8Array;
  try {
    tail = readRange(path, size - TAIL, TAIL);
  } catch {
    return undefined;
  }
  if (tail.length < TAIL) return undefined;
  const payload = (tail[0] | (tail[1] << 8) | (tail[2] << 16) |
    (tail[3] << 24)) >>> 0;
  const at = size - RECORD_HEADER_BYTES - payload;
  if (payload > MAX_PAYLOAD_BYTES || at < 0) return undefined;
  const record = readRange(path, at, size - at);
  if (!_checks(record, payload)) return undefined;
  return Footer.parse(record, at);
}

/** Whether `record` is one whole framed record of `payload` bytes whose CRC holds. */
function _checks(record: Uint8Array, payload: number): boolean {
  if (record.length !== RECORD_HEADER_BYTES + payload) return false;
  const head = (record[0] | (record[1] << 8) | (record[2] << 16) |
    (record[3] << 24)) >>> 0;
  if (head !== (((MARKER << 24) | payload) >>> 0)) return false;
  const want = (record[4] | (record[5] << 8) | (record[6] << 16) |
    (record[7] << 24)) >>> 0;
  return crc32(record, RECORD_HEADER_BYTES, record.length) === want;
}

/**
 * Footers read back, kept while their bytes together stay within
 * `maxBytes`; the least recently used go first. One cache can serve
 * several owners (a store's tiers), each told its share.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFooter, Footer, FooterCache } from "./segment_footer.ts";
 *
 * const e = { n: 100, id: (k: number) => k, minT: () => 0, maxT: () => 1, from: (k: number) => k * 10, to: (k: number) => k * 10 + 9 };
 * const footer = () => Footer.parse(encodeFooter(e, 1000), 1000)!;
 * const cache = new FooterCache(2 * footer().memoryBytes);
 * const owner = {};
 * const keys = [{}, {}, {}];
 * for (const key of keys) cache.set(owner, key, footer());
 * assert.equal(cache.get(keys[0]), undefined);
 * assert.ok(cache.get(keys[2]));
 * assert.equal(cache.bytesOf(owner), cache.bytes);
 * assert.ok(cache.bytes <= cache.maxBytes);
 * ```
 */
export class FooterCache {
  /** The bound: bytes of footers kept at most. */
  readonly maxBytes: number;
  #entries = new Map<object, { owner: object; footer: Footer }>();
  #byOwner = new Map<object, number>();
  #bytes = 0;

  /** @param maxBytes the bound (default 8 MiB) */
  constructor(maxBytes: number = DEFAULT_FOOTER_CACHE_BYTES) {
    if (!(maxBytes >= 0)) {
      throw new RangeError(
        `Cannot create a footer cache: maxBytes must be a non-negative number, received ${maxBytes}`,
      );
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes of the footers it holds. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of the footers it holds for `owner`. */
  bytesOf(owner: object): number {
    return this.#byOwner.get(owner) ?? 0;
  }

  /** The footer kept for `key`, now the most recently used. */
  get(key: object): Footer | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e.footer;
  }

  /** Keeps `footer` for `key` (of `owner`), dropping the least used beyond the bound. */
  set(owner: object, key: object, footer: Footer): void {
    this.delete(key);
    const size = footer.memoryBytes;
    if (size > this.maxBytes) return;
    this.#entries.set(key, { owner, footer });
    this.#add(owner, size);
    for (const [k] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.delete(k);
    }
  }

  /** Forgets `key`'s footer. */
  delete(key: object): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    this.#add(e.owner, -e.footer.memoryBytes);
  }

  #add(owner: object, n: number): void {
    this.#bytes += n;
    const left = (this.#byOwner.get(owner) ?? 0) + n;
    if (left === 0) this.#byOwner.delete(owner);
    else this.#byOwner.set(owner, left);
  }
}
