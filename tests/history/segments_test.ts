import assert from "node:assert/strict";
import { test } from "node:test";
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeChunks, SegmentDir } from "../../src/history/segments.ts";

/** Chunks of series 0..`series`-1, `per` each, with distinct bytes. */
function chunks(series: number, per: number, t0: number) {
  const out = [];
  for (let k = 0; k < per; k++) {
    for (let id = 0; id < series; id++) {
      const bytes = new Uint8Array(5 + ((id + k) % 7));
      bytes.fill(id * 16 + k);
      out.push({
        id,
        columns: 1,
        chunk: {
          minT: t0 + k * 1000,
          maxT: t0 + k * 1000 + 999,
          count: 2,
          bytes,
        },
      });
    }
  }
  return out;
}

/** What readSpans() gives, as text (each chunk's bytes included). */
function spans(
  dir: SegmentDir,
  start: number,
  end: number,
  wanted = (_id: number) => true,
) {
  const out: string[] = [];
  dir.readSpans(wanted, start, end, (id, minT, maxT, bytes, from, to) => {
    out.push(`${id} ${minT} ${maxT} ${bytes.subarray(from, to).join(",")}`);
  });
  return out;
}

/** What read() (which walks the records) gives, in the same form. */
function records(dir: SegmentDir, start: number, end: number) {
  const out: string[] = [];
  dir.read(() => true, start, end, (r) => {
    out.push(`${r.id} ${r.minT} ${r.maxT} ${r.bytes.join(",")}`);
  });
  return out;
}

test("SegmentDir.readSpans() finds through its index the chunks read() finds by walking the records: after writes, across segments, after a reload", () => {
  const root = mkdtempSync(join(tmpdir(), "weir-segidx-"));
  try {
    const dir = new SegmentDir(join(root, "raw"), 300);
    dir.write(encodeChunks(chunks(5, 4, 0)));
    dir.write(encodeChunks(chunks(5, 3, 10_000)));
    assert.ok(dir.segments.length > 3, "several segments");
    const all = records(dir, 0, 20_000);
    assert.equal(all.length, 35);
    assert.deepEqual(spans(dir, 0, 20_000), all);
    assert.deepEqual(spans(dir, 2500, 10_500), records(dir, 2500, 10_500));
    assert.deepEqual(
      spans(dir, 0, 20_000, (id) => id === 3),
      all.filter((s) => s.startsWith("3 ")),
    );
    const again = new SegmentDir(join(root, "raw"), 300);
    again.load(() => {}, () => {});
    assert.deepEqual(spans(again, 0, 20_000), all);
    // Writes after a reload land in the newest segment's index too.
    again.write(encodeChunks(chunks(2, 1, 30_000)));
    assert.deepEqual(spans(again, 0, 40_000), records(again, 0, 40_000));
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("SegmentDir.readSpans() reads no file when no chunk in it is needed, and walks a segment rewritten at load (its offsets moved)", () => {
  const root = mkdtempSync(join(tmpdir(), "weir-segidx-"));
  try {
    const dir = new SegmentDir(join(root, "raw"), 1 << 20);
    dir.write(encodeChunks(chunks(3, 2, 0)));
    const seen: number[] = [];
    dir.readSpans(
      () => true,
      0,
      5000,
      (_id, _minT, _maxT, bytes, from, to) => {
        assert.equal(bytes.length, 0, "the file was not read");
        seen.push(to - from);
      },
      undefined,
      () => false,
    );
    assert.deepEqual(seen, [5, 6, 7, 6, 7, 8]);
    // Garbage in the middle of the file: load drops it and rewrites the
    // file, so the records move.
    const path = join(root, "raw", "000001.seg");
    const good = readFileSync(path);
    writeFileSync(path, good.subarray(0, 40));
    appendFileSync(path, new Uint8Array(13).fill(0x55));
    appendFileSync(path, good.subarray(40));
    const again = new SegmentDir(join(root, "raw"), 1 << 20);
    let corrupt = 0;
    again.load(() => {}, () => corrupt++);
    assert.equal(corrupt, 1);
    assert.equal(again.segments[0].index, undefined);
    assert.deepEqual(spans(again, 0, 5000), records(again, 0, 5000));
    assert.ok(spans(again, 0, 5000).length >= 4);
  } finally {
    rmSync(root, { recursive: true });
  }
});
