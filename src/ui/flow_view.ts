/// <reference lib="dom" />
/**
 * `#/flows/<id>`: one flow, drawn as its graph and kept live by ONE event
 * stream (`GET /flows/:id/events?interval=1000`), with the side panel of the
 * pick and the tap below.
 *
 * @module
 */
import {
  type Access,
  ApiError,
  components,
  type FlowDetail,
  getJson,
} from "./api.ts";
import { actionButtons, setBadge, stateBadge } from "./flow_actions.ts";
import { DetailsPanel } from "./details_panel.ts";
import { fmtClock, fmtDuration, h, setText } from "./dom.ts";
import { buildModel } from "./graph_model.ts";
import { GraphView, type Selection } from "./graph_view.ts";
import { openStream } from "./sse.ts";
import { type NetworkStats, RateTracker } from "./stats.ts";
import { TapPanel } from "./tap_view.ts";

/** Errors kept in the strip under the header, and warnings in theirs. */
const MAX_ERRORS = 5;

/**
 * What an `error` event reports: a failure, or a warning (a condition the
 * flow goes on through: a broker tried again, a deadlock while it waits),
 * or an info (news of such a condition: the broker reached again). An
 * event without a level (a server before levels) is a failure.
 */
type Level = "error" | "warning" | "info";

/** One strip of events (failures, or the rest): its list and what is still to draw. */
interface Strip {
  readonly list: HTMLUListElement;
  pending: Array<
    { at: number; level: Level; process: string; message: string }
  >;
}

/** The flow page. */
export class FlowView {
  readonly el: HTMLElement;
  readonly #id: string;
  readonly #abort = new AbortController();
  readonly #graph: GraphView;
  readonly #details: DetailsPanel;
  readonly #rates = new RateTracker();
  readonly #badge = stateBadge("…");
  readonly #meta = h("span", { class: "meta" });
  /** What the page says about its stream and actions. */
  readonly #notice = h("div", { class: "notice", hidden: true });
  /** Why the flow failed or was not started (its info), while it says so. */
  readonly #why = h("div", {
    class: "notice bad",
    "data-testid": "flow-error",
    hidden: true,
  });
  /**
   * Failures in the red strip, warnings apart in an amber one (with the
   * infos that say a warning's condition is over), each kept to its last
   * few: a flood of warnings never pushes a failure out.
   * Events not drawn yet are drawn at most a few times a second.
   */
  readonly #strips: Record<"error" | "warning", Strip> = {
    error: {
      list: h("ul", { class: "errors", hidden: true }),
      pending: [],
    },
    warning: {
      list: h("ul", {
        class: "warnings",
        "data-testid": "flow-warnings",
        hidden: true,
      }),
      pending: [],
    },
  };
  #errorsTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #tapSlot = h("div", { class: "tap-slot" });
  readonly #actions;
  #tap: TapPanel | null = null;
  #info: FlowDetail | null = null;
  #stats: NetworkStats | null = null;
  #needModel = true;
  #deleted = false;
  #timer: ReturnType<typeof setInterval>;

  constructor(id: string, access: Access) {
    this.#id = id;
    this.#graph = new GraphView((sel) => this.#select(sel));
    this.#details = new DetailsPanel({
      flow: id,
      tap: (c) => this.#openTap(c),
    });
    this.#actions = actionButtons(id, access, {
      changed: () => {
        this.#hideNotice();
        void this.#loadInfo();
      },
      deleted: () => {
        location.hash = "#/";
      },
      failed: (m) => this.#showNotice(m),
    });
    this.el = h(
      "section",
      { class: "flow-view", "data-testid": "flow-view", "data-flow": id },
      h(
        "div",
        { class: "flow-head" },
        h("a", { href: "#/", class: "back" }, "Flows"),
        h("span", { class: "crumb" }, "/"),
        h("h1", {}, id),
        this.#badge,
        this.#meta,
        h("span", { class: "grow" }),
        this.#actions.el,
      ),
      this.#why,
      this.#notice,
      this.#strips.error.list,
      this.#strips.warning.list,
      h(
        "div",
        { class: "flow-body" },
        h("div", { class: "graph-pane" }, this.#graph.el),
        this.#details.el,
      ),
      this.#tapSlot,
    );
    this.#timer = setInterval(() => this.#showMeta(), 1000);
    void this.#start();
  }

  async #start(): Promise<void> {
    await this.#loadInfo();
    if (this.#abort.signal.aborted) return;
    await this.#drawModel();
    void openStream(
      `/flows/${encodeURIComponent(this.#id)}/events?interval=1000`,
      this.#abort.signal,
      {
        onOpen: () => this.#hideNotice(),
        onError: (e, final) => {
          // Shown, then gone before the stream opened (or while it
          // reconnected): said as the stream's own "deleted" would say it.
          if (
            final && e instanceof ApiError && e.status === 404 &&
            this.#info !== null
          ) {
            return this.#event("deleted", {});
          }
          this.#showNotice(
            final
              ? e.message
              : `live updates interrupted (${e.message}); reconnecting…`,
          );
        },
        onEvent: (ev) => {
          let data: Record<string, unknown>;
          try {
            data = JSON.parse(ev.data);
          } catch {
            return;
          }
          this.#event(ev.event, data);
        },
      },
    );
  }

  #event(name: string, data: Record<string, unknown>): void {
    switch (name) {
      case "stats":
        this.#onStats(data as unknown as NetworkStats);
        break;
      case "state":
        setBadge(this.#badge, String(data.state));
        // A new network (a start, a restart, a reconnect after the server
        // restarted) counts from 0: no rate across it.
        this.#rates.reset();
        void this.#loadInfo();
        break;
      case "error":
        this.#addError(
          data.level === "warning" || data.level === "info"
            ? data.level
            : "error",
          data.process === undefined ? "" : String(data.process),
          String(data.message),
        );
        break;
      case "replaced":
        this.#rates.reset();
        // The last snapshot is of the old graph: draw the new one from its
        // info until the next snapshot comes.
        this.#stats = null;
        this.#needModel = true;
        void this.#loadInfo().then(() => this.#drawModel());
        break;
      case "deleted":
        this.#showNotice("This flow was deleted.");
        setBadge(this.#badge, "deleted");
        // Nothing is left to start, stop or delete, and no uptime to count.
        this.#deleted = true;
        this.#actions.el.hidden = true;
        this.#showMeta();
        this.#abort.abort();
        break;
    }
  }

  #onStats(stats: NetworkStats): void {
    const prev = this.#stats;
    this.#stats = stats;
    if ((stats.truncated === undefined) !== (prev?.truncated === undefined)) {
      this.#showMeta();
    }
    this.#rates.update(stats, performance.now());
    if (
      this.#needModel || prev === null ||
      prev.processes.length !== stats.processes.length ||
      prev.connections.length !== stats.connections.length
    ) {
      this.#needModel = false;
      void this.#drawModel();
    }
    this.#graph.update(stats, this.#rates);
    this.#details.update(stats, this.#rates);
  }

  async #drawModel(): Promise<void> {
    const catalogue = await components();
    if (this.#abort.signal.aborted) return;
    const before = this.#graph.signature;
    this.#graph.setModel(buildModel(this.#info?.graph, catalogue, this.#stats));
    if (this.#graph.signature !== before) {
      // A pick the new drawing lacks (gone with a replace) falls back to
      // the flow, rather than a panel of dashes.
      if (!this.#graph.select(this.#details.selection)) {
        this.#select({ kind: "flow" });
      }
      if (this.#stats !== null) this.#graph.update(this.#stats, this.#rates);
    }
  }

  async #loadInfo(): Promise<void> {
    try {
      this.#info = await getJson<FlowDetail>(
        `/flows/${encodeURIComponent(this.#id)}`,
        this.#abort.signal,
      );
      setBadge(this.#badge, this.#info.state);
      this.#actions.update(this.#info.running, this.#info.state);
      this.#showMeta();
      const why = this.#info.error ?? this.#info.reason;
      setText(this.#why, why ?? "");
      this.#why.hidden = why === undefined;
    } catch (e) {
      if (this.#abort.signal.aborted) return;
      // Shown, then gone: a deletion stops the flow first (a "state" event
      // that asks for the info) and its "deleted" event may come after this
      // answer.
      if (e instanceof ApiError && e.status === 404 && this.#info !== null) {
        return this.#event("deleted", {});
      }
      this.#showNotice(e instanceof Error ? e.message : String(e));
    }
  }

  #showMeta(): void {
    const i = this.#info;
    if (i === null) return;
    const parts = [`rev ${i.rev}`, `${i.processes} processes`];
    if (i.startedAt !== undefined && i.state === "running" && !this.#deleted) {
      parts.push(`up ${fmtDuration(Date.now() - Date.parse(i.startedAt))}`);
    }
    if (i.restarts > 0) parts.push(`${i.restarts} restarts`);
    const cut = this.#stats?.truncated;
    if (cut !== undefined) {
      // A large flow's snapshots are cut to size, the busy parts first.
      parts.push(
        `live numbers for ${cut.processesSent} of ${cut.processes} processes`,
      );
    }
    setText(this.#meta, parts.join(" · "));
  }

  #showNotice(text: string): void {
    setText(this.#notice, text);
    this.#notice.hidden = false;
  }

  #hideNotice(): void {
    this.#notice.hidden = true;
  }

  /**
   * Keeps an error event to draw in the strip of its level: a flow failing
   * on every message sends thousands a second, and only the last
   * {@linkcode MAX_ERRORS} of each level show.
   */
  #addError(level: Level, process: string, message: string): void {
    const pending =
      this.#strips[level === "error" ? "error" : "warning"].pending;
    pending.push({ at: Date.now(), level, process, message });
    if (pending.length > MAX_ERRORS) pending.shift();
    this.#errorsTimer ??= setTimeout(() => this.#drawErrors(), 250);
  }

  #drawErrors(): void {
    this.#errorsTimer = undefined;
    for (const strip of Object.values(this.#strips)) {
      const list = strip.list;
      for (const e of strip.pending) {
        list.prepend(
          h(
            "li",
            { "data-level": e.level },
            h("span", { class: "t" }, fmtClock(e.at)),
            // A warning (or an info) says so in words, not by its colour
            // alone.
            e.level === "error" ? null : h("span", {
              class: e.level === "warning" ? "badge warn" : "badge good",
            }, e.level),
            e.process === "" ? null : h("b", {}, e.process),
            ` ${e.message}`,
          ),
        );
      }
      strip.pending = [];
      while (list.childElementCount > MAX_ERRORS) {
        list.lastElementChild!.remove();
      }
      list.hidden = list.childElementCount === 0;
    }
  }

  #select(sel: Selection): void {
    this.#graph.select(sel);
    this.#details.show(sel);
    if (this.#stats !== null) this.#details.update(this.#stats, this.#rates);
  }

  #openTap(conn: { from: string; to: string } | null): void {
    this.#tap?.destroy();
    this.#tap = new TapPanel(this.#id, conn, () => {
      this.#tap?.destroy();
      this.#tap = null;
    });
    this.#tapSlot.append(this.#tap.el);
    this.#tap.el.scrollIntoView({ block: "nearest" });
  }

  /** Closes the streams, timers and charts. */
  destroy(): void {
    this.#abort.abort();
    clearInterval(this.#timer);
    clearTimeout(this.#errorsTimer);
    this.#tap?.destroy();
    this.#details.destroy();
    this.#graph.destroy();
    this.el.remove();
  }
}
