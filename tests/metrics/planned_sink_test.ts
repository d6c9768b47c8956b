import assert from "node:assert/strict";
import { test } from "node:test";
import { createNetwork } from "../../src/embed.ts";
import {
  MetricsCollector,
  type SeriesSink,
} from "../../src/metrics/collector.ts";
import { labelText } from "../../src/metrics/text_writer.ts";

/** Every sample a sink is handed, as `name{labels} value` lines, sorted. */
function lines(
  collector: MetricsCollector,
  bulk: boolean,
): Promise<{ lines: string[]; calls: number }> {
  const out: string[] = [];
  let family = "";
  const add = (
    suffix: string,
    labels: Record<string, string>,
    value: number,
    le?: string,
  ) =>
    out.push(
      `${family}${suffix}{${
        labelText(le === undefined ? labels : { ...labels, le })
      }} ${value}`,
    );
  let calls = 0;
  const sink: SeriesSink = {
    family: (name) => {
      family = name;
    },
    add: (suffix, labels, _text, value, le) => add(suffix, labels, value, le),
  };
  if (bulk) {
    sink.addPlanned = (list, width, le, read, values, n) => {
      calls++;
      for (let k = 0; k < n; k++) {
        const { labels } = list[read[k]];
        for (let j = 0; j < width; j++) {
          const v = values[k * width + j];
          if (le === undefined) add("", labels, v);
          else if (j < le.length) add("_bucket", labels, v, le[j]);
          else add(j === le.length ? "_sum" : "_count", labels, v);
        }
      }
    };
  }
  return collector.sample(sink).then(() => ({ lines: out.sort(), calls }));
}

test("MetricsCollector.sample() hands a sink with addPlanned() the planned families' series as numbers, the same samples add() gets one by one", async () => {
  const collector = new MetricsCollector();
  const net = createNetwork(
    `
    '1ms' -> interval Tick(core/Interval)
    7 -> count Tick
    Tick out -> in Sink(core/Drop)
  `,
    { name: "ticks", buckets: collector.options.buckets },
  );
  collector.track(net);
  await net.start();
  await net.finished;
  const one = await lines(collector, false);
  const bulk = await lines(collector, true);
  assert.equal(one.calls, 0);
  assert.ok(bulk.calls > 5, `addPlanned called ${bulk.calls} times`);
  assert.ok(
    one.lines.some((l) =>
      l.startsWith("weir_process_message_latency_seconds_bucket")
    ),
  );
  assert.ok(one.lines.length > 50, `${one.lines.length} samples`);
  assert.deepEqual(bulk.lines, one.lines);
});
