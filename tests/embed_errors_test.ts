/**
 * What an embedding app gets when it hands weir's root API a wrong
 * argument: an error at the call, whose sentence names the argument and
 * what it must be, the same on Deno and Bun, rather than a TypeError from
 * deep inside (`this.#registry.get is not a function`) or a 500 at the
 * first request.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import {
  builtins,
  type ComponentSpec,
  createNetwork,
  defineComponent,
  flowApp,
  FlowManager,
  FlowStore,
  GraphBuilder,
  httpMetricsFetch,
  loadGraph,
  metricsApp,
  MetricsCollector,
  parseFbp,
  parseGraphJson,
  Registry,
  resourceSource,
  ResourceTracker,
  serve,
} from "../mod.ts";

const TICKS = "'1ms' -> interval T(core/Interval)\n1 -> count T\n" +
  "T out -> in D(core/Drop)";

/** Passes a value the types refuse, as a JavaScript caller can. */
function _untyped<T>(value: unknown): T {
  return value as T;
}

test("createNetwork() refuses a registry that is not a Registry, saying what it must be", () => {
  assert.throws(
    () => createNetwork(TICKS, { registry: _untyped({}) }),
    {
      name: "TypeError",
      message:
        "Cannot build network: the registry must be a Registry (builtins() or new Registry()), received object",
    },
  );
});

test("Network.on() refuses an unknown event, naming the events a network emits", () => {
  const net = createNetwork(TICKS);
  assert.throws(() => net.on(_untyped<"error">("eror"), () => {}), {
    name: "TypeError",
    message:
      'Cannot listen to network event string "eror": a network emits error, state, deadlock, stall',
  });
  assert.throws(() => net.on("error", _untyped(undefined)), {
    name: "TypeError",
    message:
      'Cannot listen to network event "error": the listener must be a function, received undefined',
  });
});

test("Registry.register() refuses a spec not passed to defineComponent, naming it", () => {
  const spec = {
    name: "my/Raw",
    description: "A spec, not a component.",
    inPorts: { in: {} },
    process() {},
  };
  assert.throws(() => builtins().register(_untyped(spec)), {
    name: "TypeError",
    message:
      'Cannot register component "my/Raw": expected a component made with defineComponent(), received object',
  });
  assert.throws(() => new Registry().register(_untyped(undefined)), {
    name: "TypeError",
    message:
      "Cannot register component: expected a component made with defineComponent(), received undefined",
  });
  // The component itself registers.
  const made = defineComponent(spec);
  assert.equal(builtins().register(made).get("my/Raw"), made);
});

test("flowApp() refuses a missing flows, metrics or components option, naming it", async () => {
  const metrics = new MetricsCollector();
  const components = builtins();
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: components,
    collector: metrics,
  });
  try {
    assert.throws(() => flowApp(_untyped({ metrics, components })), {
      name: "TypeError",
      message:
        "Cannot create the flow app: options.flows must be a FlowManager, received undefined",
    });
    assert.throws(() => flowApp(_untyped({ flows, components })), {
      name: "TypeError",
      message:
        "Cannot create the flow app: options.metrics must be a MetricsCollector, received undefined",
    });
    assert.throws(
      () => flowApp(_untyped({ flows, metrics, components: [] })),
      {
        name: "TypeError",
        message:
          "Cannot create the flow app: options.components must be a Registry (builtins()), received object",
      },
    );
    assert.throws(() => flowApp(_untyped(undefined)), /options\.flows/);
    const app = flowApp({ flows, metrics, components });
    assert.equal((await app.request("/healthz")).status, 200);
  } finally {
    await flows.close();
  }
});

test("metricsApp() refuses a source that cannot render, instead of a 500 at the first scrape", async () => {
  assert.throws(() => metricsApp(_untyped(undefined)), {
    name: "TypeError",
    message:
      "Cannot create the metrics app: the source must be a MetricsCollector (or have render() and metadata()), received undefined",
  });
  const res = await metricsApp(new MetricsCollector()).request("/metrics");
  assert.equal(res.status, 200);
});

test("the root API refuses an option it does not know (a misspelt one would be ignored), naming the closest", async () => {
  const refuses = (call: () => unknown, message: string) =>
    assert.throws(call, { name: "TypeError", message });
  refuses(
    () => createNetwork(TICKS, _untyped({ bytesbudget: 1000 })),
    'Cannot create network: unknown option "bytesbudget"; did you mean "bytesBudget"? (the options are timingSampleEvery, buckets, deadlockDelayMs, bytesBudget, registry, name, file)',
  );
  refuses(
    () => builtins(_untyped({ file: { allow: ["in/"] } })),
    'Cannot build the built-in components: unknown option "file"; did you mean "files"? (the options are files, output, exec, httpIn, httpHosts, secrets, expressionBudget)',
  );
  refuses(
    () => new MetricsCollector(_untyped({ nameSpace: "edge" })),
    'Invalid metrics options: unknown option "nameSpace"; did you mean "namespace"? (the options are namespace, buckets, maxSeriesPerMetric, collectTimeoutMs, constLabels)',
  );
  await assert.rejects(
    serve(() => new Response("ok"), _untyped({ prot: 0 })),
    /^TypeError: Cannot serve: unknown option "prot"; did you mean "port"\?/,
  );
  const store = FlowStore.open(":memory:");
  const flows = new FlowManager({ store, registry: builtins() });
  try {
    assert.throws(
      () =>
        new FlowManager(
          _untyped({ store, registry: builtins(), drainTimeout: 5 }),
        ),
      /^TypeError: Cannot create flow manager: unknown option "drainTimeout"; did you mean "drainTimeoutMs"\?/,
    );
    const metrics = new MetricsCollector();
    assert.throws(
      () =>
        flowApp(
          _untyped({ flows, metrics, components: builtins(), maxBodyByte: 1 }),
        ),
      /^TypeError: Cannot build the flow app: unknown option "maxBodyByte"; did you mean "maxBodyBytes"\?/,
    );
    assert.throws(
      () => metricsApp(metrics, _untyped({ maxScrapes: 2 })),
      /^TypeError: Cannot build the metrics app: unknown option "maxScrapes" \(the options are maxConcurrentScrapes\)/,
    );
  } finally {
    await flows.close();
  }
});

test("History.open() refuses an option it does not know (intervalMS would sample every second), naming the closest", async () => {
  const { History } = await import("../src/history/mod.ts");
  await assert.rejects(
    History.open(_untyped({ intervalMS: 100 })),
    /^TypeError: Cannot open history: unknown option "intervalMS"; did you mean "intervalMs"\?/,
  );
  const history = await History.open({ intervalMs: 100, exclude: ["x"] });
  assert.equal(history.intervalMs, 100);
  await history.close();
});

test("defineComponent() refuses a key it does not read, in the spec or a port, naming the closest (a misspelt teardown or control was ignored)", () => {
  const base = { name: "app/Keep", description: "x", process() {} };
  assert.throws(
    () =>
      defineComponent(
        _untyped<ComponentSpec>({
          ...base,
          inPorts: { in: {} },
          teardwon() {},
        }),
      ),
    {
      name: "TypeError",
      message:
        'Cannot define component "app/Keep": unknown option "teardwon"; did you mean "teardown"? (the options are name, description, inPorts, outPorts, concurrency, meters, setup, process, flush, onControl, run, teardown, checkSettings, checkProcesses)',
    },
  );
  // The process had no in-port at all, and no graph could feed it.
  assert.throws(
    () =>
      defineComponent(
        _untyped<ComponentSpec>({ ...base, inports: { in: {} } }),
      ),
    /^TypeError: Cannot define component "app\/Keep": unknown option "inports"; did you mean "inPorts"\?/,
  );
  // A control port that was a data port, silently.
  assert.throws(
    () =>
      defineComponent(
        _untyped<ComponentSpec>({
          ...base,
          inPorts: { in: {}, size: { contrl: true } },
        }),
      ),
    /^TypeError: Cannot define component "app\/Keep": in-port "size": unknown option "contrl"; did you mean "control"\?/,
  );
  assert.throws(
    () =>
      defineComponent(
        _untyped<ComponentSpec>({
          ...base,
          inPorts: { in: {} },
          outPorts: { out: { default: 1 } },
        }),
      ),
    /^TypeError: Cannot define component "app\/Keep": out-port "out": unknown option "default" \(the options are type, description, addressable, indexes\)/,
  );
});

test("a setup that throws fails start() naming the process and its component (the reason alone did not say which of many)", async () => {
  const Open = defineComponent({
    name: "app/Open",
    description: "Opens its device at setup.",
    inPorts: { in: {} },
    setup(): undefined {
      throw new Error("device busy");
    },
    process() {},
  });
  const net = createNetwork("1 -> in A(core/Drop)\n2 -> in B(app/Open)", {
    registry: builtins().register(Open),
  });
  await assert.rejects(net.start(), {
    message:
      'Cannot start network "main": process "B" (app/Open), setup: device busy',
  });
  assert.equal(net.state, "stopped");
});

test("the rest of the root API refuses an option it does not know too (each misspelling was ignored), naming the closest", async () => {
  const refuses = (call: () => unknown, message: RegExp) =>
    assert.throws(
      call,
      (e) => e instanceof TypeError && message.test(e.message),
    );
  refuses(
    () =>
      new ResourceTracker(
        _untyped({ source: resourceSource(), intervalMS: 10 }),
      ),
    /^Cannot create resource tracker: unknown option "intervalMS"; did you mean "intervalMs"\?/,
  );
  refuses(
    () =>
      httpMetricsFetch(
        new Hono(),
        new MetricsCollector(),
        _untyped({ bucket: [1] }),
      ),
    /^Cannot measure HTTP: unknown option "bucket"; did you mean "buckets"\?/,
  );
  refuses(
    () => new GraphBuilder("g", _untyped({ defaultCapcity: 5 })),
    /^Cannot create graph: unknown option "defaultCapcity"; did you mean "defaultCapacity"\?/,
  );
  refuses(
    () =>
      new GraphBuilder("g").connect(
        "A",
        "out",
        "B",
        "in",
        _untyped({ capcity: 5 }),
      ),
    /^Cannot connect "A" out -> in "B": unknown option "capcity"; did you mean "capacity"\?/,
  );
  refuses(
    () => new GraphBuilder("g").initial(1, "A", "in", _untyped({ idx: 0 })),
    /^Cannot add an IIP for in "A": unknown option "idx"/,
  );
  refuses(
    () => parseFbp("A(core/Drop)", _untyped({ fiel: "a.fbp" })),
    /^Cannot parse \.fbp text: unknown option "fiel"; did you mean "file"\?/,
  );
  refuses(
    () => parseGraphJson("{}", _untyped({ fiel: "a.json" })),
    /^Cannot parse graph JSON: unknown option "fiel"; did you mean "file"\?/,
  );
  refuses(
    () => loadGraph("A(core/Drop)", _untyped({ fromat: "fbp" })),
    /^Cannot load graph: unknown option "fromat"; did you mean "format"\?/,
  );
  refuses(
    () => FlowStore.open(":memory:", _untyped({ busyTimeout: 10 })),
    /^Cannot open flow database: unknown option "busyTimeout"; did you mean "busyTimeoutMs"\?/,
  );
  const { queryRoutes } = await import("../src/server/mod.ts");
  const { History } = await import("../src/history/mod.ts");
  const history = await History.open();
  try {
    refuses(
      () => queryRoutes(history, _untyped({ maxSample: 10 })),
      /^Cannot build the query routes: unknown option "maxSample"; did you mean "maxSamples"\?/,
    );
  } finally {
    await history.close();
  }
});
