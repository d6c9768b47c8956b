/**
 * The Prometheus project's PromQL grammar (`@prometheus-io/lezer-promql`)
 * as weir parses with it: `offset` read where 2.42 reads it, and a parse
 * that says when one of @lezer/lr's depth guards, rather than the query,
 * stopped it.
 *
 * @module
 */
import type { LRParser, Stack } from "@lezer/lr";
import { parser } from "@prometheus-io/lezer-promql";

type Specializer = (value: string, stack: Stack) => number;

/**
 * The grammar's parser with `offset` read as 2.42 reads it. lezer-promql
 * makes `offset` (in any case) the keyword wherever it stands, so a metric
 * named offset (`offset`, `sum(offset)`, `offset{job="x"}`,
 * `offset offset 1m`) did not parse; 2.42's grammar takes the keyword as a
 * metric name, and reads it as the keyword only after an expression. Its
 * keyword specializer is replaced by one that answers `offset` only where
 * the parse can take the keyword; the other keywords stay as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROMQL_PARSER } from "./lezer_parser.ts";
 *
 * const top = (q: string) => {
 *   const tree = PROMQL_PARSER.parse(q);
 *   let errors = 0;
 *   tree.iterate({ enter: (n) => void (n.type.isError && errors++) });
 *   assert.equal(errors, 0, q);
 *   return tree.topNode.firstChild?.name;
 * };
 * assert.equal(top("sum(offset)"), "AggregateExpr");
 * assert.equal(top("offset offset 5m"), "OffsetExpr");
 * ```
 */
export const PROMQL_PARSER: LRParser = _offsetAsName(parser);

function _offsetAsName(base: LRParser): LRParser {
  const offset = base.nodeSet.types.find((t) => t.name === "Offset")?.id;
  // Not in @lezer/lr's types: the specializers the grammar declared, which
  // configure() needs to name the one it replaces. Should a later @lezer/lr
  // rename it, the stock parser is used and the tests of `offset` fail.
  const specs = Reflect.get(base, "specializerSpecs");
  if (offset === undefined || !Array.isArray(specs)) return base;
  for (const spec of specs) {
    const from: unknown = Reflect.get(Object(spec), "external");
    if (typeof from !== "function") continue;
    const keyword = from as Specializer;
    if (keyword("offset", undefined as unknown as Stack) !== offset) continue;
    const to: Specializer = (value, stack) => {
      const term = keyword(value, stack);
      return term === offset && !stack.canShift(offset) ? -1 : term;
    };
    return base.configure({ specializers: [{ from: keyword, to }] });
  }
  return base;
}

// @lezer/lr's guards against syntax trees too deep to walk, compiled into
// it (Rec.MaxLeftAssociativeReductionCount, Recover.MinBigReduction,
// Rec.CutDepth) with no option to change them: past one, it cuts the
// expression short and the rest of the query is a syntax error.
const MAX_BIG_REDUCTIONS = 300;
const CUT_DEPTH = 8400;
// A parse grows its stack by a few entries an advance at most: a stack
// this near the cut when an error is found was cut.
const NEAR_CUT_DEPTH = CUT_DEPTH - 30;

/** What weir says when one of lezer's guards stopped the parse. */
const STOPPED = {
  chain:
    "too many chained binary operations: weir's parser (lezer) stops a chain of operators of one precedence (a or b or c ...) 150 operations after its first 2,000 characters; put parentheses around parts of it",
  depth:
    "the query nests too deeply: weir's parser (lezer) stops at about 2,800 nested parentheses or signs, 1,400 nested function calls or aggregations",
} as const;

/**
 * Parses `text` with {@linkcode PROMQL_PARSER}; `stopped` says, when one
 * of lezer's depth guards cut the parse short, which limit the query went
 * past (a guard leaves an error node where the query has no syntax error;
 * 2.42 parses such queries), and `stoppedAt` the position in `text` the
 * parse had reached when the guard fired. `stuckAt` is where the parse
 * first found no way on and began to recover: before `stoppedAt`, the query
 * has a syntax error of its own there (lezer recovers from it and goes on,
 * so a guard can fire after it, and its cut can drop the error's node from
 * the tree). With a guard fired, `tree` ends where the parse came through
 * the recovery after it, not at the end of the text. The guards' and the
 * recovery's state are not in @lezer/lr's types: they are read from the
 * parse between its steps; should a later version rename them, `stopped`
 * and `stuckAt` stay undefined (and the tests of these messages fail).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWatched } from "./lezer_parser.ts";
 *
 * assert.equal(parseWatched("a or b").stopped, undefined);
 * const long = parseWatched(Array(1000).fill("a").join(" or "));
 * assert.match(long.stopped ?? "", /^too many chained binary operations/);
 * assert.ok((long.stoppedAt ?? 0) > 2000);
 * assert.equal(long.stuckAt === undefined || long.stuckAt >= 2000, true);
 * assert.equal(parseWatched("sum(up) up").stuckAt, 8);
 * ```
 */
export function parseWatched(
  text: string,
): {
  tree: ReturnType<LRParser["parse"]>;
  stopped?: string;
  stoppedAt?: number;
  stuckAt?: number;
} {
  const parse = PROMQL_PARSER.startParse(text);
  let stopped: keyof typeof STOPPED | undefined;
  let stoppedAt: number | undefined;
  let stuckAt: number | undefined;
  let ending = false;
  for (;;) {
    if (stopped === undefined) {
      const stacks: unknown = Reflect.get(parse, "stacks");
      const big: unknown = Reflect.get(parse, "bigReductionCount");
      const list: unknown[] = Array.isArray(stacks) ? stacks : [];
      // The condition under which the next step forces the reductions.
      if (
        typeof big === "number" && big > MAX_BIG_REDUCTIONS && list.length === 1
      ) {
        stopped = "chain";
        stoppedAt = _position(list[0]);
      }
      for (const stack of list) {
        const states: unknown = Reflect.get(Object(stack), "stack");
        if (Array.isArray(states) && states.length >= NEAR_CUT_DEPTH) {
          stopped = "depth";
          stoppedAt = Math.min(stoppedAt ?? Infinity, _position(stack));
        }
      }
    }
    const at = parse.parsedPos;
    const recovering = Reflect.get(parse, "recovering");
    const tree = parse.advance();
    // A step that finds no stack able to go on starts the recovery, at the
    // position the step began from.
    if (
      stuckAt === undefined && recovering === 0 &&
      Reflect.get(parse, "recovering") !== 0
    ) {
      stuckAt = at;
    }
    // Once a guard has fired and the parse has come through the recovery
    // it started, the rest of the text changes neither the first error
    // node nor where the parse was stuck, which are all the caller reads:
    // the parse ends here (on a query of 16,000 characters, up to five
    // sixths of its time went on the text after the cut).
    if (
      stopped !== undefined && stuckAt !== undefined && !ending &&
      Reflect.get(parse, "recovering") === 0
    ) {
      ending = true;
      parse.stopAt(parse.parsedPos);
    }
    if (tree !== null) {
      return {
        tree,
        ...(stopped && { stopped: STOPPED[stopped], stoppedAt }),
        ...(stuckAt !== undefined && { stuckAt }),
      };
    }
  }
}

/** A parse stack's position in the text (0 should a version rename it). */
function _position(stack: unknown): number {
  const pos: unknown = Reflect.get(Object(stack), "pos");
  return typeof pos === "number" ? pos : 0;
}
