/**
 * A process for the stall watchdog's tests and bench: a flow manager with
 * the watchdog (JSON log lines) and one flow whose process blocks the
 * event loop. Prints `START <epoch ms>` when the block begins and
 * `INFO <flow info JSON>` once the flow failed, then exits; the watchdog's
 * own line is on standard error.
 *
 *   deno run -A tests/flows/_stall_fixture.ts [blockMs] [thresholdMs]
 *   bun tests/flows/_stall_fixture.ts [blockMs] [thresholdMs]
 *
 * @module
 */
import process from "node:process";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { StallWatchdog } from "../../src/flows/stall_watchdog.ts";

const args = process.argv.slice(process.argv.indexOf(import.meta.filename!) + 1)
  .filter((a) => /^\d+$/.test(a));
const blockMs = Number(args[0] ?? 3000);
const thresholdMs = Number(args[1] ?? 2000);

const Block = defineComponent({
  name: "test/Block",
  description: "Busy-waits for the message's number of ms.",
  inPorts: { in: {} },
  process(v) {
    const start = Date.now();
    process.stdout.write(`START ${start}\n`);
    while (Date.now() < start + Number(v)) {
      // Blocks the thread: the point.
    }
  },
});

const dog = await StallWatchdog.start({ thresholdMs, format: "json" });
const flows = new FlowManager({
  store: FlowStore.open(":memory:"),
  registry: builtins().register(Block),
  watchdog: dog,
  log: () => {},
});
await flows.restore();
await flows.create({
  id: "poison",
  text: `'${blockMs}' -> in Stall(test/Block)`,
  format: "fbp",
});
const end = Date.now() + blockMs + 10_000;
while (flows.get("poison").state !== "failed" && Date.now() < end) {
  await new Promise((r) => setTimeout(r, 5));
}
process.stdout.write(`INFO ${JSON.stringify(flows.get("poison"))}\n`);
await flows.close();
dog.close();
