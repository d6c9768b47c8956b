/**
 * `flow/Dedupe`: Node-RED's "report by exception" filter (its `rbe` node),
 * per key, with a dead band.
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
import type { ExpressionSite } from "../expr/evaluate_expression.ts";
import { toPlain } from "../expr/to_plain.ts";
import type { Meter, MeterSpec } from "../engine/meters.ts";
import { _errorPort } from "./_error_port.ts";
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

/** How `flow/Dedupe` decides that a value changed. */
export type DedupeMode = "change" | "deadband" | "deadband-eq";

/** A dead band as `flow/Dedupe`'s `band` port parses it. */
export interface DeadBand {
  /** The width: an absolute amount, or a percentage of the reference value. */
  amount: number;
  /** Whether `amount` is a percentage of the reference value. */
  percent: boolean;
}

/**
 * Parses a dead band: a non-negative number (`5`, `"0.5"`) or a percentage
 * of the reference value (`"10%"`), or a {@linkcode DeadBand} already.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDeadBand } from "./flow_dedupe.ts";
 *
 * assert.deepEqual(parseDeadBand("10%"), { amount: 10, percent: true });
 * assert.deepEqual(parseDeadBand(0.5), { amount: 0.5, percent: false });
 * assert.throws(() => parseDeadBand("-1"), RangeError);
 * ```
 */
export function parseDeadBand(value: unknown): DeadBand {
  let amount = NaN;
  let percent = false;
  if (typeof value === "number") amount = value;
  else if (typeof value === "object" && value !== null) {
    // Already parsed (a JSON graph may give it so).
    const band = value as Partial<DeadBand>;
    if (typeof band.percent === "boolean" && typeof band.amount === "number") {
      amount = band.amount;
      percent = band.percent;
    }
  } else if (typeof value === "string") {
    let text = value.trim();
    if (text.endsWith("%")) {
      percent = true;
      text = text.slice(0, -1).trim();
    }
    if (text !== "") amount = Number(text);
  }
  if (Number.isFinite(amount) && amount >= 0) return { amount, percent };
  throw new RangeError(
    `expected a dead band: a non-negative number such as 0.5, or a percentage such as "10%", received ${
      describeValue(value)
    }`,
  );
}

/** What `flow/Dedupe` keeps per key. */
interface Reference {
  /** The value compared with (a copy, for objects). */
  value: unknown;
}

interface DedupeState {
  /** Per key, in least recently used order (the first is evicted first). */
  refs: Map<_Key, Reference>;
  site: ExpressionSite;
  /** `dedupe_keys`: keys remembered now. */
  keys: Meter;
  /** `dedupe_keys_evicted_total`: keys forgotten for `maxKeys`. */
  evicted: Meter;
}

/**
 * The meters of `flow/Dedupe`: how many keys it remembers, and how many it
 * had to forget to stay within `maxKeys` (a key forgotten passes its next
 * value as a first one).
 */
const _METERS: readonly MeterSpec[] = [
  {
    name: "dedupe_keys",
    type: "gauge",
    help: "Keys (streams) whose last value flow/Dedupe remembers.",
    moves:
      "Up by one for each new key, down on a reset; at most maxKeys (10,000 by default).",
  },
  {
    name: "dedupe_keys_evicted_total",
    type: "counter",
    help:
      "Keys flow/Dedupe forgot to stay within maxKeys (the least recently seen first).",
    moves:
      "Once per key forgotten; the next value of that key passes as a first one, so a steady rise means maxKeys is below the number of live keys and duplicates get through.",
  },
];

/**
 * Whether two values are equal as Node-RED's `compareObjects` says:
 * the same primitive, or arrays and objects with equal members (key order
 * aside). Unlike `===` (and Node-RED), NaN equals NaN: a stuck NaN is no
 * change; -0 still equals 0.
 */
function _equal(a: unknown, b: unknown): boolean {
  _visits = 0;
  _equalPairs = undefined;
  const equal = _eq(a, b);
  _equalPairs = undefined;
  return equal;
}

/**
 * Pairs of objects compared before without a difference, kept once a
 * comparison has looked at `_QUICK_VISITS` pairs: two values that share
 * parts of themselves in many places (a message an expression built in a
 * few steps can have billions of paths through a few dozen arrays) are
 * then compared in time linear in their objects, not their paths.
 */
let _equalPairs: Map<object, Set<object>> | undefined;
let _visits = 0;
const _QUICK_VISITS = 4_096;

function _eq(a: unknown, b: unknown): boolean {
  if (a === b || (a !== a && b !== b)) return true;
  if (
    a === null || b === null || typeof a !== "object" || typeof b !== "object"
  ) {
    return false;
  }
  if (++_visits <= _QUICK_VISITS) return _members(a, b);
  _equalPairs ??= new Map();
  let seen = _equalPairs.get(a);
  if (seen?.has(b)) return true;
  if (!_members(a, b)) return false;
  if (seen === undefined) _equalPairs.set(a, seen = new Set());
  seen.add(b);
  return true;
}

/** Whether two objects have equal members (see `_equal`). */
function _members(a: object, b: object): boolean {
  const arrayA = Array.isArray(a);
  if (arrayA !== Array.isArray(b)) return false;
  if (arrayA) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!_eq(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date &&
      _eq(a.getTime(), b.getTime());
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (
      !_eq(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
      )
    ) return false;
  }
  return true;
}

/**
 * A copy of an object value to compare later with: fan-out shares a
 * message, so a downstream change must not change the reference.
 */
function _copy(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  try {
    return structuredClone(toPlain(value));
  } catch {
    // Functions and the like cannot be cloned: keep the value itself.
    return value;
  }
}

/** The number in a value as Node-RED reads it (`parseFloat`), or NaN. */
function _number(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") return parseFloat(value);
  return NaN;
}

/**
 * `flow/Dedupe` with its own options: `flowDedupe({ expressionBudget })`
 * bounds each evaluation of its `value` and `key` expressions;
 * `builtins({ expressionBudget })` registers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowDedupe } from "./flow_dedupe.ts";
 *
 * assert.equal(flowDedupe({ expressionBudget: { timeoutMs: 50, maxDepth: 100 } }).name, "flow/Dedupe");
 * ```
 */
export function flowDedupe(
  options: ExpressionComponentOptions = {},
): Component {
  const budget = _budgetOf(options);
  return defineComponent<DedupeState>({
    name: "flow/Dedupe",
    description:
      "Passes a message only when its value changed (report by exception), per key, optionally beyond a dead band.",
    inPorts: {
      in: { description: "Messages to filter." },
      reset: {
        description:
          "Forgets the values kept: of the message's key when key is set and gives one, else of every key.",
      },
      value: {
        type: "string",
        control: true,
        parse: compileExpression,
        description:
          'The value compared: a JSONata expression such as "payload.temp" (default the whole message). A message where it gives nothing is dropped.',
      },
      key: {
        type: "string",
        control: true,
        parse: compileExpression,
        description:
          'What separates the streams, as Node-RED\'s msg.topic: a JSONata expression such as "topic" (default one stream).',
      },
      mode: {
        type: "string",
        control: true,
        default: "change",
        parse: _oneOf(["change", "deadband", "deadband-eq"]),
        description:
          "change (default): pass when the value differs (objects compared member by member); deadband: pass when a number moved more than band; deadband-eq: by band or more.",
      },
      band: {
        control: true,
        default: { amount: 0, percent: false },
        parse: parseDeadBand,
        description:
          'The dead band of the deadband modes: a number such as 0.5, or a percentage of the reference such as "10%" (default 0).',
      },
      compare: {
        type: "string",
        control: true,
        default: "sent",
        parse: _oneOf(["sent", "seen"]),
        description:
          "The deadband modes' reference: the last value sent (default: a slow drift passes once it adds up to more than band) or the last value seen (only a step larger than band passes).",
      },
      ignoreFirst: {
        type: "boolean",
        control: true,
        default: false,
        description:
          "Keep the first value of each key as the reference without sending it (default false).",
      },
      maxKeys: {
        type: "integer",
        control: true,
        default: 10_000,
        parse: _maxKeys,
        description:
          "Keys remembered at most (default 10000); beyond, the least recently seen key is forgotten.",
      },
    },
    outPorts: {
      out: { description: "The messages whose value changed, unchanged." },
      error: _errorPort,
    },
    meters: _METERS,
    setup: (ctx) => ({
      refs: new Map(),
      site: { flow: ctx.network, process: ctx.process },
      keys: ctx.meter("dedupe_keys"),
      evicted: ctx.meter("dedupe_keys_evicted_total"),
    }),
    process(message, ctx) {
      const state = ctx.state;
      const keyExpr = ctx.control<Expression | undefined>("key");
      const key = _read(keyExpr, message, budget, state.site);
      if (ctx.port === "reset") {
        if (key instanceof Promise) {
          return key.then((k) => _reset(state, keyExpr, k));
        }
        return _reset(state, keyExpr, key);
      }
      const value = _read(
        ctx.control<Expression | undefined>("value"),
        message,
        budget,
        state.site,
      );
      if (key instanceof Promise || value instanceof Promise) {
        return Promise.all([key, value]).then(([k, v]) =>
          _decide(ctx, message, keyExpr ? _keyOf(k) : _NO_KEY, v)
        );
      }
      return _decide(ctx, message, keyExpr ? _keyOf(key) : _NO_KEY, value);
    },
  });
}

/**
 * `flow/Dedupe`: Node-RED's report by exception (`rbe`). It passes a
 * message on `out` only when its value (the message, or what the `value`
 * JSONata expression gives) changed since the last one of the same key
 * (the `key` expression, as Node-RED's `msg.topic`):
 *
 * - `change` (default): when it differs; numbers and strings by `!==` (so
 *   `1` and `"1"` differ, and `-0` and `0` do not), but for `NaN`, which
 *   equals `NaN` (a stuck `NaN` passes once, where Node-RED passes it
 *   every time); objects and arrays member by member. The first
 *   value of a key passes unless `ignoreFirst` (Node-RED's "block unless
 *   value changes (ignore initial value)").
 * - `deadband`: when the value, read as a number as Node-RED reads it
 *   (`parseFloat`: `"21.5 C"` is 21.5), moved more than `band` away from
 *   the reference (`deadband-eq`: by `band` or more). `band` may be a
 *   percentage of the reference (`"10%"`). The reference is the last value
 *   sent (`compare: "sent"`, default) or the last value seen (`"seen"`).
 *   The first value passes (unless `ignoreFirst`). A value that is not a
 *   number fails on the `error` port (Node-RED warns), and does not move
 *   the reference.
 *
 * A message where the value expression gives nothing is dropped, as
 * Node-RED ignores a message without the property. A message on `reset`
 * forgets the reference of its key (when `key` is set and gives one for
 * it) or of every key. At most `maxKeys` keys are remembered: beyond, the
 * least recently seen is forgotten (its next value passes as a first),
 * counted in the `dedupe_keys_evicted_total` meter (`dedupe_keys` is the
 * number remembered).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowDedupe } from "./flow_dedupe.ts";
 *
 * assert.deepEqual(FlowDedupe.inPorts.band.parse?.("5%"), { amount: 5, percent: true });
 * assert.throws(() => FlowDedupe.inPorts.mode.parse?.("narrow"), RangeError);
 * ```
 */
export const FlowDedupe: Component = flowDedupe();

function _reset(
  state: DedupeState,
  keyExpr: Expression | undefined,
  key: unknown,
): void {
  const k = keyExpr ? _keyOf(key) : _NO_KEY;
  if (k === _NO_KEY) state.refs.clear();
  else state.refs.delete(k);
  state.keys.set(state.refs.size);
}

function _decide(
  ctx: Context<DedupeState>,
  message: unknown,
  key: _Key,
  value: unknown,
): void | Promise<void> {
  if (value === undefined) return;
  const refs = ctx.state.refs;
  const ref = refs.get(key);
  if (ref !== undefined) {
    // Least recently used first: seen again, the key moves to the end.
    refs.delete(key);
    refs.set(key, ref);
  }
  const mode = ctx.control<DedupeMode>("mode");
  if (mode === "change") {
    if (ref === undefined) {
      _remember(ctx, key, _copy(value));
      if (ctx.control<boolean>("ignoreFirst")) return;
      return ctx.send("out", message);
    }
    if (_equal(value, ref.value)) return;
    ref.value = _copy(value);
    return ctx.send("out", message);
  }
  const n = _number(value);
  if (Number.isNaN(n)) {
    throw new TypeError(
      `Cannot compare with a dead band: the value is not a number, received ${
        describeValue(value)
      }`,
    );
  }
  if (ref === undefined) {
    _remember(ctx, key, n);
    if (ctx.control<boolean>("ignoreFirst")) return;
    return ctx.send("out", message);
  }
  const previous = ref.value as number;
  const band = ctx.control<DeadBand>("band");
  const gap = band.percent
    ? Math.abs(previous * band.amount / 100)
    : band.amount;
  const moved = Math.abs(n - previous);
  const pass = mode === "deadband" ? moved > gap : moved >= gap;
  if (pass || ctx.control<string>("compare") === "seen") ref.value = n;
  if (pass) return ctx.send("out", message);
}

function _remember(
  ctx: Context<DedupeState>,
  key: _Key,
  value: unknown,
): void {
  const state = ctx.state;
  const refs = state.refs;
  refs.set(key, { value });
  if (refs.size > ctx.control<number>("maxKeys")) {
    // The least recently seen key: the first in the map's order.
    refs.delete(refs.keys().next().value!);
    state.evicted.add(1);
  }
  state.keys.set(refs.size);
}
