/**
 * The series index: a stable small-integer id per label set, its kind, and
 * postings (label name -> value -> ids) that answer the four PromQL
 * matchers.
 *
 * @module
 */
import { compileAnchored, type PromRegex } from "./promql/regex.ts";
import type { LabelMatcher, SeriesKind, SeriesLabels } from "./types.ts";

/** Kind codes, in the order the disk format stores them. */
export const KINDS: readonly SeriesKind[] = ["counter", "gauge", "untyped"];

/** A compiled matcher: does a label value (missing is "") match? */
type ValueTest = (value: string) => boolean;

const EMPTY_IDS = new Int32Array(0);

/** A growable list of ids (4 bytes each: a JS array of numbers costs 8 or more). */
class Postings {
  ids = new Int32Array(4);
  n = 0;

  push(id: number): void {
    if (this.n === this.ids.length) {
      const next = new Int32Array(this.n + (this.n >> 1) + 4);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[this.n++] = id;
  }

  view(): Int32Array {
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

/** Whether `a` and `b` hold the same pairs (no lists of keys made). */
function sameLabels(a: SeriesLabels, b: SeriesLabels): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _k in a) n--;
  return n === 0;
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

/** The object {@linkcode indexLabels} made last: `set()` may keep it as is. */
let _made: SeriesLabels | null = null;
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
 * sorted order of names. A {@linkcode SeriesIndex} that adds the object
 * this call made last keeps that object (its values swapped for the
 * index's equal strings, then frozen) instead of a copy: the sampler's
 * first pass over 57,000 series then makes one object a series, not two.
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
 * assert.equal(ix.labels(id), labels); // kept, not copied
 * assert.ok(Object.isFrozen(labels));
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
  _made = out;
  return out;
}

/**
 * Label sets and kinds by id, with postings for matching. Ids are dense
 * from 0 in the order series are added; an id may be a hole (its labels
 * were lost from a corrupt series file) and then matches nothing.
 *
 * Memory per series is kept small on purpose (~57,000 series must fit a few
 * MB): no key string per series (a 32-bit hash finds it), label strings
 * interned, postings as plain id arrays.
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
 * ```
 */
export class SeriesIndex {
  #labels: (SeriesLabels | undefined)[] = [];
  #kinds = new Uint8Array(64);
  /**
   * Ids by label hash, open addressing with linear probing: per slot the
   * id + 1 (0: empty) and the hash. A `Map` of 57,000 number keys cost
   * about 40 bytes a series; this is 16 at most.
   */
  #slotIds = new Int32Array(1024);
  #slotHashes = new Uint32Array(1024);
  #slotsUsed = 0;
  #postings = new Map<string, Map<string, Postings>>();
  #strings = new Map<string, string>();
  #live = 0;

  /** Ids handed out so far (holes included): the next id. */
  get size(): number {
    return this.#labels.length;
  }

  /** Series held (holes excluded). */
  get count(): number {
    return this.#live;
  }

  /** The id of `labels`, or -1. */
  find(labels: SeriesLabels): number {
    const h = hashLabels(labels);
    const ids = this.#slotIds;
    const hashes = this.#slotHashes;
    const mask = ids.length - 1;
    for (let i = h & mask; ids[i] !== 0; i = (i + 1) & mask) {
      if (hashes[i] === h && sameLabels(this.#labels[ids[i] - 1]!, labels)) {
        return ids[i] - 1;
      }
    }
    return -1;
  }

  /**
   * The id of `labels`, added with `kind` when new. A known series keeps
   * the kind it was first given.
   */
  ref(labels: SeriesLabels, kind: SeriesKind): number {
    const id = this.find(labels);
    return id >= 0 ? id : this.set(this.#labels.length, labels, kind);
  }

  /**
   * Puts `labels` at `id` (loading from disk); ids skipped become holes.
   * Returns `id`.
   */
  set(id: number, labels: SeriesLabels, kind: SeriesKind): number {
    if (!Number.isInteger(id) || id < this.#labels.length) {
      throw new RangeError(
        `Cannot add series: id must be a new integer >= ${this.#labels.length}, received ${id}`,
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
    let own: SeriesLabels;
    if (labels === _made && this.#keepMade(labels, names, n)) own = labels;
    else {
      const copy: Record<string, string> = {};
      for (let i = 0; i < n; i++) {
        const name = names[i];
        const value = labels[name];
        if (typeof value !== "string") {
          throw new TypeError(
            `Cannot add series: label ${name} must be a string, received ${typeof value}`,
          );
        }
        copy[name] = this.#intern(value);
      }
      own = Object.freeze(copy);
    }
    this.reserve(id);
    this.#labels.push(own);
    this.#kindAt(id, kind);
    this.#live++;
    this.#slot(hashLabels(own), id);
    for (let i = 0; i < n; i++) {
      const name = names[i];
      let values = this.#postings.get(name);
      if (!values) this.#postings.set(name, values = new Map());
      let ids = values.get(own[name]);
      if (!ids) values.set(own[name], ids = new Postings());
      ids.push(id);
    }
    return id;
  }

  /** Makes ids below `n` taken (holes where no series is). */
  reserve(n: number): void {
    while (this.#labels.length < n) {
      this.#kindAt(this.#labels.length, "untyped");
      this.#labels.push(undefined);
    }
  }

  #kindAt(id: number, kind: SeriesKind): void {
    if (id >= this.#kinds.length) {
      const next = new Uint8Array(Math.max(id + 1, this.#kinds.length * 2));
      next.set(this.#kinds);
      this.#kinds = next;
    }
    this.#kinds[id] = KINDS.indexOf(kind);
  }

  /** The labels of `id` (undefined for a hole or an unknown id). */
  labels(id: number): SeriesLabels | undefined {
    return this.#labels[id];
  }

  /** The kind of `id`. */
  kind(id: number): SeriesKind {
    return id < this.#labels.length ? KINDS[this.#kinds[id]] : "untyped";
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
    const out: number[] = [];
    const check = (id: number) => {
      const labels = this.#labels[id];
      if (!labels) return;
      for (const t of tests) if (!t.test(labels[t.name] ?? "")) return;
      out.push(id);
    };
    if (candidates) {
      for (let i = 0; i < candidates.length; i++) check(candidates[i]);
    } else for (let id = 0; id < this.#labels.length; id++) check(id);
    return out;
  }

  /** Label names (sorted) used by `ids`. */
  labelNames(ids: readonly number[]): string[] {
    const names = new Set<string>();
    for (const id of ids) {
      const labels = this.#labels[id];
      if (labels) { for (const name in labels) names.add(name); }
    }
    return [...names].sort();
  }

  /** Values (sorted) of label `name` among `ids`. */
  labelValues(name: string, ids: readonly number[]): string[] {
    const values = new Set<string>();
    for (const id of ids) {
      const value = this.#labels[id]?.[name];
      if (value !== undefined) values.add(value);
    }
    return [...values].sort();
  }

  #union(name: string, test: ValueTest): ArrayLike<number> {
    const values = this.#postings.get(name);
    if (!values) return EMPTY_IDS;
    const parts: Int32Array[] = [];
    for (const [value, ids] of values) if (test(value)) parts.push(ids.view());
    if (parts.length === 1) return parts[0];
    const all: number[] = [];
    for (const p of parts) for (let i = 0; i < p.length; i++) all.push(p[i]);
    return all.sort((a, b) => a - b);
  }

  /** Files `id` under hash `h`, growing the table past half full. */
  #slot(h: number, id: number): void {
    if (2 * (this.#slotsUsed + 1) > this.#slotIds.length) {
      const ids = this.#slotIds;
      const hashes = this.#slotHashes;
      this.#slotIds = new Int32Array(ids.length * 2);
      this.#slotHashes = new Uint32Array(ids.length * 2);
      this.#slotsUsed = 0;
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] !== 0) this.#slot(hashes[i], ids[i] - 1);
      }
    }
    const ids = this.#slotIds;
    const mask = ids.length - 1;
    let i = h & mask;
    while (ids[i] !== 0) i = (i + 1) & mask;
    ids[i] = id + 1;
    this.#slotHashes[i] = h;
    this.#slotsUsed++;
  }

  /**
   * Makes `labels` (made by {@linkcode indexLabels}) the index's own when
   * it is still as made (not frozen, names in sorted order, string
   * values): its values become the index's equal strings, and it is
   * frozen. Returns whether it did.
   */
  #keepMade(
    labels: SeriesLabels,
    names: readonly string[],
    n: number,
  ): boolean {
    _made = null;
    if (Object.isFrozen(labels)) return false;
    let i = 0;
    for (const name in labels) {
      if (names[i++] !== name || typeof labels[name] !== "string") {
        return false;
      }
    }
    const own = labels as Record<string, string>;
    for (i = 0; i < n; i++) own[names[i]] = this.#intern(own[names[i]]);
    Object.freeze(own);
    return true;
  }

  #intern(s: string): string {
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    this.#strings.set(s, s);
    return s;
  }
}
