/// <reference lib="dom" />
/**
 * `#/resources`: the server's CPU, memory, event-loop lag, open files and
 * HTTP traffic from the metric history.
 *
 * @module
 */
import {
  ChartGroup,
  type RangeChoice,
  RANGES,
  rangeSelector,
} from "./charts.ts";
import { h } from "./dom.ts";
import { resourceSpecs } from "./history_specs.ts";

let _range: RangeChoice = RANGES[2];

/** The resources page. */
export class ResourcesView {
  readonly el: HTMLElement;
  readonly #charts: ChartGroup;

  constructor() {
    this.#charts = new ChartGroup(resourceSpecs(), _range);
    this.el = h(
      "section",
      { class: "resources-view" },
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, "Resources"),
        h("span", { class: "grow" }),
        rangeSelector(_range, (r) => {
          _range = r;
          this.#charts.setRange(r);
        }),
      ),
      h("div", { class: "grid-charts" }, this.#charts.el),
    );
    this.#charts.refresh();
  }

  /** Frees the charts. */
  destroy(): void {
    this.#charts.destroy();
    this.el.remove();
  }
}
