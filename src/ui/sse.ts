/// <reference lib="dom" />
/**
 * Server-sent events over `fetch()`: EventSource cannot send the
 * `Authorization` header, so the stream is read by hand. Reconnects after
 * the server's `retry:` hint (2 s without one), waiting twice as long after
 * each attempt that brought no event (up to 15 s), until its signal aborts:
 * a server that is down sees a few requests a minute, not one a second.
 *
 * @module
 */
import { ApiError, authHeaders, failure, serverPath } from "./api.ts";
import {
  MAX_RETRY_MS,
  retryDelay,
  type SseEvent,
  SseParser,
} from "./sse_parser.ts";

export { MAX_RETRY_MS, retryDelay, type SseEvent, SseParser };

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
  let quietTries = 0;
  while (!signal.aborted) {
    let heard = false;
    try {
      const res = await fetch(serverPath(path), {
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
        parser.reset();
        const reader = res.body.pipeThrough(new TextDecoderStream())
          .getReader();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done || signal.aborted) break;
            parser.push(value, (ev) => {
              heard = true;
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
    quietTries = heard ? 0 : quietTries + 1;
    await _sleep(retryDelay(parser.retryMs ?? 2000, quietTries), signal);
  }
}
