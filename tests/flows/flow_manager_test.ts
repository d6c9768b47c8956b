import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtins } from "../../src/components/mod.ts";
import { type Component, defineComponent } from "../../src/engine/component.ts";
import type { Registry } from "../../src/engine/registry.ts";
import { GraphError } from "../../src/graph/graph_error.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import {
  FlowConflictError,
  FlowNotFoundError,
  FlowStartError,
} from "../../src/flows/errors.ts";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { gated, sourceOf, until } from "../engine/_helpers.ts";

const SLOW = { timeout: 30_000 };
/** Generous: the machine is shared, and nothing here is a timing claim. */
const WAIT = 15_000;

/** A sink named `name` that keeps what it gets in `into`. */
function collect(name: string, into: unknown[]): Component {
  return defineComponent({
    name,
    description: "Keeps what it gets.",
    inPorts: { in: {} },
    process(v) {
      into.push(v);
    },
  });
}

/** Builds, but its setup fails: the network cannot start. */
const FailStart = defineComponent({
  name: "test/FailStart",
  description: "Cannot start.",
  inPorts: { in: {} },
  setup() {
    throw new Error("no device at /dev/ttyUSB0");
  },
  process() {},
});

/** Fails every message. */
const Throw = defineComponent({
  name: "test/Throw",
  description: "Fails every message.",
  inPorts: { in: {} },
  process(v) {
    throw new Error(`cannot handle ${v}`);
  },
});

const ticking = (sink = "test/Sink") =>
  `'5ms' -> interval Tick(core/Interval) out -> in Sink(${sink})`;
const NO_START = "'1' -> in Bad(test/FailStart)";

interface Harness {
  flows: FlowManager;
  store: FlowStore;
  collector: MetricsCollector;
  logs: string[];
  got: unknown[];
  got2: unknown[];
}

function registryOf(got: unknown[], got2: unknown[]): Registry {
  return builtins()
    .register(collect("test/Sink", got))
    .register(collect("test/Sink2", got2))
    .register(FailStart)
    .register(Throw);
}

async function harness(
  options: { path?: string; registry?: Registry; drainTimeoutMs?: number } = {},
): Promise<Harness> {
  const got: unknown[] = [];
  const got2: unknown[] = [];
  const store = FlowStore.open(options.path ?? ":memory:");
  const collector = new MetricsCollector();
  const logs: string[] = [];
  const flows = new FlowManager({
    store,
    registry: options.registry ?? registryOf(got, got2),
    collector,
    drainTimeoutMs: options.drainTimeoutMs ?? 5000,
    log: (line) => logs.push(line),
  });
  await flows.restore();
  return { flows, store, collector, logs, got, got2 };
}

/** What a failed operation must leave as it was. */
function snapshot(h: Harness) {
  return {
    flows: h.flows.list(),
    stored: h.store.list(),
    tracked: h.collector.flows.sort(),
    readiness: h.flows.readiness(),
  };
}

/** Resolves once `into` has grown by `n` from now: the flow still runs. */
function grows(into: unknown[], n = 3): Promise<void> {
  const from = into.length;
  return until(() => into.length >= from + n, WAIT);
}

/** The count of ticks the flow's current network has sent. */
function ticks(h: Harness, id: string): number {
  const tick = h.flows.stats(id).processes.find((p) => p.name === "Tick");
  return tick?.messagesOut.out ?? -1;
}

async function operations(
  collector: MetricsCollector,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const re =
    /^weir_flow_operations_total\{operation="(\w+)",result="(\w+)"\} (\d+)$/gm;
  for (const m of (await collector.render()).matchAll(re)) {
    if (m[3] !== "0") out[`${m[1]} ${m[2]}`] = Number(m[3]);
  }
  return out;
}

async function rejects<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
  check: (e: T) => void = () => {},
): Promise<T> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof type,
    `expected a ${type.name}, received ${caught}`,
  );
  check(caught);
  return caught;
}

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "weir-flows-"));
  return {
    dir,
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test(
  "FlowManager.create() builds, starts, stores and tracks a flow named by its id",
  SLOW,
  async () => {
    const h = await harness();
    const info = await h.flows.create({
      id: "ticks",
      text: ticking(),
      format: "fbp",
    });
    assert.equal(info.id, "ticks");
    assert.equal(info.rev, 1);
    assert.equal(info.running, true);
    assert.equal(info.state, "running");
    assert.equal(info.format, "fbp");
    assert.equal(info.processes, 2);
    assert.equal(info.error, undefined);
    assert.equal(new Date(info.createdAt).toISOString(), info.createdAt);
    await grows(h.got);
    const stored = h.store.get("ticks")!;
    assert.equal(stored.text, ticking());
    assert.equal(stored.running, true);
    assert.deepEqual(h.collector.flows, ["ticks"]);
    assert.equal(h.flows.stats("ticks").name, "ticks");
    assert.deepEqual(h.flows.list().map((f) => f.id), ["ticks"]);
    assert.equal(h.flows.get("ticks").rev, 1);
    const source = h.flows.source("ticks");
    assert.equal(source.text, ticking());
    assert.equal(source.graph.processes?.Sink.component, "test/Sink");
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    await h.flows.close();
  },
);

test(
  "FlowManager.create() takes the id from input.id, else properties.name, else makes one",
  SLOW,
  async () => {
    const h = await harness();
    const named = await h.flows.create({
      text: `# @name sensors\n${ticking()}`,
      format: "fbp",
      start: false,
    });
    assert.equal(named.id, "sensors");
    const given = await h.flows.create({
      id: "given.id_1-x",
      text: `# @name sensors\n${ticking()}`,
      format: "fbp",
      start: false,
    });
    assert.equal(given.id, "given.id_1-x");
    const made = await h.flows.create({
      text: ticking(),
      format: "fbp",
      start: false,
    });
    assert.match(made.id, /^flow-[0-9a-f]{8}$/);
    const before = snapshot(h);
    for (const id of ["", "-lead", "has space", "a/b", "x".repeat(129)]) {
      await rejects(
        h.flows.create({ id, text: ticking(), format: "fbp" }),
        RangeError,
        (e) => assert.match(e.message, /Cannot create flow: an id is 1 to 128/),
      );
    }
    await rejects(
      h.flows.create({
        text: `# @name has space\n${ticking()}`,
        format: "fbp",
      }),
      RangeError,
      (e) => assert.match(e.message, /properties\.name.*; give an id/),
    );
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);

test(
  "FlowManager.create() failures leave the flows and the database unchanged",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "taken", text: ticking(), format: "fbp" });
    await h.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    const before = snapshot(h);
    await rejects(
      h.flows.create({ id: "new", text: "A(no/Such)", format: "fbp" }),
      GraphError,
      (e) =>
        assert.match(e.problems[0].message, /unknown component "no\/Such"/),
    );
    await rejects(
      h.flows.create({ id: "new", text: "{ not json", format: "json" }),
      GraphError,
    );
    await rejects(
      h.flows.create({ id: "taken", text: ticking(), format: "fbp" }),
      FlowConflictError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.equal(e.actualRev, 1);
        assert.match(
          e.message,
          /Cannot create flow "taken": a flow with that id exists/,
        );
      },
    );
    await rejects(
      h.flows.create({ id: "new", text: NO_START, format: "fbp" }),
      FlowStartError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.equal(e.name, "FlowStartError");
        assert.match(e.message, /did not start: .*no device at \/dev\/ttyUSB0/);
        assert.ok(e.cause instanceof Error);
      },
    );
    await rejects(
      h.flows.create({
        id: "new",
        text: ticking(),
        format: "yaml" as "json",
      }),
      RangeError,
      (e) =>
        assert.match(
          e.message,
          /format must be "json" or "fbp", received "yaml"/,
        ),
    );
    await rejects(
      h.flows.create({
        id: "new",
        text: 42 as unknown as string,
        format: "fbp",
      }),
      TypeError,
    );
    await rejects(
      h.flows.create({
        id: "new",
        text: ticking(),
        format: "fbp",
        start: "yes" as unknown as boolean,
      }),
      TypeError,
    );
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.deepEqual(await operations(h.collector), {
      "create success": 2,
      "create error": 7,
    });
    await h.flows.close();
  },
);

test(
  "FlowManager.create({ start: false }) stores a flow that does not run until start()",
  SLOW,
  async () => {
    const h = await harness();
    const info = await h.flows.create({
      id: "later",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    assert.equal(info.state, "created");
    assert.equal(info.running, false);
    assert.equal(h.store.get("later")?.running, false);
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    const started = await h.flows.start("later");
    assert.equal(started.state, "running");
    assert.equal(started.running, true);
    assert.equal(started.rev, 2);
    assert.equal(h.store.get("later")?.running, true);
    await grows(h.got);
    // Starting a running flow changes nothing.
    assert.equal((await h.flows.start("later")).rev, 2);
    await h.flows.close();
  },
);

test(
  "FlowManager.replace() drains the old graph and runs the new one at the next rev",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    const events: FlowEvent[] = [];
    h.flows.subscribe("f", (e) => events.push(e));
    await grows(h.got);
    const info = await h.flows.replace("f", {
      text: ticking("test/Sink2"),
      format: "fbp",
    }, { rev: 1 });
    assert.equal(info.rev, 2);
    assert.equal(info.state, "running");
    const afterReplace = h.got.length;
    await grows(h.got2);
    // The old network is gone: nothing more reaches its sink.
    assert.equal(h.got.length, afterReplace);
    assert.equal(h.store.get("f")?.text, ticking("test/Sink2"));
    assert.equal(h.store.get("f")?.rev, 2);
    assert.deepEqual(h.collector.flows, ["f"]);
    assert.ok(events.some((e) => e.type === "replaced" && e.rev === 2));
    // The old network was drained, not cut: it finished.
    assert.ok(
      events.some((e) => e.type === "state" && e.state === "finished"),
      JSON.stringify(events),
    );
    await h.flows.close();
  },
);

test(
  "FlowManager.replace() with an invalid graph keeps the old flow running, untouched",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    const sent = ticks(h, "f");
    await rejects(
      h.flows.replace("f", {
        text: "A(no/Such) out -> in B(core/Drop)",
        format: "fbp",
      }),
      GraphError,
    );
    await rejects(
      h.flows.replace(
        "f",
        { text: 7 } as unknown as { text: string; format: "fbp" },
      ),
      TypeError,
    );
    // The same network still runs: its counters went on from where they were.
    assert.ok(ticks(h, "f") >= sent);
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.deepEqual(await operations(h.collector), {
      "create success": 1,
      "update error": 2,
    });
    await h.flows.close();
  },
);

test(
  "FlowManager.replace() with a graph that fails to start runs the old graph again and stores nothing",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    await rejects(
      h.flows.replace("f", { text: NO_START, format: "fbp" }),
      FlowStartError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.match(
          e.message,
          /Cannot replace flow "f": the new graph built but did not start: .*no device at \/dev\/ttyUSB0; the previous graph is kept/,
        );
      },
    );
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.equal(h.flows.get("f").state, "running");
    await h.flows.close();
  },
);

test(
  "FlowManager.replace() with a stale rev is a 409 before anything is touched",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await h.flows.replace("f", { text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    const sent = ticks(h, "f");
    await rejects(
      h.flows.replace("f", { text: ticking("test/Sink2"), format: "fbp" }, {
        rev: 1,
      }),
      FlowConflictError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.equal(e.expectedRev, 1);
        assert.equal(e.actualRev, 2);
        assert.match(e.message, /rev 1 is stale, the stored rev is 2/);
      },
    );
    assert.ok(ticks(h, "f") >= sent);
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.equal(h.got2.length, 0);
    await h.flows.close();
  },
);

test(
  "FlowManager serializes concurrent replace() calls on one flow",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    const [first, second] = await Promise.allSettled([
      h.flows.replace("f", { text: ticking("test/Sink2"), format: "fbp" }, {
        rev: 1,
      }),
      h.flows.replace("f", { text: ticking(), format: "fbp" }, { rev: 1 }),
    ]);
    assert.equal(first.status, "fulfilled");
    assert.equal(first.value.rev, 2);
    assert.equal(second.status, "rejected");
    assert.ok(second.reason instanceof FlowConflictError);
    assert.equal(second.reason.actualRev, 2);
    // Without a rev, each applies in call order.
    const texts = ["a", "b", "c"].map((x) =>
      `# ${x}\n'5ms' -> interval Tick(core/Interval) out -> in Sink(test/Sink)`
    );
    const infos = await Promise.all(
      texts.map((text) => h.flows.replace("f", { text, format: "fbp" })),
    );
    assert.deepEqual(infos.map((i) => i.rev), [3, 4, 5]);
    // Two creates of one id: the second finds the first's flow.
    const creates = await Promise.allSettled([
      h.flows.create({ id: "g", text: ticking(), format: "fbp" }),
      h.flows.create({ id: "g", text: ticking("test/Sink2"), format: "fbp" }),
    ]);
    assert.equal(creates[0].status, "fulfilled");
    assert.equal(creates[1].status, "rejected");
    assert.ok(creates[1].reason instanceof FlowConflictError);
    assert.equal(h.store.get("g")?.text, ticking());
    await h.flows.delete("g");
    assert.equal(h.store.get("f")?.text, texts[2]);
    assert.equal(h.flows.get("f").state, "running");
    assert.deepEqual(h.collector.flows, ["f"]);
    await grows(h.got);
    await h.flows.close();
  },
);

test(
  "FlowManager.patch() merges an RFC 7386 patch into the JSON form and stores JSON",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    const info = await h.flows.patch("f", {
      properties: { defaultCapacity: 5 },
      processes: { Extra: { component: "core/Drop" } },
    }, { rev: 1 });
    assert.equal(info.rev, 2);
    assert.equal(info.format, "json");
    assert.equal(info.processes, 3);
    const stored = JSON.parse(h.store.get("f")!.text);
    assert.equal(stored.properties.defaultCapacity, 5);
    assert.equal(stored.processes.Extra.component, "core/Drop");
    assert.equal(stored.processes.Tick.component, "core/Interval");
    const removed = await h.flows.patch("f", { processes: { Extra: null } });
    assert.equal(removed.processes, 2);
    assert.equal(h.flows.source("f").graph.processes?.Extra, undefined);
    // A member named __proto__ is a member, not a prototype.
    await h.flows.patch(
      "f",
      JSON.parse('{"properties": {"__proto__": {"polluted": true}}}'),
    );
    const props = h.flows.source("f").graph.properties!;
    assert.ok(Object.hasOwn(props, "__proto__"));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    await grows(h.got);
    await h.flows.close();
  },
);

test(
  "FlowManager.patch() failures leave the flows and the database unchanged",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await grows(h.got);
    const before = snapshot(h);
    for (const bad of [null, [1], "text", 3]) {
      await rejects(
        h.flows.patch("f", bad),
        TypeError,
        (e) =>
          assert.match(
            e.message,
            /Cannot patch flow "f": a JSON merge patch of a graph must be an object/,
          ),
      );
    }
    await rejects(
      h.flows.patch("f", { processes: { Sink: { component: "no/Such" } } }),
      GraphError,
    );
    await rejects(
      h.flows.patch("f", { processes: { Sink: null } }),
      GraphError,
    );
    await rejects(
      h.flows.patch("f", {
        processes: { Sink: { component: "test/FailStart" } },
      }),
      FlowStartError,
    );
    await rejects(
      h.flows.patch("f", { properties: { x: 1 } }, { rev: 9 }),
      FlowConflictError,
    );
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);

test(
  "FlowManager.stop() drains: a message taken before the stop reaches the sink",
  SLOW,
  async () => {
    const sink = gated();
    const registry = builtins()
      .register(sourceOf([1, 2, 3, 4, 5]))
      .register(sink.component);
    const h = await harness({ registry });
    await h.flows.create({
      id: "f",
      text: "Src(test/Source) out -> in Sink(test/Gated)",
      format: "fbp",
    });
    // All five are taken from the source; the sink holds the first.
    await until(
      () =>
        h.flows.stats("f").processes.find((p) => p.name === "Src")!.messagesOut
          .out === 5,
      WAIT,
    );
    const stopping = h.flows.stop("f");
    await until(() => h.flows.get("f").state === "draining", WAIT);
    sink.open();
    const info = await stopping;
    assert.equal(info.drained, true);
    assert.equal(info.discarded, 0);
    assert.deepEqual(sink.got, [1, 2, 3, 4, 5]);
    assert.equal(info.running, false);
    assert.equal(info.rev, 2);
    assert.equal(info.state, "finished");
    assert.equal(h.store.get("f")?.running, false);
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    // Stopping a stopped flow changes nothing.
    assert.equal((await h.flows.stop("f")).rev, 2);
    await h.flows.close();
  },
);

test(
  "FlowManager.stop() past its timeout discards the backlog and says how much",
  SLOW,
  async () => {
    const sink = gated();
    const registry = builtins()
      .register(sourceOf([1, 2, 3, 4, 5]))
      .register(sink.component);
    const h = await harness({ registry });
    await h.flows.create({
      id: "f",
      text: "Src(test/Source) out -> in Sink(test/Gated)",
      format: "fbp",
    });
    await until(
      () =>
        h.flows.stats("f").processes.find((p) => p.name === "Src")!.messagesOut
          .out === 5,
      WAIT,
    );
    const info = await h.flows.stop("f", { timeoutMs: 20 });
    assert.equal(info.drained, false);
    assert.equal(info.discarded, 4);
    assert.equal(info.state, "stopped");
    sink.open();
    await rejects(h.flows.stop("f", { timeoutMs: -1 }), RangeError);
    await h.flows.close();
  },
);

test(
  "FlowManager.start() builds a fresh network for a stopped flow; a start failure changes nothing",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await h.flows.stop("f");
    const stopped = h.got.length;
    const info = await h.flows.start("f");
    assert.equal(info.state, "running");
    assert.equal(info.rev, 3);
    await until(() => h.got.length > stopped + 2, WAIT);
    assert.deepEqual(h.collector.flows, ["f"]);

    await h.flows.create({
      id: "bad",
      text: NO_START,
      format: "fbp",
      start: false,
    });
    const before = snapshot(h);
    await rejects(
      h.flows.start("bad"),
      FlowStartError,
      (e) => assert.match(e.message, /Cannot start flow "bad": .*no device/),
    );
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);

test(
  "FlowManager.delete() drains the flow, stops tracking it and deletes its row",
  SLOW,
  async () => {
    const sink = gated();
    const registry = builtins()
      .register(sourceOf([1, 2, 3]))
      .register(sink.component);
    const h = await harness({ registry });
    await h.flows.create({
      id: "f",
      text: "Src(test/Source) out -> in Sink(test/Gated)",
      format: "fbp",
    });
    const events: FlowEvent[] = [];
    h.flows.subscribe("f", (e) => events.push(e));
    await until(
      () =>
        h.flows.stats("f").processes.find((p) => p.name === "Src")!.messagesOut
          .out === 3,
      WAIT,
    );
    await rejects(h.flows.delete("f", { rev: 2 }), FlowConflictError);
    assert.equal(h.flows.get("f").state, "running");
    const deleting = h.flows.delete("f", { rev: 1 });
    await until(() => events.some((e) => e.type === "state"), WAIT);
    sink.open();
    await deleting;
    assert.deepEqual(sink.got, [1, 2, 3]);
    assert.deepEqual(h.flows.list(), []);
    assert.equal(h.store.get("f"), undefined);
    assert.deepEqual(h.collector.flows, []);
    assert.deepEqual(events.at(-1), { type: "deleted" });
    assert.throws(() => h.flows.get("f"), FlowNotFoundError);
    await h.flows.close();
  },
);

test(
  "FlowManager: an unknown id is a FlowNotFoundError everywhere",
  SLOW,
  async () => {
    const h = await harness();
    const check = (e: FlowNotFoundError) => {
      assert.equal("status" in e, false, "no HTTP status in the domain");
      assert.equal(e.id, "nope");
      assert.match(e.message, /flow "nope": it does not exist/);
    };
    for (
      const fn of [
        () => h.flows.get("nope"),
        () => h.flows.source("nope"),
        () => h.flows.stats("nope"),
        () => h.flows.subscribe("nope", () => {}),
      ]
    ) {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof FlowNotFoundError);
        check(e);
        return true;
      });
    }
    const input = { text: ticking(), format: "fbp" } as const;
    await rejects(h.flows.replace("nope", input), FlowNotFoundError, check);
    await rejects(h.flows.patch("nope", {}), FlowNotFoundError, check);
    await rejects(h.flows.delete("nope"), FlowNotFoundError, check);
    await rejects(h.flows.start("nope"), FlowNotFoundError, check);
    await rejects(h.flows.stop("nope"), FlowNotFoundError, check);
    assert.deepEqual(h.store.list(), []);
    await h.flows.close();
  },
);

test(
  "FlowManager forwards a flow's process errors and state changes to subscribers and the log",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({
      id: "errs",
      text: "'5ms' -> interval Tick(core/Interval) out -> in X(test/Throw)",
      format: "fbp",
    });
    const events: FlowEvent[] = [];
    const off = h.flows.subscribe("errs", (e) => events.push(e));
    h.flows.subscribe("errs", () => {
      throw new Error("a broken subscriber");
    });
    await until(() => events.some((e) => e.type === "error"), WAIT);
    const error = events.find((e) => e.type === "error")!;
    assert.equal(error.type === "error" && error.process, "X");
    assert.match(
      error.type === "error" ? error.message : "",
      /cannot handle \d+/,
    );
    assert.ok(h.logs.some((l) => /flow "errs": .*cannot handle/.test(l)));
    assert.ok(
      h.logs.some((l) => /a subscriber threw: a broken subscriber/.test(l)),
    );
    await h.flows.stop("errs");
    assert.deepEqual(
      events.filter((e) => e.type === "state").map((e) =>
        e.type === "state" && e.state
      ),
      ["draining", "finished"],
    );
    off();
    const seen = events.length;
    await h.flows.start("errs");
    assert.equal(events.length, seen);
    await h.flows.close();
  },
);

test(
  "FlowManager.restore() after reopening a file: running flows run again, stopped ones stay stopped, bad ones fail with a reason",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const first = await harness({
      path,
      registry: registryOf([], []).register(collect("test/Gone", [])),
    });
    await first.flows.create({ id: "runs", text: ticking(), format: "fbp" });
    await first.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    await first.flows.create({ id: "paused", text: ticking(), format: "fbp" });
    await first.flows.stop("paused");
    await first.flows.create({
      id: "gone",
      text: ticking("test/Gone"),
      format: "fbp",
    });
    // A row written by an earlier weir whose graph no longer starts.
    first.store.create({
      id: "broken",
      text: NO_START,
      format: "fbp",
      running: true,
    });
    const stored = first.store.list();
    await first.flows.close();

    // The second run has no test/Gone component.
    const second = await harness({ path });
    assert.deepEqual(second.store.list(), stored);
    const byId = Object.fromEntries(second.flows.list().map((f) => [f.id, f]));
    assert.deepEqual(Object.keys(byId), [
      "broken",
      "gone",
      "idle",
      "paused",
      "runs",
    ]);
    assert.equal(byId.runs.state, "running");
    assert.equal(byId.idle.state, "created");
    assert.equal(byId.idle.running, false);
    assert.equal(byId.paused.running, false);
    assert.notEqual(byId.paused.state, "running");
    assert.equal(byId.gone.state, "failed");
    assert.match(byId.gone.error!, /unknown component "test\/Gone"/);
    assert.equal(byId.broken.state, "failed");
    assert.match(byId.broken.error!, /did not start: .*no device/);
    await grows(second.got);
    assert.deepEqual(second.collector.flows.sort(), ["idle", "paused", "runs"]);

    const readiness = second.flows.readiness();
    assert.equal(readiness.ready, false);
    assert.equal(readiness.reasons.length, 2);
    assert.match(
      readiness.reasons[0],
      /^Flow "broken" should run but does not: .*no device/,
    );
    assert.match(
      readiness.reasons[1],
      /^Flow "gone" should run but does not: .*unknown component "test\/Gone"/,
    );
    assert.ok(
      second.logs.some((l) =>
        /flow "gone": its stored graph does not build/.test(l)
      ),
    );
    assert.equal(second.flows.stats("gone").processes.length, 0);
    assert.deepEqual(await operations(second.collector), {
      "start success": 1,
      "start error": 2,
    });

    // Stopping a failed flow says it should not run: readiness drops it.
    await second.flows.stop("gone");
    await second.flows.replace("broken", { text: ticking(), format: "fbp" });
    assert.deepEqual(second.flows.readiness(), { ready: true, reasons: [] });
    await second.flows.close();
  },
);

test(
  "FlowManager: when the database write fails, the operation fails and the flows run as before",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await h.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    await grows(h.got);
    const before = snapshot(h);
    const fail = () => {
      throw new Error("disk I/O error");
    };
    const writable = {
      create: h.store.create,
      update: h.store.update,
      delete: h.store.delete,
    };
    Object.assign(h.store, { create: fail, update: fail, delete: fail });
    const input = { text: ticking("test/Sink2"), format: "fbp" } as const;
    for (
      const op of [
        () => h.flows.create({ id: "new", ...input }),
        () => h.flows.replace("f", input),
        () =>
          h.flows.patch("f", {
            processes: { Extra: { component: "core/Drop" } },
          }),
        () => h.flows.replace("idle", input),
        () => h.flows.start("idle"),
        () => h.flows.stop("f"),
        () => h.flows.delete("f"),
      ]
    ) {
      await rejects(
        op(),
        Error,
        (e) => assert.match(e.message, /disk I\/O error/),
      );
    }
    Object.assign(h.store, writable);
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);

test(
  "FlowManager.close() drains running flows, keeps them stored as running, and refuses later operations",
  SLOW,
  async () => {
    using tmp = tempDir();
    const path = join(tmp.dir, "flows.db");
    const h = await harness({ path });
    await h.flows.create({ id: "runs", text: ticking(), format: "fbp" });
    await h.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    await grows(h.got);
    const closing = h.flows.close({ timeoutMs: 2000 });
    assert.equal(h.flows.close(), closing);
    assert.equal(h.flows.readiness().ready, false);
    assert.match(h.flows.readiness().reasons[0], /shutting down/);
    await closing;
    assert.equal(h.flows.get("runs").state, "finished");
    assert.deepEqual(h.collector.flows, []);
    await rejects(
      h.flows.create({ id: "x", text: ticking(), format: "fbp" }),
      Error,
      (e) =>
        assert.match(
          e.message,
          /Cannot create flow "x": the flow manager is closed/,
        ),
    );
    await rejects(
      h.flows.start("idle"),
      Error,
      (e) => assert.match(e.message, /closed/),
    );
    await rejects(
      h.flows.restore(),
      Error,
      (e) => assert.match(e.message, /closed/),
    );
    assert.throws(() => h.store.list(), /is closed/);
    const reopened = FlowStore.open(path);
    assert.deepEqual(
      reopened.list().map((f) => [f.id, f.running]),
      [["idle", false], ["runs", true]],
    );
    reopened.close();
  },
);

test(
  "FlowManager counts every operation by operation and result, and active flows",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
    await h.flows.create({ id: "b", text: ticking(), format: "fbp" });
    await rejects(
      h.flows.create({ id: "a", text: ticking(), format: "fbp" }),
      FlowConflictError,
    );
    await h.flows.replace("a", { text: ticking(), format: "fbp" });
    await h.flows.patch("a", { properties: { x: 1 } });
    await rejects(h.flows.patch("a", {}, { rev: 1 }), FlowConflictError);
    await h.flows.stop("b");
    await h.flows.start("b");
    await h.flows.stop("b");
    await rejects(h.flows.start("zz"), FlowNotFoundError);
    await h.flows.delete("b");
    assert.deepEqual(await operations(h.collector), {
      "create success": 2,
      "create error": 1,
      "update success": 2,
      "update error": 1,
      "delete success": 1,
      "start success": 1,
      "start error": 1,
      "stop success": 2,
    });
    assert.match(await h.collector.render(), /^weir_flows_active 1$/m);
    await h.flows.close();
  },
);

test("FlowManager refuses bad options with a sentence", () => {
  const store = FlowStore.open(":memory:");
  const registry = builtins();
  assert.throws(
    () => new FlowManager({ store: null as unknown as FlowStore, registry }),
    /options\.store must be a FlowStore/,
  );
  assert.throws(
    () => new FlowManager({ store, registry: {} as Registry }),
    /options\.registry must be a component Registry/,
  );
  assert.throws(
    () => new FlowManager({ store, registry, drainTimeoutMs: -5 }),
    (e: unknown) =>
      e instanceof RangeError &&
      /drainTimeoutMs must be a non-negative number of milliseconds, received -5/
        .test(e.message),
  );
  store.close();
});
