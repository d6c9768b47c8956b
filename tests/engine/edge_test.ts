/**
 * Adversarial tests of the engine: concurrency, guarded activations,
 * fan-out, re-entrancy, loops, drain/stop/flush, statistics, exported
 * in-ports, events and deadlock detection. Each test states one behaviour a
 * user of a production flow engine relies on: nothing lost, nothing
 * duplicated, order kept per connection, counters exact, no hang and no
 * crash of the host.
 *
 * Tests that guard against a hang race the awaited outcome against a
 * generous limit (`HANG_MS`) so that a bug fails the test instead of the
 * whole run; the limit is never what the test measures.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Component,
  defineComponent,
  END,
} from "../../src/engine/component.ts";
import type {
  DeadlockReport,
  Network,
  NetworkStats,
  ProcessStats,
} from "../../src/engine/network.ts";
import { Network as NetworkClass } from "../../src/engine/network.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import type { ConnectionSpec } from "../../src/engine/spec.ts";
import {
  mapOf,
  network,
  scaleOf,
  sinkInto,
  sleep,
  sourceOf,
  until,
} from "./_helpers.ts";

// ---- helpers -------------------------------------------------------------

/** Limit for outcomes that must come (a hang guard, not a measurement). */
const HANG_MS = 1500;
const TIMED_OUT = Symbol("timed out");

/** The value of `p`, or `TIMED_OUT` after `ms`; the timer never outlives it. */
async function within<T>(
  p: Promise<T>,
  ms = HANG_MS,
): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<typeof TIMED_OUT>((r) => {
        timer = setTimeout(() => r(TIMED_OUT), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** 0 .. n-1. */
function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A connection "A.out" -> "B.in" with options. */
function edge(
  from: string,
  to: string,
  extra: Partial<ConnectionSpec> = {},
): ConnectionSpec {
  const [fp, fport] = from.split(".");
  const [tp, tport] = to.split(".");
  return {
    from: { process: fp, port: fport },
    to: { process: tp, port: tport },
    ...extra,
  };
}

function proc(s: NetworkStats, name: string): ProcessStats {
  const p = s.processes.find((x) => x.name === name);
  if (!p) throw new Error(`no process ${name} in stats`);
  return p;
}

function connTo(s: NetworkStats, from: string | null, to: string) {
  const c = s.connections.find((x) => x.from === from && x.to === to);
  if (!c) throw new Error(`no connection ${from} -> ${to} in stats`);
  return c;
}

function dropsOf(d: Record<string, number>): number {
  return Object.values(d).reduce((a, b) => a + b, 0);
}

/** The first deadlock report within `ms`, or `null`. */
async function deadlockWithin(
  net: Network,
  ms = 300,
): Promise<DeadlockReport | null> {
  let off = () => {};
  const r = await within(
    new Promise<DeadlockReport>((
      resolve,
    ) => (off = net.on("deadlock", resolve))),
    ms,
  );
  off();
  return r === TIMED_OUT ? null : r;
}

/** A loop that sends 0, 1, 2, ... until its signal aborts; counts them. */
function endless(sent: { n: number }): Component {
  return defineComponent({
    name: "test/Endless",
    description: "Sends numbers until aborted.",
    outPorts: { out: {} },
    async run(ctx) {
      while (!ctx.signal.aborted) {
        const r = ctx.send("out", sent.n++);
        if (r) await r;
        await sleep(1);
      }
    },
  });
}

/** A loop that waits on its in-port forever (never gets anything). */
const Waiter = defineComponent({
  name: "test/Waiter",
  description: "Waits for one message on in, then ends.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  async run(ctx) {
    await ctx.receive("in");
  },
});

/** Sends n-1 on out, or n on done once n is 0: a cycle's terminating condition. */
const Countdown = defineComponent({
  name: "test/Countdown",
  description: "Sends n-1 on out, or 0 on done.",
  inPorts: { in: {} },
  outPorts: { out: {}, done: {} },
  process(v, ctx) {
    const n = v as number;
    if (n === 0) ctx.send("done", n);
    else ctx.send("out", n - 1);
  },
});

/** Collects errors from the error event. */
function collectErrors(net: Network): ProcessError[] {
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  return errors;
}

// ---- concurrency > 1 -----------------------------------------------------

test("Network runs at most `concurrency` async activations at once and processes every message", async () => {
  let maxActive = 0;
  const got: number[] = [];
  const Work = defineComponent({
    name: "test/Work",
    description: "Async work.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      const a = proc(net.stats(), "W").activeActivations;
      if (a > maxActive) maxActive = a;
      await sleep(1);
      await ctx.send("out", v);
    },
  });
  const net: Network = network(
    {
      S: sourceOf(range(40)),
      W: { component: Work, concurrency: 4 },
      K: sinkInto(got),
    },
    ["S.out>W.in", "W.out>K.in"],
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.equal(maxActive, 4);
  assert.deepEqual([...got].sort((a, b) => a - b), range(40));
  const w = proc(net.stats(), "W");
  assert.equal(w.activations, 40);
  assert.equal(w.activeActivations, 0);
});

test("Network gives each concurrent activation the in-port its own message arrived on", async () => {
  const seen: [string, string][] = [];
  const Tag = defineComponent({
    name: "test/Tag",
    description: "Records the port after an await.",
    inPorts: { a: {}, b: {} },
    async process(v, ctx) {
      await sleep(1);
      seen.push([ctx.port, String(v)[0]]);
    },
  });
  const net = network(
    {
      SA: sourceOf(range(10).map((i) => `a${i}`)),
      SB: sourceOf(range(10).map((i) => `b${i}`)),
      T: { component: Tag, concurrency: 3 },
    },
    ["SA.out>T.a", "SB.out>T.b"],
  );
  await net.start();
  await net.finished;
  assert.equal(seen.length, 20);
  for (const [port, tag] of seen) assert.equal(port, tag);
});

test("Network flushes and finishes a concurrent process only after every activation settled", async () => {
  let settled = 0;
  let settledAtFlush = -1;
  const Work = defineComponent({
    name: "test/Work",
    description: "Async work of varied length.",
    inPorts: { in: {} },
    concurrency: 5,
    async process(v) {
      await sleep(1 + (v as number) % 3);
      settled++;
    },
    flush() {
      settledAtFlush = settled;
    },
  });
  const net = network({ S: sourceOf(range(30)), W: Work }, ["S.out>W.in"]);
  await net.start();
  await net.finished;
  assert.equal(settledAtFlush, 30);
  assert.equal(settled, 30);
});

test("Network keeps ctx.state assignments of a process with concurrency above 1", async () => {
  const got: unknown[] = [];
  const Count = defineComponent<number>({
    name: "test/Count",
    description: "Counts messages in ctx.state, sends the count on flush.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    concurrency: 3,
    setup: () => 0,
    async process(_v, ctx) {
      ctx.state = ctx.state + 1;
      await sleep(0);
    },
    flush(ctx) {
      ctx.send("out", ctx.state);
    },
  });
  const net = network(
    { S: sourceOf(range(10)), C: Count, K: sinkInto(got) },
    ["S.out>C.in", "C.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [10]);
});

test("Network keeps each message's origin time through concurrent async activations", async () => {
  // "first" enters the network, 60 ms later "second" does; the activation of
  // "first" sends after the one of "second" started. Its latency at the sink
  // is at least the 60 ms it spent in the network.
  const release = gate();
  const Hold = defineComponent({
    name: "test/Hold",
    description: "Holds 'first' until 'second' arrives.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    concurrency: 2,
    async process(v, ctx) {
      if (v === "first") await release.promise;
      else release.open();
      await ctx.send("out", v);
    },
  });
  const Src = defineComponent({
    name: "test/Src",
    description: "first, pause, second.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", "first");
      await sleep(60);
      await ctx.send("out", "second");
    },
  });
  const got: unknown[] = [];
  const net = network(
    { S: Src, H: Hold, K: sinkInto(got) },
    ["S.out>H.in", "H.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["second", "first"]);
  const lat = net.stats().latency;
  assert.equal(lat.count, 2);
  assert.ok(
    lat.sum >= 0.05,
    `latency of "first" was measured from the origin of "second": sum ${lat.sum}s`,
  );
});

// ---- guarded activations --------------------------------------------------

test("Network retries each failing message of a concurrent guarded sync process on its own", async () => {
  const tries = new Map<number, number>();
  const got: number[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails the first attempt of every message (synchronously).",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      const n = (tries.get(v as number) ?? 0) + 1;
      tries.set(v as number, n);
      if (n === 1) throw new Error(`first attempt of ${v}`);
      ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf(range(20)),
      F: {
        component: Flaky,
        concurrency: 3,
        retry: { attempts: 2, backoffMs: 1 },
      },
      K: sinkInto(got),
    },
    ["S.out>F.in", "F.out>K.in"],
  );
  const errors = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual([...got].sort((a, b) => a - b), range(20));
  assert.equal(errors.length, 0);
  const f = proc(net.stats(), "F");
  assert.equal(f.activations, 40);
  assert.equal(f.errors.exception, 20);
  assert.equal(f.failures, 0);
  assert.equal(f.activeActivations, 0);
});

test("Network retries each failing message of a concurrent guarded async process on its own", async () => {
  const tries = new Map<number, number>();
  const got: number[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails the first attempt of every message (rejects).",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      const n = (tries.get(v as number) ?? 0) + 1;
      tries.set(v as number, n);
      await sleep(0);
      if (n === 1) throw new Error(`first attempt of ${v}`);
      await ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf(range(20)),
      F: {
        component: Flaky,
        concurrency: 4,
        retry: { attempts: 2, backoffMs: 1 },
      },
      K: sinkInto(got),
    },
    ["S.out>F.in", "F.out>K.in"],
  );
  const errors = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual([...got].sort((a, b) => a - b), range(20));
  assert.equal(errors.length, 0);
  const f = proc(net.stats(), "F");
  assert.equal(f.activations, 40);
  assert.equal(f.errors.exception, 20);
  assert.equal(f.failures, 0);
});

test("Network times out only the concurrent activations that outlive timeoutMs", async () => {
  const got: unknown[] = [];
  const Maybe = defineComponent({
    name: "test/Maybe",
    description: "Never settles on 'hang', else forwards.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (v === "hang") return new Promise<void>(() => {});
      return (async () => {
        await sleep(1);
        await ctx.send("out", v);
      })();
    },
  });
  const net = network(
    {
      S: sourceOf(["hang", 1, 2, "hang", 3, 4]),
      M: { component: Maybe, concurrency: 2, timeoutMs: 30 },
      K: sinkInto(got),
    },
    ["S.out>M.in", "M.out>K.in"],
  );
  const errors = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual([...got].sort(), [1, 2, 3, 4]);
  assert.deepEqual(errors.map((e) => [e.kind, e.input]), [
    ["timeout", "hang"],
    ["timeout", "hang"],
  ]);
  assert.equal(proc(net.stats(), "M").errors.timeout, 2);
});

test("Network parks the errors of a concurrent guarded process behind its full error connection and delivers all in order", async () => {
  const errs: ProcessError[] = [];
  const Bad = defineComponent({
    name: "test/Bad",
    description: "Always throws.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v) {
      throw new Error(`bad ${v}`);
    },
  });
  const net = network(
    {
      S: sourceOf(range(10)),
      B: { component: Bad, concurrency: 2, timeoutMs: 1000 },
      E: sinkInto(errs, 1),
    },
    ["S.out>B.in", edge("B.error", "E.in", { capacity: 1 })],
  );
  const events = collectErrors(net);
  await net.start();
  await net.finished;
  assert.deepEqual(errs.map((e) => e.input), range(10));
  assert.ok(errs.every((e) => e instanceof ProcessError));
  assert.equal(events.length, 0);
  const b = proc(net.stats(), "B");
  assert.equal(b.errors.exception, 10);
  assert.equal(b.failures, 10);
  assert.equal(dropsOf(net.stats().drops), 0);
});

// ---- fan-out --------------------------------------------------------------

test("Network fan-out to a slow and a fast receiver delivers every message to both, in order", async () => {
  const fast: unknown[] = [];
  const slow: unknown[] = [];
  const net = network(
    { S: sourceOf(range(100)), F: sinkInto(fast), W: sinkInto(slow, 1) },
    [
      edge("S.out", "W.in", { capacity: 3 }),
      edge("S.out", "F.in", { capacity: 3 }),
    ],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(fast, range(100));
  assert.deepEqual(slow, range(100));
  const s = net.stats();
  assert.equal(proc(s, "S").messagesOut.out, 100);
  assert.equal(connTo(s, "S.out", "F.in").delivered, 100);
  assert.equal(connTo(s, "S.out", "W.in").delivered, 100);
  assert.equal(dropsOf(s.drops), 0);
});

test("Network fan-out still delivers a value to the other connections when its full `error` connection refuses it", async () => {
  // G takes "first" and waits at the gate, so B -> G (capacity 1) fills
  // with 0 and refuses 1. C, on its own connection, must still get 1.
  const release = gate();
  const g: unknown[] = [];
  const c: unknown[] = [];
  const Gated = defineComponent({
    name: "test/Gated",
    description: "Waits for the gate on its first message.",
    inPorts: { in: {} },
    async process(v) {
      await release.promise;
      g.push(v);
    },
  });
  const Burst = defineComponent({
    name: "test/Burst",
    description: "Sends 0 and 1 in one activation.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(_v, ctx) {
      ctx.send("out", 0);
      ctx.send("out", 1);
    },
  });
  const net = network(
    { G: Gated, B: Burst, C: sinkInto(c) },
    [
      edge("B.out", "G.in", { capacity: 1, policy: "error" }),
      edge("B.out", "C.in"),
    ],
    {
      initials: [
        { data: "first", to: { process: "G", port: "in" } },
        { data: "go", to: { process: "B", port: "in" } },
      ],
    },
  );
  const errors = collectErrors(net);
  await net.start();
  await sleep(5);
  release.open();
  await net.finished;
  assert.deepEqual(g, ["first", 0]);
  assert.equal(errors.length, 1);
  assert.equal(connTo(net.stats(), "B.out", "G.in").drops.refused, 1);
  assert.deepEqual(c, [0, 1]);
});

// ---- one activation, many messages ---------------------------------------

test("Network delivers in order every message a synchronous activation emits beyond the capacity", async () => {
  const got: number[] = [];
  const depthsAtSplit: number[] = [];
  let maxDepth = 0;
  const Split = defineComponent({
    name: "test/Split",
    description: "Emits 1000 messages per input.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      depthsAtSplit.push(proc(net.stats(), "K").queueDepth.in);
      for (let i = 0; i < 1000; i++) ctx.send("out", (v as number) * 1000 + i);
    },
  });
  const Sink = defineComponent({
    name: "test/AsyncSink",
    description: "Async sink that samples its queue.",
    inPorts: { in: {} },
    process(v) {
      if ((v as number) % 100 === 0) {
        const d = proc(net.stats(), "K").queueDepth.in;
        if (d > maxDepth) maxDepth = d;
      }
      got.push(v as number);
      // Settles later, so the splitter's output queues up.
      return Promise.resolve();
    },
  });
  const net: Network = network(
    { S: sourceOf([0, 1, 2]), P: Split, K: Sink },
    ["S.out>P.in", edge("P.out", "K.in", { capacity: 2 })],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(3000));
  assert.equal(depthsAtSplit.length, 3);
  // The splitter runs again only once its previous surplus has drained.
  for (const d of depthsAtSplit) assert.ok(d <= 2, `depth ${d} at activation`);
  // Capacity plus one activation's output.
  assert.ok(maxDepth <= 2 + 1000, `max depth ${maxDepth}`);
});

// ---- re-entrancy ----------------------------------------------------------

test("Network runs a cycle A -> B -> A until its terminating condition", async () => {
  const done = gate();
  let result: unknown;
  const Countdown = defineComponent({
    name: "test/Countdown",
    description: "Sends n-1 around the cycle, or 'done' at 0.",
    inPorts: { in: {} },
    outPorts: { out: {}, done: {} },
    process(v, ctx) {
      const n = v as number;
      if (n === 0) ctx.send("done", "done");
      else ctx.send("out", n - 1);
    },
  });
  const Done = defineComponent({
    name: "test/Done",
    description: "Records the result.",
    inPorts: { in: {} },
    process(v) {
      result = v;
      done.open();
    },
  });
  const net = network(
    { A: Countdown, B: mapOf((v) => v), K: Done },
    ["A.out>B.in", "B.out>A.in", "A.done>K.in"],
    { initials: [{ data: 10_000, to: { process: "A", port: "in" } }] },
  );
  await net.start();
  const r = await within(done.promise);
  await net.stop();
  assert.notEqual(r, TIMED_OUT);
  assert.equal(result, "done");
  const s = net.stats();
  assert.equal(proc(s, "A").activations, 10_001);
  assert.equal(proc(s, "B").activations, 10_000);
});

test("Network delivers a message a cycle sends back to a process whose activation is still running", async () => {
  // The host's send hands 1 straight to A, whose activation sends 0 to B,
  // whose activation sends 0 back to A while A is still running.
  const results: unknown[] = [];
  const net = network(
    { A: Countdown, B: mapOf((v) => v), K: sinkInto(results) },
    ["A.out>B.in", "B.out>A.in", "A.done>K.in"],
    { inports: { in: { process: "A", port: "in" } } },
  );
  await net.start();
  net.send("in", 0);
  net.send("in", 1);
  const r = await within(
    until(() => results.length === 2, HANG_MS + 500).then(() => "done"),
  );
  const queuedAtA = proc(net.stats(), "A").queueDepth.in;
  await net.stop();
  assert.notEqual(
    r,
    TIMED_OUT,
    `the cycle stalled with ${queuedAtA} message(s) queued at A`,
  );
  assert.deepEqual(results, [0, 0]);
});

test("Network stop() called inside an activation ends the network at once", async () => {
  const got: unknown[] = [];
  let teardowns = 0;
  const Stopper = defineComponent({
    name: "test/Stopper",
    description: "Stops the network on 3.",
    inPorts: { in: {} },
    process(v) {
      got.push(v);
      if (v === 3) void net.stop();
    },
    teardown() {
      teardowns++;
    },
  });
  const net: Network = network({ S: sourceOf(range(10)), K: Stopper }, [
    "S.out>K.in",
  ]);
  const errors = collectErrors(net);
  await net.start();
  assert.equal(await within(net.finished), "stopped");
  await sleep(0);
  assert.deepEqual(got, [0, 1, 2, 3]);
  assert.equal(teardowns, 1);
  assert.equal(errors.length, 0);
});

test("Network runs a self-loop whose connection holds a single message", async () => {
  const done = gate();
  const Countdown = defineComponent({
    name: "test/Countdown",
    description: "Sends n-1 to itself, or 'done' at 0.",
    inPorts: { in: {} },
    outPorts: { out: {}, done: {} },
    process(v, ctx) {
      const n = v as number;
      if (n === 0) ctx.send("done", "done");
      else ctx.send("out", n - 1);
    },
  });
  const Done = defineComponent({
    name: "test/Done",
    description: "Signals.",
    inPorts: { in: {} },
    process() {
      done.open();
    },
  });
  const net = network(
    { A: Countdown, K: Done },
    [edge("A.out", "A.in", { capacity: 1 }), "A.done>K.in"],
    { initials: [{ data: 5, to: { process: "A", port: "in" } }] },
  );
  await net.start();
  const r = await within(done.promise);
  await net.stop();
  assert.notEqual(r, TIMED_OUT, "the self-loop stalled");
  assert.equal(proc(net.stats(), "A").activations, 6);
});

test("Network runs a 200-stage synchronous pipeline without overflowing the stack", async () => {
  const got: number[] = [];
  const procs: Record<string, Component> = { S: sourceOf(range(500)) };
  const conns: string[] = [];
  let prev = "S";
  for (let i = 0; i < 200; i++) {
    procs[`M${i}`] = mapOf((v) => (v as number) + 1);
    conns.push(`${prev}.out>M${i}.in`);
    prev = `M${i}`;
  }
  procs.K = sinkInto(got as unknown[]);
  conns.push(`${prev}.out>K.in`);
  const net = network(procs, conns);
  const errors = collectErrors(net);
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.deepEqual(got, range(500).map((v) => v + 200));
  assert.equal(errors.length, 0);
});

test("Network finishes a 3000-stage pipeline whose stages finish one after another", async () => {
  const got: number[] = [];
  const procs: Record<string, Component> = { S: sourceOf([0]) };
  const conns: string[] = [];
  let prev = "S";
  for (let i = 0; i < 3000; i++) {
    procs[`M${i}`] = mapOf((v) => (v as number) + 1);
    conns.push(`${prev}.out>M${i}.in`);
    prev = `M${i}`;
  }
  procs.K = sinkInto(got as unknown[]);
  conns.push(`${prev}.out>K.in`);
  const net = network(procs, conns);
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, [3000]);
});

// ---- loops ----------------------------------------------------------------

test("Network keeps every value a loop sends without awaiting, in order", async () => {
  const got: unknown[] = [];
  const Eager = defineComponent({
    name: "test/Eager",
    description: "Sends 50 values without awaiting.",
    outPorts: { out: {} },
    run(ctx) {
      for (let i = 0; i < 50; i++) void ctx.send("out", i);
      return Promise.resolve();
    },
  });
  const net = network(
    { L: Eager, K: sinkInto(got, 1) },
    [edge("L.out", "K.in", { capacity: 2 })],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(50));
  assert.equal(connTo(net.stats(), "L.out", "K.in").delivered, 50);
});

/** A loop that forwards the first three values of its input and returns. */
const Take3 = defineComponent({
  name: "test/Take3",
  description: "Forwards three values, then ends.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  async run(ctx) {
    for (let i = 0; i < 3; i++) {
      const v = await ctx.receive("in");
      if (v === END) return;
      await ctx.send("out", v);
    }
  },
});

test("Network releases upstream senders when a loop returns before reading all of its input", async () => {
  const got: unknown[] = [];
  const net = network(
    { S: sourceOf(range(100)), T: Take3, K: sinkInto(got) },
    [edge("S.out", "T.in", { capacity: 5 }), "T.out>K.in"],
  );
  await net.start();
  const r = await within(net.finished);
  await net.stop();
  assert.equal(r, "finished");
  assert.deepEqual(got, [0, 1, 2]);
});

test("Network counts the messages a finished loop never read as dropped", async () => {
  const Quit = defineComponent({
    name: "test/Quit",
    description: "Ends at once without reading.",
    inPorts: { in: {} },
    async run() {},
  });
  const net = network(
    { S: sourceOf(range(5)), Q: Quit },
    ["S.out>Q.in"],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  const s = net.stats();
  assert.equal(s.backlog, 0, "a finished network holds no messages");
  const c = connTo(s, "S.out", "Q.in");
  assert.equal(c.delivered + dropsOf(c.drops), 5);
});

test("Network routes an exception thrown by a loop to its error port and finishes", async () => {
  const errs: ProcessError[] = [];
  const Broken = defineComponent({
    name: "test/Broken",
    description: "Reads one value, then throws.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.receive("in");
      throw new Error("loop broke");
    },
  });
  const net = network(
    { S: sourceOf([1]), L: Broken, E: sinkInto(errs) },
    ["S.out>L.in", "L.error>E.in"],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.equal(errs.length, 1);
  assert.equal(errs[0].process, "L");
  assert.equal(errs[0].kind, "exception");
  assert.match(errs[0].message, /loop broke/);
  assert.equal(proc(net.stats(), "L").errors.exception, 1);
});

test("Network ends a loop's pending receive() with END when its upstream finishes", async () => {
  const release = gate();
  const seen: unknown[] = [];
  const waiting = gate();
  const Late = defineComponent({
    name: "test/Late",
    description: "Sends one value once released.",
    outPorts: { out: {} },
    async run(ctx) {
      await release.promise;
      await ctx.send("out", "v");
    },
  });
  const Read = defineComponent({
    name: "test/Read",
    description: "Reads until END.",
    inPorts: { in: {} },
    async run(ctx) {
      for (;;) {
        const p = ctx.receive("in");
        waiting.open();
        const v = await p;
        seen.push(v);
        if (v === END) return;
      }
    },
  });
  const net = network({ R: Read, S: Late }, ["S.out>R.in"]);
  await net.start();
  await waiting.promise;
  release.open();
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(seen, ["v", END]);
});

test("Network lets a loop await receive() on two ports at once", async () => {
  const got: unknown[] = [];
  const Zip = defineComponent({
    name: "test/Zip",
    description: "Pairs one value of a with one of b.",
    inPorts: { a: {}, b: {} },
    outPorts: { out: {} },
    async run(ctx) {
      for (;;) {
        const [x, y] = await Promise.all([
          ctx.receive("a"),
          ctx.receive("b"),
        ]);
        if (x === END || y === END) return;
        await ctx.send("out", [x, y]);
      }
    },
  });
  const net = network(
    {
      Z: Zip,
      A: sourceOf([1, 2, 3], 1),
      B: sourceOf(["x", "y", "z"], 1),
      K: sinkInto(got),
    },
    ["A.out>Z.a", "B.out>Z.b", "Z.out>K.in"],
  );
  await net.start();
  const r = await within(net.finished);
  await net.stop();
  assert.equal(r, "finished");
  assert.deepEqual(got, [[1, "x"], [2, "y"], [3, "z"]]);
});

test("Network delivers every IIP of a port before the messages of its connections", async () => {
  const got: unknown[] = [];
  const net = network(
    { S: sourceOf(["a", "b"]), K: sinkInto(got) },
    ["S.out>K.in"],
    {
      initials: [
        { data: "i1", to: { process: "K", port: "in" } },
        { data: "i2", to: { process: "K", port: "in" } },
      ],
    },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["i1", "i2", "a", "b"]);
});

test("Network delivers every IIP of a port to a loop before the messages of its connections", async () => {
  const got: unknown[] = [];
  const Read = defineComponent({
    name: "test/Read",
    description: "Reads until END.",
    inPorts: { in: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) got.push(v);
    },
  });
  const net = network(
    { S: sourceOf(["a", "b"]), R: Read },
    ["S.out>R.in"],
    {
      initials: [
        { data: "i1", to: { process: "R", port: "in" } },
        { data: "i2", to: { process: "R", port: "in" } },
      ],
    },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["i1", "i2", "a", "b"]);
});

// ---- drain and stop -------------------------------------------------------

test("Network drain waits for in-flight async activations and delivers every accepted message", async () => {
  const sent = { n: 0 };
  const got: unknown[] = [];
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Async work.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    concurrency: 3,
    async process(v, ctx) {
      await sleep(5);
      await ctx.send("out", v);
    },
  });
  const net = network(
    { S: endless(sent), W: Slow, K: sinkInto(got) },
    ["S.out>W.in", "W.out>K.in"],
  );
  await net.start();
  await until(() => got.length >= 5);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0 });
  assert.equal(net.state, "finished");
  assert.deepEqual(
    [...got].sort((a, b) => (a as number) - (b as number)),
    range(sent.n),
  );
});

test("Network drain waits for a retry's backoff and the retried activation", async () => {
  let attempts = 0;
  const got: unknown[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails its first attempt.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (++attempts === 1) throw new Error("first");
      ctx.send("out", v);
    },
  });
  const net = network(
    {
      F: { component: Flaky, retry: { attempts: 2, backoffMs: 30 } },
      K: sinkInto(got),
    },
    ["F.out>K.in"],
    { inports: { in: { process: "F", port: "in" } } },
  );
  await net.start();
  await net.send("in", "x");
  assert.equal(attempts, 1);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0 });
  assert.equal(attempts, 2);
  assert.deepEqual(got, ["x"]);
});

test("Network drain waits for an async flush and everything it sends", async () => {
  const got: unknown[] = [];
  const Batch = defineComponent<unknown[]>({
    name: "test/Batch",
    description: "Keeps values, sends them all on flush.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    setup: () => [],
    process(v, ctx) {
      ctx.state.push(v);
    },
    async flush(ctx) {
      await sleep(5);
      for (const v of ctx.state) await ctx.send("out", v);
    },
  });
  const net = network(
    { B: Batch, K: sinkInto(got, 1) },
    [edge("B.out", "K.in", { capacity: 1 })],
    { inports: { in: { process: "B", port: "in" } } },
  );
  await net.start();
  for (const v of range(5)) await net.send("in", v);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0 });
  assert.deepEqual(got, range(5));
});

test("Network drain closes exported in-ports and resolves once their messages are processed", async () => {
  const got: unknown[] = [];
  const net = network(
    { M: mapOf((v) => v), K: sinkInto(got, 1) },
    ["M.out>K.in"],
    { inports: { in: { process: "M", port: "in" } } },
  );
  await net.start();
  for (const v of range(5)) await net.send("in", v);
  const r = await net.drain(5000);
  assert.deepEqual(r, { drained: true, backlog: 0 });
  assert.deepEqual(got, range(5));
  assert.equal(net.state, "finished");
});

test("Network drain of a cycle resolves drained once every message is processed", async () => {
  const results: unknown[] = [];
  const net = network(
    { A: Countdown, B: mapOf((v) => v), K: sinkInto(results) },
    ["A.out>B.in", "B.out>A.in", "A.done>K.in"],
    {
      initials: [
        { data: 3, to: { process: "A", port: "in" } },
        { data: 5, to: { process: "A", port: "in" } },
      ],
    },
  );
  await net.start();
  await until(() => results.length === 2);
  const r = await net.drain(300);
  assert.deepEqual(r, { drained: true, backlog: 0 });
});

test("Network stop ends a retry's backoff without running another attempt", async () => {
  let calls = 0;
  const first = gate();
  const Bad = defineComponent({
    name: "test/Bad",
    description: "Always throws.",
    inPorts: { in: {} },
    process() {
      calls++;
      first.open();
      throw new Error("no");
    },
  });
  const net = network(
    { B: { component: Bad, retry: { attempts: 3, backoffMs: 10_000 } } },
    [],
    { initials: [{ data: "x", to: { process: "B", port: "in" } }] },
  );
  await net.start();
  await first.promise;
  await net.stop();
  await sleep(0);
  assert.equal(calls, 1, "the process ran again after the network stopped");
});

test("Network stop during an async flush counts the flush's later sends as stopped drops", async () => {
  const release = gate();
  const flushing = gate();
  let sendThrew: unknown = undefined;
  let flushDone = false;
  const got: unknown[] = [];
  const F = defineComponent({
    name: "test/LateFlush",
    description: "Sends in flush after a gate.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process() {},
    async flush(ctx) {
      flushing.open();
      await release.promise;
      try {
        ctx.send("out", "late");
      } catch (e) {
        sendThrew = e;
      }
      flushDone = true;
    },
  });
  const net = network(
    { F, K: sinkInto(got) },
    ["F.out>K.in"],
    { initials: [{ data: "x", to: { process: "F", port: "in" } }] },
  );
  const errors = collectErrors(net);
  await net.start();
  await flushing.promise;
  await net.stop();
  release.open();
  await until(() => flushDone);
  assert.equal(sendThrew, undefined);
  assert.deepEqual(got, []);
  assert.equal(errors.length, 0);
  assert.equal(connTo(net.stats(), "F.out", "K.in").drops.stopped, 1);
});

test("Network counts the sends of an activation that settles after stop as stopped drops, never throws", async () => {
  const release = gate();
  const started = gate();
  let outcome: string | undefined;
  const W = defineComponent({
    name: "test/Late",
    description: "Sends after a gate.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      started.open();
      await release.promise;
      try {
        const r = ctx.send("out", v);
        outcome = r === undefined ? "returned" : "promise";
      } catch (e) {
        outcome = `threw ${(e as Error).message}`;
      }
    },
  });
  const net = network(
    { W, K: sinkInto([]) },
    ["W.out>K.in"],
    { initials: [{ data: 1, to: { process: "W", port: "in" } }] },
  );
  await net.start();
  await started.promise;
  await net.stop();
  release.open();
  await until(() => outcome !== undefined);
  assert.equal(outcome, "returned");
  assert.equal(net.stats().drops.stopped, 1);
  assert.equal(proc(net.stats(), "W").activeActivations, 0);
});

test("Network runs each teardown once when a state listener calls stop() again", async () => {
  let teardowns = 0;
  const T = defineComponent({
    name: "test/Torn",
    description: "Counts teardowns.",
    inPorts: { in: {} },
    process() {},
    teardown() {
      teardowns++;
    },
  });
  const net = network({ T }, [], {
    inports: { in: { process: "T", port: "in" } },
  });
  net.on("state", (s) => {
    if (s === "stopping") void net.stop();
  });
  await net.start();
  await net.stop();
  assert.equal(teardowns, 1);
});

// ---- flush ----------------------------------------------------------------

test("Network delivers everything a flush sends beyond the downstream capacity", async () => {
  const got: unknown[] = [];
  const Batch = defineComponent<unknown[]>({
    name: "test/Batch",
    description: "Keeps values, sends them all on flush without awaiting.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    setup: () => [],
    process(v, ctx) {
      ctx.state.push(v);
    },
    flush(ctx) {
      for (const v of ctx.state) ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(range(20)), B: Batch, K: sinkInto(got, 1) },
    ["S.out>B.in", edge("B.out", "K.in", { capacity: 2 })],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, range(20));
});

test("Network routes a flush that throws to the error port and still finishes", async () => {
  const errs: ProcessError[] = [];
  const F = defineComponent({
    name: "test/BadFlush",
    description: "Flush throws.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process() {},
    flush() {
      throw new Error("flush failed");
    },
  });
  const net = network(
    { S: sourceOf([1]), F, E: sinkInto(errs) },
    ["S.out>F.in", "F.error>E.in"],
  );
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.equal(errs.length, 1);
  assert.match(errs[0].message, /flush failed/);
  assert.equal(errs[0].port, "");
  assert.equal(proc(net.stats(), "F").errors.exception, 1);
});

test("Network emits a flush that rejects as an error event and still finishes", async () => {
  const F = defineComponent({
    name: "test/BadFlush",
    description: "Flush rejects.",
    inPorts: { in: {} },
    process() {},
    async flush() {
      await sleep(0);
      throw new Error("flush rejected");
    },
  });
  const net = network({ S: sourceOf([1]), F }, ["S.out>F.in"]);
  const errors = collectErrors(net);
  await net.start();
  assert.equal(await within(net.finished), "finished");
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /flush rejected/);
  assert.equal(errors[0].process, "F");
});

test("Network flush sees ctx.port as the empty string", async () => {
  let portInFlush: string | undefined;
  const F = defineComponent({
    name: "test/PortFlush",
    description: "Records ctx.port in flush.",
    inPorts: { in: {} },
    process() {},
    flush(ctx) {
      portInFlush = ctx.port;
    },
  });
  const net = network({ S: sourceOf([1]), F }, ["S.out>F.in"]);
  await net.start();
  await net.finished;
  assert.equal(portInFlush, "");
});

test("Network treats a process function returning null like one returning nothing", async () => {
  const got: unknown[] = [];
  const Nully = defineComponent({
    name: "test/Nully",
    description: "A JavaScript process that returns null.",
    inPorts: { in: {} },
    process: ((v: unknown) => {
      got.push(v);
      return null;
    }) as unknown as (v: unknown) => void,
  });
  const net = network({ S: sourceOf([1, 2, 3]), N: Nully }, ["S.out>N.in"]);
  const errors = collectErrors(net);
  await net.start();
  const r = await within(net.finished);
  await net.stop();
  assert.equal(r, "finished");
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(errors.length, 0);
});

// ---- statistics -----------------------------------------------------------

/**
 * A busy network: a source, a map with a control port fed by a loop, a
 * fan-out to a slow async sink (block) and a slow async sink (drop-newest).
 * `probe` sees the stats inside every activation of the slow sink and once
 * after the network finished.
 */
async function probeBusyNetwork(
  probe: (s: NetworkStats) => void,
): Promise<NetworkStats> {
  const Scale = scaleOf();
  const Ctl = defineComponent({
    name: "test/Ctl",
    description: "Sends two control values.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", 1);
      await sleep(2);
      await ctx.send("out", 1);
    },
  });
  const Slow = defineComponent({
    name: "test/SlowProbe",
    description: "Slow sink that probes the stats.",
    inPorts: { in: {} },
    async process() {
      probe(net.stats());
      await sleep(0);
    },
  });
  const net: Network = network(
    {
      S: sourceOf(range(60)),
      C: Ctl,
      M: Scale,
      K1: Slow,
      K2: sinkInto([], 1),
    },
    [
      "S.out>M.in",
      "C.out>M.factor",
      edge("M.out", "K1.in", { capacity: 2 }),
      edge("M.out", "K2.in", { capacity: 1, policy: "drop-newest" }),
    ],
  );
  await net.start();
  await net.finished;
  const end = net.stats();
  probe(end);
  return end;
}

test("Network stats: messages taken by processes equal messages delivered by connections, at every moment", async () => {
  const end = await probeBusyNetwork((s) => {
    let taken = 0;
    for (const p of s.processes) {
      for (const n of Object.values(p.messagesIn)) taken += n;
    }
    let delivered = 0;
    for (const c of s.connections) delivered += c.delivered;
    assert.equal(taken, delivered);
  });
  assert.equal(proc(end, "M").messagesIn.in, 60);
  assert.equal(proc(end, "M").messagesIn.factor, 2);
});

test("Network stats: drops by reason equal the sum over processes and over connections", async () => {
  const end = await probeBusyNetwork((s) => {
    for (const reason of Object.keys(s.drops) as (keyof typeof s.drops)[]) {
      let byProc = 0;
      for (const p of s.processes) byProc += p.drops[reason];
      let byConn = 0;
      for (const c of s.connections) byConn += c.drops[reason];
      assert.equal(s.drops[reason], byProc, reason);
      if (reason !== "circuit_open") assert.equal(byProc, byConn, reason);
    }
  });
  // Nothing lost without a count: every message M sent reached K2 or was dropped.
  const k2 = connTo(end, "M.out", "K2.in");
  assert.equal(k2.delivered + k2.drops.drop_newest, 60);
  assert.equal(connTo(end, "M.out", "K1.in").delivered, 60);
});

test("Network stats: backlog equals the sum of the processes' queue depths, at every moment", async () => {
  await probeBusyNetwork((s) => {
    let depth = 0;
    for (const p of s.processes) {
      for (const d of Object.values(p.queueDepth)) depth += d;
    }
    assert.equal(s.backlog, depth);
  });
});

test("Network stats: each port's queue-wait histogram counts the messages taken on it", async () => {
  await probeBusyNetwork((s) => {
    for (const p of s.processes) {
      for (const [port, h] of Object.entries(p.queueWait)) {
        assert.equal(h.count, p.messagesIn[port], `${p.name}.${port}`);
        assert.equal(
          h.counts.reduce((a, b) => a + b, 0),
          h.count,
          `${p.name}.${port} buckets`,
        );
      }
    }
  });
});

test("Network stats: latency counts every activation that completed at a sink", async () => {
  const end = await probeBusyNetwork((s) => {
    const sinks = proc(s, "K1").activations + proc(s, "K2").activations;
    assert.equal(s.latency.count, sinks);
  });
  assert.equal(end.latency.count, 60 + proc(end, "K2").activations);
});

test("Network stats: timed activations never outnumber activations", async () => {
  await probeBusyNetwork((s) => {
    for (const p of s.processes) {
      assert.ok(
        p.processing.count <= p.activations,
        `${p.name}: ${p.processing.count} timed of ${p.activations}`,
      );
    }
  });
});

test("Network stats count a control message that fails its port's parse as taken", async () => {
  const Strict = defineComponent({
    name: "test/Strict",
    description: "A control port that wants numbers.",
    inPorts: {
      in: {},
      n: {
        control: true,
        parse: (v) => {
          if (typeof v !== "number") throw new TypeError("expected a number");
          return v;
        },
      },
    },
    process() {},
  });
  const Ctl = defineComponent({
    name: "test/Ctl",
    description: "Sends a bad, then a good control value.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", "bad");
      await ctx.send("out", 2);
    },
  });
  const net = network({ C: Ctl, T: Strict }, ["C.out>T.n"], {
    initials: [{ data: 1, to: { process: "T", port: "in" } }],
  });
  collectErrors(net);
  await net.start();
  await net.finished;
  const s = net.stats();
  assert.equal(connTo(s, "C.out", "T.n").delivered, 2);
  assert.equal(proc(s, "T").messagesIn.n, 2);
});

test("Network stats record source-to-sink latency for the messages a loop sink takes", async () => {
  const got: unknown[] = [];
  const LoopSink = defineComponent({
    name: "test/LoopSink",
    description: "A loop that keeps what it reads.",
    inPorts: { in: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) got.push(v);
    },
  });
  const net = network({ S: sourceOf(range(10)), L: LoopSink }, ["S.out>L.in"]);
  await net.start();
  await net.finished;
  assert.equal(got.length, 10);
  assert.equal(net.stats().latency.count, 10);
});

// ---- exported in-ports ----------------------------------------------------

function inportNet(got: unknown[]): Network {
  return network({ K: sinkInto(got) }, [], {
    inports: { in: { process: "K", port: "in" } },
  });
}

test("Network send to a closed exported in-port throws an Error naming the port", async () => {
  const net = inportNet([]);
  await net.start();
  net.closeInport("in");
  assert.throws(
    () => net.send("in", 1),
    (e: unknown) =>
      e instanceof Error && /in-port "in"/.test(e.message) &&
      /closed|finished/.test(e.message),
  );
  await net.stop();
});

test("Network send to an exported in-port after stop throws an Error saying so", async () => {
  const net = inportNet([]);
  await net.start();
  await net.stop();
  assert.throws(() => net.send("in", 1), /in-port "in" .*stopped/);
});

test("Network stop releases a host waiting to send into a full exported in-port", async () => {
  const release = gate();
  const Held = defineComponent({
    name: "test/Held",
    description: "Waits at a gate.",
    inPorts: { in: {} },
    async process() {
      await release.promise;
    },
  });
  const net = network({ H: Held }, [], {
    inports: { in: { process: "H", port: "in" } },
    defaultCapacity: 1,
  });
  await net.start();
  net.send("in", 1); // taken by H, which waits at the gate
  net.send("in", 2); // fills the connection
  const blocked = net.send("in", 3);
  assert.ok(blocked instanceof Promise);
  await net.stop();
  assert.equal(await within(blocked.then(() => "released")), "released");
  assert.equal(net.stats().drops.stopped, 2);
  release.open();
});

test("Network closeInport twice is harmless", async () => {
  const got: unknown[] = [];
  const net = inportNet(got);
  await net.start();
  await net.send("in", 1);
  net.closeInport("in");
  net.closeInport("in");
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, [1]);
  assert.equal(proc(net.stats(), "K").phase, "finished");
});

test("Network closeInport of an unknown in-port throws a RangeError", async () => {
  const net = inportNet([]);
  await net.start();
  try {
    assert.throws(() => net.closeInport("inn"), RangeError);
  } finally {
    await net.stop();
  }
});

test("Network exported in-port can feed a control port", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const net = network({ M: Scale, K: sinkInto(got) }, ["M.out>K.in"], {
    inports: {
      in: { process: "M", port: "in" },
      factor: { process: "M", port: "factor" },
    },
  });
  await net.start();
  await net.send("in", 1);
  // A connected control port with no value yet holds the data back (as in
  // NoFlo): 1 waits for the factor.
  assert.deepEqual(got, []);
  await net.send("factor", 10);
  await net.send("in", 2);
  net.closeInport("factor");
  net.closeInport("factor");
  net.closeInport("in");
  assert.equal(await within(net.finished), "finished");
  assert.deepEqual(got, [10, 20]);
  assert.equal(proc(net.stats(), "M").messagesIn.factor, 1);
});

test("Network reports a deadlock in a graph whose exported in-port was closed before start", async () => {
  const net = network(
    { A: Waiter, B: Waiter, K: sinkInto([]) },
    ["A.out>B.in", "B.out>A.in"],
    { inports: { in: { process: "K", port: "in" } } },
    { deadlockDelayMs: 10 },
  );
  net.closeInport("in");
  await net.start();
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(d.processes.map((p) => p.process).sort(), ["A", "B"]);
});

// ---- events ---------------------------------------------------------------

test("Network keeps running and calls the other listeners when an error listener throws", async () => {
  const got: unknown[] = [];
  const seen: string[] = [];
  const Boom = defineComponent({
    name: "test/Boom",
    description: "Throws on odd numbers.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if ((v as number) % 2) throw new Error(`odd ${v}`);
      ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(range(6)), B: Boom, K: sinkInto(got) },
    ["S.out>B.in", "B.out>K.in"],
  );
  const original = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    net.on("error", () => {
      throw new Error("listener broke");
    });
    net.on("error", (e) => void seen.push(String(e.input)));
    await net.start();
    assert.equal(await within(net.finished), "finished");
  } finally {
    console.error = original;
  }
  assert.deepEqual(got, [0, 2, 4]);
  assert.deepEqual(seen, ["1", "3", "5"]);
  assert.equal(logged.length, 3);
});

test("Network on() returns a function that unsubscribes the listener", async () => {
  const states: string[] = [];
  const net = inportNet([]);
  const off = net.on("state", (s) => void states.push(s));
  await net.start();
  off();
  off();
  await net.stop();
  assert.deepEqual(states, ["running"]);
});

// ---- deadlock detection ---------------------------------------------------

test("Network does not report a deadlock for a slow pipeline of timer-driven async processes", async () => {
  const got: unknown[] = [];
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Async map.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      await sleep(15);
      await ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(range(5), 15), M: Slow, K: sinkInto(got, 15) },
    [
      edge("S.out", "M.in", { capacity: 1 }),
      edge("M.out", "K.in", {
        capacity: 1,
      }),
    ],
    {},
    { deadlockDelayMs: 5 },
  );
  let deadlocks = 0;
  net.on("deadlock", () => deadlocks++);
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(5));
  assert.equal(deadlocks, 0);
});

test("Network does not report a deadlock while a retry backs off", async () => {
  let attempts = 0;
  const got: unknown[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails its first attempt.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (++attempts === 1) throw new Error("first");
      ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf([1]),
      F: { component: Flaky, retry: { attempts: 2, backoffMs: 40 } },
      K: sinkInto(got),
    },
    ["S.out>F.in", "F.out>K.in"],
    {},
    { deadlockDelayMs: 5 },
  );
  let deadlocks = 0;
  net.on("deadlock", () => deadlocks++);
  await net.start();
  await net.finished;
  assert.deepEqual(got, [1]);
  assert.equal(deadlocks, 0);
});

test("Network reports a deadlock when a loop never reads the port its upstream fills", async () => {
  const OnlyA = defineComponent({
    name: "test/OnlyA",
    description: "Reads port a only.",
    inPorts: { a: {}, b: {} },
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.receive("a");
    },
  });
  const net = network(
    { S: sourceOf(range(20)), L: OnlyA, T: mapOf((v) => v) },
    [edge("S.out", "L.b", { capacity: 5 }), "L.out>T.in", "T.out>L.a"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(
    d.processes.map((p) => [p.process, p.waitingOn, p.port]).sort(),
    [["L", "receive", "a"], ["S", "send", "out"], ["T", "receive", "in"]],
  );
  assert.match(d.message, /S waits to send on "out": S\.out -> L\.b/);
});

test("Network does not report a deadlock while a receiver works through an async activation's unawaited sends", async () => {
  const got: unknown[] = [];
  const Fire = defineComponent({
    name: "test/Fire",
    description: "After an await, sends four values without awaiting.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(_v, ctx) {
      await sleep(0);
      for (let i = 0; i < 4; i++) void ctx.send("out", i);
    },
  });
  const net = network(
    { A: Fire, B: sinkInto(got, 30) },
    [edge("A.out", "B.in", { capacity: 1 })],
    { initials: [{ data: "go", to: { process: "A", port: "in" } }] },
    { deadlockDelayMs: 5 },
  );
  const reports: DeadlockReport[] = [];
  net.on("deadlock", (d) => void reports.push(d));
  await net.start();
  await net.finished;
  assert.deepEqual(got, range(4));
  assert.deepEqual(reports.map((d) => d.message), []);
});

test("Network does not report a deadlock while a receiver works through a guarded synchronous activation's surplus", async () => {
  const got: unknown[] = [];
  const Burst = defineComponent({
    name: "test/Burst",
    description: "Sends three values per input, synchronously.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      for (let i = 0; i < 3; i++) ctx.send("out", `${v}${i}`);
    },
  });
  const net = network(
    {
      S: sourceOf(["a", "b"]),
      G: { component: Burst, timeoutMs: 1000 },
      K: sinkInto(got, 30),
    },
    ["S.out>G.in", edge("G.out", "K.in", { capacity: 1 })],
    {},
    { deadlockDelayMs: 5 },
  );
  const reports: DeadlockReport[] = [];
  net.on("deadlock", (d) => void reports.push(d));
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["a0", "a1", "a2", "b0", "b1", "b2"]);
  assert.deepEqual(reports.map((d) => d.message), []);
});

test("Network reports a deadlock after a loop's parked send was taken while it waits in receive()", async () => {
  const release = gate();
  const got: unknown[] = [];
  const A = defineComponent({
    name: "test/A",
    description: "Sends three values without awaiting, then waits for B.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async run(ctx) {
      for (let i = 0; i < 3; i++) void ctx.send("out", i);
      await ctx.receive("in");
    },
  });
  const B = defineComponent({
    name: "test/B",
    description: "Holds its first message at a gate; never sends.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v) {
      if (v === 0) await release.promise;
      got.push(v);
    },
  });
  const net = network(
    { A, B },
    [edge("A.out", "B.in", { capacity: 1 }), "B.out>A.in"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  await sleep(1);
  release.open();
  await until(() => got.length === 3);
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(d.processes.map((p) => p.process).sort(), ["A", "B"]);
});

test("Network reports a deadlock after a source loop ended with an unawaited send", async () => {
  const release = gate();
  const got: unknown[] = [];
  const S = defineComponent({
    name: "test/S",
    description: "Sends three values without awaiting and ends.",
    outPorts: { out: {} },
    run(ctx) {
      for (let i = 0; i < 3; i++) void ctx.send("out", i);
      return Promise.resolve();
    },
  });
  const K = defineComponent({
    name: "test/K",
    description: "Holds its first message at a gate.",
    inPorts: { in: {} },
    async process(v) {
      if (v === 0) await release.promise;
      got.push(v);
    },
  });
  const net = network(
    { S, K, A: Waiter, B: Waiter },
    [edge("S.out", "K.in", { capacity: 1 }), "A.out>B.in", "B.out>A.in"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  await sleep(1);
  release.open();
  await until(() => got.length === 3);
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(d.processes.map((p) => p.process).sort(), ["A", "B"]);
});

test("Network reports a deadlock while an async activation awaits a send it made before its first await", async () => {
  const Both = defineComponent({
    name: "test/Both",
    description: "Sends v and -v and awaits both.",
    inPorts: { in: {} },
    outPorts: { out: {}, x: {} },
    async process(v, ctx) {
      await Promise.all([
        ctx.send("out", v),
        ctx.send("out", -(v as number)),
      ]);
    },
  });
  const OnlyX = defineComponent({
    name: "test/OnlyX",
    description: "Reads port x only.",
    inPorts: { in: {}, x: {} },
    async run(ctx) {
      await ctx.receive("x");
    },
  });
  const net = network(
    { S: sourceOf([1, 2]), A: Both, B: OnlyX },
    ["S.out>A.in", edge("A.out", "B.in", { capacity: 1 }), "A.x>B.x"],
    {},
    { deadlockDelayMs: 10 },
  );
  await net.start();
  const d = await deadlockWithin(net);
  await net.stop();
  assert.ok(d, "no deadlock report");
  assert.deepEqual(
    d.processes.map((p) => [p.process, p.waitingOn]).sort(),
    [["A", "send"], ["B", "receive"]],
  );
});

// ---- boundary checks ------------------------------------------------------

test("Network rejects a process concurrency that is not a positive integer", () => {
  const W = defineComponent({
    name: "test/W",
    description: "Async work.",
    inPorts: { in: {} },
    async process() {},
  });
  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () =>
        new NetworkClass({
          name: "bad",
          processes: [{ name: "W", component: W, concurrency }],
          connections: [],
        }),
      RangeError,
      `concurrency ${concurrency}`,
    );
  }
});

test("Network rejects an exported out-port naming an unknown process", () => {
  assert.throws(
    () =>
      new NetworkClass({
        name: "bad",
        processes: [{ name: "K", component: sinkInto([]) }],
        connections: [],
        outports: { out: { process: "Nope", port: "out" } },
      }),
    TypeError,
  );
});
