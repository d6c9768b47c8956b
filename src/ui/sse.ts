/// <reference lib="dom" />
/**
 * Server-sent events over `fetch()`: EventSource cannot send the
 * `Authorization` header, so the stream is read by hand. Reconnects after
 * the server's `retry:` hint (2 s without one) until its signal aborts.
 *
 * @module
 */
import { ApiError, authHeaders, failure } from "./api.ts";

/** One event of a stream. */
export interface SseEvent {
  /** `message` when the server named none. */
  event: string;
  data: string;
}

/** What {@linkcode openStream} calls. */
export interface StreamHandlers {
  /** Each complete event. */
  onEvent(ev: SseEvent): void;
  /** The stream is (re)connected. */
  onOpen?(): void;
  /**
   * The stream failed. `final` when it will not reconnect (a 4xx answer:
   * a bad request, a missing flow, a refused token).
   */
  onError?(error: Error, final: boolean): void;
}

/**
 * Splits an event stream's text into events, across chunk boundaries.
 *
 * @example
 * ```ts
 * const p = new SseParser();
 * const got: SseEvent[] = [];
 * p.push("event: a\ndata: 1\n\nda", (e) => got.push(e));
 * p.push("ta: 2\n\n", (e) => got.push(e));
 * // got: [{event: "a", data: "1"}, {event: "message", data: "2"}]
 * ```
 */
export class SseParser {
  #buf = "";
  #event = "";
  #data: string[] = [];
  /** The last `retry:` the server sent (ms), if any. */
  retryMs: number | undefined;

  /** Feeds text; calls `emit` for each event it completes. */
  push(chunk: string, emit: (ev: SseEvent) => void): void {
    this.#buf += chunk;
    let start = 0;
    for (;;) {
      const nl = this.#nextBreak(start);
      if (nl === -1) break;
      const line = this.#buf.slice(start, nl);
      start = nl +
        (this.#buf[nl] === "\r" && this.#buf[nl + 1] === "\n" ? 2 : 1);
      this.#line(line, emit);
    }
    this.#buf = this.#buf.slice(start);
  }

  #nextBreak(from: number): number {
    const n = this.#buf.indexOf("\n", from);
    const r = this.#buf.indexOf("\r", from);
    if (r === -1) return n;
    // A lone "\r" at the end may be the first half of "\r\n": wait.
    if (r === this.#buf.length - 1) return n === -1 ? -1 : Math.min(n, r);
    return n === -1 ? r : Math.min(n, r);
  }

  #line(line: string, emit: (ev: SseEvent) => void): void {
    if (line === "") {
      if (this.#data.length > 0) {
        emit({ event: this.#event || "message", data: this.#data.join("\n") });
      }
      this.#event = "";
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) {
      this.retryMs = Number(value);
    }
  }
}

const _sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/**
 * Reads the event stream at `path` until `signal` aborts, reconnecting
 * after a dropped connection or a 5xx.
 */
export async function openStream(
  path: string,
  signal: AbortSignal,
  handlers: StreamHandlers,
): Promise<void> {
  const parser = new SseParser();
  while (!signal.aborted) {
    try {
      const res = await fetch(path, {
        headers: authHeaders({ Accept: "text/event-stream" }),
        signal,
        cache: "no-store",
      });
      if (!res.ok) {
        const err = await failure(res);
        const final = res.status >= 400 && res.status < 500 &&
          res.status !== 408 && res.status !== 429;
        handlers.onError?.(err, final);
        if (final) return;
      } else if (res.body !== null) {
        handlers.onOpen?.();
        const reader = res.body.pipeThrough(new TextDecoderStream())
          .getReader();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done || signal.aborted) break;
            parser.push(value, (ev) => {
              if (!signal.aborted) handlers.onEvent(ev);
            });
          }
        } finally {
          reader.cancel().catch(() => {});
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      const err = e instanceof Error ? e : new Error(String(e));
      handlers.onError?.(err, err instanceof ApiError && err.status < 500);
    }
    if (signal.aborted) return;
    await _sleep(parser.retryMs ?? 2000, signal);
  }
}
