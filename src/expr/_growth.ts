/**
 * Bounds on what one step of a compiled evaluation may build, and the
 * clock of the evaluation under way for the loops inside one step.
 *
 * A step of JSONata can copy an array or join strings of any length, so
 * counting steps does not bound the work: `$a := [$a, $a]` thirty times is
 * thirty steps and a billion items (Bun took the machine's 24 GB before
 * the kernel ended it), `$s := $s & $s` the same in characters, and a
 * comparison or a flattening of values that share parts of each other
 * walks every path through them. Here each such array or string is
 * bounded ({@linkcode MAX_ITEMS}, {@linkcode MAX_STRING}), and the loops
 * count their work ({@linkcode _work}), reading the clock of the budget
 * under way every {@linkcode WORK_PER_LOOK} items, so that a budget of
 * 1,000 ms ends such an evaluation near 1,000 ms.
 *
 * @module
 */
import { type _Clocked, _readClock } from "./_values.ts";

/**
 * The most items an array built by an expression may hold (by appending,
 * an array constructor, flattening): 16 Mi (16,777,216), more than the
 * 10,000,000 of JSONata's own bound on a range (D2014).
 */
export const MAX_ITEMS = 16_777_216;

/**
 * The longest string an expression may build by joining strings (`&`,
 * `$join`, `$replace`, `$string`): 16 Mi (16,777,216) UTF-16 units, as
 * `$pad`'s bound.
 */
export const MAX_STRING = 16_777_216;

/**
 * The deepest value `$string` (and `&`, `$clone`) writes as JSON, in
 * objects and arrays within each other: 10,000. `JSON.stringify` recurses,
 * and the package's (with a replacer) runs out of stack near 10,000
 * levels on Deno; on Bun it took 2.5 s to say so at 50,000, after which
 * the package evaluated the expression again.
 */
export const MAX_NESTING = 10_000;

/**
 * The longest text `$eval` parses, in UTF-16 units: 1 Mi (1,048,576).
 * The package's parser reads a text in one step the budget cannot
 * interrupt, at 0.15 to 0.3 µs a character: an object of 1,000,000 keys
 * (7 million characters) took `$eval` 6 s on both runtimes.
 */
export const MAX_EVAL_TEXT = 1_048_576;

/** Items of work between two looks at the clock. */
export const WORK_PER_LOOK = 65_536;

let _clock: _Clocked | undefined;
let _left = WORK_PER_LOOK;

/**
 * Makes `clock` the budget that {@linkcode _work} looks at (`undefined`:
 * none), and answers the one it replaces: set by each compiled evaluation
 * as it starts and given back as it ends, so that no evaluation looks at
 * the clock of one before it (the package's, which `$distinct` counts
 * work in, failed with another's D1012 once that one's deadline had
 * passed), and one started inside another (by a JavaScript function bound
 * to it) leaves the outer one its budget.
 */
export function _workFor(clock: _Clocked | undefined): _Clocked | undefined {
  const before = _clock;
  _clock = clock;
  _left = WORK_PER_LOOK;
  return before;
}

/**
 * Counts `n` items of work of the evaluation under way; every
 * {@linkcode WORK_PER_LOOK} items, a look at its clock (JSONata's D1012
 * past its deadline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _work, _workFor, WORK_PER_LOOK } from "./_growth.ts";
 *
 * _workFor({ deadline: 1, timeout: 5 });
 * _work(WORK_PER_LOOK - 1);
 * assert.throws(() => _work(2), { code: "D1012" });
 * _workFor(undefined);
 * _work(2 * WORK_PER_LOOK);
 * ```
 */
export function _work(n: number): void {
  if ((_left -= n) < 0) {
    _left = WORK_PER_LOOK;
    if (_clock !== undefined) _readClock(_clock);
  }
}

/**
 * Counts as work a built-in function's call and the length of each
 * string or array in `args`, its arguments: its loop over them (a
 * sum, a copy, a shuffle, a pass over a string's characters) is one step
 * however long they are, so that `[1..100].$sum($x)` of a 10,000,000-item
 * `$x` looks at the clock before each sum, not every 64 steps (Bun held
 * it 7 s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _workFor, _workOn, WORK_PER_LOOK } from "./_growth.ts";
 *
 * _workFor({ deadline: 1, timeout: 5 });
 * _workOn([1, "x".repeat(WORK_PER_LOOK - 3), { length: 10 }]);
 * assert.throws(() => _workOn([[1, 2, 3]]), { code: "D1012" });
 * _workFor(undefined);
 * ```
 */
export function _workOn(args: readonly unknown[]): void {
  // One for the call: a higher-order function calling a built-in itself
  // ($map($x, $string)) takes no step between calls (10,000,000 of them
  // held both runtimes 9 s).
  let n = 1;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === "string" || Array.isArray(arg)) n += arg.length;
  }
  _work(n);
}

/**
 * Refuses an array of `n` items built by `what` when `n` is more than
 * {@linkcode MAX_ITEMS}, and counts its copy as work.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _items, MAX_ITEMS } from "./_growth.ts";
 *
 * _items(10, "an append");
 * assert.throws(() => _items(MAX_ITEMS + 1, "an append"), RangeError);
 * ```
 */
export function _items(n: number, what: string): void {
  if (n > MAX_ITEMS) throw _tooLarge(what, "an array", n, "items", MAX_ITEMS);
  if (n >= 1024) _work(n);
}

/**
 * Refuses a string of `n` UTF-16 units built by `what` when `n` is more
 * than {@linkcode MAX_STRING}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _chars, MAX_STRING } from "./_growth.ts";
 *
 * _chars(10, "&");
 * assert.throws(() => _chars(MAX_STRING + 1, "&"), /more than the 16,777,216/);
 * ```
 */
export function _chars(n: number, what: string): void {
  if (n > MAX_STRING) {
    throw _tooLarge(what, "a string", n, "characters", MAX_STRING);
  }
}

/**
 * The `RangeError` that refuses {@linkcode _items}' and
 * {@linkcode _chars}' growth, for a refusal made elsewhere (on the `jsonata`
 * package's sequences and appends, _package_growth.ts) to read the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _tooLarge, MAX_ITEMS } from "./_growth.ts";
 *
 * assert.equal(
 *   _tooLarge("appending", "an array", 2 ** 25, "items", MAX_ITEMS).message,
 *   "appending would make an array of 33,554,432 items, more than the 16,777,216 an expression may build",
 * );
 * ```
 */
export function _tooLarge(
  what: string,
  made: string,
  n: number,
  units: string,
  max: number,
  options?: ErrorOptions,
): RangeError {
  return new RangeError(
    `${what} would make ${made} of ${
      n.toLocaleString("en-US")
    } ${units}, more than the ${
      max.toLocaleString("en-US")
    } an expression may build`,
    options,
  );
}
