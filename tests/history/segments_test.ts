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

test("SegmentIndex keeps ids and offsets in 32 bits (28 bytes an entry) and turns a column 64-bit, entries kept, when one does not fit", () => {
  const index = new SegmentIndex();
  const n = 5000;
  for (let k = 0; k < n; k++) {
    index.add(
      k * 7,
      1.7e12 + k * 1000,
      1.7e12 + k * 1000 + 999,
      k * 60,
      k * 60 + 60,
    );
  }
  assert.ok(index.id instanceof Uint32Array);
  assert.ok(index.to instanceof Uint32Array);
  // 8192 entries of room: 4 + 8 + 8 + 4 + 4 bytes each.
  assert.equal(index.memoryBytes, 8192 * 28);
  index.add(0xffffffff + 1, 5, 6, 0xffffffff - 3, 0xffffffff + 5);
  assert.ok(index.id instanceof Float64Array);
  assert.ok(index.from instanceof Float64Array);
  assert.ok(index.to instanceof Float64Array);
  assert.equal(index.n, n + 1);
  for (let k = 0; k < n; k++) {
    assert.equal(index.id[k], k * 7);
    assert.equal(index.minT[k], 1.7e12 + k * 1000);
    assert.equal(index.from[k], k * 60);
    assert.equal(index.to[k], k * 60 + 60);
  }
  assert.equal(index.id[n], 0xffffffff + 1);
  assert.equal(index.from[n], 0xffffffff - 3);
  assert.equal(index.to[n], 0xffffffff + 5);
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
