/**
 * Framed records, the unit of every history file: an 8-byte header
 * (a u32 holding the marker byte 0xA7 and the payload length in 24 bits,
 * then the payload's CRC-32), then the payload.
 *
 * A reader checks each record's CRC (a closed segment's chunk records
 * after open, see `segments.ts`). A torn or corrupt record is skipped:
 * the scan looks for the next position where a whole record checks out,
 * so one flipped byte costs one record, not the rest of the file.
 *
 * @module
 */
import type { ByteWriter } from "./_bytes.ts";
import { crc32 } from "./crc32.ts";

/** The marker in a header's top byte. */
const MARKER = 0xa7;
/** Header bytes before a payload. */
export const RECORD_HEADER_BYTES = 8;
/** The largest payload a header can say. */
export const MAX_PAYLOAD_BYTES = 0xffffff;

/**
 * Starts a record in `w`: reserves its header and returns where it
 * starts; write the payload, then {@linkcode endRecord}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { beginRecord, endRecord, scanRecords } from "./record_frame.ts";
 *
 * const w = new ByteWriter();
 * for (const b of [1, 2]) {
 *   const at = beginRecord(w);
 *   w.u8(b);
 *   endRecord(w, at);
 * }
 * const seen: number[] = [];
 * const r = scanRecords(w.bytes(), (bytes, start) => seen.push(bytes[start]));
 * assert.deepEqual(seen, [1, 2]);
 * assert.equal(r.corrupt, 0);
 * ```
 */
export function beginRecord(w: ByteWriter): number {
  const at = w.length;
  w.u32(0);
  w.u32(0);
  return at;
}

/**
 * Ends the record begun at `at`: fills in its length and CRC.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { beginRecord, endRecord } from "./record_frame.ts";
 *
 * const w = new ByteWriter();
 * const at = beginRecord(w);
 * w.u8(7);
 * endRecord(w, at);
 * assert.deepEqual([...w.bytes().subarray(0, 4)], [1, 0, 0, 0xa7]); // length 1, marker
 * ```
 */
export function endRecord(w: ByteWriter, at: number): void {
  const len = w.length - at - RECORD_HEADER_BYTES;
  if (len > MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `Cannot write record: payload must be at most ${MAX_PAYLOAD_BYTES} bytes, received ${len}`,
    );
  }
  w.setU32(at, ((MARKER << 24) | len) >>> 0);
  w.setU32(at + 4, crc32(w.buffer, at + RECORD_HEADER_BYTES, w.length));
}

/** What a scan found besides the good records. */
export interface ScanResult {
  /** Runs of bad bytes skipped (a torn tail counts as one). */
  corrupt: number;
  /** The end of the last good record: where a torn tail begins. */
  validEnd: number;
}

/**
 * Where the record at `p` of `bytes` ends when it is whole and its CRC
 * holds; else -1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { beginRecord, endRecord, recordEnd } from "./record_frame.ts";
 *
 * const w = new ByteWriter();
 * const at = beginRecord(w);
 * w.u8(7);
 * endRecord(w, at);
 * const bytes = w.bytes().slice();
 * assert.equal(recordEnd(bytes, 0), 9);
 * bytes[8] ^= 1;
 * assert.equal(recordEnd(bytes, 0), -1);
 * assert.equal(recordEnd(bytes.subarray(0, 8), 0), -1); // torn
 * ```
 */
export function recordEnd(bytes: Uint8Array, p: number): number {
  if (p + RECORD_HEADER_BYTES > bytes.length || bytes[p + 3] !== MARKER) {
    return -1;
  }
  const len = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16);
  const end = p + RECORD_HEADER_BYTES + len;
  if (end > bytes.length) return -1;
  const want = (bytes[p + 4] | (bytes[p + 5] << 8) | (bytes[p + 6] << 16) |
    (bytes[p + 7] << 24)) >>> 0;
  return crc32(bytes, p + RECORD_HEADER_BYTES, end) === want ? end : -1;
}

/**
 * Calls `visit(bytes, payloadStart, payloadEnd)` for every good record of
 * `bytes` in order, skipping bad runs (counted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "./_bytes.ts";
 * import { beginRecord, endRecord, scanRecords } from "./record_frame.ts";
 *
 * const w = new ByteWriter();
 * for (const b of [1, 2, 3]) {
 *   const at = beginRecord(w);
 *   w.u8(b);
 *   endRecord(w, at);
 * }
 * const bytes = w.bytes().slice();
 * bytes[9 + 8] ^= 1; // the second record's payload
 * const seen: number[] = [];
 * const r = scanRecords(bytes, (b, s) => seen.push(b[s]));
 * assert.deepEqual(seen, [1, 3]);
 * assert.equal(r.corrupt, 1);
 * ```
 */
export function scanRecords(
  bytes: Uint8Array,
  visit: (bytes: Uint8Array, start: number, end: number) => void,
): ScanResult {
  let pos = 0;
  let corrupt = 0;
  let validEnd = 0;
  while (pos < bytes.length) {
    let end = recordEnd(bytes, pos);
    if (end < 0) {
      corrupt++;
      let q = pos + 1;
      for (; q < bytes.length; q++) {
        if (bytes[q + 3] === MARKER && (end = recordEnd(bytes, q)) >= 0) break;
      }
      if (q >= bytes.length) break;
      pos = q;
    }
    visit(bytes, pos + RECORD_HEADER_BYTES, end);
    pos = validEnd = end;
  }
  return { corrupt, validEnd };
}
