/**
 * The dashboard's routes through the flow app: the page and its assets
 * (public, host-checked, locked down by headers, gzip and ETag), and
 * `/ui/access`, which tells the page what its token may do.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { UI_ASSETS } from "../../src/ui/assets.gen.ts";
import type { AccessOptions } from "../../src/server/auth.ts";
import { body, setup, TOKEN } from "./_flow_api.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";

const PAGES = [
  ["/", /^text\/html/],
  ["/ui/app.js", /^text\/javascript/],
  ["/ui/app.css", /^text\/css/],
] as const;

const WRITER = "w".repeat(24);
const METRICS_ONLY = "m".repeat(24);
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** What each dashboard file must say about itself. */
function assertLockedDown(res: Response, path: string): void {
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'self'/, path);
  assert.match(csp, /frame-ancestors 'none'/, path);
  assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, path);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
}

test("GET / is the HTML page that loads /ui/app.js and /ui/app.css", async () => {
  const s = setup();
  try {
    const res = await s.app.request("/");
    assert.equal(res.status, 200);
    assert.match(
      res.headers.get("content-type")!,
      /^text\/html; charset=utf-8/,
    );
    const html = await res.text();
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /<script[^>]+src="?\/ui\/app\.js"?/);
    assert.match(html, /<link[^>]+href="?\/ui\/app\.css"?/);
  } finally {
    await s.close();
  }
});

test("the dashboard's files answer with their type, CSP and nosniff, and the generated text", async () => {
  const s = setup();
  try {
    for (const [path, type] of PAGES) {
      const res = await s.app.request(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type")!, type, path);
      assertLockedDown(res, path);
      assert.equal(res.headers.get("content-encoding"), null, path);
      assert.match(res.headers.get("etag") ?? "", /^"[^"]+"$/, path);
      assert.equal(await res.text(), UI_ASSETS[path].body, path);
      // HEAD: the same headers, no body.
      const head = await s.app.request(path, { method: "HEAD" });
      assert.equal(head.status, 200, path);
      assert.match(head.headers.get("content-type")!, type, path);
      assert.equal(
        head.headers.get("content-length"),
        String(new TextEncoder().encode(UI_ASSETS[path].body).byteLength),
        path,
      );
      assert.equal(await head.text(), "", path);
    }
  } finally {
    await s.close();
  }
});

test("the dashboard's files are gzipped for a client that takes gzip, and only then", async () => {
  const s = setup();
  try {
    for (const [path, type] of PAGES) {
      const plain = await s.app.request(path);
      const identity = new Uint8Array(await plain.arrayBuffer());
      for (
        const accept of ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8"]
      ) {
        const res = await s.app.request(path, {
          headers: { "Accept-Encoding": accept },
        });
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get("content-encoding"), "gzip", path);
        assert.match(res.headers.get("vary") ?? "", /Accept-Encoding/i, path);
        assert.match(res.headers.get("content-type")!, type, path);
        assertLockedDown(res, path);
        const zipped = new Uint8Array(await res.arrayBuffer());
        assert.deepEqual(new Uint8Array(gunzipSync(zipped)), identity, path);
      }
      for (const accept of ["identity", "br", "deflate"]) {
        const res = await s.app.request(path, {
          headers: { "Accept-Encoding": accept },
        });
        assert.equal(res.headers.get("content-encoding"), null, accept);
        assert.deepEqual(new Uint8Array(await res.arrayBuffer()), identity);
      }
    }
  } finally {
    await s.close();
  }
});

test("a client that refuses gzip (gzip;q=0) gets the files as they are", async () => {
  const s = setup();
  try {
    for (const [path] of PAGES) {
      for (const accept of ["gzip;q=0", "br, gzip;q=0"]) {
        const res = await s.app.request(path, {
          headers: { "Accept-Encoding": accept },
        });
        assert.equal(res.headers.get("content-encoding"), null, accept);
        assert.equal(await res.text(), UI_ASSETS[path].body, accept);
      }
    }
  } finally {
    await s.close();
  }
});

test("a dashboard file asked again with its ETag is 304 without a body; with another it is 200", async () => {
  const s = setup();
  try {
    for (const [path] of PAGES) {
      // The gzipped file has an ETag of its own (it is other bytes).
      const plain = await s.app.request(path);
      const first = await s.app.request(path, {
        headers: { "Accept-Encoding": "gzip" },
      });
      const etag = first.headers.get("etag")!;
      assert.notEqual(plain.headers.get("etag"), etag);
      await plain.body?.cancel();
      await first.body?.cancel();
      for (
        const match of [etag, `"other", ${etag}`, `W/${etag}`]
      ) {
        const res = await s.app.request(path, {
          headers: { "If-None-Match": match, "Accept-Encoding": "gzip" },
        });
        assert.equal(res.status, 304, `${path} ${match}`);
        assert.equal(res.headers.get("etag"), etag);
        assert.equal(await res.text(), "");
      }
      const changed = await s.app.request(path, {
        headers: { "If-None-Match": '"not-this-one"' },
      });
      assert.equal(changed.status, 200, path);
      assert.equal(await changed.text(), UI_ASSETS[path].body);
    }
    // Each file has its own.
    const tags = await Promise.all(
      PAGES.map(async ([path]) => {
        const res = await s.app.request(path);
        await res.body?.cancel();
        return res.headers.get("etag");
      }),
    );
    assert.equal(new Set(tags).size, PAGES.length);
  } finally {
    await s.close();
  }
});

test("a foreign Host is refused on the dashboard as on every route (421)", async () => {
  const s = setup();
  try {
    for (const path of ["/", "/ui/app.js", "/ui/app.css", "/ui/access"]) {
      const res = await s.app.request(`http://evil.example:9464${path}`);
      assert.equal(res.status, 421, path);
      assert.match(
        (await body(res)).error as string,
        /answers only to localhost/,
      );
      const ok = await s.app.request(`http://localhost:9464${path}`);
      assert.equal(ok.status, 200, path);
      await ok.body?.cancel();
    }
  } finally {
    await s.close();
  }
});

test("GET /ui/access without tokens: no token needed, and the page may write", async () => {
  const s = setup();
  try {
    const res = await s.app.request("/ui/access");
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), {
      tokens: false,
      write: true,
      history: false,
      namespace: "weir",
    });
  } finally {
    await s.close();
  }
});

test("GET /ui/access names the server's metric namespace, which the page's queries use", async () => {
  const s = setup({ metrics: new MetricsCollector({ namespace: "edge" }) });
  try {
    const res = await s.app.request("/ui/access");
    assert.equal(res.status, 200);
    assert.equal((await body(res)).namespace, "edge");
  } finally {
    await s.close();
  }
});

test("GET /ui/access with tokens: 401 without one; a read token may not write, a write token may", async () => {
  const s = setup({
    access: {
      tokens: [
        { token: TOKEN, scopes: ["read"] },
        { token: WRITER, scopes: ["read", "write"] },
        { token: METRICS_ONLY, scopes: ["metrics"] },
      ],
    },
  });
  try {
    const without = await s.app.request("/ui/access");
    assert.equal(without.status, 401);
    assert.match(without.headers.get("www-authenticate") ?? "", /^Bearer/);
    await without.body?.cancel();
    const bad = await s.app.request("/ui/access", {
      headers: bearer("x".repeat(24)),
    });
    assert.equal(bad.status, 401);
    await bad.body?.cancel();
    const reader = await s.app.request("/ui/access", {
      headers: bearer(TOKEN),
    });
    assert.equal(reader.status, 200);
    assert.deepEqual(await body(reader), {
      tokens: true,
      write: false,
      history: false,
      namespace: "weir",
    });
    const writer = await s.app.request("/ui/access", {
      headers: bearer(WRITER),
    });
    assert.equal(writer.status, 200);
    assert.deepEqual(await body(writer), {
      tokens: true,
      write: true,
      history: false,
      namespace: "weir",
    });
    // Without the read scope it answers nothing.
    const metrics = await s.app.request("/ui/access", {
      headers: bearer(METRICS_ONLY),
    });
    assert.equal(metrics.status, 403);
    await metrics.body?.cancel();
  } finally {
    await s.close();
  }
});

test("the dashboard's page and files need no token, even when tokens are configured", async () => {
  const s = setup({
    access: { tokens: [{ token: TOKEN, scopes: ["read"] }] },
  });
  try {
    for (const [path, type] of PAGES) {
      const res = await s.app.request(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type")!, type);
      // The page holds nothing secret: no token is ever in it.
      assert.equal((await res.text()).includes(TOKEN), false);
    }
    // The API behind it still asks for one.
    assert.equal((await s.app.request("/flows")).status, 401);
  } finally {
    await s.close();
  }
});

test("an exposed server without tokens serves the page but refuses /ui/access as it refuses flows", async () => {
  const s = setup({ access: { exposed: true } });
  try {
    const page = await s.app.request("http://weir.example/");
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const access = await s.app.request("http://weir.example/ui/access");
    assert.equal(access.status, 403);
    // What to do, not only what is wrong: no token sent could help.
    assert.equal(
      (await body(access)).error,
      "this server listens beyond loopback and has no token configured, so the dashboard can show nothing: restart weir serve with a token (--token, WEIR_TOKEN or --token-file, e.g. WEIR_TOKEN=read,write:$(openssl rand -hex 32)), then open the dashboard at / and enter it when the page asks",
    );
    // Opened in a browser too: the page could not help.
    const opened = await s.app.request("http://weir.example/ui/access", {
      headers: { Accept: "text/html", "Sec-Fetch-Mode": "navigate" },
    });
    assert.equal(opened.status, 403);
    await opened.body?.cancel();
  } finally {
    await s.close();
  }
});

test("the dashboard's routes take GET and HEAD only: other methods are 405 with Allow", async () => {
  const s = setup();
  try {
    for (const path of ["/", "/ui/app.js", "/ui/app.css", "/ui/access"]) {
      for (const method of ["POST", "PUT", "DELETE"]) {
        const res = await s.app.request(path, { method, body: "x" });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.match(res.headers.get("allow") ?? "", /GET/, path);
        await res.body?.cancel();
      }
    }
    // An unknown file under /ui/ is a 404, not the page.
    const missing = await s.app.request("/ui/nope.js");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await s.close();
  }
});

test("GET /ui/access opened in a browser is sent to the dashboard, which asks for a token when one is needed", async () => {
  const reader: AccessOptions = {
    tokens: [{ token: TOKEN, scopes: ["read"] }],
  };
  for (const access of [undefined, reader]) {
    const s = setup(access === undefined ? {} : { access });
    try {
      const opened: Record<string, string>[] = [
        { "Sec-Fetch-Mode": "navigate" },
        { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
      ];
      for (const headers of opened) {
        const res = await s.app.request("/ui/access", { headers });
        assert.equal(res.status, 303, JSON.stringify(headers));
        assert.equal(res.headers.get("location"), "/");
      }
      // The page's own request (JSON) is answered as before.
      const fetched = await s.app.request("/ui/access", {
        headers: { Accept: "application/json" },
      });
      assert.equal(fetched.status, access === undefined ? 200 : 401);
      await fetched.body?.cancel();
    } finally {
      await s.close();
    }
  }
});

test("GET /ui/access without a token, where one is needed, says where a token goes", async () => {
  const s = setup({ access: { tokens: [{ token: TOKEN, scopes: ["read"] }] } });
  try {
    const res = await s.app.request("/ui/access");
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.match(
      (await body(res)).error as string,
      /open the dashboard at \/ and enter a token with the "read" scope/,
    );
    // A wrong token is told so, as on every route.
    const bad = await s.app.request("/ui/access", {
      headers: bearer("x".repeat(24)),
    });
    assert.equal((await body(bad)).error, "the token is not valid");
  } finally {
    await s.close();
  }
});

test("mounted under a path, the page loads its files and asks the API under that path; /ui/access sends a browser there", async () => {
  const { Hono } = await import("hono");
  const s = setup();
  try {
    const app = new Hono().route("/weir", s.app);
    const res = await app.request("/weir");
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<meta name="weir-base" content="\/weir">/);
    assert.match(html, /src="\/weir\/ui\/app\.js"/);
    assert.match(html, /href="\/weir\/ui\/app\.css"/);
    assert.doesNotMatch(html, /"\/ui\//);
    // Its own ETag: a page cached for the root is not taken for it.
    const root = await s.app.request("/");
    assert.notEqual(res.headers.get("etag"), root.headers.get("etag"));
    assert.match(await root.text(), /content="">[\s\S]*src="\/ui\/app\.js"/);
    for (const path of ["/weir/ui/app.js", "/weir/ui/app.css"]) {
      assert.equal((await app.request(path)).status, 200, path);
    }
    const nav = await app.request("/weir/ui/access", {
      headers: { "Sec-Fetch-Mode": "navigate" },
    });
    assert.equal(nav.status, 303);
    assert.equal(nav.headers.get("location"), "/weir");
    const atRoot = await s.app.request("/ui/access", {
      headers: { "Sec-Fetch-Mode": "navigate" },
    });
    assert.equal(atRoot.headers.get("location"), "/");
  } finally {
    await s.close();
  }
});
