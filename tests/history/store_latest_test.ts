import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { queryInstant } from "../../src/history/promql/query.ts";
import { HistoryStore } from "../../src/history/store.ts";
import type { HistoryReader, SeriesPoints } from "../../src/history/types.ts";

// An instant vector selector keeps each series' last sample in its
// lookback: selectLatestEach() answers it from the open raw chunk's
// encoder state, and must give what a whole read of the lookback gives,
// whatever is in memory, sealed, flushed or stale.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/** The staleness marker's bits (a NaN with payload 2) at `v[i]`. */
function markStale(v: Float64Array, i: number): void {
  const u = new Uint32Array(v.buffer, v.byteOffset, 2 * v.length);
  u[2 * i + HI] = 0x7ff00000;
  u[2 * i + LO] = 2;
}

/** `v[i]`'s bits as `hi:lo` hex. */
function bitsAt(v: Float64Array, i: number): string {
  const u = new Uint32Array(v.buffer, v.byteOffset, 2 * v.length);
  return `${u[2 * i + HI].toString(16)}:${u[2 * i + LO].toString(16)}`;
}

/** Each visited series' last sample, `flow -> "t bits"`. */
function lastSamples(
  each: (visit: (p: SeriesPoints) => void) => void,
): Map<string, string> {
  const out = new Map<string, string>();
  each((p) => {
    const i = p.t.length - 1;
    if (i >= 0) out.set(p.labels.flow, `${p.t[i]} ${bitsAt(p.value, i)}`);
  });
  return out;
}

/** Where the fixture's times start (ms): retention counts from the clock. */
const T0 = 1_796_695_000_000;

/**
 * A store on disk with small raw chunks (7 rows) so that open chunks are
 * empty, short or long at different times; 12 series, some stopping
 * early, some ending with a staleness marker; flushed every 10 s.
 */
async function fixture(dir: string): Promise<HistoryStore> {
  const store = await HistoryStore.open({
    dir,
    flushIntervalMs: 0,
    now: () => T0 + 400_000,
    tiers: [
      {
        name: "raw",
        resolutionMs: 1000,
        retentionMs: 86_400_000,
        chunkRows: 7,
      },
      { name: "1m", resolutionMs: 60_000, retentionMs: 86_400_000 * 30 },
    ],
  });
  const refs = Array.from(
    { length: 12 },
    (_, k) =>
      store.seriesRef(
        { __name__: "x", flow: `f${k}` },
        k % 2 ? "counter" : "gauge",
      ),
  );
  const value = new Float64Array(1);
  for (let s = 1; s <= 200; s++) {
    for (let k = 0; k < refs.length; k++) {
      // Series k stops at 200 - 9k seconds; the odd ones with a marker.
      const stop = 200 - 9 * k;
      if (s > stop) continue;
      value[0] = k % 2 ? s * (k + 1) : Math.sin(s + k) * 1e3;
      if (s === stop && k % 2 === 1 && k > 0) markStale(value, 0);
      store.appendBatch(new Int32Array([refs[k]]), value, 1, T0 + s * 1000);
    }
    if (s % 10 === 0) await store.flush();
  }
  return store;
}

test("HistoryStore.selectLatestEach() gives each series' last sample in [at - lookback, at] as selectEach() over that span does", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-latest-"));
  try {
    const store = await fixture(dir);
    let compared = 0;
    for (let at = T0; at <= T0 + 320_000; at += 3_500) {
      for (const lookback of [0, 1000, 15_000, 300_000]) {
        const whole = lastSamples((v) =>
          store.selectEach([], at - lookback, at, 0, v)
        );
        const latest = lastSamples((v) =>
          store.selectLatestEach([], at, lookback, v)
        );
        assert.deepEqual(latest, whole, `at ${at}, lookback ${lookback}`);
        compared += whole.size;
      }
    }
    // The comparison saw series, stale ones among them.
    assert.ok(compared > 1000, `${compared} series compared`);
    const last = lastSamples((v) =>
      store.selectLatestEach([], T0 + 300_000, 300_000, v)
    );
    const f0 = bitsAt(new Float64Array([Math.sin(200) * 1e3]), 0);
    assert.equal(last.get("f0"), `${T0 + 200_000} ${f0}`);
    assert.equal(
      last.get("f1"),
      `${T0 + 191_000} 7ff00000:2`,
      "a staleness marker, bit for bit",
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an instant query over a HistoryStore answers as it does through a reader without selectLatestEach()", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-latest-"));
  try {
    const store = await fixture(dir);
    // The store's reading methods but selectLatestEach.
    const plain: HistoryReader = {
      tiers: store.tiers,
      select: store.select.bind(store),
      selectSteps: store.selectSteps.bind(store),
      selectStepsEach: store.selectStepsEach.bind(store),
      selectEach: store.selectEach.bind(store),
      series: store.series.bind(store),
      labelNames: store.labelNames.bind(store),
      labelValues: store.labelValues.bind(store),
    };
    assert.equal("selectLatestEach" in plain, false);
    let nonEmpty = 0;
    for (
      const q of [
        "x",
        "count(x)",
        "timestamp(x)",
        "x offset 40s",
        `sum by (flow) (x @ ${T0 / 1000 + 120})`,
        'x{flow=~"f[13579]"} * 2',
      ]
    ) {
      for (let at = T0 + 5_000; at <= T0 + 400_000; at += 15_000) {
        const options = { nowMs: T0 + 400_000 };
        const got = queryInstant(store, q, at, options);
        assert.deepEqual(
          got,
          queryInstant(plain, q, at, options),
          `${q} at ${at}`,
        );
        if ((got.result as unknown[]).length > 0) nonEmpty++;
      }
    }
    assert.ok(nonEmpty > 60, `${nonEmpty} answers with series`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
