/**
 * The network side of the flow manager's operations: building a flow's
 * network, attaching it (tracked, its events forwarded), starting,
 * draining, and putting back what ran before when an operation fails.
 *
 * @module
 */
import type { Registry } from "../engine/registry.ts";
import { Network } from "../engine/network.ts";
import type { Graph } from "../graph/graph.ts";
import { buildNetworkSpec } from "../graph/build.ts";
import { GraphError } from "../graph/graph_error.ts";
import { loadGraph } from "../graph/load_graph.ts";
import type { MetricsCollector } from "../metrics/collector.ts";
import { excerpt } from "../engine/excerpt.ts";
import { _message, _q } from "./_checks.ts";
import {
  _active,
  _attachTap,
  type _Before,
  _detachTaps,
  type _Entry,
  _entry,
  _info,
  _networkState,
} from "./_flow_entry.ts";
import { FlowStartError } from "./errors.ts";
import type { FlowEvent, FlowInfo } from "./flow_info.ts";
import type { FlowLogFields, FlowLogLevel } from "./flow_manager.ts";
import type { FlowStore, StoredFlow } from "./flow_store.ts";
import { _logLevel, type ErrorLogLimiter } from "./error_log_limiter.ts";
import type { StallWatchdog } from "./stall_watchdog.ts";
import type { StallReport } from "../engine/events.ts";

/** What the runner works with: the manager's settings. */
export interface _RunnerContext {
  store: FlowStore;
  registry: Registry;
  collector: MetricsCollector | undefined;
  drainTimeoutMs: number;
  /** Each flow's bytes budget (`NetworkOptions.bytesBudget`). */
  bytesBudget?: number;
  /** The largest connection capacity a graph may ask for. */
  maxCapacity?: number;
  log: (message: string, level?: FlowLogLevel, fields?: FlowLogFields) => void;
  /**
   * Told when an entry's network failed to start (`retry` false when its
   * graph does not even build, so a restart cannot help) or finished by
   * itself: the supervisor's cue.
   */
  onEnd?: (entry: _Entry, end: "failed" | "finished", retry: boolean) => void;
  /** Rate-limits the log lines of process errors (quiet logs). */
  errors?: ErrorLogLimiter;
  /** Watches the event loop and names the processes of attached networks. */
  watchdog?: StallWatchdog;
  /** Told when an entry's network stalled the server and was stopped. */
  onStalled?: (entry: _Entry) => void;
}

/** Builds, runs and retires the networks of the manager's entries. */
export class _FlowRunner {
  readonly #store: FlowStore;
  readonly #registry: Registry;
  readonly #collector: MetricsCollector | undefined;
  readonly #drainTimeoutMs: number;
  readonly #log: (
    message: string,
    level?: FlowLogLevel,
    fields?: FlowLogFields,
  ) => void;
  readonly #onEnd: _RunnerContext["onEnd"];
  readonly #errors: ErrorLogLimiter | undefined;
  readonly #watchdog: StallWatchdog | undefined;
  readonly #onStalled: _RunnerContext["onStalled"];
  readonly #bytesBudget: number | undefined;
  readonly #maxCapacity: number | undefined;

  constructor(context: _RunnerContext) {
    this.#maxCapacity = context.maxCapacity;
    this.#bytesBudget = context.bytesBudget;
    this.#watchdog = context.watchdog;
    this.#onStalled = context.onStalled;
    this.#errors = context.errors;
    this.#onEnd = context.onEnd;
    this.#store = context.store;
    this.#registry = context.registry;
    this.#collector = context.collector;
    this.#drainTimeoutMs = context.drainTimeoutMs;
    this.#log = context.log;
  }

  /**
   * Builds a restored entry's network and starts it when stored as
   * running; a failure marks the entry failed, never the caller.
   */
  async restore(entry: _Entry, held?: string): Promise<void> {
    const { id, text, format } = entry.stored;
    const running = entry.stored.running && held === undefined;
    if (entry.stored.running && held !== undefined) entry.held = held;
    let built: { graph: Graph; network: Network };
    try {
      entry.graph = loadGraph(text, { format });
      built = this.build(id, text, format, entry.graph);
    } catch (e) {
      this.fail(
        entry,
        `its stored graph does not build: ${_message(e)}`,
        false,
      );
      if (running) this.#collector?.recordFlowOperation("start", "error");
      return;
    }
    entry.graph = built.graph;
    if (!running) {
      this.attach(entry, built.network);
      return;
    }
    try {
      await this.launch(entry, built.network);
      this.#collector?.recordFlowOperation("start", "success");
    } catch (e) {
      this.fail(entry, `it did not start: ${_message(e)}`);
      this.#collector?.recordFlowOperation("start", "error");
    }
  }

  /**
   * Builds and (when `running`) starts a new flow's network, then stores
   * it; when the store refuses, the network is retired and the error
   * thrown. A graph that does not start is a {@linkcode FlowStartError}.
   */
  async create(
    id: string,
    text: string,
    format: "json" | "fbp",
    graph: Graph,
    running: boolean,
  ): Promise<_Entry> {
    const { network } = this.build(id, text, format, graph);
    const entry = _entry({
      id,
      rev: 0,
      text,
      format,
      running,
      started: running,
      createdAt: 0,
      updatedAt: 0,
    });
    entry.graph = graph;
    if (running) {
      try {
        await this.launch(entry, network);
      } catch (e) {
        throw new FlowStartError(
          id,
          `Cannot create flow ${
            JSON.stringify(id)
          }: the graph built but did not start: ${_message(e)}`,
          { cause: e },
        );
      }
    } else {
      this.attach(entry, network);
    }
    try {
      entry.stored = this.#store.create({ id, text, format, running });
    } catch (e) {
      await this.retire(entry, 0);
      throw e;
    }
    return entry;
  }

  /**
   * Builds the entry's stored graph afresh and starts it, storing that it
   * should run; on failure the entry is put back as it was and a
   * {@linkcode FlowStartError} says why.
   */
  async restart(entry: _Entry): Promise<void> {
    const id = entry.stored.id;
    const { text, format } = entry.stored;
    let built: { graph: Graph; network: Network };
    try {
      built = this.build(id, text, format);
    } catch (e) {
      throw new FlowStartError(
        id,
        `Cannot start flow ${_q(id)}: its stored graph does not build: ${
          _message(e)
        }`,
        { cause: e },
      );
    }
    const before = this.before(entry);
    this.detach(entry);
    await this.#switchTo(
      entry,
      built.network,
      before,
      (why) => `Cannot start flow ${_q(id)}: ${why}`,
    );
    await this.commit(
      entry,
      before,
      built.graph,
      () =>
        entry.stored.running
          ? entry.stored
          : this.#store.update(id, { running: true }),
    );
  }

  /**
   * At shutdown: drains the entry's network if it runs (the rest is
   * discarded after `timeoutMs`, and logged), then untracks it and stops
   * forwarding its events; the entry keeps it, so it still tells how it
   * ended.
   */
  async shutdown(entry: _Entry, timeoutMs: number): Promise<void> {
    const net = entry.network;
    if (net !== null && _active(net)) {
      const r = await net.drain(timeoutMs);
      if (!r.drained) this.logDiscarded(entry, "at shutdown", r);
    }
    // Untracked and silent, but kept: get() still tells how it ended.
    for (const off of entry.offs) off();
    entry.offs = [];
    _detachTaps(entry);
    if (net !== null) this.#collector?.untrack(net);
  }

  /** Parses (unless given) and builds; throws the graph's GraphError. */
  build(
    id: string,
    text: string,
    format: "json" | "fbp",
    graph: Graph = loadGraph(text, { format }),
  ): { graph: Graph; network: Network } {
    // Bad supervision settings are found with the rest, by validateFlow().
    const spec = buildNetworkSpec(graph, this.#registry, {
      name: id,
      maxCapacity: this.#maxCapacity,
    });
    let network: Network;
    try {
      network = new Network(spec, {
        buckets: this.#collector?.options.buckets,
        bytesBudget: this.#bytesBudget,
      });
    } catch (e) {
      // What the engine refuses is a fault of the graph, like the rest.
      throw new GraphError([{ path: "$", message: _message(e) }], {
        cause: e,
      });
    }
    return { graph, network };
  }

  /** Tracks the network and forwards its events; it becomes the entry's. */
  attach(entry: _Entry, net: Network): void {
    this.#collector?.track(net);
    const id = entry.stored.id;
    entry.network = net;
    for (const tap of entry.taps) _attachTap(net, tap);
    entry.offs = [
      net.on("state", (state) => {
        this.emit(entry, { type: "state", state: _networkState(entry, state) });
        if (state === "finished") this.#onEnd?.(entry, "finished", true);
      }),
      net.on("error", (e) => {
        // A warning (a broker tried again) is logged as one, an info (it is
        // reached again) at info: nothing failed.
        const level = e.level;
        // As weir run logs them: a JSON log is searched by these.
        const fields: FlowLogFields = e.process === undefined
          ? { flow: id }
          : { flow: id, process: e.process };
        if (this.#errors !== undefined) {
          this.#errors.report({
            key: `${id}\u0000${e.process ?? ""}`,
            prefix: `flow ${_q(id)}`,
            message: e.message,
            subject: e.process === undefined
              ? "the flow"
              : `process ${_q(e.process)}`,
            level,
            fields,
          });
        } else {
          this.#log(
            `flow ${_q(id)}: ${e.message}`,
            _logLevel(level),
            fields,
          );
        }
        this.emit(entry, {
          type: "error",
          level,
          process: e.process,
          message: e.message,
        });
      }),
      net.on("deadlock", (d) => {
        this.#log(`flow ${_q(id)}: ${d.message}`, "warn", { flow: id });
        this.emit(entry, {
          type: "error",
          level: "warning",
          message: d.message,
        });
      }),
      net.on("stall", (s) => this.#stalled(entry, net, s)),
    ];
    if (this.#watchdog !== undefined) {
      entry.offs.push(this.#watchdog.watch(id, net));
    }
  }

  /**
   * The watchdog found `net` stalling the server: it is stopped at once
   * (before its next activation) and the entry failed with the reason; a
   * flow that stalls the server is not restarted by its policy (each try
   * would stall every flow again), and it counts toward the crash-loop
   * guard.
   */
  #stalled(entry: _Entry, net: Network, s: StallReport): void {
    if (entry.network !== net) return;
    void net.stop();
    this.fail(
      entry,
      `stalled the server for ${(s.ms / 1000).toFixed(1)} s in process ${
        _q(s.process)
      }`,
      false,
      { process: s.process, stalled_ms: s.ms },
    );
    this.#onStalled?.(entry);
  }

  /** Untracks the entry's network and stops forwarding its events. */
  detach(entry: _Entry): void {
    for (const off of entry.offs) off();
    entry.offs = [];
    _detachTaps(entry);
    if (entry.network !== null) this.#collector?.untrack(entry.network);
    entry.network = null;
  }

  /** Attaches and starts; on failure nothing stays attached. */
  async launch(entry: _Entry, net: Network): Promise<void> {
    this.attach(entry, net);
    try {
      await net.start();
      entry.startedAt = Date.now();
    } catch (e) {
      this.detach(entry);
      await net.stop();
      throw e;
    }
  }

  /**
   * Drains the entry's network if it runs, then detaches it; what the
   * drain gave up is logged (its counters leave /metrics with it).
   */
  async retire(entry: _Entry, timeoutMs: number): Promise<void> {
    const net = entry.network;
    if (net !== null && _active(net)) {
      const r = await net.drain(timeoutMs);
      if (r.discarded > 0) this.logDiscarded(entry, "", r);
    }
    this.detach(entry);
  }

  /**
   * One warning: how many messages a drain that timed out gave up (a stop,
   * a retirement, the shutdown: `when` says which when it is not plain).
   */
  logDiscarded(
    entry: _Entry,
    when: string,
    r: { backlog: number; discarded: number },
  ): void {
    const id = entry.stored.id;
    this.#log(
      `flow ${_q(id)}: drain timed out${
        when === "" ? "" : ` ${when}`
      }; ${r.discarded} messages were discarded (${r.backlog} buffered, ${
        r.discarded - r.backlog
      } in activations)`,
      "warn",
      { flow: id, discarded: r.discarded },
    );
  }

  /** What to put back if the operation under way fails. */
  before(entry: _Entry): _Before {
    return {
      network: entry.network,
      graph: entry.graph,
      error: entry.error,
      startedAt: entry.startedAt,
      active: entry.network !== null && _active(entry.network),
    };
  }

  /**
   * Stores what `write` returns for a flow whose new network runs; when
   * the write fails, the new network is retired and the old one
   * reinstated, and the error is thrown. Then the entry takes `graph`.
   */
  async commit(
    entry: _Entry,
    before: _Before,
    graph: Graph,
    write: () => StoredFlow,
  ): Promise<void> {
    try {
      entry.stored = write();
    } catch (e) {
      await this.retire(entry, 0);
      await this.reinstate(entry, before);
      throw e;
    }
    entry.graph = graph;
    entry.error = undefined;
    // The operator's graph replaced the one held back: it runs as stored.
    entry.held = undefined;
    // Only now is the new graph the flow's: a tap whose connection it
    // lacks hears so (not while a failed change may still bring the old
    // graph back).
    for (const tap of entry.taps) {
      if (tap.gone === undefined) continue;
      const message = tap.gone;
      tap.gone = undefined;
      tap.onGone(message);
    }
  }

  /**
   * Puts the entry back as it was before a failed operation: a network
   * that ran was drained, so it is built again from the stored text and
   * started; any other is attached again as it is.
   */
  async reinstate(entry: _Entry, before: _Before): Promise<void> {
    this.detach(entry);
    entry.graph = before.graph;
    entry.error = before.error;
    if (before.network === null) return;
    if (!before.active) {
      this.attach(entry, before.network);
      return;
    }
    const { id, text, format } = entry.stored;
    try {
      const built = this.build(id, text, format);
      await this.launch(entry, built.network);
      entry.graph = built.graph;
      // A failed change changes nothing the operator sees, its uptime
      // included (its messages paused while the old graph came back).
      entry.startedAt = before.startedAt;
    } catch (e) {
      this.fail(
        entry,
        `its previous graph did not start again: ${_message(e)}`,
      );
    }
  }

  /** Replaces the entry's network with `built` and stores the new text. */
  async apply(
    entry: _Entry,
    text: string,
    format: "json" | "fbp",
    built: { graph: Graph; network: Network },
    rev: number | undefined,
  ): Promise<FlowInfo> {
    const id = entry.stored.id;
    const before = this.before(entry);
    await this.retire(entry, this.#drainTimeoutMs);
    if (entry.stored.running) {
      await this.#switchTo(
        entry,
        built.network,
        before,
        (why) =>
          `Cannot replace flow ${
            _q(id)
          }: the new graph built but did not start: ${why}; the previous graph is kept`,
      );
    } else {
      this.attach(entry, built.network);
    }
    await this.commit(
      entry,
      before,
      built.graph,
      () => this.#store.update(id, { text, format }, rev),
    );
    this.emit(entry, { type: "replaced", rev: entry.stored.rev });
    return _info(entry);
  }

  /**
   * Marks the entry failed, says so in the log and to its subscribers, and
   * tells the supervisor (`retry` false: a restart cannot help).
   */
  fail(
    entry: _Entry,
    reason: string,
    retry = true,
    fields: FlowLogFields = {},
  ): void {
    this.detach(entry);
    // The reason may quote a value (a start error of a component): the
    // state, the log and the events keep an excerpt.
    const why = excerpt(reason);
    entry.error = why;
    entry.failedAt = Date.now();
    entry.failures++;
    this.#log(
      `flow ${_q(entry.stored.id)}: ${why} (failed, rev ${entry.stored.rev})`,
      "error",
      { flow: entry.stored.id, rev: entry.stored.rev, op: "fail", ...fields },
    );
    this.emit(entry, { type: "state", state: "failed" });
    this.#onEnd?.(entry, "failed", retry);
  }

  /** Tells the entry's subscribers; one that throws is logged, not the caller's fault. */
  emit(entry: _Entry, event: FlowEvent): void {
    for (const listener of [...entry.listeners]) {
      try {
        listener(event);
      } catch (e) {
        this.#log(
          `flow ${_q(entry.stored.id)}: a subscriber threw: ${_message(e)}`,
          "warn",
          { flow: entry.stored.id },
        );
      }
    }
  }

  /**
   * Launches `net` as the entry's network; when it does not start, puts
   * back what ran `before` and throws a {@linkcode FlowStartError} with
   * the message `failure` makes of why.
   */
  async #switchTo(
    entry: _Entry,
    net: Network,
    before: _Before,
    failure: (why: string) => string,
  ): Promise<void> {
    try {
      await this.launch(entry, net);
    } catch (e) {
      await this.reinstate(entry, before);
      throw new FlowStartError(entry.stored.id, failure(_message(e)), {
        cause: e,
      });
    }
  }
}
