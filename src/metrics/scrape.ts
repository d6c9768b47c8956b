/**
 * Scrape scheduling: the order a scrape writes the registry's metrics in,
 * one deadline for every registered prom-client metric's `collect`, and
 * slices that let the flows run while a big exposition is written.
 *
 * @module
 */
import { loopTurn } from "../engine/network.ts";
import { Family } from "./family.ts";
import type { MetricLike, MetricObject } from "./_prom.ts";
import type { TextWriter } from "./text_writer.ts";

/**
 * How long a scrape writes before it lets the event loop run (ms): long
 * enough that a scrape of 100 flows yields once or twice (4 ms slices made
 * it 60% slower on Bun), short enough that a huge one does not stall the
 * flows for its whole length.
 */
const SLICE_MS = 16;

/**
 * Writes `metrics` in order into `writer`. Registered prom-client metrics
 * (not {@linkcode Family}s) collect at once, under one deadline of
 * `timeoutMs` for the whole scrape, so hung collects cannot add up; one
 * that throws or misses the deadline is left out and `onError` is called
 * with its name. weir's families are written in slices, also inside one
 * family (see `Family.writeParts`); they see the same
 * statistics throughout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scrape } from "./scrape.ts";
 * import { TextWriter } from "./text_writer.ts";
 *
 * const writer = new TextWriter(false, {});
 * const failed: string[] = [];
 * await scrape([{
 *   name: "app_broken",
 *   help: "Throws.",
 *   type: "gauge",
 *   get: () => Promise.reject(new Error("sensor gone")),
 * }], writer, 100, (name) => failed.push(name));
 * assert.deepEqual(failed, ["app_broken"]);
 * assert.deepEqual(writer.text(), "");
 * ```
 */
export async function scrape(
  metrics: readonly MetricLike[],
  writer: TextWriter,
  timeoutMs: number,
  onError: (name: string) => void,
): Promise<void> {
  const deadline = _timeout(timeoutMs);
  const pending = new Map<MetricLike, Promise<MetricObject>>();
  try {
    for (const m of metrics) {
      if (m instanceof Family) continue;
      const got = (async () => await m.get())();
      const raced = Promise.race([got, deadline.promise]);
      // Handled below, maybe a few turns of the loop later.
      raced.catch(() => {});
      pending.set(m, raced);
    }
    let slice = performance.now();
    const due = () => performance.now() - slice > SLICE_MS;
    const pause = async () => {
      await loopTurn();
      slice = performance.now();
    };
    for (const m of metrics) {
      if (due()) await pause();
      const mark = writer.mark();
      try {
        if (m instanceof Family) {
          // Also inside a family: one of a big flow is thousands of lines.
          for (const _ of m.writeParts(writer, due)) await pause();
        } else writer.metric(await pending.get(m)!);
      } catch {
        writer.rollback(mark);
        onError(m.name);
      }
    }
  } finally {
    deadline.cancel();
  }
}

/**
 * A promise that rejects after `ms` (unless cancelled): a registered
 * metric whose collect never settles must not hold every later scrape.
 */
function _timeout(ms: number): { promise: Promise<never>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`collect took over ${ms} ms`)),
      ms,
    );
  });
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(timer) };
}
