/**
 * CRC-32 (IEEE 802.3, the polynomial zlib and PNG use), for the framed
 * records of the history files.
 *
 * @module
 */

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * The CRC-32 of `bytes[start, end)`, as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32 } from "./crc32.ts";
 *
 * assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 */
export function crc32(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): number {
  let c = -1;
  for (let i = start; i < end; i++) {
    c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ -1) >>> 0;
}
