/**
 * How many long-lived streams of one kind (taps, flow event streams) a
 * server holds open at once: each holds memory for a client until the
 * client leaves, so their number is bounded, and one more is refused with
 * the error its kind answers.
 *
 * @module
 */
import type { HttpError } from "./http_error.ts";

/** A server's open streams of one kind, at most `max`. */
export class _StreamSlots {
  readonly #max: number;
  #open = 0;

  /** Slots for at most `max` streams (a positive integer). */
  constructor(max: number) {
    this.#max = max;
  }

  /** The most streams open at once. */
  get max(): number {
    return this.#max;
  }

  /** Streams open now. */
  get open(): number {
    return this.#open;
  }

  /**
   * Takes a slot, or throws what `refuse` makes when all are taken. The
   * function returned gives the slot back, once however often it is called.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { _StreamSlots } from "./_stream_slots.ts";
   * import { HttpError } from "./http_error.ts";
   *
   * const slots = new _StreamSlots(1);
   * const release = slots.take(() => new HttpError(503, "full"));
   * assert.throws(() => slots.take(() => new HttpError(503, "full")), HttpError);
   * release();
   * release();
   * assert.equal(slots.open, 0);
   * ```
   */
  take(refuse: () => HttpError): () => void {
    if (this.#open >= this.#max) throw refuse();
    this.#open++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#open--;
    };
  }
}
