/**
 * The resource tracker's source on Bun: `process.cpuUsage()`,
 * `process.memoryUsage()` and the /proc reads of `proc.ts`.
 *
 * @module
 */
import process from "node:process";
import type { ResourceSource } from "../metrics/resource_tracker.ts";
import { processSource } from "./proc.ts";

/**
 * A {@linkcode ResourceSource} for Bun. Throws a TypeError when not run by
 * Bun.
 *
 * Why not `bun:jsc` (measured on Bun 1.4.5): `process.memoryUsage()` now
 * gives JavaScriptCore's own figures (`heapUsed` is JSC's heap size as of
 * its last collection, the same number as `bun:jsc` `heapSize()`;
 * `heapTotal` its capacity; `external` its extra memory) in about 15 µs,
 * while `heapStats()`, the only call with a current heap size, costs 0.6
 * to 1.7 ms, more than a whole tick may.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bunResourceSource } from "./resources_bun.ts";
 *
 * if ("Bun" in globalThis) {
 *   const source = bunResourceSource();
 *   assert.equal(source.runtime, "bun");
 *   assert.ok(source.memory()!.types.heap_used > 0); // bytes of JSC heap
 * } else {
 *   assert.throws(() => bunResourceSource(), TypeError);
 * }
 * ```
 */
export function bunResourceSource(): ResourceSource {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  if (bun === undefined) {
    throw new TypeError(
      "Cannot create the Bun resource source: this runtime is not Bun (globalThis.Bun is undefined)",
    );
  }
  return processSource("bun", bun.version, () => process.memoryUsage());
}
