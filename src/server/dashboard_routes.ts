/**
 * The dashboard: `GET /` and its assets under `/ui/`, all inside the
 * executable (`src/ui/assets.gen.ts`, built by `scripts/build_ui.ts`): no
 * CDN, no internet. The page holds no data, so it is served without a
 * token; it reads everything through the API, which asks for one (the page
 * then asks its user, and sends it as a bearer header, never in a URL).
 * `GET /ui/access` tells the page whether tokens are configured and whether
 * its token may change flows; a person who opens it in a browser is sent
 * to the page, and its refusals say what to do (enter a token in the page,
 * or, on an exposed server without one, start the server with a token).
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import { type Context, Hono } from "hono";
import { UI_ASSETS, UI_SOURCE_HASH } from "../ui/assets.gen.ts";
import type { Access } from "./auth.ts";
import { _guarded, type Guard } from "./_guard.ts";
import { _methodNotAllowed } from "./_method_not_allowed.ts";
import { _json } from "./_response.ts";
import { _header } from "./_request.ts";
import { HttpError } from "./http_error.ts";

/**
 * Headers of every dashboard file: the page loads only its own files,
 * is never framed, sends no referrer, and is revalidated by its ETag.
 */
const _HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

interface _Asset {
  type: string;
  raw: Uint8Array;
  gzip: Uint8Array | undefined;
  etag: string;
}

/**
 * The dashboard's routes: `/`, `/ui/app.js`, `/ui/app.css` (gzip when
 * the client takes it) and `/ui/access` (`{ tokens, write, history,
 * namespace }`, behind `options.guard`: give it the `read` scope's check;
 * the page builds its queries with the namespace).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Access } from "./auth.ts";
 * import { dashboardRoutes } from "./dashboard_routes.ts";
 *
 * const app = dashboardRoutes(new Access());
 * const page = await app.request("/");
 * assert.equal(page.status, 200);
 * assert.match(page.headers.get("Content-Type")!, /^text\/html/);
 * assert.match(await page.text(), /\/ui\/app\.js/);
 * const access = await app.request("/ui/access");
 * assert.deepEqual(await access.json(), {
 *   tokens: false,
 *   write: true,
 *   history: false,
 *   namespace: "weir",
 * });
 * ```
 */
export function dashboardRoutes(
  access: Access,
  options: {
    /** Run before `/ui/access` answers (the `read` scope's check). */
    guard?: Guard;
    /** Whether the server keeps a history (the query API answers). */
    history?: boolean;
    /** The prefix of the engine's metric names. Default `weir`. */
    namespace?: string;
  } = {},
): Hono {
  const app = new Hono();
  const assets = new Map<string, _Asset>();
  const encoder = new TextEncoder();
  const asset = (type: string, body: string, etag: string): _Asset => ({
    type,
    raw: encoder.encode(body),
    gzip: undefined,
    etag,
  });
  for (const [path, a] of Object.entries(UI_ASSETS)) {
    assets.set(
      path,
      asset(a.type, a.body, `"${UI_SOURCE_HASH.slice(0, 16)}-${path.length}"`),
    );
  }
  // The page names its files and the API by the path the routes are
  // mounted at: "" at the root, "/weir" for an app that mounts weir's
  // routes there. Made once a mount path (an app has one or two).
  const page = assets.get("/")!;
  const pages = new Map<string, _Asset>([["", page]]);
  const pageAt = (base: string): _Asset => {
    let p = pages.get(base);
    if (p === undefined) {
      const html = UI_ASSETS["/"].body
        .replace(
          '<meta name="weir-base" content="">',
          () => `<meta name="weir-base" content="${_attribute(base)}">`,
        )
        .replaceAll('="/ui/', () => `="${_attribute(base)}/ui/`);
      p = asset(page.type, html, `${page.etag.slice(0, -1)}-${_fnv(base)}"`);
      if (pages.size < 16) pages.set(base, p);
    }
    return p;
  };
  for (const [path, a] of assets) {
    app.get(
      path,
      (c) => _serveAsset(c, path === "/" ? pageAt(_mountedAt(c, "/")) : a),
    );
    _methodNotAllowed(app, path, "GET, HEAD");
  }
  const answer = _guarded(
    options.guard === undefined ? [] : [_explained(options.guard)],
    (c) => {
      const auth = _header(c, "authorization");
      return _json(c, {
        tokens: access.enabled,
        write: access.check(auth, "write").ok,
        history: options.history ?? false,
        namespace: options.namespace ?? "weir",
      });
    },
  );
  app.get("/ui/access", (c, next) => {
    // The page's own question: no token can make it answer on an exposed
    // server without tokens, so say what the operator must do.
    if (!access.enabled && access.exposed) {
      throw new HttpError(403, _NO_TOKEN_CONFIGURED);
    }
    // A person who opens it in a browser is sent to the page, which asks
    // for a token when one is needed; the page itself asks for JSON.
    if (_navigation(c)) {
      return c.redirect(_mountedAt(c, "/ui/access") || "/", 303);
    }
    return answer(c, next);
  });
  _methodNotAllowed(app, "/ui/access", "GET, HEAD");
  return app;
}

/** Answers `asset` (gzip when the client takes it, 304 to its ETag). */
function _serveAsset(c: Context, asset: _Asset): Response {
  const headers: Record<string, string> = {
    ..._HEADERS,
    "Content-Type": asset.type,
    ETag: asset.etag,
    Vary: "Accept-Encoding",
  };
  const gzip = _acceptsGzip(_header(c, "accept-encoding"));
  const etag = gzip ? `${asset.etag.slice(0, -1)}-gzip"` : asset.etag;
  headers.ETag = etag;
  const match = _header(c, "if-none-match");
  if (
    match !== undefined &&
    (match.trim() === "*" ||
      match.split(",").some((t) => t.trim().replace(/^W\//, "") === etag))
  ) {
    return c.body(null, 304, headers);
  }
  if (gzip) {
    // Made once, on first use: the server pays nothing for a page
    // nobody opens.
    asset.gzip ??= gzipSync(asset.raw, { level: 9 });
    headers["Content-Encoding"] = "gzip";
    // Set here: Hono answers a HEAD with no body, which the runtime
    // would announce as 0 bytes.
    headers["Content-Length"] = String(asset.gzip.byteLength);
    return c.body(asset.gzip.slice(), 200, headers);
  }
  headers["Content-Length"] = String(asset.raw.byteLength);
  return c.body(asset.raw.slice(), 200, headers);
}

/**
 * The path the routes are mounted at (`""` at the root, `/weir`), from a
 * request to the route `own` (`/`, `/ui/access`) of this app.
 */
function _mountedAt(c: Context, own: string): string {
  const path = c.req.path;
  const base = own === "/"
    ? path
    : path.endsWith(own)
    ? path.slice(0, -own.length)
    : "";
  return base === "/" ? "" : base.replace(/\/+$/, "");
}

/** `text` safe inside a double-quoted HTML attribute. */
function _attribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(
    /</g,
    "&lt;",
  );
}

/** A short hash of `text` (FNV-1a, hex), for an ETag. */
function _fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return (h >>> 0).toString(16);
}

/** The answer of `/ui/access` on an exposed server without tokens. */
const _NO_TOKEN_CONFIGURED =
  "this server listens beyond loopback and has no token configured, so the dashboard can show nothing: restart weir serve with a token (--token, WEIR_TOKEN or --token-file, e.g. WEIR_TOKEN=read,write:$(openssl rand -hex 32)), then open the dashboard at / and enter it when the page asks";

/**
 * The access check of `/ui/access`, whose 401 to a request without a token
 * says where a token goes: the page at `/` asks for it and sends it.
 */
function _explained(guard: Guard): Guard {
  return (c) => {
    try {
      guard(c);
    } catch (e) {
      if (
        e instanceof HttpError && e.status === 401 &&
        _header(c, "authorization") === undefined
      ) {
        throw new HttpError(
          401,
          'GET /ui/access tells the dashboard what its token may do, and this server asks for one: open the dashboard at / and enter a token with the "read" scope (the page sends it as "Authorization: Bearer <token>")',
          e.headers as Record<string, string>,
        );
      }
      throw e;
    }
  };
}

/** Whether a browser is opening the URL as a page (not a script's fetch). */
function _navigation(c: Context): boolean {
  if (_header(c, "sec-fetch-mode") === "navigate") return true;
  const accept = _header(c, "accept") ?? "";
  return /\btext\/html\b/i.test(accept) &&
    !/\bapplication\/json\b/i.test(accept);
}

/**
 * Whether an `Accept-Encoding` header takes gzip: named (or `*`) with a
 * weight above 0 (`gzip;q=0` refuses it).
 */
function _acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let star: boolean | undefined;
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (name.trim() === "gzip" || name.trim() === "x-gzip") return ok;
    if (name.trim() === "*") star = ok;
  }
  return star === true;
}
