import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { HistoryStore } from "../../src/history/store.ts";
import { readFooter } from "../../src/history/segment_footer.ts";
import { segmentFiles, SMALL_TIERS, withDir } from "./_store_fixtures.ts";

const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];
const SERIES = 40;
const TIERS = ["raw", "10s"];

/** A store whose segments close every 4 KiB. */
function open(dir: string, warnings: string[] = []) {
  return HistoryStore.open({
    dir,
    tiers: SMALL_TIERS,
    flushIntervalMs: 0,
    now: () => 0,
    segmentBytes: 4096,
    onWarning: (m) => warnings.push(m),
  });
}

/** Seconds `from..to` of SERIES series (label i = series id), a flush every 20 s. */
async function fill(s: HistoryStore, from: number, to: number) {
  const refs = Array.from(
    { length: SERIES },
    (_, i) => s.seriesRef({ __name__: "x", i: String(i) }, "gauge"),
  );
  for (let t = from; t <= to; t++) {
    refs.forEach((r, i) => s.append(r, t * 1000, (t * 7 + i) % 13));
    if (t % 20 === 0) await s.flush();
  }
  await s.flush();
}

type Row = [string, number[], number[], number[], number[]];

/** What a select of each tier gives, as plain arrays. */
function everything(s: HistoryStore): Row[][] {
  return TIERS.map((_, tier) =>
    s.select(all, 0, 1e9, tier).map((p): Row => [
      p.labels.i,
      [...p.t],
      [...p.value],
      [...(p.count ?? [])],
      [...(p.max ?? [])],
    ])
  );
}

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
  const files = segmentFiles(dir, TIERS[tier]).filter((f) =>
    readFooter(f, statSync(f).size)
  );
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
