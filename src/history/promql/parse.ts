/**
 * PromQL text to weir's syntax tree ({@linkcode Expr}), with the grammar of
 * the Prometheus project (`@prometheus-io/lezer-promql`) and the checks
 * Prometheus's own parser makes (argument types, vector matching, ...),
 * worded as Prometheus words them: `1:5: parse error: ...`.
 *
 * The lezer grammar is Prometheus's newest; what is newer than Prometheus
 * 2.42 or not evaluated by weir (duration expressions, quoted label names,
 * durations as numbers, `fill`, `smoothed`, `limitk`, native-histogram
 * functions) is refused here with a message naming it, so a query never
 * gets a wrong answer.
 *
 * About 900 lines: one builder walks every node type of the grammar
 * with Prometheus's check for it next to it; literals and the text fixes
 * made before parsing are in literals.ts.
 *
 * @module
 */
import type { LRParser } from "@lezer/lr";
import type { LabelMatcher, MatchType } from "../types.ts";
import {
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  type Expr,
  type ValueType,
  valueType,
  type VectorMatching,
  type VectorSelector,
} from "./ast.ts";
import { FUNCTIONS, UNEVALUATED_FUNCTIONS } from "./functions_table.ts";
import { PromQLError } from "./promql_error.ts";
import {
  goNumbers,
  HOLT_WINTERS,
  parseNumber,
  parseQueryDuration,
  RENAMED,
  renameHoltWinters,
  unquote,
} from "./literals.ts";
import { compileAnchored } from "./regex.ts";
import { parseWatched } from "./lezer_parser.ts";

type SyntaxNode = ReturnType<LRParser["parse"]>["topNode"];

/**
 * Prometheus's names for value types, used in its messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TYPE_NAMES } from "./parse.ts";
 *
 * assert.equal(TYPE_NAMES.matrix, "range vector");
 * ```
 */
export const TYPE_NAMES: Readonly<Record<ValueType, string>> = {
  scalar: "scalar",
  vector: "instant vector",
  matrix: "range vector",
  string: "string",
};

const AGGREGATE_OPS: Readonly<Record<string, AggregateOp>> = {
  Sum: "sum",
  Avg: "avg",
  Min: "min",
  Max: "max",
  Count: "count",
  Group: "group",
  Stddev: "stddev",
  Stdvar: "stdvar",
  Topk: "topk",
  Bottomk: "bottomk",
  Quantile: "quantile",
  CountValues: "count_values",
};

const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Add: "+",
  Sub: "-",
  Mul: "*",
  Div: "/",
  Mod: "%",
  Pow: "^",
  Atan2: "atan2",
  Eql: "==",
  Neq: "!=",
  Gtr: ">",
  Lss: "<",
  Gte: ">=",
  Lte: "<=",
  And: "and",
  Or: "or",
  Unless: "unless",
};

const MATCH_OPS: Readonly<Record<string, MatchType>> = {
  EqlSingle: "=",
  Neq: "!=",
  EqlRegex: "=~",
  NeqRegex: "!~",
};

const COMPARISONS = new Set(["==", "!=", ">", "<", ">=", "<="]);
const SET_OPS = new Set(["and", "or", "unless"]);

/**
 * Whether `op` is a comparison operator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isComparison } from "./parse.ts";
 *
 * assert.ok(isComparison(">="));
 * assert.ok(!isComparison("+"));
 * ```
 */
export function isComparison(op: BinaryOp): boolean {
  return COMPARISONS.has(op);
}

/**
 * Whether `op` is `and`, `or` or `unless`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSetOperator } from "./parse.ts";
 *
 * assert.ok(isSetOperator("unless"));
 * ```
 */
export function isSetOperator(op: BinaryOp): boolean {
  return SET_OPS.has(op);
}

/** Options of {@linkcode parseQuery}. */
export interface ParseOptions {
  /**
   * Parse for printing, not evaluating: keep parentheses (`paren` nodes)
   * and unary `+` as written, and accept the functions of 2.42 that weir
   * does not evaluate (`histogram_count`, ...). Default `false`.
   */
  syntax?: boolean;
}

/**
 * Parses a PromQL query into weir's syntax tree. Throws
 * {@linkcode PromQLError} (`bad_data`) with Prometheus's wording when the
 * text does not parse, fails a type check, or uses what weir does not
 * evaluate (with `syntax`, what Prometheus 2.42 does not parse).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseQuery } from "./parse.ts";
 *
 * const expr = parseQuery('sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))');
 * assert.equal(expr.type, "aggregate");
 * assert.throws(() => parseQuery("foo{"), /^PromQLError: 1:5: parse error/);
 * ```
 */
export function parseQuery(text: string, options: ParseOptions = {}): Expr {
  return new Builder(text, options.syntax ?? false).parse();
}

class Builder {
  readonly #original: string;
  readonly #text: string;
  readonly #renamedEnds: number[];
  readonly #syntax: boolean;

  constructor(text: string, syntax: boolean) {
    this.#original = text;
    this.#syntax = syntax;
    const renamed = renameHoltWinters(goNumbers(text));
    this.#text = renamed.text;
    this.#renamedEnds = renamed.ends;
  }

  parse(): Expr {
    const { tree, stopped, stoppedAt = 0, stuckAt } = parseWatched(
      this.#text,
    );
    let errorAt = -1;
    tree.iterate({
      enter: (node) => {
        if (errorAt >= 0) return false;
        if (node.type.isError) {
          errorAt = node.from;
          return false;
        }
        return undefined;
      },
    });
    if (errorAt >= 0 && stopped !== undefined) {
      // A parse stuck before where the guard fired met the query's own
      // syntax error: lezer recovered from it, went on and met the guard
      // later (whose cut can drop the first error's node from the tree).
      const first = Math.min(errorAt, stuckAt ?? errorAt);
      if (first >= stoppedAt) this.#fail(errorAt, stopped);
      this.#syntaxError(first);
    }
    if (errorAt >= 0 && this.#text.replace(/#[^\n]*/g, "").trim() === "") {
      // Only blanks and comments (where a `#` cannot be in a string).
      this.#fail(0, "no expression found in input");
    }
    if (errorAt >= 0) this.#syntaxError(errorAt);
    const top = tree.topNode;
    const child = top.firstChild;
    if (child === null) {
      throw new PromQLError(
        "bad_data",
        "1:1: parse error: no expression found in input",
      );
    }
    return this.#expr(child);
  }

  #syntaxError(at: number): never {
    const rest = this.#text.slice(at).trimStart();
    if (rest === "") {
      this.#fail(at, "unexpected end of input");
    }
    const before = /([A-Za-z_:][A-Za-z0-9_:]*)\s*$/.exec(
      this.#text.slice(0, at),
    );
    if (before !== null && rest.startsWith("(") && !(before[1] in FUNCTIONS)) {
      this.#fail(
        at - before[0].length,
        `unknown function with name ${JSON.stringify(before[1])}`,
      );
    }
    const token = /^([A-Za-z_:][A-Za-z0-9_:]*|\d[\w.]*|"[^"]*"?|\S)/.exec(rest);
    this.#fail(
      at,
      `unexpected ${JSON.stringify(token === null ? rest[0] : token[1])}`,
    );
  }

  #position(at: number): string {
    let original = at;
    for (const end of this.#renamedEnds) {
      if (end <= at) original -= RENAMED.length - HOLT_WINTERS.length;
      else if (end - RENAMED.length < at) {
        original -= at - (end - RENAMED.length);
      }
    }
    const before = this.#original.slice(0, original);
    const lines = before.split("\n");
    return `${lines.length}:${lines[lines.length - 1].length + 1}`;
  }

  #fail(at: number, message: string): never {
    throw new PromQLError(
      "bad_data",
      `${this.#position(at)}: parse error: ${message}`,
    );
  }

  #source(node: SyntaxNode): string {
    return this.#text.slice(node.from, node.to);
  }

  #children(node: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
    return out;
  }

  #exprChildren(node: SyntaxNode): SyntaxNode[] {
    return this.#children(node).filter((c) => c.type.is("Expr"));
  }

  #expr(node: SyntaxNode): Expr {
    switch (node.name) {
      case "ParenExpr": {
        const [inner] = this.#exprChildren(node);
        const expr = this.#expr(inner);
        return this.#syntax ? { type: "paren", expr } : expr;
      }
      case "NumberDurationLiteral":
        return { type: "number", value: this.#number(node) };
      case "StringLiteral":
        return { type: "string", value: this.#string(node) };
      case "VectorSelector":
        return this.#vectorSelector(node);
      case "FunctionCall":
        return this.#call(node);
      case "AggregateExpr":
        return this.#aggregate(node);
      case "MatrixSelector":
      case "OffsetExpr":
      case "StepInvariantExpr":
      case "SubqueryExpr":
      case "AnchoredExpr":
      case "SmoothedExpr":
      case "BinaryExpr":
      case "UnaryExpr":
        return this.#operators(node);
    }
    this.#fail(node.from, `unexpected ${JSON.stringify(this.#source(node))}`);
  }

  #number(node: SyntaxNode): number {
    const text = _compact(this.#source(node));
    const value = parseNumber(text);
    if (typeof value === "number") return value;
    // 2.42's lexer reads the sign as an operator of its own.
    const unsigned = text.replace(/^[+-]/, "");
    const at = node.to - unsigned.length;
    if (typeof parseQueryDuration(unsigned) === "number") {
      this.#fail(at, `unexpected duration ${JSON.stringify(unsigned)}`);
    }
    if (unsigned.includes("_")) {
      // Go's ParseInt(s, 0, 64) takes `1_000`; 2.42's lexer does not.
      this.#fail(
        at,
        `bad number or duration syntax: ${JSON.stringify(unsigned)}`,
      );
    }
    this.#fail(
      at,
      `error parsing number: strconv.ParseFloat: parsing ${
        JSON.stringify(unsigned)
      }: ${value}`,
    );
  }

  #string(node: SyntaxNode): string {
    const value = unquote(this.#source(node));
    if (value === undefined) {
      this.#fail(
        node.from,
        `unterminated or invalid quoted string ${this.#source(node)}`,
      );
    }
    return value;
  }

  /**
   * The duration of a range (`[5m]`), a subquery step (`[5m:30s]`) or an
   * offset, as 2.42 takes it: a literal with a unit (no duration
   * arithmetic, no bare number), and in an offset at most one `-`.
   */
  #duration(node: SyntaxNode, where: "range" | "step" | "offset"): number {
    let sign = 1;
    let n: SyntaxNode = node;
    for (;;) {
      const kids = this.#children(n);
      if (n.name === "NumberDurationLiteralInDurationContext") break;
      // Lezer's grammar takes a duration in parentheses (Prometheus 3's
      // duration expressions); 2.42's lexer reads a duration there and
      // refuses the "(".
      if (this.#text[n.from] === "(") {
        this.#fail(
          n.from,
          where === "range"
            ? "missing unit character in duration"
            : `unexpected "(" in ${
              where === "offset"
                ? "offset, expected duration"
                : 'subquery selector, expected duration or "]"'
            }`,
        );
      }
      if (kids.length === 1) {
        n = kids[0];
        continue;
      }
      if (
        kids.length === 2 && kids[0].name === "UnaryOp" &&
        n.name === "OffsetDurationExpr"
      ) {
        const op = this.#source(kids[0]);
        if (op !== "-" || sign < 0) {
          this.#fail(
            kids[0].from,
            `unexpected <op:${op}> in offset, expected duration`,
          );
        }
        sign = -1;
        n = kids[1];
        continue;
      }
      this.#fail(
        node.from,
        "duration expressions are not supported by weir's PromQL",
      );
    }
    const text = this.#source(n);
    const ms = parseQueryDuration(text);
    // 2.42 refuses a zero duration wherever it stands (`x offset 0s` too).
    if (ms === 0) this.#fail(n.from, "duration must be greater than 0");
    if (typeof ms === "number") return sign * ms;
    if (ms === "missing unit character in duration" && where !== "range") {
      this.#fail(
        n.from,
        `unexpected number ${JSON.stringify(text)} in ${
          where === "offset"
            ? "offset, expected duration"
            : 'subquery selector, expected duration or "]"'
        }`,
      );
    }
    this.#fail(n.from, ms);
  }

  /**
   * A label name. A quoted one (`{"room"="x"}`, `by ("room")`) is
   * Prometheus 3 syntax: 2.42's lexer reads a string there, and its parser
   * refuses it in `context`, wanting `expected`.
   */
  #labelName(node: SyntaxNode, context: string, expected: string): string {
    if (node.name === "QuotedLabelName") {
      this.#fail(
        node.from,
        `unexpected string ${
          _itemText(this.#source(node))
        } in ${context}, expected ${expected}`,
      );
    }
    const name = this.#source(node);
    // 2.42's lexer reads `inf` and `nan` as numbers outside braces, so
    // `by (inf)` is refused there (inside `{...}` they are label names).
    if (context === "grouping opts" && /^(?:inf|nan)$/i.test(name)) {
      this.#fail(
        node.from,
        `unexpected number ${
          JSON.stringify(name)
        } in ${context}, expected ${expected}`,
      );
    }
    return name;
  }

  #vectorSelector(node: SyntaxNode): VectorSelector {
    let name: string | undefined;
    const matchers: LabelMatcher[] = [];
    for (const c of this.#children(node)) {
      if (c.name === "Identifier") {
        name = this.#source(c);
        // 2.42's lexer makes `atan2` the operator wherever it stands (the
        // lezer grammar only where an operator can be): no metric name.
        if (name.toLowerCase() === "atan2") {
          this.#fail(c.from, `unexpected <op:${name}>`);
        }
      }
      if (c.name !== "LabelMatchers") continue;
      for (const m of this.#children(c)) {
        if (m.name === "QuotedLabelName") {
          this.#labelName(m, "label matching", 'identifier or "}"');
        }
        if (
          m.name !== "UnquotedLabelMatcher" && m.name !== "QuotedLabelMatcher"
        ) continue;
        const [label, op, value] = this.#children(m);
        const type = MATCH_OPS[op.firstChild?.name ?? ""];
        const matcher: LabelMatcher = {
          name: this.#labelName(label, "label matching", 'identifier or "}"'),
          type,
          value: this.#string(value),
        };
        if (type === "=~" || type === "!~") {
          try {
            compileAnchored(matcher.value);
          } catch (error) {
            this.#fail(
              m.from,
              `invalid regular expression ${JSON.stringify(matcher.value)}: ${
                (error as Error).message
              }`,
            );
          }
        }
        matchers.push(matcher);
      }
    }
    if (name !== undefined) {
      for (const m of matchers) {
        if (m.name === "__name__") {
          this.#fail(
            node.from,
            `metric name must not be set twice: ${JSON.stringify(name)} or ${
              JSON.stringify(m.value)
            }`,
          );
        }
      }
      matchers.unshift({ name: "__name__", type: "=", value: name });
    }
    const nonEmpty = matchers.some((m) => {
      switch (m.type) {
        case "=":
          return m.value !== "";
        case "!=":
          return m.value === "";
        case "=~":
          return !compileAnchored(m.value).test("");
        case "!~":
          return compileAnchored(m.value).test("");
      }
    });
    if (!nonEmpty) {
      this.#fail(
        node.from,
        "vector selector must contain at least one non-empty matcher",
      );
    }
    return { type: "vector", name, matchers, offsetMs: 0, at: undefined };
  }

  /**
   * An expression of operators, prefix and postfix: binary operators,
   * unary `-`/`+`, and `[range]`, `[range:step]`, `offset`, `@` after an
   * operand. lezer's grammar binds a postfix to everything before it
   * (`a + b offset 1m * 2` as `(a + b offset 1m) * 2`); 2.42's to the
   * operand just before it, tighter than any operator
   * (`a + ((b offset 1m) * 2)`). So the lezer tree is read back into its
   * pieces, in the order written, and parsed again with 2.42's
   * precedences.
   */
  #operators(node: SyntaxNode): Expr {
    const pieces: _Piece[] = [];
    this.#flatten(node, pieces);
    let next = 0;
    const operand = (): _Built => {
      const piece = pieces[next++];
      if (piece.kind === "prefix") {
        // Unary minus binds as `*` does in 2.42: only `^` goes under it.
        return this.#unary(piece.op, piece.at, climb(_POW_PRECEDENCE));
      }
      if (piece.kind !== "operand") {
        this.#fail(piece.node.from, "unexpected operator");
      }
      let built = piece.build();
      while (pieces[next]?.kind === "postfix") {
        const post = pieces[next++] as Extract<_Piece, { kind: "postfix" }>;
        built = this.#postfix(post.node, built);
      }
      return built;
    };
    const climb = (min: number): _Built => {
      let lhs = operand();
      for (;;) {
        const piece = pieces[next];
        if (piece?.kind !== "binary" || piece.precedence < min) return lhs;
        next++;
        const rhs = climb(
          piece.precedence === _POW_PRECEDENCE
            ? piece.precedence
            : piece.precedence + 1,
        );
        lhs = {
          expr: this.#binary(piece.node, lhs, rhs),
          from: lhs.from,
          paren: false,
        };
      }
    };
    return climb(0).expr;
  }

  /** `node`'s operator pieces in the order written (see #operators). */
  #flatten(node: SyntaxNode, out: _Piece[]): void {
    switch (node.name) {
      case "BinaryExpr": {
        const [lhs, rhs] = this.#exprChildren(node);
        const op = this.#children(node).find((c) => c.name in BINARY_OPS);
        if (op === undefined) {
          this.#fail(
            node.from,
            "binary expression does not support this operator",
          );
        }
        this.#flatten(lhs, out);
        out.push({
          kind: "binary",
          node,
          precedence: _PRECEDENCE[BINARY_OPS[op.name]],
        });
        this.#flatten(rhs, out);
        return;
      }
      case "UnaryExpr": {
        const opNode = node.getChild("UnaryOp");
        const [inner] = this.#exprChildren(node);
        const op = opNode !== null && this.#source(opNode) === "-" ? "-" : "+";
        out.push({ kind: "prefix", op, at: node.from });
        this.#flatten(inner, out);
        return;
      }
      case "MatrixSelector":
      case "OffsetExpr":
      case "StepInvariantExpr":
      case "SubqueryExpr":
      case "AnchoredExpr":
      case "SmoothedExpr": {
        const [inner] = this.#exprChildren(node);
        this.#flatten(inner, out);
        out.push({ kind: "postfix", node });
        return;
      }
      case "NumberDurationLiteral": {
        // lezer reads a sign into the number; 2.42 reads it as unary
        // minus, under `^` (`-1 ^ 2` is -(1 ^ 2)).
        const text = _compact(this.#source(node));
        const sign = text[0];
        if (sign === "-" || sign === "+") {
          const value = this.#number(node);
          const at = node.to - (text.length - 1);
          out.push({ kind: "prefix", op: sign, at: node.from });
          out.push({
            kind: "operand",
            build: () => ({
              expr: { type: "number", value: sign === "-" ? -value : value },
              from: at,
              paren: false,
            }),
          });
          return;
        }
      }
    }
    out.push({
      kind: "operand",
      build: () => ({
        expr: this.#expr(node),
        from: node.from,
        paren: node.name === "ParenExpr",
      }),
    });
  }

  /** A postfix (`[5m]`, `[5m:1m]`, `offset`, `@`) applied to `operand`. */
  #postfix(node: SyntaxNode, operand: _Built): _Built {
    switch (node.name) {
      case "MatrixSelector":
        return this.#matrixSelector(node, operand);
      case "SubqueryExpr":
        return this.#subquery(node, operand);
      case "OffsetExpr":
        return this.#offset(node, operand);
      case "StepInvariantExpr":
        return this.#at(node, operand);
    }
    this.#fail(
      node.from,
      `the ${
        node.name === "AnchoredExpr" ? "anchored" : "smoothed"
      } modifier is not supported by weir's PromQL`,
    );
  }

  #subquery(node: SyntaxNode, operand: _Built): _Built {
    const durations = this.#children(node).filter((c) =>
      c.name === "DurationExpr"
    );
    if (durations.length === 0) this.#fail(node.to, "missing subquery range");
    const expr = operand.expr;
    const type = valueType(expr);
    if (type !== "vector") {
      this.#fail(
        operand.from,
        `subquery is only allowed on instant vector, got ${
          TYPE_NAMES[type]
        } instead`,
      );
    }
    const rangeMs = this.#duration(durations[0], "range");
    if (rangeMs <= 0) {
      this.#fail(durations[0].from, "range must be greater than 0");
    }
    let stepMs: number | undefined;
    if (durations.length > 1) {
      stepMs = this.#duration(durations[1], "step");
      if (stepMs <= 0) {
        this.#fail(durations[1].from, "step must be greater than 0");
      }
    }
    return {
      expr: {
        type: "subquery",
        expr,
        rangeMs,
        stepMs,
        offsetMs: 0,
        at: undefined,
      },
      from: operand.from,
      paren: false,
    };
  }

  #matrixSelector(node: SyntaxNode, operand: _Built): _Built {
    const duration = this.#children(node).find((c) =>
      c.name === "DurationExpr"
    );
    const sel = operand.expr;
    if (sel.type !== "vector" || operand.paren) {
      this.#fail(operand.from, "ranges only allowed for vector selectors");
    }
    if (sel.offsetMs !== 0 || sel.at !== undefined) {
      this.#fail(operand.from, "no offset or @ modifiers allowed before range");
    }
    if (duration === undefined) this.#fail(node.to, "missing range");
    const rangeMs = this.#duration(duration, "range");
    if (rangeMs <= 0) this.#fail(duration.from, "range must be greater than 0");
    return {
      expr: { type: "matrix", selector: sel, rangeMs },
      from: operand.from,
      paren: false,
    };
  }

  /**
   * Applies an offset/@ modifier to the operand just before it: a
   * selector or a subquery, not one in parentheses.
   */
  #modify(
    operand: _Built,
    what: string,
    apply: (sel: VectorSelector) => VectorSelector,
  ): _Built {
    const expr = operand.expr;
    let modified: Expr | undefined;
    if (!operand.paren) {
      switch (expr.type) {
        case "vector":
          modified = apply(expr);
          break;
        case "matrix":
          modified = { ...expr, selector: apply(expr.selector) };
          break;
        case "subquery": {
          const { offsetMs, at } = apply({
            type: "vector",
            name: undefined,
            matchers: [],
            offsetMs: expr.offsetMs,
            at: expr.at,
          });
          modified = { ...expr, offsetMs, at };
        }
      }
    }
    if (modified === undefined) {
      this.#fail(
        operand.from,
        `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`,
      );
    }
    return { expr: modified, from: operand.from, paren: false };
  }

  #offset(node: SyntaxNode, operand: _Built): _Built {
    const duration = this.#children(node).find((c) =>
      c.name === "OffsetDurationExpr"
    );
    if (duration === undefined) this.#fail(node.to, "missing offset duration");
    const offsetMs = this.#duration(duration, "offset");
    return this.#modify(operand, "offset", (sel) => {
      if (sel.offsetMs !== 0) {
        this.#fail(operand.from, "offset may not be set multiple times");
      }
      return { ...sel, offsetMs };
    });
  }

  #at(node: SyntaxNode, operand: _Built): _Built {
    let at: AtModifier | undefined;
    for (const c of this.#children(node)) {
      if (c.name === "NumberDurationLiteral") {
        const seconds = this.#number(c);
        // 2.42 converts to int64 milliseconds what is within int64 seconds.
        if (!(Math.abs(seconds) < 2 ** 63)) {
          this.#fail(
            c.from,
            `timestamp out of bounds for @ modifier: ${_goFixed(seconds)}`,
          );
        }
        // Rounded as Go's math.Round: half away from zero.
        const ms = seconds * 1000;
        at = Math.sign(ms) * Math.round(Math.abs(ms));
      } else if (c.name === "AtModifierPreprocessors") {
        at = c.firstChild?.name === "AtStart" ? "start" : "end";
      }
    }
    if (at === undefined) this.#fail(node.from, "missing @ time");
    const value = at;
    return this.#modify(operand, "@", (sel) => {
      if (sel.at !== undefined) {
        this.#fail(
          operand.from,
          "@ <timestamp> may not be set multiple times",
        );
      }
      return { ...sel, at: value };
    });
  }

  #call(node: SyntaxNode): Expr {
    const ident = node.getChild("FunctionIdentifier");
    const body = node.getChild("FunctionCallBody");
    const written = ident === null ? "" : this.#source(ident);
    // Only a holt_winters renamed before parsing: 2.42 does not know the
    // newer name written as it is.
    if (written === RENAMED && !this.#renamedEnds.includes(ident!.to)) {
      this.#fail(
        node.from,
        `unknown function with name ${JSON.stringify(RENAMED)}`,
      );
    }
    const func = written === RENAMED ? HOLT_WINTERS : written;
    const signature = FUNCTIONS[func] ??
      (this.#syntax ? UNEVALUATED_FUNCTIONS[func] : undefined);
    if (signature === undefined) {
      this.#fail(
        node.from,
        `function ${JSON.stringify(func)} is not supported by weir's PromQL`,
      );
    }
    const args = body === null
      ? []
      : this.#exprChildren(body).map((c) => this.#expr(c));
    const min = signature.args.length - signature.optional;
    const max = signature.variadic ? Infinity : signature.args.length;
    if (args.length < min || args.length > max) {
      if (signature.optional === 0 && !signature.variadic) {
        this.#fail(
          node.from,
          `expected ${min} argument(s) in call to ${
            JSON.stringify(func)
          }, got ${args.length}`,
        );
      }
      this.#fail(
        node.from,
        args.length < min
          ? `expected at least ${min} argument(s) in call to ${
            JSON.stringify(func)
          }, got ${args.length}`
          : `expected at most ${max} argument(s) in call to ${
            JSON.stringify(func)
          }, got ${args.length}`,
      );
    }
    args.forEach((arg, i) => {
      const want = signature.args[Math.min(i, signature.args.length - 1)];
      const got = valueType(arg);
      if (got !== want) {
        this.#fail(
          node.from,
          `expected type ${TYPE_NAMES[want]} in call to function ${
            JSON.stringify(func)
          }, got ${TYPE_NAMES[got]}`,
        );
      }
    });
    return { type: "call", func, args };
  }

  #aggregate(node: SyntaxNode): Expr {
    const opNode = node.getChild("AggregateOp");
    const kind = opNode?.firstChild?.name ?? "";
    const op = AGGREGATE_OPS[kind];
    if (op === undefined) {
      this.#fail(
        node.from,
        `aggregation ${
          JSON.stringify(opNode === null ? "" : this.#source(opNode))
        } is not supported by weir's PromQL`,
      );
    }
    const grouping: string[] = [];
    let without = false;
    const modifier = node.getChild("AggregateModifier");
    if (modifier !== null) {
      without = modifier.getChild("Without") !== null;
      const labels = modifier.getChild("GroupingLabels");
      if (labels !== null) {
        for (const c of this.#children(labels)) {
          if (c.name === "LabelName" || c.name === "QuotedLabelName") {
            grouping.push(this.#labelName(c, "grouping opts", "label"));
          }
        }
      }
    }
    const body = node.getChild("FunctionCallBody");
    const args = body === null
      ? []
      : this.#exprChildren(body).map((c) => this.#expr(c));
    const hasParam = op === "topk" || op === "bottomk" || op === "quantile" ||
      op === "count_values";
    const want = hasParam ? 2 : 1;
    if (args.length !== want) {
      this.#fail(
        node.from,
        `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`,
      );
    }
    const expr = args[want - 1];
    const param = hasParam ? args[0] : undefined;
    const exprType = valueType(expr);
    if (exprType !== "vector") {
      this.#fail(
        node.from,
        `expected type instant vector in aggregation expression, got ${
          TYPE_NAMES[exprType]
        }`,
      );
    }
    if (param !== undefined) {
      const paramType = valueType(param);
      const wantParam = op === "count_values" ? "string" : "scalar";
      if (paramType !== wantParam) {
        this.#fail(
          node.from,
          `expected type ${
            TYPE_NAMES[wantParam]
          } in aggregation parameter, got ${TYPE_NAMES[paramType]}`,
        );
      }
    }
    return { type: "aggregate", op, expr, param, grouping, without };
  }

  /** `lhs op rhs`, `node` the lezer node of the operator and its modifiers. */
  #binary(node: SyntaxNode, lhsBuilt: _Built, rhsBuilt: _Built): Expr {
    const kids = this.#children(node);
    const opNode = kids.find((c) => c.name in BINARY_OPS);
    if (opNode === undefined) {
      this.#fail(node.from, "binary expression does not support this operator");
    }
    if (kids.some((c) => c.name === "FillModifier")) {
      this.#fail(
        opNode.from,
        "the fill modifiers are not supported by weir's PromQL",
      );
    }
    const op = BINARY_OPS[opNode.name];
    const bool = kids.some((c) => c.name === "BoolModifier");
    const lhs = lhsBuilt.expr;
    const rhs = rhsBuilt.expr;
    let card: VectorMatching["card"] = "one-to-one";
    let on = false;
    let labels: string[] = [];
    let include: string[] = [];
    const clause = kids.find((c) => c.name === "MatchingModifierClause");
    if (clause !== null && clause !== undefined) {
      const parts = this.#children(clause);
      on = parts.some((c) => c.name === "On");
      const groupings = parts.filter((c) => c.name === "GroupingLabels");
      const names = (g: SyntaxNode) =>
        this.#children(g).filter((c) =>
          c.name === "LabelName" || c.name === "QuotedLabelName"
        ).map((c) => this.#labelName(c, "grouping opts", "label"));
      if (groupings.length > 0) labels = names(groupings[0]);
      if (parts.some((c) => c.name === "GroupLeft")) card = "many-to-one";
      if (parts.some((c) => c.name === "GroupRight")) card = "one-to-many";
      if (groupings.length > 1) include = names(groupings[1]);
    }
    const opAt = opNode.from;
    if (bool && !isComparison(op)) {
      this.#fail(
        opAt,
        "bool modifier can only be used on comparison operators",
      );
    }
    const lt = valueType(lhs);
    const rt = valueType(rhs);
    if (isComparison(op) && !bool && lt === "scalar" && rt === "scalar") {
      this.#fail(opAt, "comparisons between scalars must use BOOL modifier");
    }
    if (isSetOperator(op) && card === "one-to-one") card = "many-to-many";
    if (on) {
      for (const l of labels) {
        if (include.includes(l)) {
          this.#fail(
            opAt,
            `label ${
              JSON.stringify(l)
            } must not occur in ON and GROUP clause at once`,
          );
        }
      }
    }
    if (lt !== "scalar" && lt !== "vector") {
      this.#fail(
        lhsBuilt.from,
        "binary expression must contain only scalar and instant vector types",
      );
    }
    if (rt !== "scalar" && rt !== "vector") {
      this.#fail(
        rhsBuilt.from,
        "binary expression must contain only scalar and instant vector types",
      );
    }
    let matching: VectorMatching | undefined = { card, on, labels, include };
    if (lt !== "vector" || rt !== "vector") {
      // 2.42 drops an empty on()/ignoring() here, group_left/right too.
      if (labels.length > 0) {
        this.#fail(
          node.from,
          "vector matching only allowed between instant vectors",
        );
      }
      matching = undefined;
    } else if (isSetOperator(op)) {
      if (card === "one-to-many" || card === "many-to-one") {
        this.#fail(
          lhsBuilt.from,
          `no grouping allowed for ${JSON.stringify(op)} operation`,
        );
      }
    }
    if ((lt === "scalar" || rt === "scalar") && isSetOperator(op)) {
      this.#fail(
        lhsBuilt.from,
        `set operator ${
          JSON.stringify(op)
        } not allowed in binary scalar expression`,
      );
    }
    return { type: "binary", op, lhs, rhs, bool, matching };
  }

  /** `-operand` or `+operand`: a number folded, as 2.42 folds it. */
  #unary(op: "-" | "+", at: number, operand: _Built): _Built {
    const expr = operand.expr;
    const t = valueType(expr);
    if (t !== "scalar" && t !== "vector") {
      this.#fail(
        at,
        `unary expression only allowed on expressions of type scalar or instant vector, got ${
          JSON.stringify(TYPE_NAMES[t])
        }`,
      );
    }
    const built = (e: Expr): _Built => ({ expr: e, from: at, paren: false });
    if (expr.type === "number") {
      return built(op === "-" ? { type: "number", value: -expr.value } : expr);
    }
    return built(
      op === "+" && !this.#syntax ? expr : { type: "unary", op, expr },
    );
  }
}

/** An operand parsed: its tree, where it starts, whether in parentheses. */
interface _Built {
  expr: Expr;
  from: number;
  /** Written in parentheses (which an offset or @ may not follow). */
  paren: boolean;
}

/** One piece of an operator expression, in the order written. */
type _Piece =
  | { kind: "operand"; build: () => _Built }
  | { kind: "prefix"; op: "-" | "+"; at: number }
  | { kind: "postfix"; node: SyntaxNode }
  | { kind: "binary"; node: SyntaxNode; precedence: number };

/** 2.42's precedences (promql/parser/generated_parser.y), loosest first. */
const _PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  "==": 3,
  "!=": 3,
  ">": 3,
  "<": 3,
  ">=": 3,
  "<=": 3,
  "+": 4,
  "-": 4,
  "*": 5,
  "/": 5,
  "%": 5,
  atan2: 5,
  "^": 6,
};
/** `^`, the one right-associative operator, and what unary minus leaves under it. */
const _POW_PRECEDENCE = 6;

/**
 * A lexer item's text as 2.42 writes it in "unexpected ..." messages (Go's
 * `%q`, the first 10 characters of a long one followed by `...`).
 */
function _itemText(text: string): string {
  const chars = [...text];
  return chars.length > 10
    ? `${JSON.stringify(chars.slice(0, 10).join(""))}...`
    : JSON.stringify(text);
}

/**
 * A number literal's text without the blanks and comments lezer takes in
 * between its sign and its digits (`- # note` then `1` on the next line).
 */
function _compact(text: string): string {
  return text.replace(/#[^\n]*|\s+/g, "");
}

/** A float as Go's `%f` writes it: six decimals, no exponent. */
function _goFixed(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  return Math.abs(x) < 1e21 ? x.toFixed(6) : `${BigInt(x)}.000000`;
}
