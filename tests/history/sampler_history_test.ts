import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createNetwork } from "../../src/embed.ts";
import { History } from "../../src/history/history.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { RESOURCE_METRICS } from "../../src/metrics/catalogue.ts";
import { parseFamilies } from "../metrics/_exposition.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";

const NAME = (value: string) => ({
  name: "__name__",
  type: "=" as const,
  value,
});

async function ticks(collector: MetricsCollector) {
  const net = createNetwork(
    `
    '1ms' -> interval Tick(core/Interval)
    5 -> count Tick
    Tick out -> in Sink(core/Drop)
  `,
    { name: "ticks", buckets: collector.options.buckets },
  );
  collector.track(net);
  await net.start();
  await net.finished;
}

test("History.attach() samples a collector into its store, and reads it back", async () => {
  await using history = await History.open({ exclude: [".*_bucket"] });
  const collector = new MetricsCollector();
  await ticks(collector);
  history.attach(collector);
  await history.sampleNow();
  const now = Date.now();
  const [sink] = history.select(
    [NAME("weir_process_messages_total"), {
      name: "process",
      type: "=",
      value: "Sink",
    }],
    now - 60_000,
    now,
    0,
  );
  assert.deepEqual([...sink.value], [5]);
  assert.equal(sink.kind, "counter");
  assert.equal(sink.t[0] % 1000, 0);
  assert.deepEqual(
    history.labelValues("__name__", [], now - 60_000, now).filter((n) =>
      n.endsWith("_bucket")
    ),
    [],
  );
  assert.deepEqual(history.tiers.map((t) => t.name), ["raw", "1m", "1h"]);
  // Step reads (what the query API uses for long ranges) reach the store.
  const ends = new Float64Array([sink.t[0], sink.t[0] + 1000]);
  const steps = history.selectSteps(
    [NAME("weir_process_messages_total"), {
      name: "process",
      type: "=",
      value: "Sink",
    }],
    ends,
    2000,
    0,
  );
  const [stepped] = steps;
  assert.deepEqual([...stepped.t], [...sink.t]);
  assert.deepEqual([...stepped.value], [5]);
  // And the one-series-at-a-time step reads (month queries) too.
  const visited: number[][] = [];
  history.selectStepsEach(
    [NAME("weir_process_messages_total"), {
      name: "process",
      type: "=",
      value: "Sink",
    }],
    ends,
    2000,
    0,
    undefined,
    (p) => visited.push([...p.value]),
  );
  assert.deepEqual(visited, steps.map((p) => [...p.value]));
  assert.deepEqual(visited[0], [5]);
});

test("History.attach() exports the history's own metrics in the collector, and its detach removes them", async () => {
  await using history = await History.open();
  const collector = new MetricsCollector();
  const detach = history.attach(collector);
  await history.sampleNow();
  const families = new Map(
    parseFamilies(await collector.render()).map((f) => [f.name, f]),
  );
  const appended = families.get("weir_history_samples_appended_total");
  assert.equal(appended?.type, "counter");
  assert.ok(appended.samples[0].value > 0);
  assert.ok(families.get("weir_history_series")!.samples[0].value > 0);
  const storage = families.get("weir_history_storage_bytes")!;
  assert.deepEqual(
    storage.samples.filter((s) => s.labels.medium === "memory").map((s) =>
      s.labels.tier
    ),
    ["raw", "1m", "1h"],
  );
  for (
    const name of [
      "weir_history_chunks_written_total",
      "weir_history_chunks_dropped_total",
      "weir_history_flush_duration_seconds",
      "weir_history_corrupt_chunks_skipped_total",
      "weir_history_sample_ticks_skipped_total",
      "weir_history_sample_duration_seconds",
    ]
  ) assert.ok(families.has(name), name);
  assert.equal(
    families.get("weir_history_sample_duration_seconds")!.samples.find((s) =>
      s.name.endsWith("_count")
    )?.value,
    1,
  );
  detach();
  assert.doesNotMatch(await collector.render(), /weir_history_/);
});

test("History.close() writes everything to its data dir; a History opened there reads it back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-history-"));
  try {
    const collector = new MetricsCollector();
    await ticks(collector);
    const first = await History.open({
      dir,
      // No flush of its own before close().
      flushIntervalMs: 0,
      include: ["weir_process_messages_total"],
    });
    first.attach(collector);
    await first.sampleNow();
    await first.close();
    await first.close(); // twice is once

    await using again = await History.open({ dir, flushIntervalMs: 0 });
    const points = again.select(
      [NAME("weir_process_messages_total")],
      0,
      Date.now(),
      0,
    );
    assert.ok(points.length > 0);
    const sink = points.find((p) =>
      p.labels.process === "Sink" && p.labels.direction === "in"
    );
    // One sample, or two when close() came in the next second (it then
    // takes a last one: the test below), each the value sampled.
    assert.ok([1, 2].includes(sink!.value.length), `${sink!.value.length}`);
    assert.ok([...sink!.value].every((v) => v === 5), `${[...sink!.value]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("History.open() refuses a bad pattern or a retention for no tier before opening anything", async () => {
  await assert.rejects(
    History.open({ include: ["weir_("] }),
    /include pattern "weir_\(" is not a regular expression/,
  );
  await assert.rejects(
    History.open({ retentionMs: { "5m": 1000 } }),
    /retention for tier "5m", which is no tier \(tiers: raw, 1m, 1h\)/,
  );
  const dir = mkdtempSync(join(tmpdir(), "weir-history-retention-"));
  try {
    await using history = await History.open({
      dir,
      retentionMs: { raw: 2 * 86_400_000 },
    });
    assert.equal(history.tiers[0].retentionMs, 2 * 86_400_000);
    assert.equal(history.tiers[1].retentionMs, 30 * 86_400_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // In memory, a tier keeps what its ring reaches (raw: 62 min at 1 s).
  await using memory = await History.open({
    retentionMs: { raw: 2 * 86_400_000 },
  });
  assert.equal(memory.tiers[0].retentionMs, 62 * 60_000);
});

test("History.open() refuses a retention longer than 100 years, Infinity included, naming the tier and the option", async () => {
  for (const ms of [Infinity, 1e30, 100 * 365 * 86_400_000 + 1]) {
    await assert.rejects(
      History.open({ retentionMs: { "1h": ms } }),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message ===
          `Cannot open history: retentionMs of tier "1h" is longer than 100 years (3153600000000 ms), the longest it may be, received ${ms}`,
    );
    await assert.rejects(
      History.open({
        tiers: [{ name: "raw", resolutionMs: 1000, retentionMs: ms }],
      }),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message ===
          `Cannot open history store: tier raw retentionMs is longer than 100 years (3153600000000 ms), the longest it may be, received ${ms}`,
    );
  }
  await using history = await History.open({
    retentionMs: { "1h": 100 * 365 * 86_400_000 },
  });
  assert.equal(history.tiers.length, 3);
});

test("History.attach() refuses a collector attached already, and any after close()", async () => {
  const history = await History.open();
  const collector = new MetricsCollector();
  history.attach(collector);
  assert.throws(() => history.attach(collector), /attached already/);
  await history.close();
  assert.throws(
    () => history.attach(new MetricsCollector()),
    /Cannot attach history: it is closed/,
  );
  // close() removed its metrics from the collector.
  assert.doesNotMatch(await collector.render(), /weir_history_/);
});

test("a second History attached to a collector is refused saying another is attached, and the first goes on", async () => {
  const first = await History.open();
  const second = await History.open();
  try {
    const collector = new MetricsCollector();
    first.attach(collector);
    assert.throws(
      () => second.attach(collector),
      /^Error: Cannot attach history: another history is attached to this collector already/,
    );
    await first.sampleNow();
    assert.equal(second.samplerStats().length, 0);
    assert.match(await collector.render(), /weir_history_series \d+/);
  } finally {
    await first.close();
    await second.close();
  }
});

test("History.open() in a folder whose path is a file says so (it threw mkdir's EEXIST)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-history-file-"));
  try {
    const file = join(dir, "not-a-folder");
    writeFileSync(file, "x");
    for (const at of [file, join(file, "sub")]) {
      await assert.rejects(
        History.open({ dir: at }),
        {
          message: `Cannot open history in ${
            JSON.stringify(at)
          }: a file is in the way (it must be a folder)`,
        },
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("promtool check metrics passes on the history's own metrics", {
  skip: integrationSkip("promtool"),
}, async () => {
  await using history = await History.open();
  const collector = new MetricsCollector();
  history.attach(collector);
  await history.sampleNow();
  const text = await collector.render("text");
  assert.match(
    text,
    /^weir_history_storage_bytes\{tier="raw",medium="disk"\}/m,
  );
  const { ok, output } = await promtoolCheck(text);
  assert.equal(output, "");
  assert.equal(ok, true);
});

test("History.close() takes a last sample when a new tick has begun, so the values at shutdown are kept", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-history-"));
  try {
    let clock = 1_700_000_000_000;
    const collector = new MetricsCollector();
    let value = 1;
    collector.addFamily(
      RESOURCE_METRICS.threads,
      (o) => o.sample({}, value),
    );
    const read = async () => {
      // At the test's clock: a chunk sealed at a time of 2023 is past the
      // retention of a store whose clock is today's.
      await using h = await History.open({
        dir,
        flushIntervalMs: 0,
        now: () => clock,
      });
      return h.select([NAME("weir_threads")], 0, clock + 10_000, 0).map((
        p,
      ) => [[...p.t], [...p.value]]);
    };
    // The same tick as the last pass: nothing more.
    const same = await History.open({
      dir,
      flushIntervalMs: 0,
      include: ["weir_threads"],
      now: () => clock,
    });
    same.attach(collector);
    await same.sampleNow();
    value = 2;
    clock += 500;
    await same.close();
    assert.deepEqual(await read(), [[[clock - 500], [1]]]);

    // A new tick: its value is kept.
    const next = await History.open({
      dir,
      flushIntervalMs: 0,
      include: ["weir_threads"],
      now: () => clock,
    });
    next.attach(collector);
    clock += 1000;
    value = 3;
    await next.close();
    assert.deepEqual(await read(), [[[clock - 1500, clock - 500], [1, 3]]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
