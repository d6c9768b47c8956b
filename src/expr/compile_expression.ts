/**
 * Compiling JSONata expression text, once, into an {@linkcode Expression}.
 *
 * @module
 */
import jsonata from "jsonata";
import { describeValue } from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";
import { LinearRegExp, linearRegexProblem } from "./linear_regexp.ts";
import { _jsonataReason } from "./_jsonata_reason.ts";
import { _compileAst, type _Compiled, _Unsupported } from "./_compile_ast.ts";
import { _findNode } from "./_find_node.ts";
import { _boundGrowth } from "./_package_growth.ts";
import {
  _bounded,
  _DEADLINE,
  _distinct,
  _handsOver,
  _length,
  _pad,
  _pictured,
  _substring,
} from "./_builtins.ts";

/**
 * The `jsonata` package's expression for `source`, with its regular
 * expressions on weir's linear-time engine ({@linkcode LinearRegExp} as
 * the package's `RegexEngine` option): every use of the package goes
 * through here, so no regular expression from a graph reaches
 * JavaScript's backtracking engine unchecked.
 *
 * And bounded in what it builds as a compiled evaluation is: no array of
 * more than 16,777,216 items, no string joined longer than 16,777,216
 * characters, refused with the compiled path's `RangeError` (see
 * `_package_growth.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonataPackage } from "./compile_expression.ts";
 *
 * const e = jsonataPackage("$split(s, /\\s*,\\s+/)");
 * assert.deepEqual(await e.evaluate({ s: "a , b" }), ["a", "b"]);
 * await assert.rejects(
 *   jsonataPackage("($y := [1..10000000]; [1, 2].$y)").evaluate({}),
 *   /^RangeError: a step would make an array of 16,777,217 items/,
 * );
 * ```
 */
export function jsonataPackage(
  source: string,
  options: { stack?: number; timeout?: number } = {},
): jsonata.Expression {
  const expression = jsonata(source, {
    ...options,
    // The package constructs it as `new RegexEngine(regExp)` and uses only
    // `exec` and `lastIndex`, which LinearRegExp has.
    RegexEngine: LinearRegExp as unknown as RegExpConstructor,
  });
  _boundGrowth(expression);
  // The compiled path's `$string`, `$join` and `$append`, with their bounds.
  for (const [name, f] of Object.entries(_bounded)) {
    expression.registerFunction(
      name,
      f.implementation as unknown as (...args: unknown[]) => unknown,
      f.signature,
    );
  }
  // The compiled path's `$pad`, with its bound on the string it makes.
  expression.registerFunction("pad", _pad, "<s-ns?:s>");
  // And its `$length` and `$substring`, which build no array of characters.
  expression.registerFunction("length", _length, "<s-:n>");
  expression.registerFunction("substring", _substring, "<s-nn?:s>");
  // And its `$distinct`, which finds an item among those kept in a map.
  // The package's focus has the createSequence its typings leave out.
  expression.registerFunction(
    "distinct",
    _distinct as unknown as (arr: unknown) => unknown,
    "<x:x>",
  );
  // And the functions that take a picture, with its bound. (The package's
  // own `$now` formats with its own `$fromMillis`: its picture is not.)
  for (const [name, f] of Object.entries(_pictured)) {
    expression.registerFunction(
      name,
      f.implementation as unknown as (...args: unknown[]) => unknown,
      f.signature,
    );
  }
  return expression;
}

/** Options of {@linkcode compileExpression}. */
export interface CompileOptions {
  /**
   * Compile to a JavaScript closure where the compiler covers the
   * expression (default true); false always uses the `jsonata` package.
   */
  compile?: boolean;
}

/**
 * A JSONata expression, compiled once: to a synchronous JavaScript closure
 * where the compiler covers it ({@linkcode Expression.compiled}), else
 * evaluated by the `jsonata` package. Both give the same answers and
 * errors; run it with {@linkcode evaluateExpression} for errors worded as
 * weir's.
 */
export class Expression {
  /** The expression text. */
  readonly source: string;
  /** Why the compiler left this expression to the package, if it did. */
  readonly fallbackReason: string | undefined;
  readonly #compiled: _Compiled | undefined;
  #package: jsonata.Expression | undefined;

  /**
   * Use {@linkcode compileExpression}, which checks the text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import jsonata from "jsonata";
   * import { Expression } from "./compile_expression.ts";
   *
   * const e = new Expression("a + 1", jsonata("a + 1"), true);
   * assert.equal(e.compiled, true);
   * ```
   */
  constructor(source: string, parsed: jsonata.Expression, compile: boolean) {
    this.source = source;
    this.#package = parsed;
    let compiled: _Compiled | undefined;
    let reason: string | undefined = "compilation switched off";
    if (compile) {
      try {
        compiled = _compileAst(parsed.ast());
        reason = undefined;
      } catch (e) {
        if (!(e instanceof _Unsupported)) throw e;
        reason = e.message;
      }
    }
    this.#compiled = compiled;
    this.fallbackReason = reason;
  }

  /** Whether the compiler took this expression (else the package runs it). */
  get compiled(): boolean {
    return this.#compiled !== undefined;
  }

  /**
   * The result for `input` (with variables `bindings`) as a promise, as
   * the `jsonata` package's `evaluate`; a failure rejects with JSONata's
   * error object (`code`, `position`, `message`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { compileExpression } from "./compile_expression.ts";
   *
   * assert.equal(await compileExpression("$x * 2").evaluate({}, { x: 3 }), 6);
   * ```
   */
  evaluate(
    input: unknown,
    bindings?: Record<string, unknown>,
  ): Promise<unknown> {
    try {
      return Promise.resolve(this.evaluateNow(input, bindings));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The result for `input` at once when the expression is compiled (a
   * failure throws JSONata's error object), else a promise of it from the
   * package. A compiled evaluation that meets something only the package
   * does (a function in `bindings` that answers with a promise, or a
   * recursion deeper than the native stack) hands over to the package and
   * returns its promise.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { compileExpression } from "./compile_expression.ts";
   *
   * assert.deepEqual(
   *   compileExpression("{ 'v': value + 1 }").evaluateNow({ value: 1 }),
   *   { v: 2 },
   * );
   * ```
   */
  evaluateNow(input: unknown, bindings?: Record<string, unknown>): unknown {
    const compiled = this.#compiled;
    if (compiled === undefined) {
      return this.#jsonata().evaluate(input, bindings);
    }
    try {
      return compiled(input, bindings);
    } catch (e) {
      if (_handsOver(e)) {
        return this.#jsonata().evaluate(input, bindings);
      }
      throw e;
    }
  }

  /**
   * As {@linkcode Expression.evaluateNow}, within a budget: at most
   * `maxDepth` nested evaluation steps (JSONata's error D1011 beyond) and
   * `timeoutMs` milliseconds (D1012), counted as the `jsonata` package's
   * own `stack` and `timeout` options count them. The hook for issue 18's
   * budgets: the compiled path counts only when asked (a second, guarded
   * compilation, made at the first call), so {@linkcode evaluateNow} pays
   * nothing for it; an expression left to the package runs on the package
   * with those options (a promise), and one the compiled path hands over
   * part-way (a binding that answers with a promise, a recursion deeper
   * than the native stack) with what is left of `timeoutMs`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { compileExpression } from "./compile_expression.ts";
   *
   * const e = compileExpression("($f := function($n) { $n + $f($n) }; $f(1))");
   * assert.throws(() => e.evaluateWithin({}, { maxDepth: 100 }), { code: "D1011" });
   * ```
   */
  evaluateWithin(
    input: unknown,
    budget: { maxDepth?: number; timeoutMs?: number },
    bindings?: Record<string, unknown>,
  ): unknown {
    const viaPackage = (timeout = budget.timeoutMs) =>
      jsonataPackage(this.source, { stack: budget.maxDepth, timeout })
        .evaluate(input, bindings);
    if (this.#compiled === undefined) return viaPackage();
    this.#guarded ??= _compileAst(this.#jsonata().ast(), { guarded: true });
    try {
      return this.#guarded(input, bindings, budget);
    } catch (e) {
      if (!_handsOver(e)) throw e;
      // The package counts its timeout from its own start (by Date.now(),
      // as the compiled clock): it gets what the compiled attempt left.
      const deadline = (e as { [_DEADLINE]?: number })[_DEADLINE];
      return viaPackage(
        deadline === undefined
          ? budget.timeoutMs
          : Math.max(1, deadline - Date.now()),
      );
    }
  }
  #guarded: _Compiled | undefined;

  #jsonata(): jsonata.Expression {
    this.#package ??= jsonataPackage(this.source);
    return this.#package;
  }
}

/**
 * Compiles a JSONata expression; a value that is not a non-empty string
 * throws a `TypeError`, a syntax error a `SyntaxError` naming the position
 * (1-based character) and the reason. A component's `parse` function for an
 * expression port, so validation reports a bad expression IIP too, and the
 * choice between the compiled closure and the `jsonata` package is made
 * here, once per expression. Its regular expressions run in time linear
 * in the text on both paths (`/(a+)+b/` included; see `linear_regexp.ts`);
 * one the linear-time engine cannot run (a backreference, a lookaround) is
 * refused with a `RangeError` naming the feature, never left to a
 * backtracking engine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileExpression } from "./compile_expression.ts";
 *
 * const e = compileExpression("temp > 30");
 * assert.equal(e.compiled, true);
 * assert.equal(await e.evaluate({ temp: 31 }), true);
 * assert.equal(compileExpression("[$x := 1, $x]").compiled, false);
 * assert.throws(() => compileExpression("temp >"), SyntaxError);
 * assert.throws(() => compileExpression("$match(s, /(a)\\1/)"), /backreference/);
 * ```
 */
export function compileExpression(
  source: unknown,
  options: CompileOptions = {},
): Expression {
  if (typeof source !== "string" || source.trim() === "") {
    throw new TypeError(
      `expected a JSONata expression, received ${describeValue(source)}`,
    );
  }
  let parsed: jsonata.Expression;
  try {
    parsed = jsonataPackage(source);
  } catch (e) {
    throw new SyntaxError(
      `invalid JSONata expression ${JSON.stringify(source)}${
        _jsonataReason(e)
      }`,
    );
  }
  const refused = _refusedRegexIn(parsed.ast());
  if (refused !== undefined) {
    throw new RangeError(
      `cannot use the JSONata expression ${
        JSON.stringify(excerpt(source, 80))
      }: its regular expression /${
        excerpt(refused.regex.source, 60)
      }/ at position ${refused.position} is refused: ${refused.reason}`,
    );
  }
  return new Expression(source, parsed, options.compile !== false);
}

/**
 * The first regular expression of `ast` that the linear-time engine
 * cannot run (a backreference, a lookaround; see `linear_regexp.ts`),
 * refused up front rather than run on a backtracking engine.
 */
function _refusedRegexIn(
  ast: unknown,
): { regex: RegExp; position: number; reason: string } | undefined {
  let reason: string | undefined;
  const node = _findNode(ast, (n) => {
    if (n.type !== "regex" || !(n.value instanceof RegExp)) return false;
    reason = linearRegexProblem(n.value.source, n.value.flags);
    return reason !== undefined;
  });
  if (node === undefined || reason === undefined) return undefined;
  return {
    regex: node.value as RegExp,
    position: typeof node.position === "number" ? node.position : 0,
    reason,
  };
}
