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
 * import { denoResourceSource } from "./resources_deno.ts";
 *
 * if ("Deno" in globalThis) {
 *   const source = denoResourceSource();
 *   source.memory()?.types.heap_used; // bytes of V8 heap in use
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
