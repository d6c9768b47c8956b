/**
 * `flow/Join`: joins messages into groups, by count (every N into an
 * array) or by named parts (one keyed object once every part arrived), as
 * Node-RED's join node does in its manual modes, with a timeout and a
 * bound on open groups.
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
import { setOwnField } from "./_own_field.ts";

/** What completes a group, parsed: what the `parts` port holds. */
export type JoinParts =
  | { readonly count: number; readonly names?: undefined }
  | { readonly names: readonly string[]; readonly count?: undefined };

/** A group of named parts, as `flow/Join` sends it. */
export interface JoinedParts {
  /** The group's key (`null` without a `key` setting). */
  key: unknown;
  /** The value of each part that arrived, by name, in the order of `parts`. */
  parts: Record<string, unknown>;
  /** Whether every part arrived (false for a group sent on timeout, eviction or end of input). */
  complete: boolean;
  /** The names of the parts that did not arrive. */
  missing: string[];
}

/** Most parts of a group. */
const _MAX_PARTS = 100_000;
const _DEFAULT_GROUPS = 1000;
const _MAX_GROUPS = 1_000_000;

/**
 * Parses `flow/Join`'s `parts`: a count (`3`, `"3"`: every 3 messages of
 * a group into an array) or the names of the parts (`["temp", "hum"]`, or
 * its JSON text: one object once each named part arrived).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJoinParts } from "./flow_join.ts";
 *
 * assert.deepEqual(parseJoinParts("3"), { count: 3 });
 * assert.deepEqual(parseJoinParts('["temp", "hum"]'), { names: ["temp", "hum"] });
 * assert.throws(() => parseJoinParts(["a", "a"]), /"a" twice/);
 * ```
 */
export function parseJoinParts(value: unknown): JoinParts {
  let v = value;
  if (typeof v === "string") {
    const text = v.trim();
    if (/^\d+$/.test(text)) v = Number(text);
    else {
      try {
        v = JSON.parse(text);
      } catch {
        // Reported below with the value.
      }
    }
  }
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= 1 && v <= _MAX_PARTS) {
      return Object.freeze({ count: v });
    }
  } else if (
    Array.isArray(v) && v.length >= 1 && v.length <= _MAX_PARTS &&
    v.every((n) => typeof n === "string" && n !== "")
  ) {
    const names = v as string[];
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) {
        throw new RangeError(
          `expected distinct part names, received ${JSON.stringify(n)} twice`,
        );
      }
      seen.add(n);
    }
    return Object.freeze({ names: Object.freeze([...names]) });
  }
  throw new RangeError(
    `expected a count of messages from 1 to ${_MAX_PARTS} (such as 3) or the names of the parts (such as ["temp", "hum"]), received ${
      describeValue(value)
    }`,
  );
}

function _incomplete(value: unknown): "emit" | "drop" {
  if (value === "emit" || value === "drop") return value;
  throw new RangeError(
    `expected "emit" (send an incomplete group) or "drop" (count it and let it go), received ${
      describeValue(value)
    }`,
  );
}

function _maxGroups(value: unknown): number {
  if (
    typeof value === "number" && Number.isInteger(value) && value >= 1 &&
    value <= _MAX_GROUPS
  ) {
    return value;
  }
  throw new RangeError(
    `expected a number of groups from 1 to ${_MAX_GROUPS}, received ${
      describeValue(value)
    }`,
  );
}

function _timeout(value: unknown): number {
  const ms = parseDuration(value);
  if (ms <= LIMITS.maxTimerMs) return ms;
  throw new RangeError(
    `expected a timeout up to ${LIMITS.maxTimerMs} ms (about 24.8 days), received ${
      describeValue(value)
    }`,
  );
}

/** One open group. */
interface _Group {
  key: unknown;
  /** The `parts` setting it was begun under. */
  spec: JoinParts;
  /** Count groups: the values so far. */
  items: unknown[];
  /** Named groups: the parts so far. */
  parts: Map<string, unknown>;
  /** When it times out (`Infinity`: never). */
  deadline: number;
}

/** Why a group went out before it was complete. */
type _Reason = "timeout" | "evicted" | "end";

/** State of a `flow/Join` process. */
interface JoinState {
  /** Open groups, oldest first (the first is the one evicted). */
  groups: Map<unknown, _Group>;
  /**
   * Whether `groups` is in the order of their deadlines too, as while
   * `timeout` stays the same: then the first times out first. A shorter
   * `timeout` (or a clock set back) gives a new group an earlier deadline
   * than older ones, and timeouts look at every group until the order
   * holds again.
   */
  byDeadline: boolean;
  /** No earlier than the latest deadline of an open group. */
  lastDeadline: number;
  outbox: _Outbox;
  site: ExpressionSite;
  /** Incomplete groups by reason and by what became of them. */
  incomplete: Record<_Reason, { emitted: Meter; dropped: Meter }>;
  /** Open groups. */
  open: Meter;
}

/** Options of {@linkcode flowJoin}. */
export interface JoinOptions extends ExpressionComponentOptions {
  /** The clock, ms (default `Date.now`): tests give their own. */
  now?: () => number;
}

function _tally(
  ctx: Context<JoinState>,
  reason: _Reason,
): { emitted: Meter; dropped: Meter } {
  const name = "join_incomplete_groups_total";
  return {
    emitted: ctx.meter(name, { reason, action: "emitted" }),
    dropped: ctx.meter(name, { reason, action: "dropped" }),
  };
}

function _output(spec: JoinParts, g: _Group): unknown {
  if (spec.names === undefined) return g.items;
  const parts: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const name of spec.names) {
    // A name is data (a topic): "__proto__" assigned would set the
    // prototype of parts (Bun) and the part would not go out.
    if (g.parts.has(name)) setOwnField(parts, name, g.parts.get(name));
    else missing.push(name);
  }
  return { key: g.key, parts, complete: missing.length === 0, missing };
}

/** Ends an incomplete group as `incomplete` says, into `out`. */
function _close(
  ctx: Context<JoinState>,
  g: _Group,
  reason: _Reason,
  out: unknown[],
): void {
  const tally = ctx.state.incomplete[reason];
  if (ctx.control<string>("incomplete") === "drop") {
    tally.dropped.add(1);
    return;
  }
  tally.emitted.add(1);
  out.push(_output(g.spec, g));
}

/**
 * Ends every group whose deadline passed by `now`, earliest deadline
 * first (among equal deadlines, the oldest group first).
 */
function _due(ctx: Context<JoinState>, now: number): unknown[] {
  const out: unknown[] = [];
  const state = ctx.state;
  const groups = state.groups;
  if (state.byDeadline) {
    for (const [k, g] of groups) {
      if (g.deadline > now) break;
      groups.delete(k);
      _close(ctx, g, "timeout", out);
    }
    return out;
  }
  const due: [unknown, _Group][] = [];
  let ordered = true;
  let last = -Infinity;
  for (const entry of groups) {
    const g = entry[1];
    if (g.deadline <= now) due.push(entry);
    else {
      if (g.deadline < last) ordered = false;
      last = g.deadline;
    }
  }
  // Stable: equal deadlines keep the groups' order, oldest first.
  due.sort((a, b) => a[1].deadline - b[1].deadline);
  for (const [k, g] of due) {
    groups.delete(k);
    _close(ctx, g, "timeout", out);
  }
  state.byDeadline = ordered;
  if (ordered) state.lastDeadline = last;
  return out;
}

/** The earliest deadline of an open group (`Infinity`: none). */
function _nextDeadline(state: JoinState): number {
  if (state.byDeadline) {
    const first = state.groups.values().next();
    return first.done ? Infinity : first.value.deadline;
  }
  let at = Infinity;
  for (const g of state.groups.values()) if (g.deadline < at) at = g.deadline;
  return at;
}

function _take(
  ctx: Context<JoinState>,
  key: unknown,
  name: string | undefined,
  value: unknown,
  now: number,
): unknown[] {
  const spec = ctx.control<JoinParts>("parts");
  const groups = ctx.state.groups;
  // What timed out goes first, even before its timer fired.
  const out = _due(ctx, now);
  let g = groups.get(key);
  if (g === undefined) {
    const max = ctx.control<number>("maxGroups");
    while (groups.size >= max) {
      const [oldest, first] = groups.entries().next().value!;
      groups.delete(oldest);
      _close(ctx, first, "evicted", out);
    }
    const timeout = ctx.control<number>("timeout");
    const deadline = timeout > 0 ? now + timeout : Infinity;
    const state = ctx.state;
    if (groups.size === 0) state.byDeadline = true;
    if (groups.size === 0 || deadline >= state.lastDeadline) {
      state.lastDeadline = deadline;
    } else state.byDeadline = false;
    g = { key, spec, items: [], parts: new Map(), deadline };
    groups.set(key, g);
  }
  if (spec.names === undefined) {
    g.items.push(value);
    if (g.items.length < spec.count) return out;
  } else {
    g.parts.set(name!, value);
    if (g.parts.size < spec.names.length) return out;
  }
  groups.delete(key);
  out.push(_output(spec, g));
  return out;
}

/** A key usable in a Map: a primitive as it is, anything else as its JSON. */
function _keyOf(k: unknown): unknown {
  if (k === undefined) return null;
  if (k !== null && typeof k === "object") return JSON.stringify(k);
  return k;
}

function _nameOf(ctx: Context<JoinState>, raw: unknown): string {
  const names = ctx.control<JoinParts>("parts").names!;
  const name = typeof raw === "number" ? String(raw) : raw;
  if (typeof name === "string" && names.includes(name)) return name;
  throw new RangeError(
    `flow/Join: the part ${
      typeof name === "string" ? JSON.stringify(name) : describeValue(raw)
    } (from part ${
      JSON.stringify(ctx.control<_Selector>("part").source)
    }) is not one of ${names.join(", ")}`,
  );
}

/**
 * `flow/Join`: joins the messages of each group (by `key`, default one
 * group at a time; a key that is an object or an array counts as its JSON
 * text, a missing one is `null`) as `parts` says:
 *
 * - a count (`'3' -> parts J`): every 3 messages of a group go out as an
 *   array of their `value`s (default the messages themselves; `null` where
 *   `value` finds nothing), in order;
 * - names (`'["temp", "hum"]' -> parts J`): each message is the part
 *   that `part` names (a path or JSONata, default `topic`, as Node-RED's
 *   `msg.topic`); once every named part arrived, the group goes out as
 *   `{key, parts: {temp, hum}, complete: true, missing: []}`. A part that
 *   comes again before then replaces the earlier one; a name not in the
 *   list fails the message (to `error`).
 *
 * A group still open `timeout` after its first message (default 0: no
 * limit), one evicted because `maxGroups` (default 1000) are open, and
 * those left when the input ends are incomplete: sent as they are
 * (`incomplete` `"emit"`, the default; named groups with `complete:
 * false` and the `missing` names) or dropped (`"drop"`), and counted
 * either way. A group keeps the deadline it was begun with: a new
 * `timeout` applies to the groups begun after it, and the groups whose
 * deadlines passed all go out, earliest deadline first (the oldest first
 * among equal ones). A new `parts` setting while the flow runs ends the
 * groups begun under the old one the same way (as at the end of the
 * input). A group that goes out on its timeout (or on a new `parts`) and
 * cannot be sent (a full connection whose policy is `error`) is reported
 * when it fails, as a failed message is: to `error` when connected, else
 * to the network's `error` event.
 *
 * ```fbp
 * '["temp", "hum"]' -> parts J(flow/Join)
 * 'room' -> key J
 * '5s' -> timeout J
 * ```
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowJoin } from "./flow_join.ts";
 *
 * assert.deepEqual(FlowJoin.inPorts.parts.parse?.("2"), { count: 2 });
 * assert.throws(() => FlowJoin.inPorts.incomplete.parse?.("keep"), /expected "emit"/);
 * ```
 */
export const FlowJoin: Component = flowJoin();

/**
 * `flow/Join` with its own options (see {@linkcode JoinOptions}): an
 * expression budget, and a clock for tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowJoin } from "./flow_join.ts";
 *
 * assert.equal(flowJoin({ now: () => 0 }).name, "flow/Join");
 * ```
 */
export function flowJoin(options: JoinOptions = {}): Component {
  const budget: ExpressionBudget = _budgetOf(options);
  const now = options.now ?? Date.now;
  return defineComponent<JoinState>({
    name: "flow/Join",
    description:
      "Joins every N messages into an array, or named parts into one object, per key, with a timeout.",
    inPorts: {
      in: { description: "Messages to join." },
      parts: {
        control: true,
        required: true,
        parse: parseJoinParts,
        description:
          'What completes a group: a count (3: arrays of 3) or part names (["temp", "hum"]: one object with both).',
      },
      key: {
        type: "string",
        control: true,
        default: undefined,
        parse: _Selector.parse,
        description:
          'Groups per key: a path such as "room" or a JSONata expression (default one group at a time).',
      },
      part: {
        type: "string",
        control: true,
        default: _Selector.parse("topic"),
        parse: _Selector.parse,
        description:
          'Named parts: the name of the part a message is, a path or JSONata (default "topic").',
      },
      value: {
        type: "string",
        control: true,
        default: _Selector.parse(""),
        parse: _Selector.parse,
        description:
          "What of each message joins the group: a path or JSONata (default the message itself); null where it finds nothing.",
      },
      timeout: {
        type: "duration",
        control: true,
        default: 0,
        parse: _timeout,
        description:
          'Longest a group stays open after its first message, e.g. "5s"; 0 means no limit (default).',
      },
      incomplete: {
        type: "string",
        control: true,
        default: "emit",
        parse: _incomplete,
        description:
          'A group that times out, is evicted or is open at the end: "emit" it as it is (default) or "drop" it.',
      },
      maxGroups: {
        type: "integer",
        control: true,
        default: _DEFAULT_GROUPS,
        parse: _maxGroups,
        description:
          `Most open groups (default ${_DEFAULT_GROUPS}); a new group beyond evicts the oldest.`,
      },
    },
    outPorts: {
      out: {
        description:
          "Arrays of N values (a count), or {key, parts, complete, missing} (named parts).",
      },
      error: _errorPort,
    },
    meters: [
      {
        name: "join_incomplete_groups_total",
        type: "counter",
        help:
          "Groups of flow/Join that ended before all their parts arrived, by reason and by what became of them.",
        labels: [
          {
            name: "reason",
            help:
              "timeout (open longer than timeout), evicted (maxGroups were open), end (open when the input ended)",
            values: ["timeout", "evicted", "end"],
          },
          {
            name: "action",
            help:
              'emitted (sent as they were) or dropped, as the "incomplete" setting says',
            values: ["emitted", "dropped"],
          },
        ],
        moves:
          "once per incomplete group; evictions mean more groups are open at once than maxGroups allows",
      },
      {
        name: "join_open_groups",
        type: "gauge",
        help: "Groups of flow/Join waiting for more parts.",
        moves: "with each message, each timeout and at the end of the input",
      },
    ],
    setup(ctx) {
      const state: JoinState = {
        groups: new Map(),
        byDeadline: true,
        lastDeadline: -Infinity,
        outbox: undefined as unknown as _Outbox,
        site: { flow: ctx.network, process: ctx.process },
        incomplete: {
          timeout: _tally(ctx, "timeout"),
          evicted: _tally(ctx, "evicted"),
          end: _tally(ctx, "end"),
        },
        open: ctx.meter("join_open_groups"),
      };
      state.outbox = new _Outbox({
        send: (v) => ctx.send("out", v),
        report: (error, v) => ctx.report(error, v),
        due: (t) => {
          const out = _due(ctx, t);
          state.open.set(state.groups.size);
          return out;
        },
        next: () => _nextDeadline(state),
        now,
      });
      return state;
    },
    process(msg, ctx) {
      const state = ctx.state;
      const site = state.site;
      const keySel = ctx.control<_Selector | undefined>("key");
      const named = ctx.control<JoinParts>("parts").names !== undefined;
      const k = keySel === undefined ? null : keySel.select(msg, budget, site);
      const n = named
        ? ctx.control<_Selector>("part").select(msg, budget, site)
        : undefined;
      const v = ctx.control<_Selector>("value").select(msg, budget, site);
      if (
        k instanceof Promise || n instanceof Promise || v instanceof Promise
      ) {
        return Promise.all([k, n, v]).then(([k2, n2, v2]) =>
          _handle(ctx, named, k2, n2, v2, now)
        );
      }
      return _handle(ctx, named, k, n, v, now);
    },
    onControl(port, _value, ctx) {
      const state = ctx.state;
      if (port !== "parts" || state === undefined) return;
      // Groups begun under the old setting end as at the end of the input.
      const out: unknown[] = [];
      for (const g of state.groups.values()) _close(ctx, g, "end", out);
      state.groups.clear();
      state.open.set(0);
      state.outbox.push(out);
      state.outbox.arm();
    },
    flush(ctx) {
      const state = ctx.state;
      return state.outbox.flush(() => {
        const out: unknown[] = [];
        for (const g of state.groups.values()) _close(ctx, g, "end", out);
        state.groups.clear();
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
  ctx: Context<JoinState>,
  named: boolean,
  rawKey: unknown,
  rawName: unknown,
  value: unknown,
  now: () => number,
): void | Promise<void> {
  const name = named ? _nameOf(ctx, rawName) : undefined;
  const key = _keyOf(rawKey);
  // A value `value` finds nothing for joins as null: undefined would leave
  // a part that arrived (complete, not missing) out of the JSON sent on.
  const v = value === undefined ? null : value;
  return ctx.state.outbox.activation(() => _take(ctx, key, name, v, now()));
}
