/**
 * HEAD answers like GET without a body; other methods get 405 with Allow.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { body, fbp, GOOD, setup, TOKEN } from "./_flow_api.ts";
import { MemoryHistory } from "./_memory_history.ts";

test("every route answers HEAD like its GET without a body (but /api/v1/metadata, 405 as in Prometheus), and other methods with 405 and Allow", async () => {
  const s = setup({
    access: {
      tokens: [{ token: TOKEN, scopes: ["read", "write", "metrics"] }],
    },
  });
  const auth = { Authorization: `Bearer ${TOKEN}` };
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT", auth));
    for (
      const path of [
        "/flows",
        "/flows/a",
        "/flows/a/stats",
        "/flows/a/events",
        "/components",
        "/healthz",
        "/readyz",
        "/version",
        "/metrics",
      ]
    ) {
      const res = await s.app.request(path, { method: "HEAD", headers: auth });
      assert.equal(res.status, 200, `HEAD ${path}`);
      assert.equal(await res.text(), "", `HEAD ${path} has no body`);
    }
    assert.equal(s.subscriptions(), 0, "a HEAD of the events opens no stream");
    // A Content-Length a HEAD answers is the GET's (RFC 9110 8.6): a body
    // left out is no body of 0 bytes. (Stats and metrics move between two
    // requests; the events stream has no length.)
    for (
      const path of [
        "/flows",
        "/flows/a",
        "/components",
        "/healthz",
        "/readyz",
        "/version",
      ]
    ) {
      const get = await s.app.request(path, { headers: auth });
      const bytes = (await get.arrayBuffer()).byteLength;
      const head = await s.app.request(path, { method: "HEAD", headers: auth });
      assert.equal(head.headers.get("content-length"), String(bytes), path);
    }
    for (
      const [path, methods, allow] of [
        ["/flows", ["PUT", "DELETE", "PATCH"], /GET.*POST/],
        ["/flows/a", ["POST", "OPTIONS"], /PUT.*PATCH.*DELETE/],
        ["/flows/a/start", ["GET", "PUT", "DELETE"], /^POST$/],
        ["/flows/a/stop", ["GET"], /^POST$/],
        ["/flows/a/stats", ["POST", "DELETE"], /GET/],
        ["/flows/a/events", ["POST"], /GET/],
        ["/components", ["POST"], /GET/],
        ["/healthz", ["POST"], /GET/],
        ["/readyz", ["DELETE"], /GET/],
        ["/version", ["PUT"], /GET/],
        ["/metrics", ["POST"], /GET/],
        ["/api/v1/metadata", ["HEAD", "POST"], /^GET$/],
      ] as [string, string[], RegExp][]
    ) {
      for (const method of methods) {
        const res = await s.app.request(path, { method, headers: auth });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.match(
          res.headers.get("allow") ?? "",
          allow,
          `${method} ${path}`,
        );
        // A HEAD's 405 has no body to say it in.
        if (method !== "HEAD") {
          assert.match(String((await body(res)).error), /not allowed/);
        }
      }
    }
    assert.equal(s.flows.get("a").rev, 1);
  } finally {
    await s.close();
  }
});

test("a 405 reads the same on every route group, the metrics app's and the query API's included: the sentence, Allow, JSON never cached, and on a HEAD the Content-Length of the body it leaves out", async () => {
  const s = setup({ history: new MemoryHistory() });
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    for (
      const [method, path] of [
        ["DELETE", "/healthz"],
        ["DELETE", "/flows/a/start"],
        ["HEAD", "/flows/a/start"],
        ["DELETE", "/metrics"],
        ["DELETE", "/api/v1/metadata"],
        ["HEAD", "/api/v1/metadata"],
        ["DELETE", "/api/v1/query"],
        ["HEAD", "/api/v1/query"],
        ["OPTIONS", "/api/v1/query"],
        ["OPTIONS", "/metrics"],
      ]
    ) {
      const at = `${method} ${path}`;
      const res = await s.app.request(path, { method });
      const allow = res.headers.get("allow");
      const error = `method ${method} is not allowed on ${path}: use ${allow}`;
      const text = JSON.stringify({ error });
      assert.deepEqual(
        [
          res.status,
          res.headers.get("content-type"),
          res.headers.get("cache-control"),
          await res.text(),
        ],
        [405, "application/json", "no-store", method === "HEAD" ? "" : text],
        at,
      );
      assert.match(allow ?? "", /^[A-Z]+(, [A-Z]+)*$/, at);
      if (method === "HEAD") {
        assert.equal(
          res.headers.get("content-length"),
          String(new TextEncoder().encode(text).byteLength),
          at,
        );
      }
    }
  } finally {
    await s.close();
  }
});
