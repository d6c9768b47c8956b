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
  /**
   * Shows stop for a flow that should run (`running`), and start for one
   * that does not, or that failed or finished (a start tries again).
   */
  update(running: boolean, state: string): void;
}

/**
 * The buttons of flow `id`. Delete asks once more in place (a second click
 * within 4 s) rather than with a modal dialog.
 */
export function actionButtons(
  id: string,
  access: Access,
  hooks: {
    /** A start or stop succeeded. */
    changed(): void;
    deleted(): void;
    failed(message: string): void;
  },
): ActionButtons {
  const path = `/flows/${encodeURIComponent(id)}`;
  /** Runs an action; false (and `hooks.failed` told) when it failed. */
  const run = async (
    b: HTMLButtonElement,
    fn: () => Promise<unknown>,
  ): Promise<boolean> => {
    b.disabled = true;
    try {
      await fn();
      return true;
    } catch (e) {
      hooks.failed(e instanceof Error ? e.message : String(e));
      return false;
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
    void run(start, () => send("POST", `${path}/start`)).then((ok) => {
      if (ok) hooks.changed();
    });
  });
  stop.addEventListener("click", (e) => {
    e.stopPropagation();
    void run(stop, () => send("POST", `${path}/stop`)).then((ok) => {
      if (ok) hooks.changed();
    });
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
  // Start and stop show once the flow's state is known (update()).
  start.hidden = true;
  stop.hidden = true;
  const el = h("span", { class: "flow-actions" }, start, stop, del);
  el.hidden = !access.write;
  return {
    el,
    update(running: boolean, state: string) {
      start.hidden = running && !ENDED.has(state);
      stop.hidden = !running;
    },
  };
}

/** States of a flow that should run but does not: a start tries again. */
const ENDED = new Set(["failed", "finished"]);

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
