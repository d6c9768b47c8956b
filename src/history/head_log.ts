/**
 * The head log, `<dir>/head.log`: what is not yet in a segment, written at
 * every flush so a crash loses at most one flush interval. One record per
 * series that changed since the last flush holds its last sample time and,
 * per tier, its open (partial) chunk and, for a downsampled tier, its open
 * window. A later record of a series supersedes an earlier one; the log is
 * rewritten whole (a checkpoint) when it has grown well past what it needs.
 *
 * Payload: type 2, id (varint), last sample time (float64), then per tier:
 * the open chunk's length (varint, 0 for none), its columns (u8) and bytes,
 * and for downsampled tiers a flag (u8) and the open window (8 float64).
 *
 * @module
 */
import { ByteReader, type ByteWriter } from "./_bytes.ts";
import { STATE_LENGTH } from "./aggregator.ts";
import { beginRecord, endRecord } from "./record_frame.ts";

const HEAD_RECORD = 2;

/** One tier's part of a head record. */
export interface HeadTierPart {
  /** The open chunk's bytes (empty: none) and its columns. */
  chunk: Uint8Array;
  /** Columns of the open chunk. */
  columns: number;
  /** The open window (downsampled tiers), or undefined. */
  window: Float64Array | undefined;
}

/** A series' head record. */
export interface HeadRecord {
  /** Series id. */
  id: number;
  /** Its last sample time (ms). */
  lastT: number;
  /** One part per tier, raw first. */
  tiers: HeadTierPart[];
}

/**
 * Appends a framed head record to `w`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { scanRecords } from "./record_frame.ts";
 * import { encodeHeadRecord, parseHeadRecord } from "./head_log.ts";
 *
 * const w = new ByteWriter();
 * const state = new Float64Array(8).fill(1);
 * encodeHeadRecord(w, { id: 2, lastT: 5000, tiers: [
 *   { chunk: new Uint8Array([1, 2]), columns: 1, window: undefined },
 *   { chunk: new Uint8Array(0), columns: 0, window: state },
 * ] });
 * scanRecords(w.bytes(), (b, s, e) => {
 *   const r = parseHeadRecord(b, s, e, 2)!;
 *   assert.equal(r.lastT, 5000);
 *   assert.deepEqual([...r.tiers[0].chunk], [1, 2]);
 *   assert.deepEqual([...r.tiers[1].window!], [...state]);
 * });
 * ```
 */
export function encodeHeadRecord(w: ByteWriter, h: HeadRecord): void {
  const at = beginRecord(w);
  w.u8(HEAD_RECORD);
  w.varint(h.id);
  w.f64(h.lastT);
  for (let k = 0; k < h.tiers.length; k++) {
    const part = h.tiers[k];
    w.varint(part.chunk.length);
    if (part.chunk.length > 0) {
      w.u8(part.columns);
      w.raw(part.chunk);
    }
    if (k > 0) {
      if (part.window) {
        w.u8(1);
        for (let i = 0; i < STATE_LENGTH; i++) w.f64(part.window[i]);
      } else w.u8(0);
    }
  }
  endRecord(w, at);
}

/** Parses a head record of a store with `tiers` tiers, or undefined when it is not one. */
export function parseHeadRecord(
  bytes: Uint8Array,
  start: number,
  end: number,
  tiers: number,
): HeadRecord | undefined {
  const r = new ByteReader(bytes, start, end);
  if (r.u8() !== HEAD_RECORD) return undefined;
  const id = r.varint();
  const lastT = r.f64();
  const parts: HeadTierPart[] = [];
  for (let k = 0; k < tiers; k++) {
    const len = r.varint();
    const columns = len > 0 ? r.u8() : 0;
    const chunk = r.bytes(len);
    let window: Float64Array | undefined;
    if (k > 0 && r.u8() === 1) {
      window = new Float64Array(STATE_LENGTH);
      for (let i = 0; i < STATE_LENGTH; i++) window[i] = r.f64();
    }
    parts.push({ chunk, columns, window });
  }
  return { id, lastT, tiers: parts };
}
