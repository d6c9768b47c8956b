/**
 * PUT /flows/:id: an upsert that creates once, keeps whether a flow runs, and honours If-Match: *.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { body, fbp, GOOD, mergePatch, OTHER, setup } from "./_flow_api.ts";

test("PUT /flows/:id: concurrent PUTs of a new id create it once and replace it after, never a 409", async () => {
  const s = setup();
  try {
    const answers = await Promise.all(
      Array.from(
        { length: 5 },
        (_, i) => s.app.request("/flows/up", fbp(i % 2 ? GOOD : OTHER, "PUT")),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 201]);
    const revs = (await Promise.all(answers.map(body))).map((b) => b.rev);
    assert.deepEqual(revs.sort(), [1, 2, 3, 4, 5]);
    assert.equal(s.flows.get("up").rev, 5);
    assert.equal(s.store.get("up")?.rev, 5);
    assert.equal(s.flows.get("up").state, "running");
  } finally {
    await s.close();
  }
});

test("PUT /flows/:id?start=false creates the flow stopped; a replace keeps whether it runs", async () => {
  const s = setup();
  try {
    let res = await s.app.request("/flows/quiet?start=false", fbp(GOOD, "PUT"));
    assert.equal(res.status, 201);
    const created = await body(res);
    assert.equal(created.running, false);
    assert.equal(created.state, "created");
    assert.equal(s.store.get("quiet")?.running, false);
    res = await s.app.request("/flows/quiet", fbp(OTHER, "PUT"));
    assert.equal(res.status, 200);
    assert.equal((await body(res)).running, false);
    res = await s.app.request("/flows/quiet?start=maybe", fbp(OTHER, "PUT"));
    assert.equal(res.status, 400);
    assert.match(
      String((await body(res)).error),
      /start must be true or false/,
    );
    assert.equal(s.flows.get("quiet").rev, 2);
  } finally {
    await s.close();
  }
});

test("If-Match: * replaces only a flow that exists (RFC 9110): PUT of a missing id is 404 and creates nothing", async () => {
  const s = setup();
  try {
    let res = await s.app.request(
      "/flows/x",
      fbp(GOOD, "PUT", { "If-Match": "*" }),
    );
    assert.equal(res.status, 404);
    assert.match(String((await body(res)).error), /"x": it does not exist/);
    assert.deepEqual(s.store.list(), []);
    assert.deepEqual(s.flows.list(), []);

    await s.app.request("/flows/x", fbp(GOOD, "PUT"));
    res = await s.app.request(
      "/flows/x",
      fbp(OTHER, "PUT", { "If-Match": "*" }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("etag"), '"2"');
    res = await s.app.request(
      "/flows/x",
      mergePatch('{"properties":{"k":1}}', { "If-Match": "*" }),
    );
    assert.equal(res.status, 200);
    res = await s.app.request("/flows/x?rev=3", {
      method: "DELETE",
      headers: { "If-Match": "*" },
    });
    assert.equal(res.status, 400, "* and a rev disagree");
    res = await s.app.request("/flows/x", {
      method: "DELETE",
      headers: { "If-Match": "*" },
    });
    assert.equal(res.status, 204);
    assert.deepEqual(s.store.list(), []);
  } finally {
    await s.close();
  }
});

test('If-Match with a weak entity tag (W/"1") is 412 on PUT, PATCH and DELETE and changes nothing, even when its rev is the flow\'s (RFC 9110 13.1.1: If-Match compares strongly)', async () => {
  const s = setup();
  try {
    let res = await s.app.request("/flows/x", fbp(GOOD, "PUT"));
    assert.equal(res.status, 201);
    const tag = (await s.app.request("/flows/x")).headers.get("etag")!;
    for (const weak of ['W/"1"', ` W/${tag} `]) {
      for (
        const req of [
          fbp(OTHER, "PUT", { "If-Match": weak }),
          mergePatch('{"properties":{"k":1}}', { "If-Match": weak }),
          { method: "DELETE", headers: { "If-Match": weak } },
        ]
      ) {
        res = await s.app.request("/flows/x", req);
        const got = await body(res);
        assert.equal(res.status, 412, `${req.method} ${weak}`);
        assert.match(
          String(got.error),
          /^If-Match W\/"1[^ ]*" is a weak entity tag, which never matches/,
        );
      }
    }
    assert.equal(s.flows.get("x").rev, 1);
    assert.equal(s.store.get("x")?.rev, 1);
    // A weak tag of a flow that does not exist is 412 too, and creates none.
    res = await s.app.request(
      "/flows/y",
      fbp(GOOD, "PUT", { "If-Match": 'W/"1"' }),
    );
    assert.equal(res.status, 412);
    assert.equal(s.store.get("y"), undefined);
    // The strong tag of the same rev still matches.
    res = await s.app.request(
      "/flows/x",
      fbp(OTHER, "PUT", { "If-Match": '"1"' }),
    );
    assert.equal(res.status, 200);
    assert.equal((await body(res)).rev, 2);
  } finally {
    await s.close();
  }
});

test("If-Match with a list of tags matches when one of them names the flow's rev (RFC 9110): PUT, PATCH and DELETE; a list naming none is 409, weak tags in it never match", async () => {
  const s = setup();
  try {
    let res = await s.app.request("/flows/x", fbp(GOOD, "PUT"));
    const tag = (await s.app.request("/flows/x")).headers.get("etag")!;
    res = await s.app.request(
      "/flows/x",
      fbp(OTHER, "PUT", { "If-Match": `"7", ${tag}` }),
    );
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await body(res)).rev, 2);
    res = await s.app.request(
      "/flows/x",
      mergePatch('{"properties":{"k":1}}', { "If-Match": '"1", "2" , "9"' }),
    );
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await body(res)).rev, 3);
    // None of them is the flow's rev (3): stale, as one tag would be.
    res = await s.app.request("/flows/x", {
      method: "DELETE",
      headers: { "If-Match": '"1", "2"' },
    });
    assert.equal(res.status, 409);
    // W/"3" names the rev, but a weak tag never matches: "2" decides.
    res = await s.app.request("/flows/x", {
      method: "DELETE",
      headers: { "If-Match": 'W/"3", "2"' },
    });
    assert.equal(res.status, 409);
    res = await s.app.request("/flows/x", {
      method: "DELETE",
      headers: { "If-Match": 'W/"3", W/"2"' },
    });
    assert.equal(res.status, 412);
    assert.match(String((await body(res)).error), /weak entity tags alone/);
    res = await s.app.request("/flows/x", {
      method: "DELETE",
      headers: { "If-Match": '"2", banana' },
    });
    assert.equal(res.status, 400);
    assert.equal(s.store.get("x")?.rev, 3);
    res = await s.app.request("/flows/x?rev=3", {
      method: "DELETE",
      headers: { "If-Match": '"5", "3"' },
    });
    assert.equal(res.status, 204);
    assert.equal(s.store.get("x"), undefined);
  } finally {
    await s.close();
  }
});
