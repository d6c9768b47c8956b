import assert from "node:assert/strict";
import { test } from "node:test";
import { MetricsCollector } from "../../src/metrics/collector.ts";

const bad: [string, Record<string, unknown>, RegExp][] = [
  [
    "a namespace starting with a digit",
    { namespace: "9lives" },
    /Invalid metrics option "namespace": "9lives" must start with a letter or an underscore/,
  ],
  [
    "a namespace with a dash",
    { namespace: "my-app" },
    /option "namespace": "my-app"/,
  ],
  ["an empty namespace", { namespace: "" }, /option "namespace": ""/],
  ["a namespace with a colon", { namespace: "a:b" }, /option "namespace"/],
  [
    "a reserved namespace",
    { namespace: "__x" },
    /"__x" starts with "__", which Prometheus reserves/,
  ],
  [
    "an empty bucket list",
    { buckets: [] },
    /Invalid metrics option "buckets": buckets must be a non-empty array/,
  ],
  [
    "descending buckets",
    { buckets: [1, 0.5] },
    /option "buckets": .*bucket 1 \(0\.5\) is not above bucket 0 \(1\)/,
  ],
  [
    "a bucket that is not a number",
    { buckets: [0.1, "1"] },
    /option "buckets": bucket 1 must be a finite number, received 1/,
  ],
  [
    "an infinite bucket",
    { buckets: [0.1, Infinity] },
    /option "buckets": bucket 1 must be a finite number/,
  ],
  [
    "a zero bucket",
    { buckets: [0, 1] },
    /option "buckets": .*every bound must be above 0, received 0/,
  ],
  [
    "a label clashing with a catalogue label",
    { constLabels: { flow: "x" } },
    /Invalid metrics option "constLabels": label name "flow" clashes with the "flow" label of the process_messages_total metric/,
  ],
  [
    "a label named le",
    { constLabels: { le: "x" } },
    /option "constLabels": label name "le" clashes with the "le" label that Prometheus histograms/,
  ],
  [
    "an invalid label name",
    { constLabels: { "bad-name": "x" } },
    /option "constLabels": label name "bad-name" must start with a letter/,
  ],
  [
    "a reserved label name",
    { constLabels: { __name__: "x" } },
    /option "constLabels": label name "__name__"/,
  ],
  [
    "a label value that is not a string",
    { constLabels: { instance: 7 } },
    /option "constLabels": the value of label "instance" must be a string, received number/,
  ],
  [
    "a zero series cap",
    { maxSeriesPerMetric: 0 },
    /Invalid metrics option "maxSeriesPerMetric": must be a positive integer, received 0/,
  ],
  [
    "a fractional series cap",
    { maxSeriesPerMetric: 1.5 },
    /option "maxSeriesPerMetric": .*received 1\.5/,
  ],
  [
    "a zero collect timeout",
    { collectTimeoutMs: 0 },
    /Invalid metrics option "collectTimeoutMs": must be a positive number of milliseconds up to 2147483647 \(what a timer can wait\), received 0/,
  ],
  [
    "a collect timeout that is not a number",
    { collectTimeoutMs: "5s" },
    /option "collectTimeoutMs": .*received 5s/,
  ],
];

for (const [what, options, message] of bad) {
  test(`MetricsCollector refuses ${what}, naming the option`, () => {
    assert.throws(() => new MetricsCollector(options), message);
  });
}

test("MetricsCollector fills in the documented defaults", () => {
  const m = new MetricsCollector();
  assert.equal(m.options.namespace, "weir");
  assert.equal(m.options.maxSeriesPerMetric, 10_000);
  assert.deepEqual(m.options.constLabels, {});
  assert.equal(m.options.collectTimeoutMs, 5000);
  assert.equal(m.options.buckets[0], 0.00001);
  assert.equal(m.options.buckets.at(-1), 10);
});

test("a collectTimeoutMs beyond what setTimeout can wait is refused, not clamped to 1 ms", () => {
  // The runtimes clamp a delay over 2^31-1 ms to 1 ms, which would time out
  // every collect of a user who meant "effectively never".
  assert.throws(
    () => new MetricsCollector({ collectTimeoutMs: 2 ** 31 }),
    /option "collectTimeoutMs": .*up to 2147483647 .*received 2147483648/,
  );
  const m = new MetricsCollector({ collectTimeoutMs: 2 ** 31 - 1 });
  assert.equal(m.options.collectTimeoutMs, 2 ** 31 - 1);
});
