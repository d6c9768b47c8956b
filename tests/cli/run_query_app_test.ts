/**
 * The query API of `weir run` and `weir demo` (beside their `/metrics`)
 * answers a request no route takes as weir serve does.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { _runQueryApp } from "../../src/cli/run_flow.ts";
import { FlowManager, FlowStore } from "../../src/flows/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { flowApp } from "../../src/server/flow_app.ts";
import { MemoryHistory } from "../server/_memory_history.ts";
import { killLeftovers, startWeir } from "./_weir.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** A GET of `path` as it is written (node:http does not normalize it). */
function getAsIs(
  url: string,
  path: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => body += d);
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Status, the headers a client reads, and the body. */
async function answer(res: Response) {
  return [
    res.status,
    res.headers.get("content-type"),
    res.headers.get("cache-control"),
    res.headers.get("allow"),
    await res.text(),
  ];
}

test("weir run's query API answers a path it has no route for with weir serve's 404, and a method no route names with its 405, from the same handler", async () => {
  const history = new MemoryHistory();
  const run = _runQueryApp(history);
  const components = builtins();
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: components,
  });
  try {
    const serve = flowApp({
      flows,
      metrics: new MetricsCollector(),
      components,
      history,
    });
    for (
      const [method, path] of [
        ["GET", "/api/v1/nope"],
        ["PROPFIND", "/api/v1/query"],
      ]
    ) {
      const got = await answer(await run.request(path, { method }));
      assert.deepEqual(
        got,
        await answer(await serve.request(path, { method })),
        `${method} ${path}`,
      );
      assert.equal(got[0], method === "GET" ? 404 : 405, `${method} ${path}`);
    }
    assert.deepEqual(await (await run.request("/api/v1/nope")).json(), {
      error: "no route for /api/v1/nope",
    });
  } finally {
    await flows.close();
  }
});

test(
  "weir run --history answers a query path with a dot segment (/api/v1/x/../query) without a 500: on Deno weir serve's 404, on Bun (which normalizes it) the query",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-run-query-"));
    try {
      const file = join(dir, "ticks.fbp");
      writeFileSync(
        file,
        "'1s' -> interval Tick(core/Interval) out -> in Drop(core/Drop)\n",
      );
      const w = startWeir([
        "run",
        "--history",
        "--metrics",
        "127.0.0.1:0",
        file,
      ], { cwd: dir });
      const url = (await w.logged(
        (r) => r.msg.startsWith("metrics at"),
        "serving metrics",
      )).url as string;
      // The dispatch tests the URL as Deno normalizes it (a query path);
      // Hono routes the path as it came: no route, whose handler called
      // itself until the stack overflowed.
      const got = await getAsIs(url, "/api/v1/x/../query?query=up");
      assert.deepEqual(
        [got.status, JSON.parse(got.body)],
        isBun
          ? [200, {
            status: "success",
            data: { resultType: "vector", result: [] },
          }]
          : [404, { error: "no route for /api/v1/x/../query" }],
        w.log(),
      );
      assert.doesNotMatch(w.log(), /failed \(request id/);
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
