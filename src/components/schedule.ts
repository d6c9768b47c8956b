/**
 * `core/Schedule`: a timer source that fires on a cron expression (with
 * seconds and a time zone, read by `croner`) or every fixed period aligned
 * to the clock (`every: "5m"` fires at :00, :05, :10, ...).
 *
 * @module
 */
import { Cron } from "croner";
import {
  type Component,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import { LIMITS } from "../engine/limits.ts";
import { _nonNegativeInteger } from "./_option_parsers.ts";

/**
 * The wall clock `core/Schedule` reads and sleeps on: the real one by
 * default; tests give a fake one so that a day of firings takes no time.
 */
export interface ScheduleClock {
  /** The time now, in epoch milliseconds. */
  now(): number;
  /**
   * Resolves `true` once {@linkcode ScheduleClock.now} has reached
   * `deadline` (epoch ms), `false` as soon as `signal` or `wake` aborts.
   */
  sleepUntil(
    deadline: number,
    signal: AbortSignal,
    wake: AbortSignal,
  ): Promise<boolean>;
  /**
   * Time that only moves forward, in ms (`performance.now()`): with it, a
   * wall clock set forward while a firing is awaited is told from time
   * that passed. Without it, every jump counts as time passed.
   */
  monotonic?(): number;
}

/**
 * A timer is never armed for longer than this: the wall clock can be set
 * (NTP, an operator) while it waits, and a firing must follow the clock,
 * not the time elapsed since the timer was armed.
 */
const _RECHECK_MS = 10_000;

/**
 * The real wall clock: `Date.now()`, and timers armed for at most
 * {@linkcode _RECHECK_MS} at a time, each checking the clock again (a timer
 * may also fire a little early).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WALL_CLOCK } from "./schedule.ts";
 *
 * const never = new AbortController().signal;
 * const due = WALL_CLOCK.now() + 5;
 * assert.equal(await WALL_CLOCK.sleepUntil(due, never, never), true);
 * assert.ok(WALL_CLOCK.now() >= due);
 * ```
 */
export const WALL_CLOCK: ScheduleClock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleepUntil(
    deadline: number,
    signal: AbortSignal,
    wake: AbortSignal,
  ): Promise<boolean> {
    if (signal.aborted || wake.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopListening = () => {
        signal.removeEventListener("abort", onAbort);
        wake.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        clearTimeout(timer);
        stopListening();
        resolve(false);
      };
      const check = () => {
        const left = deadline - Date.now();
        if (left <= 0) {
          stopListening();
          resolve(true);
          return;
        }
        timer = setTimeout(check, Math.min(left, _RECHECK_MS));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      wake.addEventListener("abort", onAbort, { once: true });
      check();
    });
  },
});

/** What `core/Schedule` sends for each firing. */
export interface Firing {
  /** The scheduled time of this firing, ISO 8601 in UTC. */
  time: string;
  /** The same time in epoch milliseconds. */
  epochMs: number;
  /** The firing's number among those sent: 0, 1, 2, ... */
  seq: number;
  /**
   * Firings missed just before this one, while the previous message waited
   * for room (or the host was too busy to fire on time).
   */
  missed: number;
}

/** The parsed `cron` option: the expression, checked. */
interface _CronOption {
  /** As written. */
  expression: string;
}

/**
 * Parses the `cron` option: five fields (minutes), six (seconds first) or
 * seven (a year last), or a nickname such as `@hourly`.
 */
function _cron(value: unknown): _CronOption {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(
      `expected a cron expression such as "*/5 * * * *" or "0 30 9 * * MON-FRI", received ${
        describeValue(value)
      }`,
    );
  }
  let cron: Cron;
  try {
    // Paused and without a function: parsed, never armed.
    cron = new Cron(value, { paused: true });
  } catch (e) {
    throw new RangeError(
      `invalid cron expression ${JSON.stringify(value)}: ${
        (e as Error).message.replace(/^CronPattern: /, "")
      }`,
    );
  }
  // "0 0 0 31 2 *" (February 31st) or a year that has passed: the flow
  // would start and finish at once, silently. In the host's time zone:
  // no zone moves a time by a year.
  if (cron.nextRun() === null) {
    throw new RangeError(
      `cron expression ${
        JSON.stringify(value)
      } never fires: no time after now matches it (a day the month does not have, or a year that has passed)`,
    );
  }
  return { expression: value };
}

/**
 * Parses the `timezone` option: an IANA time zone name that this
 * runtime's time zone data knows (`"Europe/Berlin"`, `"UTC"`).
 */
function _timezone(value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `expected a time zone name such as "Europe/Berlin" or "UTC", received ${
        describeValue(value)
      }`,
    );
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
  } catch {
    throw new RangeError(
      `unknown time zone ${
        JSON.stringify(value)
      }; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"`,
    );
  }
  return value;
}

const _PERIOD_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;
const _PERIOD_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * The longest `every` and `offset`: 366 days. Longer periods are a cron's
 * job (a yearly date), and without a bound a period could reach past the
 * dates JavaScript can represent.
 */
const _MAX_PERIOD_MS = 366 * 86_400_000;

/**
 * A period in ms: `500`, `"30s"`, `"5m"`, `"1h"`, `"1d"`; from `min` to
 * {@linkcode _MAX_PERIOD_MS}.
 */
function _period(what: string, min: number): (value: unknown) => number {
  return (value) => {
    const m = typeof value === "string" ? _PERIOD_RE.exec(value) : null;
    const ms = typeof value === "number"
      ? value
      : m
      ? Number(m[1]) * _PERIOD_UNITS[m[2] ?? "ms"]
      : NaN;
    if (Number.isFinite(ms) && ms >= min && ms <= _MAX_PERIOD_MS) {
      return Math.round(ms);
    }
    throw new RangeError(
      `expected ${what} and at most 366 days, such as 500, "30s", "5m", "1h" or "1d", received ${
        describeValue(value)
      }`,
    );
  };
}

const _every = _period(
  `a period of at least ${LIMITS.minIntervalMs} ms`,
  LIMITS.minIntervalMs,
);
const _offset = _period("an offset of 0 or more", 0);

/**
 * Why the cron expression never fires in `timezone` from now on (its
 * last time passed there: a year's last day in a zone ahead of the
 * host's), or undefined when it fires.
 */
function _neverInZone(
  expression: string,
  timezone: string,
  now: number = Date.now(),
): string | undefined {
  if (_cronTimes(expression, timezone).next(now) !== null) {
    return undefined;
  }
  return `cron expression ${
    JSON.stringify(expression)
  } never fires in time zone ${
    JSON.stringify(timezone)
  }: no time after now there matches it (its last time has passed in that zone)`;
}

/** The times a schedule fires at, after a given time. */
interface _Times {
  /** The first firing strictly after `after` (epoch ms), or `null`: none. */
  next(after: number): number | null;
}

function _cronTimes(expression: string, timezone: string | undefined): _Times {
  const cron = new Cron(expression, {
    paused: true,
    ...(timezone !== undefined ? { timezone } : {}),
  });
  return {
    next: (after) => cron.nextRun(new Date(after))?.getTime() ?? null,
  };
}

function _everyTimes(every: number, offset: number): _Times {
  const shift = offset % every;
  return {
    next: (after) => (Math.floor((after - shift) / every) + 1) * every + shift,
  };
}

/**
 * A wall clock set forward by more than this while a firing was awaited
 * (beyond the time that passed) was set, not late: NTP stepping the clock
 * of a device without a real-time clock from 1970 at boot. The schedule
 * starts again from the new time instead of sending a firing labelled
 * 1970 and counting decades as missed. (A host suspended for longer looks
 * the same, since monotonic time stops meanwhile: the firings of the
 * suspended time are not counted as missed either.)
 */
const _CLOCK_SET_MS = 60_000;

/**
 * Missed firings are counted up to this many at a time: a seconds cron
 * held back for a day would otherwise take 86,400 steps of croner.
 */
const _MAX_MISSED_COUNTED = 10_000;

/** Firings of `times` in `(after, until]`, up to {@linkcode _MAX_MISSED_COUNTED}. */
function _firingsBetween(times: _Times, after: number, until: number): number {
  let n = 0;
  for (
    let t = times.next(after);
    t !== null && t <= until && n < _MAX_MISSED_COUNTED;
    t = times.next(t)
  ) n++;
  return n;
}

interface ScheduleState {
  /** Aborted when an option changes, to end the current wait. */
  wake: AbortController;
  /** Firings sent. */
  fired: Meter;
  /** Firings missed while the previous message waited. */
  missed: Meter;
}

/** A meter handle as `ctx.meter()` returns it. */
interface Meter {
  add(n?: number): void;
}

// Settings core/Schedule cannot run with (checked at validation and at start).
const _BOTH = "takes cron or every, not both; remove one";
const _EVERY_ZONE =
  'timezone applies to cron only; every is aligned to UTC. For a local time of day use cron, e.g. "0 0 0 * * *" with the timezone';
const _NEITHER =
  'needs a cron option (e.g. "0 */5 * * * *") or an every option (e.g. "5m"), and neither was given';

/**
 * `core/Schedule` on `clock` (default the real wall clock; tests pass a
 * fake one). See {@linkcode CoreSchedule}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coreSchedule, type ScheduleClock } from "./schedule.ts";
 * import { Network } from "../engine/network.ts";
 * import { defineComponent } from "../engine/component.ts";
 *
 * // A fake clock: each sleep jumps straight to its deadline.
 * let now = Date.parse("2026-03-29T00:30:00Z");
 * const clock: ScheduleClock = {
 *   now: () => now,
 *   sleepUntil: async (deadline) => { now = Math.max(now, deadline); return true; },
 * };
 * const times: string[] = [];
 * const net = new Network({
 *   name: "demo",
 *   processes: [
 *     { name: "Hourly", component: coreSchedule(clock) },
 *     { name: "Keep", component: defineComponent({
 *       name: "x/Keep", description: "", inPorts: { in: {} },
 *       process(v: unknown) { times.push((v as { time: string }).time); },
 *     }) },
 *   ],
 *   connections: [{ from: { process: "Hourly", port: "out" }, to: { process: "Keep", port: "in" } }],
 *   initials: [
 *     { data: "0 0 * * * *", to: { process: "Hourly", port: "cron" } },
 *     { data: "Europe/Berlin", to: { process: "Hourly", port: "timezone" } },
 *     { data: 2, to: { process: "Hourly", port: "count" } },
 *   ],
 * });
 * await net.start();
 * await net.finished;
 * // Berlin moves to summer time at 01:00 UTC that night: 03:00 local.
 * assert.deepEqual(times, ["2026-03-29T01:00:00.000Z", "2026-03-29T02:00:00.000Z"]);
 * ```
 */
export function coreSchedule(clock: ScheduleClock = WALL_CLOCK): Component {
  return defineComponent<ScheduleState>({
    name: "core/Schedule",
    description:
      "Fires on a cron expression (seconds, time zones) or every period aligned to the clock.",
    inPorts: {
      cron: {
        type: "string",
        control: true,
        parse: _cron,
        description:
          'A cron expression: 5 fields (minute hour day month weekday), 6 with seconds first, 7 with a year last, or @hourly, @daily, ... ("*/10 * * * * *": every 10 s). Give cron or every.',
      },
      timezone: {
        type: "string",
        control: true,
        parse: _timezone,
        description:
          'The IANA time zone the cron expression reads its times in, e.g. "Europe/Berlin" (default the host\'s); daylight saving time is followed. For cron only: with every it is an error.',
      },
      every: {
        // A string ("5m") or a number of ms: "any", so that both pass the
        // IIP type check and the parser decides.
        type: "any",
        control: true,
        parse: _every,
        description:
          'A period aligned to the clock (UTC): "5m" fires at :00, :05, :10, ...; ms, or a number with ms, s, m, h or d, from 1 ms to 366 days. Give cron or every (with every, no timezone).',
      },
      offset: {
        type: "any",
        control: true,
        default: 0,
        parse: _offset,
        description:
          'Shifts every\'s firings: every "1h" with offset "15m" fires at :15 past each hour (default 0).',
      },
      count: {
        type: "integer",
        control: true,
        default: 0,
        parse: _nonNegativeInteger,
        description: "Firings to send before finishing; 0 means forever.",
      },
    },
    outPorts: {
      out: {
        type: "object",
        description:
          "One message per firing: {time (ISO, UTC), epochMs, seq (0, 1, ...), missed (firings missed just before)}.",
      },
    },
    meters: [
      {
        name: "schedule_firings_total",
        type: "counter",
        help: "Firings of core/Schedule sent on out",
        moves: "one per firing sent",
      },
      {
        name: "schedule_missed_total",
        type: "counter",
        help:
          "Firings of core/Schedule skipped because the previous message was still waiting for room (or the host was late)",
        moves: "by the firings that came due while a send waited; never queued",
      },
    ],
    setup: (ctx) => ({
      wake: new AbortController(),
      fired: ctx.meter("schedule_firings_total"),
      missed: ctx.meter("schedule_missed_total"),
    }),
    // What run() would refuse at its start, found when the graph is
    // validated: settings given as initial packets, or none at all.
    checkSettings(settings, connected) {
      const has = (port: string) => Object.hasOwn(settings, port);
      if (has("cron") && has("every")) return _BOTH;
      if (has("every") && has("timezone")) return _EVERY_ZONE;
      if (has("cron") && has("timezone")) {
        const never = _neverInZone(
          (settings.cron as _CronOption).expression,
          settings.timezone as string,
        );
        if (never !== undefined) return never;
      }
      if (
        !has("cron") && !has("every") && !connected.has("cron") &&
        !connected.has("every")
      ) {
        return _NEITHER;
      }
      return undefined;
    },
    onControl(_port, _value, ctx) {
      ctx.state?.wake.abort();
    },
    async run(ctx) {
      const signal = ctx.signal;
      const state = ctx.state;
      const timesNow = (): _Times => {
        const cron = ctx.control<_CronOption | undefined>("cron");
        const every = ctx.control<number | undefined>("every");
        if (cron !== undefined && every !== undefined) {
          throw new RangeError(`core/Schedule ${_BOTH}`);
        }
        if (cron !== undefined) {
          return _cronTimes(
            cron.expression,
            ctx.control<string | undefined>("timezone"),
          );
        }
        if (every !== undefined) {
          // Ignoring it would fire at UTC's midnight where the author
          // meant Berlin's.
          if (ctx.control<string | undefined>("timezone") !== undefined) {
            throw new RangeError(`core/Schedule: ${_EVERY_ZONE}`);
          }
          return _everyTimes(every, ctx.control<number>("offset"));
        }
        throw new TypeError(`core/Schedule ${_NEITHER}`);
      };
      // Each firing is the schedule's next time after the previous one
      // (the start before the first), never "now + period": no drift.
      let after = clock.now();
      let missed = 0;
      /** Whether the wall clock was set forward since `wall0`/`mono0`. */
      const clockSet = (wall0: number, mono0: number | undefined) =>
        mono0 !== undefined &&
        (clock.now() - wall0) - (clock.monotonic!() - mono0) > _CLOCK_SET_MS;
      for (let seq = 0;;) {
        const count = ctx.control<number>("count");
        if (count !== 0 && seq >= count) return;
        if (state.wake.signal.aborted) state.wake = new AbortController();
        const times = timesNow();
        const due = times.next(after);
        if (due === null) {
          // A cron whose last time has passed: done, once it fired. One
          // that never could (its settings came while the flow ran) says so.
          if (seq > 0) return;
          const zone = ctx.control<string | undefined>("timezone");
          throw new RangeError(
            `core/Schedule: ${
              (zone === undefined ? undefined : _neverInZone(
                ctx.control<_CronOption>("cron").expression,
                zone,
                after,
              )) ?? "its cron expression never fires from now on"
            }`,
          );
        }
        const wall0 = clock.now();
        const mono0 = clock.monotonic?.();
        if (!await clock.sleepUntil(due, signal, state.wake.signal)) {
          if (signal.aborted) return;
          continue; // An option changed: the next time again, from `after`.
        }
        if (clockSet(wall0, mono0)) {
          // Start again from the clock's new time; nothing was missed.
          after = clock.now();
          missed = 0;
          continue;
        }
        const sentAt = clock.now();
        const sentMono = clock.monotonic?.();
        const firing: Firing = {
          time: new Date(due).toISOString(),
          epochMs: due,
          seq,
          missed,
        };
        seq++;
        state.fired.add(1);
        const sent = ctx.send("out", firing);
        if (sent !== undefined) await sent;
        if (signal.aborted) return;
        // What came due while the send waited (or the timer was late) is
        // missed, not sent late in a burst: the next firing is the first
        // one after now.
        const now = clock.now();
        // A clock set forward while the send waited: from the new time,
        // with nothing missed.
        missed = now > due && !clockSet(sentAt, sentMono)
          ? _firingsBetween(times, due, now)
          : 0;
        if (missed > 0) state.missed.add(missed);
        after = Math.max(due, now);
      }
    },
  });
}

/**
 * `core/Schedule`: a timer source. With `cron`, it fires at the times of a
 * cron expression (seconds optional, read in `timezone`, daylight saving
 * time followed); with `every`, every period aligned to the clock in UTC
 * (`"5m"` fires at :00, :05, :10, ..., shifted by `offset`). Each firing
 * sends `{time, epochMs, seq, missed}` on `out`: the scheduled time (ISO
 * in UTC, and epoch ms), the firing's number, and the firings missed just
 * before it. A bad expression or an unknown time zone is a validation
 * problem naming it.
 *
 * Each firing time comes from the schedule, never from the previous
 * firing plus a period, so it does not drift. When `out` is full, it
 * waits for room; the firings that come due meanwhile are counted as
 * missed (`weir_schedule_missed_total`) and not queued. It stops at once
 * when the network stops or drains; with `count` it finishes after that
 * many firings. A change of option applies at once. A wall clock set
 * forward by more than a minute while it waits (NTP at the boot of a
 * device without a real-time clock) starts the schedule again from the new
 * time: no stale firing, nothing counted as missed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreSchedule } from "./schedule.ts";
 *
 * assert.equal(CoreSchedule.inPorts.every.parse?.("5m"), 300_000);
 * assert.throws(() => CoreSchedule.inPorts.cron.parse?.("61 * * * * *"), /invalid cron expression/);
 * assert.throws(() => CoreSchedule.inPorts.timezone.parse?.("Mars/Olympus"), /unknown time zone "Mars\/Olympus"/);
 * ```
 */
export const CoreSchedule: Component = coreSchedule();
