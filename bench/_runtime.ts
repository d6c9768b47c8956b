/**
 * The few runtime-specific reads the benchmarks need (heap, gc, versions).
 *
 * @module
 */

interface DenoLike {
  version: { deno: string };
  memoryUsage(): { heapUsed: number };
}
interface BunLike {
  version: string;
  gc(force: boolean): void;
}

const g = globalThis as unknown as {
  Deno?: DenoLike;
  Bun?: BunLike;
  gc?: () => void;
};

const jsc: { heapStats(): { heapSize: number } } | undefined = g.Bun
  ? await import("bun:jsc" as string)
  : undefined;

/** `bun 1.4.5` or `deno 2.9.6`. */
export function runtime(): string {
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return "unknown";
}

/** Bytes of live JS heap (JSC heap size on Bun, V8 heapUsed on Deno). */
export function heapUsed(): number {
  if (jsc) return jsc.heapStats().heapSize;
  if (g.Deno) return g.Deno.memoryUsage().heapUsed;
  throw new Error("heapUsed: run on Bun or Deno");
}

/** A full collection, when the runtime allows it (Deno needs --expose-gc). */
export function gc(): void {
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}
