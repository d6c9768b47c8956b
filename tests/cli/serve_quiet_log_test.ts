/**
 * Quiet logs on a real `weir serve` (issue 18, finding 5): a flow whose
 * process fails on every message (about a thousand a second) writes its
 * first few error lines and then nothing more until the interval's summary,
 * while `weir_process_errors_total` counts every failure.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { startServeInTemp } from "./_weir.ts";

test(
  "weir serve: a process failing on every message logs a few lines, and its error counter counts every failure",
  { timeout: 60_000 },
  async () => {
    const w = await startServeInTemp("weir-quiet-", ["--no-history"]);
    try {
      const res = await fetch(`${w.url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: [
          "# @name noisy",
          "'1ms' -> interval T(core/Interval) out -> in M(flow/Map)",
          `'$error("boom")' -> expr M`,
          "",
        ].join("\n"),
      });
      assert.equal(res.status, 201, await res.text());
      const failures = async (): Promise<number> => {
        const text = await (await fetch(`${w.url}/metrics`)).text();
        const line = text.split("\n").find((l) =>
          l.startsWith("weir_process_errors_total{") &&
          l.includes('flow="noisy"') && l.includes('process="M"') &&
          l.includes('kind="exception"')
        );
        return line === undefined ? 0 : Number(line.split(" ").pop());
      };
      // Wait for a few seconds' worth of failures (hundreds at least).
      let counted = 0;
      for (let i = 0; i < 400 && counted < 500; i++) {
        await new Promise((r) => setTimeout(r, 25));
        counted = await failures();
      }
      assert.ok(counted >= 500, `only ${counted} failures counted`);
      const boom = w.log().split("\n").filter((l) => l.includes("boom"));
      // The limiter writes a burst a process an interval (60 s by default),
      // then one summary line: a few lines against hundreds of failures.
      assert.ok(boom.length >= 1, "the first failures are logged");
      assert.ok(
        boom.length <= 6,
        `${boom.length} lines for ${counted} failures:\n${boom.join("\n")}`,
      );
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
    } finally {
      w.close();
    }
  },
);
