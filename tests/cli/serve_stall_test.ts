/**
 * `weir serve` with the stall watchdog (default threshold, 2 s): a flow
 * whose process blocks the event loop for 3 s is stopped, failed with the
 * process named, while `/healthz` answers again right after and the other
 * flows run on. The blocking component is a test-only one registered by
 * this embedding test (the built-ins' expressions have their own budget).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { fail } from "../../src/cli/cli_error.ts";
import { createLogger } from "../../src/cli/log.ts";
import { startServer } from "../../src/cli/serve.ts";

const Block = defineComponent({
  name: "test/Block",
  description: "Busy-waits for the message's number of ms.",
  inPorts: { in: {} },
  process(v) {
    const end = Date.now() + Number(v);
    while (Date.now() < end) {
      // Nothing else runs on this thread meanwhile: the point.
    }
  },
});

test(
  "weir serve: a flow blocking the loop for 3 s is failed with the process named; /healthz answers right after; other flows run on",
  { timeout: 60_000 },
  async () => {
    const lines: string[] = [];
    const running = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      db: ":memory:",
      tokens: [],
      drainTimeoutMs: 1000,
      files: [],
      registry: builtins().register(Block),
      log: createLogger({ format: "json", write: (l) => lines.push(l) }),
      fail,
    });
    try {
      const url = running.server.url;
      const post = (text: string) =>
        fetch(`${url}/flows`, {
          method: "POST",
          headers: { "Content-Type": "text/vnd.fbp" },
          body: text,
        });
      const ok = await post(
        "# @name ok\n'20ms' -> interval T(core/Interval) out -> in D(core/Drop)\n",
      );
      assert.equal(ok.status, 201, await ok.text());
      const poison = await post(
        "# @name poison\n'3000' -> in Stall(test/Block)\n",
      );
      await poison.body?.cancel();
      // The block runs after the answer; wait until the flow is failed.
      let info: { state: string; error?: string } = { state: "" };
      const end = Date.now() + 20_000;
      while (info.state !== "failed" && Date.now() < end) {
        const res = await fetch(`${url}/flows/poison`);
        info = await res.json();
      }
      assert.equal(info.state, "failed");
      assert.match(
        info.error!,
        /^stalled the server for [23]\.\d s in process "Stall"$/,
      );
      const health = await fetch(`${url}/healthz`);
      await health.body?.cancel();
      assert.equal(health.status, 200);
      const others = await (await fetch(`${url}/flows/ok`)).json();
      assert.equal(others.state, "running");
      const logged = lines.map((l) => JSON.parse(l)).find((r) =>
        r.op === "fail" && r.flow === "poison"
      );
      assert.equal(logged?.process, "Stall");
      assert.match(logged?.msg, /stalled the server for .* in process "Stall"/);
    } finally {
      await running.shutdown();
    }
  },
);
