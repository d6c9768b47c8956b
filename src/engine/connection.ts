/**
 * Connections: the bounded FIFO buffers between an out-port and an in-port.
 *
 * The network moves values in and out of them (see `network.ts`); this file
 * holds the buffer and its counters, so that the per-message path touches
 * only plain fields and typed arrays.
 *
 * @module
 */
import { Histogram } from "./histogram.ts";
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

/** One end of a connection, as the network knows it. */
export interface Endpoint<P> {
  proc: P;
  port: string;
  /** Index on an addressable port, else -1. */
  index: number;
}

/** A value waiting for room in a full `block` connection. */
export interface PendingSend {
  value: unknown;
  origin: number;
  /** When it was sent (ms). */
  at: number;
  resolve: (() => void) | undefined;
}

/**
 * A bounded ring buffer with the timestamps the metrics need (enqueue time
 * and the time the message entered the network), plus overflow bookkeeping.
 *
 * `P` is the network's process type; the connection only stores it.
 *
 * @example
 * ```ts
 * import { Connection } from "./connection.ts";
 *
 * const c = new Connection<string>(null, { proc: "B", port: "in", index: -1 }, 2, "block", false);
 * c.capacity; // 2
 * ```
 */
export class Connection<P> {
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
  /** Buffered values (ring). */
  readonly buf: unknown[];
  /** Time each buffered value entered the network (ms, 0 = unknown). */
  readonly origins: Float64Array;
  /** Time each buffered value was enqueued (ms). */
  readonly enqueued: Float64Array;
  /** Index of the oldest value. */
  head = 0;
  /** Number of buffered values. */
  count = 0;
  /** Values waiting for room (block policy only). */
  pending: PendingSend[] = [];
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
  /** Values dropped by reason. */
  droppedOldest = 0;
  droppedNewest = 0;
  refused = 0;
  droppedUnread = 0;
  droppedStopped = 0;
  /** Time values waited in the buffer, in seconds. */
  readonly wait: Histogram;

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
        `Cannot create connection to ${to.proc}.${to.port}: capacity must be a positive integer, received ${capacity}`,
      );
    }
    const code = POLICY_CODES[policy];
    if (code === undefined) {
      throw new RangeError(
        `Cannot create connection to ${to.proc}.${to.port}: policy must be one of block, drop-oldest, drop-newest, error; received ${
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
    this.buf = new Array(capacity).fill(undefined);
    this.origins = new Float64Array(capacity);
    this.enqueued = new Float64Array(capacity);
    this.wait = new Histogram(buckets);
  }

  /** Buffered plus pending values. */
  get depth(): number {
    return this.count + this.pending.length;
  }

  /** Every value dropped, whatever the reason. */
  get dropped(): number {
    return this.droppedOldest + this.droppedNewest + this.refused +
      this.droppedUnread + this.droppedStopped;
  }

  /** The buffered and pending values, oldest first (for stats only). */
  values(): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < this.count; i++) {
      out.push(this.buf[(this.head + i) % this.capacity]);
    }
    for (const p of this.pending) out.push(p.value);
    return out;
  }
}
