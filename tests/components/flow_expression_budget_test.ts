/**
 * The budget of every JSONata evaluation in `flow/Map` and `flow/Filter`
 * (issue 18): a poison expression fails its message with a `BudgetError`
 * that names the flow, the process and the limit, counted as a `timeout`,
 * and the flow (and its host) go on.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/builtins.ts";
import { flowMap } from "../../src/components/flow.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { BudgetError, type ProcessError } from "../../src/engine/errors.ts";
import type { Network } from "../../src/engine/network.ts";
import { createNetwork } from "../../src/embed.ts";
import { DEFAULT_EXPRESSION_BUDGET } from "../../src/expr/evaluate_expression.ts";
import { finishedWithin } from "./_helpers.ts";

/** Runs .fbp text with `registry` plus `test/Sink`; what each sink kept. */
async function run(
  text: string,
  registry = builtins(),
): Promise<{
  sinks: Record<string, unknown[]>;
  errors: ProcessError[];
  net: Network;
}> {
  const sinks: Record<string, unknown[]> = {};
  registry.register(defineComponent({
    name: "test/Sink",
    description: "Keeps every message, by process name.",
    inPorts: { in: {} },
    process(value, ctx) {
      (sinks[ctx.process] ??= []).push(value);
    },
  }));
  const net = createNetwork(text, { registry, name: "budget-flow" });
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  assert.notEqual(await finishedWithin(net, 10_000), "timeout");
  return { sinks, errors, net };
}

/** A recursion that never ends (and is no tail call: each level nests). */
const ENDLESS = "($f := function($n) { 1 + $f($n + 1) }; $f(0))";

test("flow/Map fails an endlessly recursing expression by its depth budget, names flow, process and limit, and goes on", async () => {
  const { sinks, errors, net } = await run(`
    '${ENDLESS}' -> expr M(flow/Map)
    '1' -> in M out -> in K(test/Sink)
  `);
  assert.equal(sinks.K, undefined);
  assert.equal(errors.length, 1);
  const e = errors[0];
  assert.equal(e.kind, "timeout");
  assert.ok(e.cause instanceof BudgetError);
  assert.equal(e.cause.limit, "maxDepth");
  assert.equal(e.cause.budget, DEFAULT_EXPRESSION_BUDGET.maxDepth);
  assert.equal(
    e.message,
    'process "M" failed on in-port "in": the JSONata expression of process "M" in flow "budget-flow" nested deeper than its budget of 1000 steps (JSONata D1011), as an endless recursion does; the message was given up',
  );
  const m = net.stats().processes.find((p) => p.name === "M")!;
  assert.equal(m.errors.timeout, 1);
  assert.equal(m.errors.exception, 0);
});

test("flow/Map fails a long evaluation by its time budget, and the next message goes through", async () => {
  const registry = builtins({
    expressionBudget: { timeoutMs: 20, maxDepth: 1000 },
  });
  const t0 = performance.now();
  const { sinks, errors } = await run(
    `
    'big ? $count([1..1000000][$ % 2 = 0]) : n + 1' -> expr M(flow/Map)
    S(test/Feed) out -> in M out -> in K(test/Sink)
    M error -> in E(test/Sink)
  `,
    registry.register(defineComponent({
      name: "test/Feed",
      description: "Sends a heavy message, then a light one.",
      outPorts: { out: {} },
      async run(ctx) {
        await ctx.send("out", { big: true });
        await ctx.send("out", { big: false, n: 1 });
      },
    })),
  );
  // The budget stopped it long before the million steps ran out.
  assert.ok(performance.now() - t0 < 5_000);
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.K, [2]);
  assert.equal(sinks.E.length, 1);
  const e = sinks.E[0] as ProcessError;
  assert.equal(e.kind, "timeout");
  assert.match(
    e.message,
    /the JSONata expression of process "M" in flow "budget-flow" ran longer than its budget of 20 ms \(JSONata D1012\)/,
  );
});

test("flow/Filter evaluates its expression within the budget too", async () => {
  const { sinks, errors } = await run(`
    '${ENDLESS}' -> expr F(flow/Filter)
    '1' -> in F out -> in K(test/Sink)
  `);
  assert.equal(sinks.K, undefined);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, "timeout");
  assert.match(errors[0].message, /process "F" in flow "budget-flow"/);
});

test("flow/Map bounds an expression left to the jsonata package with the same budget", async () => {
  // A binding inside an array constructor is left to the package.
  const { errors } = await run(`
    '[$x := 0, ${ENDLESS}]' -> expr M(flow/Map)
    '1' -> in M out -> in K(test/Sink)
  `);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, "timeout");
  assert.match(errors[0].message, /nested deeper than its budget of 1000/);
});

test("flowMap() refuses a budget out of range with a sentence", () => {
  assert.throws(
    () => flowMap({ expressionBudget: { timeoutMs: 1000, maxDepth: 0 } }),
    {
      name: "RangeError",
      message:
        "Cannot use the expression budget: maxDepth must be an integer from 1 to 1000000, received number 0",
    },
  );
  assert.throws(
    () => builtins({ expressionBudget: { timeoutMs: 2 ** 31, maxDepth: 10 } }),
    /timeoutMs must be an integer from 1 to 2147483647/,
  );
});
