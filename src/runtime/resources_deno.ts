/**
 * The resource tracker's source on Deno: `process.cpuUsage()`,
 * `Deno.memoryUsage()` and the /proc reads of `proc.ts`.
 *
 * @module
 */
import type { ResourceSource } from "../metrics/resource_tracker.ts";
import { processSource } from "./proc.ts";

/** The slice of Deno's global that the source uses. */
interface DenoMemory {
  readonly version: { readonly deno: string };
  memoryUsage(): {
    rss: number;
    heapTotal: number;
    heapUsed: number;
    external: number;
  };
}

/**
 * A {@linkcode ResourceSource} for Deno. Memory and CPU need no
 * permission; the /proc reads (threads, files, network, TCP sockets) need
 * `-A` and are `null` without it. Throws a TypeError when not run by Deno.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoResourceSource } from "./resources_deno.ts";
 *
 * if ("Deno" in globalThis && !("Bun" in globalThis)) {
 *   const source = denoResourceSource();
 *   assert.equal(source.runtime, "deno");
 *   assert.ok(source.memory()!.types.heap_used > 0); // bytes of V8 heap
 * }
 * ```
 */
export function denoResourceSource(): ResourceSource {
  const deno = (globalThis as { Deno?: DenoMemory }).Deno;
  if (deno === undefined) {
    throw new TypeError(
      "Cannot create the Deno resource source: this runtime is not Deno (globalThis.Deno is undefined)",
    );
  }
  return processSource("deno", deno.version.deno, () => deno.memoryUsage());
}
