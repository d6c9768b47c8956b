/**
 * Picks the resource tracker's source for the runtime weir runs on.
 *
 * @module
 */
import type { ResourceSource } from "../metrics/resource_tracker.ts";
import { bunResourceSource } from "./resources_bun.ts";
import { denoResourceSource } from "./resources_deno.ts";

/**
 * The {@linkcode ResourceSource} of this runtime: Deno's or Bun's. Throws
 * an Error on any other runtime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resourceSource } from "./resources.ts";
 *
 * const source = resourceSource();
 * assert.equal(source.runtime, "Bun" in globalThis ? "bun" : "deno");
 * assert.ok(source.memory()!.residentBytes! > 0);
 * ```
 */
export function resourceSource(): ResourceSource {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  // Bun first: a Bun program may define a global `Deno` shim, never the
  // reverse.
  if (g.Bun !== undefined) return bunResourceSource();
  if (g.Deno !== undefined) return denoResourceSource();
  throw new Error(
    "Cannot create the resource source: resourceSource() needs the Deno or Bun runtime",
  );
}

export { bunResourceSource } from "./resources_bun.ts";
export { denoResourceSource } from "./resources_deno.ts";
