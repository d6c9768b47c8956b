/// <reference lib="dom" />
/**
 * `#/query`: a PromQL box run against `/api/v1/query_range`, its answer
 * drawn one line per series; the query and range live in the hash, so a
 * view can be shared.
 *
 * @module
 */
import {
  Chart,
  queryFailure,
  queryRanges,
  type RangeChoice,
  RANGES,
  rangeSelector,
  toColumns,
} from "./charts.ts";
import { h, setText } from "./dom.ts";
import { metricName } from "./metric_names.ts";

/** Series drawn at most: more make a legend nobody reads and a slow chart. */
const MAX_SERIES = 50;

/** The query a new page shows: made when the page is, in the server's namespace. */
const example = () =>
  `sum by (flow, process) (rate(${
    metricName("process_messages_total")
  }{direction="in"}[1m]))`;

/** The query page; `params` is the hash's query string. */
export class QueryView {
  readonly el: HTMLElement;
  readonly #input: HTMLTextAreaElement;
  readonly #error: HTMLElement;
  readonly #info: HTMLElement;
  readonly #slot: HTMLElement;
  #chart: Chart | null = null;
  #range: RangeChoice;
  #abort = new AbortController();
  #destroyed = false;

  constructor(params: URLSearchParams) {
    this.#range = RANGES.find((r) => r.label === params.get("range")) ??
      RANGES[2];
    this.#input = h("textarea", {
      class: "query-input",
      "data-testid": "query-input",
      rows: 3,
      spellcheck: "false",
      placeholder: example(),
      "aria-label": "PromQL query",
    });
    this.#input.value = params.get("q") ?? example();
    this.#input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
    this.#error = h("div", {
      class: "query-error",
      "data-testid": "query-error",
      role: "alert",
      hidden: true,
    });
    this.#info = h("span", { class: "muted small" });
    this.#slot = h("div", { class: "card query-result" });
    this.el = h(
      "section",
      { class: "query-view" },
      h("div", { class: "page-head" }, h("h1", {}, "Query")),
      h(
        "div",
        { class: "card query-box" },
        this.#input,
        h(
          "div",
          { class: "query-bar" },
          h("button", {
            class: "btn primary",
            "data-testid": "query-run",
            onclick: () => this.run(),
          }, "Run"),
          h("span", { class: "muted small" }, "Ctrl+Enter"),
          h("span", { class: "grow" }),
          this.#info,
          rangeSelector(this.#range, (r) => {
            this.#range = r;
            this.run();
          }),
        ),
      ),
      this.#error,
      this.#slot,
    );
    if (params.has("q")) setTimeout(() => this.run(), 0);
  }

  /** Runs the query in the box. */
  run(): void {
    const query = this.#input.value.trim();
    if (query === "" || this.#destroyed) return;
    const hash = `#/query?${new URLSearchParams({
      q: query,
      range: this.#range.label,
    })}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    this.#abort.abort();
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    this.#chart?.destroy();
    this.#chart = new Chart({ title: query, unit: "plain", queries: [] });
    this.#slot.replaceChildren(this.#chart.el);
    setText(this.#info, "");
    const q = { expr: () => query };
    queryRanges([q], this.#range.seconds, this.#chart.width() - 70, signal)
      .then(({ plan, answers }) => {
        if (signal.aborted || this.#chart === null) return;
        this.#error.hidden = true;
        const { labels, data } = toColumns(plan, answers, MAX_SERIES);
        this.#chart.draw(labels, data);
        const n = answers[0].result.length;
        setText(
          this.#info,
          n > MAX_SERIES
            ? `step ${plan.step} s; first ${MAX_SERIES} of ${n} series`
            : `step ${plan.step} s`,
        );
      }).catch((e) => {
        if (signal.aborted || this.#chart === null) return;
        const text = queryFailure(e);
        setText(this.#error, text);
        this.#error.hidden = false;
        this.#chart.message(text, true);
      });
  }

  /** Frees the chart. */
  destroy(): void {
    this.#destroyed = true;
    this.#abort.abort();
    this.#chart?.destroy();
    this.el.remove();
  }
}
