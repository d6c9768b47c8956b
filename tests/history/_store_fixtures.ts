/**
 * Temp dirs and disk helpers for the store tests.
 *
 * @module
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs `fn` with a fresh temp dir, removed after. */
export async function withDir(
  fn: (dir: string) => Promise<void> | void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weir-history-"));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes of every file under `dir`. */
export function diskBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    n += st.isDirectory() ? diskBytes(p) : st.size;
  }
  return n;
}

/** The segment files of a tier, sorted. */
export function segmentFiles(dir: string, tier: string): string[] {
  return readdirSync(join(dir, tier)).filter((n) => n.endsWith(".seg")).sort()
    .map((n) => join(dir, tier, n));
}

/** A small fast tier set: raw at 1 s (chunks of 10), 10 s windows (chunks of 5). */
export const SMALL_TIERS = [
  { name: "raw", resolutionMs: 1000, retentionMs: 1e12, chunkRows: 10 },
  { name: "10s", resolutionMs: 10_000, retentionMs: 1e12, chunkRows: 5 },
];
