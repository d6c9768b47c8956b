/**
 * scripts/test.mjs, the suite's runner: what it refuses before it runs a
 * step.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";

const SCRIPT = join(import.meta.dirname!, "..", "scripts", "test.mjs");

/** Runs `node scripts/test.mjs <args>` with `env` added; its exit and output. */
function runScript(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [SCRIPT, ...args], {
      env: { ...process.env, ...env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => out += d);
    child.stderr.on("data", (d) => out += d);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

test(
  "test.mjs refuses a WEIR_STEP_TIMEOUT that is no number of seconds, rather than running with no limit",
  {
    timeout: 60_000,
  },
  async () => {
    for (const bad of ["20m", "-5", "soon"]) {
      const r = await runScript(["--only", "fmt"], { WEIR_STEP_TIMEOUT: bad });
      assert.equal(r.code, 2, `${bad}: ${r.out}`);
      assert.match(
        r.out,
        new RegExp(
          `WEIR_STEP_TIMEOUT must be a number of seconds \\(0 for no limit\\), not "${bad}"`,
        ),
      );
      assert.doesNotMatch(r.out, /==> /, "no step ran");
    }
  },
);
