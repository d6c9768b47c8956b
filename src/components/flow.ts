/**
 * Flow components: transform (`flow/Map`), select (`flow/Filter`), group
 * (`flow/Batch`), pace (`flow/Throttle`) and count (`flow/Counter`).
 *
 * `flow/Map` and `flow/Filter` take either a JavaScript function (`fn`, for
 * networks built in code) or a JSONata expression (`expr`, for graphs),
 * compiled once when the option arrives.
 *
 * @module
 */
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
  type InPortSpec,
  isThenable,
  parseDuration,
} from "../engine/component.ts";
import { _clearTimer, _setTimer, _sleepUntil, type _Timer } from "./_timer.ts";
import { _errorPort } from "./_error_port.ts";
import { _batchSize } from "./_option_parsers.ts";
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
import { _budgetOf } from "./_expression_budget.ts";

/** A function given to the `fn` port of `flow/Map` or `flow/Filter`. */
export type MapFunction = (value: unknown) => unknown;

function _checkFunction(value: unknown): MapFunction {
  if (typeof value === "function") return value as MapFunction;
  throw new TypeError(
    `expected a function (value) => result, received ${describeValue(value)}`,
  );
}

const _fnPort: InPortSpec = {
  type: "function",
  control: true,
  parse: _checkFunction,
  description:
    "A function (value) => result, sync or async; give fn or expr, not both.",
};

const _exprPort: InPortSpec = {
  type: "string",
  control: true,
  parse: compileExpression,
  description:
    "A JSONata expression evaluated with the message as its input; give fn or expr, not both.",
};

/** State of `flow/Map` and `flow/Filter`. */
interface FnState {
  /** The `fn` last checked against `expr`. */
  checked: MapFunction | undefined;
  /** Flow and process, for the error of an expression over its budget. */
  site: ExpressionSite;
}

function _fnState(ctx: { network: string; process: string }): FnState {
  return {
    checked: undefined,
    site: { flow: ctx.network, process: ctx.process },
  };
}

/** Options of {@linkcode flowMap} and {@linkcode flowFilter}. */
export interface ExpressionComponentOptions {
  /**
   * The budget of each evaluation of an `expr` (default
   * `DEFAULT_EXPRESSION_BUDGET`: 1,000 ms, 1,000 nested steps); over it,
   * the message fails with a `BudgetError`, counted as a `timeout`.
   */
  expressionBudget?: ExpressionBudget;
}

/** The `expr` of `ctx`, when `fn` is unset; neither set is an error. */
function _expression(ctx: Context<FnState>, component: string): Expression {
  const expr = ctx.control<Expression | undefined>("expr");
  if (expr === undefined) {
    throw new TypeError(
      `${component} needs an fn or an expr option, and neither is set`,
    );
  }
  return expr;
}

/**
 * The check of a graph's `flow/Map` or `flow/Filter` at validation: one of
 * `fn` and `expr` given (an IIP, or fed by a connection), as each message
 * would otherwise fail at run time.
 */
function _fnOrExpr(
  settings: Readonly<Record<string, unknown>>,
  connected: ReadonlySet<string>,
): string | undefined {
  const fn = Object.hasOwn(settings, "fn") || connected.has("fn");
  const expr = Object.hasOwn(settings, "expr") || connected.has("expr");
  if (fn && expr) return "takes an fn or an expr, not both; remove one";
  if (fn || expr) return undefined;
  return `needs an expr, a JSONata expression such as 'price * qty' -> expr (or an fn); with neither, every message would fail`;
}

/**
 * Checks that `expr` is unset alongside `fn`: once per `fn` value rather
 * than per message, because a control lookup is a measurable part of a
 * synchronous activation on the hot path.
 */
function _checkFn(
  ctx: Context<FnState>,
  fn: MapFunction,
  component: string,
): void {
  if (ctx.control("expr") !== undefined) {
    throw new TypeError(
      `${component} takes an fn or an expr option, not both`,
    );
  }
  ctx.state.checked = fn;
}

/**
 * `flow/Map`: sends `fn(value)` (awaited when it returns a promise), or the
 * result of the JSONata `expr` with the message as input, on `out` for each
 * message; `undefined` results (a JSONata path that matched nothing) are
 * sent too. A synchronous `fn` keeps the activation synchronous. What an
 * expression builds is sent as plain objects and arrays (JSONata's own
 * have no prototype and carry flags); parts of the input are sent as they
 * are, by reference. Each evaluation of `expr` has a budget (1,000 ms and
 * 1,000 nested steps unless {@linkcode flowMap} was given another): over
 * it, the message fails with a `BudgetError` naming the flow, the process
 * and the limit, counted as a `timeout`, and the next message goes on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Expression } from "../expr/compile_expression.ts";
 * import { FlowMap } from "./flow.ts";
 *
 * const expr = FlowMap.inPorts.expr.parse?.("price * qty") as Expression;
 * assert.equal(await expr.evaluate({ price: 2, qty: 3 }), 6);
 * ```
 */
export const FlowMap: Component = flowMap();

/**
 * `flow/Map` with its own options: `flowMap({ expressionBudget })` bounds
 * each evaluation of its `expr` (see {@linkcode ExpressionComponentOptions});
 * `builtins({ expressionBudget })` registers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowMap } from "./flow.ts";
 *
 * assert.equal(flowMap({ expressionBudget: { timeoutMs: 50, maxDepth: 100 } }).name, "flow/Map");
 * assert.throws(() => flowMap({ expressionBudget: { timeoutMs: -1, maxDepth: 100 } }), RangeError);
 * ```
 */
export function flowMap(options: ExpressionComponentOptions = {}): Component {
  const budget = _budgetOf(options);
  const mapExpression = (
    value: unknown,
    ctx: Context<FnState>,
  ): void | Promise<void> => {
    // A compiled expression answers at once: no promise per message.
    const r = evaluateExpressionWithin(
      _expression(ctx, "flow/Map"),
      value,
      budget,
      ctx.state.site,
    );
    if (r instanceof Promise) {
      return r.then((v) => ctx.send("out", toPlain(v)));
    }
    return ctx.send("out", toPlain(r));
  };
  return defineComponent<FnState>({
    name: "flow/Map",
    description: "Sends the result of fn or a JSONata expr for each message.",
    inPorts: {
      in: { description: "Messages to transform." },
      fn: _fnPort,
      expr: _exprPort,
    },
    outPorts: {
      out: { description: "One result per message, in order." },
      error: _errorPort,
    },
    setup: _fnState,
    checkSettings: _fnOrExpr,
    // The synchronous fn path is kept small; the rest is out of line.
    process(value, ctx) {
      const fn = ctx.control<MapFunction | undefined>("fn");
      if (fn === undefined) return mapExpression(value, ctx);
      if (fn !== ctx.state.checked) _checkFn(ctx, fn, "flow/Map");
      const result = fn(value);
      if (isThenable(result)) return _sendLater(ctx, result);
      ctx.send("out", result);
    },
  });
}

function _sendLater(
  ctx: Context<FnState>,
  result: PromiseLike<unknown>,
): Promise<void> {
  return Promise.resolve(result).then((r) => ctx.send("out", r));
}

/**
 * `flow/Filter`: forwards on `out` each message for which `fn(value)` (or
 * the JSONata `expr`) is truthy in JavaScript terms; the others go to
 * `rejected` when it is connected, else nowhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowFilter } from "./flow.ts";
 *
 * assert.equal(
 *   FlowFilter.outPorts.rejected.description,
 *   "Messages whose result was falsy (when connected).",
 * );
 * ```
 */
export const FlowFilter: Component = flowFilter();

/**
 * `flow/Filter` with its own options: `flowFilter({ expressionBudget })`
 * bounds each evaluation of its `expr` (see
 * {@linkcode ExpressionComponentOptions}); `builtins({ expressionBudget })`
 * registers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowFilter } from "./flow.ts";
 *
 * assert.equal(flowFilter({ expressionBudget: { timeoutMs: 50, maxDepth: 100 } }).name, "flow/Filter");
 * ```
 */
export function flowFilter(
  options: ExpressionComponentOptions = {},
): Component {
  const budget = _budgetOf(options);
  const filterExpression = (
    value: unknown,
    ctx: Context<FnState>,
  ): void | Promise<void> => {
    const r = evaluateExpressionWithin(
      _expression(ctx, "flow/Filter"),
      value,
      budget,
      ctx.state.site,
    );
    if (r instanceof Promise) return r.then((v) => _route(ctx, value, v));
    return _route(ctx, value, r);
  };
  return defineComponent<FnState>({
    name: "flow/Filter",
    description: "Forwards the messages for which fn or a JSONata expr holds.",
    inPorts: {
      in: { description: "Messages to test." },
      fn: _fnPort,
      expr: _exprPort,
    },
    outPorts: {
      out: { description: "Messages whose result was truthy." },
      rejected: {
        description: "Messages whose result was falsy (when connected).",
      },
      error: _errorPort,
    },
    setup: _fnState,
    checkSettings: _fnOrExpr,
    // The synchronous fn path is kept small; the rest is out of line.
    process(value, ctx) {
      const fn = ctx.control<MapFunction | undefined>("fn");
      if (fn === undefined) return filterExpression(value, ctx);
      if (fn !== ctx.state.checked) _checkFn(ctx, fn, "flow/Filter");
      const result = fn(value);
      if (isThenable(result)) return _routeLater(ctx, value, result);
      if (result) ctx.send("out", value);
      else if (ctx.out.rejected.connected) ctx.send("rejected", value);
    },
  });
}

function _routeLater(
  ctx: Context<FnState>,
  value: unknown,
  result: PromiseLike<unknown>,
): Promise<void> {
  return Promise.resolve(result).then((r) => _route(ctx, value, r));
}

function _route(
  ctx: Context<unknown>,
  value: unknown,
  keep: unknown,
): void | Promise<void> {
  if (keep) return ctx.send("out", value);
  if (ctx.out.rejected.connected) return ctx.send("rejected", value);
}

interface BatchState {
  /** Messages taken and not yet sent, oldest first. */
  items: unknown[];
  /** Sends a partial batch once its first message has waited `timeout`. */
  timer: _Timer | undefined;
  /** A batch the timer sent that is still waiting for room. */
  waiting: Promise<void> | undefined;
  /**
   * Why the timer could not send its batch (its items were put back): a
   * timer callback must not throw, so the next `process()` or `flush()`
   * raises it for the engine to route.
   */
  failure: { error: unknown } | undefined;
}

/** Takes the oldest batch (at most `size` items) out of `state.items`. */
function _takeBatch(state: BatchState, size: number): unknown[] {
  _clearTimer(state.timer);
  state.timer = undefined;
  const items = state.items;
  if (items.length <= size) {
    state.items = [];
    return items;
  }
  // Only after a put-back can more than a batch be waiting.
  return items.splice(0, size);
}

/** Arms the timer for the waiting items, unless one runs or none is set. */
function _arm(ctx: Context<BatchState>): void {
  const state = ctx.state;
  if (state.timer !== undefined || state.items.length === 0) return;
  const timeout = ctx.control<number>("timeout");
  if (timeout > 0) state.timer = _setTimer(() => _onTimeout(ctx), timeout);
}

function _onTimeout(ctx: Context<BatchState>): void {
  const state = ctx.state;
  state.timer = undefined;
  const batch = _takeBatch(state, ctx.control<number>("size"));
  const putBack = (error: unknown) => {
    state.items = batch.concat(state.items);
    state.failure ??= { error };
  };
  try {
    const sent = ctx.send("out", batch);
    if (sent !== undefined) {
      state.waiting = Promise.resolve(sent).then(
        () => {
          state.waiting = undefined;
        },
        (error: unknown) => {
          state.waiting = undefined;
          putBack(error);
        },
      );
    }
  } catch (error) {
    // E.g. an OverflowError from a full connection with the error policy.
    putBack(error);
  }
}

/**
 * `flow/Batch`: groups messages into arrays of `size`; with `timeout` set,
 * a partial batch goes out once its first message has waited that long
 * (timeouts beyond `setTimeout`'s 24.8 days are honoured too). What is left
 * goes out when the input ends.
 *
 * When the timer cannot send its batch (a full connection with the `error`
 * policy), the items are kept for the next batch and the failure is
 * reported with the next message (which is kept too) or at the end of the
 * input, on the `error` port or as the network's `error` event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowBatch } from "./flow.ts";
 *
 * assert.equal(FlowBatch.inPorts.size.parse?.(100), 100);
 * assert.throws(() => FlowBatch.inPorts.size.parse?.(0), RangeError);
 * ```
 */
export const FlowBatch: Component = defineComponent<BatchState>({
  name: "flow/Batch",
  description: "Groups messages into arrays of size (or what came by timeout).",
  inPorts: {
    in: { description: "Messages to group." },
    size: {
      type: "integer",
      control: true,
      default: 10,
      parse: _batchSize,
      description:
        "Messages per batch, a positive integer up to 100000 (default 10).",
    },
    timeout: {
      type: "duration",
      control: true,
      default: 0,
      parse: parseDuration,
      description:
        'Longest wait of a partial batch before it is sent, e.g. "1s"; 0 means no limit (default).',
    },
  },
  outPorts: {
    out: { type: "array", description: "Arrays of messages, in order." },
  },
  setup: () => ({
    items: [],
    timer: undefined,
    waiting: undefined,
    failure: undefined,
  }),
  process(value, ctx) {
    const waiting = ctx.state.waiting;
    // The timer's batch goes first, and this message waits for it.
    if (waiting !== undefined) return waiting.then(() => _add(ctx, value));
    return _add(ctx, value);
  },
  flush(ctx) {
    const waiting = ctx.state.waiting;
    return waiting !== undefined ? waiting.then(() => _end(ctx)) : _end(ctx);
  },
  teardown(ctx) {
    _clearTimer(ctx.state?.timer);
  },
});

function _add(ctx: Context<BatchState>, value: unknown): void | Promise<void> {
  const state = ctx.state;
  state.items.push(value);
  const failure = state.failure;
  if (failure !== undefined) {
    state.failure = undefined;
    _arm(ctx);
    throw failure.error;
  }
  const size = ctx.control<number>("size");
  if (state.items.length >= size) {
    const sent = ctx.send("out", _takeBatch(state, size));
    _arm(ctx);
    return sent;
  }
  _arm(ctx);
}

/** Sends what is left, in batches of `size`, then raises a kept failure. */
function _end(ctx: Context<BatchState>): void | Promise<void> {
  const state = ctx.state;
  const failure = state.failure;
  state.failure = undefined;
  const raise = () => {
    if (failure !== undefined) throw failure.error;
  };
  try {
    const sent = _sendRest(ctx);
    if (sent !== undefined) {
      return sent.then(raise, (error: unknown) => {
        throw failure !== undefined ? failure.error : error;
      });
    }
  } catch (error) {
    throw failure !== undefined ? failure.error : error;
  }
  raise();
}

function _sendRest(ctx: Context<BatchState>): void | Promise<void> {
  const state = ctx.state;
  while (state.items.length > 0) {
    const sent = ctx.send(
      "out",
      _takeBatch(state, ctx.control<number>("size")),
    );
    if (sent !== undefined) return sent.then(() => _sendRest(ctx));
  }
}

interface ThrottleState {
  /** When the latest message went or is due to go (performance.now). */
  last: number;
  /** Aborted when `rate` changes, so a waiting message recomputes its time. */
  wake: AbortController;
}

/**
 * `flow/Throttle`: forwards at most `rate` messages per second. A message
 * that comes too early waits (and the input behind it, which is back
 * pressure): nothing is dropped. After a quiet spell the next message goes
 * at once.
 *
 * Each message goes `1/rate` s after the one before it, with the rate in
 * force: a changed rate applies to the message that is waiting (its time is
 * computed again) and to every later one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowThrottle } from "./flow.ts";
 *
 * assert.equal(FlowThrottle.inPorts.rate.parse?.(50), 50);
 * assert.throws(() => FlowThrottle.inPorts.rate.parse?.(0), RangeError);
 * ```
 */
export const FlowThrottle: Component = defineComponent<
  ThrottleState
>({
  name: "flow/Throttle",
  description: "Forwards at most rate messages per second, delaying the rest.",
  inPorts: {
    in: { description: "Messages to pace." },
    rate: {
      type: "number",
      control: true,
      default: 1,
      parse: _positiveRate,
      description:
        "Messages per second, more than 0 (default 1); a change applies at once.",
    },
  },
  outPorts: { out: { description: "The messages, spaced by 1/rate s." } },
  setup: () => ({ last: -Infinity, wake: new AbortController() }),
  onControl(_port, _value, ctx) {
    ctx.state?.wake.abort();
  },
  process(value, ctx) {
    const state = ctx.state;
    const previous = state.last;
    const now = performance.now();
    const due = previous + 1000 / ctx.control<number>("rate");
    if (due <= now) {
      state.last = now;
      ctx.send("out", value);
      return;
    }
    state.last = due;
    return _throttled(ctx, value, previous, due);
  },
});

/** Sends `value` once `due` has come, recomputed when the rate changes. */
async function _throttled(
  ctx: Context<ThrottleState>,
  value: unknown,
  previous: number,
  due: number,
): Promise<void> {
  const state = ctx.state;
  for (;;) {
    if (state.wake.signal.aborted) state.wake = new AbortController();
    if (await _sleepUntil(due, ctx.signal, state.wake.signal)) break;
    if (ctx.signal.aborted) return;
    const next = Math.max(
      previous + 1000 / ctx.control<number>("rate"),
      performance.now(),
    );
    // The next message is timed from this one (unless, with several in
    // flight, a later one is timed already).
    if (state.last === due) state.last = next;
    due = next;
  }
  await ctx.send("out", value);
}

function _positiveRate(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    return value;
  }
  throw new RangeError(
    `expected a rate in messages per second above 0, received ${
      describeValue(value)
    }`,
  );
}

/**
 * `flow/Counter`: forwards every message on `out` and, when the input
 * ends, sends how many there were on `count`. NoFlo's `packets/Counter`
 * resolves to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowCounter } from "./flow.ts";
 *
 * assert.equal(FlowCounter.outPorts.count.type, "integer");
 * ```
 */
export const FlowCounter: Component = defineComponent<
  { count: number }
>({
  name: "flow/Counter",
  description: "Forwards messages and sends their number when input ends.",
  inPorts: { in: { description: "Messages to count." } },
  outPorts: {
    out: { description: "Every message, unchanged." },
    count: {
      type: "integer",
      description: "The number of messages, once the input has ended.",
    },
  },
  setup: () => ({ count: 0 }),
  process(value, ctx) {
    ctx.state.count++;
    ctx.send("out", value);
  },
  flush: (ctx) => ctx.send("count", ctx.state.count),
});
