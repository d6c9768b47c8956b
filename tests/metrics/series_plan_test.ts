/**
 * The series plan: the series cap at its edges, for flows and wrapped
 * functions, and the series a flow is given.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defineComponent } from "../../src/engine/component.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import {
  gated,
  network,
  sinkInto,
  sourceOf,
  until,
} from "../engine/_helpers.ts";
import { parseExposition, samplesOf, valueOf } from "./_exposition.ts";
import { N, ODD_FLOW, ODD_SOURCE, oddFlow, sinks } from "./_fixtures.ts";

test("a flow that needs exactly maxSeriesPerMetric series is admitted whole", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 5 });
  m.track(sinks(5));
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processStarts")).length, 5);
  assert.equal(
    valueOf(e, N("metricsSeriesRefused"), { metric: N("processStarts") }),
    0,
  );
});

test("one series past maxSeriesPerMetric is refused and counted once", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 5 });
  m.track(sinks(6));
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processStarts")).length, 5);
  assert.equal(
    valueOf(e, N("metricsSeriesRefused"), { metric: N("processStarts") }),
    1,
  );
});

test("tracking and untracking flows 1,000 times gives every place under the cap back", async () => {
  // sinks(3) needs 9 series of process_errors_total (3 kinds), its largest
  // family: exactly the cap.
  const m = new MetricsCollector({ maxSeriesPerMetric: 9 });
  for (let i = 0; i < 1000; i++) {
    const net = sinks(3, `churn-${i % 3}`);
    m.track(net);
    assert.equal(m.untrack(i % 2 === 0 ? net : net.name), true);
  }
  m.track(sinks(3, "last"));
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processErrors")).length, 9);
  assert.deepEqual(m.flows, ["last"]);
  for (const s of samplesOf(e, N("metricsSeriesRefused"))) {
    assert.equal(s.value, 0, s.labels.metric);
  }
});

test("untracking a network that is not the tracked one of its name changes nothing", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 5 });
  const a = sinks(5, "same");
  m.track(a);
  assert.equal(m.untrack(sinks(5, "same")), false);
  assert.equal(m.untrack("other"), false);
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, N("processStarts"), { flow: "same" }).length, 5);
});

test("wrapped functions count against the series cap and are refused past it", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 2 });
  for (let i = 0; i < 3; i++) {
    m.wrapProcess(() => i, { flow: "w", process: `f${i}` })();
  }
  const e = parseExposition(await m.render("text"));
  const count = `${N("processProcessing")}_count`;
  assert.equal(samplesOf(e, count).length, 2);
  assert.equal(
    valueOf(e, N("metricsSeriesRefused"), { metric: N("processProcessing") }),
    1,
  );
});

test("a wrapped function whose tracked process was refused by the cap still exports its calls", async () => {
  const m = new MetricsCollector({ maxSeriesPerMetric: 1 });
  m.track(sinks(1, "first"));
  // The cap is full: the second flow's process series are refused.
  m.track(sinks(1, "second"));
  // Admitted under the cap (its own place), but it defers to the refused
  // series of the tracked process of the same labels.
  m.untrack("first");
  const fn = m.wrapProcess(() => 1, { flow: "second", process: "P0" });
  fn();
  fn();
  const e = parseExposition(await m.render("text"));
  assert.equal(
    valueOf(e, `${N("processProcessing")}_count`, {
      flow: "second",
      process: "P0",
    }),
    2,
  );
});

/** The label sets of weir's series, sorted, without values. */
function seriesOf(text: string): string[] {
  return parseExposition(text).samples
    .filter((s) => s.name.startsWith("weir_") && s.labels.flow !== undefined)
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();
}

test("a flow tracked before start has the same series as one tracked after it finished", async () => {
  const before = new MetricsCollector();
  const net = network(
    { S: sourceOf([1, 2, 3]), K: sinkInto([]) },
    ["S.out>K.in"],
  );
  before.track(net);
  await net.start();
  await net.finished;
  const after = new MetricsCollector();
  after.track(net);
  assert.deepEqual(
    seriesOf(await before.render("text")),
    seriesOf(await after.render("text")),
  );
});

test("drops into a process through an in-port whose name has a dot are exported under that process", async () => {
  const m = new MetricsCollector();
  const got: unknown[] = [];
  const { component: Gated, open } = gated(got);
  const Dotted = defineComponent({
    name: "test/DottedGate",
    description: "A gated sink whose in-port is named in.a.",
    inPorts: { "in.a": {} },
    process: Gated.process,
  });
  const Burst = defineComponent({
    name: "test/Burst",
    description: "Sends 0..9 in one activation.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(_v, ctx) {
      for (let i = 0; i < 10; i++) ctx.send("out", i);
    },
  });
  const net = network(
    { B: Burst, G: Dotted },
    [{
      from: { process: "B", port: "out" },
      to: { process: "G", port: "in.a" },
      capacity: 3,
      policy: "drop-oldest",
    }],
    {
      initials: [
        { data: "first", to: { process: "G", port: "in.a" } },
        { data: "go", to: { process: "B", port: "in" } },
      ],
    },
  );
  m.track(net);
  await net.start();
  await until(() => net.stats().drops.drop_oldest > 0);
  open();
  await net.finished;
  const engine = net.stats().processes.find((p) => p.name === "G")!;
  assert.ok(engine.drops.drop_oldest > 0);
  const e = parseExposition(await m.render("text"));
  assert.equal(
    valueOf(e, N("messagesDropped"), { process: "G", reason: "drop_oldest" }),
    engine.drops.drop_oldest,
  );
});

test("a sampling pass reads the flows tracked at its start: one tracked or untracked since the last pass is read or left out", async () => {
  const m = new MetricsCollector();
  const flowsRead = async () => {
    const seen = new Set<string>();
    await m.sample({
      family() {},
      add() {},
      addPlanned(list, _width, _le, read, _values, n) {
        for (let k = 0; k < n; k++) seen.add(list[read[k]].labels.flow);
      },
    });
    return [...seen].sort();
  };
  const a = sinks(2, "a");
  m.track(a);
  m.track(sinks(2, "b"));
  assert.deepEqual(await flowsRead(), ["a", "b"]);
  assert.deepEqual(await flowsRead(), ["a", "b"]);
  m.untrack(a);
  assert.deepEqual(await flowsRead(), ["b"]);
  m.track(sinks(2, "c"));
  assert.deepEqual(await flowsRead(), ["b", "c"]);
});

/** The text lines of the flow series of weir's families, in order. */
function flowLines(text: string): string[] {
  return text.split("\n").filter((l) =>
    l.startsWith("weir_") && l.includes("{flow=")
  );
}

test("a flow's series render the same text whether a sampling pass or a render came first, tracked before or after a render", async () => {
  const odd = await oddFlow();
  const plain = sinks(2, "plain");
  // The reference: one render of both flows tracked at once.
  const fresh = new MetricsCollector();
  fresh.track(odd);
  fresh.track(plain);
  const want = flowLines(await fresh.render("text"));
  assert.ok(want.length > 40);
  assert.ok(want.some((l) => l.includes('flow="fl\\"ow\\\\ with\\nnewline')));

  // Sampled (label texts not needed) before its first render.
  const sampled = new MetricsCollector();
  sampled.track(odd);
  sampled.track(plain);
  const flows = new Set<string>();
  const processes = new Set<string>();
  await sampled.sample({
    family() {},
    add() {},
    addPlanned(list, _width, _le, read, _values, n) {
      for (let k = 0; k < n; k++) {
        flows.add(list[read[k]].labels.flow);
        if (list[read[k]].labels.process !== undefined) {
          processes.add(list[read[k]].labels.process);
        }
      }
    },
  });
  assert.deepEqual([...flows].sort(), ["plain", ODD_FLOW].sort());
  assert.ok(processes.has(ODD_SOURCE));
  assert.deepEqual(flowLines(await sampled.render("text")), want);
  assert.deepEqual(flowLines(await sampled.render("text")), want);

  // One flow tracked after a render, then the other untracked.
  const later = new MetricsCollector();
  later.track(odd);
  const first = flowLines(await later.render("text"));
  later.track(plain);
  assert.deepEqual(flowLines(await later.render("text")), want);
  later.untrack(plain);
  assert.deepEqual(flowLines(await later.render("text")), first);
  assert.ok(first.every((l) => !l.includes('flow="plain"')));
});
