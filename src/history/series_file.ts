/**
 * The series file, `<dir>/series.log`: one framed record per series, in id
 * order, so ids (which the chunk records use) survive restarts. Payload:
 * type 3, id (varint), kind (u8: counter, gauge, untyped), the labels as
 * JSON.
 *
 * @module
 */
import { ByteReader, type ByteWriter } from "./_bytes.ts";
import { beginRecord, endRecord } from "./record_frame.ts";
import { KINDS } from "./series_index.ts";
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
