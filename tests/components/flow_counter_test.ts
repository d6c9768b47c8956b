import { test } from "node:test";
import assert from "node:assert/strict";
import { runComponent } from "./_helpers.ts";
import { FlowCounter } from "../../src/components/flow.ts";

test("flow/Counter forwards every message and sends the total on count at the end", async () => {
  const { outputs, arrivals } = await runComponent(FlowCounter, {
    input: ["a", "b", "c"],
  });
  assert.deepEqual(outputs.out, ["a", "b", "c"]);
  assert.deepEqual(outputs.count, [3]);
  assert.deepEqual(arrivals.at(-1)?.port, "count");
});

test("flow/Counter sends 0 on count for an empty input", async () => {
  const { outputs } = await runComponent(FlowCounter, { input: [] });
  assert.deepEqual(outputs.count, [0]);
});
