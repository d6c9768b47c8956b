/**
 * A writer for the crash test: streams updates of several flows into a file
 * flow database as fast as it can, until it is killed. After each commit it
 * prints `id rev` on stdout, so the test knows what was acknowledged.
 *
 * Usage: `<runtime> tests/flows/_store_writer.ts <database> <flows>`
 *
 * @module
 */
import { writeSync } from "node:fs";
import process from "node:process";
import { FlowStore } from "../../src/flows/flow_store.ts";

/** The id of flow number `i`. */
export function flowId(i: number): string {
  return `flow-${i}`;
}

/**
 * The one text written for `id` at `rev`: its format alternates with the
 * rev, the rev is inside it (an IIP), and it is padded past a database
 * page, so a torn or half-applied write cannot pass for a whole one.
 */
export function textFor(
  id: string,
  rev: number,
): { text: string; format: "json" | "fbp" } {
  const pad = `${id}:${rev}:`.repeat(600);
  if (rev % 2 === 0) {
    return {
      format: "fbp",
      text:
        `# ${pad}\n'${rev}ms' -> interval Tick(core/Interval) out -> in Sink(core/Drop)\n`,
    };
  }
  return {
    format: "json",
    text: JSON.stringify({
      properties: { name: id, pad },
      processes: {
        Tick: { component: "core/Interval" },
        Sink: { component: "core/Drop" },
      },
      connections: [
        { data: `${rev}ms`, tgt: { process: "Tick", port: "interval" } },
        {
          src: { process: "Tick", port: "out" },
          tgt: { process: "Sink", port: "in" },
        },
      ],
    }),
  };
}

function main(path: string, flows: number): void {
  const store = FlowStore.open(path, { busyTimeoutMs: 10_000 });
  for (let i = 0; i < flows; i++) {
    const id = flowId(i);
    if (store.get(id) === undefined) {
      store.create({ id, ...textFor(id, 1), running: i % 2 === 0 });
    }
  }
  for (let n = 0;; n++) {
    const id = flowId(n % flows);
    const old = store.get(id)!;
    const next = textFor(id, old.rev + 1);
    const flow = store.update(
      id,
      { ...next, running: !old.running },
      old.rev,
    );
    // Synchronous: the loop never yields, so a buffered stream would never
    // be flushed.
    writeSync(1, `${id} ${flow.rev}\n`);
  }
}

if (import.meta.main) {
  const [path, flows] = process.argv.slice(2);
  main(path, Number(flows));
}
