/**
 * The resource tracker: samples the process's CPU, memory, threads, files,
 * network and TCP sockets on an interval, measures the event loop's lag
 * continuously, and exports the resource rows of the catalogue
 * (`RESOURCE_METRICS`) into a {@linkcode MetricsCollector}.
 *
 * The tracker is runtime-neutral: what it reads comes from a
 * {@linkcode ResourceSource} handed to it (`resourceSource()` of
 * `src/runtime/resources.ts` picks Deno's or Bun's). A reading the source
 * cannot make is left out of the exposition and logged once, never
 * exported as a made-up zero.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { clearTimeout, setTimeout } from "node:timers";
import { noteLoopTurn } from "../engine/activation.ts";
import { DURATION_BUCKETS, Histogram } from "../engine/histogram.ts";
import { VERSION } from "../version.ts";
import { type MetricDef, RESOURCE_METRICS } from "./catalogue.ts";
import type { FamilyOutput, MetricsCollector } from "./collector.ts";

/** CPU time used by the process since it started, in microseconds. */
export interface CpuTimes {
  /** User-mode CPU time. */
  readonly user: number;
  /** Kernel-mode CPU time. */
  readonly system: number;
}

/** The process's memory, as the runtime reports it. */
export interface MemoryReading {
  /** Resident memory in bytes, or `null` when the runtime cannot tell. */
  readonly residentBytes: number | null;
  /**
   * The runtime's own breakdown in bytes, by the `type` label of
   * `memory_bytes` (`heap_used`, `heap_total`, `external`, ...): only the
   * types the runtime measures.
   */
  readonly types: Readonly<Record<string, number>>;
}

/** Bytes received and sent on the network interfaces the process sees. */
export interface NetworkBytes {
  /** Bytes received, since the interfaces came up. */
  readonly receiveBytes: number;
  /** Bytes sent, since the interfaces came up. */
  readonly transmitBytes: number;
}

/**
 * What the resource tracker reads, injected so that the tracker needs no
 * runtime global. Each read returns `null` (or throws) when it cannot be
 * made; an optional read that is absent is not measured on this platform
 * (the /proc reads off Linux). Reads are synchronous and should cost
 * microseconds: the tracker calls each once per tick.
 */
export interface ResourceSource {
  /** The runtime's name: `deno` or `bun`. */
  readonly runtime: string;
  /** The runtime's version (`2.9.6`). */
  readonly runtimeVersion: string;
  /** CPU time used since the process started. */
  cpuUsage(): CpuTimes | null;
  /** Resident memory and the runtime's heap breakdown. */
  memory(): MemoryReading | null;
  /** Operating-system threads of the process. */
  threads?(): number | null;
  /** Open file descriptors of the process. */
  openFds?(): number | null;
  /** The limit on open file descriptors. */
  maxFds?(): number | null;
  /** Bytes received and sent on the network interfaces. */
  networkBytes?(): NetworkBytes | null;
  /**
   * The process's own TCP sockets, counted by lower-case kernel state
   * (`established`, `listen`, ...), every state present (0 when none).
   */
  tcpConnections?(): Readonly<Record<string, number>> | null;
  /** When the process started, in seconds since the Unix epoch. */
  startTime?(): number | null;
}

/** Options of {@linkcode ResourceTracker}. */
export interface ResourceTrackerOptions {
  /** Where the readings come from: `resourceSource()` in `src/runtime/resources.ts`. */
  source: ResourceSource;
  /** Milliseconds between two samples. Default 5000. */
  intervalMs?: number;
  /** Aborting it stops the tracker, as `stop()` does. Default: none. */
  signal?: AbortSignal;
  /**
   * Where a reading that cannot be made is reported, once per reading.
   * Default `console.warn`.
   */
  log?: (message: string) => void;
  /**
   * Bucket upper bounds of `event_loop_lag_seconds`, in seconds. Default
   * {@linkcode DEFAULT_LAG_BUCKETS}.
   */
  lagBuckets?: readonly number[];
  /**
   * Milliseconds between two wake-ups of the event-loop lag timer while
   * the process works; `0` turns the lag measurement off (and leaves
   * `event_loop_lag_seconds` out). A block of the loop of B ms records a
   * sample of at least B - lagResolutionMs ms. Default 40.
   */
  lagResolutionMs?: number;
  /**
   * Whether the lag timer rests while the process idles (default `true`).
   * Waking an idle process costs CPU (0.1 to 0.3 ms a wake-up on the VM
   * of bench/RESULTS.md: a timer at 40 ms would cost 0.4 to 0.7 % of a
   * core), so once the process has idled for 2 s (each wake-up on time,
   * less than 3 % of a core used over the 2 s and less than 10 % in any
   * one period), the timer doubles its period at each wake-up, and past
   * 1 s it stops: each sample tick then records its own lateness as the
   * lag. Work or lag seen at a wake-up or tick brings the timer back to
   * `lagResolutionMs` at once. So a block that starts within 2 s of the
   * process's last work is recorded at full resolution; one that starts
   * later is recorded from the due time of the timer or tick it delays,
   * so in part or not at all, and the ones after it at full resolution.
   */
  lagRests?: boolean;
  /**
   * Milliseconds between two reads of the TCP sockets by the timer (at
   * most once per tick; `0`: every tick). Listing them makes the kernel
   * walk its whole connection table (`/proc/net/tcp` and `tcp6`), which
   * took about 5 ms on the 2-core VM of bench/RESULTS.md whatever the
   * socket count, against 0.1 to 0.2 ms for every other reading together.
   * `sample()` always reads them. Default 60000.
   */
  tcpIntervalMs?: number;
}

const RESOURCE_TRACKER_OPTIONS = optionKeys<ResourceTrackerOptions>()([
  "source",
  "intervalMs",
  "signal",
  "log",
  "lagBuckets",
  "lagResolutionMs",
  "lagRests",
  "tcpIntervalMs",
]);

/**
 * The share of one core above which the process counts as working for the
 * lag timer's back-off: above what the timer's own wake-ups cost at 40 ms
 * (0.4 to 0.75 % on the VM of bench/RESULTS.md), with room for a runtime's
 * housekeeping.
 */
const LAG_ACTIVE_SHARE = 0.03;
/** The share of one core in one lag period that counts as work at once. */
const LAG_WINDOW_SHARE = 0.1;
/** How long (ms) the process idles before the lag timer backs off. */
const LAG_IDLE_AFTER_MS = 2000;
/** The longest period (ms) of the lag timer; past it, it rests. */
const LAG_LONGEST_MS = 1000;

/** The shortest window (ms) over which `cpu_usage_ratio` is computed. */
const MIN_RATIO_WINDOW_MS = 20;

/** Default buckets of `event_loop_lag_seconds`: 1 ms to 10 s. */
export const DEFAULT_LAG_BUCKETS: readonly number[] = DURATION_BUCKETS.filter(
  (b) => b >= 0.001,
);

/** The readings, by what a {@linkcode ResourceSource} method returns. */
type ReadingKey =
  | "cpuUsage"
  | "memory"
  | "threads"
  | "openFds"
  | "maxFds"
  | "networkBytes"
  | "tcpConnections"
  | "startTime";

/** What each reading is called in the log. */
const READING_NAMES: Record<ReadingKey, string> = {
  cpuUsage: "CPU time",
  memory: "memory usage",
  threads: "thread count",
  openFds: "open file descriptors",
  maxFds: "file descriptor limit",
  networkBytes: "network byte counters",
  tcpConnections: "TCP sockets",
  startTime: "process start time",
};

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Samples the process's resources every `intervalMs` and exports them
 * through the collectors it is attached to. Readings are taken by the
 * tracker's timer, never by a scrape, so a scrape costs no system call.
 * Its timers are `unref`'d: they never keep a process alive.
 *
 * Sampling never piles up: ticks fall on a fixed grid of `intervalMs`,
 * and a tick that ends past the next grid point skips the ticks it
 * overran (counted in {@linkcode ResourceTracker.skippedTicks}).
 *
 * @example Attach to a collector and take a sample now
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsCollector } from "./collector.ts";
 * import { ResourceTracker } from "./resource_tracker.ts";
 * import { resourceSource } from "../runtime/resources.ts";
 *
 * const controller = new AbortController();
 * const tracker = new ResourceTracker({
 *   source: resourceSource(),
 *   signal: controller.signal,
 * });
 * const metrics = new MetricsCollector();
 * tracker.attach(metrics);
 * tracker.start();
 * const text = await metrics.render();
 * assert.deepEqual(text.includes("weir_build_info{"), true);
 * assert.deepEqual(text.includes("process_cpu_seconds_total "), true);
 * // Aborting stops the timers.
 * controller.abort();
 * ```
 */
export class ResourceTracker {
  /** The interval between samples, in milliseconds. */
  readonly intervalMs: number;
  readonly #source: ResourceSource;
  readonly #log: (message: string) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #lagResolutionMs: number;
  readonly #lagRests: boolean;
  readonly #tcpIntervalMs: number;
  /** When the TCP sockets were last read (performance.now()). */
  #tcpAt = -Infinity;
  readonly #lag: Histogram | null;
  /** Readings found unreadable, logged once each. */
  readonly #reported = new Set<ReadingKey>();
  /** Readings made at least once. */
  readonly #readable = new Set<ReadingKey>();

  // The latest readings; null when the last read failed.
  #cpu: CpuTimes | null = null;
  #cpuUser = NaN;
  #cpuSystem = NaN;
  #memory: MemoryReading | null = null;
  #threads: number | null = null;
  #openFds: number | null = null;
  #maxFds: number | null = null;
  #net: NetworkBytes | null = null;
  #tcp: Readonly<Record<string, number>> | null = null;
  #startTime: number | null = null;

  /** CPU times and wall clock of the previous sample, for the ratio. */
  #prevCpu: CpuTimes | null = null;
  #prevWall = -Infinity;
  #sampled = false;

  #timer: ReturnType<typeof setTimeout> | undefined;
  #lagTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the lag timer was last armed or woke (performance.now()). */
  #lagLast = 0;
  /** The lag timer's current period, in ms. */
  #lagPeriod = 0;
  /** The process's CPU time (µs) at the lag timer's last wake-up. */
  #lagCpu = NaN;
  /** The lag timer rests: the sample ticks measure the lag. */
  #lagResting = false;
  /** Since when the process idles (performance.now()), and its CPU then. */
  #lagIdleSince = NaN;
  #lagIdleCpu = NaN;
  #gridStart = 0;
  #gridIndex = 0;
  #running = false;
  #ticks = 0;
  #skipped = 0;
  readonly #onAbort = () => this.stop();

  /** Creates a stopped tracker; a bad option throws, naming it and why. */
  constructor(options: ResourceTrackerOptions) {
    checkOptionKeys(
      "Cannot create resource tracker",
      options,
      RESOURCE_TRACKER_OPTIONS,
    );
    const source = options?.source;
    if (
      source === null || typeof source !== "object" ||
      typeof source.cpuUsage !== "function" ||
      typeof source.memory !== "function"
    ) {
      throw new TypeError(
        "Cannot create resource tracker: source must be a ResourceSource (with cpuUsage() and memory()), received " +
          (source === null ? "null" : typeof source),
      );
    }
    const intervalMs = options.intervalMs ?? 5000;
    if (
      !Number.isFinite(intervalMs) || intervalMs < 1 ||
      intervalMs > MAX_TIMER_MS
    ) {
      throw new RangeError(
        `Cannot create resource tracker: intervalMs must be a number from 1 to ${MAX_TIMER_MS}, received ${
          String(intervalMs)
        }`,
      );
    }
    const lagMs = options.lagResolutionMs ?? 40;
    if (!Number.isFinite(lagMs) || lagMs < 0 || lagMs > MAX_TIMER_MS) {
      throw new RangeError(
        `Cannot create resource tracker: lagResolutionMs must be 0 (off) or a number up to ${MAX_TIMER_MS}, received ${
          String(lagMs)
        }`,
      );
    }
    const tcpMs = options.tcpIntervalMs ?? 60_000;
    if (!Number.isFinite(tcpMs) || tcpMs < 0) {
      throw new RangeError(
        `Cannot create resource tracker: tcpIntervalMs must be a non-negative number, received ${
          String(tcpMs)
        }`,
      );
    }
    if (options.log !== undefined && typeof options.log !== "function") {
      throw new TypeError(
        `Cannot create resource tracker: log must be a function, received ${typeof options
          .log}`,
      );
    }
    this.intervalMs = intervalMs;
    this.#source = source;
    this.#log = options.log ?? ((m) => console.warn(m));
    this.#signal = options.signal;
    this.#lagResolutionMs = lagMs;
    this.#lagRests = options.lagRests ?? true;
    this.#tcpIntervalMs = tcpMs;
    this.#lag = lagMs > 0
      ? new Histogram(options.lagBuckets ?? DEFAULT_LAG_BUCKETS)
      : null;
  }

  /** Ticks sampled by the timer since {@linkcode start}. */
  get ticks(): number {
    return this.#ticks;
  }

  /** Ticks skipped because the tick before them overran the interval. */
  get skippedTicks(): number {
    return this.#skipped;
  }

  /** Whether the timers run (started, not stopped or aborted). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Takes a sample at once and starts the timers: a sample every
   * `intervalMs` and the event-loop lag timer. Does nothing when running
   * already or when the signal has aborted.
   */
  start(): void {
    if (this.#running || this.#signal?.aborted) return;
    this.#running = true;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.sample();
    this.#gridStart = performance.now();
    this.#gridIndex = 0;
    this.#schedule();
    if (this.#lag !== null) {
      this.#lagCpu = NaN;
      this.#lagIdleSince = performance.now();
      this.#lagIdleCpu = NaN;
      this.#armLag(this.#lagResolutionMs);
    }
  }

  /** Stops the timers; the last readings stay exported. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#lagTimer !== undefined) clearTimeout(this.#lagTimer);
    this.#timer = undefined;
    this.#lagTimer = undefined;
    this.#lagResting = false;
  }

  /** Same as {@linkcode stop}, for `using`. */
  [Symbol.dispose](): void {
    this.stop();
  }

  /**
   * Reads every source now. A reading that cannot be made is logged the
   * first time, and its metrics are left out until it can be made again.
   */
  sample(): void {
    this.#sample(true);
  }

  #sample(withTcp: boolean): void {
    const s = this.#source;
    const now = performance.now();
    const cpu = this.#read("cpuUsage", () => s.cpuUsage());
    // A window of a few milliseconds (start() right after attach()) says
    // more about the clock than the process: the ratio waits for a longer
    // one (it is left out until then).
    if (cpu !== null && now - this.#prevWall >= MIN_RATIO_WINDOW_MS) {
      if (this.#prevCpu !== null) {
        const wallUs = (now - this.#prevWall) * 1000;
        this.#cpuUser = Math.max(0, cpu.user - this.#prevCpu.user) / wallUs;
        this.#cpuSystem = Math.max(0, cpu.system - this.#prevCpu.system) /
          wallUs;
      }
      this.#prevCpu = cpu;
      this.#prevWall = now;
    }
    this.#cpu = cpu;
    this.#memory = this.#read("memory", () => s.memory());
    if (s.threads) this.#threads = this.#read("threads", () => s.threads!());
    if (s.openFds) this.#openFds = this.#read("openFds", () => s.openFds!());
    // The limit changes only by setrlimit: read with the sockets' cadence.
    if (s.maxFds && (withTcp || !this.#readable.has("maxFds"))) {
      this.#maxFds = this.#read("maxFds", () => s.maxFds!());
    }
    if (s.networkBytes) {
      this.#net = this.#read("networkBytes", () => s.networkBytes!());
    }
    if (s.tcpConnections && withTcp) {
      this.#tcpAt = now;
      this.#tcp = this.#read("tcpConnections", () => s.tcpConnections!());
    }
    // The start time does not change: read until it is known.
    if (s.startTime && this.#startTime === null) {
      this.#startTime = this.#read("startTime", () => s.startTime!());
    }
    this.#sampled = true;
  }

  /**
   * Adds a family to `collector` for every resource metric whose reading
   * can be made (sampling once first if the tracker has not sampled yet);
   * the others are left out, and were logged. Returns a function that
   * takes the families out again.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MetricsCollector } from "./collector.ts";
   * import { ResourceTracker } from "./resource_tracker.ts";
   *
   * // A source for a platform with no /proc: CPU and memory only.
   * const tracker = new ResourceTracker({
   *   source: {
   *     runtime: "deno",
   *     runtimeVersion: "2.9.6",
   *     cpuUsage: () => ({ user: 1_500_000, system: 500_000 }),
   *     memory: () => ({ residentBytes: 50e6, types: { heap_used: 9e6 } }),
   *   },
   * });
   * const metrics = new MetricsCollector();
   * const detach = tracker.attach(metrics);
   * const text = await metrics.render();
   * assert.deepEqual(text.includes("process_cpu_seconds_total 2"), true);
   * // Not measured from this source: left out, not exported as 0.
   * assert.deepEqual(text.includes("process_open_fds"), false);
   * detach();
   * ```
   */
  attach(collector: MetricsCollector): () => void {
    if (!this.#sampled) this.sample();
    const R = RESOURCE_METRICS;
    const removers: (() => void)[] = [];
    const add = (
      def: MetricDef,
      key: ReadingKey | null,
      collect: (out: FamilyOutput) => void,
    ) => {
      if (key !== null && !this.#readable.has(key)) return;
      removers.push(collector.addFamily(def, collect));
    };
    add(R.processCpuSeconds, "cpuUsage", (out) => {
      const c = this.#cpu;
      if (c !== null) out.sample({}, (c.user + c.system) / 1e6);
    });
    add(R.cpuUsageRatio, "cpuUsage", (out) => {
      if (this.#cpu === null || Number.isNaN(this.#cpuUser)) return;
      out.sample({ mode: "user" }, this.#cpuUser);
      out.sample({ mode: "system" }, this.#cpuSystem);
    });
    // A runtime that measures its heap but not the resident memory.
    if (typeof this.#memory?.residentBytes === "number") {
      add(R.processResidentMemory, "memory", (out) => {
        const rss = this.#memory?.residentBytes;
        if (typeof rss === "number") out.sample({}, rss);
      });
    }
    add(R.memory, "memory", (out) => {
      const types = this.#memory?.types;
      if (types === undefined) return;
      for (const type in types) out.sample({ type }, types[type]);
    });
    if (this.#lag !== null) {
      const lag = this.#lag;
      add(R.eventLoopLag, null, (out) => out.histogram({}, lag));
    }
    add(R.threads, "threads", (out) => {
      if (this.#threads !== null) out.sample({}, this.#threads);
    });
    add(R.processOpenFds, "openFds", (out) => {
      if (this.#openFds !== null) out.sample({}, this.#openFds);
    });
    add(R.processMaxFds, "maxFds", (out) => {
      if (this.#maxFds !== null) out.sample({}, this.#maxFds);
    });
    add(R.processNetworkReceive, "networkBytes", (out) => {
      if (this.#net !== null) out.sample({}, this.#net.receiveBytes);
    });
    add(R.processNetworkTransmit, "networkBytes", (out) => {
      if (this.#net !== null) out.sample({}, this.#net.transmitBytes);
    });
    add(R.tcpConnections, "tcpConnections", (out) => {
      const tcp = this.#tcp;
      if (tcp === null) return;
      for (const state in tcp) out.sample({ state }, tcp[state]);
    });
    add(R.processStartTime, "startTime", (out) => {
      if (this.#startTime !== null) out.sample({}, this.#startTime);
    });
    const build = {
      version: VERSION,
      runtime: this.#source.runtime,
      runtime_version: this.#source.runtimeVersion,
    };
    add(R.buildInfo, null, (out) => out.sample(build, 1));
    return () => {
      for (const remove of removers) remove();
      removers.length = 0;
    };
  }

  /** One reading: its value, or null (logged the first time) when it fails. */
  #read<T>(key: ReadingKey, read: () => T | null): T | null {
    let value: T | null;
    let error: unknown;
    try {
      value = read();
    } catch (e) {
      value = null;
      error = e;
    }
    if (value !== null && value !== undefined) {
      this.#readable.add(key);
      return value;
    }
    if (!this.#reported.has(key)) {
      this.#reported.add(key);
      const why = error === undefined
        ? "not available on this platform or without permission"
        : error instanceof Error
        ? error.message
        : String(error);
      this.#log(
        `weir resource tracker: cannot read the ${
          READING_NAMES[key]
        } (${why}); its metrics are left out (on Linux, Deno needs -A to read /proc)`,
      );
    }
    return null;
  }

  /** Arms the sampler for the next point of the grid. */
  #schedule(): void {
    const now = performance.now();
    const due = Math.floor((now - this.#gridStart) / this.intervalMs) + 1;
    // A timer that fired a little early must not tick twice for one point.
    const next = Math.max(this.#gridIndex + 1, due);
    this.#skipped += next - this.#gridIndex - 1;
    this.#gridIndex = next;
    const delay = this.#gridStart + next * this.intervalMs - now;
    this.#timer = setTimeout(this.#onTick, Math.max(0, delay));
    this.#timer.unref();
  }

  readonly #onTick = () => {
    noteLoopTurn();
    if (!this.#running) return;
    this.#ticks++;
    if (this.#lagResting) {
      // The tick's lateness stands for the lag timer's.
      const now = performance.now();
      const due = this.#gridStart + this.#gridIndex * this.intervalMs;
      const next = this.#lagWake(now, now - due);
      if (next > 0) this.#armLag(next);
    }
    // Half an interval of slack: a tick a little early still reads them.
    const tcpDue = this.#tcpAt + this.#tcpIntervalMs - this.intervalMs / 2;
    this.#sample(performance.now() >= tcpDue);
    if (this.#running) this.#schedule();
  };

  /**
   * The lag timer's current period in ms; 0 when it does not run (stopped,
   * or resting while the process idles).
   */
  get lagPeriodMs(): number {
    return this.#lagTimer === undefined || this.#lagResting
      ? 0
      : this.#lagPeriod;
  }

  #armLag(periodMs: number): void {
    this.#lagResting = false;
    this.#lagPeriod = periodMs;
    this.#lagLast = performance.now();
    this.#lagTimer = setTimeout(this.#onLagTimer, periodMs);
    this.#lagTimer.unref();
  }

  readonly #onLagTimer = () => {
    noteLoopTurn();
    if (!this.#running) return;
    const now = performance.now();
    const next = this.#lagWake(now, now - this.#lagLast - this.#lagPeriod);
    if (next > 0) this.#armLag(next);
    else this.#lagResting = true;
  };

  /**
   * Records a lag sample, `late` ms, seen at `now`; returns the lag
   * timer's next period, 0 to rest.
   */
  #lagWake(now: number, late: number): number {
    this.#lag!.observe(late > 0 ? late / 1000 : 0);
    // Idle: on time, under 10 % of a core since the last look (a
    // collection of garbage can take a few %), under 3 % since the idling
    // began.
    let cpu: CpuTimes | null = null;
    try {
      cpu = this.#source.cpuUsage();
    } catch { /* unknown: counted as work */ }
    const total = cpu === null ? NaN : cpu.user + cpu.system;
    const share = (since: number, cpuThen: number) =>
      (total - cpuThen) / ((now - since) * 1000);
    const idle = late < this.#lagResolutionMs &&
      share(this.#lagLast, this.#lagCpu) < LAG_WINDOW_SHARE &&
      share(this.#lagIdleSince, this.#lagIdleCpu) < LAG_ACTIVE_SHARE;
    this.#lagCpu = total;
    this.#lagLast = now;
    if (!idle) {
      this.#lagIdleSince = now;
      this.#lagIdleCpu = total;
    }
    if (
      !idle || !this.#lagRests || now - this.#lagIdleSince < LAG_IDLE_AFTER_MS
    ) return this.#lagResolutionMs;
    const next = this.#lagPeriod * 2;
    return next > LAG_LONGEST_MS ? 0 : next;
  }
}
