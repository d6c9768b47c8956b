/**
 * JSONata's standard functions for the compiled path. The synchronous ones
 * are the `jsonata` package's own implementations and signatures, taken
 * from it once at load (a top-level `await`: the package hands its
 * functions out only through an evaluation), so their answers and errors
 * are the package's by construction. The higher-order ones (`$map`,
 * `$filter`, `$reduce`, `$sort`, ...) and the string-or-matcher ones
 * (`$contains`, `$split`, `$replace`) are asynchronous in the package and
 * are written here again synchronously, following its src/functions.js
 * (2.2.2, © Copyright IBM Corp. 2016, 2017, MIT licence), matchers
 * (regular expressions and custom matcher functions) included. What only
 * an asynchronous function could answer (a function given in bindings
 * that returns a promise) makes the compiled evaluation hand over to the
 * package ({@linkcode _Bail}).
 *
 * @module
 */
import jsonata from "jsonata";
import { _jsonShapeProblem } from "../engine/_json_shape.ts";
import {
  _chars,
  _items,
  _work,
  MAX_ITEMS,
  MAX_NESTING,
  MAX_STRING,
} from "./_growth.ts";
import {
  type _Clocked,
  _createSequence,
  _error,
  _functionArity,
  _isDeepEqual,
  _isNumeric,
  _isSequence,
  _keys,
  _readClock,
  type _Rec,
} from "./_values.ts";

/** What a built-in function sees as `this`, as in the `jsonata` package. */
export interface _Focus {
  input: unknown;
  environment: unknown;
  createSequence: typeof _createSequence;
  /** Calls a function value (a lambda, a definition or a JS function). */
  call(func: unknown, args: unknown[]): unknown;
}

/** A checked signature, as the `jsonata` package parses one. */
export interface _Signature {
  validate(args: unknown[], context: unknown): unknown[];
}

/** A built-in function value, shaped as the `jsonata` package's. */
export interface _FunctionDef {
  _jsonata_function: true;
  implementation: (this: _Focus, ...args: unknown[]) => unknown;
  signature?: _Signature;
  token?: unknown;
  position?: unknown;
}

/**
 * Thrown inside a compiled evaluation that meets what only the `jsonata`
 * package does (a function from bindings answering with a promise): the
 * caller evaluates the expression again with the package. JSONata
 * expressions have no side effects, so running it again is safe.
 */
export class _Bail extends Error {
  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { _Bail } from "./_builtins.ts";
   *
   * assert.equal(new _Bail("$match").name, "_Bail");
   * ```
   */
  constructor(what: string) {
    super(`the compiled JSONata path does not do ${what}`);
    this.name = "_Bail";
  }
}

/**
 * Whether a compiled evaluation that threw `e` is handed over to the
 * package: a {@linkcode _Bail}, or the runtime's stack overflow (the
 * compiled path recurses on the native stack, about 15 frames a JSONata
 * call; the package's asynchronous evaluation continues each step from the
 * microtask queue and goes far deeper: `$f(10000)` of a non-tail-recursive
 * `$f`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _Bail, _handsOver } from "./_builtins.ts";
 *
 * assert.equal(_handsOver(new _Bail("$x")), true);
 * assert.equal(_handsOver(new RangeError("Maximum call stack size exceeded")), true);
 * assert.equal(_handsOver(new RangeError("too large")), false);
 * ```
 */
export function _handsOver(e: unknown): boolean {
  return e instanceof _Bail ||
    (e instanceof RangeError && /call stack/i.test(e.message));
}

/**
 * Where an error that hands an evaluation over (see {@linkcode _handsOver})
 * carries the deadline of the time budget it ran under, in `Date.now()`
 * ms, once its clock was read: the package then gets what is left of it.
 */
export const _DEADLINE: unique symbol = Symbol("weir.expression.deadline");

/** Every function the `jsonata` package binds, by name. */
export const _BUILTIN_NAMES: readonly string[] = [
  "sum",
  "count",
  "max",
  "min",
  "average",
  "string",
  "substring",
  "substringBefore",
  "substringAfter",
  "lowercase",
  "uppercase",
  "length",
  "trim",
  "pad",
  "match",
  "contains",
  "replace",
  "split",
  "join",
  "formatNumber",
  "formatBase",
  "formatInteger",
  "parseInteger",
  "number",
  "floor",
  "ceil",
  "round",
  "abs",
  "sqrt",
  "power",
  "random",
  "boolean",
  "not",
  "map",
  "zip",
  "filter",
  "single",
  "reduce",
  "sift",
  "keys",
  "lookup",
  "append",
  "exists",
  "spread",
  "merge",
  "reverse",
  "each",
  "error",
  "assert",
  "type",
  "sort",
  "shuffle",
  "distinct",
  "base64encode",
  "base64decode",
  "encodeUrlComponent",
  "encodeUrl",
  "decodeUrlComponent",
  "decodeUrl",
  "eval",
  "toMillis",
  "fromMillis",
  "clone",
];

/** Functions the compiler defines itself (`$eval` compiles at run time). */
const _BY_COMPILER: ReadonlySet<string> = new Set(["eval"]);

const _packageDefs = await jsonata(
  `[${
    _BUILTIN_NAMES.filter((n) => !_BY_COMPILER.has(n)).map((n) => "$" + n).join(
      ",",
    )
  }]`,
).evaluate(undefined) as _FunctionDef[];

const _byName: Record<string, _FunctionDef> = Object.create(null);
_BUILTIN_NAMES.filter((n) => !_BY_COMPILER.has(n)).forEach((n, i) => {
  _byName[n] = _packageDefs[i];
});

/**
 * The package's `boolean` (JSONata truthiness), each array it looks into
 * counted as work: an array is true when any item is, and every item is
 * looked at (an infinite number among them throws D1001), so a value of
 * arrays that share each other is looked at along every path through it
 * (`$boolean($a)` of 61 arrays, 2^30 paths, ran past 30 s on both
 * runtimes, as a condition or a predicate on it did).
 */
function _boolean(arg: unknown): unknown {
  // A comparison's answer, the commonest: first.
  if (typeof arg === "boolean") return arg;
  if (arg === undefined) return undefined;
  if (Array.isArray(arg)) {
    _work(arg.length);
    if (arg.length === 1) return _boolean(arg[0]);
    let result = false;
    for (let i = 0; i < arg.length; i++) if (_boolean(arg[i])) result = true;
    return result;
  }
  if (typeof arg === "string") return arg.length > 0;
  if (_isNumeric(arg)) return arg !== 0;
  if (arg !== null && typeof arg === "object" && !_isFunctionValue(arg)) {
    return _keys(arg).length > 0;
  }
  return arg === true;
}

/** `$boolean`, counting its work (see `_boolean`). */
function boolean(arg: unknown): unknown {
  return _boolean(arg);
}

/** `$not`, counting its work (see `_boolean`). */
function not(arg: unknown): unknown {
  return arg === undefined ? undefined : !_boolean(arg);
}

function _string(arg: unknown): string {
  _stringBound(arg, "$string");
  return _byName.string.implementation.call(
    undefined as unknown as _Focus,
    arg,
  ) as string;
}

/**
 * Refuses to write `arg` as a JSON text longer than `MAX_STRING`, before
 * the package's `JSON.stringify` walks every path through it (a value of
 * a few dozen arrays that share each other can have billions).
 */
function _stringBound(arg: unknown, what: string): void {
  if (typeof arg !== "object" || arg === null) return;
  const problem = _jsonShapeProblem(arg, MAX_NESTING, MAX_STRING);
  if (problem === "long") {
    throw new RangeError(
      `${what} would make a string longer than the ${
        MAX_STRING.toLocaleString("en-US")
      } characters an expression may build`,
    );
  } else if (problem === "deep") {
    // JSON.stringify recurses: past the stack, JavaScriptCore took 2.5 s
    // to say so (Bun, 50,000 levels), and the package tried again.
    throw new RangeError(
      `${what} would write a value nested more than ${
        MAX_NESTING.toLocaleString("en-US")
      } levels deep, more than an expression may write`,
    );
  }
}

/**
 * `$string` within `MAX_STRING` (see `_stringBound`). One declared
 * parameter, as the package's (`prettify` has a default there): a
 * higher-order function passes as many arguments as that says.
 */
function string(this: _Focus, arg: unknown, ...rest: unknown[]): unknown {
  _stringBound(arg, "$string");
  return _byName.string.implementation.call(this, arg, ...rest);
}

/** `$join` within `MAX_STRING`, measured before the strings are joined. */
function join(this: _Focus, strs: unknown, separator: unknown): unknown {
  if (Array.isArray(strs) && strs.length > 1) {
    let n = typeof separator === "string"
      ? separator.length * (strs.length - 1)
      : 0;
    for (const s of strs) if (typeof s === "string") n += s.length;
    _chars(n, "$join");
  }
  return _byName.join.implementation.call(this, strs, separator);
}

/** `$append` within `MAX_ITEMS`. */
function append(this: _Focus, a: unknown, b: unknown): unknown {
  const size = (v: unknown) =>
    Array.isArray(v) ? v.length : v === undefined ? 0 : 1;
  _items(size(a) + size(b), "$append");
  return _byName.append.implementation.call(this, a, b);
}

/**
 * The package's `fn.lookup` (`$lookup`, and a path's name step): an
 * object's own property; over an array, each item's, flattened one level.
 * Each array it looks into counts as work, and the result holds at most
 * `MAX_ITEMS`: over arrays that share each other it looks along every
 * path through them (`$lookup($a, "x")` of 61 arrays, 2^30 paths, ran past
 * 30 s on both runtimes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _lookup } from "./_builtins.ts";
 *
 * assert.deepEqual([..._lookup([{ a: 1 }, { a: [2, 3] }], "a") as number[]], [1, 2, 3]);
 * assert.equal(_lookup({}, "toString"), undefined);
 * ```
 */
export function _lookup(input: unknown, key: string): unknown {
  if (Array.isArray(input)) {
    const result = _createSequence();
    _work(input.length);
    for (let i = 0; i < input.length; i++) {
      const res = _lookup(input[i], key);
      if (res !== undefined) {
        if (Array.isArray(res)) { for (const v of res) result.push(v); }
        else result.push(res);
        if (result.length > MAX_ITEMS) _items(result.length, "a path step");
      }
    }
    return result;
  }
  if (
    input !== null && typeof input === "object" &&
    Object.prototype.hasOwnProperty.call(input, key) &&
    !_isFunctionValue(input)
  ) return (input as _Rec)[key];
  return undefined;
}

/** `$lookup` (see {@linkcode _lookup}). */
function lookup(input: unknown, key: unknown): unknown {
  return _lookup(input, key as string);
}

/**
 * `$keys` as the package answers it (the keys of an object; of an array,
 * of each item, and of arrays in it, once each), each array it looks into
 * counted as work (see {@linkcode _lookup}).
 */
function keys(this: _Focus, arg: unknown): unknown {
  const result = this.createSequence();
  if (Array.isArray(arg)) {
    const merge: _Rec = Object.create(null);
    _keysInto(arg, merge);
    for (const key of _keys(merge)) result.push(key);
  } else if (
    arg !== null && typeof arg === "object" && !_isFunctionValue(arg)
  ) {
    for (const key of _keys(arg)) result.push(key);
  }
  return result;
}

/**
 * Adds to `merge` the keys of each item of `arr` (of an array's items,
 * depth first), in the order the package's `$keys` first meets them.
 */
function _keysInto(arr: unknown[], merge: _Rec): void {
  _work(arr.length);
  for (const item of arr) {
    if (Array.isArray(item)) _keysInto(item, merge);
    else if (
      item !== null && typeof item === "object" && !_isFunctionValue(item)
    ) { for (const key of _keys(item)) merge[key] = true; }
  }
}

/**
 * `$spread` as the package answers it (an object as an object per key;
 * over an array, each item spread and appended), in time linear in what
 * it makes: the package appends each item's to a copy of all before it
 * (`$spread` of 3,000,000 objects ran past 30 s on Bun). Each array it
 * looks into counts as work, and the result holds at most `MAX_ITEMS`.
 */
function spread(this: _Focus, arg: unknown): unknown {
  _work(1);
  if (Array.isArray(arg)) {
    _work(arg.length);
    // The package's append makes a plain array of the empty sequence it
    // starts from, at the first item that spreads to anything.
    let result: unknown[] | undefined;
    for (let i = 0; i < arg.length; i++) {
      const item = spread.call(this, arg[i]);
      if (item === undefined) continue;
      result ??= [];
      if (Array.isArray(item)) {
        const n = result.length + item.length;
        if (n > MAX_ITEMS) _items(n, "$spread");
        for (const v of item) result.push(v);
      } else if (result.push(item) > MAX_ITEMS) {
        _items(result.length, "$spread");
      }
    }
    return result ?? this.createSequence();
  }
  if (
    arg !== null && typeof arg === "object" &&
    (arg as _Rec)._jsonata_lambda !== true
  ) {
    const result = this.createSequence();
    const names = _keys(arg);
    _work(names.length);
    for (const key of names) {
      const obj: _Rec = Object.create(null);
      obj[key] = (arg as _Rec)[key];
      result.push(obj);
    }
    return result;
  }
  return arg;
}

/**
 * `$zip` as the package answers it (an array of the first items, of the
 * second, ..., as long as the shortest argument), each array it makes
 * counted as work: `$zip` of two 10,000,000-item arrays was one step of
 * 3.3 s on Deno.
 */
function zip(...args: unknown[]): unknown {
  const result: unknown[] = [];
  const length = Math.min(
    ...args.map((arg) => Array.isArray(arg) ? arg.length : 0),
  );
  for (let i = 0; i < length; i++) {
    _work(args.length);
    result.push(args.map((arg) => (arg as unknown[])[i]));
  }
  return result;
}

/** The arguments a higher-order function passes, by the callee's arity. */
function _hofArgs(func: unknown, a1: unknown, a2: unknown, a3: unknown) {
  const args = [a1];
  const length = _functionArity(func);
  if (length >= 2) args.push(a2);
  if (length >= 3) args.push(a3);
  return args;
}

function map(this: _Focus, arr: unknown, func: unknown): unknown {
  if (arr === undefined) return undefined;
  const a = arr as unknown[];
  const result = _createSequence();
  for (let i = 0; i < a.length; i++) {
    const res = this.call(func, _hofArgs(func, a[i], i, a));
    if (res !== undefined) result.push(res);
  }
  return result;
}

function filter(this: _Focus, arr: unknown, func: unknown): unknown {
  if (arr === undefined) return undefined;
  const a = arr as unknown[];
  const result = _createSequence();
  for (let i = 0; i < a.length; i++) {
    const res = this.call(func, _hofArgs(func, a[i], i, a));
    if (_boolean(res)) result.push(a[i]);
  }
  return result;
}

function single(this: _Focus, arr: unknown, func: unknown): unknown {
  if (arr === undefined) return undefined;
  const a = arr as unknown[];
  let found = false;
  let result;
  for (let i = 0; i < a.length; i++) {
    let positive = true;
    if (func !== undefined) {
      positive = Boolean(
        _boolean(this.call(func, _hofArgs(func, a[i], i, a))),
      );
    }
    if (positive) {
      if (found) throw _error("D3138", { index: i });
      result = a[i];
      found = true;
    }
  }
  if (!found) throw _error("D3139");
  return result;
}

function foldLeft(
  this: _Focus,
  sequence: unknown,
  func: unknown,
  init: unknown,
): unknown {
  if (sequence === undefined) return undefined;
  const s = sequence as unknown[];
  const arity = _functionArity(func);
  if (arity < 2) throw _error("D3050", { index: 1 });
  let result;
  let index;
  if (init === undefined && s.length > 0) {
    result = s[0];
    index = 1;
  } else {
    result = init;
    index = 0;
  }
  while (index < s.length) {
    const args = [result, s[index]];
    if (arity >= 3) args.push(index);
    if (arity >= 4) args.push(s);
    result = this.call(func, args);
    index++;
  }
  return result;
}

function sift(this: _Focus, arg: unknown, func: unknown): unknown {
  let result: _Rec | undefined = Object.create(null);
  for (const item of _keys(arg)) {
    const entry = (arg as _Rec)[item];
    if (_boolean(this.call(func, _hofArgs(func, entry, item, arg)))) {
      result![item] = entry;
    }
  }
  if (_keys(result).length === 0) result = undefined;
  return result;
}

function each(this: _Focus, obj: unknown, func: unknown): unknown {
  const result = _createSequence();
  for (const key of _keys(obj)) {
    const val = this.call(func, _hofArgs(func, (obj as _Rec)[key], key, obj));
    if (val !== undefined) result.push(val);
  }
  return result;
}

/**
 * JSONata's stable merge sort: `swap(a, b)` true puts `b` first. The
 * package merges recursively, one call per item; this merges in a loop,
 * taking the items in the same order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _mergeSort } from "./_builtins.ts";
 *
 * assert.deepEqual(_mergeSort([3, 1, 2], (a, b) => (a as number) > (b as number)), [1, 2, 3]);
 * ```
 */
export function _mergeSort(
  array: unknown[],
  swap: (a: unknown, b: unknown) => unknown,
): unknown[] {
  if (array.length <= 1) return array;
  const middle = Math.floor(array.length / 2);
  const left = _mergeSort(array.slice(0, middle), swap);
  const right = _mergeSort(array.slice(middle), swap);
  const merged: unknown[] = [];
  let l = 0;
  let r = 0;
  while (l < left.length && r < right.length) {
    if (swap(left[l], right[r])) merged.push(right[r++]);
    else merged.push(left[l++]);
  }
  while (l < left.length) merged.push(left[l++]);
  while (r < right.length) merged.push(right[r++]);
  return merged;
}

function sort(this: _Focus, arr: unknown, comparator: unknown): unknown {
  if (arr === undefined) return undefined;
  const a = arr as unknown[];
  if (a.length <= 1) return a;
  let swap: (x: unknown, y: unknown) => unknown;
  if (comparator === undefined) {
    // filter, not every: each item is checked (Infinity throws D1001).
    const numbers = a.filter((x) => !_isNumeric(x)).length === 0;
    if (!numbers && a.filter((x) => typeof x !== "string").length > 0) {
      throw _error("D3070", { index: 1 });
    }
    const clock = _clockOf(this);
    if (clock === undefined) swap = (x, y) => (x as number) > (y as number);
    else {
      // One step however long the list: the budget's clock is read every
      // 4,096 comparisons ($sort([1..10000000]) took 5 to 6 s and 1.1 GB).
      let compared = 0;
      swap = (x, y) => {
        if (++compared % _MATCHES_PER_LOOK === 0) _readClock(clock);
        return (x as number) > (y as number);
      };
    }
  } else {
    swap = (x, y) => this.call(comparator, [x, y]);
  }
  return _mergeSort(a, swap);
}

/** A regular expression's match, as the package's matcher closures give. */
interface _Match {
  match: string;
  start: number;
  end: number;
  groups: string[];
  next: () => _Match | undefined;
}

/** The package's `evaluateMatcher`: calls a matcher and checks its answer. */
function _evaluateMatcher(
  focus: _Focus | undefined,
  matcher: unknown,
  str: unknown,
): _Match | undefined {
  const result = (matcher as (this: unknown, s: unknown) => unknown).apply(
    focus,
    [str],
  );
  if (
    result !== null && typeof result === "object" &&
    typeof (result as { then?: unknown }).then === "function"
  ) throw new _Bail("an asynchronous matcher");
  const r = result as _Rec | undefined;
  if (
    r && !(typeof r.start === "number" || r.end === "number" ||
      Array.isArray(r.groups) || _isFunctionValue(r.next))
  ) throw _error("T1010");
  return r as unknown as _Match | undefined;
}

function _isFunctionValue(arg: unknown): boolean {
  if (typeof arg === "function") return true;
  return arg !== null && typeof arg === "object" &&
    ((arg as _Rec)._jsonata_function === true ||
      (arg as _Rec)._jsonata_lambda === true);
}

/**
 * The longest string `$pad` makes, in characters (code points): 16 Mi.
 * The package builds the padding as `new Array(width + 1).join(char)`,
 * so a width of a billion took Bun 174 s and 24 GB before the kernel
 * ended the process (V8 refuses a string past 2^29 - 24 UTF-16 units).
 */
export const MAX_PAD_LENGTH = 16_777_216;

/**
 * `$pad(str, width[, char])` as the package answers it (the padding is
 * `char` repeated, cut to as many code points as `width` asks beyond
 * `str`'s), made with `String.prototype.repeat`, and refused with a
 * `RangeError` when the result would hold more than
 * {@linkcode MAX_PAD_LENGTH} code points. Both paths use it: the compiled
 * one as a built-in, the package's through `registerFunction` (see
 * `compile_expression.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _pad, MAX_PAD_LENGTH } from "./_builtins.ts";
 *
 * assert.equal(_pad("a𝄞", 5, "💩"), "a𝄞💩💩💩");
 * assert.equal(_pad("7", -3, "0"), "007");
 * assert.throws(() => _pad("x", MAX_PAD_LENGTH + 1), RangeError);
 * ```
 */
export function _pad(str: unknown, width: unknown, char?: unknown): unknown {
  if (str === undefined) return undefined;
  const fill = char === undefined || (char as string).length === 0
    ? " "
    : char as string;
  const w = Math.trunc(width as number);
  const padLength = Math.abs(w) - _codePoints(str as string);
  if (!(padLength > 0)) return str;
  if (Math.abs(w) > MAX_PAD_LENGTH) {
    throw new RangeError(
      `$pad would make a string of ${
        Math.abs(w)
      } characters, more than the ${MAX_PAD_LENGTH} an expression may pad to`,
    );
  }
  const per = _codePoints(fill);
  let padding = fill.repeat(Math.ceil(padLength / per));
  if (per > 1) padding = _firstCodePoints(padding, padLength);
  return w > 0 ? str + padding : padding + str;
}

/**
 * `$length(str)` as the package answers it (the number of code points, a
 * lone surrogate counting as one), counted in place. The package builds
 * an array of every character first: `$length` of a 16 Mi-character
 * string took Bun 0.7 s and 281 MB, Deno 1.7 s and 554 MB, and of a
 * 2^28-character one (30 doublings with `&`) Deno 10 s and 3.3 GB before
 * it gave up, Bun (which makes strings up to 2^31) 24 GB until the kernel
 * ended it. Both paths use it, as {@linkcode _pad}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _length } from "./_builtins.ts";
 *
 * assert.equal(_length("a𝄞"), 2);
 * assert.equal(_length("\ud834x"), 2);
 * assert.equal(_length(undefined), undefined);
 * ```
 */
export function _length(str: unknown): unknown {
  if (str === undefined) return undefined;
  return _codePoints(str as string);
}

/**
 * `$substring(str, start[, length])` as the package answers it (code
 * points, a negative `start` counts from the end, a fractional one as
 * `Array.prototype.slice` takes it), cut from the string in place: the
 * package cuts an array of every character, as in {@linkcode _length}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _substring } from "./_builtins.ts";
 *
 * assert.equal(_substring("a𝄞bc", 1, 2), "𝄞b");
 * assert.equal(_substring("hello", -3), "llo");
 * assert.equal(_substring("hello", 1.5, 2.9), "ell");
 * ```
 */
export function _substring(
  str: unknown,
  start: unknown,
  length?: unknown,
): unknown {
  if (str === undefined) return undefined;
  const s = str as string;
  const strLength = _codePoints(s);
  let from = start as number;
  if (strLength + from < 0) from = 0;
  let end: number | undefined;
  if (length !== undefined) {
    const n = length as number;
    if (n <= 0) return "";
    end = from >= 0 ? from + n : strLength + from + n;
  }
  // The indexes as Array.prototype.slice reads them.
  const a = _sliceIndex(from, strLength);
  const b = end === undefined ? strLength : _sliceIndex(end, strLength);
  if (a >= b) return "";
  const at = _offsetOf(s, 0, 0, a);
  return s.slice(at, _offsetOf(s, at, a, b));
}

/** A slice index as `Array.prototype.slice` reads it, for `length` items. */
function _sliceIndex(i: number, length: number): number {
  const n = Math.trunc(i) || 0;
  return n < 0 ? Math.max(length + n, 0) : Math.min(n, length);
}

/**
 * The UTF-16 offset in `s` of code point `k`, walking from offset `i`,
 * which is code point `from`'s.
 */
function _offsetOf(s: string, i: number, from: number, k: number): number {
  for (let at = from; at < k && i < s.length; at++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length &&
        s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff
      ? 2
      : 1;
  }
  return i;
}

/**
 * `$distinct(arr)` as the package answers it (the first of each set of
 * deeply equal items, in order), found through a map of each item's
 * canonical text. The package compares each item with every one kept
 * before it, in one step the expression budget cannot interrupt:
 * `$distinct([1..1000000])` ran past 60 s on Bun, the host unanswering.
 * An item the text does not stand for exactly (a `NaN`, an `undefined`,
 * a function, an instance of a class, an object with a `length`) is
 * compared as the package does, with every item kept, and the budget's
 * clock read every 4,096 comparisons. Both paths use it, as
 * {@linkcode _pad}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _distinct } from "./_builtins.ts";
 *
 * const focus = { createSequence: () => [] } as never;
 * assert.deepEqual(
 *   _distinct.call(focus, [1, "1", { a: [1, 2], b: 0 }, 1, { b: -0, a: [1, 2] }]),
 *   [1, "1", { a: [1, 2], b: 0 }],
 * );
 * ```
 */
export function _distinct(this: _Focus, arr: unknown): unknown {
  if (arr === undefined) return undefined;
  if (!Array.isArray(arr) || arr.length <= 1) return arr;
  const results = (_isSequence(arr) ? this.createSequence() : []) as unknown[];
  const seen = new Set<string>();
  // Kept items without a canonical text: any item may equal one of them.
  const others: unknown[] = [];
  // Comparing with each is one step however many: the budget's clock is
  // read every 4,096 comparisons.
  const clock = _clockOf(this);
  let compared = 0;
  const equal = (x: unknown, y: unknown) => {
    if (clock !== undefined && ++compared % _MATCHES_PER_LOOK === 0) {
      _readClock(clock);
    }
    return _isDeepEqual(x, y);
  };
  for (let i = 0; i < arr.length; i++) {
    const value = arr[i];
    const text = _canonical(value, 0);
    if (text !== undefined && seen.has(text)) continue;
    let kept = false;
    if (text === undefined) {
      for (let j = 0; j < results.length && !kept; j++) {
        kept = equal(value, results[j]);
      }
    } else {
      for (let j = 0; j < others.length && !kept; j++) {
        kept = equal(value, others[j]);
      }
    }
    if (kept) continue;
    results.push(value);
    if (text === undefined) others.push(value);
    else seen.add(text);
  }
  return results;
}

/**
 * A text that two values share exactly when `_isDeepEqual` finds them
 * equal, or undefined for a value it cannot stand for so: JSON's values
 * (-0 as 0), arrays (by their items) and plain objects (their own
 * property names sorted) of them, no deeper than 1,000.
 */
function _canonical(v: unknown, depth: number): string | undefined {
  _work(1);
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? String(v) : undefined;
    case "boolean":
      return v ? "true" : "false";
    case "object":
      break;
    default:
      return undefined;
  }
  if (v === null) return "null";
  if (depth >= 1_000) return undefined;
  if (Array.isArray(v)) {
    let text = "[";
    for (let i = 0; i < v.length; i++) {
      const item = _canonical(v[i], depth + 1);
      if (item === undefined) return undefined;
      text += i === 0 ? item : "," + item;
      // Longer than an expression's string: compared item by item instead.
      if (text.length > MAX_STRING) return undefined;
    }
    return text + "]";
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const names = Object.getOwnPropertyNames(v).sort();
  // An object with a length may equal an array (the package compares an
  // array and an object by their property names).
  if (names.includes("length")) return undefined;
  let text = "{";
  for (let i = 0; i < names.length; i++) {
    const item = _canonical((v as _Rec)[names[i]], depth + 1);
    if (item === undefined) return undefined;
    text += (i === 0 ? "" : ",") + JSON.stringify(names[i]) + ":" + item;
    if (text.length > MAX_STRING) return undefined;
  }
  return text + "}";
}

/**
 * The longest picture string `$formatNumber`, `$formatInteger`,
 * `$fromMillis`, `$toMillis` and `$now` take, in UTF-16 units: 4,096.
 * The package reads a picture into arrays and strings many times its
 * length: a picture of 16 million characters took `$fromMillis` 9 s and
 * 2.5 GB (Bun), `$formatNumber` 2.7 s and 1 GB (Deno), `$formatInteger`
 * 2.5 s and 554 MB (Deno). A picture says how to write one number or one
 * time: a real one is a few dozen characters.
 */
export const MAX_PICTURE_LENGTH = 4_096;

/**
 * `impl` (a picture-taking function of the package, its picture argument
 * second) refusing a picture longer than {@linkcode MAX_PICTURE_LENGTH}
 * with a `RangeError` that names the function. Both paths use them, as
 * {@linkcode _pad}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _withPicture, MAX_PICTURE_LENGTH } from "./_builtins.ts";
 *
 * const f = _withPicture("fromMillis", (_n: unknown, p: unknown) => p);
 * assert.equal(f.call(undefined as never, 0, "[Y]"), "[Y]");
 * assert.throws(
 *   () => f.call(undefined as never, 0, "x".repeat(MAX_PICTURE_LENGTH + 1)),
 *   /^RangeError: \$fromMillis was given a picture of 4097 characters, more than the 4096 an expression may use$/,
 * );
 * ```
 */
export function _withPicture(
  name: string,
  impl: (this: _Focus, ...args: unknown[]) => unknown,
): (this: _Focus, ...args: unknown[]) => unknown {
  return function (this: _Focus, ...args: unknown[]): unknown {
    const picture = args[1];
    if (typeof picture === "string" && picture.length > MAX_PICTURE_LENGTH) {
      throw new RangeError(
        `$${name} was given a picture of ${picture.length} characters, more than the ${MAX_PICTURE_LENGTH} an expression may use`,
      );
    }
    return impl.apply(this, args);
  };
}

/** The functions that take a picture, each with its package signature. */
const _PICTURED: Readonly<Record<string, string>> = {
  formatNumber: "<n-so?:s>",
  formatInteger: "<n-s:s>",
  fromMillis: "<n-s?s?:s>",
  toMillis: "<s-s?:n>",
};

/** Code points of `s` (the package's `$length`). */
function _codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The first `n` code points of `s`. */
function _firstCodePoints(s: string, n: number): string {
  let i = 0;
  for (let k = 0; k < n && i < s.length; k++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length &&
        s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff
      ? 2
      : 1;
  }
  return s.slice(0, i);
}

function contains(this: _Focus, str: unknown, token: unknown): unknown {
  if (str === undefined || token === undefined) return undefined;
  if (typeof token === "string") return (str as string).indexOf(token) !== -1;
  return _evaluateMatcher(this, token, str) !== undefined;
}

/**
 * Matches a loop of `$match`, `$split` or `$replace` takes (and
 * comparisons `$sort` makes) between two looks at the budget's clock: one
 * step however many matches it makes, `$match(s, /a/)` over 16 Mi
 * characters took Bun 9 s and 3.7 GB, Deno 7 s and 1.9 GB, before the
 * budget could look.
 */
const _MATCHES_PER_LOOK = 4096;

/**
 * The budget's clock of the compiled evaluation that called a built-in
 * (its frame's run state), or undefined when it has none (no budget, or
 * the package's evaluation).
 */
function _clockOf(focus: _Focus): _Clocked | undefined {
  const run = (focus.environment as { run?: _Clocked } | undefined)?.run;
  return run !== undefined && run.deadline !== Infinity ? run : undefined;
}

function match(
  this: _Focus,
  str: unknown,
  regex: unknown,
  limit: unknown,
): unknown {
  if (str === undefined) return undefined;
  if ((limit as number) < 0) {
    throw _error("D3040", { value: limit, index: 3 });
  }
  const result = _createSequence();
  if (limit === undefined || (limit as number) > 0) {
    let count = 0;
    const clock = _clockOf(this);
    let matches = _evaluateMatcher(this, regex, str);
    while (
      matches !== undefined &&
      (limit === undefined || count < (limit as number))
    ) {
      if (clock !== undefined && count % _MATCHES_PER_LOOK === 0 && count > 0) {
        _readClock(clock);
      }
      result.push({
        match: matches.match,
        index: matches.start,
        groups: matches.groups,
      });
      matches = _evaluateMatcher(undefined, matches.next, undefined);
      count++;
    }
  }
  return result;
}

function split(
  this: _Focus,
  str: unknown,
  separator: unknown,
  limit: unknown,
): unknown {
  if (str === undefined) return undefined;
  if ((limit as number) < 0) {
    throw _error("D3020", { value: limit, index: 3 });
  }
  const s = str as string;
  let result: string[] = [];
  if (limit === undefined || (limit as number) > 0) {
    if (typeof separator === "string") {
      result = s.split(separator, limit as number | undefined);
    } else {
      let count = 0;
      const clock = _clockOf(this);
      let matches = _evaluateMatcher(this, separator, s);
      if (matches !== undefined) {
        let start = 0;
        while (
          matches !== undefined &&
          (limit === undefined || count < (limit as number))
        ) {
          if (
            clock !== undefined && count % _MATCHES_PER_LOOK === 0 && count > 0
          ) _readClock(clock);
          result.push(s.substring(start, matches.start));
          start = matches.end;
          matches = _evaluateMatcher(undefined, matches.next, undefined);
          count++;
        }
        if (limit === undefined || count < (limit as number)) {
          result.push(s.substring(start));
        }
      } else result.push(s);
    }
  }
  return result;
}

/** The package's `$n` substitution of a string replacement. */
function _substitute(replacement: string, regexMatch: _Match): string {
  let substitute = "";
  let position = 0;
  let index = replacement.indexOf("$", position);
  while (index !== -1 && position < replacement.length) {
    substitute += replacement.substring(position, index);
    position = index + 1;
    const dollarVal = replacement.charAt(position);
    if (dollarVal === "$") {
      substitute += "$";
      position++;
    } else if (dollarVal === "0") {
      substitute += regexMatch.match;
      position++;
    } else {
      let maxDigits;
      if (regexMatch.groups.length === 0) maxDigits = 1;
      else {
        maxDigits = Math.floor(
          Math.log(regexMatch.groups.length) * Math.LOG10E,
        ) + 1;
      }
      index = parseInt(
        replacement.substring(position, position + maxDigits),
        10,
      );
      if (maxDigits > 1 && index > regexMatch.groups.length) {
        index = parseInt(
          replacement.substring(position, position + maxDigits - 1),
          10,
        );
      }
      if (!isNaN(index)) {
        if (regexMatch.groups.length > 0) {
          const submatch = regexMatch.groups[index - 1];
          if (submatch !== undefined) substitute += submatch;
        }
        position += index.toString().length;
      } else substitute += "$";
    }
    index = replacement.indexOf("$", position);
  }
  return substitute + replacement.substring(position);
}

function replace(
  this: _Focus,
  str: unknown,
  pattern: unknown,
  replacement: unknown,
  limit: unknown,
): unknown {
  if (str === undefined) return undefined;
  if (pattern === "") throw _error("D3010", { value: pattern, index: 2 });
  if ((limit as number) < 0) {
    throw _error("D3011", { value: limit, index: 4 });
  }
  const s = str as string;
  if (limit !== undefined && !((limit as number) > 0)) return s;
  let result = "";
  let position = 0;
  let count = 0;
  if (typeof pattern === "string") {
    // The package adds the replacement as it is here (a function's text);
    // only a string's text is the same on both paths.
    if (typeof replacement !== "string") {
      throw new _Bail("a function replacing a string in $replace");
    }
    const clock = _clockOf(this);
    let index = s.indexOf(pattern, position);
    while (index !== -1 && (limit === undefined || count < (limit as number))) {
      if (clock !== undefined && count % _MATCHES_PER_LOOK === 0 && count > 0) {
        _readClock(clock);
      }
      result += s.substring(position, index);
      result += replacement;
      _chars(result.length, "$replace");
      position = index + pattern.length;
      count++;
      index = s.indexOf(pattern, position);
    }
    return result + s.substring(position);
  }
  const replacer = typeof replacement === "string"
    ? (m: _Match) => _substitute(replacement, m)
    : (m: _Match) =>
      (replacement as (this: unknown, m: unknown) => unknown).apply(this, [m]);
  const clock = _clockOf(this);
  let matches = _evaluateMatcher(this, pattern, s);
  if (matches === undefined) return s;
  while (
    matches !== undefined && (limit === undefined || count < (limit as number))
  ) {
    if (clock !== undefined && count % _MATCHES_PER_LOOK === 0 && count > 0) {
      _readClock(clock);
    }
    result += s.substring(position, matches.start);
    const replacedWith = replacer(matches);
    if (
      replacedWith !== null && typeof replacedWith === "object" &&
      typeof (replacedWith as { then?: unknown }).then === "function"
    ) throw new _Bail("an asynchronous replacer");
    if (typeof replacedWith === "string") result += replacedWith;
    else throw _error("D3012", { value: replacedWith });
    _chars(result.length, "$replace");
    position = matches.start + matches.match.length;
    count++;
    matches = _evaluateMatcher(undefined, matches.next, undefined);
  }
  return result + s.substring(position);
}

function clone(this: _Focus, arg: unknown): unknown {
  if (arg === undefined) return undefined;
  return JSON.parse(_string(arg));
}

/**
 * The package's functions that take a picture, bounded by
 * {@linkcode _withPicture}, with their signatures: the compiled path's,
 * and the package's through `registerFunction`.
 */
export const _pictured: Readonly<
  Record<string, {
    implementation: (this: _Focus, ...args: unknown[]) => unknown;
    signature: string;
  }>
> = Object.fromEntries(
  Object.entries(_PICTURED).map(([name, signature]) => [name, {
    implementation: _withPicture(name, _byName[name].implementation),
    signature,
  }]),
);

const _own: Record<
  string,
  (this: _Focus, ...args: never[]) => unknown
> = {
  boolean,
  not,
  lookup,
  keys,
  spread,
  zip,
  map,
  filter,
  single,
  reduce: foldLeft,
  sift,
  each,
  sort,
  contains,
  split,
  replace,
  match,
  clone,
  string,
  join,
  append,
  pad: _pad,
  length: _length,
  substring: _substring,
  distinct: _distinct,
};

/**
 * The compiled path's `$string`, `$join` and `$append`, which refuse a
 * string longer than `MAX_STRING` or an array of more than `MAX_ITEMS`
 * before building it and are otherwise the package's own, with the
 * package's signatures: registered on the package too, so that an
 * expression left to it is bounded as a compiled one is.
 */
export const _bounded: Readonly<
  Record<string, {
    implementation: (this: _Focus, ...args: unknown[]) => unknown;
    signature: string;
  }>
> = Object.fromEntries(
  ["string", "join", "append"].map((name) => [name, {
    implementation: _own[name] as (this: _Focus, ...args: unknown[]) => unknown,
    // The package's parsed signature keeps its text.
    signature: (_byName[name].signature as unknown as { definition: string })
      .definition,
  }]),
);

/**
 * The built-in functions of the compiled path, by name (without `$`),
 * each a fresh definition object (the evaluator sets `token` and
 * `position` on the one it calls, as the package does). `$now`,
 * `$millis` and `$eval` are the compiler's (see _compile_ast.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _builtins } from "./_builtins.ts";
 *
 * assert.equal(typeof _builtins().substring.implementation, "function");
 * ```
 */
export function _builtins(): Record<string, _FunctionDef> {
  const defs: Record<string, _FunctionDef> = Object.create(null);
  for (const name of Object.keys(_byName)) {
    const own = _own[name] ?? _pictured[name]?.implementation;
    defs[name] = {
      _jsonata_function: true,
      implementation: (own ?? _byName[name].implementation) as (
        this: _Focus,
        ...args: unknown[]
      ) => unknown,
      signature: _byName[name].signature,
    };
  }
  return defs;
}

/**
 * `$fromMillis`'s implementation, which `$now` formats with (its picture
 * bounded as `$fromMillis`'s, the name `$now`'s).
 */
export const _fromMillis: (
  this: _Focus,
  ...args: unknown[]
) => unknown = _withPicture("now", _byName.fromMillis.implementation);

/** `$now`'s, `$millis`'s and `$eval`'s signatures. */
export const _ownSignatures: {
  now: _Signature;
  millis: _Signature;
  eval: _Signature;
} = {
  now: (await jsonata("$now").evaluate(undefined) as _FunctionDef).signature!,
  millis: (await jsonata("$millis").evaluate(undefined) as _FunctionDef)
    .signature!,
  eval: (await jsonata("$eval").evaluate(undefined) as _FunctionDef)
    .signature!,
};

/** The `jsonata` package's `$boolean` (JSONata truthiness). */
export const _toBoolean: (arg: unknown) => unknown = _boolean;
/** The `jsonata` package's `$string`. */
export const _toString: (arg: unknown) => string = _string;
/** The `jsonata` package's `$lookup` semantics (a path step's name). */
export const _lookupImpl: (this: _Focus, ...args: unknown[]) => unknown =
  _byName.lookup.implementation;
/** The `jsonata` package's `$append`. */
export const _appendImpl: (this: _Focus, ...args: unknown[]) => unknown =
  _byName.append.implementation;
