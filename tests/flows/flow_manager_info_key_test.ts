/**
 * `FlowManager.infoKey()` and `listKey()`: the keys under which the server
 * keeps what it answers for a flow and for the list. A key kept while the
 * report changed would serve a stale body, so these tests check that every
 * field `_info` reads gives a new key, and that the keys follow a flow
 * through its life (restarts, failures, stop, start, replace, delete).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { Network } from "../../src/engine/network.ts";
import type { Graph } from "../../src/graph/graph.ts";
import {
  type _Entry,
  _entry,
  _info,
  _infoKey,
} from "../../src/flows/_flow_entry.ts";
import type { StoredFlow } from "../../src/flows/flow_store.ts";
import { harness, registryOf, SLOW, WAIT } from "./_harness.ts";
import { until } from "../engine/_helpers.ts";

const STORED: StoredFlow = {
  id: "a",
  rev: 1,
  text: "A(core/Repeat)",
  format: "fbp",
  running: true,
  started: true,
  createdAt: 0,
  updatedAt: 0,
};

/** A network as `_info` sees one: its state, pressure and processes. */
function fakeNetwork(
  state = "running",
  pressure: "bytes" | null = null,
): Network {
  return { state, pressure, processNames: ["A"] } as unknown as Network;
}

/** Records the names of the properties read through the returned proxy. */
function reading<T extends object>(target: T, into: Set<string>): T {
  return new Proxy(target, {
    get(t, name, receiver) {
      if (typeof name === "string") into.add(name);
      return Reflect.get(t, name, receiver);
    },
  });
}

test("_infoKey() reads every field of the entry and of its network that _info() reads", () => {
  // Every state _info() tells apart, so that each of its branches reads.
  const entries: _Entry[] = [];
  for (const network of [null, fakeNetwork(), fakeNetwork("finished")]) {
    for (const error of [undefined, "broken"]) {
      for (const held of [undefined, "held"]) {
        for (const waiting of [false, true]) {
          const e = _entry(STORED);
          e.network = network;
          e.error = error;
          e.held = held;
          e.startedAt = 1;
          e.failedAt = 2;
          e.nextRestartAt = 3;
          if (waiting) e.restartTimer = 0 as unknown as typeof e.restartTimer;
          entries.push(e);
        }
      }
    }
  }
  const byInfo = new Set<string>();
  const byKey = new Set<string>();
  const netByInfo = new Set<string>();
  const netByKey = new Set<string>();
  let reads = byInfo;
  let netReads = netByInfo;
  for (const e of entries) {
    const net = e.network;
    if (net !== null) {
      e.network = reading(
        net,
        { add: (f: string) => netReads.add(f) } as Set<string>,
      );
    }
    const watched = reading(
      e,
      { add: (f: string) => reads.add(f) } as Set<string>,
    );
    [reads, netReads] = [byInfo, netByInfo];
    _info(watched);
    // The second look is the one every request makes: nothing changed.
    [reads, netReads] = [new Set(), new Set()];
    const key = _infoKey(watched);
    [reads, netReads] = [byKey, netByKey];
    assert.equal(_infoKey(watched), key);
  }
  // The stored flow and the graph are compared as objects (never changed
  // in place); a network's processes are fixed when it is built.
  assert.deepEqual([...byInfo].filter((f) => !byKey.has(f)), []);
  assert.deepEqual(
    [...netByInfo].filter((f) => !netByKey.has(f) && f !== "processNames"),
    [],
  );
});

test("_infoKey() gives a new key when any field _info() reads changes, the same key otherwise", () => {
  const e = _entry(STORED);
  e.network = fakeNetwork();
  const changes: [string, () => void][] = [
    ["stored", () => e.stored = { ...STORED, rev: 2 }],
    ["graph", () => e.graph = { processes: {} } as Graph],
    ["network", () => e.network = fakeNetwork()],
    ["network state", () => {
      (e.network as unknown as { state: string }).state = "finished";
    }],
    ["network pressure", () => {
      (e.network as unknown as { pressure: string }).pressure = "bytes";
    }],
    ["error", () => e.error = "broken"],
    ["held", () => e.held = "held"],
    ["restartTimer", () => {
      e.restartTimer = 1 as unknown as typeof e.restartTimer;
    }],
    ["nextRestartAt", () => e.nextRestartAt = 5],
    ["restarts", () => e.restarts++],
    ["startedAt", () => e.startedAt = 6],
    ["failedAt", () => e.failedAt = 7],
  ];
  let key = _infoKey(e);
  for (const [what, change] of changes) {
    assert.equal(_infoKey(e), key, `before ${what}`);
    change();
    const next = _infoKey(e);
    assert.notEqual(next, key, what);
    key = next;
  }
  // What the report does not show keeps the key.
  e.restartsInRow++;
  e.failures++;
  e.listeners.add(() => {});
  assert.equal(_infoKey(e), key);
  // Another entry's keys are its own.
  assert.notEqual(_infoKey(_entry(STORED)), key);
});

/** Fails to start `failures` times, then starts. */
function flaky(failures: number) {
  let attempts = 0;
  return defineComponent({
    name: "test/Flaky",
    description: "Fails to start a few times.",
    inPorts: { in: {} },
    setup() {
      if (attempts++ < failures) {
        throw new Error(`not yet (attempt ${attempts})`);
      }
    },
    process() {},
  });
}

test(
  "infoKey() and listKey() are new whenever get() and list() answer differently, through restarts, stop, start, replace and delete",
  SLOW,
  async () => {
    const registry = registryOf([], []).register(flaky(3));
    const h = await harness({ registry });
    const flows = h.flows;
    // Watched every millisecond and after each step: a key seen again
    // must come with the same report.
    const seen = new Map<object, string>();
    let checks = 0;
    let keys = 0;
    const check = () => {
      const pairs: [object, string][] = [[flows.listKey(), "list"]];
      for (const info of flows.list()) {
        pairs.push([flows.infoKey(info.id), info.id]);
      }
      for (const [key, what] of pairs) {
        const report = what === "list"
          ? JSON.stringify(flows.list())
          : JSON.stringify([flows.get(what), flows.source(what)]);
        const before = seen.get(key);
        if (before === undefined) {
          seen.set(key, report);
          keys++;
        } else {assert.equal(
            report,
            before,
            `${what}: a key kept, a report changed`,
          );}
        checks++;
      }
    };
    const timer = setInterval(check, 1);
    try {
      h.store.create({
        id: "modem",
        text: "# @restart on-failure\n# @restartDelayMs 5\n" +
          "'1s' -> interval T(core/Interval) out -> in M(test/Flaky)",
        format: "fbp",
        running: true,
      });
      await flows.restore();
      check();
      assert.equal(flows.get("modem").state, "restarting");
      await until(() => flows.get("modem").state === "running", WAIT);
      check();
      assert.equal(flows.get("modem").restarts, 3);
      await flows.create({
        id: "b",
        text: "'1s' -> interval T(core/Interval) out -> in D(core/Drop)",
        format: "fbp",
      });
      check();
      await flows.stop("modem");
      check();
      await flows.start("modem");
      check();
      await flows.put("b", {
        text: "'2s' -> interval T(core/Interval) out -> in D(core/Drop)",
        format: "fbp",
      });
      check();
      await flows.delete("b");
      check();
      await flows.create({
        id: "b",
        text: "'1s' -> interval T(core/Interval) out -> in D(core/Drop)",
        format: "fbp",
        start: false,
      });
      check();
      assert.deepEqual(flows.list().map((f) => [f.id, f.state]), [
        ["b", "created"],
        ["modem", "running"],
      ]);
    } finally {
      clearInterval(timer);
      await flows.close();
    }
    // Each step showed a new report under a new key.
    assert.ok(keys >= 16, `${keys} keys in ${checks} checks`);
  },
);

test("infoKey() of an unknown flow throws FlowNotFoundError, as get() does", async () => {
  const h = await harness();
  assert.throws(() => h.flows.infoKey("nope"), { name: "FlowNotFoundError" });
  await h.flows.close();
});
