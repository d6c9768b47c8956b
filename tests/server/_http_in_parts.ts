/**
 * The parts of a flow server whose flows serve `http/In` routes, for the
 * tests that build `flowApp` around them: the router the components and
 * the app share, the built-ins, a collector and a flow manager over an
 * in-memory store.
 *
 * @module
 */
import { builtins, HttpInRouter } from "../../src/components/mod.ts";
import type { Registry } from "../../src/engine/registry.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";

/** What {@linkcode httpInParts} makes. */
export interface HttpInParts {
  router: HttpInRouter;
  components: Registry;
  metrics: MetricsCollector;
  flows: FlowManager;
}

/** New parts; the caller closes `flows`. */
export function httpInParts(): HttpInParts {
  const router = new HttpInRouter();
  const components = builtins({ httpIn: router });
  const metrics = new MetricsCollector();
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: components,
    collector: metrics,
    drainTimeoutMs: 500,
    log: () => {},
  });
  return { router, components, metrics, flows };
}
