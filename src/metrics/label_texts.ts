/**
 * Label texts remembered by position: a family that makes its labels
 * objects anew at every read (the added families: HTTP, resources, the
 * history's own) hands the same labels at the same position pass after
 * pass, so the text made last time is handed again after a compare of the
 * labels, without escaping and concatenating them again, and it is the
 * same string object each time (the history's sampler finds a series by
 * its text: an identity compare instead of one of characters).
 *
 * @module
 */
import { type Labels, labelText } from "./text_writer.ts";

/**
 * The label texts of one family's samples, by position in its read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LabelTexts } from "./label_texts.ts";
 *
 * const texts = new LabelTexts();
 * const a = texts.text(0, { route: "/a", code: "200" });
 * assert.equal(a, 'route="/a",code="200"');
 * // The same labels (a new object) at the same position: the same string.
 * assert.equal(texts.text(0, { route: "/a", code: "200" }), a);
 * // Other labels, or the same in another order, are written anew.
 * assert.equal(texts.text(0, { route: "/b", code: "200" }), 'route="/b",code="200"');
 * assert.equal(texts.text(0, { code: "200", route: "/b" }), 'code="200",route="/b"');
 * ```
 */
export class LabelTexts {
  /** Per position: the labels as `[name, value, name, value, ...]`. */
  #labels: string[][] = [];
  #texts: string[] = [];

  /** The text of `labels`, the sample at position `i` of the read. */
  text(i: number, labels: Labels): string {
    const had = this.#labels[i];
    if (had !== undefined && _same(had, labels)) return this.#texts[i];
    const flat: string[] = [];
    for (const k in labels) flat.push(k, labels[k]);
    const text = labelText(labels);
    this.#labels[i] = flat;
    this.#texts[i] = text;
    return text;
  }

  /** Forgets positions from `n` on (a family that hands fewer samples now). */
  truncate(n: number): void {
    if (this.#texts.length > n) {
      this.#texts.length = n;
      this.#labels.length = n;
    }
  }
}

/** Whether `labels` has exactly `flat`'s names and values, in its order. */
function _same(flat: readonly string[], labels: Labels): boolean {
  let j = 0;
  for (const k in labels) {
    if (flat[j] !== k || flat[j + 1] !== labels[k]) return false;
    j += 2;
  }
  return j === flat.length;
}
