/**
 * The head log, `<dir>/head.log`: what is not yet in a segment, written at
 * every flush so a crash loses at most one flush interval. One record per
 * series that changed since the last flush holds its last sample time and
 * the open (partial) chunks of the tiers where they changed. A later
 * record of a series supersedes the chunks it holds; the log is rewritten
 * whole (a checkpoint) when it has grown well past what it needs. The
 * open window of the first downsampled tier is not stored: the store
 * rebuilds it at start from the raw samples, which are all durable.
 *
 * Payload: type 2, id (varint), last sample time (float64), a mask (u8: bit
 * k for tier k), then per tier in the mask the open chunk's length
 * (varint, 0 for none), its columns (u8) and bytes.
 *
 * @module
 */
import { ByteReader, type ByteWriter } from "./_bytes.ts";
import { beginRecord, endRecord, RECORD_HEADER_BYTES } from "./record_frame.ts";

const HEAD_RECORD = 2;

/** One tier's open chunk in a head record. */
export interface HeadChunk {
  /** The open chunk's bytes (empty: the tier has no open chunk). */
  chunk: Uint8Array;
  /** Its columns. */
  columns: number;
}

/** A series' head record: what changed since its previous record. */
export interface HeadRecord {
  /** Series id. */
  id: number;
  /** Its last sample time (ms). */
  lastT: number;
  /** Per tier (raw first) its open chunk, or undefined when unchanged. */
  chunks: (HeadChunk | undefined)[];
}

/** An open chunk to write without copying it first. */
export interface HeadChunkSource {
  /** Its length in bytes (0: the tier has no open chunk). */
  readonly length: number;
  /** Its columns. */
  readonly columns: number;
  /** Writes its bytes into `out` at `at`; returns the end. */
  copyTo(out: Uint8Array, at: number): number;
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
 * encodeHeadRecord(w, {
 *   id: 2,
 *   lastT: 5000,
 *   chunks: [{ chunk: new Uint8Array([1, 2]), columns: 1 }, undefined, { chunk: new Uint8Array(0), columns: 0 }],
 * });
 * scanRecords(w.bytes(), (b, s, e) => {
 *   const r = parseHeadRecord(b, s, e, 3)!;
 *   assert.equal(r.lastT, 5000);
 *   assert.deepEqual([...r.chunks[0]!.chunk], [1, 2]);
 *   assert.equal(r.chunks[1], undefined);
 *   assert.equal(r.chunks[2]!.chunk.length, 0);
 * });
 * ```
 */
export function encodeHeadRecord(
  w: ByteWriter,
  h: {
    id: number;
    lastT: number;
    chunks: readonly (HeadChunk | HeadChunkSource | undefined)[];
  },
): void {
  const at = beginRecord(w);
  w.u8(HEAD_RECORD);
  w.varint(h.id);
  w.f64(h.lastT);
  let mask = 0;
  h.chunks.forEach((c, k) => {
    if (c) mask |= 1 << k;
  });
  w.u8(mask);
  for (const c of h.chunks) {
    if (!c) continue;
    if ("chunk" in c) {
      w.varint(c.chunk.length);
      if (c.chunk.length > 0) {
        w.u8(c.columns);
        w.raw(c.chunk);
      }
      continue;
    }
    w.varint(c.length);
    if (c.length > 0) {
      w.u8(c.columns);
      w.reserve(c.length);
      w.length = c.copyTo(w.buffer, w.length);
    }
  }
  endRecord(w, at);
}

/**
 * The framed size of the record {@linkcode encodeHeadRecord} would write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { encodeHeadRecord, headRecordBytes } from "./head_log.ts";
 *
 * const h = { id: 300, lastT: 5, chunks: [{ chunk: new Uint8Array(200), columns: 1 }, undefined] };
 * const w = new ByteWriter();
 * encodeHeadRecord(w, h);
 * assert.equal(headRecordBytes(h), w.length);
 * ```
 */
export function headRecordBytes(
  h: {
    id: number;
    chunks: readonly (HeadChunk | HeadChunkSource | undefined)[];
  },
): number {
  let n = RECORD_HEADER_BYTES + 1 + varintBytes(h.id) + 8 + 1;
  for (const c of h.chunks) {
    if (!c) continue;
    const len = "chunk" in c ? c.chunk.length : c.length;
    n += varintBytes(len) + (len > 0 ? 1 + len : 0);
  }
  return n;
}

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/**
 * Parses a head record of a store with `tiers` tiers (at most 8), or
 * undefined when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { encodeHeadRecord, parseHeadRecord } from "./head_log.ts";
 *
 * const w = new ByteWriter();
 * encodeHeadRecord(w, { id: 9, lastT: 1, chunks: [undefined, undefined] });
 * const r = parseHeadRecord(w.bytes(), 8, w.length, 2)!;
 * assert.deepEqual(r, { id: 9, lastT: 1, chunks: [undefined, undefined] });
 * ```
 */
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
  const mask = r.u8();
  const chunks: (HeadChunk | undefined)[] = [];
  for (let k = 0; k < tiers; k++) {
    if (!(mask & (1 << k))) {
      chunks.push(undefined);
      continue;
    }
    const len = r.varint();
    const columns = len > 0 ? r.u8() : 0;
    chunks.push({ chunk: r.bytes(len), columns });
  }
  return { id, lastT, chunks };
}
