/**
 * Core components: forwarding, dropping, logging, merging, kicking, delaying
 * and the interval timer source. The names follow NoFlo's `core/*` where
 * NoFlo has the same component, so classic `.fbp` graphs run unchanged.
 *
 * @module
 */
import {
  type Component,
  defineComponent,
  parseDuration,
} from "../engine/component.ts";
import { excerpt, thrownText } from "../engine/excerpt.ts";
import { _intervalDuration, _nonNegativeInteger } from "./_option_parsers.ts";
import { _sleepUntil } from "./_timer.ts";
import { _jsonWriteProblem, TOO_DEEP, TOO_LARGE } from "./_to_json.ts";

/**
 * `core/Repeat`: forwards every message unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreRepeat } from "./core.ts";
 *
 * assert.equal(CoreRepeat.name, "core/Repeat");
 * ```
 */
export const CoreRepeat: Component = defineComponent({
  name: "core/Repeat",
  description: "Forwards every message unchanged.",
  inPorts: { in: { description: "Messages to forward." } },
  outPorts: { out: { description: "The same messages, in order." } },
  process(value, ctx) {
    ctx.send("out", value);
  },
});

/**
 * `core/Drop`: takes every message and sends nothing (a sink that discards).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreDrop } from "./core.ts";
 *
 * assert.equal(CoreDrop.name, "core/Drop");
 * ```
 */
export const CoreDrop: Component = defineComponent({
  name: "core/Drop",
  description: "Takes every message and discards it.",
  inPorts: { in: { description: "Messages to discard." } },
  process() {},
});

/**
 * Where `core/Output` writes each line, with the flow and the process it
 * comes from (`weir serve` tags the line with the flow: many flows share
 * one standard output there).
 */
export type OutputWriter = (
  line: string,
  flow: string,
  process: string,
) => void;

/**
 * `core/Output` writing its lines with `write` (default `console.log` of
 * the line alone: the output of `weir run` is the flow's own).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coreOutput } from "./core.ts";
 * import { Network } from "../engine/network.ts";
 *
 * const lines: string[] = [];
 * const Output = coreOutput((line, flow, process) =>
 *   lines.push(`[${flow}] ${process}: ${line}`)
 * );
 * const net = new Network({
 *   name: "demo",
 *   processes: [{ name: "Log", component: Output }],
 *   connections: [],
 *   initials: [{ data: { a: 1 }, to: { process: "Log", port: "in" } }],
 * });
 * await net.start();
 * await net.finished;
 * assert.deepEqual(lines, ['[demo] Log: {"a":1}']);
 * ```
 */
export function coreOutput(
  write: OutputWriter = (line) => console.log(line),
): Component {
  return defineComponent({
    ..._OUTPUT,
    process(value, ctx) {
      write(_logLine(value), ctx.network, ctx.process);
      ctx.send("out", value);
    },
  });
}

/**
 * `core/Output`: writes every message to standard output (`console.log`)
 * and forwards it on `out`, one line each: strings as they are, errors as
 * `name: message`, other values as JSON, so the text is the same on every
 * runtime. A value JSON cannot write (too large for one string, nested
 * too deeply, a `toJSON()` that throws) is logged as what it is and why,
 * such as `[an object that JSON could not write: it is too large]`.
 *
 * It takes NoFlo's `options` control port, so classic graphs validate and
 * run, but ignores it: NoFlo passes those options to Node's
 * `util.inspect`, whose output differs between runtimes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreOutput } from "./core.ts";
 *
 * assert.equal(CoreOutput.name, "core/Output");
 * ```
 */
export const CoreOutput: Component = defineComponent({
  name: "core/Output",
  description:
    "Logs every message to standard output, one line each (strings as they are, errors as name: message, other values as JSON), and forwards it.",
  inPorts: {
    in: { description: "Messages to log." },
    options: {
      type: "object",
      control: true,
      description:
        "NoFlo's util.inspect options; accepted for classic graphs and ignored (the line format is fixed).",
    },
  },
  outPorts: { out: { description: "The logged messages, unchanged." } },
  process(value, ctx) {
    console.log(_logLine(value));
    ctx.send("out", value);
  },
});

/** `core/Output`'s declaration, for {@linkcode coreOutput}. */
const _OUTPUT = {
  name: CoreOutput.name,
  description: CoreOutput.description,
  inPorts: CoreOutput.inPorts,
  outPorts: CoreOutput.outPorts,
};

/**
 * One line for a value: the same text on every runtime. JSON where it can
 * hold the value; a value it cannot (a cycle, a BigInt inside) as JSON too,
 * each reference back to an enclosing object as `"[Circular]"` and a BigInt
 * as a string of its digits (`String()` said `[object Object]`); a BigInt
 * alone, and what JSON leaves out (a function, `undefined`), as `String()`
 * gives it. Bytes alone (a `Uint8Array`, a Node `Buffer`, an
 * `ArrayBuffer`) as their text when they are UTF-8, and bytes anywhere else
 * (`mqtt/In`'s bytes payload in its message) as an array of numbers (JSON
 * wrote `{"0":104,"1":105}`, and a `Buffer` `{"type":"Buffer","data":[...]}`).
 * A value JSON cannot write even so (too large for a string, nested more
 * than `MAX_JSON_DEPTH` (1,000) levels or with a text longer than
 * `MAX_JSON_CHARS` (64 Mi), both looked at first, a
 * `toJSON()` that throws) as what it is and why, in brackets (`String()`
 * said `[object Object]`, or wrote an array's whole text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Buffer } from "node:buffer";
 * import { _logLine } from "./core.ts";
 *
 * const a: Record<string, unknown> = { id: 1 };
 * a.self = a;
 * assert.equal(_logLine(a), '{"id":1,"self":"[Circular]"}');
 * assert.equal(_logLine({ n: 2n ** 64n }), '{"n":"18446744073709551616"}');
 * assert.equal(_logLine(10n), "10");
 * assert.equal(_logLine(undefined), "undefined");
 * assert.equal(_logLine(new TextEncoder().encode("héllo")), "héllo");
 * assert.equal(_logLine(new Uint8Array([0xff, 1])), "[255,1]");
 * assert.equal(_logLine({ stdout: new Uint8Array([104, 105]) }), '{"stdout":[104,105]}');
 * assert.equal(_logLine({ payload: Buffer.from([104, 105]) }), '{"payload":[104,105]}');
 * assert.equal(
 *   _logLine({ toJSON() { throw new Error("gone"); } }),
 *   '[an object that JSON could not write: it threw "gone" while being written]',
 * );
 * ```
 */
export function _logLine(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
    try {
      return _UTF8.decode(value);
    } catch {
      // Not text: as an array of numbers, below.
    }
  }
  // Looked at before JSON.stringify, which Bun takes seconds over at
  // 100,000 levels (twice: the lenient try too) and Deno refuses near 8,000.
  const problem = _jsonWriteProblem(value, true);
  if (problem !== undefined) return _unwritable(value, problem);
  let json: string | undefined;
  try {
    json = JSON.stringify(value, _bytesAsNumbers);
  } catch {
    try {
      json = JSON.stringify(value, _lenient());
    } catch (e) {
      // Not String(value): "[object Object]", or an array's text, which
      // is as large as the JSON that did not fit (or throws as well).
      return _unwritable(value, _why(e));
    }
  }
  return json ?? String(value);
}

/** The line for a value JSON could not write even leniently, and `why`. */
function _unwritable(value: unknown, why: string): string {
  let what = "a value";
  try {
    what = Array.isArray(value)
      ? `an array of ${value.length.toLocaleString("en-US")} item${
        value.length === 1 ? "" : "s"
      }`
      : typeof value === "function"
      ? "a function"
      : "an object";
  } catch {
    // A revoked proxy: not even its kind can be read.
  }
  return `[${what} that JSON could not write: ${why}]`;
}

/** Why JSON.stringify threw `error`, in the same words on every runtime. */
function _why(error: unknown): string {
  const message = thrownText(error);
  // Deno says "Invalid string length", Bun "Out of memory"; both say
  // "Maximum call stack size exceeded" (Bun with a full stop).
  return error instanceof RangeError && /string length|memory/i.test(message)
    ? TOO_LARGE
    : error instanceof RangeError && /call stack/i.test(message)
    ? TOO_DEEP
    : `it threw ${JSON.stringify(excerpt(message))} while being written`;
}

const _UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A `JSON.stringify` replacer writing bytes (an `ArrayBuffer`, a typed
 * array) as an array of numbers, not as an object of indexes.
 */
function _bytesAsNumbers(this: unknown, key: string, v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (
    (v as { type?: unknown }).type === "Buffer" &&
    Array.isArray((v as { data?: unknown }).data)
  ) {
    // A Buffer reaches the replacer as its toJSON(), `{ type, data }`: its
    // holder still has the bytes.
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) v = raw;
  }
  if (v instanceof ArrayBuffer) return Array.from(new Uint8Array(v));
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(
      v as unknown as ArrayLike<number | bigint>,
      (n) => typeof n === "bigint" ? n.toString() : n,
    );
  }
  return v;
}

/**
 * A `JSON.stringify` replacer for values JSON refuses: a BigInt as its digits,
 * an object already open on the path to this one as `"[Circular]"` (an
 * object met twice side by side is written twice, as JSON would).
 */
function _lenient(): (this: unknown, key: string, v: unknown) => unknown {
  const path: unknown[] = [];
  // The objects of `path`, to look one up in constant time: a scan of the
  // path made a value nested n deep cost n² (seconds at 40,000 on Bun).
  const open = new Set<unknown>();
  return function (this: unknown, key: string, v: unknown): unknown {
    if (typeof v === "bigint") return v.toString();
    v = _bytesAsNumbers.call(this, key, v);
    if (typeof v !== "object" || v === null) return v;
    // `this` is the object that holds `v`: the path ends there.
    while (path.length > 0 && path[path.length - 1] !== this) {
      open.delete(path.pop());
    }
    if (open.has(v)) return "[Circular]";
    path.push(v);
    open.add(v);
    return v;
  };
}

/**
 * `core/Kick`: sends the value of its `data` control (default `null`) on
 * `out` whenever any message arrives on `in`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreKick } from "./core.ts";
 *
 * assert.equal(CoreKick.inPorts.data.default, null);
 * ```
 */
export const CoreKick: Component = defineComponent({
  name: "core/Kick",
  description: "Sends its data value each time a message arrives on in.",
  inPorts: {
    in: {
      type: "bang",
      description: "Any message: the signal to send the data value.",
    },
    data: {
      control: true,
      default: null,
      description: "The value to send (default null).",
    },
  },
  outPorts: { out: { description: "The data value, once per signal." } },
  process(_value, ctx) {
    ctx.send("out", ctx.control("data"));
  },
});

/**
 * `core/Merge`: forwards the messages of any number of connections into
 * `in` on `out`, in the order they arrive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreMerge } from "./core.ts";
 *
 * assert.equal(CoreMerge.inPorts.in.multiple, true);
 * ```
 */
export const CoreMerge: Component = defineComponent({
  name: "core/Merge",
  description: "Merges every connection into in onto out, in arrival order.",
  inPorts: {
    in: {
      multiple: true,
      description: "Messages from one or more connections.",
    },
  },
  outPorts: { out: { description: "Every message, in arrival order." } },
  process(value, ctx) {
    ctx.send("out", value);
  },
});

interface DelayState {
  /** Send time of the latest message: a later one never goes before it. */
  lastDue: number;
  /** Settles once the latest message was sent (or failed). */
  tail: Promise<unknown>;
}

/**
 * `core/Delay`: forwards each message `delay` after it arrived, keeping
 * their order. Up to 1000 messages wait at once (the process's
 * `concurrency` changes that); beyond it the input waits, which is back
 * pressure. NoFlo's `core/RepeatDelayed` is the same component.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreDelay } from "./core.ts";
 *
 * assert.equal(CoreDelay.inPorts.delay.parse?.("250ms"), 250);
 * ```
 */
export const CoreDelay: Component = defineComponent<DelayState>({
  name: "core/Delay",
  description: "Forwards each message after a delay, in order.",
  inPorts: {
    in: { description: "Messages to forward later." },
    delay: {
      type: "duration",
      control: true,
      default: 500,
      parse: parseDuration,
      description:
        'Time each message waits before it is forwarded, e.g. "250ms" (default 500 ms).',
    },
  },
  outPorts: { out: { description: "The messages, each after the delay." } },
  // Each waiting message is an activation in flight.
  concurrency: 1000,
  setup: () => ({ lastDue: 0, tail: Promise.resolve() }),
  process(value, ctx) {
    const state = ctx.state;
    const due = Math.max(
      performance.now() + ctx.control<number>("delay"),
      state.lastDue,
    );
    state.lastDue = due;
    const previous = state.tail;
    const sent = _sleepUntil(due, ctx.signal)
      .then((elapsed) => elapsed ? previous : undefined)
      .then(() => ctx.signal.aborted ? undefined : ctx.send("out", value));
    // The next message waits for this one, whether or not its send failed
    // (a failure is reported once, by this activation).
    state.tail = sent.catch(() => {});
    return sent;
  },
});

interface IntervalState {
  /** Aborted when `interval` or `count` changes, to end the current wait. */
  wake: AbortController;
}

/**
 * `core/Interval`: a timer source that sends the tick number (0, 1, 2, ...)
 * on `out` every `interval`; with `count` set it finishes after that many
 * ticks. The first tick goes one interval after the start. It waits for
 * room when `out` is full, and stops at once when the network stops or
 * drains.
 *
 * A new `interval` applies at once, as in NoFlo's `core/RunInterval`: the
 * wait restarts from the last tick (or the start) plus the new interval, so
 * a shortened interval whose time has already passed ticks at once. A new
 * `count` applies at once too: it finishes when `count` ticks have gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CoreInterval } from "./core.ts";
 *
 * assert.equal(CoreInterval.inPorts.interval.parse?.("1.5s"), 1500);
 * ```
 */
export const CoreInterval: Component = defineComponent<IntervalState>({
  name: "core/Interval",
  description: "Sends 0, 1, 2, ... every interval; stops after count ticks.",
  inPorts: {
    interval: {
      type: "duration",
      control: true,
      default: 1000,
      parse: _intervalDuration,
      description:
        'Time between ticks, at least 1 ms, e.g. "250ms" or "1s" (default 1 s); a change applies at once.',
    },
    count: {
      type: "integer",
      control: true,
      default: 0,
      parse: _nonNegativeInteger,
      description:
        "Ticks to send before finishing; 0 means forever (default); a change applies at once.",
    },
  },
  outPorts: {
    out: { type: "integer", description: "The tick number: 0, 1, 2, ..." },
  },
  setup: () => ({ wake: new AbortController() }),
  onControl(_port, _value, ctx) {
    ctx.state?.wake.abort();
  },
  async run(ctx) {
    const signal = ctx.signal;
    const state = ctx.state;
    // When the last tick was due (the start before the first): ticks are
    // due one interval apart, so the schedule does not drift.
    let last = performance.now();
    for (let tick = 0;; tick++) {
      // Wait for the tick, again after each change of interval or count.
      for (;;) {
        const count = ctx.control<number>("count");
        if (count !== 0 && tick >= count) return;
        if (state.wake.signal.aborted) state.wake = new AbortController();
        const due = last + ctx.control<number>("interval");
        if (await _sleepUntil(due, signal, state.wake.signal)) {
          last = due;
          break;
        }
        if (signal.aborted) return;
      }
      const sent = ctx.send("out", tick);
      if (sent !== undefined) await sent;
      if (signal.aborted) return;
      // After a wait for room longer than an interval, the next tick goes
      // at once rather than a burst of late ones.
      const now = performance.now();
      last = Math.max(last, now - ctx.control<number>("interval"));
    }
  },
});
