/// <reference lib="dom" />
/**
 * The tap: messages passing one connection and the flow's `core/Output`
 * lines, live from `GET /flows/:id/tap` (SSE). The list keeps the last
 * {@linkcode MAX_ROWS} rows, newest first.
 *
 * @module
 */
import { fmtClock, fmtCount, h, setText } from "./dom.ts";
import { openStream } from "./sse.ts";

/** Rows kept on the page; older ones leave the DOM. */
export const MAX_ROWS = 200;

interface TapMessage {
  at: number;
  from?: string;
  to?: string;
  value?: unknown;
  text?: string;
  truncated?: boolean;
}

interface TapOutput {
  at: number;
  flow: string;
  process: string;
  line: string;
}

function _value(m: TapMessage): string {
  if (m.truncated) return m.text ?? "";
  try {
    return JSON.stringify(m.value) ?? "undefined";
  } catch {
    return String(m.value);
  }
}

/** A tap panel on a connection, or (with `conn` null) on the output lines only. */
export class TapPanel {
  readonly el: HTMLElement;
  readonly #list: HTMLElement;
  readonly #skipped: HTMLElement;
  readonly #status: HTMLElement;
  readonly #abort = new AbortController();
  #skippedMessages = 0;
  #skippedLines = 0;
  #paused = false;
  #count = 0;

  constructor(
    flow: string,
    conn: { from: string; to: string } | null,
    onClose: () => void,
  ) {
    this.#list = h("div", {
      class: "tap-list",
      role: "log",
      "aria-live": "off",
    });
    this.#skipped = h("span", {
      class: "tap-skipped",
      "data-testid": "tap-skipped",
      hidden: true,
    });
    this.#status = h("span", { class: "tap-status" }, "connecting…");
    const pause = h("button", {
      class: "btn small",
      "data-testid": "tap-pause",
      onclick: () => {
        this.#paused = !this.#paused;
        setText(pause, this.#paused ? "Resume" : "Pause");
      },
    }, "Pause");
    const title = conn === null
      ? `Output lines of ${flow}`
      : `Tap ${conn.from} → ${conn.to} (and output lines)`;
    this.el = h(
      "section",
      { class: "tap", "data-testid": "tap-panel" },
      h(
        "div",
        { class: "tap-head" },
        h("h3", {}, title),
        this.#status,
        this.#skipped,
        h("span", { class: "grow" }),
        pause,
        h("button", {
          class: "btn small",
          onclick: () => {
            this.#list.replaceChildren();
            this.#count = 0;
          },
        }, "Clear"),
        h("button", {
          class: "btn small",
          "aria-label": "close tap",
          onclick: onClose,
        }, "Close"),
      ),
      this.#list,
    );
    // The server's default rate: at most 10 messages and lines a second.
    const p = new URLSearchParams();
    if (conn !== null) {
      p.set("from", conn.from);
      p.set("to", conn.to);
    }
    const qs = p.size === 0 ? "" : `?${p}`;
    void openStream(
      `/flows/${encodeURIComponent(flow)}/tap${qs}`,
      this.#abort.signal,
      {
        onOpen: () => this.#setStatus("live", false),
        onError: (e, final) =>
          this.#setStatus(
            final ? e.message : `${e.message}; reconnecting…`,
            true,
          ),
        onEvent: (ev) => {
          let data: Record<string, unknown>;
          try {
            data = JSON.parse(ev.data);
          } catch {
            return;
          }
          switch (ev.event) {
            case "message":
              this.#message(data as unknown as TapMessage);
              break;
            case "output":
              this.#output(data as unknown as TapOutput);
              break;
            case "skipped":
              this.#skippedMessages += Number(data.messages ?? 0);
              this.#skippedLines += Number(data.lines ?? 0);
              this.#showSkipped();
              break;
            case "error":
              // The flow's own errors come too, naming their process: the
              // flow page lists those; this one is the tap's (its
              // connection is gone after a replace).
              if (data.process === undefined) {
                this.#setStatus(String(data.message ?? "tap error"), true);
              }
              break;
            case "deleted":
              this.#setStatus("the flow was deleted", true);
              this.#abort.abort();
              break;
            case "tap":
              this.#setStatus("live", false);
              break;
          }
        },
      },
    );
  }

  #setStatus(text: string, bad: boolean): void {
    setText(this.#status, text);
    this.#status.classList.toggle("bad", bad);
  }

  #showSkipped(): void {
    const parts: string[] = [];
    if (this.#skippedMessages > 0) {
      parts.push(`${fmtCount(this.#skippedMessages)} messages skipped`);
    }
    if (this.#skippedLines > 0) {
      parts.push(`${fmtCount(this.#skippedLines)} lines skipped`);
    }
    setText(this.#skipped, parts.join(", "));
    this.#skipped.hidden = parts.length === 0;
  }

  #add(
    at: number,
    kind: string,
    where: string,
    text: string,
    cls: string,
  ): void {
    // Paused: rows passing meanwhile are not shown (the list stays still).
    if (this.#paused) return;
    const row = h(
      "div",
      { class: `tap-row ${cls}`, "data-testid": "tap-row", "data-kind": kind },
      h("span", { class: "t" }, fmtClock(at)),
      h("span", { class: "k" }, kind),
      h("span", { class: "w" }, where),
      h("code", {
        class: "v",
        title: text.length > 200 ? text.slice(0, 2000) : "",
      }, text),
    );
    this.#list.prepend(row);
    this.#count++;
    while (this.#count > MAX_ROWS && this.#list.lastChild !== null) {
      this.#list.lastChild.remove();
      this.#count--;
    }
  }

  #message(m: TapMessage): void {
    const text = _value(m);
    this.#add(
      m.at,
      "msg",
      `${m.from ?? "?"} → ${m.to ?? "?"}`,
      m.truncated ? `${text} … (truncated)` : text,
      m.truncated ? "truncated" : "",
    );
  }

  #output(o: TapOutput): void {
    this.#add(o.at, "out", `${o.flow}/${o.process}`, o.line, "output");
  }

  /** Closes the stream and removes the panel. */
  destroy(): void {
    this.#abort.abort();
    this.el.remove();
  }
}
