/// <reference lib="dom" />
/**
 * `#/`: every flow with its state, rev, uptime, and its message rate,
 * errors and drops over the last minute (from the metric history).
 *
 * @module
 */
import { type Access, ApiError, type FlowInfo, getJson } from "./api.ts";
import { history, queryApi } from "./charts.ts";
import { metricName } from "./metric_names.ts";
import {
  type ActionButtons,
  actionButtons,
  setBadge,
  stateBadge,
} from "./flow_actions.ts";
import { fmtCount, fmtDuration, fmtRate, h, setText } from "./dom.ts";

interface Row {
  tr: HTMLTableRowElement;
  badge: HTMLElement;
  why: HTMLElement;
  rev: HTMLElement;
  uptime: HTMLElement;
  rate: HTMLElement;
  errors: HTMLElement;
  drops: HTMLElement;
  procs: HTMLElement;
  actions: ActionButtons;
  info: FlowInfo;
}

type Vector = Array<
  { metric: Record<string, string>; value: [number, string] }
>;

async function _instant(
  query: string,
  signal: AbortSignal,
): Promise<Map<string, number>> {
  const r = await queryApi<{ data: { result: Vector } }>(
    `/api/v1/query?${new URLSearchParams({ query })}`,
    signal,
  );
  const m = new Map<string, number>();
  for (const s of r.data.result) m.set(s.metric.flow ?? "", Number(s.value[1]));
  return m;
}

/** The flows list. */
export class FlowsView {
  readonly el: HTMLElement;
  readonly #access: Access;
  readonly #body = h("tbody");
  readonly #empty: HTMLElement;
  /** Why the list could not be read (hidden once it is). */
  readonly #notice = h("div", { class: "notice", hidden: true });
  /** Why a start, stop or delete failed (hidden when one succeeds). */
  readonly #actionNote = h("div", {
    class: "notice bad",
    "data-testid": "action-error",
    hidden: true,
  });
  /** That the history is off (stays). */
  readonly #historyNote = h("div", { class: "notice", hidden: true });
  readonly #rows = new Map<string, Row>();
  readonly #abort = new AbortController();
  #ticks = 0;
  #timer: ReturnType<typeof setInterval>;
  #loading = false;
  /** The tick of the next list load: later after each failed one. */
  #nextLoad = 0;
  #failures = 0;
  #nextRates = 0;

  constructor(access: Access) {
    this.#access = access;
    this.#empty = h(
      "div",
      { class: "empty", hidden: true },
      h("p", {}, "No flows yet."),
      h(
        "p",
        { class: "hint" },
        "Add one with ",
        h(
          "code",
          {},
          "curl -XPOST -H 'content-type: text/vnd.fbp' --data-binary @flow.fbp …/flows",
        ),
        ".",
      ),
    );
    const cols = [
      "flow",
      "state",
      "rev",
      "uptime",
      "msg/s (1m)",
      "errors (1m)",
      "drops (1m)",
      "processes",
      "",
    ];
    this.el = h(
      "section",
      { class: "flows-view" },
      h("div", { class: "page-head" }, h("h1", {}, "Flows")),
      this.#historyNote,
      this.#notice,
      this.#actionNote,
      h(
        "div",
        { class: "card" },
        h(
          "table",
          { class: "flows", "data-testid": "flows" },
          h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", {}, c)))),
          this.#body,
        ),
        this.#empty,
      ),
    );
    void this.#load();
    this.#timer = setInterval(() => this.#tick(), 1000);
  }

  #tick(): void {
    this.#ticks++;
    for (const r of this.#rows.values()) this.#uptime(r);
    if (this.#ticks >= this.#nextLoad && !this.#loading) void this.#load();
  }

  async #load(): Promise<void> {
    const signal = this.#abort.signal;
    let flows: FlowInfo[];
    this.#loading = true;
    try {
      flows = (await getJson<{ flows: FlowInfo[] }>("/flows", signal)).flows;
      this.#failures = 0;
    } catch (e) {
      if (!signal.aborted) {
        this.#say(this.#notice, e instanceof Error ? e.message : String(e));
        this.#failures++;
      }
      return;
    } finally {
      this.#loading = false;
      // Every 3 s; after failures 6, 12, then every 15 s.
      this.#nextLoad = this.#ticks +
        Math.min(15, 3 * 2 ** Math.min(this.#failures, 3));
    }
    if (signal.aborted) return;
    this.#notice.hidden = true;
    const seen = new Set<string>();
    let prev: Element | null = null;
    for (const f of flows) {
      seen.add(f.id);
      let r = this.#rows.get(f.id);
      if (r === undefined) {
        r = this.#row(f);
        this.#rows.set(f.id, r);
      }
      // Moved only when out of place: a moved row loses the focus (of a
      // button being clicked, or a delete waiting for its confirmation).
      const want: ChildNode | null = prev === null
        ? this.#body.firstChild
        : prev.nextSibling;
      if (want !== r.tr) this.#body.insertBefore(r.tr, want);
      prev = r.tr;
      r.info = f;
      setBadge(r.badge, f.state);
      const why = f.error ?? f.reason ?? "";
      setText(r.why, why);
      r.why.title = why;
      r.why.hidden = why === "";
      setText(r.rev, String(f.rev));
      setText(r.procs, String(f.processes));
      r.actions.update(f.running, f.state);
      this.#uptime(r);
    }
    for (const [id, r] of this.#rows) {
      if (!seen.has(id)) {
        r.tr.remove();
        this.#rows.delete(id);
      }
    }
    this.#empty.hidden = flows.length > 0;
    if (this.#ticks >= this.#nextRates) {
      this.#nextRates = this.#ticks + 6;
      void this.#loadRates();
    }
  }

  async #loadRates(): Promise<void> {
    if (this.#rows.size === 0) return;
    if (history.off) return this.#historyIsOff();
    const signal = this.#abort.signal;
    try {
      // One query first: a server without history answers it 404 and the
      // others are not sent.
      const rate = await _instant(
        `sum by (flow) (rate(${
          metricName("process_messages_total")
        }{direction="in"}[1m]))`,
        signal,
      );
      const [errors, drops] = await Promise.all([
        _instant(
          `sum by (flow) (increase(${metricName("process_errors_total")}[1m]))`,
          signal,
        ),
        _instant(
          `sum by (flow) (increase(${
            metricName("messages_dropped_total")
          }[1m]))`,
          signal,
        ),
      ]);
      for (const [id, r] of this.#rows) {
        setText(r.rate, rate.has(id) ? fmtRate(rate.get(id)!) : "–");
        const e = Math.round(errors.get(id) ?? 0);
        const d = Math.round(drops.get(id) ?? 0);
        setText(r.errors, fmtCount(e));
        setText(r.drops, fmtCount(d));
        r.errors.classList.toggle("bad", e > 0);
        r.drops.classList.toggle("warn", d > 0);
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status === 404) this.#historyIsOff();
    }
  }

  #acted(): void {
    this.#actionNote.hidden = true;
    void this.#load();
  }

  #historyIsOff(): void {
    this.#say(
      this.#historyNote,
      "History is off on this server: the last minute's rates are not available.",
    );
  }

  #say(el: HTMLElement, text: string): void {
    setText(el, text);
    el.hidden = false;
  }

  #uptime(r: Row): void {
    const f = r.info;
    setText(
      r.uptime,
      f.state === "running" && f.startedAt !== undefined
        ? fmtDuration(Date.now() - Date.parse(f.startedAt))
        : "–",
    );
  }

  #row(f: FlowInfo): Row {
    const href = `#/flows/${encodeURIComponent(f.id)}`;
    const num = () => h("td", { class: "n" }, "–");
    const r = {
      badge: stateBadge(f.state),
      why: h("div", {
        class: "flow-why",
        "data-testid": "flow-error",
        hidden: true,
      }),
      rev: num(),
      uptime: num(),
      rate: num(),
      errors: num(),
      drops: num(),
      procs: num(),
      actions: actionButtons(f.id, this.#access, {
        changed: () => this.#acted(),
        deleted: () => this.#acted(),
        failed: (m) => this.#say(this.#actionNote, m),
      }),
      info: f,
    };
    const tr = h(
      "tr",
      { "data-testid": "flow-row", "data-flow": f.id, class: "clickable" },
      h("td", {}, h("a", { href, class: "flow-link" }, f.id)),
      h("td", {}, r.badge, r.why),
      r.rev,
      r.uptime,
      r.rate,
      r.errors,
      r.drops,
      r.procs,
      h("td", { class: "actions-cell" }, r.actions.el),
    );
    tr.addEventListener("click", (e) => {
      if ((e.target as Element).closest("a,button") === null) {
        location.hash = href;
      }
    });
    return { tr, ...r };
  }

  /** Stops refreshing. */
  destroy(): void {
    clearInterval(this.#timer);
    this.#abort.abort();
    this.el.remove();
  }
}
