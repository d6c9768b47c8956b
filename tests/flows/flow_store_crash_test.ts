import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { builtins } from "../../src/components/mod.ts";
import { buildNetworkSpec } from "../../src/graph/build.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { runtimeCommand } from "../_runtime.ts";
import { until } from "../engine/_helpers.ts";
import { flowId, textFor } from "./_store_writer.ts";

const WRITER = fileURLToPath(new URL("./_store_writer.ts", import.meta.url));
const FLOWS = 4;
const ROUNDS = 6;

/**
 * Starts the writer, lets it commit at least `acks` updates, kills it with
 * SIGKILL at a random moment a little later, and returns the last rev it
 * acknowledged for each flow.
 */
async function writeAndKill(
  path: string,
  acks: number,
): Promise<Map<string, number>> {
  const [cmd, pre] = runtimeCommand();
  const child = spawn(cmd, [...pre, WRITER, path, String(FLOWS)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<string | null>((resolve) =>
    child.on("exit", (_code, signal) => resolve(signal))
  );
  const acked = new Map<string, number>();
  let lines = 0;
  let partial = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: unknown) => {
    const text = partial + String(chunk);
    const parts = text.split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      const [id, rev] = line.split(" ");
      acked.set(id, Number(rev));
      lines++;
    }
  });
  child.stderr!.on("data", (chunk: unknown) => (stderr += String(chunk)));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  try {
    await until(() => lines >= acks || exitedEarly, 60_000);
    assert.ok(!exitedEarly, `the writer exited by itself: ${stderr}`);
    // A random moment in the stream, so the kill lands anywhere in a commit.
    await new Promise((r) => setTimeout(r, Math.random() * 40));
  } finally {
    child.kill("SIGKILL");
  }
  assert.equal(await exited, "SIGKILL", stderr);
  return acked;
}

test(
  "FlowStore: a writer killed with SIGKILL mid-stream leaves every flow whole, at or past its last acknowledged rev",
  {
    timeout: 300_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-crash-"));
    const path = join(dir, "flows.db");
    const registry = builtins();
    const seen = new Map<string, number>();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const acked = await writeAndKill(
          path,
          20 + Math.floor(Math.random() * 200),
        );
        // Opening recovers the WAL, as a restarted weir would.
        const store = FlowStore.open(path);
        const flows = store.list();
        store.close();
        assert.deepEqual(
          flows.map((f) => f.id),
          Array.from({ length: FLOWS }, (_, i) => flowId(i)),
        );
        for (const flow of flows) {
          const expected = textFor(flow.id, flow.rev);
          // The text is the one written at this rev, whole, with its format.
          assert.equal(flow.format, expected.format, `${flow.id}@${flow.rev}`);
          assert.equal(flow.text, expected.text, `${flow.id}@${flow.rev}`);
          // The writer flips running at every update after the create.
          assert.equal(
            flow.running,
            (flow.rev % 2 === 1) === (Number(flow.id.slice(5)) % 2 === 0),
          );
          const graph = loadGraph(flow.text, { format: flow.format });
          const spec = buildNetworkSpec(graph, registry, { name: flow.id });
          assert.equal(spec.processes.length, 2);
          assert.ok(flow.updatedAt >= flow.createdAt);
          // Nothing acknowledged is lost, and revs never go back.
          assert.ok(
            flow.rev >= (acked.get(flow.id) ?? 1),
            `${flow.id}: rev ${flow.rev} < acknowledged ${acked.get(flow.id)}`,
          );
          assert.ok(flow.rev >= (seen.get(flow.id) ?? 1));
          seen.set(flow.id, flow.rev);
        }
        const raw = new DatabaseSync(path);
        assert.deepEqual(
          raw.prepare("PRAGMA integrity_check").all().map((r) =>
            (r as Record<string, unknown>).integrity_check
          ),
          ["ok"],
        );
        raw.close();
      }
      // The writer got somewhere: each round advanced the flows.
      assert.ok([...seen.values()].every((rev) => rev > ROUNDS));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
