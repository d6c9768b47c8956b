/**
 * A slow scrape is answered, not cut by the server's idle timeout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeHttp, withMetricsServer } from "../server/_metrics_sockets.ts";

// ---- slow -------------------------------------------------------------------

test(
  "a scrape whose render takes 13 s is answered, not cut by the server's idle timeout",
  { timeout: 30_000 },
  async () => {
    // A big flow or a slow user collect under a Prometheus scrape_timeout of
    // 15 s or more; Bun.serve's default idleTimeout is 10 s.
    const source = {
      render: () =>
        new Promise<string>((r) => setTimeout(() => r("up 1\n"), 13_000)),
      metadata: () => ({}),
    };
    await withMetricsServer(source, async (server) => {
      const res = await nodeHttp(server.port, "/metrics");
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "up 1\n");
    }, 1);
  },
);
