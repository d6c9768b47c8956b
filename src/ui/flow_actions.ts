/// <reference lib="dom" />
/**
 * Start, stop and delete buttons of a flow (shown only to a token that may
 * write), and the flow state badge.
 *
 * @module
 */
import { type Access, send } from "./api.ts";
import { h, setText } from "./dom.ts";

/** The buttons and how to refresh them. */
export interface ActionButtons {
  el: HTMLElement;
  /** Shows start or stop for the flow's `running`. */
  update(running: boolean): void;
}

/**
 * The buttons of flow `id`. Delete asks once more in place (a second click
 * within 4 s) rather than with a modal dialog.
 */
export function actionButtons(
  id: string,
  access: Access,
  hooks: { changed(): void; deleted(): void; failed(message: string): void },
): ActionButtons {
  const path = `/flows/${encodeURIComponent(id)}`;
  const run = async (b: HTMLButtonElement, fn: () => Promise<unknown>) => {
    b.disabled = true;
    try {
      await fn();
    } catch (e) {
      hooks.failed(e instanceof Error ? e.message : String(e));
    } finally {
      b.disabled = false;
    }
  };
  const start = h("button", {
    class: "btn small",
    "data-testid": "start",
    "data-flow": id,
  }, "Start");
  const stop = h("button", {
    class: "btn small",
    "data-testid": "stop",
    "data-flow": id,
  }, "Stop");
  const del = h("button", {
    class: "btn small danger",
    "data-testid": "delete",
    "data-flow": id,
  }, "Delete");
  let armed: ReturnType<typeof setTimeout> | undefined;
  start.addEventListener("click", (e) => {
    e.stopPropagation();
    void run(start, () => send("POST", `${path}/start`)).then(hooks.changed);
  });
  stop.addEventListener("click", (e) => {
    e.stopPropagation();
    void run(stop, () => send("POST", `${path}/stop`)).then(hooks.changed);
  });
  del.addEventListener("click", (e) => {
    e.stopPropagation();
    if (armed === undefined) {
      setText(del, "Confirm delete");
      del.classList.add("armed");
      armed = setTimeout(() => {
        armed = undefined;
        setText(del, "Delete");
        del.classList.remove("armed");
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = undefined;
    void run(del, async () => {
      await send("DELETE", path);
      hooks.deleted();
    });
  });
  const el = h("span", { class: "flow-actions" }, start, stop, del);
  el.hidden = !access.write;
  return {
    el,
    update(running: boolean) {
      start.hidden = running;
      stop.hidden = !running;
    },
  };
}

const GOOD = new Set(["running"]);
const BAD = new Set(["failed", "restarting"]);

/** A badge for a flow or network state. */
export function stateBadge(state: string): HTMLSpanElement {
  const b = h("span", { class: "badge", "data-testid": "flow-state" });
  setBadge(b, state);
  return b;
}

/** Updates a badge from {@linkcode stateBadge}. */
export function setBadge(b: HTMLElement, state: string): void {
  setText(b, state);
  b.dataset.state = state;
  b.className = `badge ${
    GOOD.has(state) ? "good" : BAD.has(state) ? "bad" : "neutral"
  }`;
}
