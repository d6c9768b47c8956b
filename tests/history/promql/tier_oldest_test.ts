/**
 * A query that reaches back past the raw tier's retention reads raw still
 * when the history is younger than that retention (issue 14's query API on
 * a fresh device): no tier holds anything older, so raw answers exactly.
 * Where the history is older, the tier rules refuse what the coarser tier
 * cannot answer exactly, as before.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  PromQLError,
  queryInstant,
  queryRange,
} from "../../../src/history/promql/mod.ts";
import { HistoryStore } from "../../../src/history/store.ts";
import { FakeReader } from "./_fake_reader.ts";

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A FakeReader that says how old its oldest point is. */
class DatedReader extends FakeReader {
  oldest = Infinity;
  oldestTime(): number {
    return this.oldest;
  }
}

const TIERS = [
  { name: "raw", resolutionMs: SEC, retentionMs: DAY },
  { name: "1m", resolutionMs: MIN, retentionMs: 30 * DAY },
];

/** Three hours of a counter at 1 s before `now`. */
function youngCounter(reader: DatedReader, now: number): void {
  const t: number[] = [];
  const v: number[] = [];
  for (let x = now - 3 * HOUR; x <= now; x += SEC) {
    t.push(x);
    v.push((x - (now - 3 * HOUR)) / SEC);
  }
  reader.add({ __name__: "msgs_total" }, t, v, "counter");
  reader.oldest = t[0];
}

test("a query reaching two days back on a history three hours old is answered from raw, not refused for the 1m tier's alignment", () => {
  const now = 10 * DAY;
  const reader = new DatedReader(TIERS);
  youngCounter(reader, now);
  // An instant query at an unaligned time before any data: exactly empty.
  const before = queryInstant(reader, "msgs_total", now - 2 * DAY + 17_300, {
    nowMs: now,
  });
  assert.deepEqual(before, { resultType: "vector", result: [] });
  // A range query over two days at a step that is no multiple of 1m: the
  // raw tier's answer, the same as asking for raw by name.
  const q = "rate(msgs_total[90s])";
  const got = queryRange(reader, q, now - 2 * DAY, now, 90 * SEC, {
    nowMs: now,
  });
  const raw = queryRange(reader, q, now - 2 * DAY, now, 90 * SEC, {
    nowMs: now,
    tier: "raw",
  });
  assert.deepEqual(got, raw);
  assert.equal(got.resultType, "matrix");
  if (got.resultType === "matrix") {
    assert.equal(got.result.length, 1);
    // Points only where the data is: the last three hours.
    assert.ok(got.result[0].values.length > 100);
    assert.ok(got.result[0].values[0][0] * 1000 >= now - 3 * HOUR);
    assert.equal(got.result[0].values[0][1], 1);
  }
});

test("the same query on a history older than raw's retention is refused for the 1m tier, naming why", () => {
  const now = 10 * DAY;
  const reader = new DatedReader(TIERS);
  youngCounter(reader, now);
  reader.oldest = now - 2 * DAY - HOUR;
  let error: unknown;
  try {
    queryRange(reader, "rate(msgs_total[90s])", now - 2 * DAY, now, 90 * SEC, {
      nowMs: now,
    });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof PromQLError);
  assert.equal(error.type, "execution");
  assert.match(
    error.message,
    /Cannot answer the query exactly from the 1m tier .*the range 90s of rate\(\) is not a multiple of 1m/,
  );
});

test("HistoryStore.oldestTime() is the first sample of the oldest series, Infinity when empty", async () => {
  const store = await HistoryStore.open();
  try {
    assert.equal(store.oldestTime(), Infinity);
    const a = store.seriesRef({ __name__: "a" }, "gauge");
    const b = store.seriesRef({ __name__: "b" }, "gauge");
    store.append(b, 9000, 1);
    store.append(a, 12_000, 1);
    store.append(b, 10_000, 2);
    assert.equal(store.oldestTime(), 9000);
    assert.equal(store.oldestRawTime(), 9000);
  } finally {
    await store.close();
  }
});

test("a store without a dir tells readers the reach of its ring, not the day of retention, so a 2 h range reads the 1m tier whole rather than raw's last hour", async () => {
  let clock = 0;
  const store = await HistoryStore.open({ now: () => clock });
  try {
    // 31 full raw chunks of 120 s (the ring's 32 but the first): 62 min.
    assert.equal(store.tiers[0].retentionMs, 62 * MIN);
    assert.equal(store.tiers[1].retentionMs, 31 * HOUR);
    const a = store.seriesRef({ __name__: "a" }, "counter");
    const end = 3 * HOUR;
    for (let t = SEC; t <= end; t += SEC) {
      clock = t;
      store.append(a, t, t / SEC);
    }
    const at = (q: string, tier?: string) => {
      const r = queryInstant(store, q, end, { nowMs: end, tier });
      return r.resultType === "vector" ? r.result[0]?.value[1] : undefined;
    };
    // Every sample of the last two hours, both ends included.
    assert.equal(at("count_over_time(a[2h])"), 7201);
    assert.equal(at("count_over_time(a[2h])", "1m"), 7201);
    // What raw still holds is less: the answer it would have given.
    const raw = at("count_over_time(a[2h])", "raw")!;
    assert.ok(raw < 7201, `raw holds ${raw}`);
    // Within the ring's reach, raw answers (and as the 1m tier would).
    assert.equal(at("count_over_time(a[30m])"), 1801);
  } finally {
    await store.close();
  }
});
