/**
 * `flow/Window`: tumbling and sliding windows over a numeric field, by time
 * or by count, per key; for each window its count, sum, min, max, mean and
 * last value. The history store's aggregator as a component.
 *
 * It does not reuse `src/history/aggregator.ts`: that one keeps one
 * tumbling window per dense series id in typed arrays for a storage tier
 * (windows `(t - res, t]`, closed by the next sample). A flow needs
 * windows keyed by message values (a bounded, evicting map), sliding
 * windows, windows `[start, end)` aligned to the clock and closed by a
 * timer. The arithmetic (count, sum, min, max, last of panes combined) is
 * the same as its `RowAggregator`'s.
 *
 * @module
 */
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
  parseDuration,
} from "../engine/component.ts";
import { LIMITS } from "../engine/limits.ts";
import type { Meter } from "../engine/meters.ts";
import type {
  ExpressionBudget,
  ExpressionSite,
} from "../expr/evaluate_expression.ts";
import { _errorPort } from "./_error_port.ts";
import { _Selector } from "./_message_path.ts";
import {
  _budgetOf,
  type ExpressionComponentOptions,
} from "./_expression_budget.ts";
import { _Outbox } from "./_outbox.ts";

/** A window setting, parsed: what the `window` port holds. */
export interface WindowSpec {
  /** Windows by time (aligned to the clock) or by message count. */
  readonly by: "time" | "count";
  /** The window's length: ms, or messages. */
  readonly size: number;
  /** How far a window is from the next: `size` for tumbling windows, less for sliding ones. */
  readonly every: number;
}

/** One closed window, as `flow/Window` sends it. */
export interface WindowResult {
  /** The key of the messages (`null` without a `key` setting). */
  key: unknown;
  /**
   * Time windows: the window's start (ms since the epoch, included);
   * count windows: the time its first message arrived.
   */
  start: number;
  /**
   * Time windows: the window's end (ms since the epoch, excluded);
   * count windows: the time its last message arrived.
   */
  end: number;
  /** Messages in the window. */
  count: number;
  /** Sum of their values. */
  sum: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** `sum / count`. */
  mean: number;
  /** The value of the last message. */
  last: number;
}

/** Most panes (`size / every`) a sliding time window spans. */
const _MAX_PANES = 1000;
/** Most messages a sliding count window holds (it keeps each value). */
const _MAX_SLIDING_COUNT = 10_000;
/** Most messages of a tumbling count window (it keeps only sums). */
const _MAX_COUNT = 1_000_000_000;
/** Default and largest `maxKeys`. */
const _DEFAULT_KEYS = 1000;
const _MAX_KEYS = 1_000_000;

const _COUNT_RE = /^(\d+)(?:\s*(?:messages?|msgs?))?$/;

function _length(text: string): { by: "time" | "count"; n: number } {
  const count = _COUNT_RE.exec(text);
  if (count !== null) return { by: "count", n: Number(count[1]) };
  if (!/[a-z]\s*$/.test(text)) {
    throw new RangeError(
      `${JSON.stringify(text)} is neither a count nor a time`,
    );
  }
  return { by: "time", n: parseDuration(text) };
}

const _WINDOW_HELP =
  'a window such as "10s", "1m every 10s" (sliding), "100" or "100 messages", "100 every 10"';

/**
 * Parses `flow/Window`'s `window` setting: a time with its unit (`"10s"`,
 * `"500ms"`, `"1m"`, `"1h"`) for windows by time, a number of messages
 * (`100`, `"100"`, `"100 messages"`) for windows by count, followed by
 * `every` and a step of the same kind for sliding windows (`"1m every
 * 10s"`, `"100 every 10"`); or an object `{"size", "every"}` of the same.
 * A bare number counts messages (a time takes a unit). Time windows are
 * aligned to the clock (multiples of `every` since the epoch), so the
 * size must be a multiple of the step, at most 1000 steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWindow } from "./flow_window.ts";
 *
 * assert.deepEqual(parseWindow("1m every 10s"), { by: "time", size: 60_000, every: 10_000 });
 * assert.deepEqual(parseWindow(100), { by: "count", size: 100, every: 100 });
 * assert.throws(() => parseWindow("1m every 7s"), /multiple/);
 * assert.throws(() => parseWindow("10 every 1s"), /same kind/);
 * ```
 */
export function parseWindow(value: unknown): WindowSpec {
  let size: { by: "time" | "count"; n: number };
  let every: { by: "time" | "count"; n: number } | undefined;
  try {
    if (typeof value === "number") {
      size = { by: "count", n: value };
    } else if (typeof value === "string") {
      const m = /^\s*(.+?)(?:\s+every\s+(.+?))?\s*$/.exec(value);
      if (m === null) throw new RangeError("it is empty");
      size = _length(m[1]);
      if (m[2] !== undefined) every = _length(m[2]);
    } else if (
      value !== null && typeof value === "object" && !Array.isArray(value) &&
      "size" in value
    ) {
      const o = value as { size: unknown; every?: unknown };
      const part = (v: unknown) =>
        typeof v === "number"
          ? { by: "count" as const, n: v }
          : _length(String(v));
      size = part(o.size);
      if (o.every !== undefined) every = part(o.every);
    } else {
      throw new RangeError("it is not a string, a number or {size, every}");
    }
  } catch (e) {
    throw new RangeError(
      `expected ${_WINDOW_HELP}, received ${describeValue(value)}: ${
        (e as Error).message
      }`,
    );
  }
  const step = every ?? size;
  if (step.by !== size.by) {
    throw new RangeError(
      `expected a window and its step of the same kind (two times or two counts), received ${
        describeValue(value)
      }`,
    );
  }
  const where = `window ${describeValue(value)}`;
  if (size.by === "count") {
    const max = step.n === size.n ? _MAX_COUNT : _MAX_SLIDING_COUNT;
    for (const n of [size.n, step.n]) {
      if (!Number.isInteger(n) || n < 1 || n > max) {
        throw new RangeError(
          `${where}: a count must be an integer from 1 to ${max}${
            max === _MAX_SLIDING_COUNT
              ? " for a sliding window (it keeps each value)"
              : ""
          }, received ${n}`,
        );
      }
    }
  } else {
    for (const n of [size.n, step.n]) {
      if (!Number.isInteger(n) || n < 1 || n > LIMITS.maxTimerMs) {
        throw new RangeError(
          `${where}: a time must be a whole number of ms from 1 ms to ${LIMITS.maxTimerMs} (about 24.8 days), received ${n} ms`,
        );
      }
    }
    if (size.n % step.n !== 0 || size.n / step.n > _MAX_PANES) {
      throw new RangeError(
        `${where}: the size must be a multiple of the step, at most ${_MAX_PANES} steps (windows are aligned to multiples of the step)`,
      );
    }
  }
  if (step.n > size.n) {
    throw new RangeError(
      `${where}: the step must not be longer than the window`,
    );
  }
  return Object.freeze({ by: size.by, size: size.n, every: step.n });
}

function _maxKeys(value: unknown): number {
  if (
    typeof value === "number" && Number.isInteger(value) && value >= 1 &&
    value <= _MAX_KEYS
  ) {
    return value;
  }
  throw new RangeError(
    `expected a number of keys from 1 to ${_MAX_KEYS}, received ${
      describeValue(value)
    }`,
  );
}

/** Count, sum, min, max and last of the values of one pane (or window). */
interface _Agg {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  /** Time of the first and last message (count windows). */
  first: number;
  lastAt: number;
}

/** A time pane: the values of one step `[i * every, (i + 1) * every)`. */
interface _Pane extends _Agg {
  i: number;
}

/** The open windows of one key. */
interface _KeyWindows {
  key: unknown;
  /** Time windows: non-empty panes, oldest first. */
  panes: _Pane[];
  /** Count windows: the running window (tumbling). */
  agg: _Agg | undefined;
  /** Sliding count windows: the last `size` values and their times. */
  values: number[];
  times: number[];
  /** Where the next value goes in `values` once it is full. */
  head: number;
  /** Messages since the last window went out (count windows). */
  since: number;
}

/** State of a `flow/Window` process. */
interface WindowState {
  /** The window setting the open windows were made for. */
  spec: WindowSpec;
  keys: Map<unknown, _KeyWindows>;
  /** The key of the previous message, which needs no move to the LRU end. */
  lastKey: unknown;
  /** Time windows: the next window end that may close, `Infinity` for none. */
  nextEnd: number;
  /** Time windows: the last window end that closed. */
  closed: number;
  outbox: _Outbox;
  site: ExpressionSite;
  /** Keys evicted with their open windows (over maxKeys). */
  evicted: Meter;
  /** Keys holding open windows. */
  open: Meter;
}

function _agg(v: number, t: number): _Agg {
  return { count: 1, sum: v, min: v, max: v, last: v, first: t, lastAt: t };
}

function _add(a: _Agg, v: number, t: number): void {
  a.count++;
  a.sum += v;
  if (v < a.min) a.min = v;
  if (v > a.max) a.max = v;
  a.last = v;
  a.lastAt = t;
}

function _result(
  key: unknown,
  start: number,
  end: number,
  a: _Agg,
): WindowResult {
  return {
    key,
    start,
    end,
    count: a.count,
    sum: a.sum,
    min: a.min,
    max: a.max,
    mean: a.sum / a.count,
    last: a.last,
  };
}

/** A number out of the selected value: a finite number or numeric string. */
function _numberOf(v: unknown, source: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  throw new TypeError(
    `flow/Window needs a number from value ${
      JSON.stringify(source === "" ? "$" : source)
    }, received ${describeValue(v)}`,
  );
}

/** A key usable in a Map: a primitive as it is, anything else as its JSON. */
function _keyOf(k: unknown): unknown {
  if (k === undefined) return null;
  if (k !== null && typeof k === "object") return JSON.stringify(k);
  return k;
}

/** Options of {@linkcode flowWindow}. */
export interface WindowOptions extends ExpressionComponentOptions {
  /** The clock, ms since the epoch (default `Date.now`): tests give their own. */
  now?: () => number;
}

/**
 * The windows of time that end at or before `until`, in order of their
 * end, then of their keys (least recently used first); forgets the panes no later window needs.
 */
function _closeTime(
  state: WindowState,
  spec: WindowSpec,
  until: number,
): WindowResult[] {
  const out: WindowResult[] = [];
  const { size, every } = spec;
  while (state.nextEnd <= until && state.nextEnd !== Infinity) {
    const end = state.nextEnd;
    const start = end - size;
    // Panes before this start take part in no later window either.
    const keep = end + every - size;
    let earliest = Infinity;
    for (const [k, w] of state.keys) {
      const panes = w.panes;
      let a: _Agg | undefined;
      for (let j = 0; j < panes.length; j++) {
        const p = panes[j];
        const at = p.i * every;
        if (at >= end) break;
        if (at < start) continue;
        if (a === undefined) a = { ...p };
        else {
          a.count += p.count;
          a.sum += p.sum;
          if (p.min < a.min) a.min = p.min;
          if (p.max > a.max) a.max = p.max;
          a.last = p.last;
        }
      }
      if (a !== undefined) out.push(_result(w.key, start, end, a));
      let drop = 0;
      while (drop < panes.length && panes[drop].i * every < keep) drop++;
      if (drop > 0) panes.splice(0, drop);
      if (panes.length === 0) {
        state.keys.delete(k);
        if (state.lastKey === k) state.lastKey = undefined;
      } else if ((panes[0].i + 1) * every < earliest) {
        earliest = (panes[0].i + 1) * every;
      }
    }
    state.closed = end;
    state.nextEnd = earliest === Infinity
      ? Infinity
      : Math.max(end + every, earliest);
  }
  return out;
}

/** The windows of `w` as they stand (count windows), for the end of input. */
function _countResult(w: _KeyWindows): WindowResult | undefined {
  if (w.agg !== undefined) {
    return _result(w.key, w.agg.first, w.agg.lastAt, w.agg);
  }
  const n = w.values.length;
  if (n === 0) return undefined;
  // The oldest value sits at head once the ring is full, else at 0.
  let a: _Agg | undefined;
  for (let j = 0; j < n; j++) {
    const at = (w.head + j) % n;
    const v = w.values[at];
    if (a === undefined) a = _agg(v, w.times[at]);
    else _add(a, v, w.times[at]);
  }
  return _result(w.key, a!.first, a!.lastAt, a!);
}

/** The windows of a key, made (and the least recently used key evicted) on demand. */
function _windowsOf(
  state: WindowState,
  key: unknown,
  maxKeys: number,
): _KeyWindows {
  const keys = state.keys;
  let w = keys.get(key);
  if (w !== undefined) {
    if (state.lastKey !== key) {
      // Least recently used first: a key seen again moves to the end.
      keys.delete(key);
      keys.set(key, w);
      state.lastKey = key;
    }
    return w;
  }
  while (keys.size >= maxKeys) {
    const oldest = keys.keys().next().value;
    keys.delete(oldest);
    state.evicted.add(1);
  }
  w = {
    key,
    panes: [],
    agg: undefined,
    values: [],
    times: [],
    head: 0,
    since: 0,
  };
  keys.set(key, w);
  state.lastKey = key;
  return w;
}

/** What most messages close: nothing (shared, never written). */
const _NONE: WindowResult[] = [];

/** Adds value `v` at time `t` under `key`; returns the windows it closed. */
function _take(
  state: WindowState,
  spec: WindowSpec,
  maxKeys: number,
  key: unknown,
  v: number,
  t: number,
): WindowResult[] {
  if (spec.by === "time") {
    const out = state.nextEnd <= t ? _closeTime(state, spec, t) : _NONE;
    const w = _windowsOf(state, key, maxKeys);
    // A clock that went back lands in the latest pane.
    let i = Math.floor(t / spec.every);
    const closedPane = state.closed / spec.every;
    if (i < closedPane) i = closedPane;
    const panes = w.panes;
    const last = panes[panes.length - 1];
    if (last !== undefined && last.i >= i) _add(last, v, t);
    else {
      const p = _agg(v, t) as _Pane;
      p.i = i;
      panes.push(p);
      const end = (i + 1) * spec.every;
      if (end < state.nextEnd) state.nextEnd = end;
    }
    return out;
  }
  const w = _windowsOf(state, key, maxKeys);
  w.since++;
  if (spec.every === spec.size) {
    if (w.agg === undefined) w.agg = _agg(v, t);
    else _add(w.agg, v, t);
    if (w.since < spec.size) return _NONE;
    const a = w.agg;
    w.agg = undefined;
    w.since = 0;
    return [_result(key, a.first, a.lastAt, a)];
  }
  if (w.values.length < spec.size) {
    w.values.push(v);
    w.times.push(t);
  } else {
    w.values[w.head] = v;
    w.times[w.head] = t;
    w.head = (w.head + 1) % spec.size;
  }
  if (w.since < spec.every) return _NONE;
  w.since = 0;
  return [_countResult(w)!];
}

/** Everything still open, for the end of the input. */
function _rest(state: WindowState, spec: WindowSpec): WindowResult[] {
  if (spec.by === "time") return _closeTime(state, spec, Infinity);
  const out: WindowResult[] = [];
  for (const w of state.keys.values()) {
    if (w.since === 0) continue;
    const r = _countResult(w);
    if (r !== undefined) out.push(r);
  }
  state.keys.clear();
  return out;
}

/**
 * `flow/Window`: groups the numbers that `value` selects from each message
 * (default the message itself; a number or a numeric string, anything
 * else fails the message to `error`) into windows, one set per `key`
 * (default one for all), and sends each window as it closes:
 * `{key, start, end, count, sum, min, max, mean, last}`. A key that is an
 * object or an array counts (and is sent) as its JSON text; a missing key
 * is `null`.
 *
 * - Time windows (`"10s"`; sliding: `"1m every 10s"`) are aligned to the
 *   clock, `[start, end)` at multiples of the step since the epoch (UTC),
 *   by the time each message arrives. A window goes out when it closes,
 *   on a timer, even when no message comes after it; only windows that
 *   hold a message are sent. A sliding window slides by whole steps.
 * - Count windows (`"100"`; sliding: `"100 every 10"`, which goes out
 *   every 10 messages with the last 100) count the messages of their key;
 *   `start` and `end` are the times the first and last arrived.
 *
 * When the input ends, the windows still open go out (time windows with
 * their nominal end, as if the clock had passed it). At most `maxKeys`
 * keys (default 1000) hold open windows: a new key beyond it evicts the
 * key used least recently, whose open windows are dropped and counted.
 * A new `window` setting while the flow runs sends the windows open under
 * the old one, as at the end of the input, and starts afresh. A window
 * that closes on the clock (or on a new `window`) and cannot be sent (a
 * full connection whose policy is `error`) is reported when it fails, as a
 * failed message is: to `error` when connected, else to the network's
 * `error` event.
 *
 * ```fbp
 * '10s' -> window W(flow/Window)
 * 'temp' -> value W
 * 'sensor' -> key W
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowWindow } from "./flow_window.ts";
 *
 * assert.deepEqual(FlowWindow.inPorts.window.parse?.("100"), { by: "count", size: 100, every: 100 });
 * assert.throws(() => FlowWindow.inPorts.window.parse?.("soon"), /expected a window such as/);
 * ```
 */
export const FlowWindow: Component = flowWindow();

/**
 * `flow/Window` with its own options (see {@linkcode WindowOptions}): an
 * expression budget, and a clock for tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowWindow } from "./flow_window.ts";
 *
 * assert.equal(flowWindow({ now: () => 0 }).name, "flow/Window");
 * ```
 */
export function flowWindow(options: WindowOptions = {}): Component {
  const budget: ExpressionBudget = _budgetOf(options);
  const now = options.now ?? Date.now;
  const whole = _Selector.parse("");
  return defineComponent<WindowState>({
    name: "flow/Window",
    description:
      "Count, sum, min, max, mean and last of a field per tumbling or sliding window, by time or count, per key.",
    inPorts: {
      in: { description: "Messages to aggregate." },
      window: {
        control: true,
        required: true,
        parse: parseWindow,
        description:
          'The windows: "10s" (by time, aligned to the clock), "1m every 10s" (sliding), "100" (by count), "100 every 10".',
      },
      value: {
        type: "string",
        control: true,
        default: whole,
        parse: _Selector.parse,
        description:
          'The number to aggregate: a path such as "payload.temp" or a JSONata expression (default the message itself).',
      },
      key: {
        type: "string",
        control: true,
        default: undefined,
        parse: _Selector.parse,
        description:
          'Windows per key: a path such as "sensor" or a JSONata expression (default one set of windows for all).',
      },
      maxKeys: {
        type: "integer",
        control: true,
        default: _DEFAULT_KEYS,
        parse: _maxKeys,
        description:
          `Most keys with open windows (default ${_DEFAULT_KEYS}); a new key beyond evicts the least recently used.`,
      },
    },
    outPorts: {
      out: {
        type: "object",
        description:
          "One {key, start, end, count, sum, min, max, mean, last} per window, as it closes.",
      },
      error: _errorPort,
    },
    meters: [
      {
        name: "window_keys_evicted_total",
        type: "counter",
        help:
          "Keys of flow/Window whose open windows were dropped because maxKeys keys held open windows.",
        moves:
          "when a message brings a new key while maxKeys keys hold open windows: the least recently used key goes, with its windows; raise maxKeys or narrow the key if it climbs",
      },
      {
        name: "window_open_keys",
        type: "gauge",
        help: "Keys of flow/Window holding open windows.",
        moves:
          "with each message and each window that closes; at maxKeys, new keys evict old ones",
      },
    ],
    setup(ctx) {
      const state: WindowState = {
        spec: ctx.control<WindowSpec>("window"),
        keys: new Map(),
        lastKey: undefined,
        nextEnd: Infinity,
        closed: -Infinity,
        outbox: undefined as unknown as _Outbox,
        site: { flow: ctx.network, process: ctx.process },
        evicted: ctx.meter("window_keys_evicted_total"),
        open: ctx.meter("window_open_keys"),
      };
      state.outbox = new _Outbox({
        send: (v) => ctx.send("out", v),
        report: (error, v) => ctx.report(error, v),
        due: (t) => {
          const spec = state.spec;
          if (spec.by !== "time") return [];
          const out = _closeTime(state, spec, t);
          state.open.set(state.keys.size);
          return out;
        },
        next: () => state.nextEnd,
        now,
      });
      return state;
    },
    process(msg, ctx) {
      const state = ctx.state;
      const keySel = ctx.control<_Selector | undefined>("key");
      const valueSel = ctx.control<_Selector>("value");
      const k = keySel === undefined
        ? null
        : keySel.select(msg, budget, state.site);
      const v = valueSel.select(msg, budget, state.site);
      if (k instanceof Promise || v instanceof Promise) {
        return Promise.all([k, v]).then(([k2, v2]) =>
          _handle(ctx, k2, v2, now)
        );
      }
      return _handle(ctx, k, v, now);
    },
    onControl(port, value, ctx) {
      const state = ctx.state;
      if (port !== "window" || state === undefined) return;
      // The open windows were cut for the old setting: they go out as at
      // the end of the input, and the new setting starts afresh.
      const out = _rest(state, state.spec);
      state.spec = value as WindowSpec;
      state.nextEnd = Infinity;
      state.closed = -Infinity;
      state.lastKey = undefined;
      state.open.set(0);
      state.outbox.push(out);
    },
    flush(ctx) {
      const state = ctx.state;
      return state.outbox.flush(() => {
        const out = _rest(state, state.spec);
        state.open.set(0);
        return out;
      });
    },
    teardown(ctx) {
      ctx.state?.outbox.stop();
    },
  });
}

function _handle(
  ctx: Context<WindowState>,
  rawKey: unknown,
  rawValue: unknown,
  now: () => number,
): void | Promise<void> {
  const v = _numberOf(rawValue, ctx.control<_Selector>("value").source);
  const key = _keyOf(rawKey);
  const state = ctx.state;
  return state.outbox.activation(() => {
    const out = _take(
      state,
      state.spec,
      ctx.control<number>("maxKeys"),
      key,
      v,
      now(),
    );
    state.open.set(state.keys.size);
    return out;
  });
}
