import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteWriter } from "../../src/history/_bytes.ts";
import { crc32 } from "../../src/history/crc32.ts";
import {
  beginRecord,
  endRecord,
  scanRecords,
} from "../../src/history/record_frame.ts";

function crcBytewise(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

test("crc32() matches the bitwise definition at every length and offset", () => {
  const bytes = new Uint8Array(300).map((_, i) => (i * 131 + 7) & 0xff);
  for (let len = 0; len < 40; len++) {
    for (const start of [0, 1, 3]) {
      const part = bytes.subarray(start, start + len);
      assert.equal(crc32(bytes, start, start + len), crcBytewise(part));
    }
  }
  assert.equal(crc32(bytes), crcBytewise(bytes));
});

function records(payloads: number[][]): Uint8Array {
  const w = new ByteWriter();
  for (const p of payloads) {
    const at = beginRecord(w);
    for (const b of p) w.u8(b);
    endRecord(w, at);
  }
  return w.bytes().slice();
}

function scan(bytes: Uint8Array) {
  const seen: number[][] = [];
  const r = scanRecords(bytes, (b, s, e) => seen.push([...b.subarray(s, e)]));
  return { seen, ...r };
}

test("scanRecords(): a flipped byte in one record drops that record only", () => {
  const payloads = [[1, 2, 3], [4, 5, 6, 7], [8], [9, 10]];
  const clean = records(payloads);
  for (let i = 0; i < clean.length; i++) {
    const bytes = clean.slice();
    bytes[i] ^= 0x40;
    const r = scan(bytes);
    assert.equal(r.corrupt, 1, `flip at ${i}`);
    assert.equal(r.seen.length, 3, `flip at ${i}`);
    assert.ok(r.seen.every((p) => payloads.some((q) => q.join() === p.join())));
  }
});

test("scanRecords(): a torn tail is one bad run, and validEnd is where it starts", () => {
  const clean = records([[1, 2, 3], [4, 5, 6, 7]]);
  const r = scan(clean.subarray(0, clean.length - 2));
  assert.deepEqual(r.seen, [[1, 2, 3]]);
  assert.equal(r.corrupt, 1);
  assert.equal(r.validEnd, 8 + 3);
  assert.deepEqual(scan(new Uint8Array(0)), {
    seen: [],
    corrupt: 0,
    validEnd: 0,
  });
});
