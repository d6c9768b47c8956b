/**
 * GET /flows/:id/tap: a flow's messages on a connection and its
 * core/Output lines as server-sent events, sampled (rate), bounded (4 KiB
 * a message, 64 KiB unread, maxTaps streams) and never in the flow's way.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { OutputHub } from "../../src/flows/output_hub.ts";
import { serve } from "../../src/runtime/serve.ts";
import { _TapStreams } from "../../src/server/_tap_stream.ts";
import { until } from "../engine/_helpers.ts";
import { FailStart, NO_START } from "../flows/_harness.ts";
import {
  body,
  fbp,
  openSocket,
  receive,
  type Setup,
  setup,
  statusOf,
  TOKEN,
} from "./_flow_api.ts";

const SLOW = { timeout: 60_000 };
/** Generous: the machine is shared, and nothing here is a timing claim. */
const WAIT = 15_000;

/** Ticks every 5 ms (0, 1, 2, ...) into a sink. */
const TICKS =
  `'5ms' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`;
/** As fast as the timer goes. */
const FAST = `'1ms' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`;
/** The same ticks, logged by core/Output. */
const LOGGED =
  `'10ms' -> interval Tick(core/Interval) out -> in Log(core/Output)\n`;

/** One server-sent event. */
interface Ev {
  event: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** Reads a tap's events as they come; `done` settles when the stream ends. */
function eventsOf(res: Response) {
  const events: Ev[] = [];
  let text = "";
  let rest = "";
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
        rest += value;
        let end: number;
        while ((end = rest.indexOf("\n\n")) >= 0) {
          const block = rest.slice(0, end);
          rest = rest.slice(end + 2);
          let event = "message";
          let data: string | undefined;
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data = line.slice(6);
          }
          if (data !== undefined) {
            events.push({ event, data: JSON.parse(data) });
          }
        }
      }
    } catch {
      // Cancelled or cut: what came is kept.
    }
  })();
  return {
    events,
    text: () => text,
    of: (name: string) => events.filter((e) => e.event === name),
    done,
    cancel: async () => {
      await reader.cancel().catch(() => {});
      await done;
    },
  };
}

/** Counts the FlowManager taps the app holds now. */
function countTaps(s: Setup): () => number {
  let open = 0;
  const tap = s.flows.tap.bind(s.flows);
  s.flows.tap = (id, from, to, listener, onGone) => {
    const off = tap(id, from, to, listener, onGone);
    open++;
    let done = false;
    return () => {
      if (!done) open--;
      done = true;
      off();
    };
  };
  return () => open;
}

/** A setup whose core/Output writes through `hub` (and nowhere else). */
function withOutputs(
  extra: Parameters<typeof setup>[0] = {},
): Setup & { hub: OutputHub } {
  const hub = new OutputHub();
  const s = setup({
    outputs: hub,
    components: builtins({ output: hub.wrap(() => {}) }),
    ...extra,
  });
  return { ...s, hub };
}

async function put(s: Setup, id: string, text: string, start = true) {
  const res = await s.app.request(
    `/flows/${id}${start ? "" : "?start=false"}`,
    fbp(text, "PUT"),
  );
  assert.ok([200, 201].includes(res.status), String(res.status));
  await res.body?.cancel();
}

test(
  "a tap first names what it taps, then sends the values passing the connection, in order",
  SLOW,
  async () => {
    const s = setup();
    await put(s, "a", TICKS);
    const server = await serve(s.app.fetch);
    try {
      const res = await fetch(
        `${server.url}/flows/a/tap?from=Tick.out&to=Out.in&rate=1000`,
      );
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const t = eventsOf(res);
      const before = Date.now();
      await until(() => t.of("message").length >= 10, WAIT);
      await t.cancel();
      assert.deepEqual(t.events[0], {
        event: "tap",
        data: { flow: "a", from: "Tick.out", to: "Out.in" },
      });
      const messages = t.of("message").map((e) => e.data);
      for (const m of messages) {
        assert.deepEqual(Object.keys(m).sort(), ["at", "from", "to", "value"]);
        assert.equal(m.from, "Tick.out");
        assert.equal(m.to, "Out.in");
        assert.ok(m.at >= before - 60_000 && m.at <= Date.now(), String(m.at));
      }
      // Ticks are consecutive: none skipped at 200 a second under rate 1000.
      const values = messages.map((m) => m.value);
      assert.deepEqual(
        values,
        values.map((_, i) => values[0] + i),
      );
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test(
  "a tap without from sees every sender into the port, and sends JSON values as they are",
  SLOW,
  async () => {
    const s = setup();
    const json = '{"a":[1,"x",null],"b":true,"c":{"d":-2.5}}';
    // Started after the tap is open, so that the IIP's value passes it.
    await put(
      s,
      "obj",
      `'${json}' -> in P(json/Parse) out -> in R(core/Repeat) out -> in D(core/Drop)\n`,
      false,
    );
    try {
      const res = await s.app.request("/flows/obj/tap?to=D.in");
      assert.equal(res.status, 200);
      const t = eventsOf(res);
      await until(() => t.events.length >= 1, WAIT);
      assert.deepEqual(t.events[0].data, {
        flow: "obj",
        from: null,
        to: "D.in",
      });
      assert.equal(
        (await s.app.request("/flows/obj/start", { method: "POST" })).status,
        200,
      );
      await until(() => t.of("message").length >= 1, WAIT);
      await t.cancel();
      const [m] = t.of("message");
      assert.equal(m.data.from, null);
      assert.deepEqual(m.data.value, JSON.parse(json));
    } finally {
      await s.close();
    }
  },
);

test("a tap carries the core/Output lines of its flow only", SLOW, async () => {
  const s = withOutputs();
  await put(s, "a", LOGGED);
  await put(s, "b", LOGGED);
  const server = await serve(s.app.fetch);
  try {
    // Lines only: no connection named.
    const res = await fetch(`${server.url}/flows/a/tap?rate=1000`);
    assert.equal(res.status, 200);
    const t = eventsOf(res);
    // With a connection too: both kinds in one stream.
    const both = eventsOf(
      await fetch(
        `${server.url}/flows/b/tap?from=Tick.out&to=Log.in&rate=1000`,
      ),
    );
    await until(
      () =>
        t.of("output").length >= 5 && both.of("output").length >= 5 &&
        both.of("message").length >= 5,
      WAIT,
    );
    await t.cancel();
    await both.cancel();
    assert.deepEqual(t.events[0], { event: "tap", data: { flow: "a" } });
    assert.deepEqual(t.of("message"), []);
    for (const e of t.of("output")) {
      assert.deepEqual(Object.keys(e.data).sort(), [
        "at",
        "flow",
        "line",
        "process",
      ]);
      assert.equal(e.data.flow, "a");
      assert.equal(e.data.process, "Log");
      assert.match(e.data.line, /^\d+$/);
    }
    for (const e of both.of("output")) assert.equal(e.data.flow, "b");
    // The lines are the ticks the connection carried.
    const lines = both.of("output").map((e) => Number(e.data.line));
    const values = both.of("message").map((e) => e.data.value);
    assert.ok(lines.some((l) => values.includes(l)));
    // Nobody listens once both left.
    await until(() => s.hub.flowsListened === 0, WAIT);
  } finally {
    await server.close();
    await s.close();
  }
});

test(
  "a tap at rate=1 on a fast flow sends about one message a second and counts the rest as skipped",
  SLOW,
  async () => {
    const s = setup();
    await put(s, "fast", FAST);
    const server = await serve(s.app.fetch);
    try {
      const opened = Date.now();
      const res = await fetch(
        `${server.url}/flows/fast/tap?from=Tick.out&to=Out.in&rate=1`,
      );
      assert.equal(res.status, 200);
      const t = eventsOf(res);
      await until(() => t.of("skipped").length >= 2, WAIT);
      const seconds = (Date.now() - opened) / 1000;
      const messages = t.of("message").length;
      const skipped = t.of("skipped");
      await t.cancel();
      // A bucket of 1, refilled at 1 a second: one at once, then one a second.
      assert.ok(
        messages >= 1 && messages <= 2 + seconds,
        `${messages} messages in ${seconds} s`,
      );
      assert.ok(messages < 10, `${messages} messages`);
      // At most one skipped event a second, each with what it counts.
      assert.ok(
        skipped.length <= 1 + seconds,
        `${skipped.length} in ${seconds}`,
      );
      for (const e of skipped) {
        assert.deepEqual(Object.keys(e.data).sort(), ["lines", "messages"]);
        assert.ok(e.data.messages > 0);
        assert.equal(e.data.lines, 0);
      }
      const counted = skipped.reduce((n, e) => n + e.data.messages, 0);
      // The flow sent far more than the tap passed on, and said so.
      assert.ok(counted > messages, `${counted} skipped, ${messages} sent`);
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test(
  "a tap at rate=1 on a flow that logs fast counts the lines it skips",
  SLOW,
  async () => {
    const s = withOutputs();
    await put(
      s,
      "loud",
      `'1ms' -> interval Tick(core/Interval) out -> in Log(core/Output)\n`,
    );
    try {
      const t = eventsOf(await s.app.request("/flows/loud/tap?rate=1"));
      await until(() => t.of("skipped").length >= 1, WAIT);
      await t.cancel();
      const [skipped] = t.of("skipped");
      assert.ok(skipped.data.lines > 0, JSON.stringify(skipped.data));
      assert.equal(skipped.data.messages, 0);
      assert.ok(t.of("output").length <= 2, String(t.of("output").length));
    } finally {
      await s.close();
    }
  },
);

test(
  "a tap sends a big value's first 4096 characters of JSON, marked truncated",
  SLOW,
  async () => {
    const s = setup();
    const big = "x".repeat(100_000);
    await put(
      s,
      "big",
      `'${big}' -> in R(core/Repeat) out -> in D(core/Drop)\n'small' -> in R\n`,
      false,
    );
    try {
      const res = await s.app.request("/flows/big/tap?from=R.out&to=D.in");
      assert.equal(res.status, 200);
      const t = eventsOf(res);
      await until(() => t.events.length >= 1, WAIT);
      await s.app.request("/flows/big/start", { method: "POST" });
      await until(() => t.of("message").length >= 2, WAIT);
      await t.cancel();
      const [first, second] = t.of("message").map((e) => e.data);
      assert.equal(first.truncated, true);
      assert.equal("value" in first, false);
      assert.equal(first.text.length, 4096);
      assert.equal(first.text, JSON.stringify(big).slice(0, 4096));
      assert.equal(first.from, "R.out");
      assert.equal(first.to, "D.in");
      // A small one whole, without the mark.
      assert.deepEqual(Object.keys(second).sort(), [
        "at",
        "from",
        "to",
        "value",
      ]);
      assert.equal(second.value, "small");
      // The event itself stays small: the 100 KB never went out.
      assert.ok(t.text().length < 8192, String(t.text().length));
    } finally {
      await s.close();
    }
  },
);

test("a tap with a bad from, to or rate, or a connection the flow lacks, is 400 saying which; an unknown flow is 404", async () => {
  const s = setup();
  const taps = countTaps(s);
  await put(s, "a", TICKS);
  try {
    for (
      const [query, pattern] of [
        ["from=Tick&to=Out.in", /from must be a port as Process\.port/],
        ["from=Tick.out&to=Out", /to must be a port as Process\.port/],
        // A process name may hold dots: the port is after the last one.
        ["to=a.b.c", /no connection to a\.b\.c/],
        ["to=a.", /to must be a port/],
        ["to=.in", /to must be a port/],
        [`to=${"P".repeat(600)}.in`, /to must be a port/],
        ["from=Tick.out", /from needs to/],
        ["to=Out.in&rate=0", /rate must be an integer from 1 to 1000/],
        ["to=Out.in&rate=1001", /rate must be an integer from 1 to 1000/],
        ["to=Out.in&rate=1.5", /rate must be an integer/],
        ["to=Out.in&rate=-1", /rate must be an integer/],
        ["to=Out.in&rate=ten", /rate must be an integer/],
        ["to=Out.in&rate=", /rate must be an integer/],
        ["to=Nope.in", /Nope\.in/],
        ["from=Out.out&to=Out.in", /from Out\.out to Out\.in/],
        ["from=Tick.out&to=Tick.interval", /Tick\.interval/],
      ] as const
    ) {
      const res = await s.app.request(`/flows/a/tap?${query}`);
      assert.equal(res.status, 400, query);
      const b = await body(res);
      assert.match(b.error as string, pattern, query);
    }
    // The connection error names what there is.
    const res = await s.app.request("/flows/a/tap?to=Nope.in");
    assert.match(
      (await body(res)).error as string,
      /Tick\.out -> Out\.in/,
    );
    for (const path of ["/flows/nope/tap?to=Out.in", "/flows/nope/tap"]) {
      const missing = await s.app.request(path);
      assert.equal(missing.status, 404, path);
      assert.match((await body(missing)).error as string, /nope/);
    }
    assert.equal(taps(), 0, "no tap left attached");
    assert.equal(s.subscriptions(), 0);
    // Only GET (and its HEAD): a POST is 405.
    const post = await s.app.request("/flows/a/tap?to=Out.in", {
      method: "POST",
    });
    assert.equal(post.status, 405);
    assert.match(post.headers.get("allow") ?? "", /GET/);
    await post.body?.cancel();
  } finally {
    await s.close();
  }
});

test("a HEAD of a tap answers the headers and holds nothing open", async () => {
  const s = setup({ maxTaps: 1 });
  const taps = countTaps(s);
  await put(s, "a", TICKS);
  try {
    for (let i = 0; i < 3; i++) {
      const res = await s.app.request("/flows/a/tap?to=Out.in", {
        method: "HEAD",
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
      assert.equal(await res.text(), "");
    }
    assert.equal(taps(), 0);
    assert.equal(
      (await s.app.request("/flows/nope/tap", { method: "HEAD" })).status,
      404,
    );
    const res = await s.app.request("/flows/a/tap?to=Out.in");
    assert.equal(res.status, 200);
    await res.body!.cancel();
  } finally {
    await s.close();
  }
});

test("taps beyond maxTaps are 429 with Retry-After; a stream that ends frees its place and its tap", async () => {
  const s = setup({ maxTaps: 2 });
  const taps = countTaps(s);
  await put(s, "a", TICKS);
  await put(s, "b", TICKS);
  try {
    const one = await s.app.request("/flows/a/tap?to=Out.in");
    const two = await s.app.request("/flows/b/tap");
    assert.equal(one.status, 200);
    assert.equal(two.status, 200);
    assert.equal(taps(), 1);
    for (const path of ["/flows/a/tap?to=Out.in", "/flows/b/tap"]) {
      const over = await s.app.request(path);
      assert.equal(over.status, 429);
      assert.ok(Number(over.headers.get("retry-after")) > 0);
      assert.match(
        (await body(over)).error as string,
        /2 taps are open on this server/,
      );
    }
    // A refused one holds no tap.
    assert.equal(taps(), 1);
    assert.equal(s.subscriptions(), 2);
    await one.body!.cancel();
    assert.equal(taps(), 0);
    assert.equal(s.subscriptions(), 1);
    const three = await s.app.request("/flows/a/tap?to=Out.in");
    assert.equal(three.status, 200);
    assert.equal(
      (await s.app.request("/flows/a/tap?to=Out.in")).status,
      429,
    );
    await two.body!.cancel();
    await three.body!.cancel();
    assert.equal(taps(), 0);
    assert.equal(s.subscriptions(), 0);
    // Both places free again.
    const again = [
      await s.app.request("/flows/a/tap"),
      await s.app.request("/flows/b/tap"),
    ];
    assert.deepEqual(again.map((r) => r.status), [200, 200]);
    for (const r of again) await r.body!.cancel();
  } finally {
    await s.close();
  }
});

test(
  "a client that leaves a tap over the network frees its place",
  SLOW,
  async () => {
    const s = setup({ maxTaps: 1 });
    const taps = countTaps(s);
    await put(s, "a", TICKS);
    const server = await serve(s.app.fetch);
    try {
      for (const how of ["abort", "socket"]) {
        if (how === "abort") {
          const abort = new AbortController();
          const res = await fetch(`${server.url}/flows/a/tap?to=Out.in`, {
            signal: abort.signal,
          });
          assert.equal(res.status, 200);
          const reader = res.body!.getReader();
          await reader.read();
          assert.equal(taps(), 1);
          await reader.cancel();
          abort.abort();
        } else {
          const socket = await openSocket(server.port);
          const got = receive(socket, (t) => t.includes("event: tap"));
          socket.write(
            "GET /flows/a/tap?to=Out.in HTTP/1.1\r\nHost: localhost\r\n\r\n",
          );
          assert.equal(statusOf(await got), 200);
          assert.equal(taps(), 1);
          socket.destroy();
        }
        await until(() => taps() === 0 && s.subscriptions() === 0, WAIT);
        const again = await fetch(`${server.url}/flows/a/tap?to=Out.in`);
        assert.equal(again.status, 200, how);
        await again.body!.cancel();
        await until(() => taps() === 0, WAIT);
      }
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test(
  "a replace that fails to start sends no error on a tap: its connection never went away",
  SLOW,
  async () => {
    const s = setup({ components: builtins().register(FailStart) });
    await put(s, "a", TICKS);
    try {
      const t = eventsOf(
        await s.app.request("/flows/a/tap?from=Tick.out&to=Out.in&rate=1000"),
      );
      await until(() => t.of("message").length >= 1, WAIT);
      // Builds but cannot start, and has no Tick.out -> Out.in: the old
      // graph runs on.
      const res = await s.app.request("/flows/a", fbp(NO_START, "PUT"));
      assert.equal(res.status, 422);
      await res.body?.cancel();
      const seen = t.of("message").length;
      await until(() => t.of("message").length >= seen + 3, WAIT);
      await t.cancel();
      assert.deepEqual(t.of("replaced"), []);
      assert.deepEqual(
        t.of("error").filter((e) => /no connection/.test(e.data.message)),
        [],
      );
    } finally {
      await s.close();
    }
  },
);

test("flowApp refuses a maxTaps that is not a positive integer, as its other limits", () => {
  for (const maxTaps of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => setup({ maxTaps }),
      (e: unknown) => e instanceof RangeError && /maxTaps/.test(e.message),
      String(maxTaps),
    );
  }
});

test(
  "a tap follows its flow's events and ends after deleted",
  SLOW,
  async () => {
    const s = setup({ maxTaps: 1 });
    const taps = countTaps(s);
    await put(s, "a", TICKS);
    await put(s, "b", TICKS);
    const server = await serve(s.app.fetch);
    try {
      const t = eventsOf(
        await fetch(`${server.url}/flows/a/tap?from=Tick.out&to=Out.in`),
      );
      await until(() => t.of("message").length >= 1, WAIT);
      const stop = await s.app.request("/flows/a/stop", { method: "POST" });
      assert.equal(stop.status, 200);
      await until(() => t.of("state").length >= 1, WAIT);
      await until(
        () =>
          t.of("state").some((e) =>
            ["stopped", "finished"].includes(e.data.state)
          ),
        WAIT,
      );
      const deleted = await s.app.request("/flows/a", { method: "DELETE" });
      assert.equal(deleted.status, 204);
      await t.done; // the stream ends by itself
      assert.equal(t.events.at(-1)?.event, "deleted");
      assert.equal(taps(), 0);
      assert.equal(s.subscriptions(), 0);
      // Its place is free.
      const other = await fetch(`${server.url}/flows/b/tap`);
      assert.equal(other.status, 200);
      await other.body!.cancel();
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test(
  "a replace that drops the tapped connection sends an error; one that brings it back sends its messages again",
  SLOW,
  async () => {
    const s = setup();
    await put(s, "a", TICKS);
    try {
      const t = eventsOf(
        await s.app.request("/flows/a/tap?from=Tick.out&to=Out.in&rate=1000"),
      );
      await until(() => t.of("message").length >= 1, WAIT);
      await put(
        s,
        "a",
        `'5ms' -> interval Tick(core/Interval) out -> in Other(core/Drop)\n`,
      );
      await until(() => t.of("replaced").length >= 1, WAIT);
      const errors = t.of("error");
      assert.equal(errors.length, 1, JSON.stringify(t.events.slice(-5)));
      assert.deepEqual(Object.keys(errors[0].data), ["message"]);
      assert.match(errors[0].data.message, /Tick\.out/);
      assert.match(errors[0].data.message, /Out\.in/);
      assert.deepEqual(t.of("replaced")[0].data, { rev: 2 });
      // Said before the replace is: the order a client reads them in.
      const order = t.events.map((e) => e.event);
      assert.ok(order.indexOf("error") < order.indexOf("replaced"));
      const seen = t.of("message").length;
      await put(s, "a", TICKS);
      await until(() => t.of("replaced").length >= 2, WAIT);
      await until(() => t.of("message").length >= seen + 3, WAIT);
      assert.equal(t.of("error").length, 1);
      await t.cancel();
    } finally {
      await s.close();
    }
  },
);

test("a tap client that never reads does not slow its flow", SLOW, async () => {
  const s = setup();
  // A cycle that runs as fast as the engine goes, carrying a 5,000
  // character string: at rate 1000 the tap writes about 4 MB a second
  // into a socket nobody reads.
  await put(
    s,
    "spin",
    `'${
      "x".repeat(5000)
    }' -> in M(core/Merge) out -> in R(core/Repeat) out -> in M\n`,
  );
  const delivered = () =>
    s.flows.stats("spin").connections.find((c) =>
      c.from === "R.out" && c.to === "M.in"
    )!.delivered;
  const server = await serve(s.app.fetch);
  const stalled = await openSocket(server.port);
  try {
    const got = receive(stalled, (t) => t.includes("event: message"));
    stalled.write(
      "GET /flows/spin/tap?from=R.out&to=M.in&rate=1000 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert.equal(statusOf(await got), 200);
    stalled.pause();
    // The socket's buffers fill within a few seconds at that pace; the
    // flow must go on all the while, and after.
    const marks: number[] = [];
    const start = Date.now();
    let next = start;
    await until(() => {
      if (Date.now() < next) return false;
      marks.push(delivered());
      next += 1000;
      return marks.length >= 4;
    }, WAIT * 2);
    for (let i = 1; i < marks.length; i++) {
      assert.ok(marks[i] > marks[i - 1], `stuck: ${marks.join(", ")}`);
    }
    assert.equal(s.flows.get("spin").state, "running");
  } finally {
    stalled.destroy();
    await server.close();
    await s.close();
  }
});

test(
  "a tap whose client takes nothing skips past 64 KiB unread, then is dropped and logged after stallMs",
  SLOW,
  async () => {
    const s = setup();
    const taps = countTaps(s);
    // 200 values a second, each about 4 KiB of event: 64 KiB within 16.
    await put(
      s,
      "a",
      `'${"y".repeat(4000)}' -> data K(core/Kick)\n` +
        `'5ms' -> interval Tick(core/Interval) out -> in K out -> in D(core/Drop)\n`,
    );
    const logs: string[] = [];
    const streams = new _TapStreams(
      s.flows,
      undefined,
      (_level, message) => logs.push(message),
      undefined,
      4,
      500,
    );
    try {
      const delivered = () =>
        s.flows.stats("a").connections.find((c) =>
          c.from === "K.out" && c.to === "D.in"
        )!.delivered;
      const res = streams.open("a", { from: "K.out", to: "D.in", rate: 1000 });
      assert.equal(streams.openCount, 1);
      assert.equal(taps(), 1);
      // Nobody reads: the flow goes on well past what 64 KiB holds.
      const from = delivered();
      await until(() => delivered() >= from + 100, WAIT);
      // Dropped: the stream fails, its place and its tap are freed, and
      // the log says why.
      await until(() => streams.openCount === 0, WAIT);
      assert.equal(taps(), 0);
      assert.equal(logs.length, 1);
      assert.match(
        logs[0],
        /tap of flow "a" dropped: its client took nothing for 500 ms \(\d+ bytes unread\)/,
      );
      const unread = Number(/\((\d+) bytes unread\)/.exec(logs[0])![1]);
      // What waited was bounded: about 64 KiB, not every value since.
      assert.ok(
        unread >= 64 * 1024 && unread < 64 * 1024 + 8192,
        String(unread),
      );
      await assert.rejects(res.body!.getReader().read());
      assert.equal(s.flows.get("a").state, "running");
    } finally {
      await s.close();
    }
  },
);

test(
  "a tap whose client reads again gets a skipped count of what went past while it did not",
  SLOW,
  async () => {
    const s = setup();
    await put(
      s,
      "a",
      `'${"y".repeat(4000)}' -> data K(core/Kick)\n` +
        `'5ms' -> interval Tick(core/Interval) out -> in K out -> in D(core/Drop)\n`,
    );
    try {
      const delivered = () =>
        s.flows.stats("a").connections.find((c) =>
          c.from === "K.out" && c.to === "D.in"
        )!.delivered;
      // At rate 1000 the bucket never runs out at 200 a second: what is
      // skipped is skipped for the unread bytes.
      const res = await s.app.request(
        "/flows/a/tap?from=K.out&to=D.in&rate=1000",
      );
      assert.equal(res.status, 200);
      const from = delivered();
      await until(() => delivered() >= from + 100, WAIT);
      // What waited: the chunks there to read at once. The flow goes on
      // sending while they are read, and each read makes room: what it
      // delivered meanwhile (a loaded machine reads slowly) may come too.
      const atRead = delivered();
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let waited = "";
      for (;;) {
        const r = await Promise.race([
          reader.read(),
          new Promise<null>((resolve) => setTimeout(() => resolve(null), 0)),
        ]);
        if (r === null) break;
        assert.equal(r.done, false);
        waited += decoder.decode(r.value, { stream: true });
      }
      const bytes = new TextEncoder().encode(waited).length;
      const meanwhile = delivered() - atRead;
      assert.ok(
        bytes < 64 * 1024 + 8192 + meanwhile * 4200,
        `${bytes} bytes waited (${meanwhile} messages delivered while read)`,
      );
      const waitedMessages = waited.match(/event: message\n/g)?.length ?? 0;
      // Then the count of what went past, once there is room again.
      let later = "";
      while (!/event: skipped\n/.test(later)) {
        const r = await reader.read();
        assert.equal(r.done, false);
        later += decoder.decode(r.value, { stream: true });
      }
      await reader.cancel();
      const skipped = JSON.parse(
        /event: skipped\ndata: (.*)\n/.exec(later)![1],
      );
      assert.ok(skipped.messages > 0, JSON.stringify(skipped));
      assert.equal(skipped.lines, 0);
      // Every value was either waiting or counted (or sent since).
      const sentSince = later.split("event: skipped")[0].match(
        /event: message\n/g,
      )?.length ?? 0;
      assert.ok(
        waitedMessages + sentSince + skipped.messages >= 100,
        `${waitedMessages} + ${sentSince} + ${skipped.messages}`,
      );
    } finally {
      await s.close();
    }
  },
);

test("a server that shuts down ends its taps", SLOW, async () => {
  const abort = new AbortController();
  const s = setup({ signal: abort.signal });
  const taps = countTaps(s);
  await put(s, "a", TICKS);
  try {
    const t = eventsOf(await s.app.request("/flows/a/tap?to=Out.in"));
    await until(() => t.events.length >= 1, WAIT);
    abort.abort();
    await t.done;
    assert.equal(taps(), 0);
    assert.equal(s.subscriptions(), 0);
  } finally {
    await s.close();
  }
});

test(
  "a tap needs the read scope when tokens are configured, and never sends the token",
  SLOW,
  async () => {
    const s = withOutputs({
      access: { tokens: [{ token: TOKEN, scopes: ["read"] }] },
    });
    // The token may only read: the flow is made behind the API.
    await s.flows.create({ id: "b", text: LOGGED, format: "fbp" });
    const server = await serve(s.app.fetch);
    try {
      const without = await fetch(`${server.url}/flows/b/tap?to=Log.in`);
      assert.equal(without.status, 401);
      await without.body?.cancel();
      const wrong = await fetch(`${server.url}/flows/b/tap?to=Log.in`, {
        headers: { Authorization: `Bearer ${"u".repeat(24)}` },
      });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
      const res = await fetch(`${server.url}/flows/b/tap?to=Log.in&rate=1000`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 200);
      const t = eventsOf(res);
      await until(
        () => t.of("message").length >= 3 && t.of("output").length >= 3,
        WAIT,
      );
      await s.flows.stop("b");
      await until(() => t.of("state").length >= 1, WAIT);
      await t.cancel();
      assert.equal(t.text().includes(TOKEN), false);
      assert.equal(t.text().includes(TOKEN.slice(0, 12)), false);
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test("a tap's 400 names an indexed connection as the graph writes it (Sw.out[0] -> Win.in), and that name taps it", async () => {
  const s = setup();
  await put(
    s,
    "sw",
    `'5ms' -> interval Tick(core/Interval) out -> in Sw(flow/Switch)
'[{"op": "else"}]' -> rules Sw
Sw out[0] -> in Win(core/Drop)
`,
  );
  try {
    const res = await s.app.request("/flows/sw/tap?to=Nope.in");
    assert.equal(res.status, 400);
    assert.match(
      (await body(res)).error as string,
      /it has Tick\.out -> Sw\.in, Sw\.out\[0\] -> Win\.in$/,
    );
    const t = eventsOf(
      await s.app.request("/flows/sw/tap?from=Sw.out[0]&to=Win.in&rate=1000"),
    );
    await until(() => t.of("message").length >= 1, WAIT);
    assert.equal(t.of("message")[0].data.from, "Sw.out[0]");
    await t.cancel();
  } finally {
    await s.close();
  }
});
