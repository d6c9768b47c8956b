/**
 * A history folder with a file that cannot be read, or with its series or
 * head log gone: the store opens, says what it left out and why, and
 * keeps the rest (a device's flows must not stop serving for it).
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { segmentFiles, SMALL_TIERS, withDir } from "./_store_fixtures.ts";

const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];
// Recent times: the tiers' retention is counted back from now.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
const at = (i: number) => T0 + i * 1000;

async function written(dir: string, to: number): Promise<void> {
  const s = await HistoryStore.open({
    dir,
    tiers: SMALL_TIERS,
    flushIntervalMs: 0,
    segmentBytes: 1,
  });
  const r = s.seriesRef({ __name__: "x" }, "counter");
  for (let i = 1; i <= to; i++) s.append(r, at(i), i * 10);
  await s.close();
}

test("a segment that cannot be read (a folder in its place) is left out with one warning; the rest loads and no new segment takes its name", async () => {
  await withDir(async (dir) => {
    await written(dir, 95);
    const segs = segmentFiles(dir, "raw");
    assert.ok(segs.length >= 9, `${segs.length} raw segments`);
    rmSync(segs[0]);
    mkdirSync(segs[0]);
    const warnings: string[] = [];
    const s = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      flushIntervalMs: 0,
      segmentBytes: 1,
      onWarning: (m) => warnings.push(m),
    });
    const unreadable = warnings.filter((w) => w.includes("cannot read"));
    assert.equal(unreadable.length, 1, warnings.join("\n"));
    assert.ok(unreadable[0].includes(segs[0]), unreadable[0]);
    const [p] = s.select(all, 0, 1e13, 0);
    // The first chunk (ten samples) is what the folder hid; the rest is there.
    assert.equal(p.t.length, 85);
    assert.equal(p.t[0], at(11));
    assert.equal(p.t[p.t.length - 1], at(95));
    const r = s.seriesRef({ __name__: "x" }, "counter");
    for (let i = 96; i <= 140; i++) s.append(r, at(i), i * 10);
    await s.close();
    assert.ok(statSync(segs[0]).isDirectory(), "left as it was");
    const again = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      flushIntervalMs: 0,
      segmentBytes: 1,
      onWarning: () => {},
    });
    const [q] = again.select(all, 0, 1e13, 0);
    assert.equal(q.t[q.t.length - 1], at(140));
    assert.equal(q.t.length, p.t.length + 45);
    await again.close();
  });
});

test("a series log or head log gone is said at start, not met silently", async () => {
  await withDir(async (dir) => {
    await written(dir, 95);
    rmSync(join(dir, "head.log"));
    const warnings: string[] = [];
    const s = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      flushIntervalMs: 0,
      onWarning: (m) => warnings.push(m),
    });
    assert.ok(
      warnings.some((w) => /head\.log is missing/.test(w)),
      warnings.join("\n"),
    );
    await s.close();
    rmSync(join(dir, "series.log"));
    warnings.length = 0;
    const t = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      flushIntervalMs: 0,
      onWarning: (m) => warnings.push(m),
    });
    assert.ok(
      warnings.some((w) => /series\.log is missing/.test(w)),
      warnings.join("\n"),
    );
    await t.close();
    // A new folder says nothing.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    warnings.length = 0;
    const fresh = await HistoryStore.open({
      dir,
      tiers: SMALL_TIERS,
      flushIntervalMs: 0,
      onWarning: (m) => warnings.push(m),
    });
    await fresh.close();
    assert.deepEqual(warnings, []);
  });
});
