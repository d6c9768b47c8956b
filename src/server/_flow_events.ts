/**
 * A flow's events as server-sent events, with bounds per client: a flow of
 * thousands of processes has a `stats` snapshot of megabytes, and clients
 * that stop reading must not make the server hold them (issue 18: 50 such
 * clients took a server from 198 MB to 1.2 GB).
 *
 * - A `stats` snapshot is cut to `maxSnapshotBytes` (it then says what it
 *   left out, see `_capped_stats.ts`), made once for all the clients of a
 *   flow that ask within half their interval, and sent as one shared chunk.
 * - At most `maxStreams` streams are open on the server (503 beyond, with
 *   `Retry-After`), as the taps are counted (`_stream_slots.ts`).
 * - A client whose unread events pass `maxBufferedBytes`, or that has taken
 *   nothing for `stallMs`, is dropped: its queue is discarded, its
 *   connection ends, and the server logs one line saying why. Until then a
 *   snapshot is skipped while the previous one is unread.
 *
 * @module
 */
import type { FlowEvent } from "../flows/flow_info.ts";
import type { FlowManager } from "../flows/flow_manager.ts";
import { _cappedStatsJson } from "./_capped_stats.ts";
import { HttpError } from "./http_error.ts";
import { _StreamSlots } from "./_stream_slots.ts";

/** Bounds of the event streams; every field has a default. */
export interface EventStreamLimits {
  /**
   * The largest `stats` snapshot sent (bytes of JSON); a bigger one is cut
   * and carries `truncated`. Default 262144 (256 KiB).
   */
  maxSnapshotBytes?: number;
  /**
   * Unread bytes queued for one client beyond which it is dropped. Default
   * 1048576 (1 MiB).
   */
  maxBufferedBytes?: number;
  /**
   * How long a client may take nothing of what is queued for it before it
   * is dropped (ms). Default 60000.
   */
  stallMs?: number;
  /**
   * Event streams open at once on the server, of all its flows; one more
   * gets 503 with `Retry-After: 5`. Each may hold up to `maxBufferedBytes`
   * for its client. Default 64.
   */
  maxStreams?: number;
}

/** Where the event streams say that they dropped a client. */
export type EventStreamLog = (
  level: "warn",
  message: string,
  fields: Record<string, string | number>,
) => void;

/** Where a stream says it dropped a client when told nowhere: stderr. */
export const _defaultStreamLog: EventStreamLog = (_level, message) =>
  console.warn(`weir: ${message}`);

/** Defaults of {@linkcode EventStreamLimits}. */
export const DEFAULT_EVENT_STREAM_LIMITS: Readonly<
  Required<EventStreamLimits>
> = {
  maxSnapshotBytes: 256 * 1024,
  maxBufferedBytes: 1024 * 1024,
  stallMs: 60_000,
  maxStreams: 64,
};

/**
 * Bytes queued for a client before a snapshot is skipped: below one
 * snapshot, so a client that stopped reading holds at most one.
 */
const HIGH_WATER_BYTES = 64 * 1024;

interface _Snapshot {
  /** `performance.now()` when it was made. */
  at: number;
  /** The whole `event: stats` frame. */
  frame: Uint8Array;
}

/**
 * The event streams of one route group: the limits, the log, and the
 * snapshots its clients share.
 */
export class _EventStreams {
  readonly #flows: FlowManager;
  readonly #limits: Required<EventStreamLimits>;
  readonly #log: EventStreamLog;
  readonly #signal: AbortSignal | undefined;
  readonly #encoder = new TextEncoder();
  readonly #slots: _StreamSlots;
  /** The last snapshot of each flow that has clients, and their count. */
  readonly #shared = new Map<
    string,
    { clients: number; last: _Snapshot | undefined }
  >();

  constructor(
    flows: FlowManager,
    limits: EventStreamLimits = {},
    log?: EventStreamLog,
    signal?: AbortSignal,
  ) {
    this.#flows = flows;
    this.#limits = { ...DEFAULT_EVENT_STREAM_LIMITS };
    for (const k of Object.keys(this.#limits) as (keyof EventStreamLimits)[]) {
      const v = limits[k];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(
          `Cannot limit event streams: ${k} must be a positive integer, received ${v}`,
        );
      }
      this.#limits[k] = v;
    }
    if (this.#limits.maxSnapshotBytes >= this.#limits.maxBufferedBytes) {
      throw new RangeError(
        `Cannot limit event streams: maxSnapshotBytes must be below maxBufferedBytes (${this.#limits.maxBufferedBytes}), received ${this.#limits.maxSnapshotBytes}`,
      );
    }
    this.#log = log ?? _defaultStreamLog;
    this.#signal = signal;
    this.#slots = new _StreamSlots(this.#limits.maxStreams);
  }

  /** Event streams open now. */
  get openCount(): number {
    return this.#slots.open;
  }

  /** Flows with a shared snapshot kept now (for tests). */
  get sharedCount(): number {
    return this.#shared.size;
  }

  /**
   * Server-sent events of flow `id`: `state`, `error`, `replaced`,
   * `deleted` (then the stream ends) and a `stats` snapshot every
   * `everyMs`. With `maxStreams` open already, a 503 `HttpError` is thrown.
   */
  open(id: string, everyMs: number): Response {
    const encoder = this.#encoder;
    const limits = this.#limits;
    const releaseSlot = this.#slots.take(() =>
      new HttpError(
        503,
        `Cannot stream the events of flow ${
          JSON.stringify(id)
        }: ${limits.maxStreams} event streams are open on this server; close one or retry later`,
        { "Retry-After": "5" },
      )
    );
    const signal = this.#signal;
    const flows = this.#flows;
    let stop = () => {};
    let shared = this.#shared.get(id);
    if (shared === undefined) {
      shared = { clients: 0, last: undefined };
      this.#shared.set(id, shared);
    }
    shared.clients++;
    const entry = shared;
    const release = () => {
      releaseSlot();
      if (--entry.clients === 0 && this.#shared.get(id) === entry) {
        this.#shared.delete(id);
      }
    };
    const snapshot = (): Uint8Array => {
      const now = performance.now();
      // A snapshot made for another client up to half an interval ago
      // serves this one too: one snapshot per flow per half interval,
      // however many clients.
      const last = entry.last;
      if (last !== undefined && now - last.at < everyMs / 2) return last.frame;
      const json = _cappedStatsJson(
        flows.stats(id),
        limits.maxSnapshotBytes,
        `/flows/${encodeURIComponent(id)}/stats`,
      );
      const frame = encoder.encode(`event: stats\ndata: ${json}\n\n`);
      entry.last = { at: now, frame };
      return frame;
    };
    const log = this.#log;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let open = true;
        /** Since when the queue has stayed at or over the high water. */
        let stalledSince: number | undefined;
        const queued = () => HIGH_WATER_BYTES - (controller.desiredSize ?? 0);
        const end = () => {
          stop();
          try {
            controller.close();
          } catch { /* closed already */ }
        };
        // The queue is discarded (error, not close, which would keep it
        // for a reader that never comes) and the runtime ends the
        // connection.
        const drop = (why: string) => {
          const bytes = queued();
          stop();
          log(
            "warn",
            `event stream of flow "${id}" dropped: its client ${why} (${bytes} bytes unread); it may reconnect`,
            { flow: id, reason: why, unread_bytes: bytes },
          );
          try {
            // The runtimes print this reason on stderr as it is (Deno one
            // line, Bun two; an Error would come with its stack).
            controller.error(
              `weir: an event stream was dropped (the log says why)`,
            );
          } catch { /* closed already */ }
        };
        const enqueue = (chunk: Uint8Array) => {
          if (!open) return;
          if (queued() + chunk.byteLength > limits.maxBufferedBytes) {
            return drop(
              `did not read ${limits.maxBufferedBytes} bytes of events`,
            );
          }
          try {
            controller.enqueue(chunk);
          } catch {
            stop();
          }
        };
        const send = (event: string, data: unknown) =>
          enqueue(
            encoder.encode(
              `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
            ),
          );
        const stats = () => {
          if (!open) return;
          // A snapshot only when the last one has been taken: the next one
          // supersedes it, so a slow client skips snapshots instead of
          // queueing them.
          if ((controller.desiredSize ?? 0) <= 0) {
            const now = performance.now();
            stalledSince ??= now;
            if (now - stalledSince >= limits.stallMs) {
              drop(`took nothing for ${limits.stallMs} ms`);
            }
            return;
          }
          stalledSince = undefined;
          let frame: Uint8Array;
          try {
            frame = snapshot();
          } catch {
            // The flow is gone: its `deleted` event closes the stream.
            return;
          }
          enqueue(frame);
        };
        const unsubscribe = flows.subscribe(id, (e: FlowEvent) => {
          const { type, ...data } = e;
          send(type, data);
          if (type === "deleted") end();
        });
        const timer = setInterval(stats, everyMs);
        signal?.addEventListener("abort", end, { once: true });
        stop = () => {
          if (!open) return;
          open = false;
          clearInterval(timer);
          unsubscribe();
          release();
          signal?.removeEventListener("abort", end);
        };
        if (signal?.aborted) return end();
        // A retry hint, the current state and a first snapshot at once.
        controller.enqueue(
          encoder.encode(`retry: ${Math.max(everyMs, 1000)}\n\n`),
        );
        send("state", { state: flows.get(id).state });
        stats();
      },
      cancel() {
        stop();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_BYTES }));
    return _eventStream(stream);
  }
}

/** Headers of every event stream: never cached, never buffered by a proxy. */
export const _EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Accel-Buffering": "no",
};

/** The response of an event stream. */
export function _eventStream(stream: ReadableStream<Uint8Array>): Response {
  return new Response(stream, { headers: _EVENT_STREAM_HEADERS });
}
