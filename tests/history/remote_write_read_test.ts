import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { History } from "../../src/history/history.ts";
import {
  RemoteWriter,
  type RemoteWriteSource,
} from "../../src/history/remote_write.ts";
import type { RemoteWriteOptions } from "../../src/history/remote_write_options.ts";
import { decodeBody } from "./_remote_write_decode.ts";
import {
  keyOf,
  type Received,
  receiver,
  stopAfter,
} from "./_remote_write_fakes.ts";

/** `key t` of every sample the requests held, in the order they came. */
function sampleKeys(requests: Received[]): string[] {
  return requests.flatMap((r) =>
    r.series.flatMap((s) => s.samples.map((x) => `${keyOf(s)} ${x.t}`))
  );
}
import { seededRandom } from "../_seeded_random.ts";

const STALE_BITS = [0x00000002, 0x7ff00000]; // little-endian words

/**
 * `history` without onAppend/seriesLabels: a writer of it reads every
 * window back from the store.
 */
function storeOnly(history: History): RemoteWriteSource {
  return {
    intervalMs: history.intervalMs,
    tiers: history.tiers,
    newestTime: () => history.newestTime(),
    selectEach: history.selectEach.bind(history),
    select: history.select.bind(history),
  };
}

/** Every request body a writer sends, decoded, with each value's bits. */
function collect() {
  const bodies: string[] = [];
  return {
    bodies,
    fetch: async (request: Request) => {
      const decoded = decodeBody(new Uint8Array(await request.arrayBuffer()));
      bodies.push(JSON.stringify(
        decoded,
        (_k, v) => typeof v === "bigint" ? v.toString(16) : v,
      ));
      return new Response(null, { status: 204 });
    },
  };
}

/**
 * Two writers of one history with `options`: `tapped` sees appends (what
 * it sends while caught up), `plain` reads every window from the store;
 * `sendBoth()` after each tick, `sameAsPlain()` checks they sent the same
 * bytes and returns the tapped one's bodies.
 */
async function tappedAndPlain(options: RemoteWriteOptions) {
  const history = await History.open();
  const a = collect();
  const b = collect();
  const tapped = new RemoteWriter(history, options, { fetch: a.fetch });
  const plain = new RemoteWriter(storeOnly(history), options, {
    fetch: b.fetch,
  });
  return {
    history,
    store: history.store,
    tapped,
    sendBoth: async () => {
      await tapped.sendOnce();
      await plain.sendOnce();
    },
    sameAsPlain: async (): Promise<string> => {
      assert.equal(plain.stats.tapWindows, 0);
      assert.deepEqual(a.bodies, b.bodies);
      assert.equal(tapped.stats.samplesSent, plain.stats.samplesSent);
      await tapped.close();
      await plain.close();
      await history.close();
      return a.bodies.join();
    },
    bodies: a.bodies,
  };
}

test("RemoteWriter sends the same bytes from what it saw appended as from the store", async () => {
  const { store, tapped, sendBoth, sameAsPlain, bodies } = await tappedAndPlain(
    {
      url: "http://receiver.test/w",
      batchDeadlineMs: 3000,
      maxSamplesPerRequest: 7,
    },
  );
  const random = seededRandom(17);
  const refs = [0, 1, 2, 3].map((i) =>
    store.seriesRef(
      { __name__: "m", i: String(i) },
      i % 2 ? "counter" : "gauge",
    )
  );
  const values = new Float64Array(4);
  const stale = new Float64Array(1);
  new Uint32Array(stale.buffer).set(STALE_BITS);
  for (let s = 1; s <= 40; s++) {
    const t = s * 1000;
    // Two batches a tick (two collectors); a series that appears at 15 s;
    // a stale marker; a sample refused as out of order.
    values[0] = random();
    values[1] = s;
    store.appendBatch(Int32Array.of(refs[0], refs[1]), values, 2, t);
    if (s === 20) {
      store.appendBatch(Int32Array.of(refs[2]), stale, 1, t);
    } else {
      values[2] = random() * 100;
      store.appendBatch(Int32Array.of(refs[2]), values.subarray(2), 1, t);
    }
    if (s >= 15) {
      store.appendBatch(Int32Array.of(refs[3]), Float64Array.of(-s), 1, t);
    }
    if (s === 25) {
      store.appendBatch(
        Int32Array.of(refs[3]),
        Float64Array.of(99),
        1,
        t - 5000,
      );
    }
    await sendBoth();
  }
  assert.ok(
    tapped.stats.tapWindows >= 8,
    `${tapped.stats.tapWindows} windows from the tap`,
  );
  assert.ok(bodies.length > 10);
  // The stale marker's bits.
  assert.match(await sameAsPlain(), /7ff0000000000002/);
});

test("RemoteWriter reads from the store while behind and from what it saw appended once caught up", async () => {
  const history = await History.open();
  const store = history.store;
  const ref = store.seriesRef({ __name__: "m" }, "gauge");
  let up = false;
  const bodies: number[] = [];
  const writer = new RemoteWriter(history, {
    url: "http://receiver.test/w",
    batchDeadlineMs: 2000,
    maxWindowMs: 5000,
  }, {
    fetch: async (request) => {
      await request.arrayBuffer();
      if (!up) return new Response("down", { status: 503 });
      bodies.push(1);
      return new Response(null, { status: 204 });
    },
  });
  // Two ticks before the writer's first look: both came after it was
  // made, so both are sent ("now" is when it was made).
  store.append(ref, 2000, 2);
  store.append(ref, 3000, 3);
  // The receiver is down for 30 s of samples: the writer's tap forgets
  // what is older than a few seconds, the store keeps it.
  const sending = writer.sendOnce(); // retries until closed or up
  for (let s = 4; s <= 33; s++) store.append(ref, s * 1000, s);
  up = true;
  await sending;
  while (await writer.sendOnce() > 0) { /* catch up */ }
  // Windows of 5 s from the store, up to the last one due (the newest
  // complete tick is 32 s; a window needs 2 s).
  assert.equal(writer.stats.sentThrough, 31_000);
  assert.equal(writer.stats.tapWindows, 0);
  assert.equal(writer.stats.samplesSent, 30); // 2 s .. 31 s, each once
  for (let s = 34; s <= 40; s++) {
    store.append(ref, s * 1000, s);
    await writer.sendOnce();
  }
  // Caught up: from what it saw appended, nothing lost or doubled.
  assert.ok(writer.stats.tapWindows >= 2);
  assert.equal(writer.stats.sentThrough, 39_000);
  assert.equal(writer.stats.samplesSent, 38); // 2 s .. 39 s
  await writer.close();
  await history.close();
});

test("RemoteWriter sends a sampler's ticks (the same series each tick) as it would read them from the store, also when series come and some are excluded", async () => {
  const { store, tapped, sendBoth, sameAsPlain, bodies } = await tappedAndPlain(
    {
      url: "http://receiver.test/w",
      batchDeadlineMs: 3000,
      maxSamplesPerRequest: 11,
      exclude: [[{ name: "i", type: "=~", value: ".*3" }]],
    },
  );
  // Refs in an order other than the labels' (the requests' order).
  const ref = (i: number) =>
    store.seriesRef({ __name__: `m${(i * 7) % 25}`, i: String(i) }, "gauge");
  let refs = Int32Array.from({ length: 20 }, (_, i) => ref(i));
  const random = seededRandom(23);
  for (let s = 1; s <= 45; s++) {
    // Five more series from 25 s on: a new set, a new plan.
    if (s === 25) {
      refs = Int32Array.from({ length: 25 }, (_, i) => ref(i));
    }
    const values = Float64Array.from(refs, () => random());
    if (s === 30) new Uint32Array(values.buffer, 8, 2).set(STALE_BITS);
    store.appendBatch(refs, values, refs.length, s * 1000);
    await sendBoth();
  }
  assert.ok(tapped.stats.tapWindows >= 10, `${tapped.stats.tapWindows}`);
  assert.ok(bodies.length > 20);
  const sent = await sameAsPlain();
  assert.match(sent, /7ff0000000000002/);
  assert.doesNotMatch(sent, /"i","3"|"i","13"|"i","23"/);
});

test("RemoteWriter reads a window from the store in slices of its order: the same requests, and a resume mid-window sends each sample once", async () => {
  const history = await History.open();
  const store = history.store;
  const refs = Int32Array.from(
    { length: 30 },
    (_, i) =>
      store.seriesRef({ __name__: `m${(i * 7) % 30}`, i: String(i) }, "gauge"),
  );
  const values = new Float64Array(30);
  for (let s = 1; s <= 12; s++) {
    for (let i = 0; i < 30; i++) values[i] = s * 100 + i;
    store.appendBatch(refs, values, 30, s * 1000);
  }
  const options = {
    url: "http://receiver.test/w",
    start: "oldest" as const,
    maxSamplesPerRequest: 16,
  };
  const whole = collect();
  const w1 = new RemoteWriter(history, options, {
    fetch: whole.fetch,
    sliceSamples: 1e9,
  });
  await w1.sendOnce();
  await w1.close();
  const sliced = collect();
  // 30 series x 11 samples in slices of about 40: 9 slices.
  const w2 = new RemoteWriter(history, options, {
    fetch: sliced.fetch,
    sliceSamples: 40,
  });
  await w2.sendOnce();
  await w2.close();
  assert.ok(whole.bodies.length > 10);
  assert.equal(w2.stats.samplesSent, 30 * 11);
  // Same series order and samples; requests are cut at slice ends too.
  const samples = (bodies: string[]) =>
    bodies.flatMap((b) =>
      JSON.parse(b) as { labels: unknown; samples: unknown }[]
    )
      .map((s) => JSON.stringify(s));
  const merge = (list: string[]) => {
    const out: string[] = [];
    for (const s of list) {
      const { labels, samples: xs } = JSON.parse(s);
      const last = out.length > 0 ? JSON.parse(out[out.length - 1]) : undefined;
      if (last && JSON.stringify(last.labels) === JSON.stringify(labels)) {
        last.samples.push(...xs);
        out[out.length - 1] = JSON.stringify(last);
      } else out.push(s);
    }
    return out;
  };
  assert.deepEqual(merge(samples(sliced.bodies)), merge(samples(whole.bodies)));
  // Cut at the slices' ends too: more requests than the whole read.
  assert.ok(sliced.bodies.length > whole.bodies.length);

  // A writer stopped after 5 acknowledged requests, then another over the
  // same cursor: every sample arrives, none twice but the request that
  // was in flight.
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-slices-"));
  try {
    const { first } = await stopAfter(
      5,
      (fetch) =>
        new RemoteWriter(history, options, {
          cursorDir: dir,
          sliceSamples: 40,
          fetch,
        }),
    );
    const again = receiver();
    const second = new RemoteWriter(history, options, {
      cursorDir: dir,
      sliceSamples: 40,
      fetch: again.fetch,
    });
    await second.sendOnce();
    await second.close();
    const firstCount = sampleKeys(first.accepted()).length;
    const seen = sampleKeys([...first.accepted(), ...again.requests]);
    const unique = new Set(seen);
    assert.equal(unique.size, 30 * 11);
    assert.ok(firstCount > 0 && firstCount < 30 * 11);
    assert.ok(
      seen.length - unique.size <= options.maxSamplesPerRequest,
      `${seen.length - unique.size} sent twice`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await history.close();
});

test("RemoteWriter with maxSamplesPerSecond sends no more than that in any second while it catches up", async () => {
  const history = await History.open();
  const ref = history.store.seriesRef({ __name__: "m" }, "gauge");
  for (let s = 1; s <= 61; s++) history.store.append(ref, s * 1000, s);
  const at: number[] = [];
  const writer = new RemoteWriter(history, {
    url: "http://receiver.test/w",
    start: "oldest",
    maxSamplesPerRequest: 10,
    maxSamplesPerSecond: 20,
    // Sent through 60 s: a window of less than 10 s (the default) waits.
    batchDeadlineMs: 5000,
  }, {
    fetch: async (request) => {
      // When the writer sends, not once its body has been read: that read
      // is one more wait, not the limiter's, where a busy machine pauses.
      at.push(performance.now());
      await request.arrayBuffer();
      return new Response(null, { status: 204 });
    },
  });
  const began = performance.now();
  await writer.sendOnce();
  await writer.close();
  await history.close();
  assert.equal(writer.stats.samplesSent, 60);
  assert.equal(at.length, 6);
  // 20 samples a second, two requests of 10: the limiter waits a second
  // after each pair, so the sixth request starts 2 s after the first at
  // the earliest (a slow machine only makes it later).
  assert.ok(
    at[5] - began >= 2000,
    `${at.map((x) => (x - began).toFixed(0))} ms`,
  );
  // The limiter's window opens when it lets a request through, a moment
  // before that request reaches fetch: on a busy machine (the suite runs
  // Deno's and Bun's files at once) that moment has been tens of ms. A
  // limiter that did not wait would send them all within a few ms.
  for (let i = 2; i < at.length; i++) {
    assert.ok(
      at[i] - at[i - 2] >= 1000 - 250,
      `requests ${i - 2} and ${i}: ${at.map((x) => (x - began).toFixed(0))} ms`,
    );
  }
});

test("RemoteWriter says once when it is further behind than the history's raw tier keeps", async () => {
  const history = await History.open({ retentionMs: { raw: 60_000 } });
  const ref = history.store.seriesRef({ __name__: "m" }, "gauge");
  const warnings: string[] = [];
  // A cursor from before the last 200 s (as after a long outage).
  const writer = new RemoteWriter(history, {
    url: "http://receiver.test/w",
  }, {
    startAt: 999,
    onWarning: (m) => warnings.push(m),
    fetch: async (request) => {
      await request.arrayBuffer();
      return new Response(null, { status: 204 });
    },
  });
  for (let s = 1; s <= 200; s++) history.store.append(ref, s * 1000, s);
  await writer.sendOnce();
  for (let s = 201; s <= 300; s++) history.store.append(ref, s * 1000, s);
  await writer.sendOnce();
  await writer.close();
  const said = warnings.filter((w) => /raw tier keeps/.test(w));
  assert.equal(said.length, 1, warnings.join("\n"));
  assert.match(
    said[0],
    /from 1970-01-01T00:00:00\.999Z to 1970-01-01T00:02:20\.000Z/,
  );
  // Caught up afterwards: everything since was sent.
  assert.equal(writer.stats.sentThrough, 299_000);
  await history.close();
});

test("RemoteWriter: a series that appears while a window is read in slices moves no other series out of its slice", async () => {
  const history = await History.open();
  const store = history.store;
  const refs = Int32Array.from(
    { length: 30 },
    (_, i) =>
      store.seriesRef({ __name__: `m${String(i).padStart(2, "0")}` }, "gauge"),
  );
  const values = new Float64Array(30);
  for (let s = 1; s <= 12; s++) {
    values.fill(s);
    store.appendBatch(refs, values, 30, s * 1000);
  }
  const seen: string[] = [];
  let first = true;
  const writer = new RemoteWriter(history, {
    url: "http://receiver.test/w",
    start: "oldest",
    maxSamplesPerRequest: 16,
  }, {
    sliceSamples: 40,
    fetch: async (request) => {
      const body = new Uint8Array(await request.arrayBuffer());
      if (first) {
        first = false;
        // A new series that sorts before all the others.
        store.append(store.seriesRef({ __name__: "a00" }, "gauge"), 5000, 1);
      }
      for (const s of decodeBody(body)) {
        for (const x of s.samples) seen.push(`${s.labels[0][1]} ${x.t}`);
      }
      return new Response(null, { status: 204 });
    },
  });
  await writer.sendOnce();
  await writer.close();
  await history.close();
  const m = seen.filter((x) => x.startsWith("m"));
  assert.equal(new Set(m).size, 30 * 11, "every sample of m00..m29");
  assert.equal(m.length, 30 * 11, "none twice");
});

test("RemoteWriter resumes a window sent with other external labels by sending it again whole", async () => {
  const history = await History.open();
  const store = history.store;
  const refs = Int32Array.from(
    { length: 30 },
    (_, i) =>
      store.seriesRef({ __name__: `m${String(i).padStart(2, "0")}` }, "gauge"),
  );
  const values = new Float64Array(30);
  for (let s = 1; s <= 12; s++) {
    values.fill(s);
    store.appendBatch(refs, values, 30, s * 1000);
  }
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-labels-"));
  try {
    const options = {
      url: "http://receiver.test/w",
      start: "oldest" as const,
      maxSamplesPerRequest: 22,
    };
    const { first } = await stopAfter(
      3,
      (fetch) => new RemoteWriter(history, options, { cursorDir: dir, fetch }),
    );
    // By name and time: the labels differ between the two runs.
    const byName = (requests: Received[]) =>
      sampleKeys(requests).map((k) =>
        k.replace(/^.*__name__=([^,]*).* /, "$1 ")
      );
    assert.ok(
      new Set(byName(first.accepted())).size > 0 &&
        new Set(byName(first.accepted())).size < 330,
    );
    const warnings: string[] = [];
    const again = receiver();
    // "Zone" sorts before "__name__": every series' key changes.
    const second = new RemoteWriter(history, {
      ...options,
      externalLabels: { Zone: "z" },
    }, {
      cursorDir: dir,
      onWarning: (m) => warnings.push(m),
      fetch: again.fetch,
    });
    await second.sendOnce();
    await second.close();
    const seen = new Set(byName([...first.accepted(), ...again.requests]));
    assert.equal(seen.size, 330, "every sample of every series");
    assert.match(warnings.join("\n"), /external labels changed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await history.close();
});

test("RemoteWriter refuses a token no header can carry, without quoting it", () => {
  const source = {
    intervalMs: 1000,
    tiers: [{ resolutionMs: 1000 }],
    newestTime: () => -Infinity,
    selectEach: () => {},
    select: () => [],
  };
  for (
    const auth of [
      { bearerToken: "s3cret-line1\ns3cret-line2" },
      { bearerToken: "s3cret\u0000x" },
    ]
  ) {
    assert.throws(
      () =>
        new RemoteWriter(source, { url: "http://receiver.test/w", ...auth }),
      (e: Error) =>
        e instanceof RangeError && /no HTTP header can carry/.test(e.message) &&
        !e.message.includes("s3cret"),
    );
  }
});

test("RemoteWriter sends the minute windows of what is too old a few minutes at a time, as many as a slice holds", async () => {
  let fakeNow = 0;
  const history = await History.open({ now: () => fakeNow });
  const refs = Int32Array.from(
    { length: 4 },
    (_, i) => history.store.seriesRef({ __name__: "m", i: String(i) }, "gauge"),
  );
  const values = new Float64Array(4);
  for (let s = 1; s <= 600; s++) {
    values.fill(s);
    history.store.appendBatch(refs, values, 4, s * 1000);
  }
  fakeNow = 600_000;
  let most = 0;
  const minutes = new Set<number>();
  const writer = new RemoteWriter(history, {
    url: "http://receiver.test/w",
    start: "oldest",
    batchDeadlineMs: 0,
    maxSampleAgeMs: 60_000,
    oldAsAggregates: true,
  }, {
    now: () => fakeNow,
    // 4 series, 4 columns each: 2 minutes a window.
    sliceSamples: 32,
    fetch: async (request) => {
      // While the too-old part goes (the raw samples after it are read
      // in slices of their own, a series at least).
      if (writer.stats.sentThrough < 540_000) {
        most = Math.max(most, writer.stats.pending);
      }
      for (const s of decodeBody(new Uint8Array(await request.arrayBuffer()))) {
        if (s.labels.some(([k, v]) => k === "__name__" && v === "m_count")) {
          for (const x of s.samples) minutes.add(x.t);
        }
      }
      return new Response(null, { status: 204 });
    },
  });
  await writer.sendOnce();
  await writer.close();
  await history.close();
  // Every minute window up to the age limit (540 s) went, 2 a window.
  assert.deepEqual([...minutes].sort((a, b) => a - b), [
    60_000,
    120_000,
    180_000,
    240_000,
    300_000,
    360_000,
    420_000,
    480_000,
    540_000,
  ]);
  assert.ok(most <= 32, `${most} samples held for one window`);
});

test("RemoteWriter holds each series' labels once while series come and go every window (a replaced plan's labels are let go)", async () => {
  const history = await History.open();
  const store = history.store;
  const writer = new RemoteWriter(history, {
    url: "http://receiver.test/w",
    batchDeadlineMs: 1000,
  }, { fetch: () => Promise.resolve(new Response(null, { status: 204 })) });
  const n = 300;
  const pad = "x".repeat(150);
  const ref = (i: number) =>
    store.seriesRef({ __name__: "pod_metric", pod: `pod-${i}`, pad }, "gauge");
  const alive = Array.from({ length: n }, (_, i) => i);
  let next = n;
  let perSeries = 0;
  for (let s = 1; s <= 120; s++) {
    // One pod goes, a new one comes: a new set of series every window.
    alive.shift();
    alive.push(next++);
    const refs = Int32Array.from(alive, ref);
    store.appendBatch(refs, new Float64Array(n).fill(s), n, s * 1000);
    await writer.sendOnce();
    if (s === 2) perSeries = writer.heldLabelBytes() / n;
  }
  assert.ok(writer.stats.tapWindows > 100, `${writer.stats.tapWindows}`);
  assert.ok(perSeries > 150, `${perSeries}`);
  // The live series and those it still remembers (forgotten after 100
  // windows unseen): about 420 label sets. Holding every replaced plan's
  // labels would be about 120 x 300 of them.
  const held = writer.heldLabelBytes() / perSeries;
  assert.ok(held < 2 * (n + 120), `${held.toFixed(0)} label sets held`);
  await writer.close();
  await history.close();
});
