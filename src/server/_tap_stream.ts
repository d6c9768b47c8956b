/**
 * `GET /flows/:id/tap`: the messages passing a flow's connection and its
 * `core/Output` lines, as server-sent events, sampled and bounded so that a
 * client never slows the flow:
 *
 * - at most `rate` messages and lines a second reach a client (a token
 *   bucket); what is over is skipped and counted;
 * - a message is written as JSON on the sender's path only when it is
 *   taken, and only its first 4 KiB (`_boundedJson`);
 * - while a client has 64 KiB unread, what comes is skipped and counted; a
 *   client that takes nothing for `stallMs` is dropped (logged);
 * - a `skipped` event says, at most once a second, how many were skipped;
 * - at most `maxTaps` streams are open per server (429 beyond; counted by
 *   `_StreamSlots`, as the event streams are);
 * - a connection nobody taps costs its sender one field read
 *   (`Network.tap`).
 *
 * @module
 */
import type { FlowEvent } from "../flows/flow_info.ts";
import type { FlowManager } from "../flows/flow_manager.ts";
import type { OutputHub, OutputLine } from "../flows/output_hub.ts";
import { _boundedJson } from "./_bounded_json.ts";
import { _eventStream, type EventStreamLog } from "./_flow_events.ts";
import { HttpError } from "./http_error.ts";
import { _StreamSlots } from "./_stream_slots.ts";

/** The longest message text a tap sends (characters of JSON). */
export const TAP_MAX_TEXT = 4096;
/** Messages and lines a second a tap sends unless the request asks. */
export const DEFAULT_TAP_RATE = 10;
/** The most a request may ask for. */
export const MAX_TAP_RATE = 1000;
/** Streams open at once per server, by default. */
export const DEFAULT_MAX_TAPS = 32;
/** Unread bytes beyond which a client's messages are skipped. */
const HIGH_WATER_BYTES = 64 * 1024;
/** How often skipped counts are reported and a stalled client looked at. */
const TICK_MS = 1000;
/** A comment this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** What a tap request names. */
export interface TapRequest {
  /** The sending port (`Process.port`), or null for any sender. */
  from: string | null;
  /** The receiving port (`Process.port`), or null for output lines only. */
  to: string | null;
  /** Messages and lines a second at most. */
  rate: number;
}

/** The taps of one server. */
export class _TapStreams {
  readonly #flows: FlowManager;
  readonly #outputs: OutputHub | undefined;
  readonly #log: EventStreamLog;
  readonly #signal: AbortSignal | undefined;
  readonly #slots: _StreamSlots;
  readonly #stallMs: number;

  constructor(
    flows: FlowManager,
    outputs: OutputHub | undefined,
    log: EventStreamLog,
    signal: AbortSignal | undefined,
    maxTaps = DEFAULT_MAX_TAPS,
    stallMs = 60_000,
  ) {
    this.#flows = flows;
    this.#outputs = outputs;
    this.#log = log;
    this.#signal = signal;
    this.#slots = new _StreamSlots(maxTaps);
    this.#stallMs = stallMs;
  }

  /** Streams open now. */
  get openCount(): number {
    return this.#slots.open;
  }

  /**
   * Reads `from`, `to` and `rate` of a request's query; a bad one is a
   * 400 that says which and why.
   */
  static parse(query: (name: string) => string | undefined): TapRequest {
    const port = (name: "from" | "to"): string | null => {
      const v = query(name);
      if (v === undefined || v === "") return null;
      // The port is after the last dot: a process name may hold dots.
      if (!/^.+\.[^.]+$/.test(v) || v.length > 512) {
        throw new HttpError(
          400,
          `Cannot tap: ${name} must be a port as Process.port, received ${
            JSON.stringify(v.slice(0, 100))
          }`,
        );
      }
      return v;
    };
    const from = port("from");
    const to = port("to");
    if (from !== null && to === null) {
      throw new HttpError(
        400,
        "Cannot tap: from needs to (the receiving Process.port)",
      );
    }
    const r = query("rate");
    let rate = DEFAULT_TAP_RATE;
    if (r !== undefined) {
      rate = Number(r);
      if (!/^\d+$/.test(r) || rate < 1 || rate > MAX_TAP_RATE) {
        throw new HttpError(
          400,
          `Cannot tap: rate must be an integer from 1 to ${MAX_TAP_RATE} (messages a second), received ${
            JSON.stringify(r.slice(0, 100))
          }`,
        );
      }
    }
    return { from, to, rate };
  }

  /** The event stream of a tap on flow `id` (404, 400 or 429 thrown). */
  open(id: string, req: TapRequest): Response {
    const flows = this.#flows;
    flows.get(id); // 404 for an unknown flow
    const max = this.#slots.max;
    const releaseSlot = this.#slots.take(() =>
      new HttpError(
        429,
        `Cannot tap flow ${
          JSON.stringify(id)
        }: ${max} taps are open on this server; close one`,
        { "Retry-After": "5" },
      )
    );
    const encoder = new TextEncoder();
    const outputs = this.#outputs;
    const log = this.#log;
    const signal = this.#signal;
    const stallMs = this.#stallMs;
    const idJson = JSON.stringify(id);
    const fromJson = JSON.stringify(req.from);
    const toJson = JSON.stringify(req.to);
    let stop = () => {};
    // Attached before the stream starts, so a bad connection is a 400.
    let listenMessage: (value: unknown) => void = () => {};
    let gone: (message: string) => void = () => {};
    let offTap: () => void;
    try {
      offTap = req.to === null ? () => {} : flows.tap(
        id,
        req.from,
        req.to,
        (v) => listenMessage(v),
        (m) => gone(m),
      );
    } catch (e) {
      releaseSlot();
      throw e;
    }
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      releaseSlot();
      offTap();
    };
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let open = true;
        let tokens = req.rate;
        let refilledAt = performance.now();
        let skippedMessages = 0;
        let skippedLines = 0;
        let stalledSince: number | undefined;
        let quietFor = 0;
        const queued = () => HIGH_WATER_BYTES - (controller.desiredSize ?? 0);
        const end = () => {
          stop();
          try {
            controller.close();
          } catch { /* closed already */ }
        };
        const push = (text: string) => {
          if (!open) return;
          try {
            controller.enqueue(encoder.encode(text));
            quietFor = 0;
          } catch {
            stop();
          }
        };
        const send = (event: string, data: string) =>
          push(`event: ${event}\ndata: ${data}\n\n`);
        /** Whether one more may go now (the bucket and the client's room). */
        const take = (): boolean => {
          if (!open) return false;
          const now = performance.now();
          tokens = Math.min(
            req.rate,
            tokens + (now - refilledAt) * req.rate / 1000,
          );
          refilledAt = now;
          if (tokens < 1 || queued() >= HIGH_WATER_BYTES) return false;
          tokens--;
          return true;
        };
        listenMessage = (value) => {
          if (!take()) {
            skippedMessages++;
            return;
          }
          const j = _boundedJson(value, TAP_MAX_TEXT);
          const body = j.complete
            ? `"value":${j.text}`
            : `"text":${JSON.stringify(j.text)},"truncated":true`;
          send(
            "message",
            `{"at":${Date.now()},"from":${fromJson},"to":${toJson},${body}}`,
          );
        };
        gone = (message) => send("error", JSON.stringify({ message }));
        const offLines = outputs?.listen(id, (l: OutputLine) => {
          if (!take()) {
            skippedLines++;
            return;
          }
          send("output", JSON.stringify(l));
        }) ?? (() => {});
        // The flow's life (state, replaced, deleted), not its process
        // errors: a flow failing on every message sends thousands, which
        // `/flows/:id/events` carries; here they would pass the bounds.
        const offEvents = flows.subscribe(id, (e: FlowEvent) => {
          if (e.type === "error") return;
          const { type, ...data } = e;
          send(type, JSON.stringify(data));
          if (type === "deleted") end();
        });
        const timer = setInterval(() => {
          if (skippedMessages > 0 || skippedLines > 0) {
            if (queued() < HIGH_WATER_BYTES) {
              send(
                "skipped",
                `{"messages":${skippedMessages},"lines":${skippedLines}}`,
              );
              skippedMessages = 0;
              skippedLines = 0;
            }
          }
          if ((controller.desiredSize ?? 0) <= 0) {
            const now = performance.now();
            stalledSince ??= now;
            if (now - stalledSince >= stallMs) {
              const bytes = queued();
              stop();
              log(
                "warn",
                `tap of flow ${idJson} dropped: its client took nothing for ${stallMs} ms (${bytes} bytes unread); it may reconnect`,
                { flow: id, reason: "stalled", unread_bytes: bytes },
              );
              try {
                controller.error(
                  "weir: a tap was dropped (the log says why)",
                );
              } catch { /* closed already */ }
            }
            return;
          }
          stalledSince = undefined;
          quietFor += TICK_MS;
          if (quietFor >= KEEPALIVE_MS) push(": keep-alive\n\n");
        }, TICK_MS);
        signal?.addEventListener("abort", end, { once: true });
        stop = () => {
          if (!open) return;
          open = false;
          clearInterval(timer);
          offLines();
          offEvents();
          release();
          signal?.removeEventListener("abort", end);
        };
        if (signal?.aborted) return end();
        push("retry: 2000\n\n");
        send(
          "tap",
          req.to === null
            ? `{"flow":${idJson}}`
            : `{"flow":${idJson},"from":${fromJson},"to":${toJson}}`,
        );
      },
      cancel() {
        stop();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_BYTES }));
    return _eventStream(stream);
  }
}
