/**
 * JSONata's value model as the compiled path needs it: sequences (arrays
 * flagged `sequence`), function values, deep equality and the plain-object
 * errors the `jsonata` package throws. Each function here follows the one of
 * the same name in the `jsonata` package 2.2.2 (src/utils.js, src/jsonata.js;
 * © Copyright IBM Corp. 2016, 2017, MIT licence), synchronously.
 *
 * @module
 */
import { _work } from "./_growth.ts";

/** An array as JSONata flags it. */
export type _Seq = unknown[] & {
  sequence?: boolean;
  keepSingleton?: boolean;
  cons?: boolean;
  outerWrapper?: boolean;
  tupleStream?: boolean;
};

/** An object with string keys, as JSONata reads one. */
export type _Rec = Record<string, unknown>;

/** A JSONata error: a plain object with a code, as the package throws. */
export type _JsonataError = _Rec & {
  code?: string;
  position?: number;
  token?: unknown;
};

/**
 * A new sequence, holding `item` when one is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _createSequence, _isSequence } from "./_values.ts";
 *
 * assert.equal(_isSequence(_createSequence(1)), true);
 * assert.equal(_createSequence(1).length, 1);
 * ```
 */
export function _createSequence(...item: unknown[]): _Seq {
  const sequence: _Seq = [];
  sequence.sequence = true;
  if (item.length === 1) sequence.push(item[0]);
  return sequence;
}

/**
 * Whether `value` is a sequence (not a JSON array).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _isSequence } from "./_values.ts";
 *
 * assert.equal(_isSequence([1]), false);
 * ```
 */
export function _isSequence(value: unknown): value is _Seq {
  return Array.isArray(value) && (value as _Seq).sequence === true;
}

/**
 * A JSONata number test: `NaN` is not one, and an infinite number throws
 * D1001 as in the `jsonata` package.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _isNumeric } from "./_values.ts";
 *
 * assert.equal(_isNumeric(1), true);
 * assert.throws(() => _isNumeric(Infinity), { code: "D1001" });
 * ```
 */
export function _isNumeric(n: unknown): n is number {
  if (typeof n !== "number") return false;
  if (n !== n) return false;
  if (!isFinite(n)) throw _error("D1001", { value: n });
  return true;
}

/**
 * Whether `arg` is a JSONata function value (a lambda, a built-in
 * definition or a JavaScript function).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _isFunction } from "./_values.ts";
 *
 * assert.equal(_isFunction(() => 1), true);
 * assert.equal(_isFunction({}), false);
 * ```
 */
export function _isFunction(arg: unknown): boolean {
  if (typeof arg === "function") return true;
  if (arg === null || typeof arg !== "object") return false;
  const a = arg as _Rec;
  return a._jsonata_function === true || a._jsonata_lambda === true;
}

/**
 * JSONata's number of parameters of a function value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _functionArity } from "./_values.ts";
 *
 * assert.equal(_functionArity((a: unknown, b: unknown) => [a, b]), 2);
 * ```
 */
export function _functionArity(func: unknown): number {
  const f = func as _Rec;
  if (typeof f.arity === "number") return f.arity;
  if (typeof f.implementation === "function") {
    return (f.implementation as () => unknown).length;
  }
  if (typeof f.length === "number") return f.length;
  return (f.arguments as unknown[]).length;
}

/**
 * JSONata's `=`: deep equality of arrays and objects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _isDeepEqual } from "./_values.ts";
 *
 * assert.equal(_isDeepEqual({ a: [1] }, { a: [1] }), true);
 * ```
 */
export function _isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (
    typeof lhs !== "object" || typeof rhs !== "object" || lhs === null ||
    rhs === null
  ) return false;
  // Values that share parts of each other have as many paths to compare
  // as their text has items: the loop counts them (see _growth.ts).
  _work(1);
  if (Array.isArray(lhs) && Array.isArray(rhs)) {
    if (lhs.length !== rhs.length) return false;
    for (let i = 0; i < lhs.length; i++) {
      if (!_isDeepEqual(lhs[i], rhs[i])) return false;
    }
    return true;
  }
  const lkeys = Object.getOwnPropertyNames(lhs).sort();
  const rkeys = Object.getOwnPropertyNames(rhs).sort();
  if (lkeys.length !== rkeys.length) return false;
  for (let i = 0; i < lkeys.length; i++) {
    if (lkeys[i] !== rkeys[i]) return false;
  }
  for (const key of lkeys) {
    if (!_isDeepEqual((lhs as _Rec)[key], (rhs as _Rec)[key])) return false;
  }
  return true;
}

/**
 * The keys JSONata iterates: an object's own enumerable ones, none for
 * anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _keys } from "./_values.ts";
 *
 * assert.deepEqual(_keys({ a: 1 }), ["a"]);
 * assert.deepEqual(_keys(1), []);
 * ```
 */
export function _keys(arg: unknown): string[] {
  return typeof arg === "object" && arg !== null ? Object.keys(arg) : [];
}

/** The part of an evaluation's budget its clock keeps (see `_readClock`). */
export interface _Clocked {
  /** `Date.now()` ms past which it fails; 0 until the first look. */
  deadline: number;
  /** Its budget, ms. */
  timeout: number;
}

/**
 * One look at an evaluation's clock: the first starts it (the deadline is
 * `timeout` from now), a later one past the deadline fails the evaluation
 * with JSONata's D1012, as the package's `timeout` option does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _readClock } from "./_values.ts";
 *
 * const run = { deadline: 0, timeout: 1000 };
 * _readClock(run);
 * assert.ok(run.deadline > 0);
 * run.deadline = 1;
 * assert.throws(() => _readClock(run), { code: "D1012" });
 * ```
 */
export function _readClock(run: _Clocked): void {
  const now = Date.now();
  if (run.deadline === 0) run.deadline = now + run.timeout;
  else if (now > run.deadline) throw _error("D1012", { value: run.timeout });
}

/**
 * A JSONata error object with `code` and the given fields, carrying a
 * stack as the package's do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _error } from "./_values.ts";
 *
 * assert.equal(_error("T2001", { value: "a" }).code, "T2001");
 * ```
 */
export function _error(code: string, fields?: _Rec): _JsonataError {
  return { code, stack: new Error().stack, ...fields };
}
