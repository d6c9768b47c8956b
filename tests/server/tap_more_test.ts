/**
 * GET /flows/:id/tap, continued: process names with dots, and a flow whose
 * process fails on every message (its errors belong to /events, not to
 * the tap's bounded stream).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/runtime/serve.ts";
import { fbp, setup } from "./_flow_api.ts";

/** The events of a stream read for `ms`, then cancelled. */
async function readFor(res: Response, ms: number): Promise<string[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const stop = Date.now() + ms;
  while (Date.now() < stop) {
    const r = await Promise.race([
      reader.read(),
      new Promise<undefined>((ok) =>
        setTimeout(() => ok(undefined), stop - Date.now())
      ),
    ]);
    if (r === undefined || r.done) break;
    text += r.value;
  }
  await reader.cancel();
  return text.split("\n\n").filter((e) =>
    e.startsWith("event: ") || e.includes("\nevent: ")
  );
}

test("a process whose name holds dots is tapped at Process.port, the port after the last dot", async () => {
  const s = setup();
  const graph = {
    processes: {
      "tick.src": { component: "core/Interval" },
      "sink.a.b": { component: "core/Drop" },
    },
    connections: [
      { data: "5ms", tgt: { process: "tick.src", port: "interval" } },
      {
        src: { process: "tick.src", port: "out" },
        tgt: { process: "sink.a.b", port: "in" },
      },
    ],
  };
  const put = await s.app.request("/flows/dots", {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(graph),
  });
  assert.equal(put.status, 201, await put.text());
  const server = await serve(s.app.fetch);
  try {
    const res = await fetch(
      `${server.url}/flows/dots/tap?from=tick.src.out&to=sink.a.b.in&rate=1000`,
    );
    assert.equal(res.status, 200);
    const events = await readFor(res, 400);
    assert.ok(
      events.some((e) => e.startsWith("event: message")),
      events.join("\n\n"),
    );
  } finally {
    await server.close();
    await s.close();
  }
});

test("a flow failing on every message sends its errors on /events, not through a tap's bounds", async () => {
  const s = setup();
  const put = await s.app.request(
    "/flows/storm",
    fbp(
      `'1ms' -> interval T(core/Interval) out -> in M(flow/Map)\n'$error("${
        "x".repeat(400)
      }")' -> expr M\nM out -> in D(core/Drop)\n`,
      "PUT",
    ),
  );
  assert.equal(put.status, 201, await put.text());
  const server = await serve(s.app.fetch);
  try {
    // The flow's own event stream carries the errors...
    const ev = await fetch(`${server.url}/flows/storm/events`);
    const fromEvents = await readFor(ev, 500);
    assert.ok(
      fromEvents.filter((e) => e.startsWith("event: error")).length > 0,
      "no error on /events",
    );
    // ...and a tap of the failing map's input carries at most its rate.
    const tap = await fetch(
      `${server.url}/flows/storm/tap?to=M.in&rate=5`,
    );
    assert.equal(tap.status, 200);
    const events = await readFor(tap, 1500);
    assert.deepEqual(
      events.filter((e) => e.startsWith("event: error")),
      [],
    );
    assert.ok(
      events.filter((e) => e.startsWith("event: message")).length <= 15,
      `${events.length} events`,
    );
  } finally {
    await server.close();
    await s.close();
  }
});
