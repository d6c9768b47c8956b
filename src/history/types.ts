/**
 * The contracts between the parts of the history store: the store writes
 * and reads points through these shapes, the PromQL evaluator reads
 * through {@linkcode HistoryReader}, the query API and (later) the
 * dashboard and remote write read through the evaluator or the reader.
 *
 * Times are integer milliseconds since the epoch everywhere in
 * `src/history/`; the query API converts Prometheus's float seconds at
 * its edge.
 *
 * @module
 */

/** A series' labels, `__name__` included. */
export type SeriesLabels = Readonly<Record<string, string>>;

/** A label matcher's operator, as PromQL writes it. */
export type MatchType = "=" | "!=" | "=~" | "!~";

/**
 * One label matcher. Regular expressions are fully anchored, as in
 * Prometheus (`=~"a.*"` matches `abc`, not `xabc`), and a missing label
 * is the empty string.
 */
export interface LabelMatcher {
  /** The label name (`__name__` for the metric name). */
  readonly name: string;
  /** The operator. */
  readonly type: MatchType;
  /** The value, or the regular expression's source. */
  readonly value: string;
}

/**
 * What kind of values a series holds, which decides how a downsampled
 * window aggregates it: a counter also keeps the window's increase
 * (resets handled). Histogram `_bucket`, `_sum` and `_count` series are
 * counters.
 */
export type SeriesKind = "counter" | "gauge" | "untyped";

/** A tier of the store: the raw samples, or a downsampled window size. */
export interface TierInfo {
  /** `raw`, `1m`, `1h`, ... */
  readonly name: string;
  /** The spacing of its points (ms): the sampling interval for raw. */
  readonly resolutionMs: number;
  /** How long its points are kept (ms). */
  readonly retentionMs: number;
}

/**
 * The points of one series from one tier, in parallel arrays sorted by
 * time (ascending, no duplicates).
 *
 * On the raw tier each point is one sample: `value` only.
 * On a downsampled tier the point at `t` is the aggregate of the raw
 * samples in the window `(t - resolutionMs, t]`: `count`, `sum`, `min`,
 * `max`, `value` (the last sample of the window) and, for counters,
 * `increase` (the counter's increase over the window, measured from the
 * last sample before the window, resets handled as `rate()` does).
 */
export interface SeriesPoints {
  /** The series' labels, `__name__` included. */
  readonly labels: SeriesLabels;
  /** Its kind. */
  readonly kind: SeriesKind;
  /** Timestamps (ms). */
  readonly t: Float64Array;
  /** The sample (raw) or the window's last sample (downsampled). */
  readonly value: Float64Array;
  /**
   * Set by a reader that knows: true when `value` holds no NaN, so no
   * staleness marker to skip (raw tier). Absent when not known.
   */
  readonly noNaN?: boolean;
  /**
   * Set by a reader that knows: true when no value is below the one
   * before and none is a NaN (a counter without a reset, so `rate()` need
   * not look for one). Absent when not known.
   */
  readonly rises?: boolean;
  /** Downsampled tiers only: samples in the window. */
  readonly count?: Float64Array;
  /** Downsampled tiers only: their sum. */
  readonly sum?: Float64Array;
  /** Downsampled tiers only: their minimum. */
  readonly min?: Float64Array;
  /** Downsampled tiers only: their maximum. */
  readonly max?: Float64Array;
  /** Downsampled tiers, counters only: the increase over the window. */
  readonly increase?: Float64Array;
}

/** A downsampled window's column besides its last `value` (see {@linkcode SeriesPoints}). */
export type WindowColumnName = "count" | "sum" | "min" | "max" | "increase";

/**
 * Read access to stored history: what the PromQL evaluator, the query
 * API's series and label endpoints, the dashboard and remote write use.
 * Reads merge what is in memory and what is on disk.
 */
export interface HistoryReader {
  /** The tiers, raw first, then coarser and coarser. */
  readonly tiers: readonly TierInfo[];
  /**
   * Optional: the oldest point's time in any tier (ms), `Infinity` when
   * empty (a time no tier holds a point before). A query that reaches back
   * past a tier's retention reads that tier still when the history is
   * younger than its retention: nothing older was ever kept.
   */
  oldestTime?(): number;
  /**
   * The points of every series that matches all `matchers` and has a
   * point in `[start, end]` (ms, inclusive) in tier `tier` (an index of
   * {@linkcode tiers}), limited to that range.
   */
  select(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
  ): SeriesPoints[];
  /**
   * Optional: like {@linkcode select}, but only the points within
   * `[ends[i] - reachMs, ends[i]]` for each of `ends` (ascending), merged
   * per series, in one call. A query whose step is much longer than its
   * range (`rate(x[1m])` at a 1 h step over 30 days) reads 720 windows per
   * series this way instead of 43,200; without it the evaluator calls
   * select() once per step. `columns`: on a downsampled tier, the window
   * columns the caller reads besides `value` (default: all); a reader may
   * leave the others out, so a `rate()` reads only `increase`. Given
   * without `count`, a reader may also leave out the window that ends
   * exactly at `ends[i] - reachMs`: it holds only samples before the
   * range, and whether its last sample sits on its end (the one use of
   * it, as the range's first sample) takes its count.
   */
  selectSteps?(
    matchers: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
    columns?: readonly WindowColumnName[],
  ): SeriesPoints[];
  /**
   * Optional: {@linkcode selectSteps}'s series one at a time, in no set
   * order, in arrays the reader may reuse for the next series (valid only
   * during the call to `visit`), as {@linkcode selectEach} does for
   * {@linkcode select}.
   */
  selectStepsEach?(
    matchers: readonly LabelMatcher[],
    ends: Float64Array,
    reachMs: number,
    tier: number,
    columns: readonly WindowColumnName[] | undefined,
    visit: (points: SeriesPoints) => void,
  ): void;
  /**
   * Optional: {@linkcode select}'s series one at a time, in no set order:
   * `visit` gets each series' points in arrays the reader may reuse for
   * the next series (valid only during the call). A caller that turns
   * each series into step values then holds one series' samples at a
   * time, and the reader fills one buffer instead of one per series.
   */
  selectEach?(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
    tier: number,
    visit: (points: SeriesPoints) => void,
  ): void;
  /**
   * Optional: of each raw series that matches, its last sample in
   * `[at - lookbackMs, at]` (what an instant vector selector keeps), one
   * series at a time as {@linkcode selectEach} hands them; `visit` may
   * get more samples than the last (arrays valid only during the call).
   */
  selectLatestEach?(
    matchers: readonly LabelMatcher[],
    at: number,
    lookbackMs: number,
    visit: (points: SeriesPoints) => void,
  ): void;
  /** The label sets of the series that match and have a point in `[start, end]` in any tier. */
  series(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): SeriesLabels[];
  /** Label names (sorted) of the series that match, all series when `matchers` is empty. */
  labelNames(
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[];
  /** Values (sorted) of label `name` among the series that match. */
  labelValues(
    name: string,
    matchers: readonly LabelMatcher[],
    start: number,
    end: number,
  ): string[];
}
