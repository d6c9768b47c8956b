import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  encodeChunks,
  SegmentDir,
  SegmentIndex,
} from "../../src/history/segments.ts";

test("SegmentIndex keeps 15 bytes an entry (16-bit ids, 32-bit offsets and times relative to the segment), turns a column wider, entries kept, when a value does not fit, and trims its room", () => {
  const index = new SegmentIndex();
  const n = 5000;
  const t0 = 1.7e12;
  // Records of 60 bytes back to back, each with 20 bytes before its chunk.
  for (let k = 0; k < n; k++) {
    index.add(k * 7, t0 + k * 1000, t0 + k * 1000 + 119_000, k * 60 + 20, 20);
  }
  index.end = n * 60;
  // 8192 entries of room: 2 + 4 + 1 + 4 + 4 bytes each; trimmed to n.
  assert.equal(index.memoryBytes, 8192 * 15);
  index.trim();
  assert.equal(index.memoryBytes, n * 15);
  for (let k = 0; k < n; k++) {
    assert.equal(index.id(k), k * 7);
    assert.equal(index.minT(k), t0 + k * 1000);
    assert.equal(index.maxT(k), t0 + k * 1000 + 119_000);
    assert.equal(index.from(k), k * 60 + 20);
    assert.equal(index.to(k), k * 60 + 60);
  }
  // An id past 16 bits, offsets past 32, a chunk 40 days before the
  // first one and spanning ~95 years: each column turns wider.
  index.add(70_000, t0 - 40 * 86_400_000, t0 + 3e12, 2 ** 32 + 8, 8);
  index.add(2 ** 33, 5, 6, 2 ** 32 + 100, 30);
  index.end = 2 ** 32 + 200;
  assert.equal(index.n, n + 2);
  for (let k = 0; k < n; k++) {
    assert.equal(index.id(k), k * 7);
    assert.equal(index.minT(k), t0 + k * 1000);
    assert.equal(index.maxT(k), t0 + k * 1000 + 119_000);
    assert.equal(index.from(k), k * 60 + 20);
  }
  assert.equal(index.to(n - 1), 2 ** 32);
  assert.deepEqual(
    [index.id(n), index.minT(n), index.maxT(n), index.from(n), index.to(n)],
    [70_000, t0 - 40 * 86_400_000, t0 + 3e12, 2 ** 32 + 8, 2 ** 32 + 70],
  );
  assert.deepEqual(
    [index.id(n + 1), index.minT(n + 1), index.maxT(n + 1), index.to(n + 1)],
    [2 ** 33, 5, 6, 2 ** 32 + 200],
  );
  const seen: number[] = [];
  index.scan(t0 + 10_000, t0 + 12_000, (k) => seen.push(k));
  // Chunks spanning 119 s that overlap [10 s, 12 s], and the long one.
  assert.deepEqual(seen, [...Array.from({ length: 13 }, (_, k) => k), n]);
});

test("SegmentDir.write() indexes each chunk where its bytes landed, from encodeChunks()'s offsets as from parsing the records, across segments", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-seg-test-"));
  try {
    const pending = Array.from({ length: 300 }, (_, i) => ({
      id: (i * 7919) % 70_000,
      columns: 1 + (i % 2) * 5,
      chunk: {
        minT: 1_700_000_000_000 + i * 1000,
        maxT: 1_700_000_000_000 + i * 1000 + (i % 9) * 300_000,
        count: 1 + (i % 130),
        bytes: new Uint8Array(10 + (i % 40) * 7).map((_, k) =>
          (k * 31 + i) & 255
        ),
      },
    }));
    const known = new SegmentDir(join(dir, "known"), 4096);
    const parsed = new SegmentDir(join(dir, "parsed"), 4096);
    for (let from = 0; from < pending.length; from += 50) {
      const e = encodeChunks(pending.slice(from, from + 50));
      assert.equal(e.ids!.length, 50);
      known.write(e);
      parsed.write({
        bytes: e.bytes,
        ends: e.ends,
        minT: e.minT,
        maxT: e.maxT,
      });
    }
    assert.ok(known.segments.length > 3, `${known.segments.length} segments`);
    assert.equal(known.segments.length, parsed.segments.length);
    const got: unknown[] = [];
    const want: unknown[] = [];
    const list = (segs: SegmentDir, out: unknown[]) =>
      segs.readSpans(
        () => true,
        0,
        Infinity,
        (id, minT, maxT, bytes, from, to) =>
          out.push([id, minT, maxT, [...bytes.subarray(from, to)]]),
      );
    list(known, got);
    list(parsed, want);
    assert.equal(got.length, pending.length);
    assert.deepEqual(got, want);
    const first = pending[0];
    assert.deepEqual(got[0], [
      first.id,
      first.chunk.minT,
      first.chunk.maxT,
      [...first.chunk.bytes],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
