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
