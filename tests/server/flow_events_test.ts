/**
 * GET /flows/:id/events: streams that follow the flow, and clients that leave, stall or see a failed replace.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/runtime/serve.ts";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import { until } from "../engine/_helpers.ts";
import { fbp, GOOD, openSocket, OTHER, receive, setup } from "./_flow_api.ts";

test(
  "event streams: clients that abort, reset or half-close leave no subscription and no timer behind",
  {
    timeout: 60_000,
  },
  async () => {
    const s = setup({ eventsIntervalMs: 100 });
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    const server = await serve(s.app.fetch);
    try {
      for (let round = 0; round < 3; round++) {
        const aborts: AbortController[] = [];
        const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
        for (let i = 0; i < 10; i++) {
          const abort = new AbortController();
          aborts.push(abort);
          const res = await fetch(`${server.url}/flows/a/events`, {
            signal: abort.signal,
          });
          assert.equal(res.status, 200);
          const reader = res.body!.getReader();
          readers.push(reader);
          await reader.read();
        }
        assert.equal(s.subscriptions(), 10);
        // A client leaving as a browser's does: its body cancelled and its
        // request aborted. Deno's fetch() closes the connection of a body
        // that is only aborted when the response is garbage-collected
        // (10-30 s later under deno test; at once after a gc()): the
        // "first round released only ~10 s later" seen before was that
        // client's socket still open, not the server's.
        for (const r of readers) await r.cancel();
        for (const a of aborts) a.abort();
        await until(() => s.subscriptions() === 0, 10_000);
      }
      for (const mode of ["destroy", "end"]) {
        const socket = await openSocket(server.port);
        const got = receive(socket, (t) => t.includes("event: stats"));
        socket.write("GET /flows/a/events HTTP/1.1\r\nHost: localhost\r\n\r\n");
        await got;
        assert.equal(s.subscriptions(), 1);
        if (mode === "destroy") socket.destroy();
        else socket.end();
        await until(() => s.subscriptions() === 0, 10_000);
        socket.destroy();
      }
      // No timer either: the stats calls stop.
      const calls = s.statsCalls.get("a") ?? 0;
      const probe = await fetch(`${server.url}/flows/a/stats`);
      await probe.body?.cancel();
      assert.equal(s.statsCalls.get("a"), calls + 1);
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test(
  "event streams: a client that stops reading gets snapshots skipped, not queued without bound",
  {
    timeout: 120_000,
  },
  async () => {
    const s = setup();
    // A flow whose snapshot is megabytes, so that the socket's buffers fill
    // within a few.
    let big = "'1' -> in P0(core/Repeat)\n";
    for (let i = 1; i < 3000; i++) {
      big += `P${i - 1} out -> in P${i}(core/Repeat)\n`;
    }
    assert.equal(
      (await s.app.request("/flows/big?start=false", fbp(big, "PUT"))).status,
      201,
    );
    await s.app.request("/flows/small", fbp(GOOD, "PUT"));
    const server = await serve(s.app.fetch);
    const stalled = await openSocket(server.port);
    try {
      stalled.write(
        "GET /flows/big/events?interval=100 HTTP/1.1\r\nHost: localhost\r\n\r\n",
      );
      stalled.pause();
      // A reader on another flow, at the same interval, counts the ticks.
      const res = await fetch(`${server.url}/flows/small/events?interval=100`);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = 0;
      while (seen < 40) {
        const { value } = await reader.read();
        seen += value?.match(/event: stats/g)?.length ?? 0;
      }
      await reader.cancel();
      await until(() => s.subscriptions() === 1, 10_000);
      // Without back pressure the stalled stream takes a snapshot every tick.
      const big = s.statsCalls.get("big") ?? 0;
      assert.ok(
        big < 20,
        `${big} snapshots taken for a client that reads nothing`,
      );
    } finally {
      stalled.destroy();
      await until(() => s.subscriptions() === 0, 10_000);
      await server.close();
      await s.close();
    }
  },
);

test(
  "event streams follow a replace and end on delete; a new stream of a deleted id is 404",
  {
    timeout: 30_000,
  },
  async () => {
    const s = setup();
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    const server = await serve(s.app.fetch);
    try {
      const res = await fetch(`${server.url}/flows/a/events?interval=60000`);
      const text = res.body!.pipeThrough(new TextDecoderStream());
      let all = "";
      const read = (async () => {
        for await (const chunk of text) all += chunk;
      })();
      await until(() => all.includes("event: state"), 10_000);
      assert.equal(
        (await s.app.request("/flows/a", fbp(OTHER, "PUT"))).status,
        200,
      );
      await until(() => all.includes("event: replaced"), 10_000);
      assert.match(all, /event: replaced\ndata: \{"rev":2\}/);
      assert.equal(
        (await s.app.request("/flows/a", { method: "DELETE" })).status,
        204,
      );
      await read; // the stream ends by itself
      assert.match(all, /event: deleted\n/);
      assert.equal(s.subscriptions(), 0);
      const again = await fetch(`${server.url}/flows/a/events`);
      assert.equal(again.status, 404);
      await again.body?.cancel();
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test("a flow subscriber sees every event of a replace that fails to start: the old graph runs again", async () => {
  const s = setup();
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    const events: FlowEvent[] = [];
    const off = s.flows.subscribe("a", (e) => events.push(e));
    // Builds (core/Interval's interval port takes any text) but cannot start.
    const res = await s.app.request(
      "/flows/a",
      fbp(
        `'soon' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`,
        "PUT",
      ),
    );
    off();
    assert.ok([400, 422].includes(res.status), String(res.status));
    assert.equal(s.flows.get("a").rev, 1);
    assert.equal(s.flows.get("a").state, "running");
    assert.equal(s.store.get("a")?.text, GOOD);
    assert.ok(!events.some((e) => e.type === "replaced"));
  } finally {
    await s.close();
  }
});
