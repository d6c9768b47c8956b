/**
 * accessGuard: the Authorization header's forms, through the flow app.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fbp, GOOD, setup, TOKEN } from "./_flow_api.ts";

test("Authorization: scheme in any case works; two tokens in one header, a Basic header and an empty bearer are 401 and change nothing", async () => {
  const s = setup({
    access: {
      tokens: [
        { token: TOKEN, scopes: ["read", "write"] },
        { token: "r:" + "x".repeat(20), scopes: ["read"] },
      ],
    },
  });
  try {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const res = await s.app.request("/flows", {
        headers: { Authorization: `${scheme} ${TOKEN}` },
      });
      assert.equal(res.status, 200, scheme);
    }
    // A secret with a colon in it is compared whole.
    let res = await s.app.request("/flows", {
      headers: { Authorization: `Bearer r:${"x".repeat(20)}` },
    });
    assert.equal(res.status, 200);
    res = await s.app.request(
      "/flows",
      fbp(GOOD, "POST", {
        Authorization: `Bearer r:${"x".repeat(20)}`,
      }),
    );
    assert.equal(res.status, 403);
    for (
      const header of [
        `Bearer ${TOKEN}, Bearer ${TOKEN}`,
        `Bearer ${TOKEN} ${TOKEN}`,
        `Basic ${btoa(`u:${TOKEN}`)}`,
        "Bearer ",
        `Bearer ${TOKEN.slice(1)}`,
        `Bearer ${TOKEN}x`,
      ]
    ) {
      res = await s.app.request(
        "/flows",
        fbp(GOOD, "POST", { Authorization: header }),
      );
      assert.equal(res.status, 401, header);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    }
    assert.deepEqual(s.store.list(), []);
  } finally {
    await s.close();
  }
});

test("accessGuard with a list of scopes: a token with any of them passes; one with none is 403 naming them all, a wrong one 401", async () => {
  const { Hono } = await import("hono");
  const { accessGuard } = await import("../../src/server/access_guard.ts");
  const { Access } = await import("../../src/server/auth.ts");
  const { errorHandler } = await import("../../src/server/error_handler.ts");
  const token = (c: string) => c.repeat(20);
  const access = new Access({
    tokens: [
      { token: token("m"), scopes: ["metrics"] },
      { token: token("r"), scopes: ["read"] },
      { token: token("w"), scopes: ["write"] },
    ],
  });
  const app = new Hono()
    .use(accessGuard(access, ["metrics", "read"]))
    .get("/x", (c) => c.text("ok"))
    .onError(errorHandler(() => {}));
  const ask = (t?: string) =>
    app.request(
      "/x",
      t === undefined ? {} : {
        headers: { Authorization: `Bearer ${t}` },
      },
    );
  assert.equal((await ask(token("m"))).status, 200);
  assert.equal((await ask(token("r"))).status, 200);
  const refused = await ask(token("w"));
  assert.equal(refused.status, 403);
  assert.match(
    String((await refused.json()).error),
    /lacks the "metrics" or "read" scope/,
  );
  assert.equal((await ask(token("x"))).status, 401);
  assert.equal((await ask()).status, 401);
  assert.equal(access.attempts.lockedFor("an unknown address"), 0);
});
