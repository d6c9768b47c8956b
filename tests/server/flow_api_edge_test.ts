/**
 * The flow API under attack: racing requests on one id, odd ids and
 * bodies, stored flows that no longer parse, a closed manager, event
 * streams whose clients leave, stall or outlive the server, and bodies at
 * and past the limits over real sockets. After every refused request the
 * flows and the database agree, and nothing answers 500.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { serve } from "../../src/runtime/serve.ts";
import { flowApp, type FlowAppOptions } from "../../src/server/flow_app.ts";
import type { AccessOptions } from "../../src/server/auth.ts";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { until } from "../engine/_helpers.ts";

const GOOD = `'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`;
const OTHER = `'2s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`;
const TOKEN = "t".repeat(24);

interface Setup {
  app: ReturnType<typeof flowApp>;
  flows: FlowManager;
  store: FlowStore;
  /** Event subscriptions open now. */
  subscriptions(): number;
  /** `flows.stats()` calls so far, by flow id. */
  statsCalls: Map<string, number>;
  close(): Promise<void>;
}

function setup(
  extra: Partial<FlowAppOptions> & { access?: AccessOptions } = {},
  store: FlowStore = FlowStore.open(":memory:"),
): Setup {
  const metrics = new MetricsCollector();
  const components = builtins();
  const flows = new FlowManager({
    store,
    registry: components,
    collector: metrics,
    drainTimeoutMs: 1000,
    log: () => {},
  });
  // Counted from outside: every subscription the app opens, and closes.
  let open = 0;
  const subscribe = flows.subscribe.bind(flows);
  flows.subscribe = (id, listener) => {
    const off = subscribe(id, listener);
    open++;
    let done = false;
    return () => {
      if (!done) open--;
      done = true;
      off();
    };
  };
  const statsCalls = new Map<string, number>();
  const stats = flows.stats.bind(flows);
  flows.stats = (id) => {
    statsCalls.set(id, (statsCalls.get(id) ?? 0) + 1);
    return stats(id);
  };
  const app = flowApp({ flows, metrics, components, ...extra });
  return {
    app,
    flows,
    store,
    subscriptions: () => open,
    statsCalls,
    close: () => flows.close({ timeoutMs: 1000 }),
  };
}

const fbp = (
  body: string,
  method = "POST",
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  headers: { "Content-Type": "text/vnd.fbp", ...headers },
  body,
});

const mergePatch = (patch: string, headers: Record<string, string> = {}) => ({
  method: "PATCH",
  headers: { "Content-Type": "application/merge-patch+json", ...headers },
  body: patch,
});

/** The flows as the manager and as the database see them: equal when consistent. */
function views(s: Setup): { memory: string; stored: string } {
  return {
    memory: JSON.stringify(
      s.flows.list().map(({ id, rev, running }) => ({ id, rev, running })),
    ),
    stored: JSON.stringify(
      s.store.list().map(({ id, rev, running }) => ({ id, rev, running })),
    ),
  };
}

async function body(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return await res.json();
}

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

test(
  "PUT, PATCH, DELETE, start and stop racing on three ids: no 5xx, a PUT without rev never 404s or 409s, memory and database agree",
  {
    timeout: 60_000,
  },
  async () => {
    const s = setup();
    try {
      // A fixed, interleaved sequence (a small linear congruential generator).
      let seed = 7;
      const next = (n: number) => {
        seed = (seed * 48271) % 2147483647;
        return seed % n;
      };
      const bodies = [GOOD, OTHER, "A(core/Repeat)", "A(no/Such)", "A("];
      const pending: Promise<[string, number]>[] = [];
      for (let i = 0; i < 150; i++) {
        const id = ["a", "b", "c"][next(3)];
        const text = bodies[next(bodies.length)];
        const op = ["put", "delete", "start", "stop", "patch", "post"][next(6)];
        const req = {
          put: () => s.app.request(`/flows/${id}`, fbp(text, "PUT")),
          delete: () => s.app.request(`/flows/${id}`, { method: "DELETE" }),
          start: () => s.app.request(`/flows/${id}/start`, { method: "POST" }),
          stop: () =>
            s.app.request(`/flows/${id}/stop?timeout=${next(3) * 5}`, {
              method: "POST",
            }),
          patch: () =>
            s.app.request(
              `/flows/${id}`,
              mergePatch(JSON.stringify({ properties: { n: i } })),
            ),
          post: () => s.app.request(`/flows?id=${id}`, fbp(text)),
        }[op]!;
        pending.push(
          Promise.resolve(req()).then(async (r) => {
            await r.body?.cancel();
            return [op, r.status];
          }),
        );
        if (next(3) === 0) await new Promise((r) => setTimeout(r, 0));
      }
      const results = await Promise.all(pending);
      for (const [op, status] of results) {
        assert.ok(status < 500, `${op} answered ${status}`);
        if (op === "put") {
          assert.ok(
            [200, 201, 400, 422].includes(status),
            `PUT answered ${status}`,
          );
        }
      }
      const v = views(s);
      assert.equal(v.memory, v.stored);
    } finally {
      await s.close();
    }
  },
);

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

test("a stored flow whose text no longer parses: GET shows its text and problems (200), PATCH is 409 naming the stored text, PUT fixes it", async () => {
  const store = FlowStore.open(":memory:");
  // As an older weir might have written it.
  store.create({
    id: "old",
    text: "A(core/Repeat) out -> in B(",
    format: "fbp",
    running: true,
  });
  const s = setup({}, store);
  try {
    const [restored] = await s.flows.restore();
    assert.equal(restored.state, "failed");

    let res = await s.app.request("/flows/old");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("etag"), '"1"');
    const got = await body(res);
    assert.deepEqual(got.source, {
      format: "fbp",
      text: "A(core/Repeat) out -> in B(",
    });
    assert.equal(got.graph, null);
    assert.equal(got.state, "failed");
    const problems = got.problems as { line: number; col: number }[];
    assert.equal(problems.length, 1);
    assert.equal(problems[0].line, 1);

    res = await s.app.request(
      "/flows/old",
      mergePatch('{"properties":{"a":1}}'),
    );
    assert.equal(res.status, 409);
    assert.match(
      String((await body(res)).error),
      /its stored graph does not parse .*replace it with PUT/,
    );
    assert.equal(s.store.get("old")?.rev, 1);

    res = await s.app.request("/flows/old", fbp(GOOD, "PUT"));
    assert.equal(res.status, 200);
    assert.equal((await body(res)).state, "running");
    assert.equal(
      (await body(await s.app.request("/flows/old"))).problems,
      undefined,
    );
  } finally {
    await s.close();
  }
});

test("after the flow manager closes (shutdown), changes are 503 with a sentence, not 500; reads still answer", async () => {
  const s = setup();
  await s.app.request("/flows/a", fbp(GOOD, "PUT"));
  await s.close();
  for (
    const [path, init] of [
      ["/flows", fbp(GOOD)],
      ["/flows/a", fbp(OTHER, "PUT")],
      ["/flows/b", fbp(OTHER, "PUT")],
      ["/flows/a", mergePatch("{}")],
      ["/flows/a", { method: "DELETE" }],
      ["/flows/a/start", { method: "POST" }],
      ["/flows/a/stop", { method: "POST" }],
    ] as [string, RequestInit][]
  ) {
    const res = await s.app.request(path, init);
    assert.equal(res.status, 503, `${init.method} ${path}`);
    assert.match(String((await body(res)).error), /the flow manager is closed/);
  }
  assert.equal((await s.app.request("/flows/a")).status, 200);
  assert.equal((await s.app.request("/readyz")).status, 503);
});

test("JSON nested thousands deep is a 400 that says so, for a graph and for a merge patch; nothing changes", async () => {
  const s = setup();
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    const before = views(s);
    const deep = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    for (
      const [path, init] of [
        ["/flows?id=deep", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: `{"processes":{},"properties":{"x":${deep(100_000)}}}`,
        }],
        ["/flows/a", mergePatch(`{"properties":{"x":${deep(100_000)}}}`)],
      ] as [string, RequestInit][]
    ) {
      const res = await s.app.request(path, init);
      const b = await body(res);
      assert.equal(res.status, 400, String(b.error));
      // Either the JSON reader refuses it or the graph code: both say why.
      assert.match(
        String(b.error),
        /nested too deeply|not valid JSON|Invalid graph|Cannot read/,
      );
      assert.doesNotMatch(String(b.error), /^Maximum call stack/);
    }
    assert.deepEqual(views(s), before);
  } finally {
    await s.close();
  }
});

test("ids: unicode, percent-encoded slashes, malformed escapes and 129 characters are refused with the id rule or a 404; nothing is created", async () => {
  const s = setup();
  try {
    for (
      const id of ["%E2%9C%93", "a%2Fb", "a%20b", ".hidden", "a".repeat(129)]
    ) {
      const res = await s.app.request(`/flows/${id}`, fbp(GOOD, "PUT"));
      assert.equal(res.status, 400, id);
      assert.match(
        String((await body(res)).error),
        /an id is 1 to 128 letters/,
      );
    }
    for (const path of ["/flows/%E0%A4%A", "/flows/a%00b", "/flows/%ZZ"]) {
      const res = await s.app.request(path);
      assert.equal(res.status, 404, path);
      await body(res);
    }
    assert.deepEqual(s.store.list(), []);
    const ok = "a".repeat(128);
    assert.equal(
      (await s.app.request(`/flows/${ok}`, fbp(GOOD, "PUT"))).status,
      201,
    );
    assert.equal((await s.app.request(`/flows/${ok}`)).status, 200);
  } finally {
    await s.close();
  }
});

test("every route answers HEAD like its GET without a body, and other methods with 405 and Allow", async () => {
  const s = setup({
    access: {
      tokens: [{ token: TOKEN, scopes: ["read", "write", "metrics"] }],
    },
  });
  const auth = { Authorization: `Bearer ${TOKEN}` };
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT", auth));
    for (
      const path of [
        "/flows",
        "/flows/a",
        "/flows/a/stats",
        "/flows/a/events",
        "/components",
        "/healthz",
        "/readyz",
        "/version",
        "/metrics",
        "/api/v1/metadata",
      ]
    ) {
      const res = await s.app.request(path, { method: "HEAD", headers: auth });
      assert.equal(res.status, 200, `HEAD ${path}`);
      assert.equal(await res.text(), "", `HEAD ${path} has no body`);
    }
    assert.equal(s.subscriptions(), 0, "a HEAD of the events opens no stream");
    for (
      const [path, methods, allow] of [
        ["/flows", ["PUT", "DELETE", "PATCH"], /GET.*POST/],
        ["/flows/a", ["POST", "OPTIONS"], /PUT.*PATCH.*DELETE/],
        ["/flows/a/start", ["GET", "PUT", "DELETE"], /^POST$/],
        ["/flows/a/stop", ["GET"], /^POST$/],
        ["/flows/a/stats", ["POST", "DELETE"], /GET/],
        ["/flows/a/events", ["POST"], /GET/],
        ["/components", ["POST"], /GET/],
        ["/healthz", ["POST"], /GET/],
        ["/readyz", ["DELETE"], /GET/],
        ["/version", ["PUT"], /GET/],
        ["/metrics", ["POST"], /GET/],
      ] as [string, string[], RegExp][]
    ) {
      for (const method of methods) {
        const res = await s.app.request(path, { method, headers: auth });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.match(
          res.headers.get("allow") ?? "",
          allow,
          `${method} ${path}`,
        );
        assert.match(String((await body(res)).error), /not allowed/);
      }
    }
    assert.equal(s.flows.get("a").rev, 1);
  } finally {
    await s.close();
  }
});

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

// ---- real sockets ----

/** A raw TCP connection to the server; errors are swallowed. */
async function openSocket(port: number): Promise<Socket> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/** Everything received until `done(text)` holds, or the connection closes. */
function receive(
  socket: Socket,
  done: (text: string) => boolean = () => false,
): Promise<string> {
  let text = "";
  socket.setEncoding("latin1");
  return new Promise((resolve) => {
    socket.on("data", (d: string) => {
      text += d;
      if (done(text)) resolve(text);
    });
    socket.once("close", () => resolve(text));
  });
}

/** Status of a raw HTTP/1.1 response. */
function statusOf(reply: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);
}

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
        for (let i = 0; i < 10; i++) {
          const abort = new AbortController();
          aborts.push(abort);
          const res = await fetch(`${server.url}/flows/a/events`, {
            signal: abort.signal,
          });
          assert.equal(res.status, 200);
          await res.body!.getReader().read();
        }
        assert.equal(s.subscriptions(), 10);
        for (const a of aborts) a.abort();
        await until(() => s.subscriptions() === 0, 10_000);
      }
      for (const mode of ["destroy", "end"]) {
        const socket = await openSocket(server.port);
        const got = receive(socket, (t) => t.includes("event: stats"));
        socket.write("GET /flows/a/events HTTP/1.1\r\nHost: x\r\n\r\n");
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
        "GET /flows/big/events?interval=100 HTTP/1.1\r\nHost: x\r\n\r\n",
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

test(
  "shutting down with event-stream clients connected ends their streams at once; close() does not wait for its grace",
  {
    timeout: 60_000,
  },
  async () => {
    const streams = new AbortController();
    const s = setup({ signal: streams.signal });
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    // A grace longer than the test: close() must not need it.
    const server = await serve(s.app.fetch, { closeGraceMs: 600_000 });
    const ends: Promise<string>[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const socket = await openSocket(server.port);
        const got = receive(socket);
        socket.write("GET /flows/a/events HTTP/1.1\r\nHost: x\r\n\r\n");
        ends.push(got);
      }
      await until(() => s.subscriptions() === 5, 10_000);
      streams.abort();
      await server.close();
      assert.equal(s.subscriptions(), 0);
      for (const reply of await Promise.all(ends)) {
        assert.equal(statusOf(reply), 200);
        assert.match(reply, /event: state/);
      }
    } finally {
      await server.close();
      await s.close();
    }
  },
);

test(
  "bodies over sockets: exactly the limit is read, one byte more is 413, a chunked body past it is 413, a stalled body is 408",
  {
    timeout: 60_000,
  },
  async () => {
    const limit = 4096;
    const s = setup({ maxBodyBytes: limit, requestTimeoutMs: 500 });
    const server = await serve(s.app.fetch, { closeGraceMs: 100 });
    const send = async (payload: string, stall = false) => {
      const socket = await openSocket(server.port);
      const got = receive(socket, (t) => /\r\n\r\n[\s\S]*\}/.test(t));
      socket.write(payload);
      const reply = await got;
      socket.destroy();
      assert.ok(stall || reply.length > 0);
      return reply;
    };
    // .fbp text of exactly `limit` bytes: a comment pads a good graph.
    const pad = (n: number) => `# ${"x".repeat(n - GOOD.length - 3)}\n` + GOOD;
    try {
      for (const [size, status] of [[limit, 201], [limit + 1, 413]]) {
        const text = pad(size);
        assert.equal(new TextEncoder().encode(text).length, size);
        const reply = await send(
          `PUT /flows/s${size} HTTP/1.1\r\nHost: x\r\nContent-Type: text/vnd.fbp\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n${text}`,
        );
        assert.equal(statusOf(reply), status, `${size} bytes`);
      }
      const chunk = "#".repeat(1000) + "\n";
      const chunks = Array.from(
        { length: 5 },
        () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      ).join("");
      let reply = await send(
        `PUT /flows/chunked HTTP/1.1\r\nHost: x\r\nContent-Type: text/vnd.fbp\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
      );
      assert.equal(statusOf(reply), 413);
      assert.match(reply, /larger than the 4096-byte limit/);
      // Half a body, then nothing.
      reply = await send(
        `PUT /flows/slow HTTP/1.1\r\nHost: x\r\nContent-Type: text/vnd.fbp\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n'1s' -> interval`,
        true,
      );
      assert.equal(statusOf(reply), 408);
      assert.match(reply, /did not arrive within 500 ms/);
      assert.deepEqual(s.store.list().map((f) => f.id), [`s${limit}`]);
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
