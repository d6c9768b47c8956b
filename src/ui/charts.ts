/// <reference lib="dom" />
/**
 * History charts: PromQL range queries drawn with uPlot, a range selector,
 * and the step and alignment rules the history's tiers ask for.
 *
 * @module
 */
import uPlot from "uplot";
import { ApiError, getJson } from "./api.ts";
import {
  planRange,
  type RangeChoice,
  type RangePlan,
  RANGES,
  refusedUnit,
} from "./range_plan.ts";

export { planRange, type RangeChoice, type RangePlan, RANGES, refusedUnit };
import { fmtBytes, fmtCount, fmtRate, fmtSeconds, h, setText } from "./dom.ts";

/** The unit each range needs on this server, once a tier refused one. */
const _units = new Map<number, number>();
/** Ranges this server has answered: their plan is known to fit. */
const _fitted = new Set<number>();

/**
 * Runs `queries` over the last `rangeSec` seconds, planned for `widthPx`
 * (see {@linkcode planRange}); asked again, aligned, when a tier refuses
 * them as unaligned (and aligned from then on, for this range).
 */
export async function queryRanges(
  queries: readonly ChartQuery[],
  rangeSec: number,
  widthPx: number,
  signal?: AbortSignal,
): Promise<
  { plan: RangePlan; answers: Array<{ q: ChartQuery; result: MatrixSeries[] }> }
> {
  const now = Date.now() / 1000;
  for (;;) {
    const unit = _units.get(rangeSec) ?? 0;
    const plan = planRange(rangeSec, widthPx, now, unit);
    try {
      const answers = await Promise.all(
        queries.map(async (q) => ({
          q,
          result: await queryRange(q.expr(plan.window), plan, signal),
        })),
      );
      _fitted.add(rangeSec);
      return { plan, answers };
    } catch (e) {
      const need = refusedUnit(e);
      if (need <= unit) throw e;
      _units.set(rangeSec, need);
    }
  }
}

/** One series of a matrix answer. */
export interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/**
 * Whether the server keeps no history (`off`: its query API answered 404,
 * or `/ui/access` said so), and whether that is `known` yet: until it is,
 * one query is sent at a time, so a server without a history sees one
 * failed request, not one per chart, and then none.
 */
export const history = { off: false, known: false };

/** The query in flight while `history.known` is false. */
let _probe: Promise<void> | null = null;

/** GET a query API path; a 404 turns the history off for the page. */
export async function queryApi<T>(
  path: string,
  signal?: AbortSignal,
): Promise<T> {
  while (!history.known && _probe !== null) await _probe;
  if (history.off) {
    throw new ApiError(404, "history is off on this server", null);
  }
  const answer = getJson<T>(path, signal).then((r) => {
    history.known = true;
    return r;
  }, (e) => {
    // An answer of the query API (not of the token check) tells.
    if (e instanceof ApiError && e.status !== 401 && e.status !== 403) {
      history.known = true;
      if (e.status === 404) history.off = true;
    }
    throw e;
  });
  if (!history.known) {
    const settled: Promise<void> = answer.then(() => {}, () => {}).then(
      () => {
        if (_probe === settled) _probe = null;
      },
    );
    _probe = settled;
  }
  return await answer;
}

/** Runs a range query; throws {@linkcode ApiError} on an error answer. */
export async function queryRange(
  query: string,
  plan: RangePlan,
  signal?: AbortSignal,
): Promise<MatrixSeries[]> {
  const p = new URLSearchParams({
    query,
    start: String(plan.start),
    end: String(plan.end),
    step: String(plan.step),
  });
  const r = await queryApi<
    { status: string; data: { resultType: string; result: MatrixSeries[] } }
  >(`/api/v1/query_range?${p}`, signal);
  if (r.data.resultType !== "matrix") return [];
  return r.data.result;
}

/** How a chart's values read. */
export type Unit = "rate" | "seconds" | "count" | "bytes" | "ratio" | "plain";

/** One PromQL query of a chart. */
export interface ChartQuery {
  /** The query, given the rate window ("60s"). */
  expr: (w: string) => string;
  /** The series' name; labels of several series are added. */
  label?: string;
}

/** A chart: a title, a unit and its queries. */
export interface ChartSpec {
  title: string;
  unit: Unit;
  queries: ChartQuery[];
  /** A sentence under the title. */
  note?: string;
}

/** Formats a value of `unit`. */
export function formatValue(unit: Unit, v: number): string {
  switch (unit) {
    case "rate":
      return fmtRate(v);
    case "seconds":
      return fmtSeconds(v);
    case "bytes":
      return fmtBytes(v);
    case "ratio":
      return `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`;
    case "plain":
      return Math.abs(v) >= 1e4 || v === Math.round(v)
        ? fmtCount(v)
        : String(Number(v.toPrecision(4)));
    default:
      return fmtCount(v);
  }
}

const PALETTE = [
  "#4e8cff",
  "#2fbf71",
  "#f5a524",
  "#e5484d",
  "#a371f7",
  "#14b8c4",
  "#f76b15",
  "#d6409f",
  "#8d9b2a",
  "#7c8aa5",
];

function _seriesLabel(
  q: ChartQuery,
  metric: Record<string, string>,
  n: number,
) {
  const labels = Object.entries(metric).filter(([k]) => k !== "__name__")
    .map(([k, v]) => `${k}=${v}`).join(", ");
  if (q.label === undefined) return labels || metric.__name__ || "value";
  return n > 1 && labels !== "" ? `${q.label} ${labels}` : q.label;
}

function _cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name)
    .trim();
  return v === "" ? fallback : v;
}

/** The aligned columns of a uPlot chart from range answers. */
export function toColumns(
  plan: RangePlan,
  answers: Array<{ q: ChartQuery; result: MatrixSeries[] }>,
  maxSeries = 24,
): { labels: string[]; data: uPlot.AlignedData } {
  const n = Math.floor((plan.end - plan.start) / plan.step) + 1;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = plan.start + i * plan.step;
  const labels: string[] = [];
  const cols: Array<Array<number | null>> = [];
  for (const { q, result } of answers) {
    for (const r of result) {
      if (cols.length >= maxSeries) break;
      const col = new Array<number | null>(n).fill(null);
      for (const [t, v] of r.values) {
        const i = Math.round((t - plan.start) / plan.step);
        const x = Number(v);
        if (i >= 0 && i < n && Number.isFinite(x)) col[i] = x;
      }
      labels.push(_seriesLabel(q, r.metric, result.length));
      cols.push(col);
    }
  }
  return { labels, data: [xs, ...cols] as uPlot.AlignedData };
}

/**
 * The width of a y axis: its ticks, its gap and its longest label as drawn
 * (a guess from the label's length cuts "4,000" or "12.5 ms" off).
 */
function _axisSize(
  u: uPlot,
  values: string[] | null,
  axisIdx: number,
  cycleNum: number,
): number {
  const axis = u.axes[axisIdx] as uPlot.Axis & {
    _size?: number;
    font?: unknown;
  };
  // uPlot asks again while the layout settles: keep the first answer.
  if (cycleNum > 1 && axis._size !== undefined) return axis._size;
  let longest = "";
  for (const v of values ?? []) if (v.length > longest.length) longest = v;
  const font = Array.isArray(axis.font)
    ? String(axis.font[0])
    : "12px sans-serif";
  u.ctx.font = font;
  const text = u.ctx.measureText(longest).width / devicePixelRatio;
  return Math.ceil((axis.ticks?.size ?? 10) + (axis.gap ?? 5) + text) + 2;
}

/** One chart box: title, uPlot, or a message in its place. */
export class Chart {
  /** The box (`data-testid="chart"`). */
  readonly el: HTMLDivElement;
  readonly #body: HTMLDivElement;
  readonly #msg: HTMLDivElement;
  #plot: uPlot | null = null;
  #labels = "";
  readonly spec: ChartSpec;

  constructor(spec: ChartSpec) {
    this.spec = spec;
    this.#msg = h("div", { class: "chart-msg" }, "loading…");
    this.#body = h("div", { class: "chart-body" });
    this.el = h(
      "div",
      { class: "chart", "data-testid": "chart" },
      h("div", { class: "chart-title" }, spec.title),
      spec.note === undefined
        ? null
        : h("div", { class: "chart-note" }, spec.note),
      this.#body,
      this.#msg,
    );
  }

  /** Width available to the plot. */
  width(): number {
    return Math.max(200, this.el.clientWidth - 2);
  }

  /** Shows a message instead of the plot. */
  message(text: string, isError = false): void {
    this.#drop();
    this.el.setAttribute("data-points", "0");
    setText(this.#msg, text);
    this.#msg.classList.toggle("error", isError);
    this.#msg.hidden = false;
  }

  /** Draws (or redraws) the columns. */
  draw(labels: string[], data: uPlot.AlignedData): void {
    if (labels.length === 0) {
      this.message("no data in this range");
      return;
    }
    this.#msg.hidden = true;
    // The points drawn, for tests and scripts (uPlot draws on a canvas).
    let points = 0;
    for (let i = 1; i < data.length; i++) {
      for (const v of data[i]) if (v !== null && v !== undefined) points++;
    }
    this.el.setAttribute("data-points", String(points));
    const key = labels.join("\u0000");
    if (this.#plot !== null && key === this.#labels) {
      this.#plot.setData(data);
      return;
    }
    this.#drop();
    this.#labels = key;
    const unit = this.spec.unit;
    const axis = _cssVar("--muted", "#888");
    const grid = _cssVar("--grid", "rgba(128,128,128,.15)");
    const fmt = (v: number | null) => v === null ? "–" : formatValue(unit, v);
    const opts: uPlot.Options = {
      width: this.width(),
      height: 170,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        y: {
          range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1],
        },
      },
      series: [
        {},
        ...labels.map((label, i) => ({
          label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          value: (_u: uPlot, v: number | null) => fmt(v),
        })),
      ],
      axes: [
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
        },
        {
          stroke: axis,
          size: _axisSize,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          values: (_u, vals) => vals.map((v) => formatValue(unit, v)),
        },
      ],
    };
    this.#plot = new uPlot(opts, data, this.#body);
  }

  /** Follows the box's width. */
  resize(): void {
    if (this.#plot !== null) {
      this.#plot.setSize({ width: this.width(), height: 170 });
    }
  }

  #drop(): void {
    if (this.#plot !== null) {
      this.#plot.destroy();
      this.#plot = null;
      this.#labels = "";
    }
  }

  /** Frees the plot. */
  destroy(): void {
    this.#drop();
    this.el.remove();
  }
}

/** The range selector: buttons, one pressed. */
export function rangeSelector(
  current: RangeChoice,
  onPick: (r: RangeChoice) => void,
  choices: readonly RangeChoice[] = RANGES,
): HTMLDivElement {
  const box = h("div", {
    class: "ranges",
    role: "group",
    "aria-label": "range",
  });
  for (const r of choices) {
    const b = h("button", {
      class: "range",
      "data-range": r.label,
      "aria-pressed": r === current ? "true" : "false",
      onclick: () => {
        for (const o of box.querySelectorAll("button")) {
          o.setAttribute("aria-pressed", o === b ? "true" : "false");
        }
        onPick(r);
      },
    }, r.label);
    box.append(b);
  }
  return box;
}

/** The message of a failed range query ("history is off" for a 404). */
export function queryFailure(e: unknown): string {
  if (e instanceof ApiError && e.status === 404) {
    return "history is off on this server";
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * A group of charts over one range: refreshes them (every 5 s for ranges
 * up to 6 h, every minute beyond), follows their width, and frees every
 * plot, timer and observer on {@linkcode ChartGroup.destroy}.
 */
export class ChartGroup {
  readonly el: HTMLDivElement;
  readonly #charts: Chart[];
  #range: RangeChoice;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort = new AbortController();
  #observer: ResizeObserver;
  #destroyed = false;
  #lastWidth = 0;
  /** Refreshes in a row that did not reach the server: each waits longer. */
  #failures = 0;

  constructor(specs: ChartSpec[], range: RangeChoice) {
    this.#range = range;
    this.#charts = specs.map((s) => new Chart(s));
    this.el = h("div", { class: "charts" }, ...this.#charts.map((c) => c.el));
    this.#observer = new ResizeObserver(() => {
      const w = this.el.clientWidth;
      if (w === this.#lastWidth) return;
      this.#lastWidth = w;
      for (const c of this.#charts) c.resize();
    });
    this.#observer.observe(this.el);
  }

  /** Changes the range and reloads. */
  setRange(r: RangeChoice): void {
    this.#range = r;
    this.refresh();
  }

  /** Reloads every chart now. */
  refresh(): void {
    if (this.#destroyed) return;
    clearTimeout(this.#timer);
    if (!this.el.isConnected) {
      // Widths are known once on the page: the step depends on them.
      this.#timer = setTimeout(() => this.refresh(), 16);
      return;
    }
    this.#abort.abort();
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    // A range not answered yet goes with one chart first: if a tier
    // refuses it, the others ask aligned at once (one refusal, not one
    // per chart).
    const [first, ...rest] = this.#charts;
    const firstAlone = _fitted.has(this.#range.seconds) || first === undefined
      ? Promise.resolve([])
      : this.#load(first, signal).then((ok) => [ok]);
    const others = _fitted.has(this.#range.seconds) ? this.#charts : rest;
    void firstAlone.then(async (a) =>
      a.concat(await Promise.all(others.map((c) => this.#load(c, signal))))
    )
      .then((reached) => {
        if (this.#destroyed || signal.aborted || history.off) return;
        // A server that is down is asked less and less often (at most
        // every 30 s, or the range's own minute), not every 5 s by every
        // chart.
        this.#failures = reached.includes(false) ? this.#failures + 1 : 0;
        const every = this.#range.seconds <= 6 * 3600 ? 5000 : 60_000;
        const wait = Math.min(
          every * 2 ** Math.min(this.#failures, 6),
          Math.max(every, 30_000),
        );
        this.#timer = setTimeout(() => this.refresh(), wait);
      });
  }

  /** Loads a chart; false when the server could not be reached. */
  async #load(c: Chart, signal: AbortSignal): Promise<boolean> {
    try {
      const { plan, answers } = await queryRanges(
        c.spec.queries,
        this.#range.seconds,
        c.width() - 70,
        signal,
      );
      if (signal.aborted) return true;
      const { labels, data } = toColumns(plan, answers);
      c.draw(labels, data);
      return true;
    } catch (e) {
      if (signal.aborted) return true;
      c.message(queryFailure(e), !(e instanceof ApiError && e.status === 404));
      return e instanceof ApiError;
    }
  }

  /** Stops refreshing and frees every plot. */
  destroy(): void {
    this.#destroyed = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    this.#observer.disconnect();
    for (const c of this.#charts) c.destroy();
    this.el.remove();
  }
}
