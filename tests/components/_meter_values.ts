/**
 * Reads a running network's component meters as plain numbers, for the
 * tests of components that declare meters.
 *
 * @module
 */
import type { Network } from "../../src/engine/network.ts";

/**
 * The meter series of process `process` in `net`, by `name{label="value"}`
 * (labels in declaration order; `name` alone without labels).
 */
export function meterValues(
  net: Network,
  process: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  net.forEachMeter((p, m) => {
    if (p !== process) return;
    const labels = Object.entries(m.labels).map(([k, v]) => `${k}="${v}"`);
    out[labels.length === 0 ? m.spec.name : `${m.spec.name}{${labels}}`] =
      m.value;
  });
  return out;
}
