/**
 * Wiring: turns a network spec into running processes joined by
 * connections, checking it against the components' ports on the way. The
 * network (see `network.ts`) then moves messages along what this builds.
 *
 * @module
 */
import { defineComponent } from "./component.ts";
import { Connection } from "./connection.ts";
import {
  type Engine,
  OutPortHandle,
  ProcessContext,
  ProcessRuntime,
} from "./process.ts";
import { DEFAULT_CAPACITY, type NetworkSpec, type PortRef } from "./spec.ts";

type Conn = Connection<ProcessRuntime>;

/** The parts of a wired network. */
export interface Wiring {
  /** Every process, in spec order (then hosts reading exported out-ports). */
  readonly procs: ProcessRuntime[];
  readonly byName: Map<string, ProcessRuntime>;
  /** Every connection: between processes, IIPs, exported ports. */
  readonly conns: Conn[];
  /** Data IIPs, one connection per port with its values. */
  readonly iips: { conn: Conn; values: unknown[] }[];
  /** Control IIPs, one connection each. */
  readonly controlIips: { conn: Conn; value: unknown }[];
  /** Exported in-ports by name. */
  readonly inports: Map<string, Conn>;
  /** Exported out-ports by name. */
  readonly outports: Map<string, PortRef>;
  /** Capacity of connections that set none. */
  readonly defaultCapacity: number;
  /** Histogram bounds for every duration. */
  readonly buckets: readonly number[] | undefined;
}

/**
 * Builds the processes and connections of `spec`; a spec that does not
 * fit its components throws a `TypeError` or `RangeError` saying where.
 */
export function wire(
  spec: NetworkSpec,
  engine: Engine,
  buckets: readonly number[] | undefined,
): Wiring {
  const where = `Cannot create network "${spec.name}"`;
  const defaultCapacity = spec.defaultCapacity ?? DEFAULT_CAPACITY;
  const w: Wiring = {
    procs: [],
    byName: new Map(),
    conns: [],
    iips: [],
    controlIips: [],
    inports: new Map(),
    outports: new Map(),
    defaultCapacity,
    buckets,
  };

  for (const ps of spec.processes) {
    if (
      ps.concurrency !== undefined &&
      (!Number.isInteger(ps.concurrency) || ps.concurrency < 1)
    ) {
      throw new RangeError(
        `${where}: process "${ps.name}" concurrency must be a positive integer, received ${ps.concurrency}`,
      );
    }
    if (w.byName.has(ps.name)) {
      throw new TypeError(`${where}: process name "${ps.name}" is used twice`);
    }
    const p = new ProcessRuntime(
      engine,
      ps.name,
      ps.component,
      ps.metadata ?? {},
      {
        concurrency: ps.concurrency,
        timeoutMs: ps.timeoutMs,
        retry: ps.retry,
        circuitBreaker: ps.circuitBreaker,
        buckets,
      },
    );
    for (const [port, out] of Object.entries(ps.component.outPorts)) {
      p.outs[port] = new OutPortHandle(
        engine,
        p,
        port,
        out.addressable === true,
      );
    }
    p.errorPort = p.outs["error"] ?? null;
    for (const [port, inp] of Object.entries(ps.component.inPorts)) {
      if (inp.control) {
        p.controls[port] = inp.default;
        p.controlIn[port] = 0;
      } else {
        p.inputsByPort[port] = [];
        p.waiters[port] = [];
      }
    }
    p.ctx = new ProcessContext(p, p.outs, p.abort.signal);
    w.procs.push(p);
    w.byName.set(ps.name, p);
  }

  const endpoint = (ref: PortRef, dir: "in" | "out", what: string) => {
    const p = w.byName.get(ref?.process);
    if (!p) {
      throw new TypeError(
        `${where}: ${what} names unknown process ${
          JSON.stringify(ref?.process)
        }`,
      );
    }
    const ports = dir === "in" ? p.component.inPorts : p.component.outPorts;
    if (!Object.hasOwn(ports, ref.port)) {
      throw new TypeError(
        `${where}: ${what} names unknown ${dir}-port "${ref.port}" of "${ref.process}" (${p.component.name}); its ${dir}-ports are ${
          Object.keys(ports).join(", ") || "none"
        }`,
      );
    }
    return { proc: p, port: ref.port, index: ref.index ?? -1 };
  };
  const isControl = (to: { proc: ProcessRuntime; port: string }) =>
    to.proc.component.inPorts[to.port].control === true;

  spec.connections.forEach((cs, i) => {
    const what = `connection ${i}`;
    const from = endpoint(cs.from, "out", what);
    const to = endpoint(cs.to, "in", what);
    const c: Conn = new Connection(
      from,
      to,
      cs.capacity ?? defaultCapacity,
      cs.policy ?? "block",
      isControl(to),
      buckets,
    );
    _attachOutput(c);
    addInput(w, c);
  });

  const iipsByPort = new Map<
    string,
    { to: ReturnType<typeof endpoint>; values: unknown[] }
  >();
  (spec.initials ?? []).forEach((iip, i) => {
    const to = endpoint(iip.to, "in", `initial packet ${i}`);
    if (isControl(to)) {
      const c: Conn = new Connection(null, to, 1, "block", true);
      w.conns.push(c);
      w.controlIips.push({ conn: c, value: iip.data });
      return;
    }
    const key = `${to.proc.name}\u0000${to.port}\u0000${to.index}`;
    let group = iipsByPort.get(key);
    if (!group) iipsByPort.set(key, group = { to, values: [] });
    group.values.push(iip.data);
  });
  for (const { to, values } of iipsByPort.values()) {
    const c: Conn = new Connection(
      null,
      to,
      values.length,
      "block",
      false,
      buckets,
    );
    c.iip = true;
    addInput(w, c, true);
    w.iips.push({ conn: c, values });
  }

  for (const [name, ref] of Object.entries(spec.inports ?? {})) {
    const to = endpoint(ref, "in", `exported in-port "${name}"`);
    const c: Conn = new Connection(
      null,
      to,
      defaultCapacity,
      "block",
      isControl(to),
      buckets,
    );
    addInput(w, c);
    w.inports.set(name, c);
  }

  for (const [name, ref] of Object.entries(spec.outports ?? {})) {
    endpoint(ref, "out", `exported out-port "${name}"`);
    w.outports.set(name, ref);
  }

  const inports = new Set(w.inports.values());
  for (const p of w.procs) {
    p.sink = !Object.values(p.outs).some((o) =>
      o !== p.errorPort && o.connected
    );
    // Drain stops sources: loops with no input from processes or the
    // host. (A per-message process fed only by IIPs ends by itself.)
    p.source = p.loop &&
      p.inputs.every((c) => c.from === null && !inports.has(c));
    if (!p.loop && p.fn === undefined) {
      throw new TypeError(
        `${where}: component ${p.component.name} has no process function`,
      );
    }
  }
  return w;
}

/** Adds `c` to the network and to its receiver's inputs (`first`: ahead of the others). */
export function addInput(w: Wiring, c: Conn, first?: boolean): void {
  w.conns.push(c);
  const p = c.target;
  if (c.control) {
    (p.controlConns[c.port] ??= []).push(c);
    return;
  }
  if (first === true) {
    p.inputs.unshift(c);
    p.inputsByPort[c.to.port].unshift(c);
  } else {
    p.inputs.push(c);
    p.inputsByPort[c.to.port].push(c);
  }
}

function _attachOutput(c: Conn): void {
  const from = c.from!;
  const out = from.proc.outs[from.port];
  out.conns.push(c);
  from.proc.outConns.push(c);
  if (from.index >= 0) out.byIndex[from.index] = c;
}

/** What a host reading an exported out-port looks like to the network. */
const _HOST_SINK = defineComponent({
  name: "weir/HostSink",
  description: "The host's end of an exported out-port.",
  inPorts: { in: {} },
  run: () => Promise.resolve(),
});

/**
 * Connects a hidden process to exported out-port `name` (`ref`), whose
 * in-port `in` the host reads; returns it.
 */
export function wireHostReader(
  w: Wiring,
  engine: Engine,
  name: string,
  ref: PortRef,
): ProcessRuntime {
  const from = w.byName.get(ref.process)!;
  const host = new ProcessRuntime(
    engine,
    `<outport ${name}>`,
    _HOST_SINK,
    {},
    { hidden: true },
  );
  host.inputsByPort.in = [];
  host.waiters.in = [];
  host.ctx = new ProcessContext(host, host.outs, host.abort.signal);
  host.sink = true;
  const c: Conn = new Connection(
    { proc: from, port: ref.port, index: ref.index ?? -1 },
    { proc: host, port: "in", index: -1 },
    w.defaultCapacity,
    "block",
    false,
  );
  _attachOutput(c);
  from.sink = false;
  addInput(w, c);
  w.procs.push(host);
  return host;
}
