/**
 * Bodies serialized once and answered again (`src/server/_json_memo.ts`):
 * the comparison that decides, and the flow routes that use it, which
 * must show every change of a flow at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  _jsonBody,
  _JsonMemo,
  _sameData,
} from "../../src/server/_json_memo.ts";
import { GOOD, OTHER, setup } from "./_flow_api.ts";

test("_sameData() holds for the same data and fails for any difference JSON would show", () => {
  const graph = { processes: { A: { component: "core/Repeat" } } };
  const a = { id: "a", rev: 1, restart: { mode: "always" }, graph };
  assert.equal(
    _sameData(a, { id: "a", rev: 1, restart: { mode: "always" }, graph }),
    true,
  );
  assert.equal(_sameData([1, "x", null, true], [1, "x", null, true]), true);
  for (
    const other of [
      { id: "a", rev: 2, restart: { mode: "always" }, graph },
      { id: "a", rev: 1, restart: { mode: "never" }, graph },
      { id: "a", rev: 1, restart: { mode: "always" } },
      { rev: 1, id: "a", restart: { mode: "always" }, graph },
      { id: "a", rev: 1, restart: { mode: "always" }, graph, error: "x" },
      [a],
      null,
    ]
  ) assert.equal(_sameData(a, other), false, JSON.stringify(other));
  assert.equal(_sameData([1, 2], [1, 2, 3]), false);
  assert.equal(_sameData(1, "1"), false);
  // Not plain data: never taken as the same, so always serialized again.
  assert.equal(_sameData(new Date(0), new Date(1)), false);
  assert.equal(_sameData(NaN, NaN), false);
});

test("_JsonMemo answers the last body while the value is the same data, and a new one when it differs", () => {
  const memo = new _JsonMemo();
  const graph = { processes: {} };
  const first = memo.body({ state: "running", graph });
  assert.deepEqual(first, {
    text: '{"state":"running","graph":{"processes":{}}}',
    size: 44,
    kept: true,
  });
  assert.equal(memo.body({ state: "running", graph }), first);
  const second = memo.body({ state: "stopped", graph });
  assert.notEqual(second, first);
  assert.equal(second.text, '{"state":"stopped","graph":{"processes":{}}}');
});

test("_jsonBody() counts the body's size in UTF-8 bytes", () => {
  assert.deepEqual(_jsonBody({ a: "é€😀" }), {
    text: '{"a":"é€😀"}',
    size: 8 + 2 + 3 + 4,
    kept: false,
  });
});

test("GET /flows/:id and GET /flows show each change of a flow, read again and again", async () => {
  const s = setup();
  try {
    const put = await s.app.request("/flows/a", {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: GOOD,
    });
    assert.equal(put.status, 201);
    const read = async () => {
      const res = await s.app.request("/flows/a");
      assert.equal(res.status, 200);
      return { etag: res.headers.get("etag"), body: await res.json() };
    };
    const list = async () => await (await s.app.request("/flows")).json();
    const r1 = await read();
    assert.deepEqual(await read(), r1);
    assert.equal(r1.body.state, "running");
    assert.deepEqual(
      (await list()).flows.map((f: { state: string }) => f.state),
      ["running"],
    );
    // A state change keeps the graph and the rev's text: the body follows.
    const stop = await s.app.request("/flows/a/stop", { method: "POST" });
    assert.equal(stop.status, 200);
    const r2 = await read();
    assert.equal(r2.body.state, "stopped");
    assert.equal(r2.body.running, false);
    assert.deepEqual(
      (await list()).flows.map((f: { state: string }) => f.state),
      ["stopped"],
    );
    // A new graph: a new body, with its own rev.
    const replaced = await s.app.request("/flows/a", {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: OTHER,
    });
    assert.equal(replaced.status, 200);
    const r3 = await read();
    assert.equal(r3.body.source.text, OTHER);
    assert.notEqual(r3.etag, r2.etag);
    assert.deepEqual(await read(), r3);
    // Gone: 404, and the list is empty.
    assert.equal(
      (await s.app.request("/flows/a", { method: "DELETE" })).status,
      204,
    );
    assert.equal((await s.app.request("/flows/a")).status, 404);
    assert.deepEqual(await list(), { flows: [] });
  } finally {
    await s.close();
  }
});
