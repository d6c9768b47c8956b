/**
 * The C library through Deno's FFI, for what Deno itself does not offer:
 * the header timeout's `shutdown` and `getsockopt` (`header_timeout.ts`),
 * and a cheaper monotonic clock (`clock.ts`). Linux only; nothing here on
 * Bun.
 *
 * Asked only once Deno has granted FFI (`-A` or `--allow-ffi`): without
 * it, Deno would ask the operator on a terminal (or refuse) in the middle
 * of a run, so {@linkcode ffiGranted} is false and callers go without.
 *
 * @module
 */

/** One symbol's signature, as `Deno.dlopen` takes it. */
export interface LibcSymbol {
  parameters: string[];
  result: string;
}

interface _DenoFfi {
  build?: { os?: string };
  permissions?: {
    querySync?(descriptor: { name: string }): { state: string };
  };
  dlopen?(
    path: string,
    symbols: Record<string, LibcSymbol>,
  ): { symbols: Record<string, unknown> };
}

function _deno(): _DenoFfi | undefined {
  return (globalThis as unknown as { Deno?: _DenoFfi }).Deno;
}

/**
 * Whether this is Deno on Linux with FFI granted already (never asks).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ffiGranted } from "./libc.ts";
 *
 * // Bun, or Deno without `--allow-ffi` (this example runs with -A).
 * assert.equal(ffiGranted(), "Deno" in globalThis && !("Bun" in globalThis));
 * ```
 */
export function ffiGranted(): boolean {
  const deno = _deno();
  if (
    deno === undefined || "Bun" in globalThis ||
    deno.build?.os !== "linux" || typeof deno.dlopen !== "function"
  ) return false;
  try {
    return deno.permissions?.querySync?.({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The C library's `symbols` (glibc, then musl). Throws an `Error` saying
 * why when it cannot be loaded: not Deno on Linux, FFI not granted, no
 * such library or symbol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ffiGranted, openLibc } from "./libc.ts";
 *
 * if (ffiGranted()) {
 *   const libc = openLibc({ getpid: { parameters: [], result: "i32" } });
 *   assert.equal((libc.getpid as () => number)(), Deno.pid);
 * } else {
 *   assert.throws(() => openLibc({}), /cannot load libc through FFI/);
 * }
 * ```
 */
export function openLibc(
  symbols: Record<string, LibcSymbol>,
): Record<string, unknown> {
  if (!ffiGranted()) {
    throw new Error(
      "cannot load libc through FFI: it needs Deno on Linux with --allow-ffi (or -A)",
    );
  }
  const deno = _deno()!;
  let last: unknown;
  for (
    const name of [
      "libc.so.6",
      "libc.so",
      "libc.musl-x86_64.so.1",
      "libc.musl-aarch64.so.1",
    ]
  ) {
    try {
      return deno.dlopen!(name, symbols).symbols;
    } catch (e) {
      last = e;
    }
  }
  throw new Error(
    `cannot load libc through FFI: ${
      last instanceof Error ? last.message : String(last)
    }`,
  );
}
