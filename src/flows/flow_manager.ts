/**
 * The flow manager: the flows of one weir instance, built from their stored
 * graphs, run, replaced, stopped and deleted, with every change persisted in
 * a {@linkcode FlowStore} and measured in a `MetricsCollector`.
 *
 * Guarantees:
 * - Operations on one flow id run one at a time, in call order (a queue per
 *   id), so concurrent requests cannot interleave.
 * - A failed operation leaves the running flows and the database as they
 *   were. A replacement is validated and built before the old network is
 *   touched; if it then fails to start, the old graph is built again from
 *   its stored text and runs again.
 * - A flow's process errors go to its subscribers and the log; they never
 *   reach the host.
 * - A flow whose graph sets a restart policy (`properties.restart`, see
 *   `supervision.ts`) is started again after a failed start (or, with
 *   `always`, after its sources ended), with a doubling delay, up to its
 *   limit; an operator's operation cancels a waiting restart.
 *
 * About 1,000 lines because every public method carries a runnable
 * example and the supervisor (restart policy, backoff, limit) shares the
 * per-id queue and the entries; the class is the API and reads best whole. The network work of
 * an operation lives in `_flow_runner.ts`, the argument checks in
 * `_checks.ts`.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import type { Registry } from "../engine/registry.ts";
import { Network } from "../engine/network.ts";
import type { Graph, GraphEdge } from "../graph/graph.ts";
import { GraphError } from "../graph/graph_error.ts";
import { stringifyGraph } from "../graph/stringify_graph.ts";
import { loadGraph } from "../graph/load_graph.ts";
import type { MetricsCollector } from "../metrics/collector.ts";
import { FLOW_METRICS, FLOW_STATE_VALUES } from "../metrics/catalogue.ts";
import { excerpt } from "../engine/excerpt.ts";
import {
  FlowConflictError,
  FlowManagerClosedError,
  FlowNotFoundError,
  InvalidFlowArgumentError,
  InvalidPatchError,
} from "./errors.ts";
import type { FlowStore } from "./flow_store.ts";
import { isPlainObject, mergePatch } from "./merge_patch.ts";
import { SerialQueue } from "./serial_queue.ts";
import { _FlowRunner } from "./_flow_runner.ts";
import {
  _checkId,
  _checkRev,
  _checkTimeout,
  _input,
  _kind,
  _message,
  _newId,
  _q,
  _tooDeep,
} from "./_checks.ts";
import {
  _active,
  type _Before,
  type _Entry,
  _entry,
  _info,
  _infoKey,
  _readiness,
  _supervision,
  type _Tap,
} from "./_flow_entry.ts";
import { restartDelay } from "./supervision.ts";
import { _logLevel, ErrorLogLimiter } from "./error_log_limiter.ts";
import type { StallWatchdog } from "./stall_watchdog.ts";
import type { FlowEvent, FlowInfo, FlowInput, FlowStats } from "./flow_info.ts";

/** Options of {@linkcode FlowManager}. */
export interface FlowManagerOptions {
  /** Where flows are kept. The manager closes it in `close()`. */
  store: FlowStore;
  /** The components graphs are built from. */
  registry: Registry;
  /** Tracks each flow's network and counts operations. Default none. */
  collector?: MetricsCollector;
  /** How long a stop, replace or delete lets messages flow out, in ms. Default 5000. */
  drainTimeoutMs?: number;
  /** The crash-loop guard's settings (see {@linkcode CrashLoopOptions}). */
  crashLoop?: CrashLoopOptions;
  /**
   * Watches the event loop: a flow whose activation stalls the server
   * longer than its threshold is stopped and marked failed ("stalled the
   * server for N s in process P"), and the stall counts toward the
   * crash-loop guard. Default none (the caller starts and closes it).
   */
  watchdog?: StallWatchdog;
  /**
   * Each flow's bytes budget: over it (estimated bytes in its connection
   * buffers), its sources wait and its state says `pressure: "bytes"`.
   * Default 64 MiB.
   */
  bytesBudgetPerFlow?: number;
  /**
   * The largest connection capacity (`capacity`, `defaultCapacity`) a
   * graph may ask for; a larger one is a graph problem. Default 100,000.
   */
  maxCapacity?: number;
  /**
   * Quiet logs: process errors of one process written per interval before
   * the rest are summed up in one line per interval. Default
   * `{ burst: 5, intervalMs: 60000 }`.
   */
  errorLog?: { burst?: number; intervalMs?: number };
  /**
   * Where changes (create, update, delete, start, stop: once each, with
   * the flow's id, its rev and who asked), restarts, process errors,
   * failed flows and drain timeouts are written, with their level and, for
   * changes, the same facts as fields (`flow`, `rev`, `op`, `by`). Default
   * `console.error`, prefixed `weir: `.
   */
  log?: (message: string, level?: FlowLogLevel, fields?: FlowLogFields) => void;
}

const FLOW_MANAGER_OPTIONS = optionKeys<FlowManagerOptions>()([
  "store",
  "registry",
  "collector",
  "drainTimeoutMs",
  "crashLoop",
  "watchdog",
  "bytesBudgetPerFlow",
  "maxCapacity",
  "errorLog",
  "log",
]);

/** The default bytes budget per flow (64 MiB). */
export const DEFAULT_FLOW_BYTES_BUDGET = 64 * 2 ** 20;

/** The facts of a logged flow change, for structured logs. */
export type FlowLogFields = Record<string, string | number | boolean>;

/**
 * Who asked for an operation, for the log: the name of the token a
 * request carried (never its secret). Absent: the embedding app itself.
 */
export interface FlowActor {
  /** The token's name, e.g. `token-1a2b3c4d`. */
  by?: string;
}

/**
 * The crash-loop guard of {@linkcode FlowManager.restore}: a flow whose
 * starts at restore failed, or never settled because the process died
 * during them, `maxStartFailures` times within `windowMs` is restored
 * stopped, with the reason in its state.
 */
export interface CrashLoopOptions {
  /** Failed or unsettled starts that hold a flow back. Default 3. */
  maxStartFailures?: number;
  /** The window they count in, in ms. Default 600000 (10 min). */
  windowMs?: number;
  /** How long a restored flow must run for its start to count as settled, in ms. Default 10000. */
  settleMs?: number;
}

/** How serious a {@linkcode FlowManagerOptions.log} message is. */
export type FlowLogLevel = "info" | "warn" | "error";

type Op = "create" | "update" | "delete" | "start" | "stop";

/**
 * Runs the flows of one weir instance and keeps them in a
 * {@linkcode FlowStore}. Call {@linkcode FlowManager.restore} first, to bring
 * back the stored flows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowManager } from "./flow_manager.ts";
 * import { FlowStore } from "./flow_store.ts";
 * import { builtins } from "../components/mod.ts";
 *
 * const flows = new FlowManager({
 *   store: FlowStore.open(":memory:"),
 *   registry: builtins(),
 * });
 * await flows.restore();
 * const info = await flows.create({
 *   id: "ticks",
 *   text: "'50ms' -> interval Tick(core/Interval) out -> in Drop(core/Drop)",
 *   format: "fbp",
 * });
 * assert.deepEqual(info.state, "running");
 * assert.deepEqual((await flows.stop("ticks")).running, false);
 * await flows.close();
 * ```
 */
export class FlowManager {
  readonly #store: FlowStore;
  readonly #registry: Registry;
  readonly #collector: MetricsCollector | undefined;
  readonly #drainTimeoutMs: number;
  readonly #log: (
    message: string,
    level?: FlowLogLevel,
    fields?: FlowLogFields,
  ) => void;
  readonly #flows = new Map<string, _Entry>();
  /**
   * What `listKey()` last saw: the entries' keys in the map's order (an
   * entry's keys are its own, so a flow deleted and created again under
   * the same id has a new one).
   */
  #listSeen: { key: object; keys: object[] } | undefined;
  readonly #queue = new SerialQueue();
  readonly #run: _FlowRunner;
  readonly #removeMetrics: (() => void)[] = [];
  readonly #crashLoop: Required<CrashLoopOptions>;
  readonly #settling = new Set<ReturnType<typeof setTimeout>>();
  /** Flows whose start attempt at restore is recorded and not yet cleared. */
  readonly #openAttempts = new Set<string>();
  readonly #errors: ErrorLogLimiter;
  #closing: Promise<void> | undefined;

  /** Creates the manager; nothing runs until {@linkcode FlowManager.restore}. */
  constructor(options: FlowManagerOptions) {
    checkOptionKeys(
      "Cannot create flow manager",
      options,
      FLOW_MANAGER_OPTIONS,
    );
    if (typeof options?.store?.list !== "function") {
      throw new TypeError(
        "Cannot create flow manager: options.store must be a FlowStore (FlowStore.open(path))",
      );
    }
    if (typeof options.registry?.get !== "function") {
      throw new TypeError(
        "Cannot create flow manager: options.registry must be a component Registry (builtins())",
      );
    }
    const timeout = options.drainTimeoutMs ?? 5000;
    _checkTimeout(timeout, "Cannot create flow manager: drainTimeoutMs");
    const maxCapacity = options.maxCapacity;
    if (
      maxCapacity !== undefined &&
      !(Number.isInteger(maxCapacity) && maxCapacity >= 1)
    ) {
      throw new RangeError(
        `Cannot create flow manager: maxCapacity must be a positive integer, received ${maxCapacity}`,
      );
    }
    const bytesBudget = options.bytesBudgetPerFlow;
    if (
      bytesBudget !== undefined &&
      !(typeof bytesBudget === "number" && bytesBudget > 0)
    ) {
      throw new RangeError(
        `Cannot create flow manager: bytesBudgetPerFlow must be a positive number of bytes, received ${bytesBudget}`,
      );
    }
    this.#crashLoop = {
      maxStartFailures: options.crashLoop?.maxStartFailures ?? 3,
      windowMs: options.crashLoop?.windowMs ?? 600_000,
      settleMs: options.crashLoop?.settleMs ?? 10_000,
    };
    for (const [k, v] of Object.entries(this.#crashLoop)) {
      if (!Number.isInteger(v) || v < 1 || v > 2_147_483_647) {
        throw new RangeError(
          `Cannot create flow manager: crashLoop.${k} must be an integer from 1 to 2147483647, received ${v}`,
        );
      }
    }
    this.#errors = new ErrorLogLimiter({
      write: (line, level, fields) =>
        this.#log(
          line,
          _logLevel(level),
          fields === undefined ? undefined : { ...fields },
        ),
      burst: options.errorLog?.burst,
      intervalMs: options.errorLog?.intervalMs,
    });
    this.#store = options.store;
    this.#registry = options.registry;
    this.#collector = options.collector;
    this.#drainTimeoutMs = timeout;
    this.#log = options.log ?? ((message) => console.error(`weir: ${message}`));
    this.#run = new _FlowRunner({
      store: this.#store,
      registry: this.#registry,
      collector: this.#collector,
      drainTimeoutMs: timeout,
      log: this.#log,
      onEnd: (entry, end, retry) => this.#onEnd(entry, end, retry),
      errors: this.#errors,
      watchdog: options.watchdog,
      bytesBudget: options.bytesBudgetPerFlow ?? DEFAULT_FLOW_BYTES_BUDGET,
      maxCapacity: options.maxCapacity,
      onStalled: (entry) => this.#onStalled(entry),
    });
    if (this.#collector !== undefined) this.#addMetrics(this.#collector);
  }

  /**
   * Brings back every stored flow and starts those stored as running. A
   * flow that fails to build or start is listed with state `"failed"` and
   * its error (and {@linkcode FlowManager.readiness} names it); one bad flow
   * never makes the others fail. Flows restored already are left alone.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const store = FlowStore.open(":memory:");
   * store.create({ id: "bad", text: "A(no/Such)", format: "fbp", running: true });
   * const flows = new FlowManager({ store, registry: builtins(), log: () => {} });
   * assert.deepEqual((await flows.restore())[0].state, "failed");
   * assert.deepEqual(flows.readiness().ready, false);
   * await flows.close();
   * ```
   */
  async restore(options: { safeMode?: boolean } = {}): Promise<FlowInfo[]> {
    this.#checkOpen("restore flows", undefined);
    const held = options?.safeMode
      ? "not started: weir runs in safe mode (--safe-mode); start it with POST /flows/:id/start"
      : undefined;
    const pending: Promise<void>[] = [];
    for (const stored of this.#store.list()) {
      if (this.#flows.has(stored.id)) continue;
      const entry = _entry(stored);
      this.#flows.set(stored.id, entry);
      const hold = held ?? this.#crashLoopHold(stored.id, stored.running);
      pending.push(
        this.#queue.run(stored.id, async () => {
          await this.#run.restore(entry, hold);
          if (hold === undefined && stored.running) this.#settle(entry);
        }),
      );
    }
    await Promise.all(pending);
    return this.list();
  }

  /**
   * Every flow, ordered by id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * assert.deepEqual(flows.list(), []);
   * await flows.close();
   * ```
   */
  list(): FlowInfo[] {
    return [...this.#flows.keys()].sort().map((id) =>
      _info(this.#flows.get(id)!)
    );
  }

  /**
   * One flow; a {@linkcode FlowNotFoundError} for an unknown id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * assert.deepEqual(flows.get("a").state, "created");
   * await flows.close();
   * ```
   */
  get(id: string): FlowInfo {
    return _info(this.#entry(id, "read"));
  }

  /**
   * An object that stays the same while {@linkcode FlowManager.get} and
   * {@linkcode FlowManager.source} of the flow would answer the same, and
   * is a new one once either would answer differently (the flow's state,
   * rev, graph, error, restarts...): a key for a `WeakMap` of what was
   * made from them (the server keeps the JSON body of `GET /flows/:id`
   * under it), found without making the info. A
   * {@linkcode FlowNotFoundError} for an unknown id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * const key = flows.infoKey("a");
   * assert.equal(flows.infoKey("a"), key);
   * await flows.start("a");
   * assert.notEqual(flows.infoKey("a"), key);
   * await flows.close();
   * ```
   */
  infoKey(id: string): object {
    return _infoKey(this.#entry(id, "read"));
  }

  /**
   * The same as {@linkcode FlowManager.infoKey} for
   * {@linkcode FlowManager.list}: a new object once a flow came, went or
   * would be reported differently.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * const key = flows.listKey();
   * assert.equal(flows.listKey(), key);
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * assert.notEqual(flows.listKey(), key);
   * await flows.close();
   * ```
   */
  listKey(): object {
    const seen = this.#listSeen;
    if (seen !== undefined && seen.keys.length === this.#flows.size) {
      // Any entry added, removed, replaced or changed breaks the sequence.
      let i = 0;
      for (const entry of this.#flows.values()) {
        if (_infoKey(entry) !== seen.keys[i]) break;
        i++;
      }
      if (i === seen.keys.length) return seen.key;
    }
    const key = {};
    this.#listSeen = { key, keys: [...this.#flows.values()].map(_infoKey) };
    return key;
  }

  /**
   * A flow's stored text, its format and its graph.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * assert.deepEqual(flows.source("a").graph.processes?.A.component, "core/Repeat");
   * await flows.close();
   * ```
   */
  source(id: string): { text: string; format: "json" | "fbp"; graph: Graph } {
    const entry = this.#entry(id, "read");
    const { text, format } = entry.stored;
    // A stored text that does not parse (edited by hand) throws its GraphError.
    const graph = entry.graph ?? loadGraph(text, { format });
    return { text, format, graph };
  }

  /**
   * A flow's stored text and format, whether or not the text parses (a
   * flow stored by an older weir may not).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * assert.deepEqual(flows.stored("a").text, "A(core/Repeat)");
   * await flows.close();
   * ```
   */
  stored(id: string): { text: string; format: "json" | "fbp" } {
    const { text, format } = this.#entry(id, "read").stored;
    return { text, format };
  }

  /**
   * Validates, builds, starts (unless `start: false`) and stores a new flow.
   * Its id is `input.id`, else the graph's `properties.name`, else a new
   * one. Throws the `GraphError` of an invalid graph, an {@linkcode InvalidFlowArgumentError} for a
   * malformed id, a {@linkcode FlowConflictError} when the id is taken and a
   * {@linkcode FlowStartError} when the graph does not start; then nothing
   * is stored and nothing runs.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * const info = await flows.create({
   *   text: "# @name ticks\n'1s' -> interval Tick(core/Interval) out -> in Drop(core/Drop)",
   *   format: "fbp",
   * });
   * assert.deepEqual(info.id, "ticks");
   * assert.deepEqual(info.rev, 1);
   * await flows.close();
   * ```
   */
  create(
    input: FlowInput & { id?: string; start?: boolean } & FlowActor,
  ): Promise<FlowInfo> {
    return this.#op("create", input?.by, async () => {
      this.#checkOpen("create flow", input?.id);
      const { text, format } = _input(input, "create flow");
      if (input.start !== undefined && typeof input.start !== "boolean") {
        throw new TypeError(
          `Cannot create flow: start must be a boolean, received ${typeof input
            .start}`,
        );
      }
      const graph = loadGraph(text, { format });
      const id = _newId(
        input.id,
        graph,
        (id) => this.#flows.has(id) || this.#queue.has(id),
      );
      return await this.#queue.run(
        id,
        () => this.#create(id, text, format, graph, input.start ?? true),
      );
    });
  }

  /**
   * Creates the flow when `id` is free, else replaces it, in one step: two
   * concurrent calls for a new id create it once and replace it once, and
   * a delete cannot slip in between the check and the change. With `rev`
   * the flow must exist at that rev; with `mustExist` it must exist. `start`
   * applies to a flow created (default `true`); a replaced flow keeps
   * whether it should run. Resolves with the flow and whether it was
   * created. Throws as {@linkcode FlowManager.create} and
   * {@linkcode FlowManager.replace} do, and a {@linkcode FlowNotFoundError}
   * for a missing flow given a `rev` or `mustExist`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * const a = { text: "A(core/Repeat)", format: "fbp" as const };
   * assert.deepEqual((await flows.put("a", a)).created, true);
   * assert.deepEqual((await flows.put("a", a)).info.rev, 2);
   * await flows.close();
   * ```
   */
  put(
    id: string,
    input: FlowInput,
    options:
      & { rev?: number; mustExist?: boolean; start?: boolean }
      & FlowActor = {},
  ): Promise<{ info: FlowInfo; created: boolean }> {
    // Counted as a create when the id is free, else as an update.
    let created = typeof id === "string" && !this.#flows.has(id);
    const run = async () => {
      this.#checkOpen("put flow", id);
      const { text, format } = _input(input, `put flow ${_q(id)}`);
      const start = options?.start;
      if (start !== undefined && typeof start !== "boolean") {
        throw new TypeError(
          `Cannot put flow ${_q(id)}: start must be a boolean, received ${
            _kind(start)
          }`,
        );
      }
      _checkId(id, "create flow");
      const graph = loadGraph(text, { format });
      return await this.#queue.run(id, async () => {
        const entry = this.#flows.get(id);
        if (entry === undefined) {
          if (options?.rev !== undefined || options?.mustExist) {
            throw new FlowNotFoundError(
              id,
              `Cannot replace flow ${_q(id)}: it does not exist${
                options?.rev !== undefined
                  ? " (a rev was given, so it must; leave the rev out to create it)"
                  : ""
              }`,
            );
          }
          created = true;
          return await this.#create(id, text, format, graph, start ?? true);
        }
        created = false;
        _checkRev(id, entry.stored.rev, options?.rev, "replace");
        return await this.#replaceWith(
          entry,
          text,
          format,
          options?.rev,
          graph,
        );
      });
    };
    // Counted as what it turned out to be.
    return run().then(
      (info) => {
        this.#collector?.recordFlowOperation(
          created ? "create" : "update",
          "success",
        );
        this.#logChange(created ? "create" : "update", info, options?.by);
        return { info, created };
      },
      (e) => {
        this.#collector?.recordFlowOperation(
          created ? "create" : "update",
          "error",
        );
        throw _tooDeep(e, "put");
      },
    );
  }

  /** Builds, starts (when `running`) and stores a flow whose id is free. */
  async #create(
    id: string,
    text: string,
    format: "json" | "fbp",
    graph: Graph,
    running: boolean,
  ): Promise<FlowInfo> {
    const taken = this.#flows.get(id)?.stored ?? this.#store.get(id);
    if (taken !== undefined) {
      throw new FlowConflictError(
        id,
        `Cannot create flow ${
          JSON.stringify(id)
        }: a flow with that id exists (rev ${taken.rev}); replace it with PUT, or choose another id`,
        { actualRev: taken.rev },
      );
    }
    const entry = await this.#run.create(id, text, format, graph, running);
    this.#flows.set(id, entry);
    return _info(entry);
  }

  /**
   * Replaces a flow's graph. The new graph is validated and built first;
   * then the old network drains (up to `drainTimeoutMs`) and the new one
   * starts (if the flow should run). If it fails to start, the old graph
   * runs again, nothing stored changes, and a {@linkcode FlowStartError}
   * says why. With `rev`, a stale rev is a {@linkcode FlowConflictError}
   * before anything is touched.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * const info = await flows.replace("a", { text: "B(core/Drop)", format: "fbp" }, { rev: 1 });
   * assert.deepEqual(info.rev, 2);
   * await flows.close();
   * ```
   */
  replace(
    id: string,
    input: FlowInput,
    options: { rev?: number } & FlowActor = {},
  ): Promise<FlowInfo> {
    return this.#change(
      "update",
      "replace",
      id,
      options,
      () => _input(input, `replace flow ${_q(id)}`),
      (entry, { text, format }) =>
        this.#replaceWith(entry, text, format, options?.rev),
    );
  }

  /**
   * Applies an RFC 7386 JSON merge patch to the flow's graph in its JSON
   * form (members set to `null` are removed, objects merge, anything else
   * replaces), then validates and applies the result as
   * {@linkcode FlowManager.replace} does. The flow is stored as JSON
   * afterwards. A patch that is not an object is an {@linkcode InvalidPatchError}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * const info = await flows.patch("a", { processes: { B: { component: "core/Drop" } } });
   * assert.deepEqual(info.format, "json");
   * assert.deepEqual(flows.source("a").graph.processes?.B.component, "core/Drop");
   * await flows.close();
   * ```
   */
  patch(
    id: string,
    patch: unknown,
    options: { rev?: number } & FlowActor = {},
  ): Promise<FlowInfo> {
    const check = () => {
      if (!isPlainObject(patch)) {
        throw new InvalidPatchError(
          String(id),
          `Cannot patch flow ${
            _q(id)
          }: a JSON merge patch of a graph must be an object, received ${
            _kind(patch)
          }`,
        );
      }
    };
    return this.#change(
      "update",
      "patch",
      id,
      options,
      check,
      async (entry) => {
        let graph: Graph;
        try {
          graph = this.source(id).graph;
        } catch (e) {
          if (!(e instanceof GraphError)) throw e;
          // The fault is the stored text's, not the patch's: say so, and
          // not as a 400 whose problems point into text the client never sent.
          throw new FlowConflictError(
            id,
            `Cannot patch flow ${_q(id)}: its stored graph does not parse (${
              e.message.replaceAll("\n", "; ")
            }), so there is nothing to merge the patch into; replace it with PUT`,
            { actualRev: entry.stored.rev },
          );
        }
        const merged = mergePatch(JSON.parse(stringifyGraph(graph)), patch);
        const text = stringifyGraph(merged as Graph);
        try {
          return await this.#replaceWith(entry, text, "json", options?.rev);
        } catch (e) {
          if (!(e instanceof GraphError)) throw e;
          // Its lines and columns are in the merged text, which the client
          // never sent nor can read (the flow keeps its old text): each
          // problem's path says where, in the graph the patch changed.
          throw _withoutPositions(e);
        }
      },
    );
  }

  /**
   * Runs `text` in place of `entry`'s graph: built first (a graph that
   * does not build changes nothing, a waiting restart included), then
   * the waiting restart cancelled, the old network retired and the new
   * one applied (stored, started when the flow runs), and the crash-loop
   * guard's attempts forgotten once it runs (see {@linkcode #tookOver}).
   */
  async #replaceWith(
    entry: _Entry,
    text: string,
    format: "json" | "fbp",
    rev: number | undefined,
    graph?: Graph,
  ): Promise<FlowInfo> {
    const built = this.#run.build(entry.stored.id, text, format, graph);
    this.#cancelRestart(entry);
    const info = await this.#run.apply(entry, text, format, built, rev);
    this.#tookOver(entry);
    return info;
  }

  /**
   * Drains a flow (up to `drainTimeoutMs`), stops tracking it and deletes
   * it. With `rev`, a stale rev is a {@linkcode FlowConflictError}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp" });
   * await flows.delete("a");
   * assert.deepEqual(flows.list(), []);
   * await flows.close();
   * ```
   */
  delete(
    id: string,
    options: { rev?: number } & FlowActor = {},
  ): Promise<void> {
    return this.#change(
      "delete",
      "delete",
      id,
      options,
      () => {},
      async (entry) => {
        // The row goes first: if that fails, the flow still runs untouched.
        this.#store.delete(id, options?.rev);
        this.#cancelRestart(entry);
        this.#flows.delete(id);
        await this.#run.retire(entry, this.#drainTimeoutMs);
        this.#run.emit(entry, { type: "deleted" });
        entry.listeners.clear();
      },
    );
  }

  /**
   * Starts a flow and stores that it should run. A network that finished or
   * stopped is built afresh from the stored graph; a running one is left
   * alone. A graph that does not build or start is a
   * {@linkcode FlowStartError}, and nothing changes.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * assert.deepEqual((await flows.start("a")).running, true);
   * await flows.close();
   * ```
   */
  start(id: string, options: FlowActor = {}): Promise<FlowInfo> {
    // A start of a flow that runs and is stored running changes nothing:
    // its log line says so, not "started".
    let unchanged = false;
    return this.#op("start", options?.by, async () => {
      this.#checkOpen("start flow", id);
      return await this.#queue.run(id, async () => {
        const entry = this.#entry(id, "start");
        this.#cancelRestart(entry);
        entry.held = undefined;
        const old = entry.network;
        if (old === null || !_active(old)) {
          await this.#run.restart(entry);
          // An operator's start takes over from the crash-loop guard.
          this.#store.clearStartAttempts(id);
          this.#openAttempts.delete(id);
        } else if (!entry.stored.running) {
          entry.stored = this.#store.update(id, { running: true });
        } else unchanged = true;
        return _info(entry);
      });
    }, () => unchanged ? "already running" : undefined);
  }

  /**
   * Stores that a flow should not run, then drains it: its sources stop and
   * what is buffered flows out, for up to `timeoutMs` (default
   * `drainTimeoutMs`), after which the rest is discarded. Resolves with the
   * flow, whether it `drained` completely and how many messages were
   * `discarded`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "'1s' -> interval T(core/Interval) out -> in D(core/Drop)", format: "fbp" });
   * const info = await flows.stop("a", { timeoutMs: 1000 });
   * assert.deepEqual(info.drained, true);
   * await flows.close();
   * ```
   */
  stop(
    id: string,
    options: { timeoutMs?: number } & FlowActor = {},
  ): Promise<FlowInfo & { drained: boolean; discarded: number }> {
    return this.#op("stop", options?.by, async () => {
      this.#checkOpen("stop flow", id);
      const timeout = options?.timeoutMs ?? this.#drainTimeoutMs;
      _checkTimeout(timeout, `Cannot stop flow ${_q(id)}: timeoutMs`);
      return await this.#queue.run(id, async () => {
        const entry = this.#entry(id, "stop");
        const before = _info(entry).state;
        this.#cancelRestart(entry);
        entry.held = undefined;
        // Stored first: if that fails, the flow still runs untouched.
        if (entry.stored.running) {
          entry.stored = this.#store.update(id, { running: false });
        }
        let drained = true;
        let discarded = 0;
        const net = entry.network;
        const active = net !== null && _active(net);
        if (active) {
          const r = await net.drain(timeout);
          drained = r.drained;
          discarded = r.discarded;
          // A warning, as a delete's or the shutdown's drain that timed out.
          if (!drained) this.#run.logDiscarded(entry, "", r);
        }
        const info = _info(entry);
        // A drain is heard through the network's own state events; a
        // network that had ended (finished, or waiting for a restart) has
        // none left, so the subscribers hear the stop here.
        if (!active && info.state !== before) {
          this.#run.emit(entry, { type: "state", state: info.state });
        }
        return { ...info, drained, discarded };
      });
    });
  }

  /**
   * The engine's statistics of a flow (JSON-serialisable), its `state` as
   * {@linkcode FlowManager.get} says it (`failed`, `restarting` and
   * `stopped` included). A flow that could not be built reports an empty
   * snapshot, `failed`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * assert.deepEqual(flows.stats("a").processes[0].name, "A");
   * await flows.close();
   * ```
   */
  stats(id: string): FlowStats {
    const entry = this.#entry(id, "read statistics of");
    const net = entry.network ??
      new Network({ name: id, processes: [], connections: [] }, {
        buckets: this.#collector?.options.buckets,
      });
    const stats: FlowStats = net.stats();
    stats.state = _info(entry).state;
    return stats;
  }

  /**
   * Calls `listener` with the flow's events (state changes, process
   * errors, replacement, deletion) until the returned function is called.
   * A {@linkcode FlowNotFoundError} for an unknown id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import type { FlowEvent } from "./flow_info.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "A(core/Repeat)", format: "fbp", start: false });
   * const events: FlowEvent[] = [];
   * const off = flows.subscribe("a", (e) => events.push(e));
   * await flows.delete("a");
   * off();
   * assert.deepEqual(events.at(-1), { type: "deleted" });
   * await flows.close();
   * ```
   */
  subscribe(id: string, listener: (event: FlowEvent) => void): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(
        `Cannot subscribe to flow ${
          _q(id)
        }: listener must be a function, received ${_kind(listener)}`,
      );
    }
    const entry = this.#entry(id, "subscribe to");
    const own = (event: FlowEvent) => listener(event);
    entry.listeners.add(own);
    return () => void entry.listeners.delete(own);
  }

  /**
   * Calls `listener` with every value sent into the flow's connections
   * from out-port `from` (`"Process.port"`, or `null` for any sender) to
   * in-port `to`, on the sender's path (see `Network.tap`: keep it short),
   * until the returned function is called. `"Process.port[i]"` names only
   * that index of an indexed connection, as `Network.tap` does, whether the
   * flow has a network or only its graph (a failed flow). The tap outlives the flow's
   * networks: a restart or a replace attaches it to the new one, and when
   * the new graph has no such connection `onGone` is told why (it is
   * attached again if a later graph has it). A
   * {@linkcode FlowNotFoundError} for an unknown id, an
   * {@linkcode InvalidFlowArgumentError} (`connection`) when the flow's
   * graph has no such connection now.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.create({ id: "a", text: "'x' -> in R(core/Repeat) out -> in D(core/Drop)", format: "fbp", start: false });
   * const seen: unknown[] = [];
   * const off = flows.tap("a", "R.out", "D.in", (v) => seen.push(v));
   * await flows.start("a");
   * await new Promise((r) => setTimeout(r, 20));
   * off();
   * assert.deepEqual(seen, ["x"]);
   * assert.throws(() => flows.tap("a", null, "D.nope", () => {}), /no connection to D.nope/);
   * await flows.close();
   * ```
   */
  tap(
    id: string,
    from: string | null,
    to: string,
    listener: (value: unknown) => void,
    onGone: (message: string) => void = () => {},
  ): () => void {
    const entry = this.#entry(id, "tap");
    const tap: _Tap = {
      from,
      to,
      listener,
      onGone,
      off: undefined,
      gone: undefined,
    };
    const net = entry.network;
    if (net !== null) {
      try {
        tap.off = net.tap(from, to, listener);
      } catch (e) {
        throw new InvalidFlowArgumentError(
          "connection",
          to,
          `Cannot tap flow ${_q(id)}: ${_message(e)}`,
        );
      }
    } else {
      // No network now (failed, or between two): the graph says whether
      // the connection exists; the tap attaches when a network comes.
      const known = (entry.graph?.connections ?? []).some((c) => {
        const src = (c as GraphEdge).src as GraphEdge["src"] | undefined;
        return src != null && _namesEnd(c.tgt, to) &&
          (from === null || _namesEnd(src, from));
      });
      if (!known) {
        throw new InvalidFlowArgumentError(
          "connection",
          to,
          `Cannot tap flow ${_q(id)}: it has no connection ${
            from === null ? "" : `from ${from} `
          }to ${to}`,
        );
      }
    }
    entry.taps.add(tap);
    return () => {
      entry.taps.delete(tap);
      tap.off?.();
      tap.off = undefined;
    };
  }

  /**
   * Whether every flow that should run does, and the database takes
   * writes; otherwise one sentence per flow that does not, naming it and
   * why, and one for a database whose last write failed for want of
   * storage (disk full, read-only, I/O error) until a write succeeds. A
   * flow whose sources ended by themselves (`finished`) counts as ready.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * assert.deepEqual(flows.readiness(), { ready: true, reasons: [] });
   * await flows.close();
   * ```
   */
  readiness(): { ready: boolean; reasons: string[] } {
    const r = _readiness(this.list(), this.#closing !== undefined);
    const problem = this.#closing === undefined
      ? this.#store.problem
      : undefined;
    if (problem !== undefined) {
      r.reasons.unshift(
        `${problem.message} (since ${new Date(problem.since).toISOString()})`,
      );
      r.ready = false;
    }
    return r;
  }

  /**
   * Drains every running flow in parallel (up to `timeoutMs`, default
   * `drainTimeoutMs`), leaving them stored as running so they come back
   * after a restart, and closes the store. Operations under way finish
   * first; later operations reject; later calls resolve when the first
   * does.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowManager } from "./flow_manager.ts";
   * import { FlowStore } from "./flow_store.ts";
   * import { builtins } from "../components/mod.ts";
   *
   * const flows = new FlowManager({ store: FlowStore.open(":memory:"), registry: builtins() });
   * await flows.close();
   * await flows.close(); // resolves again, doing nothing
   * await assert.rejects(
   *   flows.start("a"),
   *   /Cannot start flow "a": the flow manager is closed/,
   * );
   * ```
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing === undefined) {
      const timeout = options?.timeoutMs ?? this.#drainTimeoutMs;
      try {
        _checkTimeout(timeout, "Cannot close flow manager: timeoutMs");
      } catch (e) {
        return Promise.reject(e);
      }
      this.#closing = this.#close(timeout);
    }
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    for (const entry of this.#flows.values()) this.#cancelRestart(entry);
    for (const timer of this.#settling) clearTimeout(timer);
    this.#settling.clear();
    await this.#queue.idle();
    await Promise.all(
      [...this.#flows.values()].map((entry) =>
        this.#run.shutdown(entry, timeoutMs)
      ),
    );
    for (const remove of this.#removeMetrics.splice(0)) remove();
    this.#errors.close();
    this.#store.close();
  }

  // ---- internals ----

  /**
   * The crash-loop guard at restore: the reason to hold a flow back when
   * its recent starts failed too often, else `undefined` after recording
   * this start (before it, so a start that kills the process counts).
   */
  #crashLoopHold(id: string, running: boolean): string | undefined {
    if (!running) return undefined;
    const { maxStartFailures, windowMs } = this.#crashLoop;
    const now = Date.now();
    try {
      const recent = this.#store.startAttempts(id).filter((t) =>
        t >= now - windowMs && t <= now
      );
      if (recent.length >= maxStartFailures) {
        const reason = `not started: its last ${recent.length} starts within ${
          Math.round(windowMs / 1000)
        } s failed or never settled (weir stopped during them), the last at ${
          new Date(recent.at(-1)!).toISOString()
        }; fix or delete it, then start it with POST /flows/:id/start`;
        this.#log(`flow ${_q(id)}: ${reason}`, "error", {
          flow: id,
          op: "crash-loop",
        });
        return reason;
      }
      this.#store.recordStartAttempt(id, now, now - windowMs);
      this.#openAttempts.add(id);
    } catch (e) {
      // The guard must not keep a flow from its start: say so and go on.
      this.#log(
        `flow ${
          _q(id)
        }: the crash-loop guard could not read or write its start attempts: ${
          _message(e)
        }`,
        "warn",
        { flow: id },
      );
    }
    return undefined;
  }

  /**
   * A change by an operator that runs the flow's new graph takes over from
   * the crash-loop guard, as a start by hand does: its start attempts are
   * forgotten, so a flow held back and fixed is not held back again at the
   * next restore.
   */
  #tookOver(entry: _Entry): void {
    if (entry.network === null || !_active(entry.network)) return;
    this.#forgetAttempts(entry.stored.id);
  }

  /** Clears flow `id`'s crash-loop start attempts (a failure is logged). */
  #forgetAttempts(id: string): void {
    try {
      this.#store.clearStartAttempts(id);
      this.#openAttempts.delete(id);
    } catch (e) {
      this.#log(
        `flow ${_q(id)}: could not clear its start attempts: ${_message(e)}`,
        "warn",
        { flow: id },
      );
    }
  }

  /** Forgets a restored flow's start attempt once it ran `settleMs`. */
  #settle(entry: _Entry): void {
    const id = entry.stored.id;
    const net = entry.network;
    if (net === null || !_active(net)) return;
    const timer = setTimeout(() => {
      this.#settling.delete(timer);
      if (this.#closing !== undefined || entry.network !== net) return;
      if (!_active(net) && net.state !== "finished") return;
      this.#forgetAttempts(id);
    }, this.#crashLoop.settleMs);
    this.#settling.add(timer);
  }

  /**
   * A flow stalled the server and was stopped: the stall counts toward the
   * crash-loop guard like a failed start (its start at restore, when still
   * unsettled, is that count already), so a flow that stalls at every
   * start is restored stopped.
   */
  #onStalled(entry: _Entry): void {
    const id = entry.stored.id;
    if (this.#openAttempts.has(id)) return;
    const now = Date.now();
    try {
      this.#store.recordStartAttempt(id, now, now - this.#crashLoop.windowMs);
      this.#openAttempts.add(id);
    } catch (e) {
      this.#log(
        `flow ${_q(id)}: could not record its stall for the crash-loop guard: ${
          _message(e)
        }`,
        "warn",
        { flow: id },
      );
    }
  }

  /** Exports each flow's state and its supervisor's counts. */
  #addMetrics(collector: MetricsCollector): void {
    const families: [
      (typeof FLOW_METRICS)[keyof typeof FLOW_METRICS],
      (out: { sample: (l: Record<string, string>, v: number) => void }) => void,
    ][] = [
      [FLOW_METRICS.flowState, (out) => {
        for (const info of this.list()) {
          for (const state of FLOW_STATE_VALUES) {
            out.sample({ flow: info.id, state }, info.state === state ? 1 : 0);
          }
        }
      }],
      [FLOW_METRICS.flowRestarts, (out) => {
        for (const [id, e] of this.#flows) out.sample({ flow: id }, e.restarts);
      }],
      [FLOW_METRICS.flowFailures, (out) => {
        for (const [id, e] of this.#flows) out.sample({ flow: id }, e.failures);
      }],
    ];
    try {
      for (const [def, collect] of families) {
        this.#removeMetrics.push(collector.addFamily(def, collect));
      }
    } catch (e) {
      // A second manager on one collector: the first one's flows are exported.
      for (const remove of this.#removeMetrics.splice(0)) remove();
      this.#log(
        `flow states are not exported by this flow manager: ${_message(e)}`,
        "warn",
      );
    }
  }

  /**
   * The supervisor: an entry's network failed to start or finished by
   * itself; restart it later when its policy says so and its limit allows.
   */
  #onEnd(entry: _Entry, end: "failed" | "finished", retry: boolean): void {
    if (end === "failed") entry.startedAt = undefined;
    if (this.#closing !== undefined || !retry) return;
    const s = _supervision(entry);
    if (
      s.restart === "never" || (end === "finished" && s.restart !== "always")
    ) return;
    const id = entry.stored.id;
    if (end === "failed") {
      if (entry.stored.running) this.#schedule(entry, entry.error ?? "failed");
      return;
    }
    // Decided once the operation under way is done: a network that a stop,
    // replace or delete drained to its end did not end by itself.
    const net = entry.network;
    this.#queue.run(id, () => {
      if (
        this.#closing === undefined && this.#flows.get(id) === entry &&
        entry.network === net && net?.state === "finished" &&
        entry.stored.running && entry.restartTimer === undefined
      ) this.#schedule(entry, "its network finished");
      return Promise.resolve();
    }).catch((e) =>
      this.#log(`flow ${_q(id)}: supervision failed: ${_message(e)}`, "error", {
        flow: id,
      })
    );
  }

  /** Waits the backoff, then restarts; or gives up at the limit. */
  #schedule(entry: _Entry, reason: string): void {
    const s = _supervision(entry);
    const { id, rev } = entry.stored;
    const now = Date.now();
    if (
      entry.startedAt !== undefined &&
      now - entry.startedAt >= s.restartMaxDelayMs
    ) {
      // It ran long enough to count as healthy: a fresh start of the count.
      entry.restartsInRow = 0;
    }
    if (entry.restartsInRow >= s.restartLimit) {
      const gaveUp =
        `not restarted: ${entry.restartsInRow} restarts in a row reached restartLimit ${s.restartLimit}`;
      // The reason is cut, not what was done about it.
      entry.error = `${excerpt(reason)}; ${gaveUp}`;
      this.#log(
        `flow ${_q(id)}: ${gaveUp} (rev ${rev}, policy ${s.restart})`,
        "error",
        { flow: id, rev, op: "restart" },
      );
      if (entry.network !== null) {
        // `always` gave up on a network that finished by itself: the flow
        // failed as a failed start does (README), so an alert on
        // weir_flow_state{state="failed"} fires; the network stays, so its
        // statistics still tell what it did.
        entry.failedAt = now;
        this.#run.emit(entry, { type: "state", state: "failed" });
      }
      return;
    }
    entry.restartsInRow++;
    const delay = restartDelay(s, entry.restartsInRow);
    entry.nextRestartAt = now + delay;
    entry.restartTimer = setTimeout(() => this.#restartNow(entry), delay);
    this.#log(
      `flow ${
        _q(id)
      }: restart ${entry.restartsInRow} of ${s.restartLimit} in ${delay} ms (rev ${rev}, policy ${s.restart}): ${
        excerpt(reason.replaceAll("\n", "; "))
      }`,
      "warn",
      { flow: id, rev, op: "restart", delayMs: delay },
    );
    this.#run.emit(entry, { type: "state", state: "restarting" });
  }

  /** The supervisor's restart, in the flow's turn. */
  #restartNow(entry: _Entry): void {
    entry.restartTimer = undefined;
    entry.nextRestartAt = undefined;
    const id = entry.stored.id;
    this.#queue.run(id, async () => {
      if (
        this.#closing !== undefined || this.#flows.get(id) !== entry ||
        !entry.stored.running ||
        (entry.network !== null && _active(entry.network))
      ) return;
      entry.restarts++;
      const n = entry.restartsInRow;
      try {
        await this.#run.restart(entry);
      } catch (e) {
        this.#run.fail(entry, `restart ${n} did not start: ${_message(e)}`);
        return;
      }
      this.#settle(entry);
      this.#log(
        `flow ${
          _q(id)
        }: restarted (rev ${entry.stored.rev}, restart ${n} in a row)`,
        "info",
        { flow: id, rev: entry.stored.rev, op: "restart" },
      );
    }).catch((e) =>
      this.#log(`flow ${_q(id)}: restart failed: ${_message(e)}`, "error", {
        flow: id,
      })
    );
  }

  /**
   * An operator's action takes over: no restart waits, the count starts
   * again. A flow held back stays so until a start, a stop or a change
   * made (`held` is cleared there: a refused change keeps it).
   */
  #cancelRestart(entry: _Entry): void {
    if (entry.restartTimer !== undefined) clearTimeout(entry.restartTimer);
    entry.restartTimer = undefined;
    entry.nextRestartAt = undefined;
    entry.restartsInRow = 0;
  }

  /**
   * Counts the operation's result and logs a change made (`said`, once it
   * ran, may word the line otherwise: an operation that changed nothing).
   */
  async #op<T>(
    op: Op,
    by: string | undefined,
    fn: () => Promise<T>,
    said?: () => string | undefined,
  ): Promise<T> {
    try {
      const result = await fn();
      this.#collector?.recordFlowOperation(op, "success");
      if (result !== null && typeof result === "object") {
        this.#logChange(op, result as unknown as FlowInfo, by, said?.());
      }
      return result;
    } catch (e) {
      this.#collector?.recordFlowOperation(op, "error");
      throw _tooDeep(e, op);
    }
  }

  /**
   * A counted change of an existing flow: refused when closed, `check`ed
   * (its result goes to `fn`), then `fn` runs after the flow's earlier
   * operations once the flow exists at `rev` (when given).
   */
  #change<C, T>(
    op: Op,
    what: "replace" | "patch" | "delete",
    id: string,
    options: { rev?: number } & FlowActor,
    check: () => C,
    fn: (entry: _Entry, checked: C) => Promise<T>,
  ): Promise<T> {
    const rev = options?.rev;
    return this.#op(op, options?.by, async () => {
      this.#checkOpen(`${what} flow`, id);
      const checked = check();
      return await this.#queue.run(id, async () => {
        const entry = this.#entry(id, what);
        _checkRev(id, entry.stored.rev, rev, what);
        // `fn` cancels a waiting restart once the change is sure to be
        // made: a refused one leaves the supervisor's plan as it was.
        const result = await fn(entry, checked);
        // A delete returns nothing: its line names the rev it removed.
        if (op === "delete") this.#logChange(op, entry.stored, options?.by);
        return result;
      });
    });
  }

  /** One line per change made: the flow, its rev and who asked. */
  #logChange(
    op: Op,
    flow: { id: string; rev: number; state?: string; discarded?: number },
    by: string | undefined,
    said?: string,
  ): void {
    const done = said ?? {
      create: "created",
      update: "updated",
      delete: "deleted",
      start: "started",
      stop: "stopped",
    }[op];
    const fields: FlowLogFields = { flow: flow.id, rev: flow.rev, op };
    if (by !== undefined) fields.by = by;
    let tail = "";
    if (typeof flow.discarded === "number") {
      fields.discarded = flow.discarded;
      tail = `; ${flow.discarded} messages discarded`;
    }
    this.#log(
      `flow ${_q(flow.id)} ${done} (rev ${flow.rev}${
        op === "delete" || flow.state === undefined ? "" : `, ${flow.state}`
      })${by === undefined ? "" : ` by ${by}`}${tail}`,
      "info",
      fields,
    );
  }

  #checkOpen(what: string, id: unknown): void {
    if (this.#closing !== undefined) {
      throw new FlowManagerClosedError(
        `Cannot ${what}${
          typeof id === "string" ? ` ${_q(id)}` : ""
        }: the flow manager is closed`,
      );
    }
  }

  #entry(id: string, what: string): _Entry {
    const entry = typeof id === "string" ? this.#flows.get(id) : undefined;
    if (entry === undefined) {
      throw new FlowNotFoundError(
        String(id),
        `Cannot ${what} flow ${_q(id)}: it does not exist`,
      );
    }
    return entry;
  }
}

/**
 * Whether a tap's `spec` names a graph connection's end as `Network.tap`
 * matches it: `Process.port` any index, `Process.port[i]` only that one.
 */
function _namesEnd(
  end: { process: string; port: string; index?: number },
  spec: string,
): boolean {
  const name = `${end.process}.${end.port}`;
  return spec === name ||
    (end.index !== undefined && spec === `${name}[${end.index}]`);
}

/** `e` with its problems' paths and messages, without lines and columns. */
function _withoutPositions(e: GraphError): GraphError {
  const first = e.message.split("\n", 1)[0];
  return new GraphError(
    e.problems.map(({ path, message }) => ({ path, message })),
    { action: first.replace(/: \d+ problems?$/, ""), cause: e.cause },
  );
}
