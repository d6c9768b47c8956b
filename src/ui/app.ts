/// <reference lib="dom" />
/**
 * The weir dashboard: a header, hash routes (`#/`, `#/flows/<id>`,
 * `#/resources`, `#/query`) and the token form. Each view owns its
 * streams, timers and charts and frees them in `destroy()` when the route
 * changes.
 *
 * Bundles uPlot (MIT, (c) Leon Sorokin) and @dagrejs/dagre and graphlib
 * (MIT, (c) Chris Pettitt and contributors); their notices lead app.js.
 *
 * @module
 */
import {
  type Access,
  ApiError,
  AUTH_EVENT,
  getJson,
  getToken,
  setToken,
} from "./api.ts";
import { history } from "./charts.ts";
import { metricNames } from "./metric_names.ts";
import { h, setText } from "./dom.ts";
import { FlowView } from "./flow_view.ts";
import { FlowsView } from "./flows_view.ts";
import { QueryView } from "./query_view.ts";
import { ResourcesView } from "./resources_view.ts";

interface View {
  el: HTMLElement;
  destroy(): void;
}

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const version = document.getElementById("version")!;
const session = document.getElementById("session")!;

let view: View | null = null;
let access: Access = { tokens: false, write: false };
let asking = false;

/**
 * Reads `/ui/access`: `true` when the page can go on, else what the token
 * form says ("" when the server only asks for a token).
 */
async function loadAccess(): Promise<true | string> {
  try {
    access = await getJson<Access>("/ui/access");
    if (access.history !== undefined) {
      history.off = !access.history;
      history.known = true;
    }
    if (access.namespace !== undefined) {
      metricNames.namespace = access.namespace;
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return "";
    // A token the server knows that may not read: the page could show
    // nothing with it, so another one is asked for, saying why.
    if (e instanceof ApiError && e.status === 403 && getToken() !== null) {
      return e.message;
    }
    // A server without /ui/access (or a refused one) shows no write buttons.
    access = { tokens: getToken() !== null, write: false };
  }
  session.replaceChildren();
  if (access.tokens && getToken() !== null) {
    session.append(
      h(
        "span",
        { class: "muted small" },
        access.write ? "token: read, write" : "token: read only",
      ),
      h("button", {
        class: "btn small ghost",
        "data-testid": "sign-out",
        onclick: () => {
          setToken(null);
          location.reload();
        },
      }, "Forget token"),
    );
  } else if (!access.write) {
    session.append(h("span", { class: "muted small" }, "read only"));
  }
  return true;
}

/** A hash part as text; a malformed escape ("%E0") is taken as it is. */
function _decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function route(): void {
  if (asking) return;
  view?.destroy();
  view = null;
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = hash.split("?", 2);
  const parts = path.split("/").filter((p) => p !== "");
  let name = "flows";
  if (parts[0] === "flows" && parts[1] !== undefined) {
    view = new FlowView(_decode(parts[1]), access);
  } else if (parts[0] === "resources") {
    name = "resources";
    view = new ResourcesView();
  } else if (parts[0] === "query") {
    name = "query";
    view = new QueryView(new URLSearchParams(qs ?? ""));
  } else {
    view = new FlowsView(access);
  }
  for (const a of nav.querySelectorAll("a")) {
    a.classList.toggle("active", a.dataset.route === name);
  }
  main.replaceChildren(view.el);
  document.title = name === "flows" && parts[1] !== undefined
    ? `${_decode(parts[1])} · weir`
    : `${name[0].toUpperCase()}${name.slice(1)} · weir`;
}

function askToken(message = ""): void {
  if (asking) return;
  asking = true;
  view?.destroy();
  view = null;
  const input = h("input", {
    type: "password",
    class: "token-input",
    "data-testid": "token-input",
    autocomplete: "off",
    placeholder: "bearer token",
    "aria-label": "token",
  });
  const error = h("p", {
    class: "query-error",
    "data-testid": "token-error",
    hidden: message === "",
  }, message);
  const form = h(
    "form",
    { class: "card token-form" },
    h("h1", {}, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "This server asks for a bearer token. It is kept in this tab only (sessionStorage).",
    ),
    input,
    h("button", {
      class: "btn primary",
      type: "submit",
      "data-testid": "token-submit",
    }, "Use token"),
    error,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (token === "") return;
    setToken(token);
    const loaded = await loadAccess();
    if (loaded === true) {
      asking = false;
      void loadVersion();
      route();
    } else {
      setToken(null);
      setText(error, loaded || "This token was refused.");
      error.hidden = false;
    }
  });
  main.replaceChildren(form);
  input.focus();
}

async function loadVersion(): Promise<void> {
  try {
    const v = await getJson<
      { version: string; runtime?: string; runtimeVersion?: string }
    >("/version");
    setText(
      version,
      `v${v.version}${
        v.runtime ? ` · ${v.runtime} ${v.runtimeVersion ?? ""}` : ""
      }`,
    );
  } catch {
    // The version is decoration.
  }
}

globalThis.addEventListener(AUTH_EVENT, () => {
  const had = getToken() !== null;
  setToken(null);
  askToken(had ? "The token was refused." : "");
});
globalThis.addEventListener("hashchange", route);

async function boot(): Promise<void> {
  const loaded = await loadAccess();
  if (loaded !== true) {
    if (loaded !== "") setToken(null);
    askToken(loaded);
    return;
  }
  void loadVersion();
  route();
}

void boot();
