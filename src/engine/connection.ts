/**
 * Connections: the bounded FIFO buffers between an out-port and an in-port.
 *
 * A connection owns its ring buffer and its overflow policy: `offer()`
 * buffers a value or, when full, does what the policy says (`block` parks
 * it and hands the sender a promise, `drop-oldest` drops the oldest,
 * `drop-newest` drops the new value, `error` refuses it with an
 * `OverflowError`), counting each drop by its reason. `take()` hands out the
 * oldest value, and `discard()` empties it when its receiver or the network
 * is gone. The network decides who runs when (see `network.ts`); the
 * per-message path here touches only plain fields and typed arrays.
 *
 * @module
 */
import { OverflowError } from "./errors.ts";
import { Histogram } from "./histogram.ts";
import { estimateBytes } from "./size.ts";
import type { OverflowPolicy } from "./spec.ts";

/** Policy codes, so the hot path compares small integers. */
export const BLOCK = 0;
export const DROP_OLDEST = 1;
export const DROP_NEWEST = 2;
export const ERROR = 3;

const POLICY_CODES: Record<OverflowPolicy, number> = {
  "block": BLOCK,
  "drop-oldest": DROP_OLDEST,
  "drop-newest": DROP_NEWEST,
  "error": ERROR,
};

/** What a connection needs to know of a process: its name, for messages. */
export interface Named {
  readonly name: string;
}

/** One end of a connection, as the network knows it. */
export interface Endpoint<P> {
  proc: P;
  port: string;
  /** Index on an addressable port, else -1. */
  index: number;
}

/**
 * Slots a connection's ring starts with (or its capacity, when smaller):
 * the default capacity (10) never grows, a capacity of 100,000 costs
 * memory only as it fills.
 */
const INITIAL_SLOTS = 16;

/** A value waiting for room in a full `block` connection. */
export interface PendingSend {
  value: unknown;
  origin: number;
  /** When it was sent (ms). */
  at: number;
  resolve: (() => void) | undefined;
}

/** Why `discard()` empties a connection: the reason its drops are counted under. */
export type DiscardReason = "unread" | "stopped";

/**
 * A bounded ring buffer with the timestamps the metrics need (enqueue time
 * and the time the message entered the network), its overflow policy and
 * its drop counters.
 *
 * `P` is the network's process type; the connection stores it and reads
 * only its name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Connection } from "./connection.ts";
 *
 * const c = new Connection(null, { proc: { name: "B" }, port: "in", index: -1 }, 2, "drop-oldest", false);
 * c.offer("a", 0, 0);
 * c.offer("b", 0, 0);
 * c.offer("c", 0, 0);
 * assert.deepEqual([c.take(0), c.take(0)], ["b", "c"]);
 * assert.deepEqual(c.droppedOldest, 1);
 * ```
 */
export class Connection<P extends Named> {
  /** Maximum number of buffered values. */
  readonly capacity: number;
  /** What happens when the buffer is full. */
  readonly policy: OverflowPolicy;
  /** `policy` as a code. */
  readonly policyCode: number;
  /** The sender; `null` for IIPs and exported in-ports. */
  readonly from: Endpoint<P> | null;
  /** The receiver. */
  readonly to: Endpoint<P>;
  /** `from.proc`, or `null`: read on every message. */
  readonly source: P | null;
  /** `to.proc`: read on every message. */
  readonly target: P;
  /** `to.port`: read on every message. */
  readonly port: string;
  /** `to.index`: read on every message. */
  readonly index: number;
  /** Feeds a control port (values are applied, never buffered). */
  readonly control: boolean;
  /**
   * Buffered values (ring). It starts small and doubles as it fills, up
   * to `capacity`: a large capacity costs memory only when it is used.
   */
  buf: unknown[];
  /** Time each buffered value entered the network (ms, 0 = unknown). */
  origins: Float64Array;
  /** Time each buffered value was enqueued (ms). */
  enqueued: Float64Array;
  /**
   * Its sender is a source (a loop with no data input) or a host sending
   * into an exported in-port: what the flow's bytes budget holds back.
   * Set by the network.
   */
  fromSource = false;
  /** Slots of the ring now (`buf.length`), at most `capacity`. */
  size: number;
  /** Index of the oldest value. */
  head = 0;
  /** Number of buffered values. */
  count = 0;
  /** Values waiting for room (block policy only). */
  pending: PendingSend[] = [];
  /** The origin time of the value `take()` returned last (ms, 0 = unknown). */
  takenOrigin = 0;
  /** No more values will come (the sender finished, or the receiver did). */
  closed = false;
  /** The receiver (a loop) finished before reading everything. */
  receiverGone = false;
  /** Holds initial packets (taken before anything else). */
  iip = false;
  /** Its sender has become asynchronous (no hand-overs from it). */
  fromAsync = false;
  /** Full, it holds its sender back (block policy, not a self-loop). */
  readonly blocksSender: boolean;
  /** Values handed to the receiver. */
  delivered = 0;
  /** Values dropped, by reason: the oldest, for a newer one (`drop-oldest`). */
  droppedOldest = 0;
  /** The newest, refused silently (`drop-newest`). */
  droppedNewest = 0;
  /** The newest, refused with an `OverflowError` (`error`). */
  refused = 0;
  /** Left unread by a receiver that finished, or sent to it after. */
  droppedUnread = 0;
  /** Discarded by a stop, or sent after it. */
  droppedStopped = 0;
  /**
   * Set by a stop on the out-connections of a process whose activations it
   * cut off (and counted as given up): that many values those activations
   * still send are not counted again. Shared by the process's connections.
   */
  lateCredit: { n: number } | null = null;
  /** Time values waited in the buffer, in seconds. */
  readonly wait: Histogram;
  /**
   * Told of every value sent into the connection (before its policy
   * decides), while someone taps it (`Network.tap`); `null` otherwise, and
   * then the sender's path pays one field read.
   */
  tap: ((value: unknown) => void) | null = null;

  /** Creates a connection; capacity must be a positive integer. */
  constructor(
    from: Endpoint<P> | null,
    to: Endpoint<P>,
    capacity: number,
    policy: OverflowPolicy,
    control: boolean,
    buckets?: readonly number[],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create connection to ${to.proc.name}.${to.port}: capacity must be a positive integer, received ${capacity}`,
      );
    }
    const code = POLICY_CODES[policy];
    if (code === undefined) {
      throw new RangeError(
        `Cannot create connection to ${to.proc.name}.${to.port}: policy must be one of block, drop-oldest, drop-newest, error; received ${
          JSON.stringify(policy)
        }`,
      );
    }
    this.from = from;
    this.to = to;
    this.source = from === null ? null : from.proc;
    this.target = to.proc;
    this.port = to.port;
    this.index = to.index;
    this.capacity = capacity;
    this.policy = policy;
    this.policyCode = code;
    this.blocksSender = code === BLOCK && this.source !== null &&
      this.source !== this.target;
    this.control = control;
    const size = Math.min(capacity, INITIAL_SLOTS);
    this.size = size;
    this.buf = new Array(size).fill(undefined);
    this.origins = new Float64Array(size);
    this.enqueued = new Float64Array(size);
    this.wait = new Histogram(buckets);
  }

  /**
   * Offers a value that entered the network at `origin` (ms), at time `now`
   * (ms). With room, it is buffered (`count` grows). Full, the policy
   * decides: `block` parks it and returns a promise that settles when it
   * has taken a slot (or was discarded); `drop-oldest` drops the oldest
   * value for it; `drop-newest` drops it; `error` throws an
   * `OverflowError`. A closed connection drops it (reason `unread` when its
   * receiver is gone, else `stopped`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Connection } from "./connection.ts";
   *
   * const c = new Connection(null, { proc: { name: "B" }, port: "in", index: -1 }, 1, "block", false);
   * assert.deepEqual(c.offer("a", 0, 0), undefined);
   * const wait = c.offer("b", 0, 0);
   * assert.ok(wait instanceof Promise);
   * c.take(0);
   * await wait;
   * assert.deepEqual(c.take(0), "b");
   * ```
   */
  offer(value: unknown, origin: number, now: number): void | Promise<void> {
    // Kept small, so that the runtimes inline it into the sender's path.
    const size = this.size;
    if (this.count < size && !this.closed) {
      let slot = this.head + this.count;
      if (slot >= size) slot -= size;
      this.buf[slot] = value;
      this.origins[slot] = origin;
      this.enqueued[slot] = now;
      this.count++;
      return;
    }
    return this.#overflow(value, origin, now);
  }

  /**
   * A closed or full connection: drop, park or refuse, as its policy says;
   * a ring full below `capacity` grows instead.
   */
  #overflow(value: unknown, origin: number, now: number): void | Promise<void> {
    if (!this.closed && this.count < this.capacity) {
      this.#grow();
      return this.offer(value, origin, now);
    }
    if (this.closed) {
      if (this.receiverGone) this.droppedUnread++;
      else if (this.lateCredit !== null && this.lateCredit.n > 0) {
        this.lateCredit.n--;
      } else this.droppedStopped++;
      return;
    }
    const cap = this.capacity;
    switch (this.policyCode) {
      case BLOCK: {
        const ps: PendingSend = { value, origin, at: now, resolve: undefined };
        this.pending.push(ps);
        return new Promise<void>((r) => (ps.resolve = r));
      }
      case DROP_OLDEST: {
        const h = this.head;
        this.buf[h] = value;
        this.origins[h] = origin;
        this.enqueued[h] = now;
        this.head = h + 1 === cap ? 0 : h + 1;
        this.droppedOldest++;
        return;
      }
      case DROP_NEWEST:
        this.droppedNewest++;
        return;
      default:
        this.refused++;
        throw new OverflowError(this.name(), cap);
    }
  }

  /**
   * Takes the oldest value (call it only when `count > 0`), observing how
   * long it waited at time `now` (ms); its origin is left in
   * `takenOrigin`. The oldest parked value, if any, takes the freed slot
   * (so `count` stays at capacity) and its sender's promise settles.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Connection } from "./connection.ts";
   *
   * const c = new Connection(null, { proc: { name: "B" }, port: "in", index: -1 }, 4, "block", false);
   * c.offer("a", 5, 10);
   * c.offer("b", 6, 10);
   * assert.deepEqual(c.take(10), "a");
   * assert.deepEqual(c.takenOrigin, 5);
   * assert.deepEqual([c.count, c.delivered], [1, 1]);
   * ```
   */
  take(now: number): unknown {
    const size = this.size;
    const h = this.head;
    const v = this.buf[h];
    this.buf[h] = undefined;
    this.takenOrigin = this.origins[h];
    this.wait.observe((now - this.enqueued[h]) / 1000);
    this.head = h + 1 === size ? 0 : h + 1;
    this.delivered++;
    if (this.pending.length > 0) this.#unpark(h);
    else this.count--;
    return v;
  }

  /** The oldest parked value takes the freed slot `h` (the new tail). */
  #unpark(h: number): void {
    const ps = this.pending.shift()!;
    this.buf[h] = ps.value;
    this.origins[h] = ps.origin;
    this.enqueued[h] = ps.at;
    ps.resolve?.();
  }

  /**
   * Empties the connection and closes it: every buffered and parked value
   * is counted as dropped for `reason`, and parked senders are released.
   * `unread` means the receiver is gone, so what is sent later is dropped
   * under `unread` too.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Connection } from "./connection.ts";
   *
   * const c = new Connection(null, { proc: { name: "B" }, port: "in", index: -1 }, 2, "block", false);
   * c.offer("a", 0, 0);
   * c.discard("stopped");
   * assert.deepEqual([c.count, c.closed, c.droppedStopped], [0, true, 1]);
   * ```
   */
  discard(reason: DiscardReason): void {
    const n = this.count + this.pending.length;
    if (reason === "unread") {
      this.droppedUnread += n;
      if (!this.closed) this.receiverGone = true;
    } else {
      this.droppedStopped += n;
    }
    this.buf.fill(undefined);
    this.count = 0;
    this.head = 0;
    this.closed = true;
    const pending = this.pending;
    this.pending = [];
    for (const ps of pending) ps.resolve?.();
  }

  /** Doubles the ring (up to `capacity`), its values in order from slot 0. */
  #grow(): void {
    const size = Math.min(this.capacity, this.size * 2);
    const buf: unknown[] = new Array(size).fill(undefined);
    const origins = new Float64Array(size);
    const enqueued = new Float64Array(size);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % this.size;
      buf[i] = this.buf[j];
      origins[i] = this.origins[j];
      enqueued[i] = this.enqueued[j];
    }
    this.buf = buf;
    this.origins = origins;
    this.enqueued = enqueued;
    this.size = size;
    this.head = 0;
  }

  /**
   * Estimated bytes of the buffered values (parked ones not included):
   * the mean estimate (`size.ts`) of up to 4 of them, spread over the
   * buffer, times how many there are. Reads, never writes: nothing is
   * counted per message.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Connection } from "./connection.ts";
   *
   * const c = new Connection(null, { proc: { name: "B" }, port: "in", index: -1 }, 100, "block", false);
   * for (let i = 0; i < 50; i++) c.offer("abcd", 0, 0);
   * assert.equal(c.estimateBytes(), 50 * 24);
   * ```
   */
  estimateBytes(): number {
    const n = this.count;
    if (n === 0) return 0;
    const k = n < 4 ? n : 4;
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const at = k === 1 ? 0 : Math.round(i * (n - 1) / (k - 1));
      sum += estimateBytes(this.buf[(this.head + at) % this.size]);
    }
    return sum / k * n;
  }

  /** Buffered plus parked values. */
  backlog(): number {
    return this.count + this.pending.length;
  }

  /** The buffered and pending values, oldest first (for stats only). */
  values(): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < this.count; i++) {
      out.push(this.buf[(this.head + i) % this.size]);
    }
    for (const p of this.pending) out.push(p.value);
    return out;
  }

  /** `A.out -> B.in`, `A.out[1] -> B.in`, or `(initial) -> B.in`. */
  name(): string {
    const from = this.from === null ? "(initial)" : endpointName(this.from);
    return `${from} -> ${endpointName(this.to)}`;
  }
}

/**
 * One end of a connection as messages name it: `Process.port`, with
 * `[i]` on an addressable port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endpointName } from "./connection.ts";
 *
 * assert.equal(endpointName({ proc: { name: "Sw" }, port: "out", index: 1 }), "Sw.out[1]");
 * assert.equal(endpointName({ proc: { name: "B" }, port: "in", index: -1 }), "B.in");
 * ```
 */
export function endpointName(end: Endpoint<Named>): string {
  const name = `${end.proc.name}.${end.port}`;
  return end.index >= 0 ? `${name}[${end.index}]` : name;
}
