/**
 * `WEIR_JIT_POLICY`: the scale weir's own process sets for Bun's JIT
 * (src/runtime/jit_policy.ts), read at start on every runtime; a bad value
 * is a usage error before anything runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { startWeir } from "./_weir.ts";

function _env(value: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("WEIR_")) env[k] = v;
  }
  return { ...env, WEIR_JIT_POLICY: value };
}

test("WEIR_JIT_POLICY: a scale from 1 to 1000 runs weir, anything else is refused at start, saying what it takes", async () => {
  for (const ok of ["1", "16", "250.5", ""]) {
    const weir = startWeir(["version"], { env: _env(ok) });
    const exit = await weir.exited;
    assert.equal(exit.code, 0, `${JSON.stringify(ok)}: ${weir.log()}`);
    assert.match(weir.log(), /^weir \d/);
  }
  for (const bad of ["fast", "0", "0.5", "1001", "Infinity"]) {
    const weir = startWeir(["version"], { env: _env(bad) });
    const exit = await weir.exited;
    assert.equal(exit.code, 2, `${bad}: ${weir.log()}`);
    assert.equal(
      weir.log().trim(),
      `weir: WEIR_JIT_POLICY must be a number from 1 to 1000 (how many times Bun's JavaScriptCore scales its tier-up thresholds; 1 is its default, 16 weir's), received ${
        JSON.stringify(bad)
      }`,
    );
  }
});
