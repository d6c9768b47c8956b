/**
 * The edge job of issue 16, as a new user writes it, on a real `weir
 * serve`, a real mosquitto and a real HTTP server: sensor readings arrive
 * over MQTT, the hot ones go out as alerts over MQTT, and a summary of
 * every 5 readings is posted over HTTP. Before the connectors this only
 * worked as `mosquitto_sub | weir run | mosquitto_pub`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import { testClient, until } from "../components/_mqtt_helpers.ts";
import { startServeInTemp } from "./_weir.ts";

const README_GRAPH = (() => {
  const readme = readFileSync(
    new URL("../../README.md", import.meta.url),
    "utf8",
  );
  const m = /```fbp\n(# @name edge-job\n[\s\S]*?)```/.exec(readme);
  assert.ok(m, "README has the edge-job graph");
  return m[1];
})();

test(
  "weir serve runs the edge job: MQTT in, hot readings out as MQTT alerts, a summary posted over HTTP",
  { skip: mosquittoSkip(), timeout: 120_000 },
  async () => {
    await using broker = await startMosquitto();
    // The summary's receiver: a plain HTTP server keeping what is posted.
    const posted: { method: string; type: string; body: unknown }[] = [];
    const receiver = createServer((req, res) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (chunk) => text += chunk);
      req.on("end", () => {
        posted.push({
          method: req.method ?? "",
          type: String(req.headers["content-type"]),
          body: JSON.parse(text),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const port = (receiver.address() as AddressInfo).port;
    const weir = await startServeInTemp("weir-edge-job-", ["--no-history"]);
    const alerts = await testClient(broker.url, {
      topics: ["alerts/#"],
      qos: 1,
    });
    const sensors = await testClient(broker.url);
    try {
      // The README's own example, pointed at this test's broker and server.
      const graph = README_GRAPH.replaceAll(
        "mqtt://127.0.0.1:1883",
        broker.url,
      ).replace("http://127.0.0.1:8080/", `http://127.0.0.1:${port}/`);
      assert.notEqual(graph, README_GRAPH);
      const created = await fetch(`${weir.url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: graph,
      });
      assert.equal(created.status, 201, await created.text());
      // The flow is subscribed once a probe reading comes through.
      await until(async () => {
        await sensors.client.publishAsync(
          "sensors/probe/temp",
          JSON.stringify({ celsius: 99 }),
          { qos: 1 },
        );
        return alerts.received.length > 0;
      }, "the flow's subscription");
      // Probes published before the subscription are lost: count what came.
      await new Promise((r) => setTimeout(r, 300));
      const probes = alerts.received.length;
      const readings = [21, 35, 19, 31.5, 28, 40, 22, 18, 33, 25];
      for (const [i, celsius] of readings.entries()) {
        await sensors.client.publishAsync(
          `sensors/s${i % 3}/temp`,
          JSON.stringify({ celsius }),
          { qos: 1 },
        );
      }
      const hot = readings.filter((c) => c > 30);
      await until(
        () => alerts.received.length === probes + hot.length,
        "an alert per hot reading",
      );
      assert.deepEqual(
        alerts.received.slice(probes).map((m) => [
          m.topic,
          JSON.parse(m.payload).celsius,
        ]),
        hot.map((c) => ["alerts/hot", c]),
      );
      // Every 5 readings the flow took (probes included) make one summary.
      const total = probes + readings.length;
      await until(
        () => posted.length === Math.floor(total / 5),
        `${Math.floor(total / 5)} summaries (${total} readings)`,
      );
      for (const p of posted) {
        assert.equal(p.method, "POST");
        assert.match(p.type, /^application\/json/);
        assert.equal((p.body as { count: number }).count, 5);
      }
      const sums = posted.map((p) => (p.body as { sum: number }).sum);
      const all = [...Array(probes).fill(99), ...readings];
      const expected = Array.from(
        { length: posted.length },
        (_, w) => all.slice(w * 5, w * 5 + 5).reduce((a, b) => a + b, 0),
      );
      assert.deepEqual(sums, expected);
      // Its metrics: the connectors' meters, per process, never a topic.
      const metrics = await (await fetch(`${weir.url}/metrics`)).text();
      assert.match(
        metrics,
        /weir_mqtt_connected\{flow="edge-job",process="In"\} 1/,
      );
      assert.match(
        metrics,
        /weir_http_client_requests_total\{flow="edge-job",process="Post",result="ok"\} [1-9]/,
      );
      assert.doesNotMatch(metrics, /sensors\//);
    } finally {
      await alerts.end();
      await sensors.end();
      weir.close();
      await new Promise((r) => receiver.close(r));
    }
  },
);
