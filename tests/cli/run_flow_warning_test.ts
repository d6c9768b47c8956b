/**
 * `weir run`: a process's warning is logged at warn and leaves the exit
 * code alone; a failure is logged at error and makes it 1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { ProcessError, type ReportLevel } from "../../src/engine/errors.ts";
import { createLogger } from "../../src/cli/log.ts";
import { runFlow } from "../../src/cli/run_flow.ts";

/** Reports one fault of its `level` IIP on its error port, then ends. */
const Report = defineComponent({
  name: "test/Report",
  description: "Reports a fault of a level.",
  inPorts: { level: { type: "string", control: true, required: true } },
  outPorts: { error: {} },
  async run(ctx) {
    const level = ctx.control<ReportLevel>("level");
    await ctx.send(
      "error",
      new ProcessError(`cannot connect to broker; retrying in 1 s`, {
        network: ctx.network,
        process: ctx.process,
        component: "test/Report",
        port: "",
        kind: "exception",
        level,
      }),
    );
  },
});

async function run(level: string, logLevel: "info" | "error" = "info") {
  const lines: string[] = [];
  const code = await runFlow({
    text: `'${level}' -> level R(test/Report)`,
    file: "flow.fbp",
    registry: builtins().register(Report),
    drainTimeoutMs: 1000,
    metricsAt: null,
    namespace: "weir",
    log: createLogger({
      format: "json",
      level: logLevel,
      write: (l) => lines.push(l),
    }),
    history: null,
  });
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => /broker/.test(String(l.msg)))
    .map((l) => [l.level, l.msg]);
  return { code, logged };
}

test("weir run logs a process's warning at warn, and it does not make the exit code 1", async () => {
  assert.deepEqual(await run("warning"), {
    code: 0,
    logged: [[
      "warn",
      'process "R" (test/Report): cannot connect to broker; retrying in 1 s',
    ]],
  });
  // WEIR_LOG_LEVEL=error leaves it out.
  assert.deepEqual(await run("warning", "error"), { code: 0, logged: [] });
});

test("weir run logs a process's failure at error, and exits 1", async () => {
  assert.deepEqual(await run("error"), {
    code: 1,
    logged: [[
      "error",
      'process "R" failed: cannot connect to broker; retrying in 1 s',
    ]],
  });
});

test("weir run logs a process's info (a broker reached again) at info, and it does not make the exit code 1", async () => {
  assert.deepEqual(await run("info"), {
    code: 0,
    logged: [[
      "info",
      'process "R" (test/Report): cannot connect to broker; retrying in 1 s',
    ]],
  });
  assert.deepEqual(await run("info", "error"), { code: 0, logged: [] });
});

test("weir run logs a teardown that throws at error, with the flow and the process, and exits 1", async () => {
  const Untidy = defineComponent({
    name: "test/Untidy",
    description: "Takes one message; its teardown throws.",
    inPorts: { in: {} },
    process() {},
    teardown() {
      throw new Error("socket already closed");
    },
  });
  const lines: string[] = [];
  const code = await runFlow({
    text: `'x' -> in U(test/Untidy)`,
    file: "flow.fbp",
    registry: builtins().register(Untidy),
    drainTimeoutMs: 1000,
    metricsAt: null,
    namespace: "weir",
    log: createLogger({ format: "json", write: (l) => lines.push(l) }),
    history: null,
  });
  const errors = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.level === "error")
    .map(({ msg, flow, process }) => ({ msg, flow, process }));
  assert.deepEqual({ code, errors }, {
    code: 1,
    errors: [{
      msg: 'process "U" failed: its teardown threw: socket already closed',
      flow: "main",
      process: "U",
    }],
  });
});
