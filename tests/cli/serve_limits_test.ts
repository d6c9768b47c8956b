/**
 * `weir serve` applies its limits and budgets: `--max-capacity` refuses a
 * larger capacity as a graph problem, `--expression-timeout` fails an
 * expression over it as a timeout (the default, 1 s, lets it finish), and
 * each setting can come from its WEIR_ variable.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { startServeInTemp } from "./_weir.ts";

test(
  "weir serve --max-capacity 50 refuses a capacity of 100; WEIR_EXPRESSION_TIMEOUT=20ms fails a long expression as a timeout",
  { timeout: 60_000 },
  async () => {
    const w = await startServeInTemp("weir-limits-", [
      "--max-capacity",
      "50",
      "--stall-threshold",
      "off",
    ], { env: { ...process.env, WEIR_EXPRESSION_TIMEOUT: "20ms" } });
    try {
      const post = (text: string) =>
        fetch(`${w.url}/flows`, {
          method: "POST",
          headers: { "Content-Type": "text/vnd.fbp" },
          body: text,
        });
      const big = await post(
        "# @name big\nA(core/Repeat) out -> (100) in B(core/Drop)\n",
      );
      const body = await big.text();
      assert.equal(big.status, 400, body);
      assert.match(body, /capacity must be a positive integer up to 50/);
      const small = await post(
        "# @name small\nA(core/Repeat) out -> (50) in B(core/Drop)\n",
      );
      assert.equal(small.status, 201, await small.text());
      const slow = await post(
        "# @name slow\n'1' -> in M(flow/Map) out -> in D(core/Drop)\n'$sum($map([1..200000], function($x){$x*2}))' -> expr M\n",
      );
      assert.equal(slow.status, 201, await slow.text());
      let timeouts = 0;
      for (let i = 0; i < 200 && timeouts === 0; i++) {
        const stats = await (await fetch(`${w.url}/flows/slow/stats`)).json();
        timeouts = stats.processes.find((p: { name: string }) => p.name === "M")
          ?.errors.timeout ?? 0;
        if (timeouts === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(timeouts, 1);
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
    } finally {
      w.close();
    }
  },
);
