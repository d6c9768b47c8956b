import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import process from "node:process";
import {
  builtins,
  connectionMetrics,
  createNetwork,
  defineComponent,
  GraphBuilder,
  GraphError,
  httpMetricsFetch,
  metricsApp,
  MetricsCollector,
  serve,
} from "../mod.ts";

test("createNetwork() runs the README's embedding example", async () => {
  const seen: unknown[] = [];
  const registry = builtins().register(defineComponent({
    name: "my/Print",
    description: "Keeps each reading.",
    inPorts: { in: { type: "number" } },
    process(value) {
      seen.push(value);
    },
  }));
  const net = createNetwork(
    `
  '10ms' -> interval Tick(core/Interval)
  5 -> count Tick
  '$ * 2' -> expr Double(flow/Map)
  Tick out -> (50) in Double out -> in Print(my/Print)
`,
    { registry },
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.deepEqual(seen, [0, 2, 4, 6, 8]);
  const double = net.stats().processes.find((p) => p.name === "Double")!;
  assert.equal(double.messagesIn.in, 5);
  assert.equal(double.messagesIn.expr, 1);
  assert.equal(double.messagesOut.out, 5);
});

test("createNetwork() takes a GraphBuilder graph with a function IIP", async () => {
  const seen: unknown[] = [];
  const registry = builtins().register(defineComponent({
    name: "my/Keep",
    description: "Keeps values.",
    inPorts: { in: {} },
    process(v) {
      seen.push(v);
    },
  }));
  const graph = new GraphBuilder("double")
    .process("Tick", "core/Interval")
    .process("Double", "flow/Map")
    .process("Keep", "my/Keep")
    .initial("5ms", "Tick", "interval")
    .initial(3, "Tick", "count")
    .initial((n: number) => n * 2, "Double", "fn")
    .connect("Tick", "out", "Double", "in")
    .connect("Double", "out", "Keep", "in", { capacity: 50 })
    .build();
  const net = createNetwork(graph, { registry });
  await net.start();
  await net.finished;
  assert.deepEqual(seen, [0, 2, 4]);
  assert.equal(net.name, "double");
});

test("createNetwork() reports every problem of a bad graph at once", () => {
  try {
    createNetwork(
      `'1x' -> interval Tick(core/Interval)
Tick out -> in Log(core/Ouptut)
Tick out -> (0) in Drop(core/Drop)
`,
      { file: "bad.fbp" },
    );
    assert.fail("expected a GraphError");
  } catch (e) {
    assert.ok(e instanceof GraphError);
    assert.equal(e.problems.length, 3);
    assert.match(e.message, /bad\.fbp:1:\d+: .*expected a duration/);
    assert.match(e.message, /bad\.fbp:2:\d+: .*did you mean "core\/Output"/);
    assert.match(e.message, /bad\.fbp:3:\d+: .*capacity/);
  }
});

test("a bad graph leaves a running network as it was", async () => {
  const got: unknown[] = [];
  const registry = builtins().register(defineComponent({
    name: "my/Keep",
    description: "Keeps values.",
    inPorts: { in: {} },
    process(v) {
      got.push(v);
    },
  }));
  const running = createNetwork(
    "'2ms' -> interval Tick(core/Interval)\n20 -> count Tick\nTick out -> in Keep(my/Keep)",
    { registry },
  );
  await running.start();
  assert.throws(
    () => createNetwork("Tick out -> in Keep(my/Nope)", { registry }),
    GraphError,
  );
  assert.throws(() => createNetwork("{ not json", { registry }), GraphError);
  assert.equal(await running.finished, "finished");
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
});

test("the README's metrics example serves a tracked flow on /metrics", async () => {
  const metrics = new MetricsCollector({ constLabels: { instance: "gw-7" } });
  const net = createNetwork(
    `
  '10ms' -> interval Tick(core/Interval)
  3 -> count Tick
  Tick out -> in Drop(core/Drop)
`,
    { name: "ticks" },
  );
  metrics.track(net);
  await net.start();
  await net.finished;
  const app = new Hono().route("/", metricsApp(metrics));
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.match(
    await res.text(),
    /^weir_process_messages_total\{flow="ticks",process="Drop",port="in",direction="in",instance="gw-7"\} 3$/m,
  );
  assert.equal((await app.request("/api/v1/metadata")).status, 200);
});

test("the README's HTTP metrics example measures a served app and its connections", async () => {
  const metrics = new MetricsCollector();
  const app = new Hono();
  app.get("/items/:id", (c) => c.text(c.req.param("id")));
  const server = await serve(httpMetricsFetch(app, metrics));
  const remove = connectionMetrics(metrics, server.connections);
  try {
    for (const id of ["a", "b"]) {
      assert.equal(await (await fetch(`${server.url}/items/${id}`)).text(), id);
    }
    const text = await metrics.render();
    assert.match(
      text,
      /^http_requests_total\{method="GET",route="\/items\/:id",status="200"\} 2$/m,
    );
    if (process.platform === "linux") {
      assert.match(text, /^http_open_connections \d+$/m);
    }
  } finally {
    remove();
    await server.close();
  }
});
