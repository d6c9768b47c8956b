import assert from "node:assert/strict";
import { test } from "node:test";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  chunkRecordBytes,
  encodeChunks,
  SegmentDir,
  SegmentIndex,
} from "../../src/history/segments.ts";
import { FooterCache, readFooter } from "../../src/history/segment_footer.ts";
import type { PendingChunk } from "../../src/history/tier.ts";

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

test("SegmentDir.write() indexes each chunk where its bytes landed, across segments, as a load that parses the records finds them", () => {
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
    const written = new SegmentDir(join(dir, "raw"), 4096);
    for (let from = 0; from < pending.length; from += 50) {
      written.write(encodeChunks(pending.slice(from, from + 50)));
    }
    assert.ok(
      written.segments.length > 3,
      `${written.segments.length} segments`,
    );
    const got: unknown[] = [];
    const want: unknown[] = [];
    const list = (segs: SegmentDir, out: unknown[]) => {
      segs.readSpans(
        () => true,
        0,
        Infinity,
        (id, minT, maxT, bytes, from, to) =>
          out.push([id, minT, maxT, [...bytes.subarray(from, to)]]),
      );
      out.sort((a, b) =>
        String(a).localeCompare(String(b), "en", { numeric: true })
      );
    };
    list(written, got);
    // Footers cut off: a load indexes every segment from its records.
    for (const seg of written.segments) {
      if (seg.footer) truncateSync(seg.file.path, seg.footer.at);
    }
    const parsed = new SegmentDir(join(dir, "raw"), 1 << 30);
    parsed.load(() => {}, () => assert.fail("no bad record"));
    assert.equal(parsed.segments.length, written.segments.length);
    list(parsed, want);
    assert.equal(got.length, pending.length);
    assert.deepEqual(got, want);
    const first = pending[0]; // id 0, first by id
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

/** `n` pending chunks of series `0..series-1`, a chunk of each per round, times on a 1 s grid. */
function chunks(n: number, series: number, t0 = 1_700_000_000_000) {
  return Array.from({ length: n }, (_, i): PendingChunk => ({
    id: (i % series) * 3,
    columns: 1,
    chunk: {
      minT: t0 + Math.floor(i / series) * 120_000,
      maxT: t0 + Math.floor(i / series) * 120_000 + 119_000,
      count: 100 + (i % 60), // varints of 1 and 2 bytes
      bytes: new Uint8Array(20 + (i % 13) * 5).map((_, k) => (k + i) & 255),
    },
  }));
}

/** Every chunk a read gives back, in one canonical order. */
function readAll(segs: SegmentDir): unknown[] {
  const out: [number, number, number, number[]][] = [];
  segs.read(() => true, -Infinity, Infinity, (r) => {
    out.push([r.id, r.minT, r.maxT, [r.count, r.columns, ...r.bytes]]);
  });
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function canonical(pending: PendingChunk[]): unknown[] {
  return pending.map((p) => [p.id, p.chunk.minT, p.chunk.maxT, [
    p.chunk.count,
    p.columns,
    ...p.chunk.bytes,
  ]]).sort((a, b) =>
    (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number)
  );
}

function withTmp(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "weir-seg-test-"));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `pending` to a new SegmentDir at `dir` in batches of `batch`. */
function written(dir: string, pending: PendingChunk[], batch = 40): SegmentDir {
  const segs = new SegmentDir(dir, 4096);
  for (let i = 0; i < pending.length; i += batch) {
    segs.write(encodeChunks(pending.slice(i, i + batch)));
  }
  return segs;
}

function loaded(dir: string, warnings: string[] = []): SegmentDir {
  const segs = new SegmentDir(dir, 4096);
  segs.load(() => {}, (path, runs) => warnings.push(`${path}: ${runs}`));
  return segs;
}

test("SegmentDir closes a full segment: the next write appends its index as a footer and drops it from memory; reads after a reopen give the same chunks", () => {
  withTmp((dir) => {
    const pending = chunks(400, 20);
    const segs = new SegmentDir(dir, 4096);
    segs.write(encodeChunks(pending.slice(0, 30)));
    const open = segs.indexBytes;
    assert.ok(open > 0);
    // The first segment fills: its footer is built, then written.
    segs.write(encodeChunks(pending.slice(30, 80)));
    const [first] = segs.segments;
    assert.equal(first.index, undefined);
    assert.ok(first.pending, "footer built when the segment filled");
    const size = first.file.bytes;
    segs.write(encodeChunks(pending.slice(80, 81)));
    assert.equal(first.pending, undefined);
    assert.deepEqual(first.footer, {
      at: size,
      bytes: statSync(first.file.path).size - size,
    });
    assert.equal(
      readFooter(first.file.path, first.file.bytes)?.n,
      first.chunks,
    );
    for (let i = 81; i < pending.length; i += 40) {
      segs.write(encodeChunks(pending.slice(i, i + 40)));
    }
    assert.ok(segs.segments.length > 5, `${segs.segments.length} segments`);
    // What an index of every chunk held in memory before footers.
    const all = new SegmentIndex();
    for (let k = 0; k < pending.length; k++) all.add(k, 0, 0, 0, 0);
    all.trim();
    assert.ok(
      segs.indexBytes * 4 < all.memoryBytes,
      `${segs.indexBytes} bytes held, ${all.memoryBytes} before footers`,
    );
    // Only the open segment's index stays in memory, besides the cache.
    const inMemory = segs.segments.filter((s) => s.index !== undefined);
    assert.deepEqual(inMemory, [segs.segments[segs.segments.length - 1]]);
    assert.equal(
      segs.indexBytes,
      segs.footers.bytes + inMemory[0].index!.memoryBytes +
        segs.segments.reduce((n, s) => n + (s.pending?.memoryBytes ?? 0), 0),
    );
    assert.deepEqual(readAll(segs), canonical(pending));
    const again = loaded(dir);
    assert.deepEqual(readAll(again), canonical(pending));
    // Closed segments load from their footers: the same chunks and spans.
    again.segments.forEach((s, i) => {
      assert.equal(s.chunks, segs.segments[i].chunks);
      assert.equal(s.minT, segs.segments[i].minT);
      assert.equal(s.maxT, segs.segments[i].maxT);
    });
    const spans: unknown[] = [];
    again.readSpans(
      [6, 3],
      -Infinity,
      Infinity,
      (id, minT, _, bytes, from, to) =>
        spans.push([id, minT, to - from, bytes[from]]),
    );
    const want = pending.filter((p) => p.id === 3 || p.id === 6).map((
      p,
    ) => [p.id, p.chunk.minT, p.chunk.bytes.length, p.chunk.bytes[0]]);
    assert.deepEqual(
      spans.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1),
      want.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1),
    );
  });
});

test("SegmentDir counts a footer in its bytes before writing it: the disk never holds more than bytes plus chunkRecordBytes() of what a write adds", () => {
  withTmp((dir) => {
    const pending = chunks(600, 25);
    const segs = new SegmentDir(dir, 4096);
    const onDisk = () =>
      readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    for (let i = 0; i < pending.length; i += 35) {
      const batch = pending.slice(i, i + 35);
      const counted = segs.bytes +
        batch.reduce((n, p) => n + chunkRecordBytes(p), 0);
      segs.write(encodeChunks(batch));
      assert.ok(onDisk() <= counted, `${onDisk()} > ${counted} at ${i}`);
      assert.ok(onDisk() <= segs.bytes);
    }
  });
});

test("SegmentDir rebuilds a torn footer (the file cut in its middle) from the records: nothing lost, no warning, the footer written again", () => {
  withTmp((dir) => {
    const pending = chunks(300, 20);
    const segs = written(dir, pending);
    const first = segs.segments[0];
    const { at, bytes } = first.footer!;
    truncateSync(first.file.path, at + Math.floor(bytes / 2));
    const warnings: string[] = [];
    const again = loaded(dir, warnings);
    assert.deepEqual(warnings, []);
    assert.deepEqual(readAll(again), canonical(pending));
    assert.ok(again.segments[0].pending, "footer rebuilt, to be written");
    assert.equal(statSync(first.file.path).size, at, "torn tail dropped");
    again.write(encodeChunks(chunks(1, 1, 1_800_000_000_000)));
    assert.equal(
      readFooter(first.file.path, statSync(first.file.path).size)?.n,
      first.chunks,
    );
    assert.deepEqual(loaded(dir, warnings).segments[0].footer, first.footer);
    assert.deepEqual(warnings, []);
  });
});

test("SegmentDir rebuilds a corrupt footer (a flipped byte) from the records: nothing lost, no warning", () => {
  withTmp((dir) => {
    const pending = chunks(300, 20);
    const segs = written(dir, pending);
    const second = segs.segments[1];
    const { at, bytes } = second.footer!;
    const file = readFileSync(second.file.path);
    file[at + Math.floor(bytes * 0.6)] ^= 0x20;
    writeFileSync(second.file.path, file);
    const warnings: string[] = [];
    const again = loaded(dir, warnings);
    assert.deepEqual(warnings, []);
    assert.deepEqual(readAll(again), canonical(pending));
    assert.equal(again.segments[1].footer, undefined);
    assert.ok(again.segments[1].pending);
    // A flipped byte in a chunk record of a segment without footer: that
    // record is dropped, with a warning, as before footers.
    const third = again.segments[2];
    const bytes3 = readFileSync(third.file.path);
    bytes3[third.footer!.at - 10] ^= 0x20;
    writeFileSync(third.file.path, bytes3.subarray(0, third.footer!.at));
    const after = loaded(dir, warnings);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /000003\.seg: 1$/);
    assert.equal(readAll(after).length, pending.length - 1);
  });
});

test("SegmentDir loads segments written before footers (chunk records only): the newest stays open, the others get footers at the next write", () => {
  withTmp((dir) => {
    const pending = chunks(120, 10);
    // As a store before footers wrote them: records back to back.
    for (let s = 0; s < 3; s++) {
      writeFileSync(
        join(dir, `00000${s + 1}.seg`),
        encodeChunks(pending.slice(s * 40, s * 40 + 40)).bytes,
      );
    }
    const seen: number[] = [];
    const segs = new SegmentDir(dir, 1 << 20);
    segs.load((r) => seen.push(r.id), () => assert.fail("no warning"));
    assert.equal(seen.length, pending.length);
    assert.deepEqual(readAll(segs), canonical(pending));
    const [a, b, c] = segs.segments;
    assert.ok(a.pending && b.pending && c.index);
    segs.write(encodeChunks(chunks(1, 1, 1_800_000_000_000)));
    assert.ok(a.footer && b.footer && !c.footer && c.index);
    assert.equal(segs.segments.length, 3, "the newest took the new chunk");
    const again = new SegmentDir(dir, 1 << 20);
    again.load(() => {}, () => assert.fail("no warning"));
    assert.equal(readAll(again).length, pending.length + 1);
  });
});

test("SegmentDir keeps the footers it reads back within its cache's bound, and counts them in indexBytes", () => {
  withTmp((dir) => {
    const pending = chunks(800, 40);
    written(dir, pending);
    const probe = loaded(dir);
    const sizes = probe.segments.filter((s) => s.footer).map((s) =>
      s.footer!.bytes
    );
    assert.ok(sizes.length > 6, `${sizes.length} footers`);
    const footers = new FooterCache(3 * Math.max(...sizes));
    const segs = new SegmentDir(dir, 4096, { footers });
    segs.load(() => {}, () => {});
    assert.equal(footers.bytes, 0, "only reads fill the cache");
    for (let id = 0; id < 120; id += 3) {
      segs.read([id], -Infinity, Infinity, () => {});
      assert.ok(footers.bytes <= footers.maxBytes, `${footers.bytes}`);
      assert.ok(footers.bytes > 0);
    }
    // Besides the cache: the open index, footers to write, and which
    // chunks of segments not verified yet reads found good (a byte each).
    const own = segs.segments.reduce(
      (n, s) =>
        n + (s.index?.memoryBytes ?? 0) + (s.pending?.memoryBytes ?? 0) +
        (s.good?.length ?? 0),
      0,
    );
    assert.ok(segs.segments.some((s) => s.good));
    assert.equal(segs.indexBytes, footers.bytes + own);
    segs.verify(Infinity);
    assert.ok(segs.segments.every((s) => !s.good));
    assert.deepEqual(readAll(segs), canonical(pending));
    // A bound of 0 keeps nothing, and reads still work.
    const none = new SegmentDir(dir, 4096, { footers: new FooterCache(0) });
    none.load(() => {}, () => {});
    assert.equal(none.footers.bytes, 0);
    assert.deepEqual(readAll(none), canonical(pending));
  });
});

test("SegmentDir.readSpans() with step windows keeps the chunks their test keeps (the first end at or after a chunk's start is at most reachMs after its end), from footers and the open segment", () => {
  withTmp((dir) => {
    const pending = chunks(700, 30);
    const segs = written(dir, pending);
    const t0 = 1_700_000_000_000;
    const ends = new Float64Array(40).map((_, i) => t0 + 100_000 + i * 210_000);
    const reachMs = 60_000;
    const byClosure = (minT: number, maxT: number) => {
      let i = 0;
      while (i < ends.length && ends[i] < minT) i++;
      return i < ends.length && ends[i] - reachMs <= maxT;
    };
    const list = (overlaps: Parameters<SegmentDir["readSpans"]>[4]) => {
      const out: string[] = [];
      segs.readSpans(
        [0, 3, 9, 30, 45, 87],
        t0,
        t0 + 5e6,
        (id, minT, maxT) => out.push(`${id}:${minT}:${maxT}`),
        overlaps,
      );
      return out.sort();
    };
    const want = list(byClosure);
    assert.ok(want.length > 20 && want.length < list(undefined).length);
    assert.deepEqual(list({ ends, reachMs }), want);
    assert.ok(
      segs.segments.some((s) => s.footer) && segs.segments.at(-1)!.index,
    );
  });
});

/** Every chunk readSpans() gives back, in one canonical order (as readAll). */
function spansAll(segs: SegmentDir): unknown[] {
  const out: [number, number, number, number[]][] = [];
  segs.readSpans(() => true, -Infinity, Infinity, (id, minT, maxT, b, f, t) => {
    out.push([id, minT, maxT, [...b.subarray(f, t)]]);
  });
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

test("SegmentDir.verify() checks the records of segments loaded from their footers, newest first, a slice at a time; one with a rotted chunk is rewritten without it, its file named once", () => {
  withTmp((dir) => {
    const pending = chunks(300, 20);
    const segs = written(dir, pending);
    segs.write(encodeChunks([]));
    const closed = segs.segments.filter((s) => s.footer);
    assert.ok(closed.length >= 4, `${closed.length} closed segments`);
    // Two chunks of the second segment rot: a byte of each one's bytes.
    const second = closed[1];
    const footer = readFooter(second.file.path, second.file.bytes)!;
    const bytes = readFileSync(second.file.path);
    // The first and last in the footer's order, far apart in the file:
    // two bad runs.
    const lost = [0, footer.n - 1].map((k) => {
      bytes[footer.from(k) + 3] ^= 0x04;
      return [footer.id(k), footer.minT(k)];
    });
    writeFileSync(second.file.path, bytes);
    const want = canonical(pending).filter((c) =>
      !lost.some(([id, minT]) =>
        (c as number[])[0] === id && (c as number[])[1] === minT
      )
    );
    const warnings: string[] = [];
    const again = loaded(dir, warnings);
    const unverified = again.segments.filter((s) => s.unverified);
    assert.equal(unverified.length, closed.length);
    // Before they are verified, reads check each chunk's record.
    const wantSpans = want.map((c) => {
      const [id, minT, maxT, bytes] = c as [number, number, number, number[]];
      return [id, minT, maxT, bytes.slice(2)];
    });
    assert.deepEqual(readAll(again), want);
    assert.deepEqual(spansAll(again), wantSpans);
    assert.equal(warnings.length, 0);
    assert.ok(again.segments[1].suspect, "the read marked it");
    // A slice: the suspect first, then the newest, while within the bytes.
    const total = again.unverifiedBytes;
    const slice = second.footer!.at + 1;
    assert.equal(again.verify(slice), second.footer!.at);
    assert.deepEqual(warnings, [`${second.file.path}: 2`]);
    assert.equal(again.segments[1].unverified, false);
    assert.equal(again.segments[1].chunks, second.chunks - 2);
    assert.equal(again.unverifiedBytes, total - second.footer!.at);
    const newest = unverified[unverified.length - 1];
    assert.equal(again.verify(1), newest.footer!.at, "one segment at least");
    assert.equal(newest.unverified, false);
    assert.equal(again.verify(0), 0);
    assert.ok(again.verify(Infinity) > 0);
    assert.equal(again.unverifiedBytes, 0);
    assert.equal(again.verify(Infinity), 0);
    assert.equal(warnings.length, 1);
    assert.deepEqual(readAll(again), want);
    assert.deepEqual(spansAll(again), wantSpans);
    // A crash before its rebuilt footer is written: a load reads it record
    // by record, and finds nothing wrong.
    const crashed = loaded(dir, warnings);
    assert.equal(warnings.length, 1);
    assert.deepEqual(readAll(crashed), want);
    assert.equal(crashed.segments[1].unverified, undefined);
    // Its footer is rebuilt, written by the next write: a reopen finds
    // nothing wrong and nothing to rebuild.
    again.write(encodeChunks([]));
    const third = loaded(dir, warnings);
    assert.ok(third.segments[1].footer);
    assert.equal(
      third.verify(Infinity),
      third.segments.reduce((n, s) => n + (s.footer?.at ?? 0), 0),
    );
    assert.equal(warnings.length, 1);
    assert.deepEqual(readAll(third), want);
  });
});

test("SegmentDir.verify() leaves segments rebuilt at load alone (their records were checked then) and those written since", () => {
  withTmp((dir) => {
    const segs = written(dir, chunks(300, 20));
    const first = segs.segments[0];
    truncateSync(first.file.path, first.footer!.at + 3);
    const again = loaded(dir);
    assert.equal(again.segments[0].unverified, undefined);
    const loadedFromFooters = again.segments.filter((s) => s.unverified);
    assert.deepEqual(
      loadedFromFooters,
      again.segments.filter((s) => s.seq > 1 && s.footer),
    );
    assert.ok(loadedFromFooters.length >= 2);
    const before = again.unverifiedBytes;
    assert.equal(
      before,
      loadedFromFooters.reduce((n, s) => n + s.footer!.at, 0),
    );
    again.write(encodeChunks(chunks(200, 20, 1_800_000_000_000)));
    assert.equal(again.unverifiedBytes, before);
    assert.equal(again.verify(Infinity), before);
    assert.equal(again.unverifiedBytes, 0);
  });
});
