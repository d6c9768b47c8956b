/**
 * GET /flows/:id/events bounds per client: a big flow's snapshot is cut and
 * says so, clients share one snapshot, and a client that does not read is
 * dropped with a log line instead of being buffered without bound.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import type { FlowManager } from "../../src/flows/flow_manager.ts";
import { serve } from "../../src/runtime/serve.ts";
import { _EventStreams } from "../../src/server/_flow_events.ts";
import { until } from "../engine/_helpers.ts";
import { fbp, openSocket, setup } from "./_flow_api.ts";

/** A chain of `n` processes: a snapshot of about 1 KB a process. */
function chain(n: number): string {
  let text = "'1' -> in P0(core/Repeat)\n";
  for (let i = 1; i < n; i++) {
    text += `P${i - 1} out -> in P${i}(core/Repeat)\n`;
  }
  return text;
}

/** Reads `body` until `done(text)` holds; cancels the rest. */
async function readUntil(
  body: ReadableStream<Uint8Array>,
  done: (text: string) => boolean,
): Promise<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += value;
  }
  await reader.cancel();
  return text;
}

/** Whether `text` holds a whole `stats` event. */
const hasStats = (text: string) => /event: stats\ndata: .*\n\n/.test(text);

/** The data of the first `stats` event in `text`. */
function firstStats(text: string): Record<string, unknown> {
  const m = /event: stats\ndata: (.*)\n\n/.exec(text);
  assert.ok(m, `no stats event in ${text.slice(0, 200)}`);
  return JSON.parse(m[1]);
}

test(
  "event streams: a big flow's stats snapshot is cut to maxSnapshotBytes and says what it left out",
  { timeout: 60_000 },
  async () => {
    const s = setup({ eventStreams: { maxSnapshotBytes: 64 * 1024 } });
    try {
      assert.equal(
        (await s.app.request("/flows/big?start=false", fbp(chain(600), "PUT")))
          .status,
        201,
      );
      const whole = await (await s.app.request("/flows/big/stats")).text();
      assert.ok(whole.length > 200 * 1024, `whole snapshot ${whole.length}`);
      const res = await s.app.request("/flows/big/events");
      const text = await readUntil(
        res.body!,
        hasStats,
      );
      const frame = /event: stats\ndata: (.*)\n\n/.exec(text)![1];
      assert.ok(frame.length <= 64 * 1024, `cut snapshot ${frame.length}`);
      const stats = firstStats(text);
      const t = stats.truncated as Record<string, number | string>;
      assert.equal(t.processes, 600);
      assert.equal(t.connections, 600);
      assert.equal(t.maxBytes, 64 * 1024);
      assert.equal(t.full, "/flows/big/stats");
      assert.ok(
        Number(t.processesSent) > 10 && Number(t.processesSent) < 600,
        JSON.stringify(t),
      );
      assert.equal((stats.processes as unknown[]).length, t.processesSent);
      assert.equal((stats.connections as unknown[]).length, t.connectionsSent);
      // The flow-wide figures stay whole.
      const full = JSON.parse(whole);
      for (const k of ["name", "state", "backlog", "partitions", "drops"]) {
        assert.deepEqual(stats[k], full[k], k);
      }
      // A small flow's snapshot is whole, with no `truncated`.
      await s.app.request(
        "/flows/small?start=false",
        fbp(chain(3), "PUT"),
      );
      const small = firstStats(
        await readUntil(
          (await s.app.request("/flows/small/events")).body!,
          hasStats,
        ),
      );
      assert.equal(small.truncated, undefined);
      assert.equal((small.processes as unknown[]).length, 3);
    } finally {
      await s.close();
    }
  },
);

test("event streams: the clients of one flow share one snapshot per half interval", async () => {
  const s = setup();
  try {
    await s.app.request("/flows/a?start=false", fbp(chain(5), "PUT"));
    const bodies: ReadableStream<Uint8Array>[] = [];
    for (let i = 0; i < 10; i++) {
      bodies.push(
        (await s.app.request("/flows/a/events?interval=60000")).body!,
      );
    }
    for (const b of bodies) {
      await readUntil(b, hasStats);
    }
    assert.equal(s.statsCalls.get("a"), 1);
    await until(() => s.subscriptions() === 0, 5000);
  } finally {
    await s.close();
  }
});

test("event streams beyond maxStreams (of all flows) are 503 with Retry-After and the error JSON; a stream that ends frees its place", async () => {
  // There was no bound: 600 clients of a 5,000-process flow each held
  // their unread events (Deno went to 696 MB).
  const s = setup({ eventStreams: { maxStreams: 2 } });
  try {
    await s.app.request("/flows/a?start=false", fbp(chain(2), "PUT"));
    await s.app.request("/flows/b?start=false", fbp(chain(2), "PUT"));
    const one = await s.app.request("/flows/a/events");
    const two = await s.app.request("/flows/b/events");
    assert.deepEqual([one.status, two.status], [200, 200]);
    for (const id of ["a", "b"]) {
      const over = await s.app.request(`/flows/${id}/events`);
      assert.equal(over.status, 503);
      assert.equal(over.headers.get("retry-after"), "5");
      assert.deepEqual(await over.json(), {
        error:
          `Cannot stream the events of flow "${id}": 2 event streams are open on this server; close one or retry later`,
      });
    }
    // A refused one subscribes to nothing; HEAD and an unknown flow are
    // answered as before.
    assert.equal(s.subscriptions(), 2);
    assert.equal(
      (await s.app.request("/flows/a/events", { method: "HEAD" })).status,
      200,
    );
    assert.equal((await s.app.request("/flows/nope/events")).status, 404);
    await one.body!.cancel();
    await until(() => s.subscriptions() === 1, 5000);
    const three = await s.app.request("/flows/b/events");
    assert.equal(three.status, 200);
    assert.equal((await s.app.request("/flows/a/events")).status, 503);
    await two.body!.cancel();
    await three.body!.cancel();
    await until(() => s.subscriptions() === 0, 5000);
  } finally {
    await s.close();
  }
});

/** A flow manager stand-in whose events the test sends by hand. */
function fakeFlows() {
  const listeners = new Set<(e: FlowEvent) => void>();
  const flows = {
    get: () => ({ state: "running" }),
    stats: () => ({ name: "f", processes: [], connections: [] }),
    subscribe: (_id: string, l: (e: FlowEvent) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as FlowManager;
  return {
    flows,
    listeners,
    emit: (e: FlowEvent) => {
      for (const l of listeners) l(e);
    },
  };
}

test("event streams: a client whose unread events pass maxBufferedBytes is dropped, its queue discarded, one log line", async () => {
  const f = fakeFlows();
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const streams = new _EventStreams(
    f.flows,
    { maxBufferedBytes: 256 * 1024, maxSnapshotBytes: 1024 },
    (_level, message, fields) => lines.push({ message, fields }),
  );
  const res = streams.open("f", 60_000);
  const message = "x".repeat(10_000);
  // Nobody reads: 30 events of 10 KB fit, the next ones do not.
  for (let i = 0; i < 40; i++) {
    f.emit({ type: "error", level: "error", message });
  }
  assert.equal(f.listeners.size, 0, "unsubscribed");
  assert.equal(streams.sharedCount, 0);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0].message,
    /^event stream of flow "f" dropped: its client did not read 262144 bytes of events \(\d+ bytes unread\)/,
  );
  assert.equal(lines[0].fields.flow, "f");
  assert.ok(Number(lines[0].fields.unread_bytes) > 200 * 1024);
  // What was queued is gone: the reader gets the error, not 250 KB.
  const reader = res.body!.getReader();
  await assert.rejects(
    reader.read(),
    (e) => String(e).includes("event stream was dropped"),
  );
});

test(
  "event streams: a client that takes nothing for stallMs is dropped with a log line; the server keeps serving",
  {
    timeout: 60_000,
  },
  async () => {
    const lines: string[] = [];
    const s = setup({
      eventStreams: {
        maxSnapshotBytes: 512 * 1024,
        maxBufferedBytes: 2 * 1024 * 1024,
        stallMs: 1000,
      },
      log: (_level, message) => lines.push(message),
    });
    assert.equal(
      (await s.app.request("/flows/big?start=false", fbp(chain(3000), "PUT")))
        .status,
      201,
    );
    const server = await serve(s.app.fetch);
    const stalled = await openSocket(server.port);
    let closed = false;
    stalled.on("close", () => closed = true);
    try {
      stalled.write(
        "GET /flows/big/events?interval=100 HTTP/1.1\r\nHost: localhost\r\n\r\n",
      );
      stalled.pause();
      // The kernel's socket buffers take a few megabytes first; then the
      // queue stays full for stallMs.
      await until(() => lines.length > 0, 40_000);
      assert.match(
        lines[0],
        /^event stream of flow "big" dropped: its client took nothing for 1000 ms \(\d+ bytes unread\); it may reconnect$/,
      );
      await until(() => s.subscriptions() === 0, 10_000);
      // The runtime ends the connection of the dropped stream.
      stalled.resume();
      await until(() => closed, 10_000);
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      stalled.destroy();
      await server.close();
      await s.close();
    }
  },
);

test("event stream limits are checked", () => {
  const f = fakeFlows();
  assert.throws(
    () => new _EventStreams(f.flows, { stallMs: 0 }),
    /Cannot limit event streams: stallMs must be a positive integer, received 0/,
  );
  assert.throws(
    () =>
      new _EventStreams(f.flows, {
        maxSnapshotBytes: 2048,
        maxBufferedBytes: 1024,
      }),
    /maxSnapshotBytes must be below maxBufferedBytes \(1024\), received 2048/,
  );
  assert.throws(
    () => new _EventStreams(f.flows, { maxStreams: 0 }),
    /Cannot limit event streams: maxStreams must be a positive integer, received 0/,
  );
});
