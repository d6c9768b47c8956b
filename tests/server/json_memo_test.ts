/**
 * Bodies serialized once and answered again (`src/server/_json_memo.ts`),
 * and the flow routes that keep them under the flow manager's keys, which
 * must show every change of a flow at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defineComponent } from "../../src/engine/component.ts";
import { builtins } from "../../src/components/mod.ts";
import { _jsonBody } from "../../src/server/_json_memo.ts";
import { GOOD, OTHER, setup } from "./_flow_api.ts";

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

test("GET /flows/:id and GET /flows answer what the manager reports now, read every millisecond while a flow fails, restarts and runs", async () => {
  let attempts = 0;
  const flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails to start three times.",
    inPorts: { in: {} },
    setup() {
      if (attempts++ < 3) throw new Error(`not yet (attempt ${attempts})`);
    },
    process() {},
  });
  const s = setup({ components: builtins().register(flaky) });
  try {
    s.store.create({
      id: "modem",
      text: "# @restart on-failure\n# @restartDelayMs 5\n" +
        "'1s' -> interval T(core/Interval) out -> in M(test/Flaky)",
      format: "fbp",
      running: true,
    });
    await s.flows.restore();
    const states = new Set<string>();
    const compare = async () => {
      // What the routes answer against a body made afresh, in one turn
      // of the event loop (nothing changes between the two).
      const read = s.app.request("/flows/modem");
      const info = s.flows.get("modem");
      const source = s.flows.source("modem");
      const list = s.app.request("/flows");
      const all = s.flows.list();
      assert.deepEqual(
        await (await read).json(),
        JSON.parse(JSON.stringify({
          ...info,
          source: { format: source.format, text: source.text },
          graph: source.graph,
        })),
      );
      assert.deepEqual(
        await (await list).json(),
        JSON.parse(JSON.stringify({ flows: all })),
      );
      states.add(`${info.state} ${info.restarts}`);
      return info;
    };
    while ((await compare()).state !== "running") {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal((await compare()).restarts, 3);
    // It was seen restarting, not only running.
    assert.ok(states.has("restarting 0"), [...states].join(", "));
  } finally {
    await s.close();
  }
});
