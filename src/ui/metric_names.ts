/**
 * The names of the engine's metrics as this server exports them: their
 * prefix is the server's `--metrics-namespace` (`weir` unless
 * `/ui/access` says otherwise). DOM-free, so the tests import it.
 *
 * @module
 */

/** The prefix of the engine's metric names on this server. */
export const metricNames = { namespace: "weir" };

/**
 * An engine metric's name as this server exports it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricName, metricNames } from "./metric_names.ts";
 *
 * assert.equal(metricName("process_messages_total"), "weir_process_messages_total");
 * metricNames.namespace = "edge";
 * assert.equal(metricName("process_messages_total"), "edge_process_messages_total");
 * metricNames.namespace = "weir";
 * ```
 */
export function metricName(name: string): string {
  return `${metricNames.namespace}_${name}`;
}
