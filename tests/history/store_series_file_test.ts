import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ByteWriter } from "../../src/history/_bytes.ts";
import { encodeSeriesRecord } from "../../src/history/series_file.ts";
import { HistoryStore } from "../../src/history/store.ts";
import { withDir } from "./_store_fixtures.ts";

test("HistoryStore: a flush that brings more new series than one piece of the series file (256 KiB) writes them all, in id order, and a reopened store knows each by its id", async () => {
  await withDir(async (dir) => {
    const opts = { dir, flushIntervalMs: 0, now: () => 1e6 };
    let store = await HistoryStore.open(opts);
    const pad = "x".repeat(120);
    const labels = (i: number) => ({ __name__: "s", i: String(i), pad });
    const refs: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const ref = store.seriesRef(labels(i), "gauge");
      refs.push(ref);
      store.append(ref, 1000, i);
    }
    await store.flush();
    await store.close();
    store = await HistoryStore.open(opts);
    for (const i of [0, 1999, 2500, 3999]) {
      assert.equal(store.seriesRef(labels(i), "gauge"), refs[i]);
      const [p] = store.select(
        [{ name: "i", type: "=", value: String(i) }],
        0,
        2000,
        0,
      );
      assert.deepEqual([...p.value], [i]);
    }
    assert.equal(store.stats().series, 4000);
    await store.close();
  });
});

test("HistoryStore: label values with unusual characters, a series with many labels and series added after others were read come back exactly after a restart, and a series' labels are one object for select() and seriesLabels()", async () => {
  await withDir(async (dir) => {
    const opts = { dir, flushIntervalMs: 0, now: () => 1e6 };
    const odd = [
      "",
      "a=b",
      'q"u',
      "back\\slash",
      "new\nline",
      "\u0000",
      "ünï ☃ 😀",
      "y".repeat(3000),
    ];
    const wide: Record<string, string> = { __name__: "wide" };
    for (let i = 0; i < 40; i++) {
      wide[`l${String(i).padStart(2, "0")}`] = `v${i}`;
    }
    const sets: Record<string, string>[] = [
      ...odd.map((v, i) => ({ __name__: "odd", v, n: String(i) })),
      wide,
    ];
    let store = await HistoryStore.open(opts);
    const refs = sets.map((l, i) => {
      const ref = store.seriesRef(l, "gauge");
      store.append(ref, 1000, i);
      return ref;
    });
    await store.flush();
    // Read (their objects made), then more series after them.
    for (const ref of refs) store.seriesLabels(ref);
    for (let i = 0; i < 30; i++) {
      const l = { __name__: "late", v: odd[i % odd.length], i: String(i) };
      sets.push(l);
      const ref = store.seriesRef(l, "counter");
      refs.push(ref);
      store.append(ref, 1000, i);
    }
    await store.flush();
    await store.close();
    store = await HistoryStore.open(opts);
    sets.forEach((l, i) => {
      assert.deepEqual(store.seriesLabels(refs[i]), l);
      assert.equal(store.seriesRef({ ...l }, "gauge"), refs[i]);
    });
    const got = store.select(
      [{ name: "__name__", type: "=~", value: ".+" }],
      0,
      2000,
      0,
    );
    assert.equal(got.length, sets.length);
    const seen = new Set<number>();
    for (const p of got) {
      const j = sets.findIndex((l) => isDeep(l, p.labels));
      assert.ok(j >= 0, JSON.stringify(p.labels));
      seen.add(j);
      // The same object as seriesLabels() gives (remote write keys by it).
      assert.equal(p.labels, store.seriesLabels(refs[j]));
      assert.deepEqual([...p.value], [
        j < refs.length - 30 ? j : j - (refs.length - 30),
      ]);
    }
    assert.equal(seen.size, sets.length);
    await store.close();
  });
});

test("HistoryStore writes series.log as one series record after another, each encodeSeriesRecord() of the series' labels, in id order, across flushes and past a piece of the buffer it is written through", async () => {
  await withDir(async (dir) => {
    const store = await HistoryStore.open({
      dir,
      flushIntervalMs: 0,
      now: () => 1e6,
    });
    const want = new ByteWriter();
    const add = (labels: Record<string, string>, kind: "gauge" | "counter") => {
      const id = store.seriesRef(labels, kind);
      store.append(id, 1000, 1);
      encodeSeriesRecord(want, {
        id,
        kind,
        labels: Object.fromEntries(Object.entries(labels).sort()),
      });
    };
    const odd = ['q"u', "back\\slash", "new\nline", "ünï ☃ 😀", "\u0000"];
    for (let i = 0; i < 600; i++) {
      add(
        {
          __name__: "s",
          i: String(i),
          v: odd[i % odd.length],
          pad: "p".repeat(i % 90),
        },
        i % 3 === 0 ? "counter" : "gauge",
      );
    }
    await store.flush();
    add({ __name__: "later", "0": "index-like name" }, "gauge");
    add({ __name__: "later", b: "x" }, "counter");
    await store.flush();
    await store.close();
    assert.deepEqual(
      readFileSync(join(dir, "series.log")),
      Buffer.from(want.bytes()),
    );
  });
});

function isDeep(
  a: Record<string, string>,
  b: Readonly<Record<string, string>>,
): boolean {
  try {
    assert.deepEqual({ ...b }, a);
    return true;
  } catch {
    return false;
  }
}
