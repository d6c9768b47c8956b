import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphBuilder } from "../../src/graph/mod.ts";

test("GraphBuilder builds an fbp-graph with weir settings in metadata", () => {
  const graph = new GraphBuilder("demo", { defaultCapacity: 20 })
    .process("Tick", "core/Interval")
    .process("Log", "core/Output", { timeoutMs: 500, x: 10 })
    .initial("1s", "Tick", "interval")
    .connect("Tick", "out", "Log", "in", {
      capacity: 50,
      policy: "drop-newest",
    })
    .inport("START", "Tick", "interval")
    .outport("OUT", "Log", "out", { metadata: { x: 1 } })
    .group("Timing", ["Tick"])
    .property("description", "A demo.")
    .build();
  assert.deepEqual(graph, {
    caseSensitive: true,
    properties: { name: "demo", defaultCapacity: 20, description: "A demo." },
    inports: { START: { process: "Tick", port: "interval" } },
    outports: { OUT: { process: "Log", port: "out", metadata: { x: 1 } } },
    groups: [{ name: "Timing", nodes: ["Tick"] }],
    processes: {
      Tick: { component: "core/Interval" },
      Log: { component: "core/Output", metadata: { timeoutMs: 500, x: 10 } },
    },
    connections: [
      { data: "1s", tgt: { process: "Tick", port: "interval" } },
      {
        src: { process: "Tick", port: "out" },
        tgt: { process: "Log", port: "in" },
        metadata: { capacity: 50, policy: "drop-newest" },
      },
    ],
  });
});

test("GraphBuilder keeps any JavaScript value as IIP data, by reference", () => {
  const fn = (x: number) => x + 1;
  const graph = new GraphBuilder().process("M", "flow/Map").initial(
    fn,
    "M",
    "fn",
  )
    .build();
  assert.equal(graph.connections?.[0].data, fn);
});

test("GraphBuilder.build() returns a fresh graph each time", () => {
  const builder = new GraphBuilder().process("A", "core/Repeat", {
    concurrency: 1,
  });
  const first = builder.build();
  first.processes!.A.metadata!.concurrency = 9;
  builder.process("B", "core/Repeat");
  assert.deepEqual(builder.build().processes?.A.metadata, { concurrency: 1 });
  assert.equal(first.processes?.B, undefined);
});

test("GraphBuilder.process() throws for a name already taken", () => {
  const builder = new GraphBuilder().process("A", "core/Repeat");
  assert.throws(() => builder.process("A", "core/Output"), {
    name: "Error",
    message:
      'Cannot add process "A": the graph already has a process of that name',
  });
});

test("GraphBuilder.connect() throws for a capacity that is not a positive integer", () => {
  assert.throws(
    () => new GraphBuilder().connect("A", "out", "B", "in", { capacity: 0 }),
    {
      name: "RangeError",
      message:
        'Cannot connect "A" out -> in "B": capacity must be a positive integer, received number 0',
    },
  );
});

test("GraphBuilder.connect() throws for an unknown policy", () => {
  assert.throws(
    () =>
      new GraphBuilder().connect("A", "out", "B", "in", {
        policy: "drop" as "block",
      }),
    { name: "RangeError", message: /policy must be one of block, drop-oldest/ },
  );
});

test("GraphBuilder methods throw a TypeError for an empty name", () => {
  assert.throws(() => new GraphBuilder().process("", "core/Repeat"), TypeError);
  assert.throws(() => new GraphBuilder().initial(1, "A", ""), TypeError);
  assert.throws(() => new GraphBuilder().inport("IN", "", "in"), TypeError);
});

test("GraphBuilder rejects a negative port index", () => {
  assert.throws(
    () => new GraphBuilder().connect("A", "out", "B", "in", { tgtIndex: -1 }),
    RangeError,
  );
});

test("GraphBuilder keeps __proto__ keys of metadata and properties as keys", () => {
  const before = Object.getOwnPropertyNames(Object.prototype);
  const key = JSON.parse('{"__proto__": {"polluted": true}}');
  const graph = new GraphBuilder("x", { properties: key })
    .process("A", "core/Repeat", key)
    .connect("A", "out", "A", "in", { metadata: key })
    .property("__proto__", 1)
    .build();
  assert.equal(Object.hasOwn(graph.processes!.A.metadata!, "__proto__"), true);
  assert.equal(
    Object.hasOwn(graph.connections![0].metadata!, "__proto__"),
    true,
  );
  assert.equal(graph.properties!.__proto__, 1);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype), before);
});

test("GraphBuilder keeps a process named __proto__", () => {
  const graph = new GraphBuilder().process("__proto__", "core/Repeat").build();
  assert.ok(Object.hasOwn(graph.processes!, "__proto__"));
  assert.deepEqual(Object.keys(graph.processes!), ["__proto__"]);
});

test("GraphBuilder.build() gives each graph its own nested metadata", () => {
  const builder = new GraphBuilder("x").process("A", "core/Repeat", {
    retry: { attempts: 2, backoffMs: 1 },
  });
  const first = builder.build();
  (first.processes!.A.metadata!.retry as { attempts: number }).attempts = 9;
  assert.deepEqual(builder.build().processes!.A.metadata, {
    retry: { attempts: 2, backoffMs: 1 },
  });
});
