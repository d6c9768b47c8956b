/**
 * The families of component meters (see `src/engine/meters.ts`): one per
 * meter name the tracked flows' components declare, registered when the
 * first flow declaring it is tracked, its samples read from every tracked
 * flow's processes at scrape time with `flow` and `process` labels first.
 *
 * @module
 */
import type { MeterSpec } from "../engine/meters.ts";
import type { Network } from "../engine/network.ts";
import type { LabelDef, MetricDef } from "./catalogue.ts";
import type { SampleSink } from "./family.ts";

const FLOW: LabelDef = { name: "flow", help: "the flow (network) name" };
const PROCESS: LabelDef = {
  name: "process",
  help: "the process name; `Outer/Inner` inside a subgraph",
};

/**
 * The catalogue definition of a component meter: its labels after `flow`
 * and `process`, in the `component` group of METRICS.md.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meterDef } from "./meter_families.ts";
 *
 * const def = meterDef({ name: "mqtt_connected", type: "gauge", help: "1 while connected.", moves: "on connect" });
 * assert.deepEqual(def.labels.map((l) => l.name), ["flow", "process"]);
 * assert.equal(def.group, "component");
 * ```
 */
export function meterDef(
  spec: MeterSpec,
  usedBy?: readonly string[],
): MetricDef {
  return {
    name: spec.name,
    type: spec.type,
    help: spec.help,
    unit: spec.unit ?? "",
    labels: [FLOW, PROCESS, ...(spec.labels ?? [])],
    group: "component",
    seed: "",
    moves: usedBy === undefined || usedBy.length === 0
      ? spec.moves
      : `${spec.moves}${/[.!?]$/.test(spec.moves) ? "" : "."} Declared by ${
        usedBy.map((c) => `\`${c}\``).join(", ")
      }.`,
  };
}

/**
 * Writes the samples of meter `name` of every flow in `networks` to `sink`:
 * at most `cap` series (counting the refused ones once each in `refused`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent, type Meter, Network } from "../engine/mod.ts";
 * import { collectMeter } from "./meter_families.ts";
 *
 * const Tick = defineComponent({
 *   name: "x/Tick", description: "Counts.", inPorts: { in: {} },
 *   meters: [{ name: "ticks_total", type: "counter", help: "Ticks.", moves: "per message" }],
 *   setup: (ctx): { ticks: Meter } => ({ ticks: ctx.meter("ticks_total") }),
 *   process(_v, ctx) { ctx.state.ticks.add(); },
 * });
 * const net = new Network({
 *   name: "f",
 *   processes: [{ name: "t", component: Tick }],
 *   connections: [],
 *   initials: [{ data: 1, to: { process: "t", port: "in" } }],
 * });
 * await net.start();
 * await net.finished;
 * const seen: string[] = [];
 * collectMeter("ticks_total", [net], 10, new WeakSet(), () => {}, {
 *   add: (_s, labels, _t, v) => seen.push(`${labels.flow}/${labels.process} ${v}`),
 * });
 * assert.deepEqual(seen, ["f/t 1"]);
 * ```
 */
export function collectMeter(
  name: string,
  networks: Iterable<Network>,
  cap: number,
  refused: WeakSet<object>,
  onRefused: () => void,
  sink: SampleSink,
): void {
  let n = 0;
  for (const network of networks) {
    const flow = network.name;
    network.forEachMeter((process, m) => {
      if (m.spec.name !== name) return;
      if (n >= cap) {
        if (!refused.has(m)) {
          refused.add(m);
          onRefused();
        }
        return;
      }
      n++;
      sink.add("", { flow, process, ...m.labels }, null, m.value);
    });
  }
}
