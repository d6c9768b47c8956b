/**
 * `weir run` of a graph with exported in-ports: nothing can send into them
 * there, so they are closed at the start (with one log line) and the flow
 * finishes; it used to wait for them forever.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { createLogger } from "../../src/cli/log.ts";
import { runFlow } from "../../src/cli/run_flow.ts";

test("weir run closes the graph's exported in-ports at the start, so the flow finishes", async () => {
  const seen: unknown[] = [];
  let ended = 0;
  const Keep = defineComponent({
    name: "test/Keep",
    description: "Keeps what arrives, counts its input's end.",
    inPorts: { in: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) seen.push(v);
      ended++;
    },
  });
  const lines: string[] = [];
  const code = await runFlow({
    text: [
      "# @name g",
      "INPORT=Fed.IN:IN",
      "INPORT=Side.IN:SIDE",
      "'1' -> in A(core/Repeat)",
      "A out -> in K(test/Keep)",
      "Fed(core/Repeat) out -> in K",
      "Side(test/Keep)",
    ].join("\n"),
    file: "flow.fbp",
    registry: builtins().register(Keep),
    drainTimeoutMs: 1000,
    metricsAt: null,
    namespace: "weir",
    log: createLogger({
      format: "json",
      level: "info",
      write: (l) => lines.push(l),
    }),
    history: null,
  });
  assert.equal(code, 0);
  assert.deepEqual(seen, ["1"]);
  assert.equal(ended, 2);
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(
    logged.some((l) =>
      l.msg ===
        'exported in-ports "IN", "SIDE" of flow "g" closed: nothing sends into them under weir run'
    ),
    lines.join("\n"),
  );
  assert.equal(logged.at(-1)?.msg, 'flow "g" finished');
});
