/**
 * The metric history as an embedding app uses it: open a store, attach it
 * to a {@linkcode MetricsCollector} (it then samples every series the
 * collector exports, every interval, and exports its own metrics there),
 * read it back through {@linkcode HistoryReader} (what the PromQL
 * evaluator and the query API read), and close it (which flushes).
 *
 * @module
 */
import type { MetricsCollector } from "../metrics/collector.ts";
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { _SPAN_LIMIT } from "../engine/_duration_limit.ts";
import { Sampler, type SamplerStats, seriesFilter } from "./sampler.ts";
import type { SeriesFilter } from "./sampler.ts";
import { historyMetrics } from "./self_metrics.ts";
import {
  type AppendListener,
  defaultTiers,
  HistoryStore,
  type HistoryStoreOptions,
} from "./store.ts";
import type {
  HistoryReader,
  LabelMatcher,
  SeriesLabels,
  SeriesPoints,
  TierInfo,
  WindowColumnName,
} from "./types.ts";

/**
 * Options of {@linkcode History.open}: the store's (its `now` is the
 * samplers' clock too), and which series.
 */
export interface HistoryOptions extends HistoryStoreOptions, SeriesFilter {
  /**
   * Retention by tier name (ms), over the tiers' own (`tiers`, or
   * {@linkcode defaultTiers}): `{ raw: 2 * 86_400_000 }` keeps raw samples
   * 2 days. A name that is no tier throws, and so does a retention of 0 or
   * less or longer than 100 years (`Infinity` included): a RangeError
   * naming the tier.
   */
  retentionMs?: Readonly<Record<string, number>>;
}

const HISTORY_OPTIONS = optionKeys<HistoryOptions>()([
  "include",
  "exclude",
  "retentionMs",
  "dir",
  "intervalMs",
  "tiers",
  "maxDiskBytes",
  "flushIntervalMs",
  "onWarning",
  "onInfo",
  "now",
  "memoryChunks",
  "decodedCacheBytes",
  "segmentBytes",
  "staleMs",
]);

/**
 * A metric history: a {@linkcode HistoryStore} and the samplers that feed
 * it from the collectors it is attached to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "../metrics/collector.ts";
 * import { History } from "./history.ts";
 *
 * const history = await History.open({ include: ["weir_flows_active"] });
 * const collector = new MetricsCollector();
 * history.attach(collector); // samples every second from now on
 * await history.sampleNow();  // or right now
 * const [flows] = history.select(
 *   [{ name: "__name__", type: "=", value: "weir_flows_active" }],
 *   0,
 *   Date.now(),
 *   0,
 * );
 * assert.deepEqual([...flows.value], [0]);
 * await history.close();
 * ```
 */
export class History implements HistoryReader {
  /** The store every sampler writes into. */
  readonly store: HistoryStore;
  /** Time between two samples (ms). */
  readonly intervalMs: number;
  readonly #filter: SeriesFilter;
  readonly #onWarning: (message: string) => void;
  readonly #now: (() => number) | undefined;
  readonly #attached = new Map<
    MetricsCollector,
    { sampler: Sampler; removeMetrics: () => void }
  >();
  #closing: Promise<void> | undefined;

  private constructor(
    store: HistoryStore,
    intervalMs: number,
    filter: SeriesFilter,
    onWarning: (message: string) => void,
    now: (() => number) | undefined,
  ) {
    this.#now = now;
    this.store = store;
    this.intervalMs = intervalMs;
    this.#filter = filter;
    this.#onWarning = onWarning;
  }

  /**
   * Opens the store (loading what `dir` holds, if given) and checks the
   * options; a bad option (a pattern that does not compile, a retention
   * for no tier, a key it does not read, such as `intervalMS`) throws
   * before anything is opened.
   */
  static async open(options: HistoryOptions = {}): Promise<History> {
    checkOptionKeys("Cannot open history", options, HISTORY_OPTIONS);
    const { include, exclude, retentionMs, ...storeOptions } = options;
    const filter: SeriesFilter = { include, exclude };
    seriesFilter(filter); // throws on a bad pattern
    const intervalMs = options.intervalMs ?? 1000;
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
      throw new RangeError(
        `Cannot open history: intervalMs must be a positive integer (ms), received ${intervalMs}`,
      );
    }
    if (retentionMs !== undefined) {
      const tiers = (options.tiers ?? defaultTiers(intervalMs)).map((t) => ({
        ...t,
      }));
      for (const [name, ms] of Object.entries(retentionMs)) {
        const tier = tiers.find((t) => t.name === name);
        if (tier === undefined) {
          throw new RangeError(
            `Cannot open history: retention for tier "${name}", which is no tier (tiers: ${
              tiers.map((t) => t.name).join(", ")
            })`,
          );
        }
        if (!(ms > 0)) {
          throw new RangeError(
            `Cannot open history: retention of tier "${name}" must be a positive duration (ms), received ${ms}`,
          );
        }
        if (ms > _SPAN_LIMIT.ms) {
          throw new RangeError(
            `Cannot open history: retentionMs of tier "${name}" is longer than ${_SPAN_LIMIT.text}, received ${ms}`,
          );
        }
        tier.retentionMs = ms;
      }
      storeOptions.tiers = tiers;
    }
    const onWarning = options.onWarning ?? (() => {});
    const store = await HistoryStore.open({ ...storeOptions, intervalMs });
    return new History(store, intervalMs, filter, onWarning, options.now);
  }

  /**
   * Starts sampling `collector` every interval into the store, and adds
   * the history's own metrics to it. Returns a function that stops both.
   * Throws when closed, or when `collector` is attached already.
   */
  attach(collector: MetricsCollector): () => void {
    if (this.#closing !== undefined) {
      throw new Error("Cannot attach history: it is closed");
    }
    if (this.#attached.has(collector)) {
      throw new Error(
        "Cannot attach history: this collector is attached already",
      );
    }
    let warned = false;
    const sampler = new Sampler(collector, this.store, {
      ...this.#filter,
      intervalMs: this.intervalMs,
      ...(this.#now !== undefined ? { now: this.#now } : {}),
      onError: (e) => {
        // One warning: a failing pass fails again at every tick.
        if (warned) return;
        warned = true;
        this.#onWarning(
          `metric history: a sampling pass failed (${
            (e as Error)?.message ?? e
          }); later failures are not logged`,
        );
      },
    });
    let removeMetrics: () => void;
    try {
      removeMetrics = historyMetrics(collector, {
        store: () => this.store.stats(),
        sampler: () => sampler.stats,
        passSeconds: sampler.passSeconds,
      });
    } catch (e) {
      // Its metrics' names are taken: another history is attached to it.
      throw new Error(
        "Cannot attach history: another history is attached to this collector already (a collector takes one; call the function the other's attach() returned first)",
        { cause: e },
      );
    }
    this.#attached.set(collector, { sampler, removeMetrics });
    sampler.start();
    return () => {
      if (this.#attached.get(collector)?.sampler !== sampler) return;
      this.#attached.delete(collector);
      removeMetrics();
      sampler.stop().catch(() => {});
    };
  }

  /**
   * Samples every attached collector now (stamped with the current tick),
   * besides the timer: for tests, and for a last sample before closing.
   */
  async sampleNow(): Promise<void> {
    await Promise.all(
      [...this.#attached.values()].map(({ sampler }) => sampler.sampleOnce()),
    );
  }

  /** The samplers' statistics, one per attached collector. */
  samplerStats(): SamplerStats[] {
    return [...this.#attached.values()].map(({ sampler }) => sampler.stats);
  }

  /** {@inheritDoc HistoryStore.newestTime} */
  newestTime(): number {
    return this.store.newestTime();
  }

  /** {@inheritDoc HistoryStore.onAppend} */
  onAppend(listener: AppendListener): () => void {
    return this.store.onAppend(listener);
  }

  /** {@inheritDoc HistoryStore.seriesLabels} */
  seriesLabels(ref: number): SeriesLabels | undefined {
    return this.store.seriesLabels(ref);
  }

  /** {@inheritDoc HistoryStore.oldestRawTime} */
  oldestRawTime(): number {
    return this.store.oldestRawTime();
  }

  /** {@inheritDoc HistoryStore.oldestTime} */
  oldestTime(): number {
    return this.store.oldestTime();
  }

  /** {@inheritDoc HistoryReader.tiers} */
  get tiers(): readonly TierInfo[] {
    return this.store.tiers;
  }

  /** {@inheritDoc HistoryReader.select} */
  select(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
  ): SeriesPoints[] {
    return this.store.select(matchers, start, end, tier);
  }

  /**
   * {@inheritDoc HistoryReader.selectSteps}
   *
   * Forwarded so that the query API, which reads through this facade,
   * gets the store's step reads (a 30-day query at an hour step reads 721
   * windows a series, not 43,200).
   */
  selectSteps(
    matchers: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
    columns?: readonly WindowColumnName[],
  ): SeriesPoints[] {
    return this.store.selectSteps(matchers, ends, reachMs, tier, columns);
  }

  /**
   * {@inheritDoc HistoryReader.selectStepsEach}
   *
   * Forwarded so that the query API gets the store's one-series-at-a-time
   * step reads (month queries), not the fallback through `selectSteps`.
   */
  selectStepsEach(
    matchers: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
    columns: readonly WindowColumnName[] | undefined,
    visit: (points: SeriesPoints) => void,
  ): void {
    this.store.selectStepsEach(matchers, ends, reachMs, tier, columns, visit);
  }

  /** {@inheritDoc HistoryStore.selectEach} */
  selectEach(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
    visit: (points: SeriesPoints) => void,
    accept?: (ref: number) => boolean,
  ): void {
    this.store.selectEach(matchers, start, end, tier, visit, accept);
  }

  /** {@inheritDoc HistoryStore.selectLatestEach} */
  selectLatestEach(
    matchers: readonly LabelMatcher[],
    at: number,
    lookbackMs: number,
    visit: (points: SeriesPoints) => void,
  ): void {
    this.store.selectLatestEach(matchers, at, lookbackMs, visit);
  }

  /** {@inheritDoc HistoryStore.seriesCount} */
  seriesCount(): number {
    return this.store.seriesCount();
  }

  /** {@inheritDoc HistoryReader.series} */
  series(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): SeriesLabels[] {
    return this.store.series(matchers, start, end);
  }

  /** {@inheritDoc HistoryReader.labelNames} */
  labelNames(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[] {
    return this.store.labelNames(matchers, start, end);
  }

  /** {@inheritDoc HistoryReader.labelValues} */
  labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[] {
    return this.store.labelValues(name, matchers, start, end);
  }

  /**
   * Stops every sampler (a pass in progress ends first), takes a last
   * sample of each collector when a new tick has begun since its last
   * pass (so the values at shutdown are kept), removes the history's
   * metrics from the collectors, and closes the store, which writes what
   * is not on disk yet. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      const attached = [...this.#attached.values()];
      this.#attached.clear();
      await Promise.all(attached.map(async (a) => {
        await a.sampler.stop();
        try {
          await a.sampler.sampleLast();
        } catch (e) {
          this.#onWarning(
            `metric history: the last sample before closing failed (${
              (e as Error)?.message ?? e
            })`,
          );
        }
        a.removeMetrics();
      }));
      await this.store.close();
    })();
  }

  /** Closes it (`await using history = await History.open()`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
