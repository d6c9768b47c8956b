/**
 * `weir serve`'s JSON log lines carry their facts as fields: a remote
 * write warning names its destination.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { fail } from "../../src/cli/cli_error.ts";
import { createLogger } from "../../src/cli/log.ts";
import { startServer } from "../../src/cli/serve.ts";
import { until } from "../engine/_helpers.ts";

test(
  "weir serve: a remote write warning's JSON line has the destination field",
  { timeout: 30_000 },
  async () => {
    const lines: Record<string, unknown>[] = [];
    const running = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      db: ":memory:",
      tokens: [],
      drainTimeoutMs: 1000,
      files: [],
      registry: builtins(),
      history: { intervalMs: 50 },
      remoteWrite: [{
        options: {
          url: "http://127.0.0.1:9/api/v1/write",
          name: "central",
          batchDeadlineMs: 0,
        },
        fetch: () =>
          Promise.resolve(new Response("out of order sample", { status: 400 })),
      }],
      log: createLogger({
        format: "json",
        level: "warn",
        write: (l) => lines.push(JSON.parse(l)),
      }),
      fail,
    });
    try {
      await until(
        () => lines.some((l) => /remote write/.test(String(l.msg))),
        20_000,
      );
      const line = lines.find((l) => /remote write/.test(String(l.msg)))!;
      assert.equal(line.level, "warn");
      assert.equal(line.destination, "central", JSON.stringify(line));
    } finally {
      await running.shutdown();
    }
  },
);
