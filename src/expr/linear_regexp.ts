/**
 * Regular expressions from graphs, run on RE2 (the `re2js` package, a
 * port of Go's `regexp`): matching takes time linear in the text whatever
 * the pattern, so a graph cannot block the host with catastrophic (or
 * polynomial) backtracking (issue 18: a `strings/Split` delimiter took
 * 1.5 s per 26-character message on Bun, 14.7 s on Deno).
 *
 * The text of the pattern is JavaScript's (as JSONata and NoFlo take it);
 * it is rewritten to RE2's syntax with the same meaning (see
 * `_re2_syntax.ts`). What RE2 cannot match in linear time is refused with
 * the feature named: backreferences (`\1`, `\k<name>`), lookahead
 * (`(?=`, `(?!`), lookbehind (`(?<=`, `(?<!`), inline modifier groups,
 * repetition counts above 1000. Nothing falls back to the backtracking
 * engine. Known differences from JavaScript's engine, on patterns and
 * text few flows meet (tests/expr/linear_regexp_test.ts compares the two
 * engines on thousands of generated patterns otherwise):
 *
 * - a capture group inside a repeated group keeps the value of the last
 *   repetition that took part (`(?:x(a)|y){2}` on `xay` gives `a`);
 *   JavaScript resets it at each repetition (`undefined`);
 * - a repeated group whose body can match nothing (`(a*|b)*`) may end at
 *   another place: JavaScript refuses an empty repetition and backtracks
 *   into the earlier ones, RE2 stops;
 * - a character outside the Basic Multilingual Plane (an emoji) is one
 *   character for `.` and classes (JavaScript without `u` sees two
 *   halves);
 * - with the `m` flag, `^` and `$` see only `\n` as a line end (JavaScript
 *   also `\r`, U+2028, U+2029);
 * - `i` folds case by Unicode's simple folding (so `ſ` matches `s`, which
 *   JavaScript's `i` without `u` does not).
 *
 * A pattern that is linear by construction runs on JavaScript's engine
 * (see {@linkcode LinearRegExp}), so these differences are RE2's only.
 *
 * @module
 */
import { RE2JS } from "re2js";
import { _toRe2 } from "./_re2_syntax.ts";

/**
 * The most steps (characters of text to scan times instructions of the
 * RE2 program) one match, test or split may take: 2^25 (33,554,432),
 * about 0.5 s at the 16 ns a step RE2JS takes on both runtimes. Linear
 * in the text is not cheap in the pattern: `[a-z]{1,100}[0-9]` (202
 * instructions) took 3.2 s to find nothing in 1,000,000 characters, in
 * one call nothing can interrupt. Beyond, a `RangeError` says so.
 */
export const MAX_REGEX_STEPS = 33_554_432;

/**
 * A pattern linear by construction costs JavaScript's engine up to its
 * choices at each start position, 1 to 2 ns each: counted as one step of
 * {@linkcode MAX_REGEX_STEPS} for every 8 (`[a-z]{1,256}[0-9]` took Deno
 * 9 s, Bun 4 s, to find nothing in 16,000,000 characters).
 */
const _NATIVE_CHOICES_PER_STEP = 8;

/**
 * A text no longer than this is never refused on JavaScript's engine
 * (256 choices a start: 2^20 steps at most), so the hot path of short
 * lines skips the count.
 */
const _NATIVE_FREE = 32_768;

/**
 * How a pattern runs: on RE2, on JavaScript's engine (a pattern linear by
 * construction, see below), or refused with the reason.
 */
type _Program =
  | { re2: RE2JS; refused?: undefined }
  | {
    /** Global, shared: `exec` sets `lastIndex` before each (sync) use. */
    native: RegExp;
    /** Without `g`, for `split`, which would copy a global one each call. */
    split: RegExp;
    /** Choices one start position offers, at most 256. */
    choices: number;
    re2?: undefined;
    refused?: undefined;
  }
  | { refused: string; re2?: undefined };

/**
 * Programs by flags and source: the `jsonata` package constructs its
 * `RegexEngine` at every evaluation of a regular expression, and a
 * program is stateless, so compiling once per pattern is enough.
 */
const _programs = new Map<string, _Program>();
const _MAX_PROGRAMS = 512;

/** Whether every pattern runs on RE2 (tests compare the engines). */
let _re2Only = false;

/**
 * Runs every pattern on RE2, even those linear by construction (`true`),
 * or lets those run on JavaScript's engine again (`false`, the default):
 * for tests that check RE2's answers on a whole suite.
 */
export function _useRe2Only(on: boolean): void {
  _re2Only = on;
  _programs.clear();
}

function _program(source: string, flags: string): _Program {
  const key = `${flags}/${source}`;
  let program = _programs.get(key);
  if (program !== undefined) return program;
  const syntax = _toRe2(source, flags);
  if (syntax.feature !== undefined) {
    program = {
      refused:
        `it uses ${syntax.feature}, which the linear-time regular expression engine (RE2) does not support`,
    };
  } else if (syntax.linear && !_re2Only) {
    const plain = flags.replace("g", "");
    program = {
      native: new RegExp(source, plain + "g"),
      split: new RegExp(source, plain),
      choices: syntax.choices,
    };
  } else {
    try {
      program = { re2: RE2JS.compile(syntax.pattern, syntax.flags) };
    } catch (e) {
      program = {
        refused:
          `the linear-time regular expression engine (RE2) cannot compile it: ${
            (e as Error).message
          }`,
      };
    }
  }
  if (_programs.size >= _MAX_PROGRAMS) {
    _programs.delete(_programs.keys().next().value as string);
  }
  _programs.set(key, program);
  return program;
}

/**
 * Why `source` (a JavaScript pattern, valid for `new RegExp(source,
 * flags)`) cannot run on the linear-time engine, or `undefined` when it
 * can: a sentence naming the feature, for a validation problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearRegexProblem } from "./linear_regexp.ts";
 *
 * assert.equal(linearRegexProblem("(a+)+$"), undefined);
 * assert.match(linearRegexProblem("(a)\\1")!, /backreference "\\1"/);
 * assert.match(linearRegexProblem("a(?=b)")!, /lookahead/);
 * ```
 */
export function linearRegexProblem(
  source: string,
  flags = "",
): string | undefined {
  return _program(source, flags).refused;
}

/**
 * A regular expression with `RegExp`'s interface where JSONata and
 * `String.prototype.split` use it (`exec`, `test`, `lastIndex`, `source`,
 * `flags`, `Symbol.split`), matched in time linear in the text. It is the
 * `RegexEngine` given to the `jsonata` package, so it constructs from a
 * `RegExp` as well as from text; a pattern RE2 cannot run throws a
 * `SyntaxError` naming the feature (see {@linkcode linearRegexProblem}).
 *
 * RE2JS costs 10 to 100 times JavaScript's engine on short text (about
 * 1-15 µs against 0.03-0.2 µs a match or split of a 40-character line;
 * bench/regex_bench.ts), so a pattern that JavaScript's backtracking
 * engine provably runs in linear time runs there
 * ({@linkcode LinearRegExp.engine} `"native"`): no unbounded repetition
 * (`*`, `+`, `{n,}`), no repeated group holding a choice, and at most 256
 * choices (alternatives times repetition counts) per start position, as
 * `,`, `[;,]`, `\r?\n`, `(\d{4})-(\d\d)` or `^(GET|POST) `. Everything
 * else runs on RE2 (`"re2"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinearRegExp } from "./linear_regexp.ts";
 *
 * const re = new LinearRegExp(/(\d+)-(\d+)/g);
 * assert.equal(re.engine, "re2");
 * re.lastIndex = 2;
 * const m = re.exec("a 10-20 30-40")!;
 * assert.deepEqual([...m], ["10-20", "10", "20"]);
 * assert.equal(m.index, 2);
 * assert.equal(re.lastIndex, 7);
 * assert.deepEqual("a, b;c".split(new LinearRegExp("\\s*[,;]\\s*")), ["a", "b", "c"]);
 * assert.equal(new LinearRegExp("[,;]").engine, "native");
 * // (a+)+$ backtracks exponentially in JavaScript's engine; here it is linear.
 * assert.equal(new LinearRegExp("(a+)+$").test("a".repeat(5000) + "!"), false);
 * assert.throws(() => new LinearRegExp("(a)\\1"), SyntaxError);
 * ```
 */
export class LinearRegExp {
  /** The pattern's text, as JavaScript's. */
  readonly source: string;
  /** The flags, as JavaScript's (`g`, `i`, `m`, `s`). */
  readonly flags: string;
  /** Whether `exec` starts at, and moves, {@linkcode LinearRegExp.lastIndex}. */
  readonly global: boolean;
  /** Where the next `exec` starts when {@linkcode LinearRegExp.global}. */
  lastIndex = 0;
  /** The RE2 program, or undefined when JavaScript's engine runs it. */
  readonly #re2: RE2JS | undefined;
  /** RE2's named groups (name to number), when the pattern has any. */
  readonly #named: Record<string, number> | undefined;
  /** JavaScript's engine (global), for a pattern linear by construction. */
  readonly #native: RegExp | undefined;
  /** The same without `g`, for `split`. */
  readonly #nativeSplit: RegExp | undefined;
  /** Its choices at one start position (see `_NATIVE_CHOICES_PER_STEP`). */
  readonly #choices: number = 1;
  /** The matcher of the last text, reused while the text is the same. */
  #matcher: ReturnType<RE2JS["matcher"]> | undefined;
  #input: string | undefined;

  /**
   * `pattern` is JavaScript regular expression text, a `RegExp` or a
   * `LinearRegExp` (its flags unless `flags` is given).
   */
  constructor(pattern: string | RegExp | LinearRegExp, flags?: string) {
    const source = typeof pattern === "string" ? pattern : pattern.source;
    this.flags = flags ??
      (typeof pattern === "string" ? "" : pattern.flags);
    this.source = source;
    this.global = this.flags.includes("g");
    const program = _program(source, this.flags);
    if (program.refused !== undefined) {
      throw new SyntaxError(
        `Cannot run the regular expression /${source}/: ${program.refused}`,
      );
    }
    this.#re2 = program.re2;
    const named = program.re2?.namedGroups();
    this.#named = named !== undefined && Object.keys(named).length > 0
      ? named
      : undefined;
    if (program.re2 === undefined) {
      this.#native = program.native;
      this.#nativeSplit = program.split;
      this.#choices = program.choices;
    }
  }

  /** Which engine matches: RE2, or JavaScript's for a linear pattern. */
  get engine(): "re2" | "native" {
    return this.#re2 === undefined ? "native" : "re2";
  }

  /**
   * Refuses a scan of `input` from `start` that may take more than
   * {@linkcode MAX_REGEX_STEPS}: nothing interrupts one once begun. A text
   * of {@linkcode _NATIVE_FREE} characters or fewer on JavaScript's engine
   * is not counted.
   */
  #bound(input: string, start: number): void {
    const length = input.length - start;
    if (this.#re2 === undefined && length <= _NATIVE_FREE) return;
    const steps = this.#re2 !== undefined
      ? length * this.#re2.programSize()
      : Math.ceil(length * this.#choices / _NATIVE_CHOICES_PER_STEP);
    if (steps > MAX_REGEX_STEPS) {
      throw new RangeError(
        `the regular expression /${this.source}/ would take up to ${
          steps.toLocaleString("en-US")
        } steps over ${
          length.toLocaleString("en-US")
        } characters, more than the ${
          MAX_REGEX_STEPS.toLocaleString("en-US")
        } one match may take`,
      );
    }
  }

  #matcherOf(
    re2: RE2JS,
    input: string,
    start = 0,
  ): ReturnType<RE2JS["matcher"]> {
    this.#bound(input, start);
    if (this.#input !== input || this.#matcher === undefined) {
      this.#matcher = re2.matcher(input);
      this.#input = input;
    }
    return this.#matcher;
  }

  /**
   * As `RegExp.prototype.exec`: the first match at or after
   * {@linkcode LinearRegExp.lastIndex} (when global, else from the start),
   * with `index`, `input`, the groups and `groups` by name (`undefined` when one did not take
   * part), or `null`; a global one moves `lastIndex` past the match (to 0
   * when there is none).
   */
  exec(input: string): RegExpExecArray | null {
    const start = this.global ? this.lastIndex : 0;
    const native = this.#native;
    if (native !== undefined) {
      this.#bound(input, start);
      native.lastIndex = start;
      const r = native.exec(input);
      if (this.global) this.lastIndex = r === null ? 0 : native.lastIndex;
      return r;
    }
    if (start > input.length) {
      this.lastIndex = 0;
      return null;
    }
    const m = this.#matcherOf(this.#re2!, input, start);
    if (!m.find(start)) {
      if (this.global) this.lastIndex = 0;
      return null;
    }
    const n = m.groupCount();
    const result = [m.group(0) as string] as unknown as RegExpExecArray;
    for (let g = 1; g <= n; g++) {
      result.push(m.group(g) ?? undefined as unknown as string);
    }
    result.index = m.start();
    result.input = input;
    const named = this.#named;
    if (named !== undefined) {
      const groups: Record<string, string> = {};
      for (const name in named) {
        groups[name] = m.group(named[name]) ?? undefined as unknown as string;
      }
      result.groups = groups;
    }
    if (this.global) this.lastIndex = m.end();
    return result;
  }

  /** As `RegExp.prototype.test`. */
  test(input: string): boolean {
    if (this.global || this.#re2 === undefined) {
      return this.exec(input) !== null;
    }
    this.#bound(input, 0);
    return this.#re2.test(input);
  }

  /**
   * As `RegExp.prototype[Symbol.split]` (what `"a,b".split(re)` calls):
   * the text between matches, with each match's groups in between, empty
   * matches splitting between characters, at most `limit` parts.
   */
  [Symbol.split](input: string, limit?: number): string[] {
    if (this.#re2 === undefined) {
      this.#bound(input, 0);
      return input.split(this.#nativeSplit!, limit);
    }
    const lim = limit === undefined ? 0xffffffff : limit >>> 0;
    const parts: string[] = [];
    if (lim === 0) return parts;
    const m = this.#matcherOf(this.#re2, input);
    const size = input.length;
    if (size === 0) return m.find(0) ? parts : [input];
    let p = 0;
    let q = 0;
    while (q < size) {
      if (!m.find(q)) break;
      const s = m.start();
      const e = m.end();
      if (s >= size) break;
      if (e === p) {
        // An empty match where the last part ended: split one later.
        q = s + 1;
        continue;
      }
      parts.push(input.slice(p, s));
      if (parts.length === lim) return parts;
      for (let g = 1; g <= m.groupCount(); g++) {
        parts.push(m.group(g) ?? undefined as unknown as string);
        if (parts.length === lim) return parts;
      }
      p = e;
      q = p;
    }
    parts.push(input.slice(p));
    return parts;
  }

  /** `/source/flags`, as a `RegExp` prints. */
  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}
