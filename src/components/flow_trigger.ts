/**
 * `flow/Trigger`: Node-RED's trigger node. On a message, send a first
 * value, wait, then send a second value, unless reset; per key.
 *
 * @module
 */
import {
  type Component,
  type Context,
  defineComponent,
  parseDuration,
} from "../engine/component.ts";
import {
  compileExpression,
  type Expression,
} from "../expr/compile_expression.ts";
import type { ExpressionSite } from "../expr/evaluate_expression.ts";
import type { Meter, MeterSpec } from "../engine/meters.ts";
import { _errorPort } from "./_error_port.ts";
import { _clearTimer, _setTimer, type _Timer } from "./_timer.ts";
import {
  type _Key,
  _keyOf,
  _maxKeys,
  _NO_KEY,
  _oneOf,
  _read,
} from "./_shaping.ts";
import {
  _budgetOf,
  type ExpressionComponentOptions,
} from "./_expression_budget.ts";

/** What `flow/Trigger` sends first. */
export type TriggerFirst = "message" | "value" | "nothing";
/** What `flow/Trigger` sends once the wait is over. */
export type TriggerSecond = "message" | "latest" | "value" | "nothing";

/** One key's trigger while it waits. */
interface Waiting {
  /** The message that started it. */
  origin: unknown;
  /** The latest message of its key. */
  latest: unknown;
  /** The wait's timer; `undefined` when held until a reset (duration 0). */
  timer: _Timer | undefined;
}

interface TriggerState {
  /** Triggers waiting, by key, oldest first. */
  keys: Map<_Key, Waiting>;
  /** Second values sent and not yet taken (waiting for room). */
  sending: number;
  /** Armed timers, so that `flush` knows when the last second went. */
  armed: number;
  /** Resolves `flush`'s wait once nothing is armed or sending. */
  idle: (() => void) | undefined;
  site: ExpressionSite;
  /** `trigger_waiting`: triggers waiting now. */
  waiting: Meter;
  /** `trigger_keys_evicted_total`: triggers cancelled for `maxKeys`. */
  evicted: Meter;
}

/**
 * The meters of `flow/Trigger`: how many triggers wait, and how many it
 * cancelled to stay within `maxKeys` (their second value never went).
 */
const _METERS: readonly MeterSpec[] = [
  {
    name: "trigger_waiting",
    type: "gauge",
    help:
      "Triggers of flow/Trigger waiting for their second value (or for a reset).",
    moves:
      "Up by one when a message starts a trigger, down when its wait ends, a reset cancels it or it is cancelled for maxKeys; at most maxKeys (1,000 by default).",
  },
  {
    name: "trigger_keys_evicted_total",
    type: "counter",
    help:
      "Triggers flow/Trigger cancelled to stay within maxKeys (the oldest first).",
    moves:
      "Once per trigger cancelled because maxKeys were waiting when a new key came; its second value is not sent, so any rise means lost second values: raise maxKeys.",
  },
];

/**
 * `flow/Trigger` with its own options: `flowTrigger({ expressionBudget })`
 * bounds each evaluation of its `key` expression;
 * `builtins({ expressionBudget })` registers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowTrigger } from "./flow_trigger.ts";
 *
 * assert.equal(flowTrigger({ expressionBudget: { timeoutMs: 50, maxDepth: 100 } }).name, "flow/Trigger");
 * ```
 */
export function flowTrigger(
  options: ExpressionComponentOptions = {},
): Component {
  const budget = _budgetOf(options);
  return defineComponent<TriggerState>({
    name: "flow/Trigger",
    description:
      "On a message sends a first value, waits, then sends a second value unless reset; per key.",
    inPorts: {
      in: { description: "Messages that start (or extend) a trigger." },
      reset: {
        description:
          "Cancels the waiting trigger of the message's key (when key is set and gives one), else every trigger; nothing more is sent for them.",
      },
      duration: {
        type: "duration",
        control: true,
        default: 250,
        parse: parseDuration,
        description:
          'The wait before the second value, e.g. "5s" (default 250 ms); 0 holds the trigger until a reset (messages are ignored meanwhile, no second value).',
      },
      extend: {
        type: "boolean",
        control: true,
        default: false,
        description:
          "A message while waiting restarts the wait (a watchdog); default false: it is ignored.",
      },
      first: {
        type: "string",
        control: true,
        default: "value",
        parse: _oneOf(["message", "value", "nothing"]),
        description:
          'What goes out at once: "message" (the message), "value" (firstValue; the default) or "nothing".',
      },
      firstValue: {
        control: true,
        default: 1,
        description: "The value sent first when first is value (default 1).",
      },
      second: {
        type: "string",
        control: true,
        default: "value",
        parse: _oneOf(["message", "latest", "value", "nothing"]),
        description:
          'What goes out after the wait: "message" (the message that started it), "latest" (the latest message of its key), "value" (secondValue; the default) or "nothing".',
      },
      secondValue: {
        control: true,
        default: 0,
        description:
          "The value sent after the wait when second is value (default 0).",
      },
      resetValue: {
        type: "string",
        control: true,
        description:
          'A message equal to it (a string, or a number or boolean written as this text) resets as the reset port does, e.g. "stop" (default none).',
      },
      key: {
        type: "string",
        control: true,
        parse: compileExpression,
        description:
          'Separate triggers per key, as Node-RED\'s msg.topic: a JSONata expression such as "topic" (default one trigger).',
      },
      maxKeys: {
        type: "integer",
        control: true,
        default: 1000,
        parse: _maxKeys,
        description:
          "Triggers waiting at once at most (default 1000); beyond, the oldest is cancelled.",
      },
    },
    outPorts: {
      out: {
        description:
          "First values, and second values unless second is connected.",
      },
      second: {
        description: "Second values, when connected (else they go to out).",
      },
      error: _errorPort,
    },
    meters: _METERS,
    setup: (ctx) => ({
      keys: new Map(),
      sending: 0,
      armed: 0,
      idle: undefined,
      site: { flow: ctx.network, process: ctx.process },
      waiting: ctx.meter("trigger_waiting"),
      evicted: ctx.meter("trigger_keys_evicted_total"),
    }),
    process(message, ctx) {
      const keyExpr = ctx.control<Expression | undefined>("key");
      const key = _read(keyExpr, message, budget, ctx.state.site);
      return key instanceof Promise
        ? key.then((k) => _take(ctx, message, keyExpr ? _keyOf(k) : _NO_KEY))
        : _take(ctx, message, keyExpr ? _keyOf(key) : _NO_KEY);
    },
    flush(ctx) {
      const state = ctx.state;
      // No reset can come any more: a trigger held until one is over.
      for (const [key, w] of state.keys) {
        if (w.timer === undefined) state.keys.delete(key);
      }
      state.waiting.set(state.keys.size);
      if (state.armed === 0 && state.sending === 0) return;
      // The second values still due go out at their time, then it ends.
      return new Promise<void>((resolve) => state.idle = resolve);
    },
    teardown(ctx) {
      const state = ctx.state;
      if (state === undefined) return;
      for (const w of state.keys.values()) _clearTimer(w.timer);
      state.keys.clear();
      state.waiting.set(0);
      state.armed = 0;
      state.idle?.();
    },
  });
}

/**
 * `flow/Trigger`: Node-RED's trigger node. A message on `in` starts a
 * trigger for its key (the `key` JSONata expression, as Node-RED's
 * `msg.topic`; one trigger by default): `first` goes out at once (the
 * message, `firstValue`, or nothing), and after `duration` the `second`
 * (the message that started it, the `latest` message of its key,
 * `secondValue`, or nothing), on `second` when that port is connected,
 * else on `out`. Defaults as Node-RED's: 1, then 0 after 250 ms.
 *
 * While a trigger waits, messages of its key are ignored, or restart the
 * wait with `extend` (a watchdog: `first: "nothing"`, `extend: true`
 * sends only once the messages stop for `duration`). `duration` 0 holds
 * the trigger until a reset: the first message passes, the rest are
 * ignored. A message on `reset`, or on `in` equal to `resetValue`,
 * cancels the trigger of its key (or every trigger when it has no key):
 * nothing more is sent for it. At most `maxKeys` triggers wait at once;
 * beyond, the oldest is cancelled, counted in the
 * `trigger_keys_evicted_total` meter (`trigger_waiting` is the number
 * waiting).
 *
 * A second value that cannot be sent (a full connection whose policy is
 * `error`) is reported when it fails, as a failed message is: to `error`
 * when connected, else to the network's `error` event.
 *
 * When the input ends, the second values still due go out at their time,
 * then the process ends; triggers held until a reset are dropped. When the
 * network stops, every timer is cleared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowTrigger } from "./flow_trigger.ts";
 *
 * assert.equal(FlowTrigger.inPorts.duration.parse?.("1.5s"), 1500);
 * assert.throws(() => FlowTrigger.inPorts.second.parse?.("payload"), RangeError);
 * ```
 */
export const FlowTrigger: Component = flowTrigger();

/** Whether `message` equals the `resetValue` option as text. */
function _isResetValue(ctx: Context<TriggerState>, message: unknown): boolean {
  const resetValue = ctx.control<string | undefined>("resetValue");
  if (resetValue === undefined) return false;
  const t = typeof message;
  return (t === "string" || t === "number" || t === "boolean") &&
    String(message) === resetValue;
}

function _take(
  ctx: Context<TriggerState>,
  message: unknown,
  key: _Key,
): void | Promise<void> {
  const state = ctx.state;
  if (ctx.port === "reset" || _isResetValue(ctx, message)) {
    if (key === _NO_KEY) {
      for (const k of [...state.keys.keys()]) _cancel(ctx, k);
    } else _cancel(ctx, key);
    return;
  }
  const waiting = state.keys.get(key);
  if (waiting !== undefined) {
    waiting.latest = message;
    if (waiting.timer !== undefined && ctx.control<boolean>("extend")) {
      _clearTimer(waiting.timer);
      state.armed--;
      _arm(ctx, key, waiting);
    }
    return;
  }
  if (state.keys.size >= ctx.control<number>("maxKeys")) {
    _cancel(ctx, state.keys.keys().next().value!);
    state.evicted.add(1);
  }
  const w: Waiting = { origin: message, latest: message, timer: undefined };
  state.keys.set(key, w);
  state.waiting.set(state.keys.size);
  if (ctx.control<number>("duration") > 0) _arm(ctx, key, w);
  switch (ctx.control<TriggerFirst>("first")) {
    case "message":
      return ctx.send("out", message);
    case "value":
      return ctx.send("out", ctx.control("firstValue"));
  }
}

function _cancel(ctx: Context<TriggerState>, key: _Key): void {
  const state = ctx.state;
  const w = state.keys.get(key);
  if (w === undefined) return;
  state.keys.delete(key);
  state.waiting.set(state.keys.size);
  if (w.timer !== undefined) {
    _clearTimer(w.timer);
    state.armed--;
    _settle(state);
  }
}

function _arm(ctx: Context<TriggerState>, key: _Key, w: Waiting): void {
  ctx.state.armed++;
  w.timer = _setTimer(
    () => _fire(ctx, key, w),
    ctx.control<number>("duration"),
  );
}

/** The wait of `key` is over: its second value goes out. */
function _fire(ctx: Context<TriggerState>, key: _Key, w: Waiting): void {
  const state = ctx.state;
  state.armed--;
  w.timer = undefined;
  if (state.keys.get(key) !== w || ctx.signal.aborted) return _settle(state);
  state.keys.delete(key);
  state.waiting.set(state.keys.size);
  let value: unknown;
  switch (ctx.control<TriggerSecond>("second")) {
    case "nothing":
      return _settle(state);
    case "message":
      value = w.origin;
      break;
    case "latest":
      value = w.latest;
      break;
    default:
      value = ctx.control("secondValue");
  }
  const port = ctx.out.second.connected ? "second" : "out";
  try {
    const sent = ctx.send(port, value);
    if (sent === undefined) return _settle(state);
    state.sending++;
    sent.then(
      () => {
        state.sending--;
        _settle(state);
      },
      (error: unknown) => {
        state.sending--;
        ctx.report(error, value);
        _settle(state);
      },
    );
  } catch (error) {
    // E.g. an OverflowError from a full connection with the error policy.
    // A timer callback must not throw: reported now, as a failed
    // activation is (to error, or the network's error event).
    ctx.report(error, value);
    _settle(state);
  }
}

/** Wakes `flush` once nothing is armed or being sent. */
function _settle(state: TriggerState): void {
  if (state.armed === 0 && state.sending === 0) {
    const idle = state.idle;
    state.idle = undefined;
    idle?.();
  }
}
