/**
 * Shared renders: concurrent scrapes of one format get one render (and one
 * gzip of it) instead of one each, so that a scrape never waits behind
 * other scrapes' renders for longer than one render.
 *
 * @module
 */
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { macrotask } from "../engine/network.ts";
import type { ExpositionFormat, MetricsSource } from "./exposition.ts";

const _gzip = promisify(gzip);
const _encoder = new TextEncoder();

/**
 * One render of the exposition, as every scrape that shared it receives
 * it: the UTF-8 bytes, and their gzip made once, on first demand.
 */
export class Rendition {
  /** The format rendered. */
  readonly format: ExpositionFormat;
  /** The exposition as UTF-8. */
  readonly body: Uint8Array<ArrayBuffer>;
  #gzipped: Promise<Uint8Array<ArrayBuffer>> | undefined;

  /** The render of `format` that gave `text`. */
  constructor(format: ExpositionFormat, text: string) {
    this.format = format;
    this.body = _encoder.encode(text);
  }

  /**
   * The body gzip-compressed. Every caller gets the same bytes from one
   * compression: a gzip of a large exposition costs about as much as the
   * render (about 25 ms for 2 MB on Deno, on the main thread).
   */
  gzipped(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#gzipped ??= _gzip(this.body).then((b) =>
      // zlib's output never lives in a SharedArrayBuffer.
      new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength)
    );
  }
}

/**
 * Hands out renders of a {@linkcode MetricsSource} so that concurrent
 * scrapes share them. Per format:
 *
 * - A scrape that comes while a render runs (or waits to start) joins it:
 *   it waits less than one render, and its values were read at most one
 *   render before it came.
 * - A scrape that comes when none runs starts one. A finished render is
 *   never handed out again, so its values were read after it came.
 * - Scrapes that queued up while a render blocked the loop (one that never
 *   yields, or its last slice) are handled right after it ended: the first
 *   of them would start a render that blocks in turn, the next one would
 *   find that one ended and start another, and the eighth would wait seven
 *   renders. So after a render ended, until the loop turns, a new render
 *   starts only at the loop's next turn, and every scrape handled before
 *   then joins it.
 *
 * A failed render fails every scrape that joined it, and the next scrape
 * starts a new one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedRenders } from "./shared_renders.ts";
 *
 * let renders = 0;
 * const shared = new SharedRenders({
 *   render: () => Promise.resolve(`up ${++renders}\n`),
 *   metadata: () => ({}),
 * });
 * const scrapes = await Promise.all([1, 2, 3].map(() => shared.get("text")));
 * assert.deepEqual(renders, 1);
 * assert.deepEqual(new Set(scrapes).size, 1);
 * assert.deepEqual(new TextDecoder().decode(scrapes[0].body), "up 1\n");
 * // A scrape after that render finished gets a new one.
 * assert.deepEqual(new TextDecoder().decode((await shared.get("text")).body), "up 2\n");
 * ```
 */
export class SharedRenders {
  readonly #source: MetricsSource;
  /** The render each format's next scrape joins: waiting to start, or running. */
  readonly #open = new Map<ExpositionFormat, Promise<Rendition>>();
  #started = 0;
  /** Whether a render ended since the loop last turned. */
  #justEnded = false;
  readonly #turned = () => this.#justEnded = false;

  /** Shares the renders of `source`. */
  constructor(source: MetricsSource) {
    this.#source = source;
  }

  /** How many renders have started (scrapes that joined one not counted). */
  get renders(): number {
    return this.#started;
  }

  /** The render a scrape of `format` coming now gets (see the class). */
  get(format: ExpositionFormat): Promise<Rendition> {
    const open = this.#open.get(format);
    if (open !== undefined) return open;
    const end = () => {
      // In the same step as the render's end: a scrape handled after it
      // must not get it.
      if (this.#open.get(format) === render) this.#open.delete(format);
      if (!this.#justEnded) {
        this.#justEnded = true;
        macrotask(this.#turned);
      }
    };
    // Not at once when scrapes may be queued behind a render that just
    // ended; else at once (a microtask later, so that scrapes handled in
    // this same step join), as a lone scrape should not wait a turn.
    const start = this.#justEnded
      ? new Promise<void>((resolve) => macrotask(resolve))
      : Promise.resolve();
    const render = start
      .then(() => {
        this.#started++;
        return this.#source.render(format);
      })
      .then(
        (text) => {
          end();
          return new Rendition(format, text);
        },
        (error: unknown) => {
          end();
          throw error;
        },
      );
    this.#open.set(format, render);
    return render;
  }
}
