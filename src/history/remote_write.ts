/**
 * Prometheus remote write 1.0 from the metric history: each destination
 * reads the store's raw tier behind a cursor of its own, so a link that is
 * down loses nothing for as long as the history keeps its raw samples.
 *
 * How it sends. Time is cut into windows `(sent, end]`: `end` at most
 * the newest complete tick of the store (one interval before its newest
 * sample, so a sampler pass still being written is never half read), and
 * a window spans at least `batchDeadlineMs` (default 10 s: a series'
 * labels go once a window, so a longer one costs fewer bytes) while
 * caught up, at most `maxWindowMs` (default
 * 60 s) while behind. A window's series, sorted by their labels, are cut
 * into requests of at most `maxSamplesPerRequest` samples (default
 * 2,000), each series' samples in time order; up to `maxShards` requests
 * are in flight at once while behind, one while caught up; a request
 * that begins with the rest of a series split across two is sent only
 * once the one before it is done. A window is sent whole before the next
 * is read, so every series' samples arrive in order.
 *
 * The cursor, `<cursorDir>/<name>.cursor` per destination (JSON in one of
 * two slots written in turn in place after every acknowledged request:
 * `cursor_file.ts`), holds the end of the last window sent
 * whole and, for the window in progress, its end and the last series
 * sent whole by the longest run of acknowledged requests: after a crash
 * the window is read again and only its series after that one are sent.
 * A sample is sent twice only when its request was in flight (or its
 * answer not yet written down) when the process died, or when its series
 * was split between an acknowledged request and that one.
 *
 * Answers: 2xx is done; 5xx, 429 and network errors are retried with
 * exponential backoff and full jitter (`minBackoffMs` 30 ms doubling up
 * to `maxBackoffMs` 5 s; a 429's `Retry-After` is honoured up to that
 * bound) until they pass or the writer is closed; any other 4xx is not
 * retried: its samples are dropped and counted (reason `too_old` when the
 * receiver says "out of bounds" or "too old", `rejected` otherwise) with
 * one warning naming the status and the receiver's words.
 *
 * Samples older than `maxSampleAgeMs` (when set) are not sent raw: they
 * are counted as dropped (`too_old`), and with `oldAsAggregates` the
 * store's first downsampled tier (minute windows) over that span is sent
 * instead, as the series `<name>_min`, `<name>_max`, `<name>_sum` and
 * `<name>_count` at each window's end.
 *
 * While caught up, a window's samples come from what the writer saw the
 * store append (`append_tap.ts`, the last few seconds), not decoded back
 * out of the store's chunks; behind, from the store. While every tick of a
 * window holds the same series (the sampler's, until a series comes or
 * goes), the series' order and their labels side by side are a plan kept
 * from window to window (`#planFor`): the tap lays the samples out in the
 * requests' order and a window touches no series' entry.
 *
 * The options and their check are in `remote_write_options.ts`, the
 * metrics in `remote_write_metrics.ts`. This file stays over 800 lines
 * because what is left is one class whose private state (the cursor,
 * the ranked series, the reused encoder and sample buffers, the close
 * signal) is read and moved by windowing, sending and cursor keeping
 * alike: cutting it further would turn that state into a shared object
 * every piece could change.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as timer } from "node:timers";
import { matchesAll } from "./promql/regex.ts";
import {
  encodeLabels,
  snappyCompress,
  WriteRequestEncoder,
} from "./remote_write_proto.ts";
import {
  _hideSecrets,
  type _Settings,
  _settings,
  type RemoteWriteOptions,
} from "./remote_write_options.ts";
import type { SeriesLabels } from "./types.ts";
import { VERSION } from "../version.ts";
import { AppendTap } from "./append_tap.ts";
import { fetchErrorText, scrubUrls, urlShown } from "../runtime/fetch_error.ts";
import {
  type Http1Answer,
  Http1Poster,
  proxyConfigured,
} from "../runtime/http1_post.ts";
import { crc32 } from "./crc32.ts";
import { CursorFile } from "./cursor_file.ts";
import type { HistoryStore } from "./store.ts";
import { Histogram } from "../engine/histogram.ts";

export type { RemoteWriteOptions } from "./remote_write_options.ts";
export { remoteWriteMetrics } from "./remote_write_metrics.ts";

/**
 * What a {@linkcode RemoteWriter} reads: a `History` or its
 * store. With the optional `onAppend` and `seriesLabels`, while caught up
 * it sends what it saw appended instead of decoding it back out of the
 * store; with `seriesLabels` and `seriesCount`, it reads a window from the
 * store in slices (`selectEach`'s `accept`); with `oldestRawTime`, a first
 * window begins at the oldest sample (`start: "oldest"`, and `"now"` of a
 * source that was empty when the writer was made).
 */
export interface RemoteWriteSource
  extends
    Pick<HistoryStore, "newestTime" | "selectEach" | "select">,
    Partial<
      Pick<
        HistoryStore,
        "oldestRawTime" | "onAppend" | "seriesLabels" | "seriesCount"
      >
    > {
  /** The raw tier's sampling interval (ms). */
  readonly intervalMs: number;
  /** See `HistoryReader.tiers`: the raw one first. */
  readonly tiers: readonly {
    readonly resolutionMs: number;
    readonly retentionMs?: number;
  }[];
}

/** Everything a {@linkcode RemoteWriter} needs besides its destinations. */
export interface RemoteWriterContext {
  /** The folder of the cursor files (made when missing); none: in memory. */
  cursorDir?: string;
  /** `fetch` (default the global one): a TLS client's, or a test's. */
  fetch?: (input: Request) => Promise<Response>;
  /**
   * Send with the global `fetch` also to an `http:` URL, which otherwise
   * goes by weir's own HTTP/1.1 client (`src/runtime/http1_post.ts`,
   * cheaper: about 80-100 µs of CPU a request): for a proxy set up in a
   * way other than `HTTP_PROXY`/`ALL_PROXY`. Default false.
   */
  useFetch?: boolean;
  /** Warnings (an answer that drops samples, a bad cursor file). */
  onWarning?: (message: string) => void;
  /**
   * The clock (ms), the history's own: it dates samples too old to send
   * and tells, without a cursor, whether the history's newest tick is
   * "now" or was left by an earlier run. Default `Date.now`.
   */
  now?: () => number;
  /**
   * Where the first window starts (ms, exclusive) when there is no
   * cursor, instead of `start`: what `weir remote-write --dry-run` shows.
   */
  startAt?: number;
  /**
   * Samples a store read of a window reads at once, about (default
   * 250,000): a window is read in slices of the series' order, each sent
   * before the next is read, so the event loop is held a slice at a time.
   */
  sliceSamples?: number;
}

/** What a destination has done, as its metrics show it. */
export interface RemoteWriteStats {
  /** The destination's name. */
  readonly name: string;
  /** Samples the receiver acknowledged. */
  samplesSent: number;
  /** Samples of requests that failed (each attempt). */
  samplesFailed: number;
  /** Samples sent again after a failure. */
  samplesRetried: number;
  /** Samples given up on, by reason. */
  samplesDropped: { rejected: number; too_old: number };
  /** Compressed bytes of every request made. */
  bytesSent: number;
  /** Requests answered 2xx. */
  requests: number;
  /** The newest sample time the receiver has, whole (ms), or NaN before the first window. */
  sentThrough: number;
  /** Samples read for the window in progress and not acknowledged yet. */
  pending: number;
  /** Requests in flight. */
  inFlight: number;
  /** Durations of answered requests (s). */
  readonly requestSeconds: Histogram;
  /**
   * Windows read from what the writer saw appended (while caught up),
   * not decoded back from the store.
   */
  tapWindows: number;
}

/** The cursor of one destination, as its file holds it. */
interface Cursor {
  /**
   * The URL it belongs to: without its query (which may hold a secret),
   * and a checksum of the whole URL. Another URL starts over.
   */
  url: string;
  /**
   * A checksum of the external labels: the series' order (`after`) holds
   * them, so a window resumed with other labels is sent again whole.
   */
  labels?: string;
  /** The end of the last window sent whole (ms). */
  sent: number;
  /** The window in progress (see {@linkcode CursorWindow}). */
  window?: CursorWindow;
}

/**
 * How far a window in progress went. A place in the window's order is a
 * series (its labels as protobuf, base64) and the time of its last
 * sample sent, `null`/absent when the series went whole. Every request
 * up to `after` (and `through`) was acknowledged (or dropped); `acked`
 * lists the runs of requests acknowledged beyond it, each from the start
 * of its first series to its last series (through a time, or whole).
 * A restart sends only what none of these cover: no sample that the
 * receiver took goes to it again (Prometheus refuses a request that holds
 * a sample older than the newest it has of that series, all of it).
 */
interface CursorWindow {
  end: number;
  after: string;
  through?: number;
  acked?: [string, string, number | null][];
}

/** A window's places already sent, as #read() skips them. */
interface Resume {
  after: Uint8Array | undefined;
  /** The time through which `after`'s series went (Infinity: whole). */
  through: number;
  runs: { first: Uint8Array; last: Uint8Array; through: number }[];
}

/** A series as this writer knows it, cached by its labels object. */
interface SeriesEntry {
  /**
   * Its labels as protobuf (names sorted, external labels added): also
   * its place in a window's order, compared byte by byte.
   */
  bytes: Uint8Array;
  /** Whether include/exclude let it through. */
  selected: boolean;
  /** Its place among the known series by bytes; -1: forgotten. */
  rank: number;
  /** Its slice of the window `sliceWindow` (see #sendWindow). */
  slice: number;
  sliceWindow: number;
  /** The last window that held it. */
  seen: number;
  /** The plan its `bytes` are a view into (see #planFor); 0: its own. */
  plan: number;
}

/** See RemoteWriter's #planFor(). */
interface CaughtUpPlan {
  /** The appends' refs array it was made for. */
  refs: Int32Array;
  /** The writer's #ranks when it was made. */
  ranks: number;
  /** Each selected series' place in `refs`, by rank. */
  pos: Int32Array;
  /** Their entries, in the same order. */
  entries: SeriesEntry[];
  /** Their labels side by side, in that order: series p's at `labelsAt[p]`. */
  labels: Uint8Array;
  labelsAt: Int32Array;
  /** A view of each series' part of `labels` (its entry's `bytes`). */
  views: Uint8Array[];
}

/** The minute windows' columns sent for samples too old to send raw. */
const AGGREGATES = ["min", "max", "sum", "count"] as const;

const EMPTY = new Uint8Array(0);

/** Byte order of two label encodings: negative, 0 or positive. */
function _compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * How much older than the writer the history's newest tick may be and
 * still count as "now" (a first sampling pass can take seconds at
 * start-up; a history reloaded after a stop is older).
 */
const STALE_NEWEST_MS = 60_000;

const _B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * `bytes` in base64 (what `btoa` gives), written in JavaScript: the
 * cursor names a series this way after every acknowledged request, and
 * `btoa` is an op on Deno, which a process waking for each answer pays
 * tens of µs for (see `http1_post.ts`).
 */
export function _base64(bytes: Uint8Array): string {
  let s = "";
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += _B64[v >> 18] + _B64[(v >> 12) & 63] + _B64[(v >> 6) & 63] +
      _B64[v & 63];
  }
  if (i + 1 === n) {
    const v = bytes[i] << 16;
    s += _B64[v >> 18] + _B64[(v >> 12) & 63] + "==";
  } else if (i + 2 === n) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += _B64[v >> 18] + _B64[(v >> 12) & 63] + _B64[(v >> 6) & 63] + "=";
  }
  return s;
}

function _fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Whether `w` is a window in progress as a cursor writes it. */
function _validWindow(w: CursorWindow): boolean {
  const b64 = (x: unknown) =>
    typeof x === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(x);
  const time = (x: unknown) =>
    x === undefined || x === null || Number.isFinite(x);
  return Number.isFinite(w.end) && b64(w.after) && time(w.through) &&
    (w.acked === undefined ||
      (Array.isArray(w.acked) &&
        w.acked.every((r) =>
          Array.isArray(r) && r.length === 3 && b64(r[0]) && b64(r[1]) &&
          time(r[2])
        )));
}

/**
 * A series' labels as a cursor keeps them: base64 of at most 16 KiB (a
 * shorter marker sorts before the whole one, so a restart only sends its
 * series again; a label set that long is not met in practice).
 */
function _place(labels: Uint8Array): string {
  return _base64(labels.subarray(0, 16 * 1024));
}

/** What a cursor's window in progress says was sent; undefined: nothing. */
function _resume(w: CursorWindow | undefined): Resume | undefined {
  if (w === undefined || (w.after === "" && (w.acked ?? []).length === 0)) {
    return undefined;
  }
  return {
    after: w.after === "" ? undefined : _fromBase64(w.after),
    through: w.through ?? Infinity,
    runs: (w.acked ?? []).map(([first, last, through]) => ({
      first: _fromBase64(first),
      last: _fromBase64(last),
      through: through ?? Infinity,
    })),
  };
}

/**
 * The time through which series `key` of a resumed window was sent:
 * Infinity when whole, -Infinity when none of it.
 */
function _sentThrough(r: Resume, key: Uint8Array): number {
  if (r.after !== undefined) {
    const c = _compareBytes(key, r.after);
    if (c < 0) return Infinity;
    if (c === 0) return r.through;
  }
  for (const run of r.runs) {
    if (_compareBytes(key, run.first) < 0) continue;
    const c = _compareBytes(key, run.last);
    if (c < 0) return Infinity;
    if (c === 0) return run.through;
  }
  return -Infinity;
}

/** The outcome of one request, once it is no longer retried. */
type Outcome = "sent" | "dropped" | "closed";

/** A request of a window: its body, and where it begins and ends in the window's order. */
interface Batch {
  body: Uint8Array;
  samples: number;
  /** The labels of its first series (the rest of one, when it `follows`). */
  first: Uint8Array;
  /** The labels of its last series, and the time of that series' last sample here. */
  last: Uint8Array;
  /** Infinity when `last` ends here whole (its other samples are in earlier requests). */
  through: number;
  /**
   * Whether it begins with the rest of the previous request's last
   * series: it is not sent before that request is done, so that the
   * series' samples arrive in order.
   */
  follows: boolean;
}

/**
 * Sends the history to one receiver by Prometheus remote write 1.0, from
 * a cursor that survives restarts (see the module's documentation).
 *
 * @example Send a history's samples to a receiver (a test's fake here)
 * ```ts
 * import assert from "node:assert/strict";
 * import { History } from "./history.ts";
 * import { RemoteWriter } from "./remote_write.ts";
 *
 * const history = await History.open();
 * const ref = history.store.seriesRef({ __name__: "up", job: "weir" }, "gauge");
 * for (let s = 1; s <= 20; s++) history.store.append(ref, s * 1000, 1);
 * const sizes: number[] = [];
 * const writer = new RemoteWriter(
 *   history,
 *   { url: "http://127.0.0.1:9/api/v1/write", start: "oldest" },
 *   {
 *     fetch: async (request) => {
 *       sizes.push((await request.arrayBuffer()).byteLength);
 *       return new Response(null, { status: 204 });
 *     },
 *   },
 * );
 * await writer.sendOnce(); // what start() does in the background, once
 * // Up to the last complete tick (19 s): the sampler may still write 20 s.
 * // (While caught up it waits until a window spans batchDeadlineMs, 10 s.)
 * assert.equal(writer.stats.samplesSent, 19);
 * assert.equal(sizes.length, 1);
 * await writer.close();
 * await history.close();
 * ```
 */
export class RemoteWriter {
  /** What it has done. */
  readonly stats: RemoteWriteStats;
  readonly #source: RemoteWriteSource;
  readonly #s: _Settings;
  readonly #fetch: ((input: Request) => Promise<Response>) | undefined;
  /**
   * The requests' client for an `http:` URL without a proxy and without a
   * `fetch` of the context: HTTP/1.1 written by weir, about 80-100 µs of
   * CPU a request less than the runtime's `fetch` (see http1_post.ts).
   */
  readonly #poster: Http1Poster | undefined;
  /** Every request's headers (made once). */
  readonly #headers: Headers;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;
  readonly #startAt: number | undefined;
  /**
   * The source's newest sample time when the writer was made: where
   * `start: "now"` begins (see #firstStart), however late the first look.
   */
  readonly #newestAtMake: number;
  /** When the writer was made (the context's clock, ms). */
  readonly #madeAt: number;
  /** What the cursor holds of the URL and the external labels. */
  readonly #urlKey: string;
  readonly #labelsKey: string;
  readonly #sliceSamples: number;
  /** What was appended lately, when the source tells (see AppendTap). */
  readonly #tap: AppendTap | undefined;
  /** Series by ref, for what the tap gives. */
  #byRef: (SeriesEntry | undefined)[] = [];
  readonly #cursorFile: CursorFile | undefined;
  readonly #series = new WeakMap<SeriesLabels, SeriesEntry>();
  readonly #aggregates = new WeakMap<
    SeriesLabels,
    Map<string, SeriesEntry>
  >();
  /** The selected series known, ranked by key when `#ranked`. */
  #entries: SeriesEntry[] = [];
  #ranked = true;
  /** #byRank()'s places by rank, kept between windows. */
  #slots = new Int32Array(0);
  /** Where a window's series' samples are, in order (see #requests). */
  #at = new Int32Array(0);
  #count = new Int32Array(0);
  /** The caught-up windows' plan (see #planFor), and the window that last used it. */
  #plan: CaughtUpPlan | undefined;
  #planUsed = -1;
  /** Counts #rank() calls: a plan holds while it is the same. */
  #ranks = 0;
  /** Counts the plans made (each planned series is stamped with its plan). */
  #plans = 0;
  /** Windows read in slices so far (see #sendWindow). */
  #sliced = 0;
  /** Windows read so far. */
  #windows = 0;
  readonly #encoder = new WriteRequestEncoder(64 * 1024);
  readonly #closed = new AbortController();
  #cursor: Cursor | undefined;
  #loop: Promise<void> | undefined;
  #warned = new Set<string>();
  /** Samples the rate limit lets through before `#rateEpoch` + 1 s. */
  #rateUsed = 0;
  #rateEpoch = -Infinity;
  // The window's samples, reused from one window to the next.
  #t = new Float64Array(0);
  #v = new Float64Array(0);

  /**
   * A writer of `source` to the receiver `options` names; it sends
   * nothing until {@linkcode start} (or {@linkcode sendOnce}). Throws a
   * RangeError naming a bad option, or a cursor folder it cannot make.
   */
  constructor(
    source: RemoteWriteSource,
    options: RemoteWriteOptions,
    context: RemoteWriterContext = {},
  ) {
    this.#source = source;
    this.#s = _settings(options);
    this.#fetch = context.fetch;
    this.#poster = context.fetch === undefined &&
        new URL(this.#s.url).protocol === "http:" && !proxyConfigured() &&
        context.useFetch !== true
      ? new Http1Poster(this.#s.url)
      : undefined;
    this.#headers = new Headers({
      ...this.#s.headers,
      "Content-Type": "application/x-protobuf",
      "Content-Encoding": "snappy",
      "X-Prometheus-Remote-Write-Version": "0.1.0",
      "User-Agent": `weir/${VERSION}`,
    });
    this.#warn = context.onWarning ?? ((m) => console.warn(m));
    this.#now = context.now ?? Date.now;
    this.#startAt = context.startAt;
    this.#newestAtMake = source.newestTime();
    this.#madeAt = this.#now();
    this.#urlKey = _urlKey(this.#s.url);
    this.#labelsKey = _checksum(
      JSON.stringify(Object.entries(this.#s.externalLabels).sort()),
    );
    this.#sliceSamples = context.sliceSamples ?? 250_000;
    if (source.onAppend !== undefined && source.seriesLabels !== undefined) {
      const tick = source.intervalMs;
      this.#tap = new AppendTap(
        (l) => source.onAppend!(l),
        this.#newestAtMake,
        Math.max(this.#s.batchDeadlineMs, tick) + 4 * tick,
      );
    }
    this.stats = {
      name: this.#s.name,
      samplesSent: 0,
      samplesFailed: 0,
      samplesRetried: 0,
      samplesDropped: { rejected: 0, too_old: 0 },
      bytesSent: 0,
      requests: 0,
      sentThrough: NaN,
      pending: 0,
      inFlight: 0,
      requestSeconds: new Histogram(),
      tapWindows: 0,
    };
    if (context.cursorDir !== undefined) {
      try {
        mkdirSync(context.cursorDir, { recursive: true });
      } catch (e) {
        throw new RangeError(
          `Cannot configure remote write "${this.#s.name}": cannot make the cursor folder ${context.cursorDir}: ${
            (e as Error).message
          }`,
        );
      }
      try {
        this.#cursorFile = CursorFile.open(
          join(context.cursorDir, `${this.#s.name}.cursor`),
        );
      } catch (e) {
        throw new RangeError(
          `Cannot configure remote write "${this.#s.name}": cannot open its cursor in ${context.cursorDir}: ${
            (e as Error).message
          }`,
        );
      }
      this.#cursor = this.#readCursor();
      if (this.#cursor !== undefined) {
        this.stats.sentThrough = this.#cursor.sent;
      }
    }
  }

  /** The destination's name. */
  get name(): string {
    return this.#s.name;
  }

  /**
   * Seconds between the history's newest sample and the newest the
   * receiver has whole; NaN before the destination has a cursor.
   */
  get lagSeconds(): number {
    const newest = this.#source.newestTime();
    const sent = this.stats.sentThrough;
    if (!Number.isFinite(sent) || newest === -Infinity) return NaN;
    return Math.max(0, newest - sent) / 1000;
  }

  /**
   * The bytes of series labels it holds for the series it remembers: the
   * buffers their encoded labels are in, each counted once (a caught-up
   * plan keeps its series' labels side by side in one). A diagnostic: it
   * walks every series.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { History } from "./history.ts";
   * import { RemoteWriter } from "./remote_write.ts";
   *
   * const history = await History.open();
   * const ref = history.store.seriesRef({ __name__: "up" }, "gauge");
   * for (let s = 1; s <= 20; s++) history.store.append(ref, s * 1000, 1);
   * const writer = new RemoteWriter(
   *   history,
   *   { url: "http://127.0.0.1:9/api/v1/write", start: "oldest" },
   *   { fetch: () => Promise.resolve(new Response(null, { status: 204 })) },
   * );
   * assert.equal(writer.heldLabelBytes(), 0);
   * await writer.sendOnce();
   * // Label{name: "__name__", value: "up"}: 2 + 10 + 4 bytes.
   * assert.equal(writer.heldLabelBytes(), 16);
   * await writer.close();
   * await history.close();
   * ```
   */
  heldLabelBytes(): number {
    const buffers = new Set<ArrayBufferLike>();
    let total = 0;
    const count = (e: SeriesEntry | undefined) => {
      const b = e?.bytes.buffer;
      if (b !== undefined && !buffers.has(b)) {
        buffers.add(b);
        total += b.byteLength;
      }
    };
    for (const e of this.#byRef) count(e);
    for (const e of this.#entries) count(e);
    return total;
  }

  /** Starts sending in the background, until {@linkcode close}. */
  start(): void {
    if (this.#closed.signal.aborted) {
      throw new Error(`remote write "${this.#s.name}" is closed`);
    }
    this.#loop ??= this.#run();
  }

  /**
   * Sends every window that is due now (all that is behind, and the
   * window in progress when it spans `batchDeadlineMs`); resolves when
   * they are acknowledged or dropped. Returns the samples acknowledged.
   */
  async sendOnce(): Promise<number> {
    const before = this.stats.samplesSent;
    while (!this.#closed.signal.aborted) {
      const end = this.#due();
      if (end === undefined) break;
      if (!await this.#sendWindow(end)) break;
    }
    return this.stats.samplesSent - before;
  }

  /**
   * Stops: the request in flight ends (its samples stay behind the
   * cursor, for the next start), nothing more is sent. Resolves once the
   * loop has stopped.
   */
  async close(): Promise<void> {
    this.#closed.abort();
    await this.#loop;
    this.#poster?.close();
    this.#tap?.close();
    this.#cursorFile?.close();
  }

  async #run(): Promise<void> {
    const signal = this.#closed.signal;
    while (!signal.aborted) {
      try {
        await this.sendOnce();
      } catch (e) {
        this.#warnOnce(
          "loop",
          `remote write "${this.#s.name}": ${(e as Error).message}`,
        );
      }
      // Next tick of the store, or the deadline of a window in progress.
      await _sleep(Math.max(this.#source.intervalMs, 50), signal);
    }
  }

  /** The end of the next window to send now, or undefined when none is due. */
  #due(): number | undefined {
    const source = this.#source;
    const newest = source.newestTime();
    if (newest === -Infinity) return undefined;
    // The newest complete tick: the sampler may still be writing `newest`.
    const complete = newest - source.intervalMs;
    if (this.#cursor === undefined) {
      const from = this.#startAt ?? this.#firstStart(complete);
      this.#cursor = { url: this.#urlKey, labels: this.#labelsKey, sent: from };
      this.stats.sentThrough = from;
      this.#writeCursor();
    }
    const c = this.#cursor;
    if (c.window !== undefined) return c.window.end;
    if (!(complete > c.sent)) return undefined;
    const behind = complete - c.sent;
    if (behind < this.#s.batchDeadlineMs) return undefined;
    const max = this.#s.maxSamplesPerRequest;
    const tooOld = this.#s.maxSampleAgeMs > 0
      ? this.#now() - this.#s.maxSampleAgeMs
      : -Infinity;
    if (c.sent < tooOld) {
      // Not sent raw: one window for all of it; when its minute windows
      // are sent instead (four series each, read in one piece), as many
      // minutes as keep that read near one slice of samples.
      const res = source.tiers[1]?.resolutionMs;
      const series = Math.max(
        1,
        source.seriesCount?.() ?? this.#entries.length,
      );
      const rows = Math.max(
        1,
        Math.min(max, Math.floor(this.#sliceSamples / (4 * series))),
      );
      const span = this.#s.oldAsAggregates && res !== undefined
        ? rows * res
        : Infinity;
      return Math.min(complete, tooOld, c.sent + span);
    }
    // A window never holds more than a request's samples of one series.
    const span = Math.min(this.#s.maxWindowMs, max * source.intervalMs);
    return Math.min(complete, c.sent + span);
  }

  /**
   * Where the first window starts (exclusive) without a cursor: with
   * `start: "oldest"`, before the oldest sample; with `"now"`, at the
   * newest complete tick when the writer was made, or at the tick before
   * the oldest sample when the source was empty then (all it holds came
   * since). Without `oldestRawTime`, at the newest complete tick now.
   * A newest tick more than a minute older than the writer is a history
   * reloaded after weir was stopped: "now" then starts after it (and not
   * before what retention has removed since), so neither that old tick
   * nor a warning about samples lost to retention goes out.
   * Not at the newest complete tick of this first look: a sampler pass
   * that ends just after one look, with the next pass done before the
   * next look (a slow first pass at startup), would move the start past
   * a tick appended after the writer was made, never to be sent.
   */
  #firstStart(complete: number): number {
    const source = this.#source;
    const now = this.#s.start === "now";
    const made = this.#newestAtMake;
    if (now && made !== -Infinity) {
      if (this.#madeAt - made <= STALE_NEWEST_MS) {
        return made - source.intervalMs;
      }
      const oldest = source.oldestRawTime?.() ?? -Infinity;
      return Math.max(made, oldest - source.intervalMs);
    }
    const oldest = source.oldestRawTime?.() ?? Infinity;
    if (oldest === Infinity) return complete;
    return now ? oldest - source.intervalMs : oldest - 1;
  }

  /**
   * Sends the window `(cursor.sent, end]`; true when it was sent whole
   * (acknowledged or dropped), false when the writer was closed first.
   */
  async #sendWindow(end: number): Promise<boolean> {
    const c = this.#cursor!;
    let start = c.sent;
    // Resumed after a restart: only the series after this one.
    const after = c.window?.after;
    if (c.window === undefined) {
      c.window = { end, after: "" };
      this.#writeCursor();
    }
    // Behind by more than the raw tier keeps: what retention removed
    // before it was sent is gone (said once; not counted as samples: the
    // store no longer knows how many there were, and retention removes
    // whole chunks, so some of the span may still be there and sent).
    const keep = this.#source.tiers[0]?.retentionMs;
    if (
      after === undefined && keep !== undefined &&
      this.#source.newestTime() - start > keep - 60_000
    ) {
      const oldest = this.#source.oldestRawTime?.() ?? -Infinity;
      if (oldest > start + this.#source.intervalMs) {
        this.#warnOnce(
          "retention",
          `remote write "${this.#s.name}": samples from ${
            new Date(start).toISOString()
          } to ${
            new Date(oldest).toISOString()
          } are older than the history's raw tier keeps: what retention removed of them before they were sent is lost (the receiver was away longer than that)`,
        );
      }
    }
    // Raw samples too old to send: counted (once, not again after a
    // restart in the window), their minute windows sent when asked.
    let old: [number, number] | undefined;
    const ageLimit = this.#s.maxSampleAgeMs;
    if (ageLimit > 0) {
      const oldest = this.#now() - ageLimit;
      if (start < oldest) {
        const to = Math.min(end, oldest);
        if (after === undefined) this.#countOld(start, to);
        if (this.#s.oldAsAggregates) old = [start, to];
        start = to;
      }
    }
    const behind = this.#source.newestTime() - end >
      2 * Math.max(this.#s.batchDeadlineMs, this.#source.intervalMs);
    const shards = behind ? this.#s.maxShards : 1;
    const resume = _resume(c.window);
    // Read from the store in slices of the series' order, each sent
    // before the next is read: a window of every series (60 s of 57,000
    // held the event loop 464 ms in one read) holds it a slice at a time.
    const slices = old === undefined && !this.#tap?.covers(start)
      ? this.#slices(start, end)
      : 1;
    // Each slice's series are fixed now, by key: the first key of each
    // slice. A series that appears during the window (ranked later)
    // goes to the slice its key falls in, so no other series moves.
    const firsts: Uint8Array[] = [];
    const ranked = this.#entries;
    for (let k = 1; k < slices; k++) {
      firsts.push(ranked[Math.floor(k * ranked.length / slices)].bytes);
    }
    const sliceOf = (bytes: Uint8Array): number => {
      let lo = 0;
      let hi = firsts.length; // the slice: how many firsts are <= bytes
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (_compareBytes(firsts[mid], bytes) <= 0) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    // Each series' slice, worked out once a window.
    const window = ++this.#sliced;
    const sliceOfEntry = (e: SeriesEntry): number => {
      if (e.sliceWindow !== window) {
        e.sliceWindow = window;
        e.slice = sliceOf(e.bytes);
      }
      return e.slice;
    };
    for (let k = 0; k < slices; k++) {
      const nextBatch = this.#read(
        start,
        end,
        resume,
        old,
        slices === 1 ? undefined : (e) => sliceOfEntry(e) === k,
      );
      if (!await this.#sendAll(nextBatch, shards, resume)) return false;
    }
    c.sent = end;
    c.window = undefined;
    this.stats.sentThrough = end;
    this.#tap?.release(end);
    this.#writeCursor();
    return true;
  }

  /**
   * The requests of window `(start, end]`: its selected series sorted by
   * key, those after `after` only, cut into requests; with `old`, the
   * minute windows of that span too, as four series each.
   */
  #read(
    start: number,
    end: number,
    resume: Resume | undefined,
    old: [number, number] | undefined,
    inSlice?: (e: SeriesEntry) => boolean,
  ): () => Batch | undefined {
    this.#windows++;
    const tap = this.#tap;
    if (
      start < end && old === undefined && resume === undefined &&
      inSlice === undefined && tap?.covers(start)
    ) {
      const caughtUp = this.#readCaughtUp(start, end, tap);
      if (caughtUp !== undefined) return caughtUp;
    }
    const list: SeriesEntry[] = [];
    const offs: number[] = [];
    /** Where the next series read goes in the window's arrays. */
    let used = 0;
    /** The samples to send. */
    let pending = 0;
    /**
     * Series `e`'s `n` samples at `off` of the window's arrays, without
     * those the window's acknowledged part (a resumed window) holds.
     */
    const add = (e: SeriesEntry, off: number, n: number) => {
      if (resume !== undefined) {
        const sent = _sentThrough(resume, e.bytes);
        if (sent === Infinity) return;
        const t = this.#t;
        while (n > 0 && t[off] <= sent) {
          off++;
          n--;
        }
        if (n === 0) return;
      }
      list.push(e);
      offs.push(off, n);
      pending += n;
    };
    const take = (e: SeriesEntry, t: Float64Array, v: Float64Array) => {
      const n = t.length;
      if (n === 0) return;
      if (used + n > this.#t.length) this.#grow(used + n);
      // set() copies the bits: a stale marker's NaN stays that NaN.
      this.#t.set(t, used);
      this.#v.set(v, used);
      const at = used;
      used += n;
      add(e, at, n);
    };
    if (start < end && old === undefined && tap?.covers(start)) {
      // Caught up: what was appended, as it was appended.
      // Straight into the window's arrays: no copy of a copy.
      const n = tap.size(start, end);
      if (n > this.#t.length) this.#grow(n);
      tap.readInto(start, end, this.#t, this.#v, (ref, off, n) => {
        const e = this.#entryOf(ref);
        if (e !== undefined && e.selected) add(e, off, n);
      });
      this.stats.tapWindows++;
    } else if (start < end) {
      const accept = inSlice === undefined ? undefined : (ref: number) => {
        const e = this.#entryOf(ref);
        return e !== undefined && e.selected && inSlice(e);
      };
      this.#source.selectEach([], start + 1, end, 0, (p) => {
        const e = this.#entry(p.labels);
        if (e.selected) take(e, p.t, p.value);
      }, accept);
    }
    if (old !== undefined && this.#source.tiers.length > 1) {
      for (const p of this.#source.select([], old[0] + 1, old[1], 1)) {
        if (!this.#entry(p.labels).selected) continue;
        for (const column of AGGREGATES) {
          const values = p[column];
          if (values !== undefined) {
            take(this.#aggregateEntry(p.labels, column), p.t, values);
          }
        }
      }
    }
    // By key: ranks kept from one window to the next, renewed when a
    // series is new.
    if (!this.#ranked) this.#rank();
    const order = this.#byRank(list);
    this.stats.pending = pending;
    // The series in order, side by side: labels, where the samples are.
    const m = order.length;
    const labelsAt = new Int32Array(m + 1);
    for (let p = 0; p < m; p++) {
      labelsAt[p + 1] = labelsAt[p] + list[order[p]].bytes.length;
    }
    const labels = new Uint8Array(labelsAt[m]);
    const { at, count } = this.#sampleSpans(m);
    for (let p = 0; p < m; p++) {
      const i = order[p];
      labels.set(list[i].bytes, labelsAt[p]);
      at[p] = offs[2 * i];
      count[p] = offs[2 * i + 1];
    }
    return this.#requests(m, labels, labelsAt);
  }

  /**
   * #read() of a caught-up window whose ticks all appended the same
   * series (the sampler's, while no series comes or goes): the tap lays
   * the samples out by series in the requests' order, which, with the
   * series' labels side by side, comes from
   * a plan kept while the series and their ranks stay the same, so that
   * no series' entry is touched. Undefined, with nothing read or changed
   * but the window's arrays, when the window is not such a one.
   */
  #readCaughtUp(
    start: number,
    end: number,
    tap: AppendTap,
  ): (() => Batch | undefined) | undefined {
    const shared = tap.shared(start, end);
    if (shared === undefined) return undefined;
    const plan = this.#planFor(shared.refs, shared.series);
    this.#planUsed = this.#windows;
    this.stats.tapWindows++;
    const m = plan.pos.length;
    const k = shared.ticks;
    if (m * k > this.#t.length) this.#grow(m * k);
    // In the requests' order: the encoder reads the window's arrays
    // straight through.
    tap.readPicked(start, end, plan.pos, this.#t, this.#v);
    const { at, count } = this.#sampleSpans(m);
    for (let p = 0; p < m; p++) {
      at[p] = p * k;
      count[p] = k;
    }
    this.stats.pending = m * k;
    return this.#requests(m, plan.labels, plan.labelsAt, plan.views);
  }

  /**
   * The plan of a caught-up window of series `refs[0, series)`: the
   * selected ones' places in `refs` by rank and their labels side by
   * side; kept while `refs` and the ranks are the same. Ordered as
   * #byRank() orders any window (two refs of one series, which a store
   * never gives, by their places).
   */
  #planFor(refs: Int32Array, series: number): CaughtUpPlan {
    const kept = this.#plan;
    if (kept?.refs === refs && kept.ranks === this.#ranks) return kept;
    // Before a #rank() below forgets series by when they were seen.
    this.#markPlanSeen();
    const selected: SeriesEntry[] = [];
    /** Each selected series' place in `refs`. */
    const places: number[] = [];
    for (let s = 0; s < series; s++) {
      const e = this.#entryOf(refs[s]);
      if (e === undefined || !e.selected) continue;
      selected.push(e);
      places.push(s);
    }
    if (!this.#ranked) this.#rank();
    const order = this.#byRank(selected);
    const m = order.length;
    const pos = new Int32Array(m);
    const planned: SeriesEntry[] = [];
    const labelsAt = new Int32Array(m + 1);
    for (let p = 0; p < m; p++) {
      const e = selected[order[p]];
      pos[p] = places[order[p]];
      planned.push(e);
      labelsAt[p + 1] = labelsAt[p] + e.bytes.length;
    }
    const labels = new Uint8Array(labelsAt[m]);
    const views: Uint8Array[] = [];
    const plan = ++this.#plans;
    for (let p = 0; p < m; p++) {
      const e = planned[p];
      labels.set(e.bytes, labelsAt[p]);
      // Its labels held once: from now on a view of the plan's.
      e.bytes = labels.subarray(labelsAt[p], labelsAt[p + 1]);
      e.plan = plan;
      views.push(e.bytes);
    }
    // A series of the kept plan that is not in this one (gone, or
    // excluded by a new set) gets its labels back as its own: a view would
    // hold all of the kept plan's labels for as long as it is remembered.
    for (const e of kept?.entries ?? []) {
      if (e.plan !== plan) {
        e.bytes = e.bytes.slice();
        e.plan = 0;
      }
    }
    return this.#plan = {
      refs,
      ranks: this.#ranks,
      pos,
      entries: planned,
      labels,
      labelsAt,
      views,
    };
  }

  /** Where each of `m` series' samples are (kept between windows). */
  #sampleSpans(m: number): { at: Int32Array; count: Int32Array } {
    if (this.#at.length < m) {
      this.#at = new Int32Array(m);
      this.#count = new Int32Array(m);
    }
    return { at: this.#at, count: this.#count };
  }

  /**
   * The requests of `m` series in order: series `p`'s labels at
   * `labels[labelsAt[p], labelsAt[p + 1])` (or `views[p]`, a view of
   * them made once: 28% less encoding time than a part of `labels`
   * copied each time, which makes a view a call), its samples at
   * `#at[p]` of the window's arrays (`#count[p]` of them).
   */
  #requests(
    m: number,
    labels: Uint8Array,
    labelsAt: Int32Array,
    views?: Uint8Array[],
  ): () => Batch | undefined {
    // Requests are encoded when a sender asks for the next one, not all
    // at once: a window's encoding then runs while earlier requests are
    // in flight, and the receiver is not left idle meanwhile.
    const enc = this.#encoder;
    const max = this.#s.maxSamplesPerRequest;
    const t = this.#t;
    const v = this.#v;
    const spanAt = this.#at;
    const spanCount = this.#count;
    let p = 0;
    /** Where the series being split goes on from (-1: none). */
    let from = -1;
    /** A series' labels (a copy: they outlive the window's arrays). */
    const key = (q: number) => labels.slice(labelsAt[q], labelsAt[q + 1]);
    /** The last request's last series, and its labels. */
    let lastAt = -1;
    let last: Uint8Array = EMPTY;
    return () => {
      if (p >= m) return undefined;
      enc.reset();
      const follows = from >= 0;
      const first = follows && lastAt === p ? last : key(p);
      let through = Infinity;
      while (p < m) {
        const off = spanAt[p];
        const end = off + spanCount[p];
        const at = from >= 0 ? from : off;
        const room = max - enc.samples;
        if (room <= 0) break;
        const to = Math.min(end, at + room);
        if (views !== undefined) enc.addSeries(views[p], t, v, at, to);
        else {
          enc.addSeriesAt(labels, labelsAt[p], labelsAt[p + 1], t, v, at, to);
        }
        if (to < end) {
          // Split: the rest goes in the next request.
          from = to;
          through = t[to - 1];
          break;
        }
        from = -1;
        p++;
      }
      const endAt = through === Infinity ? p - 1 : p;
      if (endAt !== lastAt) {
        last = key(endAt);
        lastAt = endAt;
      }
      return {
        body: snappyCompress(enc.bytes()),
        samples: enc.samples,
        first,
        last,
        through,
        follows,
      };
    };
  }

  /**
   * How many slices of the series' order a store read of `(start, end]`
   * takes (about `sliceSamples` each); every series of
   * the source is known and ranked after it. 1 when the source cannot
   * read by ref.
   */
  #slices(start: number, end: number): number {
    const source = this.#source;
    if (
      source.seriesCount === undefined || source.seriesLabels === undefined
    ) return 1;
    const n = source.seriesCount();
    for (let ref = 0; ref < n; ref++) this.#entryOf(ref);
    if (!this.#ranked) this.#rank();
    const ticks = Math.max(1, Math.ceil((end - start) / source.intervalMs));
    return Math.max(
      1,
      Math.ceil(this.#entries.length * ticks / this.#sliceSamples),
    );
  }

  /**
   * The places in `list` in the order of their entries' ranks (every
   * entry ranked); placed by rank, or sorted when one entry is in the
   * list twice.
   */
  #byRank(list: SeriesEntry[]): Int32Array {
    const n = this.#entries.length;
    if (this.#slots.length < n) this.#slots = new Int32Array(n);
    const slots = this.#slots;
    slots.fill(-1, 0, n);
    let twice = false;
    for (let i = 0; i < list.length; i++) {
      const r = list[i].rank;
      if (slots[r] !== -1) twice = true;
      slots[r] = i;
    }
    const order = new Int32Array(list.length);
    if (twice) {
      for (let i = 0; i < list.length; i++) order[i] = i;
      return order.sort((a, b) => list[a].rank - list[b].rank || a - b);
    }
    let k = 0;
    for (let r = 0; r < n; r++) if (slots[r] !== -1) order[k++] = slots[r];
    return order;
  }

  /**
   * A caught-up window does not mark its series seen one by one: the
   * plan's series were seen when it was last used.
   */
  #markPlanSeen(): void {
    for (const e of this.#plan?.entries ?? []) {
      if (e.seen < this.#planUsed) e.seen = this.#planUsed;
    }
  }

  /** Ranks every known series by key. */
  #rank(): void {
    this.#markPlanSeen();
    this.#ranks++;
    // Series no window has seen for a while are forgotten (retention).
    const keep = this.#entries.filter((e) => e.seen >= this.#windows - 100);
    for (const e of this.#entries) e.rank = -1;
    keep.sort((a, b) => _compareBytes(a.bytes, b.bytes));
    for (let i = 0; i < keep.length; i++) keep[i].rank = i;
    this.#entries = keep;
    this.#ranked = true;
  }

  #grow(n: number): void {
    const size = Math.max(n, this.#t.length * 2, 4096);
    const t = new Float64Array(size);
    const v = new Float64Array(size);
    t.set(this.#t);
    v.set(this.#v);
    this.#t = t;
    this.#v = v;
  }

  /** #entry() of series `ref` of the source, kept by ref. */
  #entryOf(ref: number): SeriesEntry | undefined {
    const e = this.#byRef[ref];
    if (e !== undefined && e.rank !== -1) {
      e.seen = this.#windows;
      return e;
    }
    // New, or forgotten by #rank() (#entry() ranks it again).
    const labels = this.#source.seriesLabels!(ref);
    if (labels === undefined) return undefined;
    return this.#byRef[ref] = this.#entry(labels);
  }

  #entry(labels: SeriesLabels): SeriesEntry {
    let e = this.#series.get(labels);
    if (e === undefined) {
      const s = this.#s;
      const selected = (s.include.length === 0 ||
        s.include.some((m) => matchesAll(m, labels))) &&
        !s.exclude.some((m) => matchesAll(m, labels));
      e = this.#newEntry(labels, selected);
      this.#series.set(labels, e);
    } else if (e.rank === -1 && e.selected) {
      // Forgotten by #rank(), seen again.
      this.#entries.push(e);
      this.#ranked = false;
    }
    e.seen = this.#windows;
    return e;
  }

  /** The series `<name>_<column>` of a minute window's column. */
  #aggregateEntry(labels: SeriesLabels, column: string): SeriesEntry {
    let byColumn = this.#aggregates.get(labels);
    if (byColumn === undefined) {
      byColumn = new Map();
      this.#aggregates.set(labels, byColumn);
    }
    let e = byColumn.get(column);
    if (e === undefined) {
      const named = { ...labels, __name__: `${labels.__name__}_${column}` };
      e = this.#newEntry(named, true);
      byColumn.set(column, e);
    } else if (e.rank === -1) {
      this.#entries.push(e);
      this.#ranked = false;
    }
    e.seen = this.#windows;
    return e;
  }

  #newEntry(labels: SeriesLabels, selected: boolean): SeriesEntry {
    const e: SeriesEntry = {
      bytes: selected
        ? encodeLabels(labels, this.#s.externalLabels)
        : new Uint8Array(0),
      selected,
      rank: 0,
      slice: 0,
      sliceWindow: 0,
      plan: 0,
      seen: this.#windows,
    };
    if (selected) {
      this.#entries.push(e);
      this.#ranked = false;
    }
    return e;
  }

  /**
   * Sends `batches` with up to `shards` in flight, the cursor moved past
   * the longest acknowledged run; false when closed before all were done.
   */
  async #sendAll(
    nextBatch: () => Batch | undefined,
    shards: number,
    resume: Resume | undefined,
  ): Promise<boolean> {
    const batches: Batch[] = [];
    const done: boolean[] = [];
    // Settled when request i is done (acknowledged, dropped or closed).
    const settled: PromiseWithResolvers<void>[] = [];
    let exhausted = false;
    let prefix = 0;
    let closed = false;
    const c = this.#cursor!;
    const worker = async () => {
      while (!closed && !exhausted) {
        const b = nextBatch();
        if (b === undefined) {
          exhausted = true;
          return;
        }
        const i = batches.length;
        batches.push(b);
        done.push(false);
        settled.push(Promise.withResolvers<void>());
        if (b.follows) await settled[i - 1].promise;
        if (closed) return;
        await this.#limitRate(b.samples);
        let outcome: Outcome;
        try {
          outcome = await this.#send(b);
        } finally {
          settled[i].resolve();
        }
        if (outcome === "closed") {
          closed = true;
          return;
        }
        this.stats.pending -= b.samples;
        done[i] = true;
        while (prefix < batches.length && done[prefix]) prefix++;
        this.#markSent(c.window!, batches, done, prefix, resume);
        this.#writeCursor();
        // Sent: its body is not needed any more.
        b.body = EMPTY;
      }
    };
    await Promise.all(Array.from({ length: shards }, worker));
    return !closed;
  }

  /**
   * Records in `w` how far the window went: the end of the requests
   * acknowledged in a row (`prefix` of them), the runs acknowledged beyond
   * them, and the runs a restart found acknowledged (in `resume`) that
   * this send has not passed yet.
   */
  #markSent(
    w: CursorWindow,
    batches: Batch[],
    done: boolean[],
    prefix: number,
    resume: Resume | undefined,
  ): void {
    let after = resume?.after;
    let through = resume?.through ?? Infinity;
    if (prefix > 0) {
      const b = batches[prefix - 1];
      after = b.last;
      through = b.through;
      w.after = _place(b.last);
      if (b.through === Infinity) delete w.through;
      else w.through = b.through;
    }
    const runs: [string, string, number | null][] = [];
    const run = (first: Uint8Array, last: Uint8Array, t: number) =>
      runs.push([_place(first), _place(last), t === Infinity ? null : t]);
    for (const r of resume?.runs ?? []) {
      // Kept while this send has not passed its end.
      const c = after === undefined ? 1 : _compareBytes(r.last, after);
      if (c > 0 || (c === 0 && r.through > through)) {
        run(r.first, r.last, r.through);
      }
    }
    for (let j = prefix; j < batches.length; j++) {
      if (!done[j]) continue;
      let k = j;
      while (k + 1 < batches.length && done[k + 1]) k++;
      run(batches[j].first, batches[k].last, batches[k].through);
      j = k;
    }
    if (runs.length > 0) w.acked = runs;
    else delete w.acked;
  }

  /** Waits until the rate limit lets `samples` more through. */
  async #limitRate(samples: number): Promise<void> {
    const limit = this.#s.maxSamplesPerSecond;
    if (limit === 0) return;
    for (;;) {
      const now = performance.now();
      if (now - this.#rateEpoch >= 1000) {
        this.#rateEpoch = now;
        this.#rateUsed = 0;
      }
      if (this.#rateUsed === 0 || this.#rateUsed + samples <= limit) {
        this.#rateUsed += samples;
        return;
      }
      if (!await _sleep(this.#rateEpoch + 1000 - now, this.#closed.signal)) {
        return;
      }
    }
  }

  /** One request, retried until it is acknowledged, dropped or closed. */
  async #send(b: Batch): Promise<Outcome> {
    const s = this.#s;
    const st = this.stats;
    let delay = s.minBackoffMs;
    for (let attempt = 0;; attempt++) {
      if (this.#closed.signal.aborted) return "closed";
      if (attempt > 0) st.samplesRetried += b.samples;
      st.inFlight++;
      st.bytesSent += b.body.byteLength;
      const began = performance.now();
      let status = 0;
      let why = "";
      let retryAfter = 0;
      try {
        const answer = this.#poster !== undefined
          ? await this.#poster.post(b.body, {
            headers: this.#headers,
            signal: this.#closed.signal,
            timeoutMs: s.timeoutMs,
          })
          : await this.#fetchAnswer(b.body);
        status = answer.status;
        if (status >= 400) {
          why = _hideSecrets(
            scrubUrls(answer.body.trim(), new URL(s.url)),
            s.secrets,
          ).slice(0, 300);
          retryAfter = _retryAfter(
            answer.headers.get("retry-after") ?? null,
            this.#now,
          );
        }
      } catch (e) {
        if (this.#closed.signal.aborted) {
          st.inFlight--;
          return "closed";
        }
        why = (e as Error).name === "TimeoutError"
          ? `no answer within ${s.timeoutMs} ms`
          : fetchErrorText(e, new URL(s.url));
      }
      st.inFlight--;
      if (status >= 200 && status < 300) {
        st.requestSeconds.observe((performance.now() - began) / 1000);
        st.requests++;
        st.samplesSent += b.samples;
        return "sent";
      }
      st.samplesFailed += b.samples;
      if (status >= 400 && status < 500 && status !== 429) {
        const reason = /out of bounds|too old/i.test(why)
          ? "too_old"
          : "rejected";
        st.samplesDropped[reason] += b.samples;
        this.#warnOnce(
          `${status}`,
          `remote write "${s.name}": the receiver answered ${status}: ${b.samples} samples dropped (${reason}): ${
            why || "no reason given"
          }`,
        );
        return "dropped";
      }
      this.#warnOnce(
        "retry",
        `remote write "${s.name}": ${
          status === 0 ? why : `the receiver answered ${status}`
        }: retrying (warned once; the metrics count every retry)`,
      );
      const wait = Math.max(
        Math.random() * delay,
        Math.min(retryAfter, s.maxBackoffMs),
      );
      delay = Math.min(delay * 2, s.maxBackoffMs);
      if (!await _sleep(wait, this.#closed.signal)) return "closed";
    }
  }

  /**
   * POSTs `body` with `fetch` (the context's, or the global one); the
   * answer as the poster gives it: the body read only for an error.
   */
  async #fetchAnswer(body: Uint8Array): Promise<Http1Answer> {
    const s = this.#s;
    const init: RequestInit = {
      method: "POST",
      headers: this.#headers,
      body: body as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.any([
        this.#closed.signal,
        AbortSignal.timeout(s.timeoutMs),
      ]),
    };
    // The global fetch without a Request made first: about 40 µs a
    // request less on Deno, 8 on Bun (2026-12-05).
    const res =
      await (this.#fetch === undefined
        ? fetch(s.url, init)
        : this.#fetch(new Request(s.url, init)));
    const headers = new Map<string, string>();
    let text = "";
    if (res.status >= 400) {
      text = await res.text().catch(() => "");
      const retry = res.headers.get("retry-after");
      if (retry !== null) headers.set("retry-after", retry);
    } else {
      await res.body?.cancel().catch(() => {});
    }
    return { status: res.status, headers, body: text };
  }

  /** Counts the raw samples of `(start, end]` as dropped: too old. */
  #countOld(start: number, end: number): void {
    let n = 0;
    this.#source.selectEach([], start + 1, end, 0, (p) => {
      if (this.#entry(p.labels).selected) n += p.t.length;
    });
    this.stats.samplesDropped.too_old += n;
    if (n > 0) {
      this.#warnOnce(
        "too_old",
        // The operator set this as the destination's `maxSampleAge` (a
        // duration), an embedding app as `maxSampleAgeMs`: the age in
        // words and the operator's key read right to both.
        `remote write "${this.#s.name}": ${n} samples more than ${
          _age(this.#s.maxSampleAgeMs)
        } old (the destination's maxSampleAge) not sent${
          this.#s.oldAsAggregates ? "; their minute windows sent instead" : ""
        } (warned once; remote_write_samples_dropped_total counts them)`,
      );
    }
  }

  #warnOnce(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#warn(message);
  }

  #readCursor(): Cursor | undefined {
    const file = this.#cursorFile!;
    let text: string | undefined;
    try {
      text = file.read();
    } catch {
      text = ""; // a file of another format: as a cursor that does not parse
    }
    if (text === undefined) return undefined;
    try {
      const c = JSON.parse(text) as Cursor;
      if (
        typeof c.url !== "string" || !Number.isFinite(c.sent) ||
        (c.window !== undefined && !_validWindow(c.window))
      ) throw new Error("not a cursor");
      if (c.url !== this.#urlKey) {
        this.#warn(
          `remote write "${this.#s.name}": its cursor was for another URL: starting over (${this.#s.start})`,
        );
        return undefined;
      }
      if (c.labels !== this.#labelsKey) {
        if (c.window !== undefined && _resume(c.window) !== undefined) {
          this.#warn(
            `remote write "${this.#s.name}": its external labels changed since the last run: the window in progress is sent again whole`,
          );
          c.window = { end: c.window.end, after: "" };
        }
        c.labels = this.#labelsKey;
      }
      return c;
    } catch {
      this.#warn(
        `remote write "${this.#s.name}": its cursor ${file.path} does not parse: starting over (${this.#s.start})`,
      );
      file.clear();
      return undefined;
    }
  }

  #writeCursor(): void {
    const file = this.#cursorFile;
    if (file === undefined) return;
    try {
      file.write(JSON.stringify(this.#cursor));
    } catch (e) {
      this.#warnOnce(
        `cursor ${(e as Error).message}`,
        `remote write "${this.#s.name}": cannot write its cursor ${file.path}: ${
          (e as Error).message
        } (a restart sends again what was sent since)`,
      );
    }
  }
}

/** A URL as the cursor keeps it: shown without its query, and a checksum of it whole. */
/** A sample age as a log line writes it: `30 s`, `90 min`, `2 h`, `1.5 s`. */
function _age(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

function _urlKey(href: string): string {
  return `${urlShown(new URL(href))} ${_checksum(href)}`;
}

function _checksum(text: string): string {
  return crc32(new TextEncoder().encode(text)).toString(16).padStart(8, "0");
}

/** Resolves true after `ms`, false at once when `signal` aborts. */
function _sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = timer(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A `Retry-After` header as ms from now (0 when absent or unreadable). */
function _retryAfter(header: string | null, now: () => number): number {
  if (header === null) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now()) : 0;
}
