/**
 * `flow/Change`: sets, moves and deletes fields of each message by path,
 * as Node-RED's change node does, copying on write.
 *
 * @module
 */
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
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
import { _errorPort } from "./_error_port.ts";
import {
  _deletePath,
  _getPath,
  _parsePath,
  type _Segment,
  _setPath,
} from "./_message_path.ts";
import {
  _budgetOf,
  type ExpressionComponentOptions,
} from "./_expression_budget.ts";

/** The operations of `flow/Change`. */
export type ChangeOperator = "set" | "move" | "delete";

/** One parsed operation of a `flow/Change`. */
export type ChangeOperation =
  | {
    readonly op: "set";
    readonly path: readonly _Segment[];
    /** The value to set, when no `expr`. */
    readonly value?: unknown;
    /** The JSONata expression whose result is set, evaluated with the message so far. */
    readonly expr?: Expression;
  }
  | {
    readonly op: "move";
    readonly path: readonly _Segment[];
    readonly to: readonly _Segment[];
  }
  | { readonly op: "delete"; readonly path: readonly _Segment[] };

/** The operations of a `flow/Change`, parsed: what its `rules` port holds. */
export interface ChangeRules {
  /** The operations, applied in order. */
  readonly operations: readonly ChangeOperation[];
}

const _FIELDS: Record<ChangeOperator, readonly string[]> = {
  set: ["op", "path", "value", "expr"],
  move: ["op", "path", "to"],
  delete: ["op", "path"],
};
/** Operations per change: beyond, a graph wants a `flow/Map`. */
const _MAX_RULES = 1000;

function _ruleError(index: number, what: string): RangeError {
  return new RangeError(`rules[${index}] ${what}`);
}

function _pathIn(
  raw: Record<string, unknown>,
  field: string,
  index: number,
  op: string,
  whole: boolean,
): _Segment[] {
  const text = raw[field];
  if (typeof text !== "string") {
    throw _ruleError(
      index,
      `(${op}) needs a ${field} such as "payload.a.b", received ${
        describeValue(text)
      }`,
    );
  }
  let path: _Segment[] | undefined;
  try {
    path = _parsePath(text);
  } catch (e) {
    throw _ruleError(
      index,
      `(${op}) cannot use ${field}: ${(e as Error).message}`,
    );
  }
  if (path === undefined) {
    throw _ruleError(
      index,
      `(${op}) has a ${field} ${
        JSON.stringify(text)
      } that is not a path (names joined by ".", [0] indexes, ["quoted keys"]); compute values with "expr"`,
    );
  }
  if (path.length === 0 && !whole) {
    throw _ruleError(
      index,
      `(${op}) cannot ${
        op === "delete" ? "delete" : "move"
      } the message itself; give the ${field} of a field`,
    );
  }
  return path;
}

function _parseOperation(raw: unknown, index: number): ChangeOperation {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw _ruleError(
      index,
      `must be an object such as {"op": "set", "path": "a.b", "value": 1}, received ${
        describeValue(raw)
      }`,
    );
  }
  const r = raw as Record<string, unknown>;
  const op = r.op;
  if (op !== "set" && op !== "move" && op !== "delete") {
    throw _ruleError(
      index,
      `has an unknown operation ${
        op === undefined ? "(none)" : JSON.stringify(op)
      }; use one of set, move, delete${
        op === "change"
          ? ' (for a search and replace, "set" an "expr" with $replace)'
          : ""
      }`,
    );
  }
  const fields = _FIELDS[op];
  for (const key of Object.keys(r)) {
    if (!fields.includes(key)) {
      throw _ruleError(
        index,
        `(${op}) has an unknown field ${JSON.stringify(key)}; it takes ${
          fields.join(", ")
        }`,
      );
    }
  }
  switch (op) {
    case "set": {
      const path = _pathIn(r, "path", index, op, true);
      if ((r.value === undefined) === (r.expr === undefined)) {
        throw _ruleError(
          index,
          "(set) needs a value or an expr (a JSONata expression evaluated with the message), exactly one",
        );
      }
      if (r.value !== undefined) return { op, path, value: r.value };
      let expr: Expression;
      try {
        expr = compileExpression(r.expr);
      } catch (e) {
        throw _ruleError(
          index,
          `has an expr that is not a JSONata expression that compiles: ${
            (e as Error).message
          }`,
        );
      }
      return { op, path, expr };
    }
    case "move":
      return {
        op,
        path: _pathIn(r, "path", index, op, false),
        to: _pathIn(r, "to", index, op, true),
      };
    case "delete":
      return { op, path: _pathIn(r, "path", index, op, false) };
  }
}

/**
 * Parses the operations of a `flow/Change` (its `rules` port's `parse`): a
 * JSON array (or its text) of `{"op": "set", "path", "value" | "expr"}`,
 * `{"op": "move", "path", "to"}` and `{"op": "delete", "path"}`. Paths are
 * field names joined by `.`, with `[0]` indexes and `["quoted keys"]`;
 * `""` is the message itself (a `set` of it replaces the message).
 * Expressions are compiled here, once. A bad operation throws a
 * `RangeError` naming it (`rules[1] ...`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseChangeRules } from "./flow_change.ts";
 *
 * const { operations } = parseChangeRules('[{"op": "move", "path": "a", "to": "b.c"}]');
 * assert.deepEqual(operations, [{ op: "move", path: ["a"], to: ["b", "c"] }]);
 * assert.throws(
 *   () => parseChangeRules([{ op: "set", path: "a", expr: "1 +" }]),
 *   /^RangeError: rules\[0\] has an expr that is not a JSONata expression that compiles/,
 * );
 * ```
 */
export function parseChangeRules(value: unknown): ChangeRules {
  let list = value;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list);
    } catch (e) {
      throw new SyntaxError(
        `expected a JSON array of operations such as [{"op": "set", "path": "a", "value": 1}], but the text does not parse: ${
          (e as Error).message
        }`,
      );
    }
  }
  if (!Array.isArray(list) || list.length === 0 || list.length > _MAX_RULES) {
    throw new RangeError(
      `expected an array of 1 to ${_MAX_RULES} operations such as [{"op": "set", "path": "a", "value": 1}], received ${
        describeValue(list)
      }`,
    );
  }
  return Object.freeze({
    operations: Object.freeze(list.map((raw, i) => _parseOperation(raw, i))),
  });
}

/**
 * The message after `ops[from]` and on; a promise once an expression
 * answers with one. `owned` holds the objects this message's operations
 * copied, which later operations may write in place (each object is
 * copied once per message, not once per operation).
 */
function _apply(
  ops: readonly ChangeOperation[],
  from: number,
  msg: unknown,
  budget: ExpressionBudget,
  site: ExpressionSite,
  owned: object[] | undefined,
): unknown {
  let m = msg;
  for (let i = from; i < ops.length; i++) {
    const o = ops[i];
    switch (o.op) {
      case "set": {
        if (o.expr === undefined) {
          m = _set(m, o.path, o.value, owned);
          break;
        }
        const r = evaluateExpressionWithin(o.expr, m, budget, site);
        if (r instanceof Promise) {
          const path = o.path;
          const before = m;
          return r.then((v) => {
            const next = _set(before, path, toPlain(v), owned);
            if (owned !== undefined) owned.length = 0;
            return _apply(ops, i + 1, next, budget, site, owned);
          });
        }
        m = _set(m, o.path, toPlain(r), owned);
        // The result may be an object this message copied, now in two
        // places: later writes copy again rather than change both.
        if (owned !== undefined) owned.length = 0;
        break;
      }
      case "move": {
        const v = _getPath(m, o.path);
        if (v === undefined && !_has(m, o.path)) break;
        m = _set(_deletePath(m, o.path, owned), o.to, v, owned);
        break;
      }
      case "delete":
        m = _deletePath(m, o.path, owned);
        break;
    }
  }
  return m;
}

/** Whether the field at `path` exists (own), even holding `undefined`. */
function _has(m: unknown, path: readonly _Segment[]): boolean {
  const parent = _getPath(m, path.slice(0, -1));
  return parent !== null && typeof parent === "object" &&
    Object.hasOwn(parent, path[path.length - 1]);
}

/** Sets `v` at `path`; `undefined` (an expression that found nothing) deletes. */
function _set(
  m: unknown,
  path: readonly _Segment[],
  v: unknown,
  owned: object[] | undefined,
): unknown {
  if (v === undefined) {
    return path.length === 0 ? undefined : _deletePath(m, path, owned);
  }
  return _setPath(m, path, v, owned);
}

/** State of a `flow/Change` process. */
interface ChangeState {
  site: ExpressionSite;
}

function _send(ctx: Context<ChangeState>, m: unknown): void | Promise<void> {
  if (m === undefined) {
    throw new TypeError(
      `the operations left no message (a set of the whole message to an expression that gave nothing)`,
    );
  }
  return ctx.send("out", m);
}

/**
 * `flow/Change`: applies `rules`, a list of operations, in order, to each
 * message, and sends the result on `out` (as Node-RED's change node):
 *
 * - `{"op": "set", "path": "a.b", "value": 1}` sets a JSON value; with
 *   `"expr"` instead of `"value"`, the result of a JSONata expression
 *   evaluated with the message as changed so far (a result of nothing
 *   deletes the field). Missing objects along the path are created.
 * - `{"op": "move", "path": "a", "to": "b.c"}` moves a field (nothing
 *   happens when it is missing).
 * - `{"op": "delete", "path": "a.b"}` deletes a field (an array item is
 *   taken out).
 *
 * A path is field names joined by `.`, `[0]` indexes and `["quoted
 * keys"]`; `""` is the message itself. The incoming message is never
 * changed: the objects along each written path are copied, the rest is
 * shared (fan-out hands one value to several processes). A write through
 * a field that holds a number or a string fails the message (to `error`).
 * The operations are checked and their expressions compiled when the graph
 * is validated; a bad one is a validation problem naming it (`rules[1] ...`).
 *
 * ```fbp
 * '[{"op": "set", "path": "alert", "value": true}, {"op": "move", "path": "temp", "to": "reading.celsius"}, {"op": "delete", "path": "raw"}]' -> rules C(flow/Change)
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowChange } from "./flow_change.ts";
 *
 * assert.throws(
 *   () => FlowChange.inPorts.rules.parse?.('[{"op": "delete"}]'),
 *   /rules\[0\] \(delete\) needs a path/,
 * );
 * ```
 */
export const FlowChange: Component = flowChange();

/**
 * `flow/Change` with its own options: `flowChange({ expressionBudget })`
 * bounds each evaluation of its JSONata (see
 * {@linkcode ExpressionComponentOptions}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowChange } from "./flow_change.ts";
 *
 * assert.equal(flowChange({ expressionBudget: { timeoutMs: 50, maxDepth: 100 } }).name, "flow/Change");
 * ```
 */
export function flowChange(
  options: ExpressionComponentOptions = {},
): Component {
  const budget = _budgetOf(options);
  return defineComponent<ChangeState>({
    name: "flow/Change",
    description:
      "Sets, moves and deletes fields of each message by path (Node-RED's change).",
    inPorts: {
      in: { description: "Messages to change." },
      rules: {
        control: true,
        required: true,
        parse: parseChangeRules,
        description:
          'The operations in order, a JSON array such as [{"op": "set", "path": "a.b", "value": 1}, {"op": "move", "path": "x", "to": "y"}, {"op": "delete", "path": "z"}].',
      },
    },
    outPorts: {
      out: {
        description:
          "Each message as changed (a copy; the input is untouched).",
      },
      error: _errorPort,
    },
    setup: (ctx) => ({ site: { flow: ctx.network, process: ctx.process } }),
    process(msg, ctx) {
      const ops = ctx.control<ChangeRules>("rules").operations;
      const m = _apply(
        ops,
        0,
        msg,
        budget,
        ctx.state.site,
        ops.length > 1 ? [] : undefined,
      );
      if (m instanceof Promise) return m.then((v) => _send(ctx, v));
      return _send(ctx, m);
    },
  });
}
