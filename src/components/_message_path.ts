/**
 * Reading and writing parts of a message by path (`payload.a.b`,
 * `items[0].v`, `a["b c"]`), for the data-shaping components
 * (`flow/Switch`, `flow/Change`, `flow/Window`, `flow/Join`), and the
 * "path or JSONata expression" options they share.
 *
 * A path reads a field as JavaScript does (as Node-RED's `msg.` properties
 * do): own properties only, no mapping over arrays. Writes copy on write:
 * the objects and arrays along the path are copied, the rest is shared, so
 * a message that fan-out hands to several processes is never changed in
 * place.
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";
import {
  compileExpression,
  type Expression,
} from "../expr/compile_expression.ts";
import {
  evaluateExpressionWithin,
  type ExpressionBudget,
  type ExpressionSite,
} from "../expr/evaluate_expression.ts";
import { toPlain } from "../expr/to_plain.ts";
import { setOwnField } from "./_own_field.ts";

/**
 * The most items a write past an array's end may leave unset before the
 * index it writes (holes: `null` in JSON). `a[999999999]` written to a
 * short array made one of a billion items: Bun then took 90 s and 2.2 GB
 * to turn the message into JSON, and any JSON of it fails.
 */
export const MAX_ARRAY_HOLES = 10_000;

/** One step of a path: an object key or an array index. */
export type _Segment = string | number;

const _IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const _INDEX = /\[(\d{1,9})\]/y;
const _QUOTED = /\[("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\]/y;
/** JSONata's literals and operators, never read as a field name. */
const _WORDS = new Set(["true", "false", "null", "and", "or", "in"]);

/**
 * The segments of `text` when it is a path (`a.b`, `a[0]`, `a["b c"]`),
 * `[]` for the whole message (`""` or `"$"`), else `undefined` (not a
 * path: an expression). A path that names `__proto__` is refused with a
 * `RangeError`: writing it would change an object's prototype.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parsePath } from "./_message_path.ts";
 *
 * assert.deepEqual(_parsePath("payload.items[2]['a b']"), ["payload", "items", 2, "a b"]);
 * assert.deepEqual(_parsePath(""), []);
 * assert.equal(_parsePath("temp > 30"), undefined);
 * ```
 */
export function _parsePath(text: string): _Segment[] | undefined {
  const s = text.trim();
  if (s === "" || s === "$") return [];
  const segments: _Segment[] = [];
  let at = 0;
  let needIdent = true;
  while (at < s.length) {
    if (needIdent || s[at] === ".") {
      if (!needIdent) at++;
      _IDENT.lastIndex = at;
      const m = _IDENT.exec(s);
      if (m === null || _WORDS.has(m[0])) return undefined;
      segments.push(m[0]);
      at = _IDENT.lastIndex;
      needIdent = false;
      continue;
    }
    _INDEX.lastIndex = at;
    const index = _INDEX.exec(s);
    if (index !== null) {
      segments.push(Number(index[1]));
      at = _INDEX.lastIndex;
      continue;
    }
    _QUOTED.lastIndex = at;
    const quoted = _QUOTED.exec(s);
    if (quoted === null) return undefined;
    const body = quoted[1];
    try {
      segments.push(
        body[0] === '"'
          ? JSON.parse(body)
          : JSON.parse(`"${body.slice(1, -1).replace(/\\'/g, "'")}"`),
      );
    } catch {
      return undefined;
    }
    at = _QUOTED.lastIndex;
  }
  if (segments.includes("__proto__")) {
    throw new RangeError(
      `the path ${
        JSON.stringify(text)
      } names __proto__, which no message field may be`,
    );
  }
  return segments;
}

/** Whether `v` holds fields a path can read or copy (an object or array). */
function _isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return v !== null && typeof v === "object";
}

/**
 * The value at `segments` in `value`, or `undefined` where a step is
 * missing (own properties only: `constructor` is no field of `{}`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _getPath } from "./_message_path.ts";
 *
 * assert.equal(_getPath({ a: [{ b: 5 }] }, ["a", 0, "b"]), 5);
 * assert.equal(_getPath({ a: 1 }, ["a", "b"]), undefined);
 * assert.equal(_getPath({}, ["constructor"]), undefined);
 * ```
 */
export function _getPath(
  value: unknown,
  segments: readonly _Segment[],
): unknown {
  let v = value;
  for (let i = 0; i < segments.length; i++) {
    if (!_isContainer(v)) return undefined;
    const k = segments[i];
    if (_inherited(k) && !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * Whether an object or an array inherits a property `k` (`constructor`,
 * `map`, `length`), which a path must not read: only then is the own
 * check needed (it costs about 60 ns a read on Deno).
 */
function _inherited(k: _Segment): boolean {
  return typeof k === "string" &&
    (k in Object.prototype || k in Array.prototype);
}

/** `segments` written back as path text, for error messages. */
export function _pathText(segments: readonly _Segment[]): string {
  let s = "";
  for (const k of segments) {
    if (typeof k === "number") s += `[${k}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) s += s === "" ? k : `.${k}`;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s === "" ? "$" : s;
}

/**
 * `value` with `next` at `segments`, copied on write: each object or array
 * along the path is copied (the input is never changed), missing steps are
 * created (an object, or an array before an index). A step that holds
 * something else (a number, a string) throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _setPath } from "./_message_path.ts";
 *
 * const msg = { a: { b: 1 }, c: [1] };
 * const out = _setPath(msg, ["a", "d", "e"], 2) as { a: { b: number }; c: number[] };
 * assert.deepEqual(out, { a: { b: 1, d: { e: 2 } }, c: [1] });
 * assert.deepEqual(msg, { a: { b: 1 }, c: [1] });
 * assert.equal(out.c, msg.c);
 * assert.throws(() => _setPath({ a: 5 }, ["a", "b"], 1), /"a" holds number 5/);
 * ```
 */
export function _setPath(
  value: unknown,
  segments: readonly _Segment[],
  next: unknown,
  owned?: object[],
): unknown {
  return _write(value, segments, 0, next, owned);
}

/**
 * `value` without the field at `segments` (an array item is spliced out),
 * copied on write; `value` itself when there is nothing to delete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _deletePath } from "./_message_path.ts";
 *
 * const msg = { a: { b: 1, c: 2 }, l: [1, 2, 3] };
 * assert.deepEqual(_deletePath(msg, ["a", "b"]), { a: { c: 2 }, l: [1, 2, 3] });
 * assert.deepEqual(_deletePath(msg, ["l", 1]), { a: { b: 1, c: 2 }, l: [1, 3] });
 * assert.equal(_deletePath(msg, ["x", "y"]), msg);
 * ```
 */
export function _deletePath(
  value: unknown,
  segments: readonly _Segment[],
  owned?: object[],
): unknown {
  if (segments.length === 0) return undefined;
  return _remove(value, segments, 0, owned);
}

/**
 * A copy of `v` to write into, or `v` itself when this message's writes
 * made it (it is in `owned`): a list of operations copies each object
 * once. The copy joins `owned`.
 */
function _writable(
  v: Record<string, unknown> | unknown[],
  owned: object[] | undefined,
): Record<string, unknown> | unknown[] {
  if (owned !== undefined && owned.includes(v)) return v;
  const copy = Array.isArray(v) ? v.slice() : { ...v };
  owned?.push(copy);
  return copy;
}

/**
 * A copy of object `v` without key `k`, built without `delete`: deleting a
 * property sends a V8 object to its slow dictionary form (a copy and a
 * delete cost 1.5 µs on Deno, this about 0.4). An own `__proto__` field (a
 * parsed JSON message may have one) is copied as a field: assigned, it
 * would set the copy's prototype where the runtime has that accessor.
 */
function _without(
  v: Record<string, unknown>,
  k: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in v) {
    if (key !== k && Object.hasOwn(v, key)) setOwnField(out, key, v[key]);
  }
  return out;
}

function _fresh(k: _Segment, owned: object[] | undefined) {
  const fresh: Record<string, unknown> | unknown[] = typeof k === "number"
    ? []
    : {};
  owned?.push(fresh);
  return fresh;
}

/**
 * Where step `at` of `segments` is, for an error: the message itself, or
 * the path that leads to it, quoted (`"a.b"`).
 */
function _where(segments: readonly _Segment[], at: number): string {
  return at === 0
    ? "the message"
    : JSON.stringify(_pathText(segments.slice(0, at)));
}

function _write(
  value: unknown,
  segments: readonly _Segment[],
  at: number,
  next: unknown,
  owned: object[] | undefined,
): unknown {
  if (at === segments.length) return next;
  const k = segments[at];
  if (typeof k === "number") {
    // Only an array, or a missing step (made an array), has an end to
    // write past; an object takes the index as a key, and anything else
    // fails below as no object.
    const length = Array.isArray(value)
      ? value.length
      : value === undefined || value === null
      ? 0
      : undefined;
    if (length !== undefined && k - length > MAX_ARRAY_HOLES) {
      throw new RangeError(
        `cannot write ${_pathText(segments)}: index ${k} is ${
          k - length
        } items past the end of ${
          _where(segments, at)
        } (${length} items), and a write may leave at most ${MAX_ARRAY_HOLES} unset before it`,
      );
    }
  }
  let target: Record<string, unknown> | unknown[];
  let child: unknown;
  if (_isContainer(value)) {
    target = _writable(value, owned);
    child = _inherited(k) && !Object.hasOwn(value, k)
      ? undefined
      : (value as Record<string, unknown>)[k];
  } else if (value === undefined || value === null) {
    target = _fresh(k, owned);
    child = undefined;
  } else {
    throw new TypeError(
      `cannot write ${_pathText(segments)}: ${_where(segments, at)} ${
        at === 0 ? "is" : "holds"
      } ${describeValue(value)}${at === 0 ? ", not an object" : ""}`,
    );
  }
  (target as Record<string, unknown>)[k] = _write(
    child,
    segments,
    at + 1,
    next,
    owned,
  );
  return target;
}

function _remove(
  value: unknown,
  segments: readonly _Segment[],
  at: number,
  owned: object[] | undefined,
): unknown {
  const k = segments[at];
  if (!_isContainer(value) || !Object.hasOwn(value, k)) return value;
  if (at === segments.length - 1) {
    if (Array.isArray(value)) {
      // An array's own "length" is no item: splice("length") took out
      // the first one (a move of items.length emptied items[0]).
      if (typeof k === "string" && String(Number(k)) !== k) return value;
      const copy = _writable(value, owned) as unknown[];
      copy.splice(Number(k), 1);
      return copy;
    }
    const copy = _without(value, String(k));
    owned?.push(copy);
    return copy;
  }
  const child = (value as Record<string, unknown>)[k];
  const written = _remove(child, segments, at + 1, owned);
  if (written === child) return value;
  const copy = _writable(value, owned);
  (copy as Record<string, unknown>)[k] = written;
  return copy;
}

/**
 * Reads one value out of a message: by path (as {@linkcode _getPath}, no
 * promise) or by a JSONata expression (compiled once, when the option is
 * parsed), whichever the option's text is.
 */
export class _Selector {
  /** The option's text. */
  readonly source: string;
  /** The path's segments, when the text is a path. */
  readonly path: readonly _Segment[] | undefined;
  /** The compiled expression, when the text is not a path. */
  readonly expression: Expression | undefined;

  /**
   * Use {@linkcode _Selector.parse}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { _Selector } from "./_message_path.ts";
   *
   * assert.deepEqual(new _Selector("a", ["a"], undefined).path, ["a"]);
   * ```
   */
  constructor(
    source: string,
    path: readonly _Segment[] | undefined,
    expression: Expression | undefined,
  ) {
    this.source = source;
    this.path = path;
    this.expression = expression;
    const k = path?.length === 1 ? path[0] : undefined;
    this.#plainKey = k !== undefined && !_inherited(k) ? k : undefined;
  }

  /** The one key of a one-step path that nothing inherits: read as is. */
  readonly #plainKey: _Segment | undefined;

  /**
   * A control port's `parse` for "a path or a JSONata expression": a path
   * (`temp`, `payload.a`, `items[0]`; `""` or `"$"` for the message
   * itself), else JSONata text, compiled now so that a bad one is a
   * validation problem (a `SyntaxError` naming the position).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { _Selector } from "./_message_path.ts";
   *
   * assert.deepEqual(_Selector.parse("payload.temp").path, ["payload", "temp"]);
   * assert.equal(_Selector.parse("$sum(items.v)").expression?.compiled, true);
   * assert.throws(() => _Selector.parse("temp >"), SyntaxError);
   * assert.throws(() => _Selector.parse(3), TypeError);
   * ```
   */
  static parse(value: unknown): _Selector {
    // A port's default is already parsed; parsing it again keeps it.
    if (value instanceof _Selector) return value;
    if (typeof value !== "string") {
      throw new TypeError(
        `expected a path (such as "payload.temp") or a JSONata expression, received ${
          describeValue(value)
        }`,
      );
    }
    const path = _parsePath(value);
    if (path !== undefined) return new _Selector(value, path, undefined);
    return new _Selector(value, undefined, compileExpression(value));
  }

  /**
   * The value selected from `msg`: at once for a path or a compiled
   * expression, a promise for an expression left to the `jsonata`
   * package. A JSONata result is made plain ({@linkcode toPlain}); an
   * evaluation over `budget` throws the `BudgetError` naming `site`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { _Selector } from "./_message_path.ts";
   *
   * const budget = { timeoutMs: 1000, maxDepth: 100 };
   * const site = { flow: "f", process: "P" };
   * assert.equal(_Selector.parse("a.b").select({ a: { b: 2 } }, budget, site), 2);
   * assert.equal(_Selector.parse("a.b * 2").select({ a: { b: 2 } }, budget, site), 4);
   * ```
   */
  select(
    msg: unknown,
    budget: ExpressionBudget,
    site: ExpressionSite,
  ): unknown {
    const path = this.path;
    if (path !== undefined) {
      if (this.#plainKey !== undefined) {
        return msg !== null && typeof msg === "object"
          ? (msg as Record<string, unknown>)[this.#plainKey]
          : undefined;
      }
      return _getPath(msg, path);
    }
    const r = evaluateExpressionWithin(this.expression!, msg, budget, site);
    if (r instanceof Promise) return r.then(toPlain);
    return toPlain(r);
  }
}
