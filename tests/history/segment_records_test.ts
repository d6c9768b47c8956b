import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChunkRecords } from "../../src/history/segment_records.ts";
import { SegmentDir } from "../../src/history/segments.ts";
import { seededRandom } from "../_seeded_random.ts";

/** A chunk as the reference encoder below takes it. */
interface Chunk {
  id: number;
  minT: number;
  maxT: number;
  count: number;
  columns: number;
  bytes: Uint8Array;
}

/** CRC-32 (IEEE, reflected), bit by bit: independent of src/history/crc32.ts. */
function crc(bytes: number[]): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function u32le(v: number): number[] {
  return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
}

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/**
 * A chunk record as segments.ts documents it, written out here from the
 * layout: header (length | 0xA7 << 24, CRC-32 of the payload), type 1, id,
 * first time (float64 LE), last minus first, rows, columns, chunk bytes.
 */
function reference(c: Chunk): number[] {
  const t = new Uint8Array(new Float64Array([c.minT]).buffer);
  const payload = [
    1,
    ...varint(c.id),
    ...t,
    ...varint(c.maxT - c.minT),
    ...varint(c.count),
    c.columns,
    ...c.bytes,
  ];
  return [
    ...u32le((0xa7 << 24 | payload.length) >>> 0),
    ...u32le(crc(payload)),
    ...payload,
  ];
}

/** `n` random chunks: ids, times, spans and rows over 1 to 8 varint bytes, 0 to 600 bytes each. */
function chunks(n: number, seed: number): Chunk[] {
  const r = seededRandom(seed);
  const wide = (bits: number) => Math.floor(r() * 2 ** Math.ceil(r() * bits));
  return Array.from({ length: n }, () => {
    const minT = r() < 0.1 ? -wide(40) : 1.7e12 + wide(40);
    return {
      id: wide(50),
      minT,
      maxT: minT + wide(52),
      count: 1 + wide(16),
      columns: 1 + Math.floor(r() * 6),
      bytes: Uint8Array.from(
        { length: r() < 0.05 ? 0 : Math.floor(r() * 600) },
        () => Math.floor(r() * 256),
      ),
    };
  });
}

/** `list` into a ChunkRecords, each record through begin()/commit() or add() in turn. */
function records(list: Chunk[], r = new ChunkRecords()): ChunkRecords {
  list.forEach((c, i) => {
    if (i % 2 === 0) {
      r.add(c.id, c.minT, c.maxT, c.count, c.columns, c.bytes);
      return;
    }
    r.begin(c.id, c.minT, c.maxT, c.count, c.columns).raw(c.bytes);
    r.commit();
  });
  return r;
}

test("ChunkRecords frames each chunk byte for byte as the chunk record layout says, over 1- to 8-byte varints and empty chunks, also once its buffers are reused and made smaller", () => {
  const r = new ChunkRecords();
  let grown = 0;
  for (let round = 0; round < 70; round++) {
    // Round 1 is larger than the others: the buffers grow, and are made
    // smaller at the 64th clear (the first 32 held round 1).
    const list = chunks(round === 1 ? 3000 : 60, round + 1);
    records(list, r);
    assert.equal(r.n, list.length);
    assert.deepEqual([...r.bytes], list.flatMap(reference), `round ${round}`);
    list.forEach((c, k) => {
      assert.deepEqual(
        [r.id(k), r.minT(k), r.maxT(k), r.count(k), r.columns(k)],
        [c.id, c.minT, c.maxT, c.count, c.columns],
      );
      assert.deepEqual([...r.buffer.subarray(r.dataAt(k), r.end(k))], [
        ...c.bytes,
      ]);
    });
    assert.equal(r.liveBytes, r.bytes.length);
    grown = Math.max(grown, r.buffer.length);
    r.clear();
  }
  assert.ok(grown > 1_000_000 && r.buffer.length < grown / 8);
});

test("SegmentDir.write() puts the records not dropped in the files, byte for byte and in order, split into segments at their size", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-records-test-"));
  try {
    const segs = new SegmentDir(dir, 16 * 1024);
    const r = new ChunkRecords();
    const want: number[] = [];
    const rand = seededRandom(99);
    for (let flush = 0; flush < 6; flush++) {
      const list = chunks(150, 100 + flush);
      records(list, r);
      // The budget drops some (runs of them, the first, the last).
      list.forEach((c, k) => {
        const drop = k === 0 || k === list.length - 1 ||
          (flush === 3 && k > 20 && k < 60) || rand() < 0.15;
        if (drop) r.drop(k);
        else want.push(...reference(c));
      });
      segs.write(r);
      r.clear();
    }
    segs.write(r); // the last closed segment's footer
    assert.ok(segs.segments.length > 4, `${segs.segments.length} segments`);
    const got: number[] = [];
    for (const seg of segs.segments) {
      const bytes = readFileSync(seg.file.path);
      got.push(...bytes.subarray(0, seg.footer?.at ?? bytes.length));
    }
    assert.equal(got.length, want.length);
    assert.ok(got.every((b, i) => b === want[i]), "bytes differ");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
