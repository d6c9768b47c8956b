/**
 * The counts of `flow_operations_total`: every operation and result, from
 * 0.
 *
 * @module
 */
import { FLOW_OPERATION_RESULTS, FLOW_OPERATIONS } from "./catalogue.ts";
import type { SampleSink } from "./family.ts";

/**
 * Counts flow operations (create, update, delete, start, stop) by result
 * (success, error); every pair is exported, from 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OperationCounter } from "./operation_counter.ts";
 *
 * const ops = new OperationCounter();
 * ops.record("create", "success");
 * assert.deepEqual(ops.count("create", "success"), 1);
 * assert.throws(() => ops.record("launch", "success"), RangeError);
 * ```
 */
export class OperationCounter {
  readonly #counts = new Map<string, number>();
  /** The labels of each count, made once (a scrape or a history pass reads them). */
  readonly #labels = new Map<string, { operation: string; result: string }>();

  /** A counter of every operation and result at 0. */
  constructor() {
    for (const op of FLOW_OPERATIONS) {
      for (const r of FLOW_OPERATION_RESULTS) {
        this.#counts.set(`${op}\0${r}`, 0);
        this.#labels.set(`${op}\0${r}`, { operation: op, result: r });
      }
    }
  }

  /**
   * Counts one `operation` with `result`; throws a `RangeError` for an
   * operation or result not in the catalogue.
   */
  record(operation: string, result: string): void {
    const k = `${operation}\0${result}`;
    const v = this.#counts.get(k);
    if (v === undefined) {
      throw new RangeError(
        `Cannot record flow operation: operation must be one of ${
          FLOW_OPERATIONS.join(", ")
        } and result one of ${FLOW_OPERATION_RESULTS.join(", ")}, received ${
          JSON.stringify(operation)
        } and ${JSON.stringify(result)}`,
      );
    }
    this.#counts.set(k, v + 1);
  }

  /** The count of `operation` with `result` (0 when unknown). */
  count(operation: string, result: string): number {
    return this.#counts.get(`${operation}\0${result}`) ?? 0;
  }

  /** Writes every count, labelled `operation` and `result`. */
  collect(sink: SampleSink): void {
    for (const [k, v] of this.#counts) {
      sink.add("", this.#labels.get(k)!, null, v);
    }
  }
}
