/**
 * JSONata's standard functions for the compiled path. The synchronous ones
 * are the `jsonata` package's own implementations and signatures, taken
 * from it once at load (a top-level `await`: the package hands its
 * functions out only through an evaluation), so their answers and errors
 * are the package's by construction. The higher-order ones (`$map`,
 * `$filter`, `$reduce`, `$sort`, ...) and the string-or-matcher ones
 * (`$contains`, `$split`, `$replace`) are asynchronous in the package and
 * are written here again synchronously, following its src/functions.js
 * (2.2.2, © Copyright IBM Corp. 2016, 2017, MIT licence). A matcher
 * (regular expression) argument makes the compiled evaluation hand over to
 * the package ({@linkcode _Bail}).
 *
 * @module
 */
import jsonata from "jsonata";
import {
  _createSequence,
  _error,
  _functionArity,
  _isNumeric,
  _keys,
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
 * package does (a regular expression matcher): the caller evaluates the
 * expression again with the package. JSONata expressions have no side
 * effects, so running it again is safe.
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

/** Functions the compiled path leaves to the package (a compile-time choice). */
export const _UNCOMPILED_FUNCTIONS: ReadonlySet<string> = new Set(["eval"]);

const _packageDefs = await jsonata(
  `[${
    _BUILTIN_NAMES.filter((n) => !_UNCOMPILED_FUNCTIONS.has(n)).map((n) =>
      "$" + n
    ).join(",")
  }]`,
).evaluate(undefined) as _FunctionDef[];

const _byName: Record<string, _FunctionDef> = Object.create(null);
_BUILTIN_NAMES.filter((n) => !_UNCOMPILED_FUNCTIONS.has(n)).forEach((n, i) => {
  _byName[n] = _packageDefs[i];
});

function _boolean(arg: unknown): unknown {
  return _byName.boolean.implementation.call(
    undefined as unknown as _Focus,
    arg,
  );
}

function _string(arg: unknown): string {
  return _byName.string.implementation.call(
    undefined as unknown as _Focus,
    arg,
  ) as string;
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
    swap = (x, y) => (x as number) > (y as number);
  } else {
    swap = (x, y) => this.call(comparator, [x, y]);
  }
  return _mergeSort(a, swap);
}

function contains(this: _Focus, str: unknown, token: unknown): unknown {
  if (str === undefined || token === undefined) return undefined;
  if (typeof token !== "string") throw new _Bail("a matcher in $contains");
  return (str as string).indexOf(token) !== -1;
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
  if (limit === undefined || (limit as number) > 0) {
    if (typeof separator !== "string") throw new _Bail("a matcher in $split");
    return (str as string).split(separator, limit as number | undefined);
  }
  return [];
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
  if (typeof pattern !== "string" || typeof replacement !== "string") {
    throw new _Bail("a matcher or a function in $replace");
  }
  const s = str as string;
  if (limit !== undefined && !((limit as number) > 0)) return s;
  let result = "";
  let position = 0;
  let count = 0;
  let index = s.indexOf(pattern, position);
  while (index !== -1 && (limit === undefined || count < (limit as number))) {
    result += s.substring(position, index);
    result += replacement;
    position = index + pattern.length;
    count++;
    index = s.indexOf(pattern, position);
  }
  return result + s.substring(position);
}

function match(this: _Focus): unknown {
  throw new _Bail("$match");
}

function clone(this: _Focus, arg: unknown): unknown {
  if (arg === undefined) return undefined;
  return JSON.parse(_string(arg));
}

const _own: Record<
  string,
  (this: _Focus, ...args: never[]) => unknown
> = {
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
};

/**
 * The built-in functions of the compiled path, by name (without `$`),
 * each a fresh definition object (the evaluator sets `token` and
 * `position` on the one it calls, as the package does). `$now` and
 * `$millis` are bound per evaluation (see the compiler).
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
    const own = _own[name];
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

/** `$fromMillis`'s implementation, which `$now` formats with. */
export const _fromMillis: (
  this: _Focus,
  ...args: unknown[]
) => unknown = _byName.fromMillis.implementation;

/** `$now`'s and `$millis`'s signatures. */
export const _timeSignatures: { now: _Signature; millis: _Signature } = {
  now: (await jsonata("$now").evaluate(undefined) as _FunctionDef).signature!,
  millis: (await jsonata("$millis").evaluate(undefined) as _FunctionDef)
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
