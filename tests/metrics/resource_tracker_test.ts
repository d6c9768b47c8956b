import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import process from "node:process";
import { test } from "node:test";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import {
  type ResourceSource,
  ResourceTracker,
} from "../../src/metrics/resource_tracker.ts";
import { resourceSource } from "../../src/runtime/resources.ts";
import { VERSION } from "../../src/version.ts";
import { sleep, until } from "../engine/_helpers.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import {
  type Exposition,
  parseExposition,
  samplesOf,
  valueOf,
} from "./_exposition.ts";

const notLinux = process.platform !== "linux" && "needs Linux's /proc";
const MiB = 2 ** 20;

/** A tracker of this process, attached to a fresh collector, not started. */
function tracked(
  options: {
    lagBuckets?: number[];
    lagResolutionMs?: number;
    intervalMs?: number;
    source?: ResourceSource;
  } = {},
) {
  const log: string[] = [];
  const tracker = new ResourceTracker({
    source: resourceSource(),
    log: (m) => log.push(m),
    ...options,
  });
  const metrics = new MetricsCollector();
  tracker.attach(metrics);
  /** Samples now and parses the exposition. */
  const scrape = async (): Promise<Exposition> => {
    tracker.sample();
    return parseExposition(await metrics.render());
  };
  return { tracker, metrics, scrape, log };
}

/** The value of a sample that must be there. */
function must(e: Exposition, name: string, labels = {}): number {
  const v = valueOf(e, name, labels);
  assert.ok(v !== undefined, `${name} ${JSON.stringify(labels)} is missing`);
  return v;
}

// Independent reads of /proc, written apart from src/runtime/proc.ts.

function procFds(): number {
  return readdirSync("/proc/self/fd").length - 1;
}

function procRss(): number {
  const text = readFileSync("/proc/self/status", "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(text)![1]) * 1024;
}

function procLoopback(): { rx: number; tx: number } {
  const text = readFileSync("/proc/self/net/dev", "utf8");
  const m = /^\s*lo:\s*(\d+)(?:\s+\d+){7}\s+(\d+)/m.exec(text)!;
  return { rx: Number(m[1]), tx: Number(m[2]) };
}

function procEstablished(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const link = readlinkSync(`/proc/self/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(m[1]);
    } catch {
      // the listing's own descriptor
    }
  }
  let n = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const rows = readFileSync(file, "utf8").trim().split("\n").slice(1);
    for (const row of rows) {
      const f = row.trim().split(/\s+/);
      if (f[3] === "01" && inodes.has(f[9])) n++;
    }
  }
  return n;
}

function procCpuSeconds(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15)
}

/** A source with CPU and memory only, as on a platform without /proc. */
function bareSource(extra: Partial<ResourceSource> = {}): ResourceSource {
  return {
    runtime: "bun",
    runtimeVersion: "9.9.9",
    cpuUsage: () => ({ user: 2_000_000, system: 1_000_000 }),
    memory: () => ({
      residentBytes: 100 * MiB,
      types: { heap_used: 10 * MiB, heap_total: 20 * MiB },
    }),
    ...extra,
  };
}

test("ResourceTracker: open fds rise by 50 with 50 open files and fall back", {
  skip: notLinux,
}, async () => {
  const { scrape } = tracked();
  const before = must(await scrape(), "process_open_fds");
  const fds: number[] = [];
  try {
    for (let i = 0; i < 50; i++) fds.push(openSync("/dev/null", "r"));
    const e = await scrape();
    const during = must(e, "process_open_fds");
    const independent = procFds();
    assert.ok(during - before >= 50, `${before} -> ${during}`);
    assert.ok(
      Math.abs(during - independent) <= 2,
      `${during} vs ${independent}`,
    );
    assert.ok(must(e, "process_max_fds") >= during);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const after = must(await scrape(), "process_open_fds");
  assert.ok(after < before + 50, `${before} -> ${after} after closing`);
});

test(
  "ResourceTracker: holding 50 MB raises resident memory by at least 40 MB",
  {
    skip: notLinux,
  },
  async () => {
    const { scrape } = tracked();
    const before = must(await scrape(), "process_resident_memory_bytes");
    // Filled, so that every page is resident (an untouched buffer is not).
    const held = new Uint8Array(50 * MiB).fill(1);
    const e = await scrape();
    const during = must(e, "process_resident_memory_bytes");
    const independent = procRss();
    assert.ok(during - before >= 40 * MiB, `${before} -> ${during}`);
    assert.ok(
      Math.abs(during - independent) < 16 * MiB,
      `${during} vs VmRSS ${independent}`,
    );
    assert.ok(must(e, "weir_memory_bytes", { type: "heap_used" }) > 0);
    assert.ok(must(e, "weir_memory_bytes", { type: "heap_total" }) > 0);
    assert.equal(held[50 * MiB - 1], 1);
  },
);

/**
 * This process's resource source, but for its CPU time, which counts only
 * the work done through `work()`: the back-off's tests are about the lag
 * timer, and a runtime's own housekeeping (a collection of garbage on
 * another thread) does not idle on cue. In one CI run on Bun it took more
 * than 3 % of a core in the second after the timer came to rest, and the
 * timer woke, as it should for a process that uses the CPU.
 */
function workOnlyCpu() {
  const real = resourceSource();
  let spentUs = 0;
  const source: ResourceSource = {
    runtime: real.runtime,
    runtimeVersion: real.runtimeVersion,
    cpuUsage: () => ({ user: spentUs, system: 0 }),
    memory: () => real.memory(),
  };
  /** Keeps the loop busy for `ms`, in slices of 5 ms that let timers run. */
  const work = async (ms: number): Promise<void> => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const t = performance.now();
      while (performance.now() - t < 5) { /* work */ }
      spentUs += (performance.now() - t) * 1000;
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { source, work };
}

/** Blocks the loop for `ms` from a timer; resolves after. */
function block(ms: number): Promise<void> {
  return new Promise<void>((resolve) =>
    setTimeout(() => {
      const t = performance.now();
      while (performance.now() - t < ms) { /* block the loop */ }
      resolve();
    }, 5)
  );
}

/** Lag samples above 150 ms, and the sum of all, as the exposition says. */
async function lagOver150(metrics: MetricsCollector) {
  const e = parseExposition(await metrics.render());
  const inf = must(e, "weir_event_loop_lag_seconds_bucket", { le: "+Inf" });
  const le150 = must(e, "weir_event_loop_lag_seconds_bucket", { le: "0.15" });
  return { n: inf - le150, sum: must(e, "weir_event_loop_lag_seconds_sum") };
}

/** Waits until a lag sample above 150 ms more than `before` is exported. */
async function sawLagOver150(
  metrics: MetricsCollector,
  before: { n: number; sum: number },
): Promise<void> {
  let after = before;
  const deadline = Date.now() + 10_000;
  while (after.n === before.n && Date.now() < deadline) {
    await sleep(20);
    after = await lagOver150(metrics);
  }
  assert.ok(after.n > before.n, "no lag sample above 150 ms");
  assert.ok(after.sum - before.sum >= 0.15, `${before.sum} -> ${after.sum}`);
}

test(
  "ResourceTracker: the lag timer rests while the process idles and is back at full resolution once it works",
  { timeout: 30_000 },
  async () => {
    const { source, work } = workOnlyCpu();
    const { tracker, metrics } = tracked({
      lagBuckets: [0.01, 0.15, 1],
      lagResolutionMs: 40,
      intervalMs: 500,
      source,
    });
    tracker.start();
    try {
      const period = () => tracker.lagPeriodMs;
      assert.equal(period(), 40);
      // Full resolution for 2 s of idling (polled every 100 ms: more often
      // would be work), then 80, 160, 320 and 640 ms, then it rests.
      await sleep(1500);
      assert.equal(period(), 40, "full resolution for the first 2 s");
      const seen = new Set<number>();
      for (let i = 0; i < 200 && period() !== 0; i++) {
        seen.add(period());
        await sleep(100);
      }
      assert.equal(period(), 0, "rests while idle");
      assert.ok(seen.has(320) && seen.has(640), [...seen].join(" "));
      await sleep(1000);
      assert.equal(period(), 0, "keeps resting while idle");
      // Work for longer than a tick: the ticks see it.
      await work(700);
      assert.equal(period(), 40);
      // And a block now is recorded at full resolution.
      const before = await lagOver150(metrics);
      await block(200);
      await sawLagOver150(metrics, before);
    } finally {
      tracker.stop();
    }
    assert.equal(tracker.lagPeriodMs, 0);
  },
);

test(
  "ResourceTracker: a block while the lag timer rests is recorded from the tick it delays",
  { timeout: 30_000 },
  async () => {
    // The process's own CPU would be the test runner's too: in Bun's one
    // process for every file, what earlier files left running kept it
    // above the idle share on a loaded machine, and the timer never rested.
    const { source } = workOnlyCpu();
    const { tracker, metrics } = tracked({
      lagBuckets: [0.01, 0.15, 1],
      intervalMs: 500,
      source,
    });
    tracker.start();
    try {
      for (let i = 0; i < 200 && tracker.lagPeriodMs !== 0; i++) {
        await sleep(100);
      }
      assert.equal(tracker.lagPeriodMs, 0, "rests while idle");
      // 1100 ms of blocking delays a 500 ms tick by more than 150 ms.
      const before = await lagOver150(metrics);
      await block(1100);
      await sleep(50);
      const after = await lagOver150(metrics);
      assert.ok(after.n > before.n, "no lag sample above 150 ms");
      assert.equal(tracker.lagPeriodMs, 40, "back at full resolution");
    } finally {
      tracker.stop();
    }
  },
);

test(
  "ResourceTracker: a 200 ms block of the loop records a lag sample of at least 150 ms",
  {
    timeout: 30_000,
  },
  async () => {
    const { tracker, metrics } = tracked({ lagBuckets: [0.01, 0.15, 1] });
    tracker.start();
    try {
      // Let the lag timer tick once, unblocked.
      await new Promise((r) => setTimeout(r, 100));
      const before = await lagOver150(metrics);
      await block(200);
      await sawLagOver150(metrics, before);
    } finally {
      tracker.stop();
    }
  },
);

test(
  "ResourceTracker: 5 connections to a server of another process raise established by 5",
  {
    skip: notLinux,
    timeout: 30_000,
  },
  async () => {
    const { scrape } = tracked();
    const child = await listeningChild();
    const sockets: Socket[] = [];
    try {
      const before = must(await scrape(), "weir_tcp_connections", {
        state: "established",
      });
      const independentBefore = procEstablished();
      for (let i = 0; i < 5; i++) {
        sockets.push(
          await new Promise<Socket>((resolve, reject) => {
            const s = connect(child.port, "127.0.0.1", () => resolve(s));
            s.on("error", reject);
          }),
        );
      }
      const e = await scrape();
      const during = must(e, "weir_tcp_connections", { state: "established" });
      assert.equal(during - before, 5);
      assert.equal(procEstablished() - independentBefore, 5);
      assert.equal(
        must(e, "weir_tcp_connections", { state: "listen" }) >= 0,
        true,
      );
    } finally {
      for (const s of sockets) s.destroy();
      child.process.kill();
    }
  },
);

test(
  "ResourceTracker: 1 MiB sent over loopback moves the network byte counters",
  {
    skip: notLinux,
    timeout: 30_000,
  },
  async () => {
    const { scrape } = tracked();
    let received = 0;
    const server = createServer((s) =>
      s.on("data", (d) => received += d.length)
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const e0 = await scrape();
      const rx0 = must(e0, "process_network_receive_bytes_total");
      const tx0 = must(e0, "process_network_transmit_bytes_total");
      const lo0 = procLoopback();
      const client = connect(port, "127.0.0.1");
      await new Promise<void>((r) => client.on("connect", r));
      client.end(new Uint8Array(MiB));
      await until(() => received === MiB, 20_000);
      client.destroy();
      const e1 = await scrape();
      const lo1 = procLoopback();
      // Loopback counts the bytes once received and once sent.
      assert.ok(must(e1, "process_network_receive_bytes_total") - rx0 >= MiB);
      assert.ok(must(e1, "process_network_transmit_bytes_total") - tx0 >= MiB);
      assert.ok(lo1.rx - lo0.rx >= MiB && lo1.tx - lo0.tx >= MiB);
    } finally {
      await new Promise((r) => server.close(r));
    }
  },
);

test(
  "ResourceTracker: CPU time, threads, start time and build info agree with /proc",
  {
    skip: notLinux,
  },
  async () => {
    const { scrape } = tracked();
    const t = performance.now();
    while (performance.now() - t < 50) { /* use some CPU */ }
    const e = await scrape();
    const cpu = must(e, "process_cpu_seconds_total");
    assert.ok(Math.abs(cpu - procCpuSeconds()) < 0.5, `${cpu} vs /proc`);
    const user = must(e, "weir_cpu_usage_ratio", { mode: "user" });
    const system = must(e, "weir_cpu_usage_ratio", { mode: "system" });
    assert.ok(user + system > 0, "the busy loop used no CPU");
    const threads = Number(
      /^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))![1],
    );
    assert.ok(Math.abs(must(e, "weir_threads") - threads) <= 2);
    const started = must(e, "process_start_time_seconds");
    // From /proc/uptime and the process's start in ticks since boot.
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const stat = readFileSync("/proc/self/stat", "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    assert.ok(
      Math.abs(started - (Date.now() / 1000 - uptime + ticks / 100)) < 5,
    );
    const [build] = samplesOf(e, "weir_build_info");
    assert.equal(build.value, 1);
    assert.equal(build.labels.version, VERSION);
    assert.equal(build.labels.runtime, "Bun" in globalThis ? "bun" : "deno");
    assert.ok(/^\d+\.\d+\.\d+/.test(build.labels.runtime_version));
  },
);

test("ResourceTracker: a reading that throws is left out and logged once", async () => {
  const log: string[] = [];
  let reads = 0;
  const tracker = new ResourceTracker({
    source: bareSource({
      openFds: () => {
        reads++;
        throw new Error("EACCES: permission denied, scandir '/proc/self/fd'");
      },
      threads: () => null,
      maxFds: () => 1024,
    }),
    log: (m) => log.push(m),
  });
  const metrics = new MetricsCollector();
  tracker.attach(metrics);
  tracker.sample();
  tracker.sample();
  const e = parseExposition(await metrics.render());
  assert.equal(reads, 3);
  assert.equal(e.types.has("process_open_fds"), false);
  assert.equal(e.types.has("weir_threads"), false);
  assert.equal(valueOf(e, "process_max_fds", {}), 1024);
  assert.equal(log.length, 2, log.join("\n"));
  assert.ok(
    log.some((m) =>
      /open file descriptors \(EACCES: permission denied/.test(m)
    ),
    log.join("\n"),
  );
  assert.ok(log.some((m) => /thread count/.test(m)), log.join("\n"));
});

test("ResourceTracker: without /proc, CPU, memory, lag and build info are still exported", async () => {
  const log: string[] = [];
  const tracker = new ResourceTracker({
    source: bareSource(),
    log: (m) => log.push(m),
  });
  const metrics = new MetricsCollector();
  tracker.attach(metrics);
  const e = parseExposition(await metrics.render());
  assert.equal(valueOf(e, "process_cpu_seconds_total", {}), 3);
  assert.equal(valueOf(e, "process_resident_memory_bytes", {}), 100 * MiB);
  assert.equal(
    valueOf(e, "weir_memory_bytes", { type: "heap_used" }),
    10 * MiB,
  );
  assert.equal(e.types.get("weir_event_loop_lag_seconds"), "histogram");
  assert.equal(
    valueOf(e, "weir_build_info", {
      version: VERSION,
      runtime: "bun",
      runtime_version: "9.9.9",
    }),
    1,
  );
  for (
    const name of [
      "weir_threads",
      "process_open_fds",
      "process_max_fds",
      "process_network_receive_bytes_total",
      "process_network_transmit_bytes_total",
      "weir_tcp_connections",
      "process_start_time_seconds",
    ]
  ) {
    assert.equal(e.types.has(name), false, `${name} is exported`);
  }
  // Not measured on this platform is not an error.
  assert.deepEqual(log, []);
});

test("ResourceTracker: aborting the signal stops the timers", {
  timeout: 30_000,
}, async () => {
  let reads = 0;
  const controller = new AbortController();
  const tracker = new ResourceTracker({
    source: bareSource({
      cpuUsage: () => (reads++, { user: 0, system: 0 }),
    }),
    intervalMs: 5,
    signal: controller.signal,
  });
  tracker.start();
  assert.equal(tracker.running, true);
  await until(() => tracker.ticks >= 3, 20_000);
  controller.abort();
  assert.equal(tracker.running, false);
  const at = reads;
  // Nothing to await here: the point is that no tick comes.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(reads, at);
  // An aborted signal keeps it from starting again.
  tracker.start();
  assert.equal(tracker.running, false);
});

test("ResourceTracker: a slow read skips ticks instead of piling them up", {
  timeout: 30_000,
}, async () => {
  const tracker = new ResourceTracker({
    source: bareSource({
      cpuUsage: () => {
        const t = performance.now();
        while (performance.now() - t < 30) { /* a read that takes 30 ms */ }
        return { user: 0, system: 0 };
      },
    }),
    intervalMs: 10,
    lagResolutionMs: 0,
  });
  tracker.start();
  try {
    await until(() => tracker.ticks >= 4, 20_000);
  } finally {
    tracker.stop();
  }
  // Each 30 ms tick overruns the next two points of the 10 ms grid.
  assert.ok(
    tracker.skippedTicks >= 2 * tracker.ticks,
    `${tracker.ticks} ticks, ${tracker.skippedTicks} skipped`,
  );
});

test("ResourceTracker: bad options are refused with the reason", () => {
  assert.throws(
    () => new ResourceTracker({ source: bareSource(), intervalMs: 0 }),
    /Cannot create resource tracker: intervalMs must be a number from 1 to 2147483647, received 0/,
  );
  assert.throws(
    () => new ResourceTracker({ source: bareSource(), lagResolutionMs: -1 }),
    RangeError,
  );
  assert.throws(
    () => new ResourceTracker({ source: null as unknown as ResourceSource }),
    TypeError,
  );
});

test("ResourceTracker: promtool accepts the exposition", {
  skip: integrationSkip("promtool"),
}, async () => {
  const { metrics, tracker } = tracked();
  tracker.start();
  try {
    const { ok, output } = await promtoolCheck(await metrics.render());
    assert.ok(ok, output);
  } finally {
    tracker.stop();
  }
});

/** A TCP server in a child process (this runtime's binary), and its port. */
async function listeningChild(): Promise<
  { process: ChildProcess; port: number }
> {
  const code = `import { createServer } from "node:net";
const s = createServer(() => {});
s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;
  const args = "Bun" in globalThis ? ["-e", code] : ["eval", code];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return { process: child, port };
}

test("ResourceTracker: the CPU ratio is left out until a window of some length was measured", async () => {
  let cpu = { user: 0, system: 0 };
  const tracker = new ResourceTracker({
    source: {
      runtime: "bun",
      runtimeVersion: "1.0.0",
      cpuUsage: () => cpu,
      memory: () => ({ residentBytes: null, types: { heap_used: 1 } }),
    },
    log: () => {},
  });
  const metrics = new MetricsCollector();
  tracker.attach(metrics);
  // attach() and a sample right after it: a window of microseconds.
  cpu = { user: 5_000, system: 0 };
  tracker.sample();
  let e = parseExposition(await metrics.render());
  assert.equal(
    valueOf(e, "weir_cpu_usage_ratio", { mode: "user" }),
    undefined,
    "no ratio from a window of microseconds",
  );
  await sleep(50);
  cpu = { user: 30_000, system: 0 };
  tracker.sample();
  e = parseExposition(await metrics.render());
  const user = valueOf(e, "weir_cpu_usage_ratio", { mode: "user" })!;
  // 30 ms of CPU over a window of at least 50 ms.
  assert.ok(user > 0 && user <= 0.6, String(user));
  tracker.stop();
});
