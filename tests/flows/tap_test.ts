/**
 * `FlowManager.tap()`: a tap on a flow's connection outlives its networks
 * (stop and start, replace, a supervisor's restart), says when a new graph
 * lacks the connection, and comes back when a later one has it again; and
 * `FlowInfo.startedAt`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FlowNotFoundError,
  FlowStartError,
  InvalidFlowArgumentError,
} from "../../src/flows/errors.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import {
  grows,
  harness,
  NO_START,
  registryOf,
  SLOW,
  ticking,
  WAIT,
} from "./_harness.ts";
import { until } from "../engine/_helpers.ts";

/** Ticks every 5 ms into test/Sink2 instead: no Tick.out -> Sink.in. */
const ELSEWHERE =
  `'5ms' -> interval Tick(core/Interval) out -> in Other(test/Sink2)`;

test(
  "FlowManager.tap() sees the values of a running flow's connection until off()",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
      const seen: unknown[] = [];
      const off = h.flows.tap("a", "Tick.out", "Sink.in", (v) => seen.push(v));
      await grows(seen, 3);
      // Tick numbers, in order, as the sink gets them.
      const n = seen.length;
      assert.deepEqual(
        seen.slice(0, n),
        Array.from({ length: n }, (_, i) => (seen[0] as number) + i),
      );
      off();
      const after = seen.length;
      await grows(h.got, 5);
      assert.equal(seen.length, after, "nothing after off()");
      off(); // twice is harmless
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap() with a null from sees every sender into the port",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({
        id: "a",
        text: ticking() +
          "\n'7ms' -> interval Tock(core/Interval) out -> in Sink",
        format: "fbp",
      });
      const seen: unknown[] = [];
      const off = h.flows.tap("a", null, "Sink.in", (v) => seen.push(v));
      const tock: unknown[] = [];
      const offTock = h.flows.tap(
        "a",
        "Tock.out",
        "Sink.in",
        (v) => tock.push(v),
      );
      await grows(tock, 3);
      off();
      offTock();
      // Both senders' ticks: more than the one sender alone.
      assert.ok(seen.length > tock.length, `${seen.length} ${tock.length}`);
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap() survives stop and start: the new network is tapped",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
      const seen: unknown[] = [];
      const gone: string[] = [];
      const off = h.flows.tap(
        "a",
        "Tick.out",
        "Sink.in",
        (v) => seen.push(v),
        (m) => gone.push(m),
      );
      await grows(seen, 2);
      await h.flows.stop("a");
      const stoppedAt = seen.length;
      await h.flows.start("a");
      await grows(seen, 3);
      // The new network counts its ticks from 0 again.
      assert.equal(seen[stoppedAt], 0);
      assert.deepEqual(gone, []);
      off();
      const after = seen.length;
      await grows(h.got, 3);
      assert.equal(seen.length, after);
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap() taken while the flow is stopped attaches when it starts",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({
        id: "a",
        text: ticking(),
        format: "fbp",
        start: false,
      });
      const seen: unknown[] = [];
      const off = h.flows.tap("a", "Tick.out", "Sink.in", (v) => seen.push(v));
      await h.flows.start("a");
      await grows(seen, 3);
      off();
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap() survives a supervisor's restart of a flow that finished",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({
        id: "a",
        text:
          "# @restart always\n# @restartDelayMs 5\n'2' -> count Tick(core/Interval)\n" +
          ticking(),
        format: "fbp",
      });
      const seen: unknown[] = [];
      const off = h.flows.tap("a", "Tick.out", "Sink.in", (v) => seen.push(v));
      await until(() => h.flows.get("a").restarts >= 2, WAIT);
      await until(() => seen.length >= 6, WAIT);
      off();
      // Each network sends 0, 1 and finishes; each was tapped.
      assert.deepEqual(seen.slice(0, 6), [0, 1, 0, 1, 0, 1]);
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap() survives a replace that keeps the connection",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
      const seen: unknown[] = [];
      const gone: string[] = [];
      const off = h.flows.tap(
        "a",
        "Tick.out",
        "Sink.in",
        (v) => seen.push(v),
        (m) => gone.push(m),
      );
      await grows(seen, 2);
      const faster = ticking().replace("'5ms'", "'3ms'");
      await h.flows.put("a", { text: faster, format: "fbp" });
      assert.equal(h.flows.get("a").rev, 2);
      // The old network drained before put() resolved: what comes now is
      // the new network's, whose ticks count from 0.
      let at = seen.length;
      await grows(seen, 3);
      assert.equal(seen[at], 0);
      await h.flows.replace("a", { text: ticking(), format: "fbp" });
      at = seen.length;
      await grows(seen, 3);
      assert.equal(seen[at], 0);
      assert.deepEqual(gone, []);
      off();
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap(): a replace without the connection calls onGone; a later one with it attaches again",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
      const seen: unknown[] = [];
      const gone: string[] = [];
      const off = h.flows.tap(
        "a",
        "Tick.out",
        "Sink.in",
        (v) => seen.push(v),
        (m) => gone.push(m),
      );
      await grows(seen, 2);
      await h.flows.put("a", { text: ELSEWHERE, format: "fbp" });
      assert.equal(gone.length, 1);
      assert.match(gone[0], /Sink\.in/);
      // It names what the new graph has.
      assert.match(gone[0], /Tick\.out -> Other\.in/);
      const before = seen.length;
      await grows(h.got2, 5);
      assert.equal(seen.length, before, "nothing from the new graph");
      // Back: tapped again, without a new tap() call.
      await h.flows.put("a", { text: ticking(), format: "fbp" });
      await grows(seen, 3);
      assert.equal(seen[before], 0);
      assert.equal(gone.length, 1);
      off();
      const after = seen.length;
      await grows(h.got, 3);
      assert.equal(seen.length, after);
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap(): a replace that fails to start keeps the tap on the graph that runs on, without calling onGone",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
      const seen: unknown[] = [];
      const gone: string[] = [];
      const off = h.flows.tap(
        "a",
        "Tick.out",
        "Sink.in",
        (v) => seen.push(v),
        (m) => gone.push(m),
      );
      await grows(seen, 2);
      // Builds, has no Tick.out -> Sink.in, and cannot start.
      await assert.rejects(
        h.flows.replace("a", { text: NO_START, format: "fbp" }),
        FlowStartError,
      );
      assert.equal(h.flows.get("a").rev, 1);
      assert.equal(h.flows.get("a").state, "running");
      // The previous graph runs again, and is tapped.
      await grows(seen, 3);
      // Its connection never went away: nothing to tell.
      assert.deepEqual(gone, []);
      off();
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowManager.tap(): a replace of a stopped flow without the connection calls onGone too",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({
        id: "a",
        text: ticking(),
        format: "fbp",
        start: false,
      });
      const gone: string[] = [];
      const seen: unknown[] = [];
      const off = h.flows.tap(
        "a",
        "Tick.out",
        "Sink.in",
        (v) => seen.push(v),
        (m) => gone.push(m),
      );
      await h.flows.replace("a", { text: ELSEWHERE, format: "fbp" });
      assert.equal(gone.length, 1);
      await h.flows.replace("a", { text: ticking(), format: "fbp" });
      await h.flows.start("a");
      await grows(seen, 3);
      off();
    } finally {
      await h.flows.close();
    }
  },
);

test("FlowManager.tap() of a connection the flow does not have is an InvalidFlowArgumentError", async () => {
  const h = await harness();
  try {
    await h.flows.create({ id: "run", text: ticking(), format: "fbp" });
    await h.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    for (const id of ["run", "idle"]) {
      for (
        const [from, to] of [
          [null, "Sink.nope"],
          ["Tick.out", "Nope.in"],
          ["Sink.out", "Sink.in"],
        ] as const
      ) {
        assert.throws(
          () => h.flows.tap(id, from, to, () => {}),
          (e: unknown) => {
            assert.ok(e instanceof InvalidFlowArgumentError, String(e));
            assert.ok(e instanceof RangeError);
            assert.equal(e.argument, "connection");
            assert.match(e.message, new RegExp(`"${id}"`));
            assert.match(e.message, new RegExp(to.replace(".", "\\.")));
            return true;
          },
          `${id}: ${from} -> ${to}`,
        );
      }
    }
    assert.throws(
      () => h.flows.tap("missing", null, "Sink.in", () => {}),
      FlowNotFoundError,
    );
    // A refused tap is not kept: a later graph that has the connection
    // does not attach it, and one without it does not call its onGone.
    const seen: unknown[] = [];
    const gone: string[] = [];
    assert.throws(() =>
      h.flows.tap(
        "run",
        "Tock.out",
        "Sink.in",
        (v) => seen.push(v),
        (m) => gone.push(m),
      ), InvalidFlowArgumentError);
    const tock = ticking() +
      "\n'3ms' -> interval Tock(core/Interval) out -> in Sink";
    await h.flows.replace("run", { text: tock, format: "fbp" });
    await h.flows.replace("run", { text: ticking(), format: "fbp" });
    await grows(h.got, 5);
    assert.deepEqual(seen, []);
    assert.deepEqual(gone, []);
  } finally {
    await h.flows.close();
  }
});

test(
  "FlowManager.tap(): a listener that throws does not hurt the flow",
  SLOW,
  async () => {
    const h = await harness();
    try {
      await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
      let calls = 0;
      const off = h.flows.tap("a", "Tick.out", "Sink.in", () => {
        calls++;
        throw new Error("broken");
      });
      await grows(h.got, 5);
      off();
      assert.ok(calls >= 5);
      assert.equal(h.flows.get("a").state, "running");
      assert.equal(h.flows.get("a").error, undefined);
    } finally {
      await h.flows.close();
    }
  },
);

test(
  "FlowInfo.startedAt is there while the flow runs, and not when it is stopped",
  SLOW,
  async () => {
    const h = await harness();
    try {
      const t0 = Date.now();
      const created = await h.flows.create({
        id: "a",
        text: ticking(),
        format: "fbp",
      });
      assert.equal(created.state, "running");
      assert.match(created.startedAt ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
      const first = Date.parse(created.startedAt!);
      assert.ok(first >= t0 - 1000 && first <= Date.now() + 1000);
      assert.equal(h.flows.get("a").startedAt, created.startedAt);
      assert.equal(
        h.flows.list().find((f) => f.id === "a")!.startedAt,
        created.startedAt,
      );
      const stopped = await h.flows.stop("a");
      assert.notEqual(stopped.state, "running");
      assert.equal(stopped.startedAt, undefined);
      assert.equal(h.flows.get("a").startedAt, undefined);
      assert.equal("startedAt" in h.flows.get("a"), false);
      const again = await h.flows.start("a");
      assert.ok(Date.parse(again.startedAt!) >= first);
      // Never started: none.
      const idle = await h.flows.create({
        id: "b",
        text: ticking(),
        format: "fbp",
        start: false,
      });
      assert.equal(idle.startedAt, undefined);
    } finally {
      await h.flows.close();
    }
  },
);

test("FlowManager.tap() of an indexed connection agrees with and without a network: Sw.out[0] is tapped, Sw.out[1] refused", async () => {
  const text = `'5ms' -> interval Tick(core/Interval) out -> in Sw(flow/Switch)
'[{"op": "else"}]' -> rules Sw
Sw out[0] -> in Sink(test/Sink)
`;
  const store = FlowStore.open(":memory:");
  store.create({ id: "run", text, format: "fbp", running: true });
  // A flow that failed to start when restored has no network: the tap is
  // checked against its graph.
  store.create({
    id: "failed",
    text: `${text}${NO_START}`,
    format: "fbp",
    running: true,
  });
  const flows = new FlowManager({
    store,
    registry: registryOf([], []),
    log: () => {},
  });
  try {
    await flows.restore();
    assert.equal(flows.get("run").state, "running");
    assert.equal(flows.get("failed").state, "failed");
    for (const id of ["run", "failed"]) {
      for (const from of ["Sw.out", "Sw.out[0]"]) {
        flows.tap(id, from, "Sink.in", () => {})();
      }
      assert.throws(
        () => flows.tap(id, "Sw.out[1]", "Sink.in", () => {}),
        (e: unknown) => {
          assert.ok(e instanceof InvalidFlowArgumentError, String(e));
          assert.match(e.message, /Sw\.out\[1\]/);
          return true;
        },
        id,
      );
    }
  } finally {
    await flows.close();
  }
});
