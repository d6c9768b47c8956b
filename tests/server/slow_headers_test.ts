/**
 * Issue 18, finding 11, through a real `weir serve`: Deno kept 500
 * slow-header connections open after 25 s (Bun closed them after about
 * 12 s). Now both close them, and /healthz answers meanwhile.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import process from "node:process";
import { test } from "node:test";
import { killLeftovers, startServe } from "../cli/_weir.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

test(
  "weir serve closes 500 connections that never finish their headers, and keeps answering",
  {
    timeout: 90_000,
  },
  async () => {
    const w = await startServe(["--listen", "127.0.0.1:0", "--db", ":memory:"]);
    const port = Number(new URL(w.url).port);
    const sockets: Socket[] = [];
    let open = 0;
    try {
      for (let i = 0; i < 500; i++) {
        const s = connect({ host: "127.0.0.1", port });
        s.on("error", () => {});
        open++;
        s.on("close", () => open--);
        s.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
        sockets.push(s);
      }
      const health = await fetch(`${w.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      // The default timeout is 10 s (Bun's own is about the same).
      const end = Date.now() + 60_000;
      while (open > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(open, 0, `${open} of 500 slow connections still open`);
      const after = await fetch(`${w.url}/healthz`);
      assert.equal(after.status, 200);
      await after.body?.cancel();
      if (isDeno) {
        await w.logged(
          (r) =>
            r.level === "warn" &&
            /^closed \d+ connections? that sent no whole request within 10000 ms/
              .test(r.msg),
          "the header timeout's log line",
        );
      }
    } finally {
      for (const s of sockets) s.destroy();
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
      killLeftovers();
    }
  },
);
