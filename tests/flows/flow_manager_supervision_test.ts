/**
 * Supervision: a flow's restart policy (`properties.restart`), its states,
 * its metrics and `required` flows in the readiness.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { GraphError } from "../../src/graph/graph_error.ts";
import { FlowStartError } from "../../src/flows/errors.ts";
import { harness, NO_START, registryOf, SLOW, WAIT } from "./_harness.ts";
import { until } from "../engine/_helpers.ts";

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

const policy = (lines: string[], body: string) =>
  `${lines.map((l) => `# @${l}`).join("\n")}\n${body}`;

test(
  "restart on-failure: a flow whose start failed at restore is restarted with backoff until it runs",
  SLOW,
  async () => {
    const registry = registryOf([], []).register(flaky(2));
    const h = await harness({ registry });
    h.store.create({
      id: "modem",
      text: policy(
        ["restart on-failure", "restartDelayMs 5"],
        "'1s' -> interval T(core/Interval) out -> in M(test/Flaky)",
      ),
      format: "fbp",
      running: true,
    });
    const [first] = await h.flows.restore();
    assert.equal(first.state, "restarting");
    assert.equal(first.restart, "on-failure");
    assert.match(first.error!, /not yet \(attempt 1\)/);
    assert.match(first.failedAt!, /^\d{4}-\d\d-\d\dT/);
    assert.match(first.nextRestartAt!, /^\d{4}-\d\d-\d\dT/);
    await until(() => h.flows.get("modem").state === "running", WAIT);
    const info = h.flows.get("modem");
    assert.equal(info.restarts, 2);
    assert.equal(info.error, undefined);
    assert.ok(
      h.logs.some((l) => /modem.*restart 1 of 5 in 5 ms/.test(l)),
      h.logs.join("\n"),
    );
    assert.ok(
      h.logs.some((l) => /modem.*restart 2 of 5 in 10 ms/.test(l)),
      h.logs.join("\n"),
    );
    assert.ok(
      h.logs.some((l) => /modem.*restarted \(rev 1, restart 2/.test(l)),
    );
    const text = await h.collector.render();
    assert.match(text, /^weir_flow_restarts_total\{flow="modem"\} 2$/m);
    assert.match(text, /^weir_flow_failures_total\{flow="modem"\} 2$/m);
    assert.match(text, /^weir_flow_state\{flow="modem",state="running"\} 1$/m);
    assert.match(text, /^weir_flow_state\{flow="modem",state="failed"\} 0$/m);
    await h.flows.close();
  },
);

test(
  "restart on-failure gives up at restartLimit: the flow is failed with the reason and the time",
  SLOW,
  async () => {
    const h = await harness();
    h.store.create({
      id: "dead",
      text: policy(
        ["restart on-failure", "restartDelayMs 1", "restartLimit 3"],
        NO_START,
      ),
      format: "fbp",
      running: true,
    });
    await h.flows.restore();
    await until(
      () => h.flows.get("dead").state === "failed",
      WAIT,
    );
    const info = h.flows.get("dead");
    assert.equal(info.restarts, 3);
    assert.match(info.error!, /no device at \/dev\/ttyUSB0/);
    assert.match(info.error!, /3 restarts in a row reached restartLimit 3/);
    assert.ok(Date.now() - Date.parse(info.failedAt!) < 60_000);
    assert.ok(
      h.logs.some((l) => /"dead": not restarted: 3 restarts in a row/.test(l)),
    );
    assert.match(
      await h.collector.render(),
      /^weir_flow_failures_total\{flow="dead"\} 4$/m,
    );
    await h.flows.close();
  },
);

test(
  "restart on-failure gives up at restartLimit: a long reason is cut, and the error still says the flow was not restarted and why",
  SLOW,
  async () => {
    const Long = defineComponent({
      name: "test/LongFailure",
      description: "Fails to start with a long reason.",
      inPorts: { in: {} },
      setup(): undefined {
        throw new Error(`cannot open ${"/dev/serial/by-id/".repeat(20)}`);
      },
      process() {},
    });
    const h = await harness({ registry: registryOf([], []).register(Long) });
    h.store.create({
      id: "long",
      text: policy(
        ["restart on-failure", "restartDelayMs 1", "restartLimit 1"],
        "'1s' -> interval T(core/Interval) out -> in L(test/LongFailure)",
      ),
      format: "fbp",
      running: true,
    });
    await h.flows.restore();
    await until(() => h.flows.get("long").state === "failed", WAIT);
    const { error } = h.flows.get("long");
    assert.match(error!, /cannot open \/dev\/serial\/by-id/);
    assert.match(
      error!,
      /; not restarted: 1 restarts in a row reached restartLimit 1$/,
    );
    await h.flows.close();
  },
);

test(
  "restart never (the default) leaves a failed flow failed",
  SLOW,
  async () => {
    const h = await harness();
    h.store.create({ id: "x", text: NO_START, format: "fbp", running: true });
    const [info] = await h.flows.restore();
    assert.equal(info.state, "failed");
    assert.equal(info.restart, "never");
    assert.equal(info.restarts, 0);
    assert.equal(info.nextRestartAt, undefined);
    await h.flows.close();
  },
);

test(
  "restart always: a flow whose sources ended is started again, up to the limit, then failed; on-failure leaves it finished",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({
      id: "again",
      text: policy(
        ["restart always", "restartDelayMs 1", "restartLimit 3"],
        "'x' -> in S(test/Sink)",
      ),
      format: "fbp",
    });
    await h.flows.create({
      id: "once",
      text: policy(["restart on-failure"], "'y' -> in S(test/Sink2)"),
      format: "fbp",
    });
    await until(
      () =>
        h.got.length === 4 && h.flows.get("again").state === "failed" &&
        h.flows.get("again").restarts === 3,
      WAIT,
    );
    assert.deepEqual(h.got, ["x", "x", "x", "x"]);
    assert.ok(h.logs.some((l) => /"again": not restarted: 3 restarts/.test(l)));
    await until(() => h.flows.get("once").state === "finished", WAIT);
    assert.deepEqual(h.got2, ["y"]);
    assert.equal(h.flows.get("once").restarts, 0);
    await h.flows.close();
  },
);

test(
  "restart always gives up at restartLimit: the flow is failed, its error ends with the reason, and /metrics and readiness say so",
  SLOW,
  async () => {
    const h = await harness();
    const states: string[] = [];
    await h.flows.create({
      id: "ticks",
      text: policy(
        [
          "restart always",
          "restartDelayMs 1",
          "restartLimit 2",
          "required true",
        ],
        "'1ms' -> interval T(core/Interval) out -> in D(core/Drop)\n'3' -> count T",
      ),
      format: "fbp",
    });
    h.flows.subscribe("ticks", (e) => {
      if (e.type === "state") states.push(e.state);
    });
    await until(() => h.flows.get("ticks").state === "failed", WAIT);
    const info = h.flows.get("ticks");
    assert.equal(info.restarts, 2);
    assert.match(
      info.error!,
      /^its network finished; not restarted: 2 restarts in a row reached restartLimit 2$/,
    );
    assert.ok(Date.now() - Date.parse(info.failedAt!) < 60_000);
    assert.equal(states.at(-1), "failed");
    const text = await h.collector.render();
    assert.match(text, /^weir_flow_state\{flow="ticks",state="failed"\} 1$/m);
    assert.match(
      text,
      /^weir_flow_state\{flow="ticks",state="finished"\} 0$/m,
    );
    assert.deepEqual(h.flows.readiness().reasons, [
      `Flow "ticks" is required but failed at ${info.failedAt}: ${info.error}`,
    ]);
    // What ran is still there to read, and a start runs it again.
    assert.equal(h.flows.stats("ticks").processes.length, 2);
    const started = await h.flows.start("ticks");
    assert.equal(started.error, undefined);
    assert.notEqual(started.state, "failed");
    await h.flows.close();
  },
);

test(
  "a stop cancels a waiting restart, and a start takes over at once",
  SLOW,
  async () => {
    const registry = registryOf([], []).register(flaky(1));
    const h = await harness({ registry });
    h.store.create({
      id: "m",
      text: policy(
        ["restart on-failure", "restartDelayMs 600000"],
        "'1s' -> interval T(core/Interval) out -> in M(test/Flaky)",
      ),
      format: "fbp",
      running: true,
    });
    await h.flows.restore();
    assert.equal(h.flows.get("m").state, "restarting");
    const stopped = await h.flows.stop("m");
    assert.equal(stopped.running, false);
    assert.equal(stopped.state, "failed");
    assert.equal(stopped.nextRestartAt, undefined);
    const started = await h.flows.start("m");
    assert.equal(started.state, "running");
    assert.equal(started.restarts, 0);
    await h.flows.close();
  },
);

test(
  "bad supervision settings are refused at create and replace, naming the property and the range",
  async () => {
    const h = await harness();
    await assert.rejects(
      h.flows.create({
        id: "a",
        text: policy(["restart sometimes"], "A(core/Repeat)"),
        format: "fbp",
      }),
      (e: unknown) =>
        e instanceof GraphError &&
        e.problems.some((p) =>
          p.path === "properties.restart" &&
          /one of never, on-failure, always, received "sometimes"/.test(
            p.message,
          )
        ),
    );
    await h.flows.create({ id: "b", text: "A(core/Repeat)", format: "fbp" });
    await assert.rejects(
      h.flows.replace("b", {
        text: JSON.stringify({
          properties: { restartLimit: 1e9, required: "yes" },
          processes: { A: { component: "core/Repeat" } },
        }),
        format: "json",
      }),
      /restartLimit must be an integer from 0 to 1000 .* received 1000000000[\s\S]*required must be true or false, received "yes"/,
    );
    assert.equal(h.flows.get("b").rev, 1);
    assert.deepEqual(h.flows.list().map((f) => f.id), ["b"]);
    await h.flows.close();
  },
);

test(
  "readiness: a required flow must run (stopped, finished or failed is not ready); others as before",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({
      id: "must",
      text: policy(
        ["required true"],
        "'1s' -> interval T(core/Interval) out -> in D(core/Drop)",
      ),
      format: "fbp",
    });
    await h.flows.create({
      id: "may",
      text: "'1s' -> interval T(core/Interval) out -> in D(core/Drop)",
      format: "fbp",
    });
    assert.equal(h.flows.get("must").required, true);
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    await h.flows.stop("may");
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    await h.flows.stop("must");
    assert.deepEqual(h.flows.readiness(), {
      ready: false,
      reasons: ['Flow "must" is required but is stopped: it was stopped'],
    });
    await h.flows.create({
      id: "ends",
      text: policy(["required true"], "'x' -> in S(test/Sink)"),
      format: "fbp",
    });
    await until(() => h.flows.get("ends").state === "finished", WAIT);
    assert.ok(
      h.flows.readiness().reasons.includes(
        'Flow "ends" is required but its network is finished',
      ),
      h.flows.readiness().reasons.join("\n"),
    );
    await h.flows.close();
  },
);

test(
  "FlowManager.restore({ safeMode: true }) restores every flow stopped with the reason, ready; a start runs it",
  SLOW,
  async () => {
    const h = await harness();
    h.store.create({
      id: "ticks",
      text: "'1s' -> interval T(core/Interval) out -> in D(core/Drop)",
      format: "fbp",
      running: true,
    });
    h.store.create({
      id: "idle",
      text: "A(core/Repeat)",
      format: "fbp",
      running: false,
    });
    const [idle, ticks] = await h.flows.restore({ safeMode: true });
    assert.equal(ticks.state, "stopped");
    assert.equal(ticks.running, true);
    assert.match(ticks.reason!, /safe mode \(--safe-mode\)/);
    assert.equal(idle.state, "created");
    assert.equal(idle.reason, undefined);
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    assert.match(
      await h.collector.render(),
      /^weir_flow_state\{flow="ticks",state="stopped"\} 1$/m,
    );
    const started = await h.flows.start("ticks");
    assert.equal(started.state, "running");
    assert.equal(started.reason, undefined);
    await h.flows.close();
  },
);

test(
  "a refused replace or patch of a flow held back in safe mode leaves it stopped with its reason, and the server ready",
  SLOW,
  async () => {
    const h = await harness();
    h.store.create({
      id: "ticks",
      text: "'1s' -> interval T(core/Interval) out -> in D(core/Drop)",
      format: "fbp",
      running: true,
    });
    await h.flows.restore({ safeMode: true });
    const held = () => {
      const info = h.flows.get("ticks");
      assert.equal(info.state, "stopped");
      assert.match(info.reason ?? "", /safe mode \(--safe-mode\)/);
      assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    };
    await assert.rejects(
      h.flows.replace("ticks", { text: "A(no/Such)", format: "fbp" }),
      GraphError,
    );
    held();
    await assert.rejects(
      h.flows.patch("ticks", { processes: { D: { component: "no/Such" } } }),
      GraphError,
    );
    held();
    await assert.rejects(
      h.flows.put("ticks", { text: "A(no/Such)", format: "fbp" }),
      GraphError,
    );
    held();
    await assert.rejects(
      h.flows.replace("ticks", { text: NO_START, format: "fbp" }),
      FlowStartError,
    );
    held();
    await h.flows.close();
  },
);

test(
  "a replace or patch refused as invalid leaves a waiting restart waiting",
  SLOW,
  async () => {
    const h = await harness();
    h.store.create({
      id: "modem",
      text: policy(["restart on-failure", "restartDelayMs 600000"], NO_START),
      format: "fbp",
      running: true,
    });
    const [before] = await h.flows.restore();
    assert.equal(before.state, "restarting");
    await assert.rejects(
      h.flows.replace("modem", { text: "A(no/Such)", format: "fbp" }),
      GraphError,
    );
    await assert.rejects(
      h.flows.patch("modem", { processes: { Bad: { component: "no/Such" } } }),
      GraphError,
    );
    await assert.rejects(
      h.flows.put("modem", { text: "A(no/Such)", format: "fbp" }),
      GraphError,
    );
    const after = h.flows.get("modem");
    assert.equal(after.state, "restarting");
    assert.equal(after.nextRestartAt, before.nextRestartAt);
    await h.flows.close();
  },
);
