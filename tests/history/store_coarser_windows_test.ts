import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import type { SeriesPoints } from "../../src/history/types.ts";
import { withDir } from "./_store_fixtures.ts";

// Small chunks everywhere, so every chunk boundary falls inside windows
// of the next tier: the coarsest tier's rows come from the middle tier's
// rows through a window per series, not from its chunks.
const TIERS = [
  { name: "raw", resolutionMs: 1000, retentionMs: 1e12, chunkRows: 7 },
  { name: "10s", resolutionMs: 10_000, retentionMs: 1e12, chunkRows: 3 },
  { name: "1m", resolutionMs: 60_000, retentionMs: 1e12, chunkRows: 4 },
];
const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];

/** Seeded values: a counter with resets, a small integer gauge, a late starter, one that stops. */
function samples(seconds: number): Map<string, [number, number][]> {
  let seed = 7;
  const rnd = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = new Map<string, [number, number][]>(
    ["c", "g", "late", "stops"].map((n) => [n, []]),
  );
  let c = 0;
  let stops = 0;
  for (let s = 1; s <= seconds; s++) {
    const t = s * 1000;
    c = rnd() < 0.02 ? Math.floor(rnd() * 3) : c + Math.floor(rnd() * 4);
    out.get("c")!.push([t, c]);
    out.get("g")!.push([t, Math.floor(rnd() * 9) - 4]);
    if (s > 95) out.get("late")!.push([t, s % 13]);
    if (s <= 130) out.get("stops")!.push([t, stops += 2]);
  }
  return out;
}

/** The windows of `res` ms computed from the samples directly: t, value, count, sum, min, max, increase. */
function windows(points: [number, number][], res: number): number[][] {
  const rows: number[][] = [];
  let prev = NaN;
  for (const [t, v] of points) {
    const end = Math.ceil(t / res) * res;
    let r = rows[rows.length - 1];
    if (!r || r[0] !== end) rows.push(r = [end, v, 0, 0, v, v, 0]);
    r[1] = v;
    r[2]++;
    r[3] += v;
    r[4] = Math.min(r[4], v);
    r[5] = Math.max(r[5], v);
    if (prev === prev) r[6] += v >= prev ? v - prev : v;
    prev = v;
  }
  return rows;
}

function rowsOf(p: SeriesPoints | undefined, counter: boolean): number[][] {
  if (!p) return [];
  return [...p.t].map((t, i) => [
    t,
    p.value[i],
    p.count![i],
    p.sum![i],
    p.min![i],
    p.max![i],
    counter ? p.increase![i] : 0,
  ]);
}

test(
  "HistoryStore: the coarsest tier's windows, built from the middle tier's rows, equal the windows of the raw samples, across clean restarts and crashes mid-window",
  {
    timeout: 60_000,
  },
  async () => {
    await withDir(async (dir) => {
      const seconds = 400;
      const data = samples(seconds);
      const kinds: Record<string, "counter" | "gauge"> = {
        c: "counter",
        g: "gauge",
        late: "gauge",
        stops: "counter",
      };
      // Restarts at these seconds (after appending it): "close" flushes and
      // closes; "crash" flushes, appends 5 more seconds that are lost, and
      // leaves its lock behind as a killed process would.
      const events = new Map<number, "close" | "crash">([
        [33, "close"],
        [61, "crash"],
        [117, "close"],
        [178, "crash"],
        [239, "crash"],
        [240, "close"],
        [301, "crash"],
        [355, "close"],
      ]);
      // The clock is the data's: retention keeps everything.
      const opts = {
        dir,
        tiers: TIERS,
        flushIntervalMs: 0,
        staleMs: 30_000,
        now: () => 1e6,
      };
      let store = await HistoryStore.open(opts);
      const refs = (s: HistoryStore) =>
        Object.fromEntries(
          Object.keys(kinds).map((
            n,
          ) => [n, s.seriesRef({ __name__: n }, kinds[n])]),
        );
      let r = refs(store);
      const appendSecond = (s: HistoryStore, sec: number) => {
        for (const [name, pts] of data) {
          const p = pts.find(([t]) => t === sec * 1000);
          if (p) s.append(r[name], p[0], p[1]);
        }
      };
      for (let sec = 1; sec <= seconds; sec++) {
        appendSecond(store, sec);
        if (sec % 10 === 0) await store.flush();
        const ev = events.get(sec);
        if (ev === "close") {
          await store.close();
          store = await HistoryStore.open(opts);
          r = refs(store);
        } else if (ev === "crash") {
          await store.flush();
          // Appended after the last flush: lost with the process.
          for (let k = 1; k <= 5 && sec + k <= seconds; k++) {
            for (const [name] of data) {
              store.append(r[name], (sec + k) * 1000, -1000);
            }
          }
          writeFileSync(join(dir, "LOCK"), "999999999");
          store = await HistoryStore.open(opts);
          r = refs(store);
        }
      }
      await store.close();
      store = await HistoryStore.open(opts);
      for (const [name, pts] of data) {
        const counter = kinds[name] === "counter";
        const m = [{ name: "__name__", type: "=" as const, value: name }];
        for (const [tier, res] of [[1, 10_000], [2, 60_000]]) {
          let want = windows(pts, res);
          // "stops": the flushes close its last windows once it is stale; a
          // live series' open windows (past the last sample) are not rows yet.
          const last = pts[pts.length - 1][0];
          if (name !== "stops") want = want.filter((w) => w[0] <= last);
          const got = rowsOf(store.select(m, 0, 1e9, tier)[0], counter);
          if (!counter) { for (const w of want) w[6] = 0; }
          assert.deepEqual(got, want, `${name}, tier ${tier}`);
        }
      }
      assert.equal(store.select(all, 0, 1e9, 2).length, 4);
      await store.close();
    });
  },
);
