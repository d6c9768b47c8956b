/**
 * A process's warning (a condition it goes on through, such as a broker
 * tried again) is logged at warn and reaches subscribers with its level;
 * so does its info (the broker reached again), at info; its failures stay
 * errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import {
  type FlowLogLevel,
  FlowManager,
} from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { ErrorLogLimiter } from "../../src/flows/error_log_limiter.ts";
import { until } from "../engine/_helpers.ts";
import { SLOW, WAIT } from "./_harness.ts";

/** Warns, fails, warns again (on its error port, as mqtt/In does), then ends. */
const Warn = defineComponent({
  name: "test/Warn",
  description: "Reports a warning and a failure.",
  outPorts: { out: {}, error: {} },
  async run(ctx) {
    const report = (message: string, level: "error" | "warning") =>
      ctx.send(
        "error",
        new ProcessError(message, {
          network: ctx.network,
          process: ctx.process,
          component: "test/Warn",
          port: "",
          kind: "exception",
          level,
        }),
      );
    await report("cannot connect to broker; retrying in 1 s", "warning");
    await report("cannot parse a payload", "error");
    await report("lost the connection; retrying in 1 s", "warning");
  },
});

/** Warns, then says it is over (through ctx.report, as mqtt/In does), then ends. */
const Recover = defineComponent({
  name: "test/Recover",
  description: "Reports a warning and the info that ends it.",
  outPorts: { out: {} },
  run(ctx) {
    ctx.report("cannot connect to broker; retrying in 1 s", undefined, {
      level: "warning",
    });
    ctx.report("connected to broker again after 2 attempts", undefined, {
      level: "info",
    });
    return Promise.resolve();
  },
});

async function manager(
  errorLog?: { burst: number },
  text = "W(test/Warn)",
) {
  const logs: [FlowLogLevel | undefined, string][] = [];
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: builtins().register(Warn).register(Recover),
    log: (line, level) => logs.push([level, line]),
    errorLog,
  });
  await flows.restore();
  await flows.create({
    id: "w",
    text,
    format: "fbp",
    start: false,
  });
  const events: FlowEvent[] = [];
  flows.subscribe("w", (e) => events.push(e));
  await flows.start("w");
  return { flows, logs, events };
}

test(
  "FlowManager logs a process's warning at warn and its failure at error, and tells subscribers each one's level",
  SLOW,
  async () => {
    const { flows, logs, events } = await manager();
    await until(
      () => events.filter((e) => e.type === "error").length === 3,
      WAIT,
    );
    assert.deepEqual(
      events.flatMap((e) =>
        e.type === "error" ? [[e.level, e.process, e.message]] : []
      ),
      [
        [
          "warning",
          "W",
          'process "W" (test/Warn): cannot connect to broker; retrying in 1 s',
        ],
        ["error", "W", 'process "W" failed: cannot parse a payload'],
        [
          "warning",
          "W",
          'process "W" (test/Warn): lost the connection; retrying in 1 s',
        ],
      ],
    );
    assert.deepEqual(logs.filter(([, l]) => /process "W"/.test(l)), [
      [
        "warn",
        'flow "w": process "W" (test/Warn): cannot connect to broker; retrying in 1 s',
      ],
      ["error", 'flow "w": process "W" failed: cannot parse a payload'],
      [
        "warn",
        'flow "w": process "W" (test/Warn): lost the connection; retrying in 1 s',
      ],
    ]);
    await flows.close();
  },
);

test(
  "FlowManager's quiet log limits a process's warnings apart from its errors and sums them up at warn",
  SLOW,
  async () => {
    const { flows, logs, events } = await manager({ burst: 1 });
    await until(
      () => events.filter((e) => e.type === "error").length === 3,
      WAIT,
    );
    // The second warning waits for the summary; the failure is not held back.
    await flows.close();
    assert.deepEqual(logs.filter(([, l]) => /process "W"/.test(l)), [
      [
        "warn",
        'flow "w": process "W" (test/Warn): cannot connect to broker; retrying in 1 s',
      ],
      ["error", 'flow "w": process "W" failed: cannot parse a payload'],
      [
        "warn",
        'flow "w": process "W" warned 1 more time in the last 60 s: last warning process "W" (test/Warn): lost the connection; retrying in 1 s',
      ],
    ]);
  },
);

test("ErrorLogLimiter writes a warning with its level and keeps its window apart from the errors of the same key", () => {
  const lines: string[] = [];
  const limiter = new ErrorLogLimiter({
    write: (l, level) => lines.push(`${level} ${l}`),
    burst: 1,
  });
  limiter.report({
    key: "k",
    prefix: "A",
    message: "w1",
    subject: "p",
    level: "warning",
  });
  limiter.report({
    key: "k",
    prefix: "A",
    message: "w2",
    subject: "p",
    level: "warning",
  });
  limiter.report({ key: "k", prefix: "A", message: "e1", subject: "p" });
  limiter.report({ key: "k", prefix: "A", message: "e2", subject: "p" });
  limiter.report({
    key: "k",
    prefix: "A",
    message: "w3",
    subject: "p",
    level: "warning",
  });
  limiter.close();
  assert.deepEqual(lines, [
    "warning A: w1",
    "error A: e1",
    "warning A: p warned 2 more times in the last 60 s: last warning w3",
    "error A: p failed 1 more time in the last 60 s: last error e2",
  ]);
});

test(
  "FlowManager logs a process's info at info, after its warning, and tells subscribers its level; neither counts as an error",
  SLOW,
  async () => {
    const { flows, logs, events } = await manager(undefined, "W(test/Recover)");
    await until(
      () => events.filter((e) => e.type === "error").length === 2,
      WAIT,
    );
    assert.deepEqual(
      events.flatMap((e) => e.type === "error" ? [[e.level, e.message]] : []),
      [
        [
          "warning",
          'process "W" (test/Recover): cannot connect to broker; retrying in 1 s',
        ],
        [
          "info",
          'process "W" (test/Recover): connected to broker again after 2 attempts',
        ],
      ],
    );
    assert.deepEqual(logs.filter(([, l]) => /process "W"/.test(l)), [
      [
        "warn",
        'flow "w": process "W" (test/Recover): cannot connect to broker; retrying in 1 s',
      ],
      [
        "info",
        'flow "w": process "W" (test/Recover): connected to broker again after 2 attempts',
      ],
    ]);
    const w = flows.stats("w").processes.find((p) => p.name === "W");
    assert.deepEqual([w?.errors.exception, w?.failures], [0, 0]);
    await flows.close();
  },
);
