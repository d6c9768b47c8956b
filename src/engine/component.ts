/**
 * Components: the reusable process definitions that a network instantiates.
 *
 * A component declares named, typed in- and out-ports and either a
 * per-message `process` function (activated once per message, FBP style) or
 * a looping `run` function (an async function that pulls from its inputs and
 * pushes to its outputs until it returns).
 *
 * @module
 */

import type { ReportLevel } from "./errors.ts";
import { checkMeterSpecs, type Meter, type MeterSpec } from "./meters.ts";
import { checkOptionKeys, optionKeys } from "./option_keys.ts";

/** Value types a port can declare; used for the catalogue and to check IIPs. */
export type PortType =
  | "any"
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "object"
  | "array"
  | "bang"
  | "function"
  | "duration";

/** The port types a component may declare, in catalogue order. */
export const PORT_TYPES: readonly PortType[] = [
  "any",
  "string",
  "number",
  "integer",
  "boolean",
  "object",
  "array",
  "bang",
  "function",
  "duration",
];

/** Declaration of an in-port. */
export interface InPortSpec {
  /** Value type, for the catalogue and IIP checks. Default `"any"`. */
  type?: PortType;
  /** One sentence for the catalogue. */
  description?: string;
  /** An array port (`in[0]`, `in[1]`, ...); `ctx.index` tells which. Default `false`. */
  addressable?: boolean;
  /**
   * A control port keeps its latest value (read with `ctx.control(name)`)
   * and does not activate the process. While a control port is fed by a
   * connection and has had no value yet (no IIP either), the process
   * waits: it takes no message (a loop does not start) until the value
   * comes or every connection feeding the port has closed (as NoFlo does).
   * Default `false`.
   */
  control?: boolean;
  /** The graph must connect this port or give it an IIP. Default `false`. */
  required?: boolean;
  /**
   * Whether several connections may feed this port. Default `true` for data
   * ports (they merge), `false` for control ports.
   */
  multiple?: boolean;
  /**
   * Value of a control port before any packet arrives, already in the form
   * `parse` returns (it is not passed through `parse`).
   */
  default?: unknown;
  /**
   * Checks and converts a value arriving on a control port (IIPs are checked
   * when the graph is validated). Throws a `TypeError` or `RangeError` whose
   * message says what is wrong with the value.
   */
  parse?: (value: unknown) => unknown;
  /**
   * The port takes a secret (a password, a token; given as a reference):
   * a problem with its value names the value's type, never the value.
   * Default `false`.
   */
  secret?: boolean;
}

/** Declaration of an out-port. */
export interface OutPortSpec {
  /** Value type, for the catalogue. Default `"any"`. */
  type?: PortType;
  /** One sentence for the catalogue. */
  description?: string;
  /** An array port: `ctx.send(port, value, index)` picks one connection. Default `false`. */
  addressable?: boolean;
  /**
   * For an addressable port: the indexes a process sends on, as its
   * settings say (the parsed initial packet of each in-port that has one,
   * as `checkSettings` sees them), or `undefined` when they do not say (a
   * setting fed by a connection). A graph's connection from another index
   * would never carry a message: `validateGraph()` reports it.
   */
  indexes?: (
    settings: Readonly<Record<string, unknown>>,
  ) => readonly number[] | undefined;
}

/**
 * The TypeScript type of the values each port type stands for: what a
 * process receives on an in-port of that type and what an out-port of that
 * type accepts. Types only: nothing checks a data message at run time (the
 * graph's IIPs are checked when it is validated).
 */
export interface PortValueMap {
  /** Any value. */
  any: unknown;
  /** A string. */
  string: string;
  /** A number. */
  number: number;
  /** An integer (TypeScript has no integer type). */
  integer: number;
  /** A boolean. */
  boolean: boolean;
  /** A plain object (not an array, not null). */
  object: Record<string, unknown>;
  /** An array. */
  array: unknown[];
  /** A signal whose value carries no meaning: anything triggers it. */
  bang: unknown;
  /**
   * A function. Its parameters are `never` so that every function fits the
   * port; the receiver narrows it to the signature it expects.
   */
  function: (...args: never[]) => unknown;
  /** A duration as {@linkcode parseDuration} reads it: `250` or `"1.5s"`. */
  duration: number | string;
}

/**
 * The TypeScript type of the values of a declared port: from its `type`
 * through {@linkcode PortValueMap}, `unknown` when it declares none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PortValue } from "./component.ts";
 *
 * const n: PortValue<{ type: "number" }> = 3;
 * const u: PortValue<{ description: "no type" }> = "anything";
 * assert.deepEqual([n, u], [3, "anything"]);
 * ```
 */
export type PortValue<P> = P extends { type: infer T extends PortType }
  ? PortValueMap[T]
  : unknown;

/** In-port name to the type of its values, from the in-port declarations. */
export type InPortValues<I> = { [K in keyof I]: PortValue<I[K]> };

/**
 * Out-port name to the type of the values it accepts, from the out-port
 * declarations; an `error` port that is not declared accepts anything.
 */
export type OutPortValues<O> =
  & { [K in keyof O]: PortValue<O[K]> }
  & (string extends keyof O ? unknown
    : "error" extends keyof O ? unknown
    : { error: unknown });

/**
 * What `process` receives: a value of any of the data (non-control)
 * in-ports, `unknown` when one of them declares no type.
 */
export type DataValue<I> = {
  [K in keyof I]: I[K] extends { control: true } ? never : PortValue<I[K]>;
}[keyof I];

/** A handle on one out-port of a running process. */
export interface OutPort<T = unknown> {
  /**
   * Sends a value to every connection of the port (or to the one at `index`
   * of an addressable port). Returns `undefined` when every connection took
   * the value at once, or a promise that settles when a full connection with
   * the `block` policy has taken it: `await` it to respect back pressure.
   */
  send(value: T, index?: number): void | Promise<void>;
  /** Whether at least one connection is attached. */
  readonly connected: boolean;
  /** Number of attached connections. */
  readonly width: number;
}

/**
 * What a process function sees: the current message and the process's ports.
 * `In` and `Out` map port names to the types of their values (see
 * {@linkcode InPortValues} and {@linkcode OutPortValues}); by default any
 * name and any value.
 */
export interface Context<
  S = unknown,
  In extends Record<string, unknown> = Record<string, unknown>,
  Out extends Record<string, unknown> = Record<string, unknown>,
> {
  /** The process's name in its graph. */
  readonly process: string;
  /** The network's (flow's) name. */
  readonly network: string;
  /** The in-port the current message arrived on (`""` outside an activation). */
  readonly port: string;
  /** Index of the addressable in-port connection, or `-1`. */
  readonly index: number;
  /** The process's out-ports by name. */
  readonly out: Readonly<{ [P in keyof Out]: OutPort<Out[P]> }>;
  /** Shorthand for `ctx.out[port].send(value, index)`. */
  send<P extends keyof Out & string>(
    port: P,
    value: Out[P],
    index?: number,
  ): void | Promise<void>;
  /**
   * The latest value of a control port (its `default` before any arrived).
   * A name the component does not declare is a type error, as it is for
   * `send()` (and a `RangeError` at run time).
   */
  control<T = unknown>(port: keyof In & string): T;
  /** Per-process state, as returned by the component's `setup`. */
  state: S;
  /** Aborted when the network stops (and, for sources, when it drains). */
  readonly signal: AbortSignal;
  /** Graph metadata of this process (weir settings and component options). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /**
   * Loop components: the messages of one in-port, in order, ending when the
   * port is closed (every upstream process finished) and empty.
   */
  input<P extends keyof In & string>(port: P): AsyncIterable<In[P]>;
  /**
   * Loop components: the next message of one in-port, or {@linkcode END}
   * once the port is closed and empty.
   */
  receive<P extends keyof In & string>(port: P): Promise<In[P] | typeof END>;
  /**
   * The series of one of the component's meters (see `meters` in
   * {@linkcode ComponentSpec}) with `labels`, each one of its declared
   * values: a plain number to `add()` to or `set()`, exported at scrape
   * time as `<namespace>_<name>{flow, process, ...labels}`. Ask once, in
   * `setup`, and keep it in the state; throws a `RangeError` for a meter
   * or a label value the component did not declare.
   */
  meter(name: string, labels?: Readonly<Record<string, string>>): Meter;
  /**
   * Reports a fault that does not end the process: a message it could not
   * decode, or (`level` `"warning"`) a condition it goes on through, such
   * as a broker that refused the credentials and is tried again, or
   * (`level` `"info"`) the end of such a condition that an operator waits
   * for (the broker reached again). Sent as a `ProcessError` of that level
   * to its `error` port when connected, else to the network's `error`
   * event (which `weir serve` logs, rate-limited, a warning at `warn` and
   * an info at `info`). An error (the default) is counted in the
   * process's errors as a failed activation is, and says the process
   * failed; a warning or an info is not counted, and its message names the
   * process and its component (`process "In" (my/Source): ...`). An
   * `error` that is a `ProcessError` of this process goes as it is, at its
   * own level.
   * Keep `input` small: it travels with the error.
   */
  report(
    error: unknown,
    input?: unknown,
    options?: { level?: ReportLevel },
  ): void;
}

/** Returned by `ctx.receive()` when the port is closed and empty. */
export const END: unique symbol = Symbol("weir.end");

/**
 * The context of a component declared with in-ports `I` and out-ports `O`.
 */
export type ContextOf<S, I, O> = Context<
  S,
  InPortValues<I>,
  OutPortValues<O>
>;

/**
 * The full declaration handed to {@linkcode defineComponent}. `I` and `O`
 * are the in- and out-port declarations, which type what `process`
 * receives and what `ctx.send()` accepts.
 */
export interface ComponentSpec<
  S = undefined,
  I extends Record<string, InPortSpec> = Record<string, InPortSpec>,
  O extends Record<string, OutPortSpec> = Record<string, OutPortSpec>,
> {
  /** Catalogue name, `family/Name` (e.g. `core/Repeat`). */
  name: string;
  /** One sentence for the catalogue. */
  description: string;
  /** In-ports by name. */
  inPorts?: I;
  /**
   * Out-ports by name. Every component also has an `error` out-port (added
   * when not declared) that receives its faults as `ProcessError`s.
   */
  outPorts?: O;
  /** Activations that may be in flight at once (async processes only). Default 1. */
  concurrency?: number;
  /**
   * Its own metrics (see `meters.ts`): each process writes them through
   * `ctx.meter()`, and they are exported with `flow` and `process` labels.
   * Components that share a meter name must declare it identically.
   */
  meters?: readonly MeterSpec[];
  /** Creates the per-process state, once per start. */
  setup?: (ctx: ContextOf<S, I, O>) => S;
  /**
   * Activated once per message on a data in-port. May return a promise;
   * the process takes no other message (beyond `concurrency`) until it settles.
   */
  process?: (
    value: DataValue<I>,
    ctx: ContextOf<S, I, O>,
  ) => void | Promise<void>;
  /** Called once every data in-port is closed and empty, before out-ports close. */
  flush?: (ctx: ContextOf<S, I, O>) => void | Promise<void>;
  /**
   * Called when a control port takes a new value while the network runs
   * (after `parse`), e.g. to restart a timer with a new interval. Initial
   * packets are applied before `setup` and do not call it.
   */
  onControl?: (port: string, value: unknown, ctx: ContextOf<S, I, O>) => void;
  /** Loop style: runs once; the process finishes when it returns. */
  run?: (ctx: ContextOf<S, I, O>) => Promise<void>;
  /** Called when the process stops, whatever the reason. */
  teardown?: (ctx: ContextOf<S, I, O>) => void;
  /**
   * Checks settings that depend on each other when a graph is validated
   * (each port's own `parse` has passed): `settings` holds the parsed
   * initial packet of each in-port that has one, `connected` the in-ports
   * fed otherwise (a connection or an exported port: their values come
   * while the flow runs). Returns the problem as a sentence, or undefined.
   */
  checkSettings?: (
    settings: Readonly<Record<string, unknown>>,
    connected: ReadonlySet<string>,
  ) => string | undefined;
  /**
   * Checks together, when a graph is validated as a flow, every process of
   * the flow that uses this component, a subgraph's inner ones included:
   * for what no process can know alone, such as two `http/In` serving the
   * same route. Called once per flow with the processes in the flow's
   * order (only when the flow is otherwise valid and builds); it returns
   * a problem per process at fault, each reported at that process's place
   * in the graph (a subgraph's inner process at the subgraph process's),
   * with `message` as it is: name the processes in it. The processes of
   * every component that declares the same function are checked together,
   * so one component made twice (by two registries) counts as one.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { defineComponent, type ProcessSettings } from "./component.ts";
   *
   * // At most one process of a flow may own a device.
   * const Device = defineComponent({
   *   name: "io/Device",
   *   description: "Reads a device.",
   *   inPorts: { device: { type: "string", control: true, default: "/dev/ttyS0" } },
   *   run: async () => {},
   *   checkProcesses(processes) {
   *     const owner = new Map<unknown, string>();
   *     return processes.flatMap(({ process, settings }) => {
   *       const first = owner.get(settings.device);
   *       if (first === undefined) owner.set(settings.device, process);
   *       return first === undefined ? [] : [{
   *         process,
   *         message: `process "${process}" reads ${settings.device}, which process "${first}" reads already`,
   *       }];
   *     });
   *   },
   * });
   * const flow: ProcessSettings[] = [
   *   { process: "A", settings: { device: "/dev/ttyS0" } },
   *   { process: "B", settings: { device: "/dev/ttyS1" } },
   *   { process: "C", settings: { device: "/dev/ttyS0" } },
   * ];
   * assert.deepEqual(Device.checkProcesses?.(flow), [{
   *   process: "C",
   *   message: 'process "C" reads /dev/ttyS0, which process "A" reads already',
   * }]);
   * ```
   */
  checkProcesses?: (
    processes: readonly ProcessSettings[],
  ) => readonly ProcessProblem[];
}

/**
 * A process of a flow as {@linkcode ComponentSpec.checkProcesses} sees it.
 */
export interface ProcessSettings {
  /**
   * The process's name in the flow: `S/In` for process `In` of subgraph
   * process `S`.
   */
  readonly process: string;
  /**
   * The value each in-port would start with, as far as the graph settles
   * it: its one initial packet, parsed, or its `default` when nothing feeds
   * it. A port fed by a connection or an exported port (its value comes
   * while the flow runs), by several initial packets, or by one its `parse`
   * refuses (a problem of its own) has no entry.
   */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** A problem {@linkcode ComponentSpec.checkProcesses} finds. */
export interface ProcessProblem {
  /** The process at fault, as its {@linkcode ProcessSettings} names it. */
  readonly process: string;
  /** The problem as a sentence a user can act on, naming the process. */
  readonly message: string;
}

/**
 * A defined component: the spec with its ports filled in and checked. Its
 * functions are declared as methods so that a `Component<MyState>` is also
 * a `Component` (of unknown state) wherever components are collected.
 */
export interface Component<S = unknown> {
  /** Catalogue name, `family/Name`. */
  readonly name: string;
  /** One sentence for the catalogue. */
  readonly description: string;
  /** In-ports by name, defaults filled in. */
  readonly inPorts: Readonly<Record<string, Readonly<InPortSpec>>>;
  /** Out-ports by name, `error` included. */
  readonly outPorts: Readonly<Record<string, Readonly<OutPortSpec>>>;
  /** Activations that may be in flight at once. */
  readonly concurrency: number;
  /** Its meters (empty when it declares none). */
  readonly meters: readonly MeterSpec[];
  /** See {@linkcode ComponentSpec.setup}. */
  setup?(ctx: Context<S>): S;
  /** See {@linkcode ComponentSpec.process}. */
  process?(value: unknown, ctx: Context<S>): void | Promise<void>;
  /** See {@linkcode ComponentSpec.flush}. */
  flush?(ctx: Context<S>): void | Promise<void>;
  /** See {@linkcode ComponentSpec.onControl}. */
  onControl?(port: string, value: unknown, ctx: Context<S>): void;
  /** See {@linkcode ComponentSpec.run}. */
  run?(ctx: Context<S>): Promise<void>;
  /** See {@linkcode ComponentSpec.teardown}. */
  teardown?(ctx: Context<S>): void;
  /** See {@linkcode ComponentSpec.checkSettings}. */
  checkSettings?(
    settings: Readonly<Record<string, unknown>>,
    connected: ReadonlySet<string>,
  ): string | undefined;
  /** See {@linkcode ComponentSpec.checkProcesses}. */
  checkProcesses?(
    processes: readonly ProcessSettings[],
  ): readonly ProcessProblem[];
}

/** The `error` out-port every component has, declared or not. */
export const ERROR_PORT: Readonly<OutPortSpec> = Object.freeze({
  type: "object",
  description:
    "Faults of this process: a ProcessError for each message it failed (when connected; otherwise the network's error event)",
});

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*(\/[A-Za-z_][A-Za-z0-9_-]*)*$/;
const PORT_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

// A key nobody reads (`teardwon`, `inports`, a port's `contrl`) would leave
// the component without it, silently: a component module is stripped of
// its types, not checked.
const SPEC_KEYS = optionKeys<ComponentSpec<unknown>>()([
  "name",
  "description",
  "inPorts",
  "outPorts",
  "concurrency",
  "meters",
  "setup",
  "process",
  "flush",
  "onControl",
  "run",
  "teardown",
  "checkSettings",
  "checkProcesses",
]);
const IN_PORT_KEYS = optionKeys<InPortSpec>()([
  "type",
  "description",
  "addressable",
  "control",
  "required",
  "multiple",
  "default",
  "parse",
  "secret",
]);
const OUT_PORT_KEYS = optionKeys<OutPortSpec>()([
  "type",
  "description",
  "addressable",
  "indexes",
]);

/**
 * Defines a component, checking its declaration.
 *
 * The declared port types also type the component in TypeScript (see
 * {@linkcode PortValueMap}): `process` receives a value of its data
 * in-ports' types, `ctx.send()` and `ctx.out` take only declared out-port
 * names and values of their types, `ctx.input()` and `ctx.receive()` yield
 * their port's type. A port without a type gives `unknown`. The ports are
 * typed when the type arguments are inferred: `defineComponent<State>(...)`
 * leaves every port untyped (any name, any value), so to type the ports of a
 * component with state, give the state's type on `setup`'s return instead.
 * Types only: nothing checks a data message at run time.
 *
 * A bad declaration throws a `TypeError` (or a `RangeError`) naming the
 * component and what is wrong: a key of the spec or of a port that it
 * does not read (`teardwon`, a port's `contrl`, with the closest key), a
 * meter named as one of weir's own metrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent } from "./component.ts";
 *
 * const Double = defineComponent({
 *   name: "math/Double",
 *   description: "Doubles every number.",
 *   inPorts: { in: { type: "number" } },
 *   outPorts: { out: { type: "number" } },
 *   process(value, ctx) {
 *     // `value` is a number and "out" takes numbers: no cast needed.
 *     ctx.send("out", value * 2);
 *   },
 * });
 * assert.deepEqual(Object.keys(Double.outPorts), ["out", "error"]);
 * assert.deepEqual(Double.inPorts.in.type, "number");
 * assert.throws(
 *   () => defineComponent({ ...Double, onControll() {} } as never),
 *   /unknown option "onControll"; did you mean "onControl"\?/,
 * );
 * ```
 */
export function defineComponent<
  S = undefined,
  const I extends Record<string, InPortSpec> = Record<string, InPortSpec>,
  const O extends Record<string, OutPortSpec> = Record<string, OutPortSpec>,
>(
  spec: ComponentSpec<S, I, O>,
): Component<S> {
  const where = `Cannot define component "${String(spec?.name)}"`;
  if (typeof spec?.name !== "string" || !NAME_RE.test(spec.name)) {
    throw new TypeError(
      `${where}: name must look like "family/Name" (letters, digits, _ and -), received ${
        JSON.stringify(spec?.name)
      }`,
    );
  }
  checkOptionKeys(where, spec, SPEC_KEYS);
  if (!spec.process && !spec.run) {
    throw new TypeError(`${where}: give a process or a run function`);
  }
  if (spec.process && spec.run) {
    throw new TypeError(
      `${where}: give a process or a run function, not both`,
    );
  }
  const concurrency = spec.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `${where}: concurrency must be a positive integer, received ${concurrency}`,
    );
  }
  const inPorts: Record<string, InPortSpec> = {};
  for (const [port, p] of Object.entries(spec.inPorts ?? {})) {
    checkPort(where, "in", port, p);
    inPorts[port] = {
      type: p.type ?? "any",
      multiple: p.multiple ?? !p.control,
      ...p,
    };
  }
  const outPorts: Record<string, OutPortSpec> = {};
  for (const [port, p] of Object.entries(spec.outPorts ?? {})) {
    checkPort(where, "out", port, p);
    outPorts[port] = { type: p.type ?? "any", ...p };
  }
  // Every process can route its faults: `A error -> in Log` works for any A.
  outPorts.error ??= { ...ERROR_PORT };
  return Object.freeze({
    name: spec.name,
    description: spec.description ?? "",
    inPorts: Object.freeze(inPorts),
    outPorts: Object.freeze(outPorts),
    concurrency,
    meters: spec.meters === undefined
      ? _NO_METERS
      : checkMeterSpecs(spec.name, spec.meters),
    setup: spec.setup,
    process: spec.process,
    flush: spec.flush,
    onControl: spec.onControl,
    run: spec.run,
    teardown: spec.teardown,
    checkSettings: spec.checkSettings,
    checkProcesses: spec.checkProcesses,
  }) as Component<S>;
}

const _NO_METERS: readonly MeterSpec[] = Object.freeze([]);

/**
 * Whether `value` is a component as `defineComponent` returns it: a frozen
 * object with a name, in- and out-ports (the `error` port among them) and
 * a `process` or `run` function. Anything else (a module's helpers and
 * constants, a spec not passed to `defineComponent`) is not one, and a
 * `Registry` refuses it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent, isComponent } from "./component.ts";
 *
 * const Noop = defineComponent({ name: "my/Noop", description: "", process() {} });
 * assert.equal(isComponent(Noop), true);
 * assert.equal(isComponent({ name: "my/Noop", process() {} }), false);
 * assert.equal(isComponent(42), false);
 * ```
 */
export function isComponent(value: unknown): value is Component {
  if (
    typeof value !== "object" || value === null || !Object.isFrozen(value)
  ) {
    return false;
  }
  const c = value as Partial<Component>;
  return typeof c.name === "string" && typeof c.inPorts === "object" &&
    c.inPorts !== null && typeof c.outPorts === "object" &&
    c.outPorts !== null && "error" in c.outPorts &&
    (typeof c.process === "function" || typeof c.run === "function");
}

function checkPort(
  where: string,
  dir: "in" | "out",
  port: string,
  p: InPortSpec | OutPortSpec,
): void {
  if (port in Object.prototype) {
    throw new TypeError(
      `${where}: ${dir}-port name ${
        JSON.stringify(port)
      } is reserved (every JavaScript object has it); choose another name`,
    );
  }
  if (!PORT_RE.test(port)) {
    throw new TypeError(
      `${where}: ${dir}-port name ${
        JSON.stringify(port)
      } must start with a letter or _ and hold only letters, digits, _ and .`,
    );
  }
  checkOptionKeys(
    `${where}: ${dir}-port "${port}"`,
    p,
    dir === "in" ? IN_PORT_KEYS : OUT_PORT_KEYS,
  );
  if (p.type !== undefined && !PORT_TYPES.includes(p.type)) {
    throw new TypeError(
      `${where}: ${dir}-port "${port}" has unknown type ${
        JSON.stringify(p.type)
      }; use one of ${PORT_TYPES.join(", ")}`,
    );
  }
}

/**
 * Checks a value against a port type; returns a sentence saying what is
 * wrong, or `undefined` when it fits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPortValue } from "./component.ts";
 *
 * assert.deepEqual(
 *   checkPortValue("number", "3"),
 *   'expected a number, received string "3"',
 * );
 * assert.deepEqual(checkPortValue("number", 3), undefined);
 * ```
 */
export function checkPortValue(
  type: PortType | undefined,
  value: unknown,
): string | undefined {
  switch (type ?? "any") {
    case "any":
    case "bang":
      return undefined;
    case "string":
      return typeof value === "string" ? undefined : _expected(type!, value);
    case "number":
      return typeof value === "number" ? undefined : _expected(type!, value);
    case "boolean":
      return typeof value === "boolean" ? undefined : _expected(type!, value);
    case "function":
      return typeof value === "function" ? undefined : _expected(type!, value);
    case "integer":
      return Number.isInteger(value) ? undefined : _expected("integer", value);
    case "object":
      return value !== null && typeof value === "object" &&
          !Array.isArray(value)
        ? undefined
        : _expected("object", value);
    case "array":
      return Array.isArray(value) ? undefined : _expected("array", value);
    case "duration":
      try {
        parseDuration(value);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
  }
}

function _expected(type: string, value: unknown): string {
  const article = /^[aeiou]/.test(type) ? "an" : "a";
  return `expected ${article} ${type}, received ${describeValue(value)}`;
}

/**
 * A value's type in a word, never the value: for a value that may be a
 * secret (a number or an object given where a secret reference goes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeType } from "./component.ts";
 *
 * assert.deepEqual([describeType(1234), describeType(null), describeType([1])], ["number", "null", "an array"]);
 * ```
 */
export function describeType(value: unknown): string {
  return value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : typeof value;
}

/**
 * Describes a value in a few words for error messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeValue } from "./component.ts";
 *
 * assert.deepEqual(describeValue("abc"), 'string "abc"');
 * assert.deepEqual(describeValue([1, 2]), "array of 2");
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `array of ${value.length}`;
  switch (typeof value) {
    case "string": {
      const s = value.length > 40 ? value.slice(0, 37) + "..." : value;
      return `string ${JSON.stringify(s)}`;
    }
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    default:
      return typeof value;
  }
}

const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/;
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a duration (`250`, `"250ms"`, `"1.5s"`, `"2m"`, `"1h"`) into
 * milliseconds; a bare number is milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./component.ts";
 *
 * assert.deepEqual(parseDuration("1.5s"), 1500);
 * assert.deepEqual(parseDuration(250), 250);
 * ```
 */
export function parseDuration(value: unknown): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === "string") {
    const m = DURATION_RE.exec(value);
    if (m) return Number(m[1]) * DURATION_UNITS[m[2] ?? "ms"];
  }
  throw new RangeError(
    `expected a duration such as 500, "500ms", "1.5s", "2m" or "1h", received ${
      describeValue(value)
    }`,
  );
}

/**
 * Whether a value is a promise or other thenable, as a process function may
 * return. Checks `undefined` first: the common answer on the hot path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isThenable } from "./component.ts";
 *
 * assert.deepEqual(isThenable(Promise.resolve()), true);
 * assert.deepEqual(isThenable(undefined), false);
 * ```
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== undefined && value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function";
}
