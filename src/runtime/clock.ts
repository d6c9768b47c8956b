/**
 * A monotonic clock in milliseconds for what is timed on every request:
 * `performance.now()`, except on Deno on Linux with FFI granted (`-A`, as
 * `weir serve` runs), where it is the C library's
 * `clock_gettime(CLOCK_MONOTONIC)` through FFI: the same kernel clock
 * that Deno's `performance.now()` reads, at less cost. Deno reads that
 * one through an op, about 100 ns a call in a loop here against 40 for
 * the FFI call; in `weir serve` under `wrk`, the two reads of the HTTP
 * metrics cost 0.27 µs of user time a request more (bench/RESULTS.md
 * "Session 31"). Bun's `performance.now()` costs about 40 ns: Bun keeps it.
 *
 * Only differences of its readings mean anything: its zero is not
 * `performance.timeOrigin` (do not mix its readings with
 * `performance.now()`'s).
 *
 * @module
 */
import { ffiGranted, openLibc } from "./libc.ts";

/** Where {@linkcode monotonicMs} reads the time. */
export type ClockSource = "clock_gettime" | "performance.now";

/** Linux's `CLOCK_MONOTONIC` (the same id on x86-64 and arm64). */
const _CLOCK_MONOTONIC = 1;

function _ffiClock(): (() => number) | undefined {
  if (!ffiGranted()) return undefined;
  const deno = (globalThis as unknown as {
    Deno: { UnsafePointer: { of(value: ArrayBuffer): unknown } };
  }).Deno;
  try {
    const { clock_gettime } = openLibc({
      clock_gettime: { parameters: ["i32", "pointer"], result: "i32" },
    }) as { clock_gettime: (clock: number, at: unknown) => number };
    // A struct timespec (64-bit seconds, then nanoseconds: the layout of
    // both 64-bit Linux targets Deno runs on) in memory that never moves:
    // an ArrayBuffer's own, kept alive by the closure.
    const buffer = new ArrayBuffer(16);
    const words = new Uint32Array(buffer);
    const at = deno.UnsafePointer.of(buffer);
    if (clock_gettime(_CLOCK_MONOTONIC, at) !== 0) return undefined;
    return () => {
      clock_gettime(_CLOCK_MONOTONIC, at);
      return (words[0] + words[1] * 4294967296) * 1000 + words[2] / 1e6;
    };
  } catch {
    return undefined;
  }
}

const _ffi = _ffiClock();

/** Where {@linkcode monotonicMs} reads the time in this process. */
export const CLOCK_SOURCE: ClockSource = _ffi === undefined
  ? "performance.now"
  : "clock_gettime";

/**
 * Milliseconds on a monotonic clock, with sub-microsecond resolution. Only
 * the difference of two readings means anything.
 *
 * @example Time some work
 * ```ts
 * import assert from "node:assert/strict";
 * import { monotonicMs } from "./clock.ts";
 *
 * const start = monotonicMs();
 * const end = performance.now() + 2;
 * while (performance.now() < end);
 * assert.ok(monotonicMs() - start >= 1.9);
 * ```
 */
export const monotonicMs: () => number = _ffi ?? (() => performance.now());
