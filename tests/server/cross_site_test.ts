/**
 * A web page in the operator's browser cannot change flows: cross-site
 * requests and the media types a page sends without a preflight are refused
 * on every route that changes something, with or without tokens.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { body, fbp, GOOD, setup, TOKEN, views } from "./_flow_api.ts";

const BASE = "http://localhost:9464";
const AUTH = { Authorization: `Bearer ${TOKEN}` };

/** Every route that changes something, as a page would send it. */
function changes(headers: Record<string, string>): [string, RequestInit][] {
  const json = { "Content-Type": "application/json", ...headers };
  return [
    ["/flows", { method: "POST", headers: json, body: '{"processes":{}}' }],
    ["/flows/a", fbp(GOOD, "PUT", headers)],
    ["/flows/a", {
      method: "PATCH",
      headers: { "Content-Type": "application/merge-patch+json", ...headers },
      body: "{}",
    }],
    ["/flows/a", { method: "DELETE", headers }],
    ["/flows/a/start", { method: "POST", headers }],
    ["/flows/a/stop", { method: "POST", headers }],
  ];
}

for (const tokens of [false, true]) {
  const how = tokens ? "with a valid token" : "on an open loopback server";
  test(`a cross-site Origin is refused with 403 on every route that changes a flow, ${how}; nothing changes`, async () => {
    const s = setup(
      tokens
        ? { access: { tokens: [{ token: TOKEN, scopes: ["read", "write"] }] } }
        : {},
    );
    try {
      const put = await s.app.request(
        `${BASE}/flows/a?start=false`,
        fbp(GOOD, "PUT", tokens ? AUTH : {}),
      );
      assert.equal(put.status, 201);
      const before = views(s);
      for (
        const origin of [
          "https://evil.example",
          "http://localhost:3000",
          "http://127.0.0.1:9464",
          "null",
        ]
      ) {
        const headers = { Origin: origin, ...(tokens ? AUTH : {}) };
        for (const [path, init] of changes(headers)) {
          const res = await s.app.request(`${BASE}${path}`, init);
          const b = await body(res);
          assert.equal(
            res.status,
            403,
            `${init.method} ${path} from ${origin}`,
          );
          assert.match(
            b.error as string,
            /another origin.*a page cannot change flows/,
          );
        }
      }
      assert.deepEqual(views(s), before);
      assert.equal(s.flows.get("a").rev, 1);
    } finally {
      await s.close();
    }
  });
}

test("Sec-Fetch-Site cross-site or same-site without the server's Origin is refused with 403; same-origin and none pass", async () => {
  const s = setup();
  try {
    for (const site of ["cross-site", "same-site"]) {
      for (const [path, init] of changes({ "Sec-Fetch-Site": site })) {
        const res = await s.app.request(`${BASE}${path}`, init);
        const b = await body(res);
        assert.equal(res.status, 403, `${init.method} ${path} ${site}`);
        assert.match(b.error as string, new RegExp(`Sec-Fetch-Site: ${site}`));
      }
    }
    assert.deepEqual(s.flows.list(), []);
    for (const site of ["same-origin", "none"]) {
      const res = await s.app.request(
        `${BASE}/flows/${site}?start=false`,
        fbp(GOOD, "PUT", { "Sec-Fetch-Site": site }),
      );
      assert.equal(res.status, 201, site);
    }
  } finally {
    await s.close();
  }
});

test("the server's own origin and a client that sends no Origin (curl, weir) may change flows", async () => {
  const s = setup();
  try {
    const own = await s.app.request(
      `${BASE}/flows/a?start=false`,
      fbp(GOOD, "PUT", {
        Origin: "http://localhost:9464",
        "Sec-Fetch-Site": "same-origin",
      }),
    );
    assert.equal(own.status, 201);
    const plain = await s.app.request(
      `${BASE}/flows/b?start=false`,
      fbp(GOOD, "PUT"),
    );
    assert.equal(plain.status, 201);
    const start = await s.app.request(`${BASE}/flows/b/start`, {
      method: "POST",
      headers: { Origin: "HTTP://LOCALHOST:9464" },
    });
    assert.equal(start.status, 200);
  } finally {
    await s.close();
  }
});

test("a page-sendable media type (text/plain, a form) is refused with 415 naming what to send, with or without a token; nothing is created", async () => {
  const s = setup({
    access: { tokens: [{ token: TOKEN, scopes: ["read", "write"] }] },
  });
  try {
    for (
      const type of [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
      ]
    ) {
      for (const headers of [{}, AUTH]) {
        for (
          const [method, path] of [
            ["POST", "/flows"],
            ["PUT", "/flows/a"],
            ["PATCH", "/flows/a"],
            ["POST", "/flows/a/start"],
            ["POST", "/flows/a/stop"],
          ]
        ) {
          const res = await s.app.request(`${BASE}${path}`, {
            method,
            headers: { "Content-Type": type, ...headers },
            body: GOOD,
          });
          const b = await body(res);
          assert.equal(res.status, 415, `${method} ${path} ${type}`);
          assert.match(
            b.error as string,
            /a web page may send to any site without asking.*application\/json or text\/vnd\.fbp/,
          );
        }
      }
    }
    assert.deepEqual(s.flows.list(), []);
  } finally {
    await s.close();
  }
});

test("reading is not refused for a cross-site Origin (the browser keeps the answer from the page)", async () => {
  const s = setup();
  try {
    const res = await s.app.request(`${BASE}/flows`, {
      headers: {
        Origin: "https://evil.example",
        "Sec-Fetch-Site": "cross-site",
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  } finally {
    await s.close();
  }
});
