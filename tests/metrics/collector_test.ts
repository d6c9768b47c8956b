import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Gauge } from "prom-client";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import type { ConnectionSpec } from "../../src/engine/spec.ts";
import {
  fullName,
  type MetricDef,
  METRICS,
} from "../../src/metrics/catalogue.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { createNetwork } from "../../src/embed.ts";
import {
  gated,
  network,
  overflowNet,
  sinkInto,
  sleep,
  sourceOf,
  until,
} from "../engine/_helpers.ts";
import { parseExposition, samplesOf, valueOf } from "./_exposition.ts";

/** The collector's own rows (HTTP and resource rows are added by their parts). */
const ENGINE_METRICS: readonly MetricDef[] = Object.values(METRICS);

const N = (key: keyof typeof METRICS, ns = "weir") =>
  fullName(METRICS[key], ns);

async function scrape(
  m: MetricsCollector,
  format: "text" | "openmetrics" = "text",
) {
  return parseExposition(await m.render(format));
}

/** A process that fails every message. */
const Failing = defineComponent({
  name: "test/Failing",
  description: "Throws on every message.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  process() {
    throw new Error("always fails");
  },
});

/** S sends `count` numbers through M (x2) into K. */
function pipeline(count: number, name = "pipe"): Network {
  const Double = defineComponent({
    name: "test/Double",
    description: "Doubles.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      ctx.send("out", (v as number) * 2);
    },
  });
  return network(
    {
      S: sourceOf(Array.from({ length: count }, (_, i) => i)),
      M: Double,
      K: sinkInto([]),
    },
    ["S.out>M.in", "M.out>K.in"],
    { name },
  );
}

/**
 * A flow that moves every catalogue metric: a pipeline, a failing process
 * behind a breaker, and a drop-oldest connection.
 */
function everything(): Network {
  const conn = (
    from: string,
    to: string,
    extra: Partial<ConnectionSpec> = {},
  ): ConnectionSpec => ({
    from: { process: from.split(".")[0], port: from.split(".")[1] },
    to: { process: to.split(".")[0], port: to.split(".")[1] },
    ...extra,
  });
  return network(
    {
      S: sourceOf([1, 2, 3, 4, 5]),
      F: {
        component: Failing,
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 60_000 },
      },
      E: sinkInto([]),
      K: sinkInto([]),
    },
    [
      conn("S.out", "F.in"),
      conn("F.error", "E.in"),
      conn("S.out", "K.in", { policy: "drop-oldest" }),
    ],
    { name: "all" },
  );
}

test("every catalogue metric is exported with its type and labels", async () => {
  const m = new MetricsCollector();
  const net = everything();
  m.track(net);
  m.recordFlowOperation("create", "success");
  await net.start();
  await net.finished;
  const e = await scrape(m);
  for (const def of ENGINE_METRICS) {
    const name = fullName(def, "weir");
    assert.equal(e.types.get(name), def.type, `# TYPE of ${name}`);
    assert.equal(e.help.get(name), def.help, `# HELP of ${name}`);
    const labels = def.labels.map((l) => l.name).sort();
    const names = def.type === "histogram"
      ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
      : [name];
    for (const n of names) {
      const got = samplesOf(e, n);
      assert.ok(got.length > 0, `${n} has samples`);
      for (const s of got) {
        const want = n.endsWith("_bucket") ? [...labels, "le"].sort() : labels;
        assert.deepEqual(Object.keys(s.labels).sort(), want, `labels of ${n}`);
        for (const l of def.labels) {
          if (l.values) {
            assert.ok(l.values.includes(s.labels[l.name]), `${n} ${l.name}`);
          }
        }
      }
    }
  }
});

test("1,000 messages through a process count 1,000 in and 1,000 out", async () => {
  const m = new MetricsCollector();
  const net = pipeline(1000);
  m.track(net);
  await net.start();
  await net.finished;
  const e = await scrape(m);
  const msgs = N("processMessages");
  assert.equal(
    valueOf(e, msgs, { process: "M", port: "in", direction: "in" }),
    1000,
  );
  assert.equal(
    valueOf(e, msgs, { process: "M", port: "out", direction: "out" }),
    1000,
  );
  assert.equal(
    valueOf(e, msgs, { process: "K", port: "in", direction: "in" }),
    1000,
  );
  assert.equal(valueOf(e, N("processStarts"), { process: "M" }), 1);
  assert.equal(
    valueOf(e, `${N("processMessageLatency")}_count`, { process: "K" }),
    1000,
  );
  assert.equal(
    valueOf(e, `${N("networkLatency")}_count`, { flow: "pipe" }),
    1000,
  );
  assert.equal(valueOf(e, N("networkActiveProcesses")), 0);
});

test("a queue blocked on purpose shows a depth equal to its capacity", async () => {
  const m = new MetricsCollector();
  const g = gated();
  const net = network(
    { S: sourceOf([0, 1, 2, 3, 4, 5]), G: g.component },
    [{
      from: { process: "S", port: "out" },
      to: { process: "G", port: "in" },
      capacity: 5,
    }],
  );
  m.track(net);
  await net.start();
  // G holds the first message; the other five fill the queue.
  await until(() =>
    net.stats().processes.find((p) => p.name === "S")!.messagesOut.out === 6
  );
  const e = await scrape(m);
  assert.equal(
    valueOf(e, N("processQueueDepth"), { process: "G", port: "in" }),
    5,
  );
  assert.equal(valueOf(e, N("networkBacklog"), { flow: "test" }), 5);
  assert.equal(valueOf(e, N("processActiveActivations"), { process: "G" }), 1);
  assert.ok(valueOf(e, N("processBufferedBytes"), { process: "G" })! > 0);
  assert.equal(valueOf(e, N("flowsActive")), 1);
  g.open();
  await net.finished;
  const after = await scrape(m);
  assert.equal(valueOf(after, N("processQueueDepth"), { process: "G" }), 0);
  assert.equal(valueOf(after, N("flowsActive")), 0);
});

test("a tripped circuit breaker is exported as state open = 1", async () => {
  const m = new MetricsCollector();
  const net = everything();
  m.track(net);
  await net.start();
  await net.finished;
  const e = await scrape(m);
  const state = N("circuitBreakerState");
  assert.equal(valueOf(e, state, { process: "F", state: "open" }), 1);
  assert.equal(valueOf(e, state, { process: "F", state: "closed" }), 0);
  assert.equal(valueOf(e, state, { process: "F", state: "half-open" }), 0);
  // Two failures trip it; the other three messages meet an open breaker.
  const errors = N("processErrors");
  assert.equal(valueOf(e, errors, { process: "F", kind: "exception" }), 2);
  assert.equal(valueOf(e, N("processFailures"), { process: "F" }), 2);
  assert.equal(
    valueOf(e, N("messagesDropped"), { process: "F", reason: "circuit_open" }),
    3,
  );
  const last = valueOf(e, N("processLastError"), { process: "F" })!;
  assert.ok(Math.abs(last - Date.now() / 1000) < 60, `last error ${last}`);
  // Processes without a breaker have no breaker series, and no last error.
  assert.equal(samplesOf(e, state, { process: "K" }).length, 0);
  assert.equal(valueOf(e, N("processLastError"), { process: "K" }), undefined);
});

for (
  const [policy, reason, count] of [
    ["drop-oldest", "drop_oldest", 7],
    ["drop-newest", "drop_newest", 7],
    ["error", "refused", 1],
  ] as const
) {
  test(`drops by the ${policy} policy are counted with reason ${reason}`, async () => {
    const m = new MetricsCollector();
    const { net, open } = overflowNet(policy, []);
    net.on("error", () => {});
    m.track(net);
    await net.start();
    // B's burst is one activation: its first drop comes with all the others.
    await until(() =>
      net.stats().processes.find((p) => p.name === "G")!.drops[reason] > 0
    );
    open();
    await net.finished;
    const e = await scrape(m);
    const drops = N("messagesDropped");
    assert.equal(valueOf(e, drops, { process: "G", reason }), count);
    const others = samplesOf(e, drops, { process: "G" }).filter((s) =>
      s.labels.reason !== reason
    );
    assert.ok(others.length > 0);
    for (const s of others) assert.equal(s.value, 0, s.labels.reason);
    if (policy === "error") {
      assert.equal(
        valueOf(e, N("processErrors"), { process: "B", kind: "overflow" }),
        1,
      );
    }
  });
}

test("messages discarded by a stop are counted with reason stopped", async () => {
  const m = new MetricsCollector();
  const g = gated();
  const net = network(
    { S: sourceOf([0, 1, 2, 3]), G: g.component },
    ["S.out>G.in"],
  );
  m.track(net);
  await net.start();
  await until(() => net.stats().backlog === 3);
  await net.stop();
  const e = await scrape(m);
  // The 3 waiting in G's backlog, and the one G's gated activation held
  // when the stop cut it off: every message sent is delivered or dropped.
  assert.equal(
    valueOf(e, N("messagesDropped"), { process: "G", reason: "stopped" }),
    4,
  );
});

test("an untracked flow's series are gone from the next scrape", async () => {
  const m = new MetricsCollector();
  const a = pipeline(10, "a");
  const b = pipeline(10, "b");
  m.track(a);
  m.track(b);
  await Promise.all([a.start(), b.start()]);
  await Promise.all([a.finished, b.finished]);
  assert.equal(
    samplesOf(await scrape(m), N("processStarts"), { flow: "a" }).length,
    3,
  );
  assert.equal(m.untrack("a"), true);
  const e = await scrape(m);
  assert.equal(e.samples.filter((s) => s.labels.flow === "a").length, 0);
  assert.equal(samplesOf(e, N("processStarts"), { flow: "b" }).length, 3);
  assert.equal(m.untrack("a"), false);
});

test("a flow created again starts its counters from zero, with only its own processes", async () => {
  const m = new MetricsCollector();
  const old = pipeline(100, "f");
  m.track(old);
  await old.start();
  await old.finished;
  const msgs = N("processMessages");
  assert.equal(
    valueOf(await scrape(m), msgs, { process: "K", direction: "in" }),
    100,
  );
  m.untrack(old);
  // The new version has no M: S feeds K directly.
  const fresh = network(
    { S: sourceOf([1, 2, 3]), K: sinkInto([]) },
    ["S.out>K.in"],
    { name: "f" },
  );
  m.track(fresh);
  const before = await scrape(m);
  assert.equal(valueOf(before, msgs, { process: "K", direction: "in" }), 0);
  assert.equal(samplesOf(before, msgs, { process: "M" }).length, 0);
  await fresh.start();
  await fresh.finished;
  assert.equal(
    valueOf(await scrape(m), msgs, { process: "K", direction: "in" }),
    3,
  );
});

test("tracking a second flow of the same name is refused", () => {
  const m = new MetricsCollector();
  m.track(pipeline(1, "x"));
  assert.throws(
    () => m.track(pipeline(1, "x")),
    /flow "x": a flow of that name is tracked already/,
  );
  assert.equal(
    m.untrack(pipeline(1, "x")),
    false,
    "another network of that name",
  );
});

test("a flow with other histogram buckets is refused with a reason", () => {
  const m = new MetricsCollector({ buckets: [0.1, 1] });
  assert.throws(
    () => m.track(pipeline(1, "x")),
    /histogram buckets .* differ .* buckets: collector\.options\.buckets/,
  );
  const ok = network(
    { S: sourceOf([1]), K: sinkInto([]) },
    ["S.out>K.in"],
    { name: "y" },
    { buckets: m.options.buckets },
  );
  m.track(ok);
  assert.deepEqual(m.flows, ["y"]);
});

test("the namespace option prefixes every catalogue metric", async () => {
  const m = new MetricsCollector({ namespace: "edge" });
  const net = pipeline(3);
  m.track(net);
  await net.start();
  await net.finished;
  const e = await scrape(m);
  assert.equal(
    valueOf(e, "edge_process_messages_total", {
      process: "K",
      direction: "in",
    }),
    3,
  );
  assert.equal(e.samples.filter((s) => s.name.startsWith("weir_")).length, 0);
  for (const def of ENGINE_METRICS) {
    assert.ok(e.types.has(fullName(def, "edge")));
  }
});

test("constant labels are added to every series", async () => {
  const m = new MetricsCollector({ constLabels: { instance: "gw-7" } });
  const net = pipeline(3);
  m.track(net);
  await net.start();
  await net.finished;
  const e = await scrape(m);
  assert.ok(e.samples.length > 50);
  for (const s of e.samples) assert.equal(s.labels.instance, "gw-7", s.name);
});

test("series past the cap are refused and counted", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 4 });
  const procs: Record<string, ReturnType<typeof sinkInto>> = {};
  for (let i = 0; i < 10; i++) procs[`P${i}`] = sinkInto([]);
  const net = network(procs, []);
  m.track(net);
  const e = await scrape(m);
  const starts = N("processStarts");
  assert.equal(samplesOf(e, starts).length, 4);
  const refused = N("metricsSeriesRefused");
  assert.equal(valueOf(e, refused, { metric: starts }), 6);
  // Three error kinds per process: 4 admitted, 26 refused.
  assert.equal(samplesOf(e, N("processErrors")).length, 4);
  assert.equal(valueOf(e, refused, { metric: N("processErrors") }), 26);
  // Untracking frees the places; the refusals stay counted.
  m.untrack(net);
  const small = network({ A: sinkInto([]) }, [], { name: "small" });
  m.track(small);
  const after = await scrape(m);
  assert.equal(samplesOf(after, starts).length, 1);
  assert.equal(valueOf(after, refused, { metric: starts }), 6);
});

test("a registered metric that throws is left out and counted; the scrape succeeds", async () => {
  const m = new MetricsCollector();
  new Gauge({
    name: "app_broken",
    help: "Always fails to collect.",
    registers: [m.registry],
    collect() {
      throw new Error("sensor unplugged");
    },
  });
  const good = new Counter({
    name: "app_things_total",
    help: "Things.",
    registers: [m.registry],
  });
  good.inc(2);
  const first = await m.render("text");
  const e = parseExposition(first);
  assert.equal(e.types.has("app_broken"), false);
  assert.equal(valueOf(e, "app_things_total"), 2);
  const errors = N("metricsCollectionErrors");
  assert.equal(valueOf(e, errors, { collector: "app_broken" }), 1);
  assert.equal(valueOf(e, errors, { collector: "engine" }), 0);
  assert.equal(
    valueOf(await scrape(m), errors, { collector: "app_broken" }),
    2,
  );
});

test("a registered metric whose collect never settles is left out after collectTimeoutMs", async () => {
  const m = new MetricsCollector({ collectTimeoutMs: 50 });
  new Gauge({
    name: "app_hung",
    help: "Never answers.",
    registers: [m.registry],
    collect: () => new Promise<void>(() => {}),
  });
  const first = parseExposition(await m.render("text"));
  assert.equal(first.types.has("app_hung"), false);
  const errors = N("metricsCollectionErrors");
  assert.equal(valueOf(first, errors, { collector: "app_hung" }), 1);
  // The next scrape is not held by the first one's hung collect.
  const second = parseExposition(await m.render("openmetrics"));
  assert.equal(valueOf(second, errors, { collector: "app_hung" }), 2);
});

test("a flow whose statistics throw is left out and counted as the engine collector", async () => {
  const m = new MetricsCollector();
  const bad = pipeline(1, "bad");
  const ok = pipeline(1, "ok");
  m.track(bad);
  m.track(ok);
  bad.stats = () => {
    throw new Error("corrupt");
  };
  const e = await scrape(m);
  assert.equal(e.samples.filter((s) => s.labels.flow === "bad").length, 0);
  assert.ok(samplesOf(e, N("processStarts"), { flow: "ok" }).length > 0);
  assert.equal(
    valueOf(e, N("metricsCollectionErrors"), { collector: "engine" }),
    1,
  );
});

test("a user's prom-client counter is exported in OpenMetrics with one _total", async () => {
  const m = new MetricsCollector();
  new Counter({
    name: "app_jobs_total",
    help: "Jobs.",
    registers: [m.registry],
  }).inc();
  const text = await m.render("openmetrics");
  assert.match(text, /^# TYPE app_jobs counter$/m);
  assert.match(text, /^app_jobs_total 1$/m);
  // prom-client's own registry.metrics() renames the metric in OpenMetrics
  // mode; the collector must leave it as registered for the next scrape.
  assert.match(await m.render("text"), /^# TYPE app_jobs_total counter$/m);
});

test("OpenMetrics names counter families without _total and ends with # EOF", async () => {
  const m = new MetricsCollector();
  const net = pipeline(5);
  m.track(net);
  await net.start();
  await net.finished;
  const text = await m.render("openmetrics");
  assert.ok(text.endsWith("\n# EOF\n"));
  assert.equal(text.includes("\n\n"), false, "no blank lines in OpenMetrics");
  const e = parseExposition(text);
  assert.equal(e.types.get("weir_process_messages"), "counter");
  assert.equal(e.types.has("weir_process_messages_total"), false);
  assert.equal(
    valueOf(e, "weir_process_messages_total", {
      process: "K",
      direction: "in",
    }),
    5,
  );
  assert.equal(e.types.get("weir_process_queue_depth"), "gauge");
});

test("the collector writes exactly what prom-client's formatter writes", async () => {
  const m = new MetricsCollector({
    constLabels: { instance: 'a "quoted"\\one' },
  });
  const net = everything();
  m.track(net);
  m.wrapProcess(() => 1, { flow: "outside", process: "fn" })();
  await net.start();
  await net.finished;
  m.recordFlowOperation("start", "error");
  // prom-client formats weir's families through their get() here.
  const reference = await m.registry.metrics();
  const ours = await m.render("text");
  // The self metrics come last in ours; compare family by family.
  const families = (t: string) => t.trim().split("\n\n").sort();
  assert.deepEqual(families(ours), families(reference));
});

test("a wrapped function outside a network is timed and its errors counted", async () => {
  const m = new MetricsCollector();
  const parse = m.wrapProcess(
    (text: string) => JSON.parse(text) as unknown,
    { flow: "ingest", process: "parse" },
  );
  const slow = m.wrapProcess(
    async (ms: number) => {
      await sleep(ms);
      if (ms > 20) throw new Error("too slow");
      return ms;
    },
    { flow: "ingest", process: "slow" },
  );
  assert.deepEqual(parse('{"a":1}'), { a: 1 });
  assert.throws(() => parse("{"), SyntaxError);
  assert.equal(await slow(5), 5);
  await assert.rejects(slow(30), /too slow/);
  const e = await scrape(m);
  const proc = N("processProcessing");
  assert.equal(valueOf(e, `${proc}_count`, { process: "parse" }), 2);
  assert.equal(valueOf(e, `${proc}_count`, { process: "slow" }), 2);
  assert.ok(valueOf(e, `${proc}_sum`, { process: "slow" })! >= 0.03);
  const errors = N("processErrors");
  assert.equal(valueOf(e, errors, { process: "parse", kind: "exception" }), 1);
  assert.equal(valueOf(e, errors, { process: "slow", kind: "exception" }), 1);
});

test("a wrapped process run by the engine is not counted twice", async () => {
  const m = new MetricsCollector();
  const seen: number[] = [];
  const fn = m.wrapProcess((v: unknown) => {
    if ((v as number) % 10 === 0) throw new Error("tens fail");
    seen.push(v as number);
  }, { flow: "test", process: "W" });
  const Wrapped = defineComponent({
    name: "test/Wrapped",
    description: "Runs a wrapped function.",
    inPorts: { in: {} },
    process: fn,
  });
  const net = network(
    { S: sourceOf(Array.from({ length: 100 }, (_, i) => i)), W: Wrapped },
    ["S.out>W.in"],
  );
  net.on("error", () => {});
  m.track(net);
  await net.start();
  await net.finished;
  // One call outside the network, under the same labels.
  fn(1);
  const e = await scrape(m);
  assert.equal(seen.length, 91);
  assert.equal(
    valueOf(e, N("processErrors"), { process: "W", kind: "exception" }),
    10,
  );
  assert.equal(
    valueOf(e, N("processMessages"), { process: "W", direction: "in" }),
    100,
  );
  // Every engine activation is timed at most once, plus the outside call.
  const timed =
    net.stats().processes.find((p) => p.name === "W")!.processing.count;
  assert.equal(
    valueOf(e, `${N("processProcessing")}_count`, { process: "W" }),
    timed + 1,
  );
  assert.equal(
    samplesOf(e, `${N("processProcessing")}_count`, { process: "W" }).length,
    1,
  );
});

test("flow operations are counted by operation and result, from zero", async () => {
  const m = new MetricsCollector();
  const ops = N("flowOperations");
  const before = await scrape(m);
  assert.equal(samplesOf(before, ops).length, 10);
  assert.equal(
    valueOf(before, ops, { operation: "update", result: "error" }),
    0,
  );
  m.recordFlowOperation("update", "error");
  m.recordFlowOperation("update", "error");
  m.recordFlowOperation("create", "success");
  const e = await scrape(m);
  assert.equal(valueOf(e, ops, { operation: "update", result: "error" }), 2);
  assert.equal(valueOf(e, ops, { operation: "create", result: "success" }), 1);
  assert.throws(
    () => m.recordFlowOperation("explode", "success"),
    /operation must be one of create, update, delete, start, stop/,
  );
});

test("metadata lists every metric with type, help, unit and labels", () => {
  const m = new MetricsCollector();
  new Gauge({
    name: "app_temp_celsius",
    help: "Temperature.",
    labelNames: ["room"],
    registers: [m.registry],
  });
  const meta = m.metadata();
  for (const def of ENGINE_METRICS) {
    assert.deepEqual(meta[fullName(def, "weir")], [{
      type: def.type,
      help: def.help,
      unit: def.unit,
      labels: def.labels.map((l) => l.name),
    }]);
  }
  assert.deepEqual(meta.app_temp_celsius, [{
    type: "gauge",
    help: "Temperature.",
    unit: "",
    labels: ["room"],
  }]);
});

test("concurrent scrapes each get a whole exposition", async () => {
  const m = new MetricsCollector();
  const net = pipeline(50);
  m.track(net);
  await net.start();
  await net.finished;
  const [a, b, c] = await Promise.all([
    m.render("text"),
    m.render("openmetrics"),
    m.render("text"),
  ]);
  assert.equal(a, c);
  assert.ok(b.endsWith("# EOF\n"));
  assert.equal(
    valueOf(parseExposition(b), "weir_process_messages_total", {
      process: "K",
      direction: "in",
    }),
    50,
  );
});

test("labels set on the registry must not clash with catalogue labels either", () => {
  const m = new MetricsCollector();
  assert.throws(
    () => m.registry.setDefaultLabels({ process: "x" }),
    /label name "process" clashes with the "process" label/,
  );
  m.registry.setDefaultLabels({ site: "north" });
  assert.deepEqual(m.options.constLabels, { site: "north" });
});

test("a big scrape lets the event loop run while it writes", {
  // Building 5,000 processes takes seconds on a loaded machine, past
  // bun test's default of 5 s.
  timeout: 60_000,
}, async () => {
  // 5,000 processes: about 130,000 lines, far more than one 16 ms slice.
  let g = `'1s' -> interval P0(core/Interval)\n`;
  for (let i = 1; i < 5000; i++) {
    g += `P${i - 1} out -> in P${i}(core/Repeat)\n`;
  }
  const m = new MetricsCollector();
  m.track(createNetwork(g, { name: "big" }));
  let ticked = false;
  setTimeout(() => (ticked = true), 0);
  let ranDuring = false;
  const done = m.render("text").then((text) => {
    ranDuring = ticked;
    return text;
  });
  const text = await done;
  assert.equal(
    ranDuring,
    true,
    "a timer due at once ran before the scrape ended",
  );
  assert.ok(text.endsWith("\n"));
  assert.equal(
    valueOf(parseExposition(text), N("processStarts"), { process: "P4999" }),
    0,
  );
});
