/**
 * A range query evaluated a slice of steps at a time lets the server
 * answer other requests between its slices, over a real socket (the point
 * is the runtime's event loop: on Deno 2.9, `setImmediate` between the
 * slices let a request in only once the query was done).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { History } from "../../src/history/history.ts";
import type { HistoryReader } from "../../src/history/types.ts";
import { serve } from "../../src/runtime/serve.ts";
import { queryRoutes } from "../../src/server/query_routes.ts";

const T0 = 1_700_000_000_000;
const STEPS = 3000;
const SERIES = 400;

test(
  "a request that comes while a range query is evaluated is answered before the query's last slices",
  {
    timeout: 120_000,
  },
  async () => {
    const history = await History.open({ intervalMs: 1000 });
    const refs = Array.from(
      { length: SERIES },
      (_, i) =>
        history.store.seriesRef({ __name__: "m", i: String(i) }, "gauge"),
    );
    for (let s = 0; s < STEPS; s++) {
      for (const ref of refs) history.store.append(ref, T0 + s * 1000, s);
    }
    // Each slice of the range query selects its samples once; the labels
    // request reads the label names once.
    let selects = 0;
    let selectsWhenAnswered = -1;
    const store = history.store;
    const reader: HistoryReader = new Proxy(store, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (typeof value !== "function") return value;
        if (name === "select" || name === "selectEach") {
          return (...args: unknown[]) => {
            selects++;
            return value.apply(target, args);
          };
        }
        if (name === "labelNames") {
          return (...args: unknown[]) => {
            selectsWhenAnswered = selects;
            return value.apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
    // A small sample limit: slices of a few hundred steps, 7 of them.
    const app = queryRoutes(reader, {
      now: () => T0 + STEPS * 1000,
      maxSamples: 800_000,
    });
    const server = await serve(app.fetch, { hostname: "127.0.0.1", port: 0 });
    try {
      const heavy = fetch(
        `${server.url}/api/v1/query_range?query=sum(m)&start=${T0 / 1000}&end=${
          (T0 + (STEPS - 1) * 1000) / 1000
        }&step=1`,
      ).then(async (res) => {
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(body.data.result[0].values.length, STEPS);
      });
      // Once the query is under way (its first slice selected), ask again.
      while (selects === 0) await new Promise((r) => setTimeout(r, 1));
      const light = fetch(`${server.url}/api/v1/labels`).then(async (res) => {
        assert.equal(res.status, 200);
        await res.body?.cancel();
      });
      await Promise.all([heavy, light]);
      assert.ok(selects >= 6, `${selects} slices`);
      assert.ok(
        // A few turns of the loop (connect, accept, read) with a slice in
        // each; Deno's immediates answered it once the query was done.
        selectsWhenAnswered >= 0 && selectsWhenAnswered <= selects - 2,
        `the labels request was answered after ${selectsWhenAnswered} of ${selects} slices`,
      );
    } finally {
      await server.close();
      await history.close();
    }
  },
);

test("/api/v1/series reads its match[] selectors one turn of the event loop each, with the same answer", async () => {
  const history = await History.open({ intervalMs: 1000 });
  for (let i = 0; i < 50; i++) {
    const ref = history.store.seriesRef(
      { __name__: "m", i: String(i) },
      "gauge",
    );
    history.store.append(ref, T0, i);
  }
  // A timer set as the first selector is read: it runs before the second.
  const seenByTimer: number[] = [];
  let reads = 0;
  const store = history.store;
  const reader: HistoryReader = new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      if (name === "series") {
        return (...args: unknown[]) => {
          if (reads++ === 0) setTimeout(() => seenByTimer.push(reads), 0);
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  try {
    const app = queryRoutes(reader, { now: () => T0 + 1000 });
    const res = await app.request(
      `/api/v1/series?match[]=m{i=~"1.*"}&match[]=m{i=~".*1"}&match[]=m{i="7"}&start=${
        T0 / 1000 - 60
      }`,
    );
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(
      body.data.map((l: { i: string }) => l.i),
      [
        "1",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "21",
        "31",
        "41",
        "7",
      ],
    );
    assert.equal(reads, 3);
    assert.deepEqual(
      seenByTimer,
      [1],
      "the loop ran between the first and second selector",
    );
  } finally {
    await history.close();
  }
});
