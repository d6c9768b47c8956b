/**
 * A real client of the Prometheus HTTP API, Prometheus's own `promtool
 * query instant|range|series|labels`, against weir's query API served on a
 * loopback port: promtool sends POST forms for queries and GETs with
 * float-second times for series and labels, and must read weir's answers
 * (fixed ones to check the wire, then weir's PromQL evaluator's).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { serve } from "../../src/runtime/serve.ts";
import {
  type QueryEngine,
  queryRoutes,
} from "../../src/server/query_routes.ts";
import { integrationSkip, requireTool } from "../_prometheus.ts";
import { MemoryHistory } from "./_memory_history.ts";

const run = promisify(execFile);

async function promtool(...args: string[]): Promise<string> {
  const { stdout } = await run(requireTool("promtool"), ["query", ...args]);
  return stdout;
}

function history(now: number): MemoryHistory {
  const h = new MemoryHistory();
  const recent: [number, number][] = [[now - 5000, 1], [now - 1000, 2]];
  h.add({ __name__: "weir_up", job: "weir", instance: "a" }, recent);
  h.add({ __name__: "weir_up", job: "weir", instance: "b" }, recent);
  h.add({ __name__: "weir_flows_active", job: "weir" }, recent);
  return h;
}

/** Answers every query with fixed values: this test is about the wire. */
const engine: QueryEngine = {
  queryInstant: (_r, query, t) => ({
    resultType: "vector",
    result: [{ metric: { __name__: "weir_up", query }, value: [t, 0.1] }],
  }),
  queryRange: (_r, _q, start, end, step) => ({
    resultType: "matrix",
    result: [{
      metric: { job: "weir" },
      values: [[start, 1.5], [start + step, NaN], [end, 1e21]],
    }],
  }),
};

test("promtool query series, labels, instant and range read weir's answers", {
  skip: integrationSkip("promtool"),
  timeout: 60_000,
}, async () => {
  const server = await serve(
    queryRoutes(history(Date.now()), { engine }).fetch,
    { port: 0 },
  );
  try {
    const url = server.url;
    assert.equal(
      await promtool(
        "series",
        url,
        "--match=weir_up",
        "--match=weir_flows_active",
      ),
      [
        '{__name__="weir_flows_active", job="weir"}',
        '{__name__="weir_up", instance="a", job="weir"}',
        '{__name__="weir_up", instance="b", job="weir"}',
        "",
      ].join("\n"),
    );
    assert.equal(await promtool("labels", url, "instance"), "a\nb\n");
    assert.equal(
      await promtool("labels", url, "__name__"),
      "weir_flows_active\nweir_up\n",
    );

    const instant = JSON.parse(
      await promtool(
        "instant",
        "-o",
        "json",
        url,
        'sum(weir_up{job="weir"})',
        "--time=1700000000.5",
      ),
    );
    assert.deepEqual(instant, [{
      metric: { __name__: "weir_up", query: 'sum(weir_up{job="weir"})' },
      value: [1700000000.5, "0.1"],
    }]);

    const range = JSON.parse(
      await promtool(
        "range",
        "-o",
        "json",
        url,
        "weir_up",
        "--start=2023-11-14T22:13:20Z",
        "--end=1700000060",
        "--step=15s",
      ),
    );
    assert.deepEqual(range, [{
      metric: { job: "weir" },
      values: [[1700000000, "1.5"], [1700000015, "NaN"], [
        1700000060,
        "1000000000000000000000",
      ]],
    }]);
  } finally {
    await server.close();
  }
});

test("promtool reports weir's bad_data error for a bad selector", {
  skip: integrationSkip("promtool"),
  timeout: 60_000,
}, async () => {
  const server = await serve(
    queryRoutes(history(Date.now()), { engine }).fetch,
    {
      port: 0,
    },
  );
  try {
    await assert.rejects(
      promtool("series", server.url, '--match={job=~".*"}'),
      (e: Error & { stderr?: string }) => {
        assert.match(
          e.stderr ?? "",
          /bad_data: invalid parameter "match\[\]".*at least one non-empty matcher/,
        );
        return true;
      },
    );
  } finally {
    await server.close();
  }
});

test("promtool query instant and range get weir's PromQL answers", {
  skip: integrationSkip("promtool"),
  timeout: 60_000,
}, async () => {
  // Two counters that grow by 10 and 20 a second, sampled every second for
  // ten minutes: rate() over a whole number of seconds is exactly 10 and 20.
  const end = Math.floor(Date.now() / 1000) * 1000 - 5000;
  const h = new MemoryHistory();
  for (const [process, perSecond] of [["Read", 10], ["Write", 20]] as const) {
    const samples: [number, number][] = [];
    for (let s = 600; s >= 0; s--) {
      samples.push([end - s * 1000, (600 - s) * perSecond]);
    }
    h.add(
      { __name__: "weir_process_messages_total", flow: "f", process },
      samples,
      "counter",
    );
  }
  const server = await serve(queryRoutes(h).fetch, { port: 0 });
  try {
    const query = "sum by (process) (rate(weir_process_messages_total[1m]))";
    const instant = JSON.parse(
      await promtool(
        "instant",
        "-o",
        "json",
        server.url,
        query,
        `--time=${end / 1000}`,
      ),
    );
    assert.deepEqual(instant, [
      { metric: { process: "Read" }, value: [end / 1000, "10"] },
      { metric: { process: "Write" }, value: [end / 1000, "20"] },
    ]);
    const range = JSON.parse(
      await promtool(
        "range",
        "-o",
        "json",
        server.url,
        'weir_process_messages_total{process="Write"} / 20',
        `--start=${new Date(end - 30_000).toISOString()}`,
        `--end=${end / 1000}`,
        "--step=15s",
      ),
    );
    assert.deepEqual(range, [{
      metric: { flow: "f", process: "Write" },
      values: [
        [(end - 30_000) / 1000, "570"],
        [(end - 15_000) / 1000, "585"],
        [end / 1000, "600"],
      ],
    }]);
    await assert.rejects(
      promtool(
        "instant",
        server.url,
        "sum(rate(weir_process_messages_total[1m])",
      ),
      (e: Error & { stderr?: string }) => {
        assert.match(e.stderr ?? "", /bad_data/);
        return true;
      },
    );
  } finally {
    await server.close();
  }
});
