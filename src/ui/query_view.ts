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
  planRange,
  queryFailure,
  queryRange,
  type RangeChoice,
  RANGES,
  rangeSelector,
  toColumns,
} from "./charts.ts";
import { h, setText } from "./dom.ts";

const EXAMPLE =
  'sum by (flow, process) (rate(weir_process_messages_total{direction="in"}[1m]))';

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

  constructor(params: URLSearchParams) {
    this.#range = RANGES.find((r) => r.label === params.get("range")) ??
      RANGES[2];
    this.#input = h("textarea", {
      class: "query-input",
      "data-testid": "query-input",
      rows: 3,
      spellcheck: "false",
      placeholder: EXAMPLE,
      "aria-label": "PromQL query",
    });
    this.#input.value = params.get("q") ?? EXAMPLE;
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
    if (query === "") return;
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
    const plan = planRange(
      this.#range.seconds,
      this.#chart.width() - 70,
      Date.now() / 1000,
    );
    setText(this.#info, `step ${plan.step} s`);
    queryRange(query, plan, signal).then((result) => {
      if (signal.aborted || this.#chart === null) return;
      this.#error.hidden = true;
      const q = { expr: () => query };
      const { labels, data } = toColumns(plan, [{ q, result }], 50);
      this.#chart.draw(labels, data);
      if (result.length > 50) {
        setText(
          this.#info,
          `step ${plan.step} s; first 50 of ${result.length} series`,
        );
      }
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
    this.#abort.abort();
    this.#chart?.destroy();
    this.el.remove();
  }
}
