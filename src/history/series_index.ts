/**
 * The series index: a stable small-integer id per label set, its kind, and
 * postings (label name -> value -> ids) that answer the four PromQL
 * matchers.
 *
 * @module
 */
import type { ByteWriter } from "./_bytes.ts";
import { growCapacity } from "./open_chunks.ts";
import { compileAnchored, type PromRegex } from "./promql/regex.ts";
import type { LabelMatcher, SeriesKind, SeriesLabels } from "./types.ts";

/** Kind codes, in the order the disk format stores them. */
export const KINDS: readonly SeriesKind[] = ["counter", "gauge", "untyped"];

/** A compiled matcher: does a label value (missing is "") match? */
type ValueTest = (value: string) => boolean;

const EMPTY_IDS = new Int32Array(0);

/**
 * One label pair (a name and a value), its id among the index's pairs,
 * and the series that have it: a growable list of ids (4 bytes each: a
 * JS array of numbers costs 8 or more).
 */
class Postings {
  /**
   * The ids, ascending: 16-bit while they are below 65,536 (the 57,632
   * series of 100 flows x 10 processes), 32-bit from the first past it.
   */
  ids: Uint16Array | Int32Array = new Uint16Array(4);
  n = 0;
  readonly name: string;
  readonly value: string;
  /** The pair's id (its place in the index's list of pairs). */
  readonly pair: number;

  constructor(name: string, value: string, pair: number) {
    this.name = name;
    this.value = value;
    this.pair = pair;
  }

  push(id: number): void {
    const wide = id > 0xffff || this.ids instanceof Int32Array;
    if (this.n === this.ids.length || wide !== this.ids instanceof Int32Array) {
      const size = this.n === this.ids.length
        ? this.n + (this.n >> 1) + 4
        : this.ids.length;
      const next = wide ? new Int32Array(size) : new Uint16Array(size);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[this.n++] = id;
  }

  view(): Uint16Array | Int32Array {
    return this.ids.subarray(0, this.n);
  }
}

/**
 * Compiles a matcher's value test; regular expressions are fully anchored
 * as in Prometheus.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matcherTest } from "./series_index.ts";
 *
 * const t = matcherTest({ name: "job", type: "=~", value: "a.*" });
 * assert.equal(t("abc"), true);
 * assert.equal(t("xabc"), false);
 * ```
 */
export function matcherTest(m: LabelMatcher): ValueTest {
  const v = m.value;
  switch (m.type) {
    case "=":
      return (x) => x === v;
    case "!=":
      return (x) => x !== v;
    case "=~": {
      const re = anchored(m);
      return (x) => re.test(x);
    }
    case "!~": {
      const re = anchored(m);
      return (x) => !re.test(x);
    }
    default:
      throw new RangeError(
        `Cannot match label ${m.name}: unknown matcher type, received ${
          JSON.stringify((m as { type: unknown }).type)
        }`,
      );
  }
}

function anchored(m: LabelMatcher): PromRegex {
  try {
    return compileAnchored(m.value);
  } catch (error) {
    throw new SyntaxError(
      `Cannot match label ${m.name}${m.type}${
        JSON.stringify(m.value)
      }: invalid regular expression (${(error as Error).message})`,
    );
  }
}

/**
 * A label set's identity without a key string: FNV-1a of each pair, mixed
 * (murmur3's finalizer) and summed, so the order of the names does not
 * matter and nothing is allocated (no sorted list of names per lookup: a
 * sampling pass looks up every new series, 57,000 in the first one).
 */
function hashLabels(labels: SeriesLabels): number {
  let h = 0;
  let n = 0;
  for (const name in labels) {
    const value = labels[name];
    let p = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) {
      p = Math.imul(p ^ name.charCodeAt(i), 0x01000193);
    }
    p = Math.imul(p ^ 0xff, 0x01000193);
    if (typeof value === "string") {
      for (let i = 0; i < value.length; i++) {
        p = Math.imul(p ^ value.charCodeAt(i), 0x01000193);
      }
    }
    p ^= p >>> 16;
    p = Math.imul(p, 0x85ebca6b);
    p ^= p >>> 13;
    p = Math.imul(p, 0xc2b2ae35);
    p ^= p >>> 16;
    h = (h + p) | 0;
    n++;
  }
  return (h ^ Math.imul(n, 0x9e3779b1)) >>> 0;
}

/**
 * The names of `labels`, sorted, into `out[0..n)`; returns `n`. `out` is
 * reused and never shortened (an array set to length 0 lets its storage
 * go, and the next push allocates again: 57,000 times in a first pass).
 */
function sortedNames(labels: SeriesLabels, out: string[]): number {
  let n = 0;
  for (const name in labels) {
    // Insertion sort: a series has a handful of labels.
    let i = n++;
    while (i > 0 && out[i - 1] > name) {
      out[i] = out[i - 1];
      i--;
    }
    out[i] = name;
  }
  return n;
}

const _names: string[] = [];

/** {@linkcode indexLabels}' pairs so far, sorted by name (reused: no allocation). */
const _keys: string[] = [];
const _values: string[] = [];
let _pairs = 0;

/** Puts `name` = `value` into the sorted scratch pairs (a later one wins). */
function _put(name: string, value: string): void {
  let i = _pairs;
  for (let j = 0; j < i; j++) {
    if (_keys[j] === name) {
      _values[j] = value;
      return;
    }
  }
  _pairs++;
  while (i > 0 && _keys[i - 1] > name) {
    _keys[i] = _keys[i - 1];
    _values[i] = _values[i - 1];
    i--;
  }
  _keys[i] = name;
  _values[i] = value;
}

/**
 * A series' labels as the index keeps them: `__name__` = `name`, then the
 * labels of `a`, then those of `b` (over `a`'s), then `le` when given, in
 * sorted order of names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexLabels, SeriesIndex } from "./series_index.ts";
 *
 * const labels = indexLabels("x_bucket", { site: "a" }, { flow: "f" }, "1");
 * assert.deepEqual(Object.keys(labels), ["__name__", "flow", "le", "site"]);
 * const ix = new SeriesIndex();
 * const id = ix.ref(labels, "counter");
 * assert.deepEqual(ix.labels(id), labels);
 * ```
 */
export function indexLabels(
  name: string,
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
  le: string | undefined,
): SeriesLabels {
  _pairs = 0;
  _put("__name__", name);
  for (const k in a) _put(k, a[k]);
  for (const k in b) _put(k, b[k]);
  if (le !== undefined) _put("le", le);
  const out: Record<string, string> = {};
  for (let i = 0; i < _pairs; i++) out[_keys[i]] = _values[i];
  return out;
}

/** A kind code's bit that says an id holds a series (not a hole). */
const LIVE = 0x80;

/**
 * Label sets and kinds by id, with postings for matching. Ids are dense
 * from 0 in the order series are added; an id may be a hole (its labels
 * were lost from a corrupt series file) and then matches nothing.
 *
 * Memory per series is kept small on purpose (~57,000 series must fit a few
 * MB): no key string per series (a 32-bit hash finds it), each distinct
 * label pair held once (its postings), and a series' labels as the ids of
 * its pairs in one typed array (2 bytes a pair while there are fewer than
 * 65,536 pairs): about 20 bytes a series instead of a label object's 80.
 * The object {@linkcode labels} returns is made at its first call (a
 * query's answer, remote write) and kept, so a series' labels are always
 * the same object: only the series something asked for have one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeriesIndex } from "./series_index.ts";
 *
 * const ix = new SeriesIndex();
 * const a = ix.ref({ __name__: "up", job: "a" }, "gauge");
 * const b = ix.ref({ __name__: "up", job: "b" }, "gauge");
 * assert.equal(ix.ref({ job: "a", __name__: "up" }, "gauge"), a);
 * assert.deepEqual(ix.match([{ name: "job", type: "=~", value: "b|c" }]), [b]);
 * assert.deepEqual(ix.match([{ name: "job", type: "!=", value: "b" }]), [a]);
 * assert.deepEqual(ix.labels(b), { __name__: "up", job: "b" });
 * assert.equal(ix.labels(b), ix.labels(b)); // made once, then kept
 * ```
 */
export class SeriesIndex {
  /** Per id: its kind's code, with LIVE when a series is there (not a hole). */
  #kinds = new Uint8Array(64);
  #size = 0;
  /** Per id: where its pairs start in #refs; they end where the next id's start. */
  #at = new Int32Array(65);
  /** Every series' pair ids, a series' in sorted order of names. */
  #refs: Uint16Array | Int32Array = new Uint16Array(256);
  /** The pairs by id. */
  #pairs: Postings[] = [];
  /** Per pair id: the id of its name (see #nameIds). */
  #pairNames = new Int32Array(64);
  /** Label names' ids, in the order they came. */
  #nameIds = new Map<string, number>();
  /** Per id: the hash of its labels (see hashLabels). */
  #hashes = new Uint32Array(64);
  /**
   * Ids by label hash, open addressing with linear probing: per slot the
   * id + 1 (0: empty); the hash is the id's in #hashes. A `Map` of 57,000
   * number keys cost about 40 bytes a series; this is 4 at most (8 past
   * 65,535 series: the slots are 16-bit until an id + 1 needs more).
   */
  #slotIds: Uint16Array | Int32Array = new Uint16Array(1024);
  #slotsUsed = 0;
  #postings = new Map<string, Map<string, Postings>>();
  /** The label objects made so far (see labels()), by id. */
  #made: (SeriesLabels | undefined)[] = [];
  #live = 0;

  /** Ids handed out so far (holes included): the next id. */
  get size(): number {
    return this.#size;
  }

  /** Series held (holes excluded). */
  get count(): number {
    return this.#live;
  }

  /** Whether `id` holds a series (false for a hole or an unknown id). */
  has(id: number): boolean {
    return id >= 0 && id < this.#size && (this.#kinds[id] & LIVE) !== 0;
  }

  /** The id of `labels`, or -1. */
  find(labels: SeriesLabels): number {
    const h = hashLabels(labels);
    const ids = this.#slotIds;
    const hashes = this.#hashes;
    const mask = ids.length - 1;
    for (let i = h & mask; ids[i] !== 0; i = (i + 1) & mask) {
      const id = ids[i] - 1;
      if (hashes[id] === h && this.#holds(id, labels)) return id;
    }
    return -1;
  }

  /**
   * The id of `labels`, added with `kind` when new. A known series keeps
   * the kind it was first given.
   */
  ref(labels: SeriesLabels, kind: SeriesKind): number {
    const id = this.find(labels);
    return id >= 0 ? id : this.set(this.#size, labels, kind);
  }

  /**
   * Puts `labels` at `id` (loading from disk); ids skipped become holes.
   * Returns `id`.
   */
  set(id: number, labels: SeriesLabels, kind: SeriesKind): number {
    if (!Number.isInteger(id) || id < this.#size) {
      throw new RangeError(
        `Cannot add series: id must be a new integer >= ${this.#size}, received ${id}`,
      );
    }
    if (!KINDS.includes(kind)) {
      throw new RangeError(
        `Cannot add series: kind must be counter, gauge or untyped, received ${
          JSON.stringify(kind)
        }`,
      );
    }
    const names = _names;
    const n = sortedNames(labels, names);
    for (let i = 0; i < n; i++) {
      const value = labels[names[i]];
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot add series: label ${
            names[i]
          } must be a string, received ${typeof value}`,
        );
      }
    }
    this.reserve(id);
    this.#room(id + 1, this.#at[id] + n);
    const at = this.#at[id];
    for (let i = 0; i < n; i++) {
      const p = this.#pair(names[i], labels[names[i]]);
      if (p.pair > 0xffff && this.#refs instanceof Uint16Array) {
        this.#refs = Int32Array.from(this.#refs);
      }
      this.#refs[at + i] = p.pair;
      p.push(id);
    }
    this.#at[id + 1] = at + n;
    this.#kinds[id] = KINDS.indexOf(kind) | LIVE;
    this.#hashes[id] = hashLabels(labels);
    this.#size = id + 1;
    this.#live++;
    this.#slot(id);
    return id;
  }

  /** Makes ids below `n` taken (holes where no series is). */
  reserve(n: number): void {
    if (n <= this.#size) return;
    this.#room(n, this.#at[this.#size]);
    const end = this.#at[this.#size];
    const untyped = KINDS.indexOf("untyped");
    for (let id = this.#size; id < n; id++) {
      this.#kinds[id] = untyped;
      this.#at[id + 1] = end;
    }
    this.#size = n;
  }

  /**
   * The labels of `id` (undefined for a hole or an unknown id), names in
   * sorted order, frozen: made at the first call and then kept, so each
   * call for a series gives the same object.
   */
  labels(id: number): SeriesLabels | undefined {
    if (!this.has(id)) return undefined;
    return this.#made[id] ?? (this.#made[id] = this.#make(id));
  }

  /**
   * {@linkcode labels}, without keeping an object it makes, which is then
   * not frozen either: nothing else holds it (writing the series file and
   * listing series read each series' labels once; kept, every series
   * would have its object again).
   */
  labelsOnce(id: number): SeriesLabels | undefined {
    if (!this.has(id)) return undefined;
    return this.#made[id] ?? this.#make(id, false);
  }

  /**
   * Writes `id`'s labels into `w` as `JSON.stringify(labelsOnce(id))`
   * gives them, byte for byte in UTF-8, and returns the bytes; without
   * `w` it only counts them. No object and no string is made for a
   * series whose names and values are printable ASCII without `"` or `\`
   * (the first flush of 57,000 series made an object, a JSON text and
   * its bytes for each: about 20 MB of garbage at once, and memory Bun's
   * allocator kept after it was freed). 0 for a hole or an unknown id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ByteWriter } from "./_bytes.ts";
   * import { SeriesIndex } from "./series_index.ts";
   *
   * const index = new SeriesIndex();
   * const id = index.ref({ __name__: "up", flow: "café \"1\"" }, "gauge");
   * const w = new ByteWriter();
   * const text = JSON.stringify(index.labels(id));
   * assert.equal(index.labelsJson(id, w), index.labelsJson(id));
   * assert.deepEqual(w.bytes(), new TextEncoder().encode(text));
   * ```
   */
  labelsJson(id: number, w?: ByteWriter): number {
    if (!this.has(id)) return 0;
    const refs = this.#refs;
    const from = this.#at[id];
    const to = this.#at[id + 1];
    for (let i = from; i < to; i++) {
      const name = this.#pairs[refs[i]].name;
      // An object puts index-like keys first, and "__proto__" is no key:
      // the object itself says what JSON.stringify writes then.
      if (name === "__proto__" || _INDEX_KEY.test(name)) {
        const text = JSON.stringify(this.labelsOnce(id));
        w?.utf8(text);
        return _utf8Length(text);
      }
    }
    let n = 2;
    w?.u8(0x7b); // {
    for (let i = from; i < to; i++) {
      const p = this.#pairs[refs[i]];
      if (i > from) {
        w?.u8(0x2c); // ,
        n++;
      }
      n += _jsonString(p.name, w) + 1;
      w?.u8(0x3a); // :
      n += _jsonString(p.value, w);
    }
    w?.u8(0x7d); // }
    return n;
  }

  /** The kind of `id`. */
  kind(id: number): SeriesKind {
    return id >= 0 && id < this.#size
      ? KINDS[this.#kinds[id] & ~LIVE]
      : "untyped";
  }

  /** Ids (ascending) of the series that match every matcher; all series for none. */
  match(matchers: readonly LabelMatcher[]): number[] {
    const tests = matchers.map((m) => ({ name: m.name, test: matcherTest(m) }));
    let candidates: ArrayLike<number> | undefined;
    // The smallest posting list of an equality matcher narrows the most.
    for (const m of matchers) {
      if (m.type !== "=" || m.value === "") continue;
      const ids = this.#postings.get(m.name)?.get(m.value)?.view() ??
        EMPTY_IDS;
      if (!candidates || ids.length < candidates.length) candidates = ids;
    }
    if (!candidates) {
      for (let i = 0; i < matchers.length; i++) {
        if (matchers[i].type !== "=~" || tests[i].test("")) continue;
        const ids = this.#union(matchers[i].name, tests[i].test);
        if (!candidates || ids.length < candidates.length) candidates = ids;
      }
    }
    // Each test is run once per distinct pair (and once for a missing
    // label, as ""), not once per series: per test and pair, 0 not yet
    // run, 1 passed, 2 failed.
    const k = tests.length;
    const nameIds = tests.map((t) => this.#nameIds.get(t.name) ?? -1);
    const missing = tests.map((t) => t.test("") ? 1 : 2);
    const memo = tests.map(() => new Uint8Array(this.#pairs.length));
    const out: number[] = [];
    const check = (id: number) => {
      if (!this.has(id)) return;
      for (let j = 0; j < k; j++) {
        const p = this.#pairOf(id, nameIds[j]);
        let r = missing[j];
        if (p >= 0) {
          r = memo[j][p];
          if (r === 0) {
            r = memo[j][p] = tests[j].test(this.#pairs[p].value) ? 1 : 2;
          }
        }
        if (r !== 1) return;
      }
      out.push(id);
    };
    if (candidates) {
      for (let i = 0; i < candidates.length; i++) check(candidates[i]);
    } else for (let id = 0; id < this.#size; id++) check(id);
    return out;
  }

  /** Label names (sorted) used by `ids`. */
  labelNames(ids: readonly number[]): string[] {
    const names = new Set<string>();
    const refs = this.#refs;
    const at = this.#at;
    for (const id of ids) {
      if (!this.has(id)) continue;
      for (let i = at[id]; i < at[id + 1]; i++) {
        names.add(this.#pairs[refs[i]].name);
      }
    }
    return [...names].sort();
  }

  /** Values (sorted) of label `name` among `ids`. */
  labelValues(name: string, ids: readonly number[]): string[] {
    const values = new Set<string>();
    const refs = this.#refs;
    const at = this.#at;
    for (const id of ids) {
      if (!this.has(id)) continue;
      for (let i = at[id]; i < at[id + 1]; i++) {
        const p = this.#pairs[refs[i]];
        if (p.name === name) values.add(p.value);
      }
    }
    return [...values].sort();
  }

  /** The id of series `id`'s pair of the name of id `nameId`, or -1. */
  #pairOf(id: number, nameId: number): number {
    const refs = this.#refs;
    const names = this.#pairNames;
    for (let i = this.#at[id], end = this.#at[id + 1]; i < end; i++) {
      if (names[refs[i]] === nameId) return refs[i];
    }
    return -1;
  }

  /** Whether series `id` has exactly the pairs of `labels`. */
  #holds(id: number, labels: SeriesLabels): boolean {
    const refs = this.#refs;
    const from = this.#at[id];
    const to = this.#at[id + 1];
    for (let i = from; i < to; i++) {
      const p = this.#pairs[refs[i]];
      if (labels[p.name] !== p.value) return false;
    }
    let n = 0;
    for (const _k in labels) n++;
    return n === to - from;
  }

  /** A new object of `id`'s labels, frozen when `freeze`. */
  #make(id: number, freeze = true): SeriesLabels {
    const out: Record<string, string> = {};
    const refs = this.#refs;
    for (let i = this.#at[id], end = this.#at[id + 1]; i < end; i++) {
      const p = this.#pairs[refs[i]];
      out[p.name] = p.value;
    }
    return freeze ? Object.freeze(out) : out;
  }

  /** The pair `name` = `value`, added when new. */
  #pair(name: string, value: string): Postings {
    let values = this.#postings.get(name);
    if (!values) this.#postings.set(name, values = new Map());
    let p = values.get(value);
    if (!p) {
      const pair = this.#pairs.length;
      p = new Postings(name, value, pair);
      values.set(value, p);
      this.#pairs.push(p);
      if (pair === this.#pairNames.length) {
        const next = new Int32Array(2 * pair);
        next.set(this.#pairNames);
        this.#pairNames = next;
      }
      let nameId = this.#nameIds.get(name);
      if (nameId === undefined) {
        this.#nameIds.set(name, nameId = this.#nameIds.size);
      }
      this.#pairNames[pair] = nameId;
    }
    return p;
  }

  /** Makes room for ids below `n` and `refs` pair ids. */
  #room(n: number, refs: number): void {
    if (n > this.#kinds.length) {
      const size = Math.max(n, growCapacity(this.#kinds.length));
      const kinds = new Uint8Array(size);
      kinds.set(this.#kinds);
      this.#kinds = kinds;
      const hashes = new Uint32Array(size);
      hashes.set(this.#hashes);
      this.#hashes = hashes;
      const at = new Int32Array(size + 1);
      at.set(this.#at);
      this.#at = at;
    }
    if (refs > this.#refs.length) {
      const size = Math.max(refs, growCapacity(this.#refs.length));
      const next = this.#refs instanceof Uint16Array
        ? new Uint16Array(size)
        : new Int32Array(size);
      next.set(this.#refs);
      this.#refs = next;
    }
  }

  #union(name: string, test: ValueTest): ArrayLike<number> {
    const values = this.#postings.get(name);
    if (!values) return EMPTY_IDS;
    const parts: (Uint16Array | Int32Array)[] = [];
    for (const [value, ids] of values) if (test(value)) parts.push(ids.view());
    if (parts.length === 1) return parts[0];
    const all: number[] = [];
    for (const p of parts) for (let i = 0; i < p.length; i++) all.push(p[i]);
    return all.sort((a, b) => a - b);
  }

  /** Files `id` under its hash, growing the table past half full. */
  #slot(id: number): void {
    const grow = 2 * (this.#slotsUsed + 1) > this.#slotIds.length;
    const wide = id + 1 > 0xffff && this.#slotIds instanceof Uint16Array;
    if (grow || wide) {
      const ids = this.#slotIds;
      const size = grow ? ids.length * 2 : ids.length;
      this.#slotIds = wide || ids instanceof Int32Array
        ? new Int32Array(size)
        : new Uint16Array(size);
      this.#slotsUsed = 0;
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] !== 0) this.#slot(ids[i] - 1);
      }
    }
    const ids = this.#slotIds;
    const mask = ids.length - 1;
    let i = this.#hashes[id] & mask;
    while (ids[i] !== 0) i = (i + 1) & mask;
    ids[i] = id + 1;
    this.#slotsUsed++;
  }
}

/** A key an object orders before the others: an array index. */
const _INDEX_KEY = /^(?:0|[1-9][0-9]*)$/;

/**
 * Writes `s` as `JSON.stringify(s)` does, in UTF-8, into `w` (or only
 * counts it); returns the bytes. Printable ASCII without `"` or `\` is
 * copied as it is; anything else goes through `JSON.stringify` itself.
 */
function _jsonString(s: string, w: ByteWriter | undefined): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      const text = JSON.stringify(s);
      w?.utf8(text);
      return _utf8Length(text);
    }
  }
  if (w) {
    w.u8(0x22);
    w.utf8(s);
    w.u8(0x22);
  }
  return n + 2;
}

/** Bytes of `s` in UTF-8 (a lone surrogate as U+FFFD, as TextEncoder writes it). */
function _utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (
      c >= 0xd800 && c < 0xdc00 && i + 1 < s.length &&
      (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
