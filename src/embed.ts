/**
 * The shortest way from a graph to a running network, for apps that embed
 * weir.
 *
 * @module
 */
import { builtins } from "./components/mod.ts";
import {
  Network,
  NETWORK_OPTION_KEYS,
  type NetworkOptions,
} from "./engine/network.ts";
import { checkOptionKeys, optionKeys } from "./engine/option_keys.ts";
import type { Registry } from "./engine/registry.ts";
import type { Graph } from "./graph/graph.ts";
import { buildNetworkSpec } from "./graph/build.ts";
import { loadGraph } from "./graph/load_graph.ts";

/** Options of {@linkcode createNetwork}. */
export interface CreateNetworkOptions extends NetworkOptions {
  /** Components to build from. Default: the built-ins (`builtins()`). */
  registry?: Registry;
  /** The flow's name. Default the graph's `properties.name`, else `"main"`. */
  name?: string;
  /** File name of the text, for `file:line:col` in problems. */
  file?: string;
}

const CREATE_NETWORK_OPTIONS = optionKeys<CreateNetworkOptions>()([
  ...NETWORK_OPTION_KEYS,
  "registry",
  "name",
  "file",
]);

/**
 * Builds a network from .fbp text, fbp-graph JSON text or a graph object.
 * Every problem of the graph is reported at once in a `GraphError`; nothing
 * runs until `start()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNetwork } from "./embed.ts";
 *
 * const net = createNetwork(`
 *   '10ms' -> interval Tick(core/Interval)
 *   3 -> count Tick
 *   Tick out -> in Drop(core/Drop)
 * `);
 * await net.start();
 * assert.equal(await net.finished, "finished");
 * const drop = net.stats().processes.find((p) => p.name === "Drop");
 * assert.equal(drop?.messagesIn.in, 3);
 * ```
 */
export function createNetwork(
  graph: string | Graph,
  options: CreateNetworkOptions = {},
): Network {
  checkOptionKeys("Cannot create network", options, CREATE_NETWORK_OPTIONS);
  const { registry, name, file, ...networkOptions } = options;
  const g = typeof graph === "string" ? loadGraph(graph, { file }) : graph;
  const spec = buildNetworkSpec(g, registry ?? builtins(), { name });
  return new Network(spec, networkOptions);
}
