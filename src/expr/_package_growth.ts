/**
 * The bounds of `_growth.ts` on an evaluation left to the `jsonata`
 * package: no array of more than {@linkcode MAX_ITEMS} items, no string
 * joined longer than {@linkcode MAX_STRING} characters, refused with the
 * `RangeError` a compiled evaluation throws.
 *
 * The package's time budget is read as each step starts, so one step that
 * builds without end is not stopped by it: a path step flattens the
 * arrays its items give after the last of them (`[1..100].$y` of a
 * 10,000,000-item `$y` makes a billion items, past 3 GB in 3.5 to 6.5 s on both
 * runtimes with a budget of 1 s), and appending (`$a := [$a, $a]` thirty
 * times) copies a whole array in one step. Here each array is bounded as
 * it is built, an item at a time (a sequence's `push`) or as a whole (an
 * append, with the package's own `sequence` bound set to
 * {@linkcode MAX_ITEMS}), and each string `&` or `$replace` makes is
 * looked at after its step (`$join` and `$string` are the compiled
 * path's, registered on the package in compile_expression.ts).
 *
 * A bound on each value, as on the compiled path, rather than on all an
 * evaluation makes: a count of every item made would refuse an evaluation
 * that a longer budget allows (up to 2^31-1 ms) or that has none
 * (`evaluateNow`), where the compiled path would answer; with a budget,
 * the time budget ends the steps that each build within the bounds.
 *
 * @module
 */
import type jsonata from "jsonata";
import { _populateMessage } from "./_error_messages.ts";
import { _findNode, type _Node } from "./_find_node.ts";
import { _chars, _tooLarge, MAX_ITEMS, MAX_STRING } from "./_growth.ts";

/** The package's hooks as each step starts and ends. */
const _ENTRY = Symbol.for("jsonata.__evaluate_entry");
const _EXIT = Symbol.for("jsonata.__evaluate_exit");

/** What the hooks see of the package's environment of a step. */
interface _Environment {
  base: {
    options?: Record<string, unknown>;
    createSequence: (...item: unknown[]) => unknown[];
    bind(name: symbol, value: unknown): void;
  };
}

/**
 * Bounds what an evaluation of `expression` builds: each evaluation's
 * sequences and appends, the strings its `&` and `$replace` make, and its
 * failures past a bound worded as the compiled path's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import jsonata from "jsonata";
 * import { _boundGrowth } from "./_package_growth.ts";
 *
 * const e = jsonata("($y := [1..10000000]; [1, 2].$y)");
 * _boundGrowth(e);
 * await assert.rejects(
 *   e.evaluate({}),
 *   /^RangeError: a step would make an array of 16,777,217 items, more than the 16,777,216 an expression may build$/,
 * );
 * ```
 */
export function _boundGrowth(expression: jsonata.Expression): void {
  const assign = expression.assign as unknown as (
    name: symbol,
    value: unknown,
  ) => void;
  assign(_ENTRY, _boundEvaluation);
  // The hook after each step costs the package 8-18% of its speed (one
  // more await a step): only where a string may be joined.
  if (_findNode(expression.ast(), _joinsStrings) !== undefined) {
    assign(_EXIT, _joinedWithin);
  }
  // (weir never passes the package's callback.)
  const evaluate = expression.evaluate.bind(expression) as (
    input: unknown,
    bindings?: Record<string, unknown>,
  ) => Promise<unknown>;
  expression.evaluate =
    ((input, bindings) =>
      evaluate(input, bindings).catch((e: unknown) => {
        throw _appendedTooMuch(e);
      })) as typeof evaluate as jsonata.Expression["evaluate"];
}

/**
 * The hook as an evaluation's first step starts: from then on its
 * sequences are {@linkcode _boundedSequence}s and its appends (and
 * ranges) are bounded by the package's `sequence` option, then the hook
 * takes itself out of that evaluation (a step after it costs nothing).
 * Set here, not as the package's option: its own bounded sequence has an
 * enumerable `push` that `Object.keys` of every result would show.
 */
function _boundEvaluation(
  _node: unknown,
  _input: unknown,
  environment: _Environment,
): void {
  const base = environment.base;
  base.options = { ...base.options, sequence: MAX_ITEMS };
  base.createSequence = _boundedSequence;
  base.bind(_ENTRY, undefined);
}

/**
 * The package's sequence, whose `push` refuses an item past `MAX_ITEMS`
 * (not enumerable, as no result shows it). Defining it costs V8 about
 * 0.2 µs a sequence, JavaScriptCore a tenth of that: the package makes
 * three or so for each item a predicate looks at, and
 * `$count(items[price > 5].name)` over 50,000 items went from 70 to
 * 100-108 ms on Deno, 85 to 92 on Bun (no cost where a step makes none,
 * `$sum([1..200000].($ * 2))`). The package path is the compiler's
 * fallback; bounding every sequence leaves no way round the bound.
 */
function _boundedSequence(...item: unknown[]): unknown[] {
  const sequence = [] as unknown[] & { sequence?: boolean };
  Object.defineProperty(sequence, "push", {
    value: _push,
    writable: true,
    configurable: true,
  });
  sequence.sequence = true;
  if (item.length === 1) sequence.push(item[0]);
  return sequence;
}

function _push(this: unknown[], ...items: unknown[]): number {
  const n = this.length + items.length;
  if (n > MAX_ITEMS) {
    throw _tooLarge("a step", "an array", n, "items", MAX_ITEMS);
  }
  return Array.prototype.push.apply(this, items);
}

/**
 * Whether `node` joins strings where the package does not bound them
 * (`&`, `$replace`), or evaluates a text that may (`$eval`).
 */
function _joinsStrings(node: _Node): boolean {
  if (node.type === "binary") return node.value === "&";
  const name = node.type === "function" ? node.procedure?.value : undefined;
  return name === "replace" || name === "eval";
}

/**
 * The hook as a step ends: refuses a string longer than `MAX_STRING` that
 * `&` or `$replace` made (the compiled path refuses it before building;
 * `&` makes a rope, not yet the characters). One a step only passes on,
 * a long field of the input, is not refused.
 */
function _joinedWithin(
  node: _Node,
  _input: unknown,
  _environment: unknown,
  result: unknown,
): void {
  if (typeof result !== "string" || result.length <= MAX_STRING) return;
  if (node.type === "binary" && node.value === "&") {
    _chars(result.length, "joining strings with &");
  } else if (node.type === "function" && node.procedure?.value === "replace") {
    _chars(result.length, "$replace");
  }
}

/**
 * The package's D2015, an append past its `sequence` bound (the size it
 * would make as its `value`), as the compiled path's `RangeError`, keeping
 * the package's `position`; within `$eval`'s D3121, as the compiled
 * `$eval` words it (that error as its `error` and `value`). Anything else
 * is given back as it is.
 */
function _appendedTooMuch(e: unknown): unknown {
  const error = e as Record<string, unknown> | null;
  if (error?.code === "D3121") {
    const inner = _appendedTooMuch(error.error);
    if (inner !== error.error) {
      error.error = inner;
      error.value = (inner as Error).message;
      _populateMessage(error);
    }
    return e;
  }
  if (error?.code !== "D2015" || typeof error.value !== "number") return e;
  const refusal = _tooLarge(
    "appending",
    "an array",
    error.value,
    "items",
    MAX_ITEMS,
    { cause: e },
  );
  return typeof error.position === "number"
    ? Object.assign(refusal, { position: error.position })
    : refusal;
}
