import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CursorFile } from "../../src/history/cursor_file.ts";
import { History } from "../../src/history/history.ts";
import {
  _base64,
  type RemoteWriteOptions,
  RemoteWriter,
  type RemoteWriterContext,
} from "../../src/history/remote_write.ts";
import { remoteWriteMetrics } from "../../src/history/remote_write_metrics.ts";
import type { SeriesLabels } from "../../src/history/types.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { VERSION } from "../../src/version.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { decodeBody, type DecodedSeries } from "./_remote_write_decode.ts";
import {
  deferred,
  hang,
  keyOf,
  range,
  type Received,
  receiver,
  stopAfter,
  timesBySeries,
} from "./_remote_write_fakes.ts";

const URL_ = "http://receiver.test:9201/api/v1/write";
const STALE = 0x7ff0000000000002n;

/** Appends `value(t)` at every `t` of `times` to each of `labels`. */
function fill(
  history: History,
  labels: SeriesLabels[],
  times: number[],
  value: (t: number) => number = (t) => t / 1000,
): void {
  const refs = labels.map((l) => history.store.seriesRef(l, "gauge"));
  for (const t of times) {
    for (const ref of refs) history.store.append(ref, t, value(t));
  }
}

function series(n: number, name = "m"): SeriesLabels[] {
  return Array.from(
    { length: n },
    (_, i) => ({ __name__: name, i: String(i).padStart(2, "0") }),
  );
}

function writer(
  history: History,
  options: Partial<RemoteWriteOptions>,
  context: RemoteWriterContext,
): RemoteWriter {
  return new RemoteWriter(history, { url: URL_, ...options }, {
    onWarning: () => {},
    ...context,
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "weir-remote-write-"));
}

test("RemoteWriter sends every sample once, in time order per series, labels sorted, external labels added", async () => {
  const history = await History.open();
  fill(history, [
    { __name__: "b", zone: "1", job: "own" },
    { __name__: "a", x: "y" },
    { __name__: "c" },
  ], range(1000, 40_000));
  const fake = receiver();
  const w = writer(history, {
    start: "oldest",
    batchDeadlineMs: 0,
    maxSamplesPerRequest: 7,
    externalLabels: { site: "edge", job: "ext" },
  }, { fetch: fake.fetch });
  await w.sendOnce();
  const got = timesBySeries(fake.requests);
  // Up to the newest complete tick: 40 s may still be being written.
  const want = range(1000, 39_000);
  assert.deepEqual(
    new Map([...got].sort(([a], [b]) => a < b ? -1 : 1)),
    new Map([
      ["__name__=a,job=ext,site=edge,x=y", want],
      ["__name__=b,job=own,site=edge,zone=1", want],
      ["__name__=c,job=ext,site=edge", want],
    ]),
  );
  assert.ok(fake.requests.every((r) => r.samples <= 7));
  assert.ok(fake.requests.every((r) => r.samples > 0));
  assert.equal(w.stats.samplesSent, 3 * want.length);
  assert.equal(w.stats.requests, fake.requests.length);
  assert.equal(w.stats.sentThrough, 39_000);
  await w.close();
  await history.close();
});

test("RemoteWriter never reads past the newest complete tick", async () => {
  const history = await History.open();
  const [a] = series(1);
  fill(history, [a], range(1000, 10_000));
  const fake = receiver();
  const w = writer(history, { start: "oldest", batchDeadlineMs: 0 }, {
    fetch: fake.fetch,
  });
  await w.sendOnce();
  fill(history, [a], [11_000]);
  await w.sendOnce();
  assert.deepEqual([...timesBySeries(fake.requests).values()], [
    range(1000, 10_000),
  ]);
  assert.equal(await w.sendOnce(), 0);
  await w.close();
  await history.close();
});

test("RemoteWriter waits for batchDeadlineMs of samples while caught up", async () => {
  const history = await History.open();
  const [a] = series(1);
  fill(history, [a], range(1000, 10_000));
  const fake = receiver();
  // The writer's clock where the samples are: their newest is "now".
  const w = writer(history, { batchDeadlineMs: 5000 }, {
    fetch: fake.fetch,
    now: () => 10_000,
  });
  assert.equal(await w.sendOnce(), 0); // start "now": from 9 s on
  fill(history, [a], range(11_000, 14_000));
  assert.equal(await w.sendOnce(), 0); // 4 s behind
  assert.equal(fake.requests.length, 0);
  fill(history, [a], [15_000]);
  assert.equal(await w.sendOnce(), 5); // 10..14 s
  assert.deepEqual([...timesBySeries(fake.requests).values()], [
    range(10_000, 14_000),
  ]);
  await w.close();
  await history.close();
});

test("RemoteWriter sends remote write 1.0 headers, and a bearer token or basic auth", async () => {
  const history = await History.open();
  fill(history, series(1), range(1000, 3000));
  for (
    const [auth, want] of [
      [{ bearerToken: "t0ken" }, "Bearer t0ken"],
      [
        { basicAuth: { username: "ann", password: "pässword" } },
        `Basic ${
          btoa(String.fromCharCode(...new TextEncoder().encode("ann:pässword")))
        }`,
      ],
      [{}, null],
    ] as const
  ) {
    const fake = receiver();
    const w = writer(history, {
      start: "oldest",
      batchDeadlineMs: 0,
      headers: { "X-Scope-OrgID": "tenant" },
      ...auth,
    }, { fetch: fake.fetch });
    await w.sendOnce();
    const h = fake.requests[0].headers;
    assert.equal(h.get("Content-Encoding"), "snappy");
    assert.equal(h.get("Content-Type"), "application/x-protobuf");
    assert.equal(h.get("X-Prometheus-Remote-Write-Version"), "0.1.0");
    assert.equal(h.get("User-Agent"), `weir/${VERSION}`);
    assert.equal(h.get("X-Scope-OrgID"), "tenant");
    assert.equal(h.get("Authorization"), want);
    await w.close();
  }
  await history.close();
});

test("RemoteWriter sends a stale marker with its exact bits", async () => {
  const history = await History.open();
  const ref = new Int32Array([
    history.store.seriesRef({ __name__: "s" }, "gauge"),
  ]);
  const v = new Float64Array(1);
  const bits = new BigUint64Array(v.buffer);
  for (
    const [t, b] of [[1000, 0x3ff0000000000000n], [2000, STALE], [
      3000,
      0x3ff0000000000000n,
    ], [4000, 0n]] as const
  ) {
    bits[0] = b;
    history.store.appendBatch(ref, v, 1, t);
  }
  const fake = receiver();
  const w = writer(history, { start: "oldest", batchDeadlineMs: 0 }, {
    fetch: fake.fetch,
  });
  await w.sendOnce();
  assert.deepEqual(
    fake.requests.flatMap((r) => r.series[0].samples.map((s) => s.bits)),
    [0x3ff0000000000000n, STALE, 0x3ff0000000000000n],
  );
  await w.close();
  await history.close();
});

test("RemoteWriter sends the series include selects and exclude does not reject", async () => {
  const history = await History.open();
  fill(history, [
    { __name__: "app_a", env: "prod" },
    { __name__: "app_b", env: "dev" },
    { __name__: "app_c", env: "prod" },
    { __name__: "other", env: "prod" },
  ], range(1000, 5000));
  const fake = receiver();
  const w = writer(history, {
    start: "oldest",
    batchDeadlineMs: 0,
    include: [
      [{ name: "__name__", type: "=~", value: "app_.*" }],
      [{ name: "__name__", type: "=", value: "nothing" }],
    ],
    exclude: [[
      { name: "__name__", type: "=", value: "app_c" },
      { name: "env", type: "=", value: "prod" },
    ], [{ name: "env", type: "=", value: "dev" }]],
  }, { fetch: fake.fetch });
  await w.sendOnce();
  assert.deepEqual([...timesBySeries(fake.requests).keys()], [
    "__name__=app_a,env=prod",
  ]);
  assert.equal(w.stats.samplesSent, 4);
  await w.close();
  await history.close();
});

test("RemoteWriter retries a 5xx until it passes: nothing lost, retries counted", async () => {
  const history = await History.open();
  fill(history, series(3), range(1000, 5000));
  // The first request fails twice; the others pass.
  const fake = receiver((i) =>
    new Response(i < 2 ? "busy" : null, { status: i < 2 ? 503 : 200 })
  );
  const warnings: string[] = [];
  const w = writer(history, {
    start: "oldest",
    batchDeadlineMs: 0,
    maxSamplesPerRequest: 4,
    minBackoffMs: 1,
    maxBackoffMs: 4,
  }, { fetch: fake.fetch, onWarning: (m) => warnings.push(m) });
  await w.sendOnce();
  // 12 samples in 3 requests of 4; the first was made 3 times.
  assert.deepEqual(fake.requests.map((r) => r.status), [
    503,
    503,
    200,
    200,
    200,
  ]);
  assert.deepEqual(fake.requests[0].series, fake.requests[2].series);
  const got = timesBySeries(fake.accepted());
  for (const times of got.values()) assert.deepEqual(times, range(1000, 4000));
  assert.equal(got.size, 3);
  assert.equal(w.stats.samplesSent, 12);
  assert.equal(w.stats.samplesFailed, 8);
  assert.equal(w.stats.samplesRetried, 8);
  assert.deepEqual(w.stats.samplesDropped, { rejected: 0, too_old: 0 });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /503.*retrying/);
  await w.close();
  await history.close();
});

test("RemoteWriter retries a 429 (its Retry-After bounded by maxBackoffMs) and a network error", async () => {
  const history = await History.open();
  fill(history, series(1), range(1000, 5000));
  const fake = receiver((i) => {
    // An hour's Retry-After: honoured only up to maxBackoffMs, or this
    // test would not end.
    if (i === 0) {
      return new Response(null, {
        status: 429,
        headers: { "Retry-After": "3600" },
      });
    }
    if (i === 1) throw new TypeError("connection refused");
    return new Response(null, { status: 204 });
  });
  const warnings: string[] = [];
  const w = writer(history, {
    start: "oldest",
    batchDeadlineMs: 0,
    minBackoffMs: 1,
    maxBackoffMs: 5,
  }, { fetch: fake.fetch, onWarning: (m) => warnings.push(m) });
  await w.sendOnce();
  assert.deepEqual(fake.requests.map((r) => r.status), [429, 0, 204]);
  assert.deepEqual([...timesBySeries(fake.accepted()).values()], [
    range(1000, 4000),
  ]);
  assert.equal(w.stats.samplesFailed, 8);
  assert.equal(w.stats.samplesRetried, 8);
  assert.equal(w.stats.samplesSent, 4);
  assert.match(warnings.join("\n"), /429/);
  await w.close();
  await history.close();
});

test("RemoteWriter drops a request answered 400, counts it rejected, warns once naming the status", async () => {
  const history = await History.open();
  fill(history, series(2), range(1000, 5000));
  const fake = receiver(() => new Response("bad labels", { status: 400 }));
  const warnings: string[] = [];
  const w = writer(history, {
    start: "oldest",
    batchDeadlineMs: 0,
    maxSamplesPerRequest: 4,
  }, { fetch: fake.fetch, onWarning: (m) => warnings.push(m) });
  await w.sendOnce();
  assert.equal(fake.requests.length, 2); // not retried
  assert.deepEqual(w.stats.samplesDropped, { rejected: 8, too_old: 0 });
  assert.equal(w.stats.samplesSent, 0);
  assert.equal(w.stats.samplesRetried, 0);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /400/);
  assert.match(warnings[0], /bad labels/);
  assert.equal(await w.sendOnce(), 0); // the cursor moved on
  assert.equal(fake.requests.length, 2);
  await w.close();
  await history.close();
});

test("RemoteWriter counts a 400 saying out of bounds as too_old", async () => {
  const history = await History.open();
  fill(history, series(1), range(1000, 5000));
  const fake = receiver(() =>
    new Response("out of bounds: sample too old", { status: 400 })
  );
  const w = writer(history, { start: "oldest", batchDeadlineMs: 0 }, {
    fetch: fake.fetch,
  });
  await w.sendOnce();
  assert.deepEqual(w.stats.samplesDropped, { rejected: 0, too_old: 4 });
  await w.close();
  await history.close();
});

test("RemoteWriter: a new writer over the same cursor folder continues where the last stopped", async () => {
  const dir = tempDir();
  try {
    const history = await History.open();
    const [a] = series(1);
    fill(history, [a], range(1000, 10_000));
    const first = receiver();
    const w1 = writer(history, { start: "oldest", batchDeadlineMs: 0 }, {
      fetch: first.fetch,
      cursorDir: dir,
    });
    await w1.sendOnce();
    await w1.close();
    fill(history, [a], range(11_000, 20_000));
    const second = receiver();
    const warnings: string[] = [];
    // start "oldest" would resend everything without the cursor.
    const w2 = writer(history, { start: "oldest", batchDeadlineMs: 0 }, {
      fetch: second.fetch,
      cursorDir: dir,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(w2.stats.sentThrough, 9000);
    await w2.sendOnce();
    assert.deepEqual([...timesBySeries(first.requests).values()], [
      range(1000, 9000),
    ]);
    assert.deepEqual([...timesBySeries(second.requests).values()], [
      range(10_000, 19_000),
    ]);
    assert.deepEqual(warnings, []);
    await w2.close();
    await history.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("RemoteWriter resumes a window cut short after the last acknowledged request", async () => {
  const dir = tempDir();
  try {
    const history = await History.open();
    fill(history, series(10), range(1000, 6000));
    // 10 series x 5 samples, 2 series a request: 5 requests.
    const options = {
      start: "oldest",
      batchDeadlineMs: 0,
      maxSamplesPerRequest: 10,
    } as const;
    // The process dies with request 3 in flight.
    const { first, sent } = await stopAfter(
      2,
      (fetch) => writer(history, options, { fetch, cursorDir: dir }),
    );
    assert.equal(sent, 20);
    const second = receiver();
    const w2 = writer(history, options, {
      fetch: second.fetch,
      cursorDir: dir,
    });
    await w2.sendOnce();
    const keys = series(10).map((l) => `__name__=m,i=${l.i}`);
    assert.deepEqual(
      [...timesBySeries(first.accepted()).keys()],
      keys.slice(0, 4),
    );
    assert.deepEqual(
      [...timesBySeries(first.requests.slice(2)).keys()],
      keys.slice(4, 6),
    );
    const again = timesBySeries(second.requests);
    assert.deepEqual([...again.keys()], keys.slice(4));
    for (const times of again.values()) {
      assert.deepEqual(times, range(1000, 5000));
    }
    await w2.close();
    await history.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("RemoteWriter resumes without loss when the last acknowledged request ended inside a series", async () => {
  const dir = tempDir();
  try {
    const history = await History.open();
    fill(history, series(3), range(1000, 11_000));
    // 3 series x 10 samples, 15 a request: series 01 is split in two.
    const options = {
      start: "oldest",
      batchDeadlineMs: 0,
      maxSamplesPerRequest: 15,
    } as const;
    const { first } = await stopAfter(
      1,
      (fetch) => writer(history, options, { fetch, cursorDir: dir }),
    );
    const again = receiver();
    const w2 = writer(history, options, { fetch: again.fetch, cursorDir: dir });
    await w2.sendOnce();
    const all = timesBySeries([...first.accepted(), ...again.requests]);
    for (const [key, times] of all) {
      // Each sample once, in order: the split series goes on from the
      // sample after the last one acknowledged (Prometheus would refuse a
      // request that sent its first half again, all of it).
      assert.deepEqual(times, range(1000, 10_000), key);
    }
    assert.equal(all.size, 3);
    await w2.close();
    await history.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A receiver that answers as Prometheus 2.42 does: a request holding any
 * sample older than the newest one the receiver has of its series (or as
 * old, with another value) is refused whole, 400 "out of order sample";
 * `taken` holds every sample it took, by series.
 */
function prometheusLike(
  answerFirst?: (
    i: number,
    request: Request,
  ) => Response | Promise<Response> | undefined,
) {
  const newest = new Map<string, { t: number; bits: bigint }>();
  const taken = new Map<string, number[]>();
  let refused = 0;
  const r = receiver(async (i, request) => {
    const early = answerFirst?.(i, request);
    if (early !== undefined) return await early;
    // receiver() decoded the body already: the request's series.
    const series = r.requests[i].series;
    for (const s of series) {
      const last = newest.get(keyOf(s));
      for (const x of s.samples) {
        if (
          last !== undefined &&
          (x.t < last.t || (x.t === last.t && x.bits !== last.bits))
        ) {
          refused++;
          return new Response("out of order sample", { status: 400 });
        }
      }
    }
    for (const s of series) {
      const key = keyOf(s);
      const list = taken.get(key) ?? [];
      for (const x of s.samples) {
        const last = newest.get(key);
        if (last === undefined || x.t > last.t) list.push(x.t);
        newest.set(key, { t: x.t, bits: x.bits });
      }
      taken.set(key, list);
    }
    return new Response(null, { status: 204 });
  });
  return {
    ...r,
    taken,
    get refused() {
      return refused;
    },
  };
}

test("RemoteWriter killed with requests acknowledged out of order (several shards) sends none of them again: Prometheus refuses nothing, nothing is lost", async () => {
  const dir = tempDir();
  try {
    const history = await History.open();
    fill(history, series(12), range(1000, 20_000));
    // Windows of 5 s: 12 series x 5 samples, 2 whole series a request, 6
    // requests a window, up to 4 at once (behind: 15 s more to send).
    const options = {
      start: "oldest",
      batchDeadlineMs: 0,
      maxWindowMs: 5000,
      maxSamplesPerRequest: 10,
      maxShards: 4,
    } as const;
    let dying = true;
    const first = prometheusLike((i, request) => {
      // Requests 0, 2 and 3 are taken; 1 and the later ones never answer.
      if (dying && (i === 1 || i > 3)) return hang(request);
      return undefined;
    });
    const w1 = writer(history, options, { fetch: first.fetch, cursorDir: dir });
    const sending = w1.sendOnce();
    for (let k = 0; first.taken.size < 6 || first.requests.length < 6; k++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await w1.close(); // the process dies here
    await sending;
    dying = false;
    assert.equal(first.taken.size, 6, "three requests of two series taken");
    // The same receiver after the restart: it still has what it took.
    const w2 = writer(history, options, { fetch: first.fetch, cursorDir: dir });
    await w2.sendOnce();
    assert.equal(first.refused, 0, "no request refused as out of order");
    assert.equal(first.taken.size, 12);
    for (const [key, times] of first.taken) {
      assert.deepEqual(times, range(1000, 19_000), key);
    }
    await w2.close();
    await history.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("RemoteWriter killed after a request that ended inside a series goes on from that series' next sample, against a receiver that refuses what is older", async () => {
  const dir = tempDir();
  try {
    const history = await History.open();
    fill(history, series(3), range(1000, 11_000));
    // 3 series x 10 samples, 15 a request: series 01 is split in two.
    const options = {
      start: "oldest",
      batchDeadlineMs: 0,
      maxSamplesPerRequest: 15,
    } as const;
    const cut = deferred();
    const prom = prometheusLike((i, request) => {
      if (i < 1) return undefined;
      cut.resolve();
      return hang(request);
    });
    const w1 = writer(history, options, { fetch: prom.fetch, cursorDir: dir });
    const sending = w1.sendOnce();
    await cut.promise;
    await w1.close(); // the process dies with the second request in flight
    await sending;
    const again = prometheusLike();
    // What the first receiver took, the second has too (one receiver).
    for (const r of prom.accepted()) {
      for (const x of r.series) {
        again.taken.set(keyOf(x), x.samples.map((y) => y.t));
      }
    }
    const w2 = writer(history, options, {
      fetch: async (request) => {
        const series = decodeBody(
          new Uint8Array(await request.clone().arrayBuffer()),
        );
        // Refused as Prometheus would: older than what it took.
        for (const x of series) {
          const had = again.taken.get(keyOf(x));
          if (had !== undefined && x.samples[0].t <= had[had.length - 1]) {
            return new Response("out of order sample", { status: 400 });
          }
        }
        for (const x of series) {
          const had = again.taken.get(keyOf(x)) ?? [];
          again.taken.set(keyOf(x), [...had, ...x.samples.map((y) => y.t)]);
        }
        return new Response(null, { status: 204 });
      },
      cursorDir: dir,
    });
    await w2.sendOnce();
    assert.equal(again.taken.size, 3);
    for (const [key, times] of again.taken) {
      assert.deepEqual(times, range(1000, 10_000), key);
    }
    assert.equal(w2.stats.samplesDropped.rejected, 0);
    await w2.close();
    await history.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("RemoteWriter warns and starts over when its cursor does not parse or is for another URL", async () => {
  const dir = tempDir();
  try {
    const history = await History.open();
    fill(history, series(1), range(1000, 5000));
    // A file that is no cursor file, then one whose text is no cursor.
    writeFileSync(join(dir, "dest.cursor"), "{not json");
    const warnings: string[] = [];
    const fake = receiver();
    const w1 = writer(history, {
      name: "dest",
      start: "oldest",
      batchDeadlineMs: 0,
    }, {
      fetch: fake.fetch,
      cursorDir: dir,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /does not parse.*starting over/);
    assert.equal(await w1.sendOnce(), 4);
    await w1.close();
    const file = CursorFile.open(join(dir, "dest.cursor"));
    assert.match(file.read()!, /receiver\.test/);
    file.close();
    const w2 = writer(history, {
      url: "http://elsewhere.test/write",
      name: "dest",
      start: "oldest",
      batchDeadlineMs: 0,
    }, {
      fetch: fake.fetch,
      cursorDir: dir,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 2);
    assert.match(warnings[1], /another URL.*starting over/);
    assert.equal(await w2.sendOnce(), 4); // all of it again
    await w2.close();
    await history.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RemoteWriter without a cursor starts at the newest complete tick ("now") or the oldest sample ("oldest")', async () => {
  const history = await History.open();
  const [a] = series(1);
  fill(history, [a], range(1000, 10_000));
  const now = receiver();
  const oldest = receiver();
  const wNow = writer(history, { batchDeadlineMs: 0 }, {
    fetch: now.fetch,
    now: () => 10_000,
  });
  const wOldest = writer(history, { start: "oldest", batchDeadlineMs: 0 }, {
    fetch: oldest.fetch,
  });
  assert.equal(await wNow.sendOnce(), 0);
  assert.equal(await wOldest.sendOnce(), 9);
  fill(history, [a], range(11_000, 12_000));
  await wNow.sendOnce();
  assert.deepEqual([...timesBySeries(now.requests).values()], [
    range(10_000, 11_000),
  ]);
  await wNow.close();
  await wOldest.close();
  await history.close();
});

test('RemoteWriter with start "now" sends every tick appended after it was made, also when two come before its first look', async () => {
  // A slow first sampler pass at startup: it ends after the writer's
  // first look at the history, the next pass before its second.
  const [a] = series(1);
  const empty = await History.open();
  const fromEmpty = receiver();
  const w1 = writer(empty, { batchDeadlineMs: 0 }, { fetch: fromEmpty.fetch });
  assert.equal(await w1.sendOnce(), 0); // nothing yet
  fill(empty, [a], [1000, 2000]);
  await w1.sendOnce();
  fill(empty, [a], [3000]);
  await w1.sendOnce();
  assert.deepEqual([...timesBySeries(fromEmpty.requests).values()], [
    range(1000, 2000),
  ]);
  await w1.close();
  await empty.close();

  // A history with samples from before: from its newest complete tick
  // when the writer was made (9 s), as a first look at once would.
  const history = await History.open();
  fill(history, [a], range(1000, 10_000));
  const fake = receiver();
  const w2 = writer(history, { batchDeadlineMs: 0 }, {
    fetch: fake.fetch,
    now: () => 10_000,
  });
  fill(history, [a], [11_000, 12_000]);
  await w2.sendOnce();
  assert.deepEqual([...timesBySeries(fake.requests).values()], [
    range(10_000, 11_000),
  ]);
  await w2.close();
  await history.close();
});

test("RemoteWriter counts samples older than maxSampleAgeMs as too_old and does not send them", async () => {
  let fakeNow = 0;
  const history = await History.open({ now: () => fakeNow });
  fill(history, series(2), range(1000, 100_000));
  fakeNow = 100_000;
  const fake = receiver();
  const warnings: string[] = [];
  const w = writer(history, {
    start: "oldest",
    batchDeadlineMs: 0,
    maxSampleAgeMs: 30_000,
  }, {
    fetch: fake.fetch,
    now: () => fakeNow,
    onWarning: (m) => warnings.push(m),
  });
  await w.sendOnce();
  assert.equal(w.stats.samplesDropped.too_old, 2 * 70);
  const got = timesBySeries(fake.requests);
  assert.equal(got.size, 2);
  for (const times of got.values()) {
    assert.deepEqual(times, range(71_000, 99_000));
  }
  assert.equal(warnings.length, 1);
  // An operator's log: the age in words and the key the operator set
  // (maxSampleAge, a duration), not the embedding option's name.
  assert.match(
    warnings[0],
    /^remote write "[^"]+": 140 samples more than 30 s old \(the destination's maxSampleAge\) not sent \(warned once; /,
  );
  assert.doesNotMatch(warnings[0], /maxSampleAgeMs|30000/);
  await w.close();
  await history.close();
});

test("RemoteWriter with oldAsAggregates sends the minute windows of what is too old", async () => {
  let fakeNow = 0;
  const history = await History.open({ now: () => fakeNow });
  fill(history, [{ __name__: "m", i: "0" }], range(1000, 300_000));
  fakeNow = 300_000;
  const fake = receiver();
  const warnings: string[] = [];
  const w = writer(history, {
    start: "oldest",
    batchDeadlineMs: 0,
    maxSampleAgeMs: 60_000,
    oldAsAggregates: true,
  }, {
    fetch: fake.fetch,
    now: () => fakeNow,
    onWarning: (m) => warnings.push(m),
  });
  await w.sendOnce();
  assert.equal(w.stats.samplesDropped.too_old, 240);
  assert.deepEqual(
    warnings.map((m) => m.replace(/^remote write "[^"]+": /, "")),
    [
      "240 samples more than 1 min old (the destination's maxSampleAge) not sent; their minute windows sent instead (warned once; remote_write_samples_dropped_total counts them)",
    ],
  );
  const values = new Map<string, [number, number][]>();
  for (const r of fake.requests) {
    for (const s of r.series) {
      const list = values.get(keyOf(s)) ?? [];
      list.push(...s.samples.map((x): [number, number] => [x.t, x.value]));
      values.set(keyOf(s), list);
    }
  }
  // Minute windows (end - 60 s, end] of values t / 1000.
  const ends = [60_000, 120_000, 180_000, 240_000];
  const col = (f: (lo: number, hi: number) => number) =>
    ends.map((e): [number, number] => [e, f(e / 1000 - 59, e / 1000)]);
  assert.deepEqual(values.get("__name__=m_min,i=0"), col((lo) => lo));
  assert.deepEqual(values.get("__name__=m_max,i=0"), col((_, hi) => hi));
  assert.deepEqual(
    values.get("__name__=m_sum,i=0"),
    col((lo, hi) => (lo + hi) * 60 / 2),
  );
  assert.deepEqual(values.get("__name__=m_count,i=0"), col(() => 60));
  assert.deepEqual(
    values.get("__name__=m,i=0")?.map(([t]) => t),
    range(241_000, 299_000),
  );
  await w.close();
  await history.close();
});

test("RemoteWriter overlaps up to maxShards requests while behind, each series still in order", async () => {
  const history = await History.open();
  // 5 series x 10 samples a window, 15 a request: 01 and 04 are split.
  fill(history, series(5), range(1000, 120_000));
  // Holds the requests until every one the writer has in flight has come,
  // then answers them newest first, as a receiver with several
  // connections may: a series split across two requests in flight
  // together would arrive out of order.
  const held: { r: Received; release: () => void }[] = [];
  const processed: Received[] = [];
  const fake: ReturnType<typeof receiver> = receiver(async () => {
    const r = fake.requests[fake.requests.length - 1];
    const turn = deferred();
    held.push({ r, release: turn.resolve });
    // After the writer's other workers have had their turn to send.
    setTimeout(() => {
      if (held.length !== w.stats.inFlight) return;
      while (held.length > 0) held.pop()!.release();
    }, 0);
    await turn.promise;
    processed.push(r);
    return new Response(null, { status: 204 });
  });
  const w = writer(history, {
    start: "oldest",
    maxShards: 3,
    maxSamplesPerRequest: 15,
    maxWindowMs: 10_000,
    // Sent through 119 s: a window of less than 10 s (the default) waits.
    batchDeadlineMs: 5000,
  }, { fetch: fake.fetch });
  await w.sendOnce();
  assert.ok(fake.maxInFlight > 1, `at most ${fake.maxInFlight} in flight`);
  assert.ok(fake.maxInFlight <= 3);
  const got = timesBySeries(processed);
  assert.equal(got.size, 5);
  for (const [key, times] of got) {
    assert.deepEqual(times, range(1000, 119_000), key);
  }
  await w.close();
  await history.close();
});

test("RemoteWriter refuses bad options with a RangeError naming the option", async () => {
  const history = await History.open();
  const cases: [Partial<RemoteWriteOptions>, RegExp][] = [
    [{ url: "ftp://host/write" }, /url/],
    [{ url: "not a url" }, /url/],
    [{ url: "http://me:hunter2@host/write" }, /url.*user or password/],
    [
      { bearerToken: "tok3n", basicAuth: { username: "u", password: "pw5" } },
      /bearerToken or basicAuth/,
    ],
    [
      { headers: { authorization: "Bearer tok3n" } },
      /Authorization|authorization/,
    ],
    [{ name: "a/b" }, /name/],
    [{ externalLabels: { "bad-name": "x" } }, /external label/],
    [{ externalLabels: { __x: "x" } }, /external label/],
    [{ minBackoffMs: 100, maxBackoffMs: 50 }, /maxBackoffMs.*minBackoffMs/],
    [{ maxSamplesPerRequest: 1.5 }, /maxSamplesPerRequest/],
    [{ maxShards: 0 }, /maxShards/],
    [{ timeoutMs: NaN }, /timeoutMs/],
    [{ batchDeadlineMs: -1 }, /batchDeadlineMs/],
    [{ start: "later" as "now" }, /start/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => new RemoteWriter(history, { url: URL_, ...options }),
      (e: unknown) => {
        assert.ok(e instanceof RangeError, String(e));
        assert.match(e.message, pattern);
        assert.doesNotMatch(e.message, /hunter2|tok3n|pw5/);
        return true;
      },
      JSON.stringify(options),
    );
  }
  await history.close();
});

test("RemoteWriter keeps secrets out of its warnings, also when the receiver says nothing", async () => {
  const history = await History.open();
  fill(history, series(1), range(1000, 5000));
  for (
    const auth of [
      { bearerToken: "t0psecret" },
      { basicAuth: { username: "ann", password: "t0psecret" } },
    ]
  ) {
    const warnings: string[] = [];
    let i = 0;
    const w = writer(history, {
      url: "http://receiver.test/write?token=t0psecret",
      start: "oldest",
      batchDeadlineMs: 0,
      minBackoffMs: 1,
      maxBackoffMs: 1,
      ...auth,
    }, {
      fetch: (r) => {
        i++;
        if (i === 1) {
          throw new TypeError(
            `fetch to ${r.url} failed (${r.headers.get("Authorization")})`
              .replace(/Bearer \S+|Basic \S+/, "<auth>"),
          );
        }
        return Promise.resolve(new Response(null, { status: 401 }));
      },
      onWarning: (m) => warnings.push(m),
    });
    await w.sendOnce();
    assert.equal(warnings.length, 2);
    assert.match(warnings[1], /401.*no reason given/);
    for (const m of warnings) assert.doesNotMatch(m, /t0psecret/);
    await w.close();
  }
  await history.close();
});

test("RemoteWriter keeps secrets out of its warning when the receiver's answer repeats them", async () => {
  const history = await History.open();
  fill(history, series(1), range(1000, 5000));
  for (
    const auth of [
      { bearerToken: "t0psecret-bearer" },
      { basicAuth: { username: "ann", password: "t0psecret-pw" } },
      // A value under 4 characters stays: hidden, "401" would read "40[secret]".
      { headers: { "X-Api-Key": "t0psecret-key", "X-Shard": "1" } },
    ]
  ) {
    const warnings: string[] = [];
    const w = writer(history, {
      url: "http://receiver.test/write?token=t0psecret-query&tenant=a",
      start: "oldest",
      batchDeadlineMs: 0,
      ...auth,
    }, {
      // A receiver (or a proxy before it) that says what it was sent.
      fetch: (r) => {
        const given = r.headers.get("Authorization") ?? "";
        const basic = given.startsWith("Basic ") ? atob(given.slice(6)) : "";
        const url = new URL(r.url);
        return Promise.resolve(
          new Response(
            `refused ${given} (${basic}) key ${
              r.headers.get("X-Api-Key")
            } for ${url.pathname}${url.search} of ${r.url}`,
            { status: 401 },
          ),
        );
      },
      onWarning: (m) => warnings.push(m),
    });
    await w.sendOnce();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /answered 401: .* dropped \(rejected\): refused/);
    assert.doesNotMatch(warnings[0], /t0psecret/, JSON.stringify(auth));
    // Its other words stay: the user name, the path, the host.
    assert.match(warnings[0], /\/write/);
    assert.match(warnings[0], /receiver\.test/);
    if (auth.basicAuth !== undefined) assert.match(warnings[0], /ann:/);
    await w.close();
  }
  await history.close();
});

test("RemoteWriter.start() sends to a real HTTP receiver until close()", async () => {
  const history = await History.open({ intervalMs: 10 });
  fill(history, series(2), range(10, 1000, 10));
  const bodies: DecodedSeries[][] = [];
  const got = deferred();
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      bodies.push(decodeBody(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    const w = new RemoteWriter(history, {
      url: `http://127.0.0.1:${port}/api/v1/write`,
      start: "oldest",
      batchDeadlineMs: 0,
    }, {
      // The global fetch, watched: done once the last answer is back.
      fetch: async (request) => {
        const res = await fetch(request);
        const n = bodies.flat().reduce((n, s) => n + s.samples.length, 0);
        if (n >= 2 * 99) got.resolve();
        return res;
      },
      onWarning: (m) => assert.fail(m),
    });
    w.start();
    await got.promise;
    await w.close();
    const times = timesBySeries(
      bodies.map((series) => ({ series } as Received)),
    );
    assert.equal(times.size, 2);
    for (const t of times.values()) assert.deepEqual(t, range(10, 990, 10));
    assert.equal(w.stats.samplesSent, 2 * 99);
  } finally {
    await new Promise((r) => server.close(r));
    await history.close();
  }
});

test("remoteWriteMetrics exposes each destination's series, moving as requests go", async () => {
  const history = await History.open();
  fill(history, series(2), range(1000, 5000));
  let fail = true;
  const w = writer(history, {
    name: "central",
    start: "oldest",
    batchDeadlineMs: 0,
    minBackoffMs: 1,
    maxBackoffMs: 1,
  }, {
    fetch: receiver(() => {
      const status = fail ? 500 : 204;
      fail = false;
      return new Response(null, { status });
    }).fetch,
  });
  const collector = new MetricsCollector();
  const remove = remoteWriteMetrics(collector, () => [w]);
  const value = (text: string, series: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.split(" ")[1]);
  };
  let text = await collector.render();
  const d = 'destination="central"';
  assert.equal(value(text, `weir_remote_write_samples_total{${d}}`), 0);
  assert.equal(value(text, `weir_remote_write_lag_seconds{${d}}`), undefined);
  await w.sendOnce();
  text = await collector.render();
  assert.equal(value(text, `weir_remote_write_samples_total{${d}}`), 8);
  assert.equal(value(text, `weir_remote_write_samples_failed_total{${d}}`), 8);
  assert.equal(value(text, `weir_remote_write_samples_retried_total{${d}}`), 8);
  assert.equal(
    value(
      text,
      `weir_remote_write_samples_dropped_total{${d},reason="rejected"}`,
    ),
    0,
  );
  assert.ok(value(text, `weir_remote_write_bytes_total{${d}}`)! > 0);
  assert.equal(value(text, `weir_remote_write_lag_seconds{${d}}`), 1);
  assert.equal(value(text, `weir_remote_write_pending_samples{${d}}`), 0);
  assert.equal(value(text, `weir_remote_write_requests_in_flight{${d}}`), 0);
  assert.equal(
    value(text, `weir_remote_write_request_duration_seconds_count{${d}}`),
    1,
  );
  remove();
  assert.doesNotMatch(await collector.render(), /remote_write/);
  await w.close();
  await history.close();
});

test(
  "remoteWriteMetrics: promtool accepts the exposition",
  { skip: integrationSkip("promtool") },
  async () => {
    const history = await History.open();
    fill(history, series(1), range(1000, 5000));
    const w = writer(history, {
      name: "central",
      start: "oldest",
      batchDeadlineMs: 0,
    }, {
      fetch: receiver().fetch,
    });
    await w.sendOnce();
    const collector = new MetricsCollector();
    remoteWriteMetrics(collector, () => [w]);
    const { ok, output } = await promtoolCheck(await collector.render());
    assert.ok(ok, output);
    await w.close();
    await history.close();
  },
);

test("the cursor's base64 is btoa's, for every length and byte", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let n = 0; n < 70; n++) {
    const bytes = Uint8Array.from({ length: n }, rand);
    if (n === 1) bytes[0] = 255;
    const text = _base64(bytes);
    assert.equal(text, btoa(String.fromCharCode(...bytes)), `length ${n}`);
    assert.deepEqual(
      Uint8Array.from(atob(text), (c) => c.charCodeAt(0)),
      bytes,
    );
  }
});

test('start "now" on a history reloaded after a long stop sends what comes after, not its old newest tick, and warns of nothing', async () => {
  const [a] = series(1);
  for (const downMs of [3 * 86_400_000, 10 * 60_000]) {
    const root = tempDir();
    try {
      const dir = join(root, "history");
      const before = Math.floor(Date.now() / 1000) * 1000 - downMs;
      let h = await History.open({ dir });
      fill(h, [a], range(before - 30_000, before - 1000));
      await h.close();
      h = await History.open({ dir });
      const warnings: string[] = [];
      const fake = receiver();
      const w = writer(h, { batchDeadlineMs: 0 }, {
        cursorDir: join(root, "remote_write"),
        onWarning: (m) => warnings.push(m),
        fetch: fake.fetch,
      });
      // weir is back: the sampler appends from now on.
      const now = Math.floor(Date.now() / 1000) * 1000;
      fill(h, [a], range(now, now + 4000));
      await w.sendOnce();
      await w.close();
      await h.close();
      assert.deepEqual(
        [...timesBySeries(fake.requests).values()],
        [range(now, now + 3000)],
        `down ${downMs} ms`,
      );
      assert.deepEqual(warnings, [], `down ${downMs} ms`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
});
