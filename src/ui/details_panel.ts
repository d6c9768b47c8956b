/// <reference lib="dom" />
/**
 * The side panel of a flow: the picked process, connection or the flow
 * itself, its live numbers (built once per pick, texts updated per
 * snapshot) and its history charts.
 *
 * @module
 */
import {
  ChartGroup,
  type RangeChoice,
  RANGES,
  rangeSelector,
} from "./charts.ts";
import { fmtBytes, fmtCount, fmtRate, fmtSeconds, h, setText } from "./dom.ts";
import type { Selection } from "./graph_view.ts";
import { splitEnd } from "./graph_model.ts";
import { connectionSpecs, flowSpecs, processSpecs } from "./history_specs.ts";
import {
  breakerState,
  type ConnectionStats,
  connKey,
  type NetworkStats,
  type ProcessStats,
  quantile,
  type RateTracker,
  total,
} from "./stats.ts";

type Row = [label: string, value: () => string];

function _dropsText(d: Record<string, number> | undefined): string {
  if (d === undefined) return "–";
  const parts = Object.entries(d).filter(([, n]) => n > 0).map(([k, n]) =>
    `${fmtCount(n)} ${k.replace("_", " ")}`
  );
  return parts.length === 0 ? "none" : parts.join(", ");
}

/** What the panel asks of its flow view. */
export interface DetailsHost {
  flow: string;
  /** Opens the tap on a connection, or the output lines with `null`. */
  tap(conn: { from: string; to: string } | null): void;
}

let _range: RangeChoice = RANGES[0];

/** The side panel. */
export class DetailsPanel {
  readonly el: HTMLElement;
  #sel: Selection = { kind: "flow" };
  #stats: NetworkStats | null = null;
  #rates: RateTracker | null = null;
  #cells: Array<[HTMLElement, () => string]> = [];
  #charts: ChartGroup | null = null;
  /** Built before the first snapshot named the process's ports. */
  #partial = false;
  readonly #host: DetailsHost;
  readonly #live: HTMLElement;
  readonly #history: HTMLElement;

  constructor(host: DetailsHost) {
    this.#host = host;
    this.#live = h("div", { class: "live" });
    this.#history = h("div", { class: "history" });
    this.el = h(
      "aside",
      { class: "side", "data-testid": "details" },
      this.#live,
      this.#history,
    );
    this.show({ kind: "flow" });
  }

  /** The current pick. */
  get selection(): Selection {
    return this.#sel;
  }

  /** Shows a pick: its live numbers and charts. */
  show(sel: Selection): void {
    this.#sel = sel;
    this.#cells = [];
    this.#partial = false;
    this.#live.replaceChildren(...this.#build());
    this.#charts?.destroy();
    const flow = this.#host.flow;
    let specs;
    let note = "";
    if (sel.kind === "process") specs = processSpecs(flow, sel.name);
    else if (sel.kind === "connection") {
      // The series of an addressable port's index are the port's.
      const [proc, port] = splitEnd(sel.to);
      specs = connectionSpecs(flow, proc, port.replace(/\[\d+\]$/, ""));
      note = `A connection's history is its target port's series (${sel.to}).`;
    } else specs = flowSpecs(flow);
    this.#charts = new ChartGroup(specs, _range);
    this.#history.replaceChildren(
      h(
        "div",
        { class: "history-head" },
        h("h3", {}, "History"),
        rangeSelector(_range, (r) => {
          _range = r;
          this.#charts?.setRange(r);
        }),
      ),
      ...(note === "" ? [] : [h("p", { class: "note" }, note)]),
      this.#charts.el,
    );
    this.#charts.refresh();
    this.#refresh();
  }

  /** Takes a snapshot. */
  update(stats: NetworkStats, rates: RateTracker): void {
    this.#stats = stats;
    this.#rates = rates;
    if (this.#partial && this.#proc() !== undefined) {
      this.#cells = [];
      this.#live.replaceChildren(...this.#build());
    }
    this.#refresh();
  }

  #refresh(): void {
    for (const [el, get] of this.#cells) setText(el, get());
  }

  #proc(): ProcessStats | undefined {
    const sel = this.#sel;
    if (sel.kind !== "process") return undefined;
    return this.#stats?.processes.find((p) => p.name === sel.name);
  }

  #conn(): ConnectionStats | undefined {
    const sel = this.#sel;
    if (sel.kind !== "connection") return undefined;
    return this.#stats?.connections.find((c) =>
      c.from === sel.from && c.to === sel.to
    );
  }

  #table(rows: Row[]): HTMLElement {
    const dl = h("dl", { class: "kv" });
    for (const [label, get] of rows) {
      const dd = h("dd", {}, "–");
      this.#cells.push([dd, get]);
      dl.append(h("dt", {}, label), dd);
    }
    return dl;
  }

  #build(): Node[] {
    const sel = this.#sel;
    if (sel.kind === "process") return this.#buildProcess(sel.name);
    if (sel.kind === "connection") return this.#buildConn(sel.from, sel.to);
    return this.#buildFlow();
  }

  #buildFlow(): Node[] {
    const st = () => this.#stats;
    const lat = (q: number) => () => fmtSeconds(quantile(st()?.latency, q));
    return [
      h(
        "div",
        { class: "side-head" },
        h("span", { class: "kind" }, "flow"),
        h("h2", {}, this.#host.flow),
      ),
      this.#table([
        ["network", () => st()?.state ?? "–"],
        [
          "processes",
          () =>
            `${st()?.activeProcesses ?? "–"} active of ${
              st()?.processes.length ?? "–"
            }`,
        ],
        ["connections", () => `${st()?.activeConnections ?? "–"} open`],
        ["backlog", () => fmtCount(st()?.backlog ?? NaN)],
        ["buffered", () => fmtBytes(st()?.bufferedBytes ?? NaN)],
        ["partitions", () => String(st()?.partitions ?? "–")],
        ["latency p50", lat(0.5)],
        ["latency p99", lat(0.99)],
        ["drops", () => _dropsText(st()?.drops)],
      ]),
      h(
        "div",
        { class: "actions" },
        h("button", {
          class: "btn",
          "data-testid": "tap-output",
          onclick: () => this.#host.tap(null),
        }, "Show output lines"),
      ),
      h(
        "p",
        { class: "hint" },
        "Click a process or a connection for its numbers, history and tap.",
      ),
    ];
  }

  #buildProcess(name: string): Node[] {
    const p = () => this.#proc();
    const r = () => this.#rates?.processes.get(name);
    const ports = h("table", { class: "ports" });
    const head = h(
      "tr",
      {},
      h("th", {}, "port"),
      h("th", {}, "rate"),
      h("th", {}, "total"),
      h("th", {}, "queue"),
      h("th", {}, "wait p99"),
    );
    ports.append(h("thead", {}, head));
    const body = h("tbody");
    const proc = p();
    this.#partial = proc === undefined;
    const ins = Object.keys(proc?.messagesIn ?? {});
    const outs = Object.keys(proc?.messagesOut ?? {});
    for (const port of ins) {
      const cells = [0, 1, 2, 3].map(() => h("td", { class: "n" }, "–"));
      this.#cells.push(
        [cells[0], () => fmtRate(r()?.inByPort[port] ?? 0)],
        [cells[1], () => fmtCount(p()?.messagesIn[port] ?? NaN)],
        [cells[2], () => {
          const cap = p()?.queueCapacity[port];
          return cap === undefined
            ? ""
            : `${fmtCount(p()?.queueDepth[port] ?? 0)}/${fmtCount(cap)}`;
        }],
        [cells[3], () => {
          const w = p()?.queueWait[port];
          return w === undefined || w.count === 0
            ? ""
            : fmtSeconds(quantile(w, 0.99));
        }],
      );
      body.append(
        h(
          "tr",
          {},
          h("td", {}, h("span", { class: "dir" }, "in "), port),
          ...cells,
        ),
      );
    }
    for (const port of outs) {
      const cells = [0, 1].map(() => h("td", { class: "n" }, "–"));
      this.#cells.push(
        [cells[0], () => fmtRate(r()?.outByPort[port] ?? 0)],
        [cells[1], () => fmtCount(p()?.messagesOut[port] ?? NaN)],
      );
      body.append(
        h(
          "tr",
          {},
          h("td", {}, h("span", { class: "dir" }, "out "), port),
          ...cells,
          h("td"),
          h("td"),
        ),
      );
    }
    ports.append(body);
    const pq = (q: number) => () => fmtSeconds(quantile(r()?.processing, q));
    return [
      h(
        "div",
        { class: "side-head" },
        h("span", { class: "kind" }, "process"),
        h("h2", {}, name),
        h("span", { class: "comp" }, proc?.component ?? ""),
      ),
      this.#table([
        ["phase", () => p()?.phase ?? "–"],
        ["breaker", () => breakerState(p()?.breaker ?? null) ?? "none"],
        [
          "rate in / out",
          () => `${fmtRate(r()?.in ?? 0)} / ${fmtRate(r()?.out ?? 0)}`,
        ],
        [
          "activations",
          () =>
            `${fmtCount(p()?.activations ?? NaN)} (${
              p()?.activeActivations ?? 0
            } active)`,
        ],
        ["processing p50", pq(0.5)],
        ["processing p99", pq(0.99)],
        ["errors", () => {
          const e = p()?.errors;
          if (e === undefined) return "–";
          const n = total(e);
          return n === 0
            ? "none"
            : Object.entries(e).filter(([, v]) => v > 0).map(([k, v]) =>
              `${fmtCount(v)} ${k}`
            ).join(", ");
        }],
        ["last error", () => p()?.lastErrorAt ?? "never"],
        [
          "starts / failures",
          () => `${p()?.starts ?? "–"} / ${p()?.failures ?? "–"}`,
        ],
        ["drops", () => _dropsText(p()?.drops)],
      ]),
      ports,
    ];
  }

  #buildConn(from: string, to: string): Node[] {
    const c = () => this.#conn();
    const r = () => this.#rates?.connections.get(connKey(from, to));
    return [
      h(
        "div",
        { class: "side-head" },
        h("span", { class: "kind" }, "connection"),
        h("h2", {}, `${from} → ${to}`),
      ),
      this.#table([
        ["rate", () => fmtRate(r()?.delivered ?? 0)],
        ["delivered", () => fmtCount(c()?.delivered ?? NaN)],
        [
          "queue",
          () =>
            c() === undefined
              ? "–"
              : `${fmtCount(c()!.depth)} of ${fmtCount(c()!.capacity)}`,
        ],
        ["policy", () => c()?.policy ?? "–"],
        ["drops", () => _dropsText(c()?.drops)],
        [
          "state",
          () => c() === undefined ? "–" : c()!.closed ? "closed" : "open",
        ],
      ]),
      h(
        "div",
        { class: "actions" },
        h("button", {
          class: "btn primary",
          "data-testid": "tap",
          onclick: () => this.#host.tap({ from, to }),
        }, "Tap this connection"),
      ),
    ];
  }

  /** Frees the charts. */
  destroy(): void {
    this.#charts?.destroy();
    this.#charts = null;
    this.#cells = [];
    this.el.remove();
  }
}
