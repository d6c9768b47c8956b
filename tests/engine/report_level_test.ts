/**
 * ctx.report's level: a warning (a condition the process goes on
 * through) and an info (its end) are routed as such and not counted as a
 * process error; an error is counted and worded as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  defineComponent,
  Network,
  ProcessError,
} from "../../src/engine/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";

/** Reports a warning, an own warning ProcessError, an info and a failure, then sends one value. */
const Source = defineComponent({
  name: "test/Reporting",
  description: "Reports faults of both levels and goes on.",
  outPorts: { out: {}, error: {} },
  async run(ctx) {
    ctx.report(
      new Error("the broker refused the credentials; retrying in 1 s"),
      undefined,
      { level: "warning" },
    );
    ctx.report(
      new ProcessError("lost the connection; retrying in 1 s", {
        network: ctx.network,
        process: ctx.process,
        component: "test/Reporting",
        port: "",
        kind: "exception",
        level: "warning",
      }),
    );
    ctx.report("connected again after 2 attempts", undefined, {
      level: "info",
    });
    ctx.report(new Error("a payload is not JSON"), { topic: "a/b" });
    await ctx.send("out", "still running");
  },
});

const Keep = (into: unknown[]) =>
  defineComponent({
    name: "test/Keep",
    description: "Keeps.",
    inPorts: { in: {} },
    process(v) {
      into.push(v);
    },
  });

const WORDS = [
  [
    "warning",
    'process "S" (test/Reporting): the broker refused the credentials; retrying in 1 s',
  ],
  [
    "warning",
    'process "S" (test/Reporting): lost the connection; retrying in 1 s',
  ],
  ["info", 'process "S" (test/Reporting): connected again after 2 attempts'],
  ["error", 'process "S" failed: a payload is not JSON'],
];

test("ctx.report with level warning or info routes it to the error event and does not count it as a process error", async () => {
  const got: unknown[] = [];
  const net = new Network({
    name: "r",
    processes: [
      { name: "S", component: Source },
      { name: "K", component: Keep(got) },
    ],
    connections: [{
      from: { process: "S", port: "out" },
      to: { process: "K", port: "in" },
    }],
    initials: [],
  });
  const metrics = new MetricsCollector();
  metrics.track(net);
  const seen: ProcessError[] = [];
  net.on("error", (e) => seen.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["still running"]);
  assert.deepEqual(seen.map((e) => [e.level, e.message]), WORDS);
  assert.deepEqual(seen[3].input, { topic: "a/b" });
  const s = net.stats().processes.find((p) => p.name === "S")!;
  assert.equal(s.errors.exception, 1);
  const text = await metrics.render("text");
  assert.match(
    text,
    /\nweir_process_errors_total\{flow="r",process="S",kind="exception"\} 1\n/,
  );
});

test("ctx.report sends a warning or an info to a connected error port with its level", async () => {
  const errors: unknown[] = [];
  const net = new Network({
    name: "r2",
    processes: [
      { name: "S", component: Source },
      { name: "C", component: Keep(errors) },
      { name: "D", component: Keep([]) },
    ],
    connections: [
      {
        from: { process: "S", port: "error" },
        to: { process: "C", port: "in" },
      },
      { from: { process: "S", port: "out" }, to: { process: "D", port: "in" } },
    ],
    initials: [],
  });
  const events: unknown[] = [];
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.equal(events.length, 0);
  assert.deepEqual(
    errors.map((e) => [(e as ProcessError).level, (e as ProcessError).message]),
    WORDS,
  );
});

test("a warning or info ProcessError a process throws is a failure: counted, and routed at level error with its own words", async () => {
  const Throwing = defineComponent({
    name: "test/Throwing",
    description:
      "Throws a ProcessError of its own at level warning, then info.",
    inPorts: { in: {} },
    process(v, ctx) {
      throw new ProcessError(`cannot take ${v}`, {
        network: ctx.network,
        process: ctx.process,
        component: "test/Throwing",
        port: "in",
        kind: "exception",
        level: v === 1 ? "warning" : "info",
      });
    },
  });
  const net = new Network({
    name: "t",
    processes: [{ name: "T", component: Throwing }],
    connections: [],
    initials: [{ data: 1, to: { process: "T", port: "in" } }, {
      data: 2,
      to: { process: "T", port: "in" },
    }],
  });
  const metrics = new MetricsCollector();
  metrics.track(net);
  const seen: ProcessError[] = [];
  net.on("error", (e) => seen.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(seen.map((e) => [e.level, e.message]), [
    ["error", 'process "T" failed on in-port "in": cannot take 1'],
    ["error", 'process "T" failed on in-port "in": cannot take 2'],
  ]);
  assert.equal(seen[0].input, 1);
  assert.ok(seen[0].cause instanceof ProcessError);
  const t = net.stats().processes.find((p) => p.name === "T")!;
  assert.equal(t.errors.exception, 2);
  assert.match(
    await metrics.render("text"),
    /\nweir_process_errors_total\{flow="t",process="T",kind="exception"\} 2\n/,
  );
});
