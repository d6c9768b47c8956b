/**
 * `weir serve`'s weir_tcp_connections from the first scrape: the sockets
 * are read once a minute, and the reading made before the port was bound
 * said `listen 0` until the next one.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { fail } from "../../src/cli/cli_error.ts";
import { createLogger } from "../../src/cli/log.ts";
import { startServer } from "../../src/cli/serve.ts";
import { parseExposition, valueOf } from "../metrics/_exposition.ts";

test(
  "weir serve: the first scrape's weir_tcp_connections counts the listening socket",
  {
    skip: process.platform !== "linux" && "needs Linux's /proc",
    timeout: 20_000,
  },
  async () => {
    const running = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      db: ":memory:",
      tokens: [],
      drainTimeoutMs: 1000,
      files: [],
      registry: builtins(),
      log: createLogger({ level: "error" }),
      fail,
    });
    try {
      const res = await fetch(`${running.server.url}/metrics`);
      assert.equal(res.status, 200);
      const e = parseExposition(await res.text());
      const listen = valueOf(e, "weir_tcp_connections", { state: "listen" });
      assert.ok(listen !== undefined && listen >= 1, `listen ${listen}`);
    } finally {
      await running.shutdown();
    }
  },
);
