/**
 * The flow API's contract, through `app.request()`: every route, and the
 * bad-input matrix. After every refused request, the flows and the
 * database are exactly as before.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { flowApp, type FlowAppOptions } from "../../src/server/flow_app.ts";
import type { AccessOptions } from "../../src/server/auth.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { parseExposition, valueOf } from "../metrics/_exposition.ts";

const GOOD = `# @name t1
'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)
`;
const GOOD_JSON = {
  properties: { name: "j1" },
  processes: {
    Tick: { component: "core/Interval" },
    Out: { component: "core/Drop" },
  },
  connections: [
    { data: "1s", tgt: { process: "Tick", port: "interval" } },
    {
      src: { process: "Tick", port: "out" },
      tgt: { process: "Out", port: "in" },
    },
  ],
};
const READ = "r".repeat(20);
const WRITE = "w".repeat(20);
const METRICS = "m".repeat(20);

interface Setup {
  app: ReturnType<typeof flowApp>;
  flows: FlowManager;
  store: FlowStore;
  metrics: MetricsCollector;
  dir: string;
  close(): Promise<void>;
}

function setup(
  access?: AccessOptions,
  extra: Partial<FlowAppOptions> = {},
): Setup {
  const dir = mkdtempSync(join(tmpdir(), "weir-app-"));
  const store = FlowStore.open(join(dir, "flows.db"));
  const metrics = new MetricsCollector();
  const components = builtins();
  const flows = new FlowManager({
    store,
    registry: components,
    collector: metrics,
    drainTimeoutMs: 1000,
  });
  const app = flowApp({ flows, metrics, components, access, ...extra });
  return {
    app,
    flows,
    store,
    metrics,
    dir,
    async close() {
      await flows.close({ timeoutMs: 1000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const fbp = (body: string, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "text/vnd.fbp", ...headers },
  body,
});

/** Everything a refused request must leave alone. */
function snapshot(s: Setup): string {
  return JSON.stringify({
    stored: s.store.list(),
    flows: s.flows.list().map((f) => ({ ...f })),
  });
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const type = res.headers.get("content-type") ?? "";
  assert.match(type, /^application\/json/, `JSON body (status ${res.status})`);
  return await res.json();
}

test("POST /flows creates a flow from .fbp text and from fbp-graph JSON", async () => {
  const s = setup();
  try {
    let res = await s.app.request("/flows", fbp(GOOD));
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), "/flows/t1");
    assert.equal(res.headers.get("etag"), '"1"');
    const created = await json(res);
    assert.equal(created.id, "t1");
    assert.equal(created.rev, 1);
    assert.equal(created.state, "running");

    res = await s.app.request("/flows?start=false", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(GOOD_JSON),
    });
    assert.equal(res.status, 201);
    const j = await json(res);
    assert.equal(j.id, "j1");
    assert.equal(j.running, false);

    res = await s.app.request("/flows?id=other", fbp(GOOD));
    assert.equal((await json(res)).id, "other");

    const list = await json(await s.app.request("/flows"));
    assert.deepEqual(
      (list.flows as { id: string }[]).map((f) => f.id).sort(),
      ["j1", "other", "t1"],
    );
    const one = await json(await s.app.request("/flows/t1"));
    assert.deepEqual(one.source, { format: "fbp", text: GOOD });
    assert.equal(
      (one.graph as { processes: Record<string, { component: string }> })
        .processes.Tick.component,
      "core/Interval",
    );
    assert.equal(s.store.list().length, 3, "all three are stored");
  } finally {
    await s.close();
  }
});

test("bad input gets the right 4xx with a JSON message, and changes nothing", async () => {
  const s = setup();
  try {
    await s.app.request("/flows", fbp(GOOD));
    const cases: {
      name: string;
      path: string;
      init: RequestInit;
      status: number;
      error: RegExp;
      check?: (body: Record<string, unknown>) => void;
    }[] = [
      {
        name: "malformed JSON",
        path: "/flows",
        init: {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: '{"processes": {\n  "A": {"component": "core/Drop",}\n}}',
        },
        status: 400,
        error: /problem/,
        check: (b) => {
          const p = (b.problems as { line?: number; col?: number }[])[0];
          assert.equal(typeof p.line, "number", "the problem has a line");
          assert.equal(typeof p.col, "number", "and a column");
        },
      },
      {
        name: "wrong content type",
        path: "/flows",
        init: {
          method: "POST",
          headers: { "Content-Type": "application/xml" },
          body: "<x/>",
        },
        status: 415,
        error: /application\/json .* or text\/vnd\.fbp/,
      },
      {
        name: "no content type",
        path: "/flows",
        init: { method: "POST", body: new Uint8Array([1, 2, 3]) },
        status: 415,
        error: /no Content-Type/,
      },
      {
        name: "unknown component",
        path: "/flows",
        init: fbp(
          "'1s' -> interval Tick(core/Intervall) out -> in Out(core/Drop)",
        ),
        status: 400,
        error: /problem/,
        check: (b) => {
          const problems = b.problems as { message: string; line?: number }[];
          assert.ok(
            problems.some((p) =>
              /core\/Intervall/.test(p.message) && p.line === 1
            ),
            JSON.stringify(problems),
          );
        },
      },
      {
        name: "unknown port",
        path: "/flows",
        init: fbp(
          "'1s' -> interval Tick(core/Interval) outt -> in Out(core/Drop)",
        ),
        status: 400,
        error: /problem/,
        check: (b) =>
          assert.ok(
            (b.problems as { message: string }[]).some((p) =>
              /outt/.test(p.message)
            ),
            JSON.stringify(b.problems),
          ),
      },
      {
        name: ".fbp syntax error",
        path: "/flows",
        init: fbp("# @name bad\n'1s' -> interval Tick(core/Interval\n"),
        status: 400,
        error: /problem/,
        check: (b) => {
          const p = (b.problems as { line?: number; col?: number }[])[0];
          assert.equal(p.line, 2);
          assert.equal(typeof p.col, "number");
        },
      },
      {
        name: "oversized body (declared)",
        path: "/flows",
        init: fbp("#".repeat(1024 * 1024 + 1)),
        status: 413,
        error: /larger than the 1048576-byte limit/,
      },
      {
        name: "oversized body (streamed, no Content-Length)",
        path: "/flows",
        init: {
          method: "POST",
          headers: { "Content-Type": "text/vnd.fbp" },
          body: new ReadableStream({
            start(c) {
              for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(64 * 1024));
              c.close();
            },
          }),
          duplex: "half",
        } as RequestInit,
        status: 413,
        error: /limit/,
      },
      {
        name: "empty body",
        path: "/flows",
        init: fbp("  \n"),
        status: 400,
        error: /empty/,
      },
      {
        name: "invalid UTF-8",
        path: "/flows",
        init: {
          method: "POST",
          headers: { "Content-Type": "text/vnd.fbp" },
          body: new Uint8Array([0x27, 0xff, 0xfe, 0x27]),
        },
        status: 400,
        error: /UTF-8/,
      },
      {
        name: "a charset other than UTF-8",
        path: "/flows",
        init: fbp(GOOD, { "Content-Type": "text/vnd.fbp; charset=latin1" }),
        status: 415,
        error: /UTF-8/,
      },
      {
        name: "id taken",
        path: "/flows",
        init: fbp(GOOD),
        status: 409,
        error: /t1/,
      },
      {
        name: "bad id",
        path: "/flows?id=..%2Fescape",
        init: fbp(GOOD),
        status: 400,
        error: /id/,
      },
      {
        name: "stale rev (If-Match)",
        path: "/flows/t1",
        init: {
          ...fbp(GOOD.replace("1s", "2s"), { "If-Match": '"7"' }),
          method: "PUT",
        },
        status: 409,
        error: /rev/,
      },
      {
        name: "stale rev (?rev=)",
        path: "/flows/t1?rev=99",
        init: { method: "DELETE" },
        status: 409,
        error: /rev/,
      },
      {
        name: "malformed rev",
        path: "/flows/t1",
        init: {
          ...fbp(GOOD),
          method: "PUT",
          headers: { "Content-Type": "text/vnd.fbp", "If-Match": "banana" },
        },
        status: 400,
        error: /If-Match must be a flow revision/,
      },
      {
        name: "PUT of a graph that does not build",
        path: "/flows/t1",
        init: { ...fbp("'1s' -> interval Tick(core/Nope)"), method: "PUT" },
        status: 400,
        error: /problem/,
      },
      {
        name: "PATCH that is not JSON",
        path: "/flows/t1",
        init: {
          method: "PATCH",
          headers: { "Content-Type": "application/merge-patch+json" },
          body: "{nope",
        },
        status: 400,
        error: /not valid JSON/,
      },
      {
        name: "PATCH with a wrong content type",
        path: "/flows/t1",
        init: {
          method: "PATCH",
          headers: { "Content-Type": "text/vnd.fbp" },
          body: GOOD,
        },
        status: 415,
        error: /merge patch/,
      },
      {
        name: "PATCH that breaks the graph",
        path: "/flows/t1",
        init: {
          method: "PATCH",
          headers: { "Content-Type": "application/merge-patch+json" },
          body: JSON.stringify({
            processes: { Tick: { component: "core/Nope" } },
          }),
        },
        status: 400,
        error: /problem/,
      },
      {
        name: "unknown flow: GET",
        path: "/flows/nope",
        init: {},
        status: 404,
        error: /nope/,
      },
      {
        name: "unknown flow: DELETE",
        path: "/flows/nope",
        init: { method: "DELETE" },
        status: 404,
        error: /nope/,
      },
      {
        name: "unknown flow: start",
        path: "/flows/nope/start",
        init: { method: "POST" },
        status: 404,
        error: /nope/,
      },
      {
        name: "unknown flow: stop",
        path: "/flows/nope/stop",
        init: { method: "POST" },
        status: 404,
        error: /nope/,
      },
      {
        name: "unknown flow: stats",
        path: "/flows/nope/stats",
        init: {},
        status: 404,
        error: /nope/,
      },
      {
        name: "unknown flow: events",
        path: "/flows/nope/events",
        init: {},
        status: 404,
        error: /nope/,
      },
      {
        name: "unknown flow: PUT with a rev",
        path: "/flows/nope?rev=1",
        init: { ...fbp(GOOD), method: "PUT" },
        status: 404,
        error: /nope/,
      },
      {
        name: "bad stop timeout",
        path: "/flows/t1/stop?timeout=-5",
        init: { method: "POST" },
        status: 400,
        error: /timeout must be a whole number/,
      },
      {
        name: "event interval too short",
        path: "/flows/t1/events?interval=50",
        init: {},
        status: 400,
        error:
          /interval must be a whole number of milliseconds from 100 to 60000/,
      },
      {
        name: "bad start flag",
        path: "/flows?start=maybe",
        init: fbp(GOOD.replace("t1", "t9")),
        status: 400,
        error: /start must be true or false/,
      },
      {
        name: "method not allowed",
        path: "/flows/t1/stats",
        init: { method: "POST" },
        status: 405,
        error: /use GET, HEAD/,
      },
      {
        name: "unknown route",
        path: "/flowz",
        init: {},
        status: 404,
        error: /no route for \/flowz/,
      },
    ];
    for (const c of cases) {
      const before = snapshot(s);
      const res = await s.app.request(c.path, c.init);
      assert.equal(res.status, c.status, `${c.name}: status`);
      const body = await json(res);
      assert.match(String(body.error), c.error, `${c.name}: ${body.error}`);
      assert.ok(!String(body.error).includes("    at "), `${c.name}: no stack`);
      c.check?.(body);
      assert.equal(snapshot(s), before, `${c.name}: nothing changed`);
      if (c.status === 405) assert.equal(res.headers.get("allow"), "GET, HEAD");
    }
    assert.equal(s.flows.get("t1").state, "running", "t1 still runs");
  } finally {
    await s.close();
  }
});

test("tokens: missing, wrong and under-scoped tokens are refused and change nothing", async () => {
  const s = setup({
    tokens: [
      { token: READ, scopes: ["read"] },
      { token: WRITE, scopes: ["read", "write"] },
      { token: METRICS, scopes: ["metrics"] },
    ],
  });
  try {
    const auth = (t: string) => ({ Authorization: `Bearer ${t}` });
    const before = snapshot(s);
    let res = await s.app.request("/flows", fbp(GOOD));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="weir"');
    assert.match(
      String((await json(res)).error),
      /needs a token with the "write" scope/,
    );
    res = await s.app.request("/flows", fbp(GOOD, auth(WRITE + "x")));
    assert.equal(res.status, 401);
    res = await s.app.request("/flows", fbp(GOOD, auth(READ)));
    assert.equal(res.status, 403);
    assert.match(String((await json(res)).error), /lacks the "write" scope/);
    assert.equal(snapshot(s), before);

    res = await s.app.request("/flows", fbp(GOOD, auth(WRITE)));
    assert.equal(res.status, 201);
    assert.equal(
      (await s.app.request("/flows", { headers: auth(READ) })).status,
      200,
    );
    assert.equal((await s.app.request("/flows")).status, 401);
    assert.equal(
      (await s.app.request("/components", { headers: auth(METRICS) })).status,
      403,
    );
    // Metrics need the metrics scope; health and version need nothing.
    assert.equal((await s.app.request("/metrics")).status, 401);
    assert.equal(
      (await s.app.request("/metrics", { headers: auth(READ) })).status,
      403,
    );
    assert.equal(
      (await s.app.request("/metrics", { headers: auth(METRICS) })).status,
      200,
    );
    assert.equal(
      (await s.app.request("/api/v1/metadata", { headers: auth(METRICS) }))
        .status,
      200,
    );
    // The metadata with a read token too: Grafana's metric browser asks
    // for it with the token it queries the history with.
    assert.equal(
      (await s.app.request("/api/v1/metadata", { headers: auth(READ) }))
        .status,
      200,
    );
    assert.equal(
      (await s.app.request("/api/v1/metadata", { headers: auth(WRITE + "x") }))
        .status,
      401,
    );
    assert.equal((await s.app.request("/api/v1/metadata")).status, 401);
    for (const p of ["/healthz", "/readyz", "/version"]) {
      assert.equal((await s.app.request(p)).status, 200, p);
    }
  } finally {
    await s.close();
  }
});

test("an exposed server with no token refuses flow routes with a sentence, and serves health and metrics", async () => {
  const s = setup({ exposed: true });
  try {
    const res = await s.app.request("/flows", fbp(GOOD));
    assert.equal(res.status, 403);
    assert.match(
      String((await json(res)).error),
      /no token configured.*weir serve: --token or WEIR_TOKEN.*an app that mounts flowApp: the tokens of its access option/,
    );
    assert.equal((await s.app.request("/flows")).status, 403);
    assert.equal(s.store.list().length, 0);
    for (const p of ["/healthz", "/readyz", "/version", "/metrics"]) {
      assert.equal((await s.app.request(p)).status, 200, p);
    }
  } finally {
    await s.close();
  }
});

test("PUT replaces a flow (rev + 1); a PUT that cannot build leaves the old one running", async () => {
  const s = setup();
  try {
    await s.app.request("/flows", fbp(GOOD));
    let res = await s.app.request("/flows/t1", {
      ...fbp(GOOD.replace("'1s'", "'2s'"), { "If-Match": '"1"' }),
      method: "PUT",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("etag"), '"2"');
    assert.equal((await json(res)).rev, 2);
    assert.match(s.store.get("t1")!.text, /'2s'/);

    res = await s.app.request("/flows/t1", {
      ...fbp("'1s' -> interval Tick(core/Interval) out -> in Out(core/Nope)"),
      method: "PUT",
    });
    assert.equal(res.status, 400);
    assert.equal(s.flows.get("t1").rev, 2);
    assert.equal(s.flows.get("t1").state, "running");

    // PUT to a new id creates it.
    res = await s.app.request("/flows/fresh", { ...fbp(GOOD), method: "PUT" });
    assert.equal(res.status, 201);
    assert.equal((await json(res)).id, "fresh");
  } finally {
    await s.close();
  }
});

test("PATCH applies a JSON merge patch; stop drains, start runs again; DELETE removes", async () => {
  const s = setup();
  try {
    await s.app.request("/flows", fbp(GOOD));
    let res = await s.app.request("/flows/t1", {
      method: "PATCH",
      headers: {
        "Content-Type": "application/merge-patch+json",
        "If-Match": '"1"',
      },
      body: JSON.stringify({
        processes: { Out: { component: "core/Output" } },
      }),
    });
    assert.equal(res.status, 200, JSON.stringify(await res.clone().json()));
    assert.equal((await json(res)).rev, 2);
    const one = await json(await s.app.request("/flows/t1"));
    assert.equal(
      (one.graph as { processes: Record<string, { component: string }> })
        .processes.Out.component,
      "core/Output",
    );

    res = await s.app.request("/flows/t1/stop?timeout=500", { method: "POST" });
    assert.equal(res.status, 200);
    const stopped = await json(res);
    assert.equal(stopped.running, false);
    assert.notEqual(stopped.state, "running");
    assert.equal(typeof stopped.drained, "boolean");
    assert.equal(s.store.get("t1")!.running, false);

    res = await s.app.request("/flows/t1/start", { method: "POST" });
    assert.equal(res.status, 200);
    assert.equal((await json(res)).state, "running");

    const stats = await json(await s.app.request("/flows/t1/stats"));
    assert.equal(stats.name, "t1");
    assert.ok(Array.isArray(stats.processes));

    res = await s.app.request("/flows/t1", { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal((await s.app.request("/flows/t1")).status, 404);
    assert.equal(s.store.get("t1"), undefined);
  } finally {
    await s.close();
  }
});

test("health, readiness, version and the component catalogue", async () => {
  const s = setup();
  try {
    assert.deepEqual(await json(await s.app.request("/healthz")), {
      status: "ok",
    });
    let res = await s.app.request("/readyz");
    assert.equal(res.status, 200);
    assert.equal((await json(res)).ready, true);

    // A stored flow that should run but cannot be built: not ready.
    s.store.create({
      id: "broken",
      text: "'1s' -> interval T(core/Gone)",
      format: "fbp",
      running: true,
    });
    await s.flows.restore();
    res = await s.app.request("/readyz");
    assert.equal(res.status, 503);
    const r = await json(res);
    assert.equal(r.ready, false);
    assert.ok(
      (r.reasons as string[]).some((x) => x.includes("broken")),
      JSON.stringify(r),
    );

    const v = await json(await s.app.request("/version"));
    assert.match(String(v.version), /^\d+\.\d+\.\d+/);
    assert.ok(["deno", "bun"].includes(String(v.runtime)), String(v.runtime));
    assert.match(String(v.runtimeVersion), /^\d+\.\d+/);

    const c = await json(await s.app.request("/components"));
    const interval = (c.components as {
      name: string;
      inPorts: { name: string; control: boolean }[];
      outPorts: { name: string }[];
    }[])
      .find((x) => x.name === "core/Interval")!;
    assert.ok(interval.inPorts.some((p) => p.name === "interval" && p.control));
    assert.ok(interval.outPorts.some((p) => p.name === "out"));
  } finally {
    await s.close();
  }
});

test("/metrics counts flow operations and active flows as the API is used", async () => {
  const s = setup();
  try {
    await s.app.request("/flows", fbp(GOOD));
    await s.app.request("/flows", fbp("'1s' -> interval T(core/Gone)"));
    const e = parseExposition(await (await s.app.request("/metrics")).text());
    assert.equal(valueOf(e, "weir_flows_active", {}), 1);
    assert.equal(
      valueOf(e, "weir_flow_operations_total", {
        operation: "create",
        result: "success",
      }),
      1,
    );
    assert.equal(
      valueOf(e, "weir_flow_operations_total", {
        operation: "create",
        result: "error",
      }),
      1,
    );
    assert.ok(
      e.samples.some((x) =>
        x.name === "weir_process_starts_total" && x.labels.flow === "t1"
      ),
      "the flow's process series are exported",
    );
  } finally {
    await s.close();
  }
});

test("GET /flows/:id/events streams state, stats and deletion as server-sent events", async () => {
  const abort = new AbortController();
  const s = setup(undefined, { signal: abort.signal });
  try {
    await s.app.request("/flows", fbp(GOOD));
    const res = await s.app.request("/flows/t1/events?interval=100");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const until = async (re: RegExp) => {
      while (!re.test(text)) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    };
    await until(/event: stats\ndata: \{/);
    assert.match(text, /event: state\ndata: \{"state":"running"\}/);
    await s.app.request("/flows/t1/stop", { method: "POST" });
    await until(/"state":"(stopped|finished)"/);
    await s.app.request("/flows/t1", { method: "DELETE" });
    await until(/event: deleted/);
    // The stream ends after the deletion.
    const { done } = await reader.read();
    assert.equal(done, true);

    // HEAD answers the headers without opening a stream.
    const head = await s.app.request("/flows/t1/events", { method: "HEAD" });
    assert.equal(head.status, 404, "t1 was deleted");
    await s.app.request("/flows", fbp(GOOD));
    const head2 = await s.app.request("/flows/t1/events", { method: "HEAD" });
    assert.equal(head2.status, 200);
    assert.match(head2.headers.get("content-type")!, /^text\/event-stream/);
    assert.equal(await head2.text(), "");

    // An aborted server signal ends the streams that are left.
    const res2 = await s.app.request("/flows/t1/events");
    const r2 = res2.body!.getReader();
    await r2.read();
    abort.abort();
    for (;;) if ((await r2.read()).done) break;
  } finally {
    await s.close();
  }
});

test("an internal error is a 500 that names the request, and goes to onInternalError with the error", async () => {
  const told: [string, string, unknown][] = [];
  const s = setup(undefined, {
    onInternalError: (r, e) => told.push([r.method, r.path, e]),
  });
  try {
    const boom = new Error("the disk is on fire");
    s.flows.list = () => {
      throw boom;
    };
    const res = await s.app.request("/flows");
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.deepEqual(body, {
      error:
        "internal error while handling GET /flows; the server log has the details",
      requestId: body.requestId,
    });
    assert.deepEqual(told, [["GET", "/flows", boom]]);
  } finally {
    await s.close();
  }
});
