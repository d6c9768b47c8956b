/**
 * Stand-alone processes for the unit tests of the engine's parts (breaker,
 * guard, deadlock, drain, stats, faults), without a network around them.
 *
 * @module
 */
import { type Component, defineComponent } from "../../src/engine/component.ts";
import { Connection } from "../../src/engine/connection.ts";
import {
  type Engine,
  OutPortHandle,
  ProcessContext,
  ProcessRuntime,
} from "../../src/engine/process.ts";
import type { CircuitBreakerSpec, RetrySpec } from "../../src/engine/spec.ts";

/** An engine that records what processes send and never delivers input. */
export function fakeEngine(sent: unknown[] = []): Engine {
  return {
    name: "test",
    sendFrom(_out, value) {
      sent.push(value);
    },
    receive: () => new Promise(() => {}),
  };
}

/** A per-message component with an in-port `in`, an out-port `out` and `error`. */
export function componentOf(
  process: Component["process"] = () => {},
): Component {
  return defineComponent({
    name: "test/Unit",
    description: "A process for unit tests.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process,
  });
}

/** A process named `name` running `component`, with the given guard settings. */
export function processOf(
  name: string,
  component: Component = componentOf(),
  options: {
    timeoutMs?: number;
    retry?: RetrySpec;
    circuitBreaker?: CircuitBreakerSpec;
    hidden?: boolean;
    engine?: Engine;
  } = {},
): ProcessRuntime {
  const p = new ProcessRuntime(
    options.engine ?? fakeEngine(),
    name,
    component,
    {},
    options,
  );
  for (const port of Object.keys(component.outPorts)) {
    p.outs[port] = new OutPortHandle(p.engine, p, port, false);
  }
  p.errorPort = p.outs.error ?? null;
  p.inputsByPort.in = [];
  p.waiters.in = [];
  p.ctx = new ProcessContext(p, p.outs, p.abort.signal);
  return p;
}

/** Connects `from.out` to `to.in` (capacity 2 unless given, block). */
export function connect(
  from: ProcessRuntime,
  to: ProcessRuntime,
  capacity = 2,
): Connection<ProcessRuntime> {
  const c = new Connection(
    { proc: from, port: "out", index: -1 },
    { proc: to, port: "in", index: -1 },
    capacity,
    "block",
    false,
  );
  from.outs.out.conns.push(c);
  from.outConns.push(c);
  to.inputs.push(c);
  to.inputsByPort.in.push(c);
  return c;
}
