/**
 * The series file, `<dir>/series.log`: one framed record per series, in id
 * order, so ids (which the chunk records use) survive restarts. Payload:
 * type 3, id (varint), kind (u8: counter, gauge, untyped), the labels as
 * JSON.
 *
 * @module
 */
import { ByteReader, type ByteWriter } from "./_bytes.ts";
import { varintLength } from "./_bits.ts";
import { beginRecord, endRecord, RECORD_HEADER_BYTES } from "./record_frame.ts";
import { KINDS, type SeriesIndex } from "./series_index.ts";
import type { SeriesKind, SeriesLabels } from "./types.ts";

const SERIES_RECORD = 3;
const decoder = new TextDecoder();

/** A series as the series file holds it. */
export interface SeriesRecord {
  /** Its id. */
  id: number;
  /** Its kind. */
  kind: SeriesKind;
  /** Its labels. */
  labels: SeriesLabels;
}

/**
 * Appends a framed series record to `w`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { scanRecords } from "./record_frame.ts";
 * import { encodeSeriesRecord, parseSeriesRecord } from "./series_file.ts";
 *
 * const w = new ByteWriter();
 * encodeSeriesRecord(w, { id: 4, kind: "counter", labels: { __name__: "x_total" } });
 * scanRecords(w.bytes(), (b, s, e) => {
 *   assert.deepEqual(parseSeriesRecord(b, s, e), { id: 4, kind: "counter", labels: { __name__: "x_total" } });
 * });
 * ```
 */
export function encodeSeriesRecord(w: ByteWriter, s: SeriesRecord): void {
  const at = beginRecord(w);
  w.u8(SERIES_RECORD);
  w.varint(s.id);
  w.u8(KINDS.indexOf(s.kind));
  w.utf8(JSON.stringify(s.labels));
  endRecord(w, at);
}

/**
 * Appends series `id` of `index` to `w` as a framed series record, the
 * same bytes as {@linkcode encodeSeriesRecord} of its labels, written
 * from the index (see `SeriesIndex.labelsJson`: nothing made per series);
 * without `w` it only counts them. Returns the record's bytes (0 for a
 * hole: nothing is written).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { SeriesIndex } from "./series_index.ts";
 * import { encodeIndexedSeries, encodeSeriesRecord } from "./series_file.ts";
 *
 * const index = new SeriesIndex();
 * const id = index.ref({ __name__: "x_total", flow: "f" }, "counter");
 * const w = new ByteWriter();
 * assert.equal(encodeIndexedSeries(index, id, w), encodeIndexedSeries(index, id));
 * const ref = new ByteWriter();
 * encodeSeriesRecord(ref, { id, kind: "counter", labels: index.labels(id)! });
 * assert.deepEqual(w.bytes(), ref.bytes());
 * ```
 */
export function encodeIndexedSeries(
  index: SeriesIndex,
  id: number,
  w?: ByteWriter,
): number {
  if (!index.has(id)) return 0;
  if (!w) {
    return RECORD_HEADER_BYTES + 1 + varintLength(id) + 1 +
      index.labelsJson(id);
  }
  const at = beginRecord(w);
  w.u8(SERIES_RECORD);
  w.varint(id);
  w.u8(KINDS.indexOf(index.kind(id)));
  index.labelsJson(id, w);
  endRecord(w, at);
  return w.length - at;
}

/**
 * Parses a series record's payload, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSeriesRecord } from "./series_file.ts";
 *
 * assert.equal(parseSeriesRecord(new Uint8Array([1, 0]), 0, 2), undefined);
 * ```
 */
export function parseSeriesRecord(
  bytes: Uint8Array,
  start: number,
  end: number,
): SeriesRecord | undefined {
  const r = new ByteReader(bytes, start, end);
  if (r.u8() !== SERIES_RECORD) return undefined;
  const id = r.varint();
  const kind = KINDS[r.u8()];
  if (kind === undefined) return undefined;
  const labels = JSON.parse(decoder.decode(r.bytes(end - r.pos)));
  if (typeof labels !== "object" || labels === null) return undefined;
  return { id, kind, labels };
}
