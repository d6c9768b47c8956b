/**
 * JSONata's operators and the value helpers the compiled path's steps
 * share: name lookup, append, flattening, descendants, truthiness and the
 * binary operators, each as the function of the same name in the `jsonata`
 * package 2.2.2 (src/jsonata.js, src/functions.js; © Copyright IBM Corp.
 * 2016, 2017, MIT licence) does it, within the bounds of `_growth.ts` (an
 * array or string past them is refused; long loops count their work).
 *
 * @module
 */
import { _lookup, _toBoolean, _toString } from "./_builtins.ts";
import { _chars, _items, _work, MAX_ITEMS } from "./_growth.ts";
import {
  _createSequence,
  _error,
  _isDeepEqual,
  _isFunction,
  _isNumeric,
  _keys,
  type _Rec,
  type _Seq,
} from "./_values.ts";

/**
 * `Object.prototype.hasOwnProperty`, as the package tests a name with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _hasOwn } from "./_operators.ts";
 *
 * assert.equal(_hasOwn.call({ a: 1 }, "a"), true);
 * ```
 */
export const _hasOwn = Object.prototype.hasOwnProperty;

/**
 * The package's `fn.lookup`: a name step on one value (see `_builtins.ts`,
 * where `$lookup` is the same function).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _lookup } from "./_operators.ts";
 *
 * assert.deepEqual([..._lookup([{ a: 1 }, { a: [2, 3] }], "a") as number[]], [1, 2, 3]);
 * ```
 */
export { _lookup };

/**
 * The package's `fn.append`: two values or sequences as one array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _append } from "./_operators.ts";
 *
 * assert.deepEqual(_append(1, [2, 3]), [1, 2, 3]);
 * assert.equal(_append(undefined, 4), 4);
 * ```
 */
export function _append(arg1: unknown, arg2: unknown): unknown {
  if (arg1 === undefined) return arg2;
  if (arg2 === undefined) return arg1;
  const a1 = Array.isArray(arg1) ? arg1 : _createSequence(arg1);
  const a2 = Array.isArray(arg2) ? arg2 : [arg2];
  _items(a1.length + a2.length, "appending");
  return a1.concat(a2);
}

/**
 * The package's `flatten`: every non-array in `arg`, depth first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _flatten } from "./_operators.ts";
 *
 * assert.deepEqual(_flatten([1, [2, [3]]], []), [1, 2, 3]);
 * ```
 */
export function _flatten(arg: unknown, flattened: unknown[]): unknown[] {
  _work(1);
  if (Array.isArray(arg)) { for (const item of arg) _flatten(item, flattened); }
  else if (flattened.push(arg) > MAX_ITEMS) {
    _items(flattened.length, "flattening");
  }
  return flattened;
}

/**
 * The package's `isArrayOfNumbers` (an infinite item throws D1001).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _isArrayOfNumbers } from "./_operators.ts";
 *
 * assert.equal(_isArrayOfNumbers([1, 2]), true);
 * assert.equal(_isArrayOfNumbers([1, "2"]), false);
 * ```
 */
export function _isArrayOfNumbers(arg: unknown): boolean {
  return Array.isArray(arg) && arg.filter((i) => !_isNumeric(i)).length === 0;
}

/**
 * The package's `isArrayOfStrings`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _isArrayOfStrings } from "./_operators.ts";
 *
 * assert.equal(_isArrayOfStrings(["a"]), true);
 * ```
 */
export function _isArrayOfStrings(arg: unknown): boolean {
  return Array.isArray(arg) &&
    arg.filter((i) => typeof i !== "string").length === 0;
}

/**
 * The package's `boolize`: JSONata truthiness, undefined as false.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _boolize } from "./_operators.ts";
 *
 * assert.equal(_boolize(undefined), false);
 * assert.equal(_boolize([0, 1]), true);
 * ```
 */
export function _boolize(value: unknown): boolean {
  const b = _toBoolean(value);
  return b === undefined ? false : b as boolean;
}

/**
 * The package's `recurseDescendants` (`**`): every value under `input`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _descendants } from "./_operators.ts";
 *
 * const found: unknown[] = [];
 * _descendants({ a: { b: 1 } }, found);
 * assert.deepEqual(found, [{ a: { b: 1 } }, { b: 1 }, 1]);
 * ```
 */
export function _descendants(input: unknown, results: unknown[]): void {
  // Values that share parts of each other have as many descendants as
  // paths through them: each one visited is work, and they fill an array.
  _work(1);
  if (!Array.isArray(input) && results.push(input) > MAX_ITEMS) {
    _items(results.length, "a descendants step (**)");
  }
  if (Array.isArray(input)) {
    for (const member of input) _descendants(member, results);
  } else if (
    input !== null && typeof input === "object" && !_isFunction(input)
  ) {
    for (const key of _keys(input)) _descendants((input as _Rec)[key], results);
  }
}

/**
 * The binary operators but `and`/`or` (which short-circuit), as the
 * package's `evaluateBinary` applies them to evaluated sides; their errors
 * lack position and token, which the caller adds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _binaryOps } from "./_operators.ts";
 *
 * assert.equal(_binaryOps["+"](1, 2), 3);
 * assert.equal(_binaryOps["+"](1, undefined), undefined);
 * assert.throws(() => _binaryOps["<"]("a", 1), { code: "T2009" });
 * ```
 */
export const _binaryOps: Record<string, (l: unknown, r: unknown) => unknown> = {
  "+": (l, r) => _numeric(l, r) && (l as number) + (r as number),
  "-": (l, r) => _numeric(l, r) && (l as number) - (r as number),
  "*": (l, r) => _numeric(l, r) && (l as number) * (r as number),
  "/": (l, r) => _numeric(l, r) && (l as number) / (r as number),
  "%": (l, r) => _numeric(l, r) && (l as number) % (r as number),
  "=": (l, r) => l !== undefined && r !== undefined && _isDeepEqual(l, r),
  "!=": (l, r) => l !== undefined && r !== undefined && !_isDeepEqual(l, r),
  "<": (l, r) => _compare(l, r) && (l as number) < (r as number),
  "<=": (l, r) => _compare(l, r) && (l as number) <= (r as number),
  ">": (l, r) => _compare(l, r) && (l as number) > (r as number),
  ">=": (l, r) => _compare(l, r) && (l as number) >= (r as number),
  "&": (l, r) => {
    const a = l === undefined ? "" : _toString(l);
    const b = r === undefined ? "" : _toString(r);
    _chars(a.length + b.length, "joining strings with &");
    return a.concat(b);
  },
  "..": _range,
  "in": (l, r) => {
    if (l === undefined || r === undefined) return false;
    const list = Array.isArray(r) ? r : [r];
    for (const item of list) if (item === l) return true;
    return false;
  },
};

/**
 * The package's checks of `+ - * / %`: true when both sides are numbers;
 * `undefined` (either side undefined) short-circuits the `&&` above.
 */
function _numeric(l: unknown, r: unknown): true | undefined {
  if (l !== undefined && !_isNumeric(l)) throw _error("T2001", { value: l });
  if (r !== undefined && !_isNumeric(r)) throw _error("T2002", { value: r });
  if (l === undefined || r === undefined) return undefined;
  return true;
}

/** The package's checks of `< <= > >=`, as `_numeric`. */
function _compare(l: unknown, r: unknown): true | undefined {
  const ltype = typeof l;
  const rtype = typeof r;
  const lok = ltype === "undefined" || ltype === "string" ||
    ltype === "number";
  const rok = rtype === "undefined" || rtype === "string" ||
    rtype === "number";
  if (!lok || !rok) {
    throw _error("T2010", {
      value: !(ltype === "string" || ltype === "number") ? l : r,
    });
  }
  if (ltype === "undefined" || rtype === "undefined") return undefined;
  if (ltype !== rtype) throw _error("T2009", { value: l, value2: r });
  return true;
}

function _range(l: unknown, r: unknown): unknown {
  if (l !== undefined && !Number.isInteger(l)) {
    throw _error("T2003", { value: l });
  }
  if (r !== undefined && !Number.isInteger(r)) {
    throw _error("T2004", { value: r });
  }
  if (l === undefined || r === undefined) return undefined;
  const lo = l as number;
  const hi = r as number;
  if (lo > hi) return undefined;
  const size = hi - lo + 1;
  if (size > 1e7) throw _error("D2014", { value: size });
  _work(size);
  const result: _Seq = new Array(size);
  for (let item = lo, index = 0; item <= hi; item++, index++) {
    result[index] = item;
  }
  result.sequence = true;
  return result;
}
