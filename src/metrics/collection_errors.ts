/**
 * The counts of `metrics_collection_errors_total`: collectors that failed
 * during a scrape, by name, under the series cap.
 *
 * @module
 */
import type { SampleSink } from "./family.ts";

/**
 * Counts failed collections by collector (`engine` for a flow's
 * statistics, else the name of the metric whose collect failed). At most
 * `cap` collectors are counted; a new one past it calls `onRefused`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CollectionErrors } from "./collection_errors.ts";
 *
 * let refused = 0;
 * const errors = new CollectionErrors(2, () => refused++);
 * errors.count("app_a");
 * errors.count("app_b");
 * assert.deepEqual(errors.get("engine"), 0);
 * assert.deepEqual(errors.get("app_a"), 1);
 * assert.deepEqual(refused, 1);
 * ```
 */
export class CollectionErrors {
  readonly #counts = new Map<string, number>([["engine", 0]]);
  readonly #cap: number;
  readonly #onRefused: () => void;

  /** Counts at most `cap` collectors (`engine` among them). */
  constructor(cap: number, onRefused: () => void) {
    this.#cap = cap;
    this.#onRefused = onRefused;
  }

  /** Counts one failure of `collector`. */
  count(collector: string): void {
    const n = this.#counts.get(collector);
    if (n !== undefined) this.#counts.set(collector, n + 1);
    else if (this.#counts.size < this.#cap) this.#counts.set(collector, 1);
    else this.#onRefused();
  }

  /** The failures of `collector` counted so far (`undefined` when none). */
  get(collector: string): number | undefined {
    return this.#counts.get(collector);
  }

  /** Writes every count, labelled `collector`. */
  collect(sink: SampleSink): void {
    for (const [collector, v] of this.#counts) {
      sink.add("", { collector }, null, v);
    }
  }
}
