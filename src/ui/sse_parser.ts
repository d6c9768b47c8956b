/**
 * The text of an event stream split into events, and the wait between
 * reconnects: plain TypeScript, no DOM, tested on Deno and Bun.
 *
 * @module
 */

/** One event of a stream. */
export interface SseEvent {
  /** `message` when the server named none. */
  event: string;
  data: string;
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
  /** Where the next search for a line break starts: text before it has none. */
  #scanned = 0;
  #event = "";
  #data: string[] = [];
  /** The last `retry:` the server sent (ms), if any. */
  retryMs: number | undefined;

  /** Forgets a partial event (its connection dropped); keeps `retryMs`. */
  reset(): void {
    this.#buf = "";
    this.#scanned = 0;
    this.#event = "";
    this.#data = [];
  }

  /** Feeds text; calls `emit` for each event it completes. */
  push(chunk: string, emit: (ev: SseEvent) => void): void {
    this.#buf += chunk;
    let start = 0;
    for (;;) {
      // A long line (a big snapshot) comes in many chunks: each is searched
      // once, not the whole line again per chunk.
      const nl = this.#nextBreak(Math.max(start, this.#scanned));
      if (nl === -1) break;
      const line = this.#buf.slice(start, nl);
      start = nl +
        (this.#buf[nl] === "\r" && this.#buf[nl + 1] === "\n" ? 2 : 1);
      this.#line(line, emit);
    }
    this.#buf = this.#buf.slice(start);
    // A lone "\r" at the end is looked at again with the next chunk.
    this.#scanned = this.#buf.endsWith("\r")
      ? this.#buf.length - 1
      : this.#buf.length;
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

/** The longest wait between two attempts (ms). */
export const MAX_RETRY_MS = 15_000;

/**
 * The wait before the next attempt: the server's hint after a stream that
 * brought events, doubled for each attempt since that brought none, at
 * most {@linkcode MAX_RETRY_MS}, less up to a fifth (jitter: pages do not
 * all come back at once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(retryDelay(1000, 0), 1000);
 * const third = retryDelay(1000, 3);
 * assert.ok(third > 6000 && third <= 8000);
 * assert.ok(retryDelay(1000, 20) <= MAX_RETRY_MS);
 * ```
 */
export function retryDelay(hintMs: number, quietTries: number): number {
  if (quietTries <= 0) return hintMs;
  const ms = Math.min(MAX_RETRY_MS, hintMs * 2 ** Math.min(quietTries, 16));
  return Math.round(ms * (1 - Math.random() * 0.2));
}
