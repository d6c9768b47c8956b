import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { readFooter } from "../../src/history/segment_footer.ts";
import { segmentFiles, withDir } from "./_store_fixtures.ts";
import {
  closedSegments,
  everything,
  fill,
  openSmall as open,
  type Row,
  TIER_NAMES,
} from "./_footer_fixtures.ts";

/** A chunk of a closed segment: its file, series id and span. */
interface Flipped {
  file: string;
  tier: number;
  id: number;
  minT: number;
  maxT: number;
}

/**
 * Flips a byte in the middle of a chunk's bytes (not its footer) in the
 * `nth` closed segment of tier `tier`.
 */
function flipChunk(dir: string, tier: number, nth = 0): Flipped {
  const files = closedSegments(dir, TIER_NAMES[tier]);
  assert.ok(files.length > nth, `${files.length} closed segments`);
  const file = files[nth];
  const footer = readFooter(file, statSync(file).size)!;
  const k = footer.n >> 1;
  const bytes = readFileSync(file);
  bytes[(footer.from(k) + footer.to(k)) >> 1] ^= 0x10;
  writeFileSync(file, bytes);
  return {
    file,
    tier,
    id: footer.id(k),
    minT: footer.minT(k),
    maxT: footer.maxT(k),
  };
}

/** `rows` without the points a chunk held. */
function without(rows: Row[][], f: Flipped): Row[][] {
  return rows.map((tier, k) =>
    k !== f.tier ? tier : tier.map((row): Row => {
      if (row[0] !== String(f.id)) return row;
      const keep = row[1].map((t) => t < f.minT || t > f.maxT);
      const pick = (a: number[]) =>
        a.length === 0 ? a : a.filter((_, j) => keep[j]);
      return [row[0], pick(row[1]), pick(row[2]), pick(row[3]), pick(row[4])];
    })
  );
}

test("HistoryStore drops a chunk whose record rotted in a closed segment: not read before it is verified, one warning naming the file at the next flush, counted, everything else kept", async () => {
  await withDir(async (dir) => {
    const s = await open(dir);
    await fill(s, 1, 600);
    const before = everything(s);
    await s.close();
    const raw = flipChunk(dir, 0);
    const rows = flipChunk(dir, 1);
    const expected = without(without(before, raw), rows);
    assert.notDeepEqual(expected, before);
    const warnings: string[] = [];
    const again = await open(dir, warnings);
    // Not verified yet: a read checks each chunk's record itself.
    assert.deepEqual(everything(again), expected);
    assert.equal(warnings.length, 0, warnings.join("\n"));
    // The first flush verifies them all (well within its slice).
    await again.flush();
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.ok(warnings[0].includes(raw.file), warnings[0]);
    assert.ok(warnings[1].includes(rows.file), warnings[1]);
    assert.equal(again.stats().corruptChunksSkipped, 2);
    assert.deepEqual(everything(again), expected);
    await again.flush();
    assert.equal(warnings.length, 2);
    await again.close();
    // Rewritten without them: the next open finds nothing wrong.
    const third = await open(dir, warnings);
    await third.flush();
    assert.equal(warnings.length, 2);
    assert.equal(third.stats().corruptChunksSkipped, 0);
    assert.deepEqual(everything(third), expected);
    await third.close();
    for (const f of [raw.file, rows.file]) {
      assert.ok(readFooter(f, statSync(f).size), `${f} has a footer again`);
    }
  });
});

test("HistoryStore warns once per segment file however many of its chunks rotted", async () => {
  await withDir(async (dir) => {
    const s = await open(dir);
    await fill(s, 1, 600);
    await s.close();
    const [file] = segmentFiles(dir, "raw");
    const footer = readFooter(file, statSync(file).size)!;
    const bytes = readFileSync(file);
    for (const k of [0, footer.n >> 1, footer.n - 1]) {
      bytes[footer.from(k) + 1] ^= 0x01;
    }
    writeFileSync(file, bytes);
    const warnings: string[] = [];
    const again = await open(dir, warnings);
    await again.flush();
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.ok(warnings[0].includes(file), warnings[0]);
    assert.equal(again.stats().corruptChunksSkipped, 3);
    await again.close();
  });
});

test("HistoryStore verifies a clean store's closed segments without a warning: every point kept", async () => {
  await withDir(async (dir) => {
    const s = await open(dir);
    await fill(s, 1, 600);
    const before = everything(s);
    await s.close();
    const warnings: string[] = [];
    const again = await open(dir, warnings);
    await again.flush();
    await again.flush();
    assert.deepEqual(warnings, []);
    assert.equal(again.stats().corruptChunksSkipped, 0);
    assert.deepEqual(everything(again), before);
    await again.close();
  });
});
