/**
 * How eagerly the runtime compiles weir's code with its optimizing tiers,
 * set by weir's own processes (`weir serve`, `run`, `demo`), not by an app
 * that embeds weir.
 *
 * On Bun, JavaScriptCore compiles a function with its optimizing tiers
 * (DFG, then FTL) once it has run a few thousand times. The work a server
 * does every second (the metric history's sampling and flushes, the
 * resource tracker, a scrape) crosses those counts within minutes and is
 * compiled function by function: on a quiet gateway most of the memory and
 * much of the CPU that this periodic work costs is the compilers' (their
 * code, their output, and the FTL compiler's own pages of the executable,
 * paged in by its first compilation; bench/RESULTS.md "Session 27" and
 * "Session 30"). Scaled up, the thresholds leave code that runs once a
 * second in the lower tiers, while a flow or a route under load (thousands
 * of runs a second) still reaches the optimizing tiers within seconds: the
 * message pipeline and the HTTP echo measured the same at 16 as at 1.
 * `WEIR_JIT_POLICY=1` gives JavaScriptCore's default back.
 *
 * @module
 */

/**
 * The factor weir's processes scale Bun's tier-up thresholds by
 * (`Bun.unsafe.setJITPolicy`; 1 is JavaScriptCore's default).
 */
export const BUN_JIT_POLICY = 16;

interface _BunUnsafe {
  setJITPolicy?: (scale: number) => void;
}

/**
 * The scale `WEIR_JIT_POLICY` asks for ({@linkcode BUN_JIT_POLICY} when it
 * is unset or empty): a number from 1 (JavaScriptCore's default) to 1000.
 * Throws a `RangeError` naming the variable for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BUN_JIT_POLICY, jitPolicyScale } from "./jit_policy.ts";
 *
 * assert.equal(jitPolicyScale(undefined), BUN_JIT_POLICY);
 * assert.equal(jitPolicyScale("1"), 1);
 * assert.throws(() => jitPolicyScale("fast"), /WEIR_JIT_POLICY must be a number from 1 to 1000/);
 * ```
 */
export function jitPolicyScale(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return BUN_JIT_POLICY;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > 1000) {
    throw new RangeError(
      `WEIR_JIT_POLICY must be a number from 1 to 1000 (how many times Bun's JavaScriptCore scales its tier-up thresholds; 1 is its default, ${BUN_JIT_POLICY} weir's), received ${
        JSON.stringify(value.length <= 40 ? value : `${value.slice(0, 40)}...`)
      }`,
    );
  }
  return n;
}

/**
 * Scales Bun's tier-up thresholds by `scale` for this thread; returns the
 * scale set, or `undefined` on a runtime without the setting (Deno: V8 has
 * no such setting at run time; a Bun before 1.4).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BUN_JIT_POLICY, setJitPolicy } from "./jit_policy.ts";
 *
 * const set = setJitPolicy();
 * const bun = (globalThis as { Bun?: { unsafe?: { setJITPolicy?: unknown } } }).Bun;
 * assert.equal(set, typeof bun?.unsafe?.setJITPolicy === "function" ? BUN_JIT_POLICY : undefined);
 * ```
 */
export function setJitPolicy(
  scale: number = BUN_JIT_POLICY,
): number | undefined {
  const unsafe = (globalThis as { Bun?: { unsafe?: _BunUnsafe } }).Bun?.unsafe;
  if (typeof unsafe?.setJITPolicy !== "function") return undefined;
  unsafe.setJITPolicy(scale);
  return scale;
}
