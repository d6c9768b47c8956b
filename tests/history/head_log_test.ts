import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ByteWriter } from "../../src/history/_bytes.ts";
import {
  applyHeadPart,
  encodeHeadRecord,
  headRecordBytes,
  parseHeadRecord,
} from "../../src/history/head_log.ts";
import { scanRecords } from "../../src/history/record_frame.ts";
import { HistoryStore } from "../../src/history/store.ts";
import { withDir } from "./_store_fixtures.ts";

const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];
/** Raw chunks of 100 rows: a flush every 10 samples sees one chunk grow. */
const TIERS = [
  { name: "raw", resolutionMs: 1000, retentionMs: 1e12, chunkRows: 100 },
  { name: "1m", resolutionMs: 60_000, retentionMs: 1e12, chunkRows: 5 },
];

/** Records of head.log, parsed. */
function headRecords(dir: string) {
  const out: NonNullable<ReturnType<typeof parseHeadRecord>>[] = [];
  scanRecords(readFileSync(join(dir, "head.log")), (b, s, e) => {
    out.push(parseHeadRecord(b, s, e, TIERS.length)!);
  });
  return out;
}

/** Takes over the lock of a store that was never closed (a crash). */
function crashed(dir: string): void {
  writeFileSync(join(dir, "LOCK"), "999999999");
}

test("encodeHeadRecord() and parseHeadRecord() round-trip whole chunks and parts; headRecordBytes() says the size", () => {
  const w = new ByteWriter();
  const h = {
    id: 70_000,
    lastT: 1.5e12,
    chunks: [
      {
        chunk: new Uint8Array([9, 8, 7]),
        columns: 0,
        base: 12,
        count: 22,
        from: 40,
      },
      { chunk: new Uint8Array([1, 6, 2, 5]), columns: 6 },
      undefined,
    ],
  };
  encodeHeadRecord(w, h);
  assert.equal(headRecordBytes(h), w.length);
  let got;
  scanRecords(w.bytes(), (b, s, e) => got = parseHeadRecord(b, s, e, 3));
  assert.deepEqual(got, {
    id: 70_000,
    lastT: 1.5e12,
    chunks: [
      {
        chunk: new Uint8Array([9, 8, 7]),
        columns: 0,
        base: 12,
        count: 22,
        from: 40,
      },
      { chunk: new Uint8Array([1, 6, 2, 5]), columns: 6 },
      undefined,
    ],
  });
});

test("applyHeadPart() continues a stream only from the rows and the byte it was written after", () => {
  const stream = new Uint8Array([1, 2, 3]);
  const part = {
    chunk: new Uint8Array([4, 5, 6, 7]),
    columns: 0,
    base: 10,
    count: 14,
    from: 2,
  };
  // The part rewrites the stream's last (partial) byte, then grows it.
  const r = applyHeadPart(stream, 3, 10, part)!;
  assert.deepEqual([...r.stream.subarray(0, r.length)], [1, 2, 4, 5, 6, 7]);
  // Written after other rows (a record before it was lost): refused.
  assert.equal(applyHeadPart(stream, 3, 9, part), undefined);
  // The stream does not end at the part's first byte: refused.
  assert.equal(applyHeadPart(stream, 1, 10, part), undefined);
  assert.equal(applyHeadPart(new Uint8Array(8), 8, 10, part), undefined);
});

test("HistoryStore: a flush writes only what each open chunk gained since the last, and a restart rebuilds the chunks from those parts", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    const a = s.seriesRef({ __name__: "a" }, "counter");
    const b = s.seriesRef({ __name__: "b" }, "gauge");
    const sizes: number[] = [];
    for (let i = 1; i <= 45; i++) {
      s.append(a, i * 1000, i * 3);
      s.append(b, i * 1000, (i * 7919) % 101 + 0.25);
      if (i % 10 === 0) {
        await s.flush();
        sizes.push(statSync(join(dir, "head.log")).size);
      }
    }
    await s.flush();
    const recs = headRecords(dir);
    // Flush 1 writes whole chunks; flushes 2 on write parts of the raw tier.
    assert.equal(recs[0].chunks[0]!.base, undefined);
    const later = recs.slice(2).filter((r) => r.chunks[0]);
    assert.ok(later.length >= 6);
    for (const r of later) assert.ok(r.chunks[0]!.base! > 0, JSON.stringify(r));
    // A part is far smaller than its chunk: the log grows by about the same
    // bytes each flush, not by more and more.
    const grew = sizes.slice(1).map((n, i) => n - sizes[i]);
    assert.ok(Math.max(...grew) - Math.min(...grew) <= 8, grew.join(", "));
    crashed(dir);
    const again = await HistoryStore.open(opts);
    const [pa, pb] = again.select(all, 0, 1e9, 0);
    assert.deepEqual(
      [...pa.t],
      Array.from({ length: 45 }, (_, i) => (i + 1) * 1000),
    );
    assert.deepEqual(
      [...pa.value],
      Array.from({ length: 45 }, (_, i) => (i + 1) * 3),
    );
    assert.deepEqual(
      [...pb.value],
      Array.from({ length: 45 }, (_, i) => ((i + 1) * 7919) % 101 + 0.25),
    );
    // The restored chunk goes on growing, and the next restart has it all.
    for (let i = 46; i <= 52; i++) again.append(0, i * 1000, i * 3);
    await again.flush();
    crashed(dir);
    const third = await HistoryStore.open(opts);
    assert.equal(third.select(all, 0, 1e9, 0)[0].t.length, 52);
    await third.close();
  });
});

test("HistoryStore: a part whose earlier record is lost is dropped; the chunk keeps what the log holds before it", async () => {
  await withDir(async (dir) => {
    const opts = { dir, tiers: TIERS, flushIntervalMs: 0 };
    const s = await HistoryStore.open(opts);
    const a = s.seriesRef({ __name__: "a" }, "counter");
    const ends: number[] = [];
    for (let i = 1; i <= 40; i++) {
      s.append(a, i * 1000, i);
      if (i % 10 === 0) {
        await s.flush();
        ends.push(statSync(join(dir, "head.log")).size);
      }
    }
    // Flip a byte of the third flush's record (samples 21-30).
    const bytes = readFileSync(join(dir, "head.log"));
    bytes[ends[1] + 12] ^= 0xff;
    writeFileSync(join(dir, "head.log"), bytes);
    crashed(dir);
    const warnings: string[] = [];
    const again = await HistoryStore.open({
      ...opts,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes("head.log"));
    // Samples 1-20 (the whole chunk and its first part); the part of 31-40
    // does not continue what loaded, so it is dropped.
    assert.deepEqual(
      [...again.select(all, 0, 1e9, 0)[0].t],
      Array.from({ length: 20 }, (_, i) => (i + 1) * 1000),
    );
    await again.close();
  });
});
