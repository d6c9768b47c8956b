import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent, END } from "../../src/engine/component.ts";
import type { DeadlockReport, Network } from "../../src/engine/network.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import {
  mapOf,
  network,
  overflowNet,
  scaleOf,
  sinkInto,
  sleep,
  sourceOf,
} from "./_helpers.ts";

test("Network runs a pipeline and resolves finished when the source ends", async () => {
  const got: unknown[] = [];
  const net = network(
    {
      S: sourceOf([1, 2, 3]),
      M: mapOf((v) => (v as number) * 10),
      K: sinkInto(got),
    },
    ["S.out>M.in", "M.out>K.in"],
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.deepEqual(got, [10, 20, 30]);
  assert.equal(net.state, "finished");
});

test("Network delivers IIPs before the first message", async () => {
  const got: unknown[] = [];
  const net = network(
    { S: sourceOf(["a", "b"]), K: sinkInto(got) },
    ["S.out>K.in"],
    { initials: [{ data: "iip", to: { process: "K", port: "in" } }] },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["iip", "a", "b"]);
});

test("Network fan-out shares the same value with every receiver", async () => {
  const a: unknown[] = [];
  const b: unknown[] = [];
  const value = { deep: { n: 1 } };
  const net = network(
    { S: sourceOf([value]), A: sinkInto(a), B: sinkInto(b) },
    ["S.out>A.in", "S.out>B.in"],
  );
  await net.start();
  await net.finished;
  assert.equal(a[0], value);
  assert.equal(b[0], value);
});

test("Network keeps order through a long pipeline of 100 000 messages", async () => {
  const n = 100_000;
  const values = Array.from({ length: n }, (_, i) => i);
  const got: number[] = [];
  const procs: Record<string, ReturnType<typeof mapOf>> = {
    S: sourceOf(values),
  };
  const conns: string[] = [];
  let prev = "S";
  for (let i = 0; i < 8; i++) {
    procs[`M${i}`] = mapOf((v) => v);
    conns.push(`${prev}.out>M${i}.in`);
    prev = `M${i}`;
  }
  procs.K = sinkInto(got as unknown[]);
  conns.push(`${prev}.out>K.in`);
  const net = network(procs, conns);
  await net.start();
  await net.finished;
  assert.equal(got.length, n);
  for (let i = 0; i < n; i++) {
    if (got[i] !== i) assert.fail(`message ${i} out of order: ${got[i]}`);
  }
});

test("Network never buffers more than the capacity behind a slow receiver (block)", async () => {
  const got: unknown[] = [];
  let maxDepth = 0;
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Slow sink that watches its queue.",
    inPorts: { in: {} },
    async process(v) {
      const depth = net.stats().processes.find((p) =>
        p.name === "K"
      )!.queueDepth.in;
      if (depth > maxDepth) maxDepth = depth;
      await sleep(1);
      got.push(v);
    },
  });
  const net: Network = network(
    { S: sourceOf(Array.from({ length: 40 }, (_, i) => i)), K: Slow },
    [{
      from: { process: "S", port: "out" },
      to: { process: "K", port: "in" },
      capacity: 3,
    }],
  );
  await net.start();
  await net.finished;
  assert.equal(got.length, 40);
  assert.equal(maxDepth, 3);
  assert.equal(
    net.stats().drops.drop_oldest + net.stats().drops.drop_newest,
    0,
  );
});

test("Network drop-oldest keeps the newest values and counts each drop", async () => {
  const got: unknown[] = [];
  const { net, open } = overflowNet("drop-oldest", got);
  await net.start();
  await sleep(5);
  open();
  await net.finished;
  // 0..9 fought for 3 places while G was busy.
  assert.deepEqual(got, ["first", 7, 8, 9]);
  const s = net.stats();
  assert.equal(s.drops.drop_oldest, 7);
  assert.equal(s.processes.find((p) => p.name === "G")!.drops.drop_oldest, 7);
});

test("Network drop-newest keeps the oldest values and counts each drop", async () => {
  const got: unknown[] = [];
  const { net, open } = overflowNet("drop-newest", got);
  await net.start();
  await sleep(5);
  open();
  await net.finished;
  assert.deepEqual(got, ["first", 0, 1, 2]);
  assert.equal(net.stats().drops.drop_newest, 7);
});

test("Network error policy refuses the value, counts it and fails the sender", async () => {
  const got: unknown[] = [];
  const { net, open, errors } = overflowNet("error", got);
  await net.start();
  await sleep(5);
  open();
  await net.finished;
  assert.deepEqual(got, ["first", 0, 1, 2]);
  const s = net.stats();
  assert.equal(s.drops.refused, 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, "overflow");
  assert.equal(errors[0].process, "B");
  assert.equal(s.processes.find((p) => p.name === "B")!.errors.overflow, 1);
});

test("Network routes an exception to the error out-port when connected", async () => {
  const errs: unknown[] = [];
  const ok: unknown[] = [];
  const Boom = defineComponent({
    name: "test/Boom",
    description: "Throws on odd numbers.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(v, ctx) {
      if ((v as number) % 2) throw new Error(`odd ${v}`);
      ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), B: Boom, OK: sinkInto(ok), E: sinkInto(errs) },
    ["S.out>B.in", "B.out>OK.in", "B.error>E.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(ok, [2, 4]);
  assert.equal(errs.length, 2);
  const e = errs[0] as ProcessError;
  assert.ok(e instanceof ProcessError);
  assert.equal(e.process, "B");
  assert.equal(e.port, "in");
  assert.equal(e.input, 1);
  assert.equal(e.kind, "exception");
  assert.match(e.message, /odd 1/);
  const b = net.stats().processes.find((p) => p.name === "B")!;
  assert.equal(b.errors.exception, 2);
  assert.equal(b.failures, 2);
  assert.ok(
    b.lastErrorAt !== null &&
      Math.abs(Date.parse(b.lastErrorAt) - Date.now()) < 60_000,
  );
  assert.equal(new Date(b.lastErrorAt).toISOString(), b.lastErrorAt);
});

test("Network emits a rejected promise as an error event and keeps the other processes running", async () => {
  const events: ProcessError[] = [];
  const ok: unknown[] = [];
  const Rejects = defineComponent({
    name: "test/Rejects",
    description: "Rejects on 'bad'.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    async process(v, ctx) {
      await null;
      if (v === "bad") throw new TypeError("bad input");
      await ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf(["a", "bad", "b"]), R: Rejects, K: sinkInto(ok) },
    ["S.out>R.in", "R.out>K.in"],
  );
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(ok, ["a", "b"]);
  assert.equal(events.length, 1);
  assert.equal(events[0].input, "bad");
  assert.ok(events[0].cause instanceof TypeError);
});

test("Network fails an async activation that outlives timeoutMs", async () => {
  const events: ProcessError[] = [];
  const ok: unknown[] = [];
  const Hang = defineComponent({
    name: "test/Hang",
    description: "Never settles on 'hang'.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (v === "hang") return new Promise<void>(() => {});
      return ctx.send("out", v) ?? Promise.resolve();
    },
  });
  const net = network(
    {
      S: sourceOf(["a", "hang", "b"]),
      H: { component: Hang, timeoutMs: 20 },
      K: sinkInto(ok),
    },
    ["S.out>H.in", "H.out>K.in"],
  );
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(ok, ["a", "b"]);
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, "timeout");
  assert.match(events[0].message, /did not settle within 20 ms/);
  assert.equal(
    net.stats().processes.find((p) => p.name === "H")!.errors.timeout,
    1,
  );
});

test("Network retries a failing activation with backoff until it succeeds", async () => {
  let calls = 0;
  const ok: unknown[] = [];
  const Flaky = defineComponent({
    name: "test/Flaky",
    description: "Fails twice, then works.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      if (++calls < 3) throw new Error("not yet");
      ctx.send("out", v);
    },
  });
  const net = network(
    {
      S: sourceOf(["x"]),
      F: { component: Flaky, retry: { attempts: 3, backoffMs: 1 } },
      K: sinkInto(ok),
    },
    ["S.out>F.in", "F.out>K.in"],
  );
  const events: unknown[] = [];
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(ok, ["x"]);
  assert.equal(calls, 3);
  assert.equal(events.length, 0);
  const f = net.stats().processes.find((p) => p.name === "F")!;
  assert.equal(f.errors.exception, 2);
  assert.equal(f.failures, 0);
});

test("Network gives up after the last retry and counts one failure", async () => {
  const Always = defineComponent({
    name: "test/Always",
    description: "Always fails.",
    inPorts: { in: {} },
    process() {
      throw new Error("no");
    },
  });
  const net = network(
    {
      S: sourceOf(["x"]),
      F: { component: Always, retry: { attempts: 2, backoffMs: 1 } },
    },
    ["S.out>F.in"],
  );
  const events: ProcessError[] = [];
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.equal(events.length, 1);
  const f = net.stats().processes.find((p) => p.name === "F")!;
  assert.equal(f.errors.exception, 2);
  assert.equal(f.failures, 1);
});

test("Network circuit breaker opens, rejects and counts, then half-opens and closes", async () => {
  let healthy = false;
  const passed: unknown[] = [];
  const Dep = defineComponent({
    name: "test/Dep",
    description: "Fails until healthy.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(v, ctx) {
      if (!healthy) throw new Error("down");
      ctx.send("out", v);
    },
  });
  const errs: unknown[] = [];
  const Feed = defineComponent({
    name: "test/Feed",
    description: "Sends what the test pushes.",
    outPorts: { out: {} },
    async run(ctx) {
      for await (const v of ctx.input("in")) await ctx.send("out", v);
    },
    inPorts: { in: {} },
  });
  const net = network(
    {
      F: Feed,
      D: {
        component: Dep,
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 30 },
      },
      OK: sinkInto(passed),
      E: sinkInto(errs),
    },
    ["F.out>D.in", "D.out>OK.in", "D.error>E.in"],
    { inports: { IN: { process: "F", port: "in" } } },
  );
  await net.start();
  const breaker = () =>
    net.stats().processes.find((p) => p.name === "D")!.breaker;
  assert.equal(breaker(), "closed");
  await net.send("IN", 1);
  await net.send("IN", 2);
  await sleep(5);
  assert.equal(breaker(), "open");
  await net.send("IN", 3); // rejected while open
  await sleep(5);
  const d = net.stats().processes.find((p) => p.name === "D")!;
  assert.equal(d.drops.circuit_open, 1);
  assert.equal((errs[2] as ProcessError).kind, "circuit_open");
  assert.equal((errs[2] as ProcessError).input, 3);
  await sleep(40);
  assert.equal(breaker(), "half-open");
  healthy = true;
  await net.send("IN", 4);
  await sleep(5);
  assert.equal(breaker(), "closed");
  assert.deepEqual(passed, [4]);
  net.closeInport("IN");
  await net.finished;
});

test("Network drain lets every accepted message reach the sink", async () => {
  const got: number[] = [];
  const Ticker = defineComponent({
    name: "test/Ticker",
    description: "Counts up until aborted.",
    outPorts: { out: {} },
    async run(ctx) {
      let i = 0;
      while (!ctx.signal.aborted) {
        await ctx.send("out", i++);
        await sleep(0);
      }
    },
  });
  let sent = 0;
  const Counted = defineComponent({
    name: "test/Counted",
    description: "Counts what passes.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      sent++;
      ctx.send("out", v);
    },
  });
  const net = network(
    { T: Ticker, C: Counted, K: sinkInto(got as unknown[], 1) },
    ["T.out>C.in", "C.out>K.in"],
  );
  await net.start();
  await sleep(30);
  const result = await net.drain(5000);
  assert.deepEqual(result, { drained: true, backlog: 0 });
  assert.equal(net.state, "finished");
  assert.ok(got.length > 0);
  assert.equal(got.length, sent);
  assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
  assert.equal(net.stats().drops.stopped, 0);
});

test("Network drain past its timeout stops and reports the discarded backlog", async () => {
  let sourceDone!: () => void;
  const done = new Promise<void>((r) => (sourceDone = r));
  const Stubborn = defineComponent({
    name: "test/Stubborn",
    description: "Ignores the abort signal: sends 20 values whatever happens.",
    outPorts: { out: {} },
    async run(ctx) {
      for (let i = 0; i < 20; i++) await ctx.send("out", i);
      sourceDone();
    },
  });
  const Stuck = defineComponent({
    name: "test/Stuck",
    description: "Takes forever.",
    inPorts: { in: {} },
    process: () => new Promise<void>(() => {}),
  });
  const net = network({ S: Stubborn, K: Stuck }, [
    {
      from: { process: "S", port: "out" },
      to: { process: "K", port: "in" },
      capacity: 5,
    },
  ]);
  await net.start();
  await sleep(5);
  const result = await net.drain(20);
  assert.equal(result.drained, false);
  assert.equal(result.backlog, 6); // 5 buffered + 1 waiting for room
  assert.equal(net.state, "stopped");
  await done;
  // K took one value; the other 19 were discarded at the stop or sent after it.
  assert.equal(net.stats().drops.stopped, 19);
});

test("Network stop aborts processes, runs teardown and counts discarded messages", async () => {
  let tornDown = 0;
  const Forever = defineComponent({
    name: "test/Forever",
    description: "Sends until aborted.",
    outPorts: { out: {} },
    async run(ctx) {
      let i = 0;
      while (!ctx.signal.aborted) await ctx.send("out", i++);
    },
    teardown() {
      tornDown++;
    },
  });
  const Never = defineComponent({
    name: "test/Never",
    description: "Never finishes an activation.",
    inPorts: { in: {} },
    process: () => new Promise<void>(() => {}),
  });
  const net = network({ F: Forever, N: Never }, ["F.out>N.in"]);
  await net.start();
  await sleep(5);
  await net.stop();
  assert.equal(await net.finished, "stopped");
  assert.equal(tornDown, 1);
  assert.equal(net.stats().drops.stopped, 11); // 10 buffered + 1 waiting
});

test("Network reports a deadlock naming each stuck process and what it waits on", async () => {
  // A -> B -> A: a cycle whose buffers fill up.
  const Echo = defineComponent({
    name: "test/Echo",
    description: "Sends every message twice.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      ctx.send("out", v);
      ctx.send("out", v);
    },
  });
  const net = network(
    { A: Echo, B: Echo },
    [
      {
        from: { process: "A", port: "out" },
        to: { process: "B", port: "in" },
        capacity: 2,
      },
      {
        from: { process: "B", port: "out" },
        to: { process: "A", port: "in" },
        capacity: 2,
      },
    ],
    { initials: [{ data: 1, to: { process: "A", port: "in" } }] },
    { deadlockDelayMs: 10 },
  );
  const report = new Promise<
    DeadlockReport
  >((r) => net.on("deadlock", r));
  await net.start();
  const d = await report;
  assert.equal(d.network, "test");
  assert.deepEqual(d.processes.map((p) => [p.process, p.waitingOn]).sort(), [[
    "A",
    "send",
  ], ["B", "send"]]);
  assert.match(
    d.message,
    /A waits to send on "out": A\.out -> B\.in \(\d+\/2\) is full/,
  );
  await net.stop();
});

test("Network does not report a deadlock while a source is waiting on a timer", async () => {
  const Slow = defineComponent({
    name: "test/SlowSource",
    description: "One message after 60 ms.",
    outPorts: { out: {} },
    async run(ctx) {
      await sleep(60);
      await ctx.send("out", "late");
    },
  });
  const got: unknown[] = [];
  const net = network({ S: Slow, K: sinkInto(got) }, ["S.out>K.in"], {}, {
    deadlockDelayMs: 5,
  });
  let deadlocks = 0;
  net.on("deadlock", () => deadlocks++);
  await net.start();
  await net.finished;
  assert.deepEqual(got, ["late"]);
  assert.equal(deadlocks, 0);
});

test("Network routes addressable out-port indexes and tells the in-port index", async () => {
  const seen: [number, unknown][] = [];
  const Router = defineComponent({
    name: "test/Router",
    description: "Sends evens to [0], odds to [1].",
    inPorts: { in: {} },
    outPorts: { out: { addressable: true } },
    process(v, ctx) {
      ctx.send("out", v, (v as number) % 2);
    },
  });
  const Join = defineComponent({
    name: "test/Join",
    description: "Records the index.",
    inPorts: { in: { addressable: true } },
    process(v, ctx) {
      seen.push([ctx.index, v]);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), R: Router, J: Join },
    [
      "S.out>R.in",
      {
        from: { process: "R", port: "out", index: 0 },
        to: { process: "J", port: "in", index: 5 },
      },
      {
        from: { process: "R", port: "out", index: 1 },
        to: { process: "J", port: "in", index: 7 },
      },
    ],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(seen.sort((a, b) => (a[1] as number) - (b[1] as number)), [
    [7, 1],
    [5, 2],
    [7, 3],
    [5, 4],
  ]);
});

test("Network applies control IIPs (parsed) before data and keeps the latest value", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const net = network(
    { S: sourceOf([1, 2]), X: Scale, K: sinkInto(got) },
    ["S.out>X.in", "X.out>K.in"],
    { initials: [{ data: "3", to: { process: "X", port: "factor" } }] },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [3, 6]);
  assert.equal(
    net.stats().processes.find((p) => p.name === "X")!.messagesIn.factor,
    1,
  );
});

test("Network start rejects when a control IIP fails its port's parse", async () => {
  const C = defineComponent({
    name: "test/C",
    description: "Needs a positive size.",
    inPorts: {
      size: {
        control: true,
        parse(v) {
          if (!(typeof v === "number" && v > 0)) {
            throw new RangeError("size must be positive");
          }
          return v;
        },
      },
      in: {},
    },
    process() {},
  });
  const net = network({ C }, [], {
    initials: [{ data: 0, to: { process: "C", port: "size" } }],
  });
  await assert.rejects(
    net.start(),
    /Cannot start network "test": size must be positive/,
  );
  assert.equal(net.state, "stopped");
});

test("Network loops read ports with input() and receive() until END", async () => {
  const got: unknown[] = [];
  const Pairs = defineComponent({
    name: "test/Pairs",
    description: "Pairs messages of a and b.",
    inPorts: { a: {}, b: {} },
    outPorts: { out: {} },
    async run(ctx) {
      for await (const a of ctx.input("a")) {
        const b = await ctx.receive("b");
        if (b === END) break;
        await ctx.send("out", [a, b]);
      }
      assert.equal(await ctx.receive("b"), END);
    },
  });
  const net = network(
    {
      A: sourceOf([1, 2, 3]),
      B: sourceOf(["x", "y", "z"]),
      P: Pairs,
      K: sinkInto(got),
    },
    ["A.out>P.a", "B.out>P.b", "P.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [[1, "x"], [2, "y"], [3, "z"]]);
});

test("Network calls flush once inputs end, before closing the outputs", async () => {
  const got: unknown[] = [];
  const Count = defineComponent<{ n: number }>({
    name: "test/Count",
    description: "Counts, sends the total at the end.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    setup: () => ({ n: 0 }),
    process(_v, ctx) {
      ctx.state.n++;
    },
    flush(ctx) {
      ctx.send("out", ctx.state.n);
    },
  });
  const net = network(
    { S: sourceOf([1, 2, 3, 4]), C: Count, K: sinkInto(got) },
    ["S.out>C.in", "C.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [4]);
});

test("Network exported in-port takes values from the host with back pressure", async () => {
  const got: unknown[] = [];
  const net = network(
    { M: mapOf((v) => `<${v}>`), K: sinkInto(got) },
    ["M.out>K.in"],
    { inports: { IN: { process: "M", port: "in" } } },
  );
  await net.start();
  for (let i = 0; i < 50; i++) await net.send("IN", i);
  net.closeInport("IN");
  await net.finished;
  assert.equal(got.length, 50);
  assert.equal(got[49], "<49>");
  assert.throws(
    () => net.send("NOPE", 1),
    /no exported in-port "NOPE"; it has IN/,
  );
});

test("Network stats count messages per port, queue depth, timing and latency", async () => {
  const got: unknown[] = [];
  const n = 1000;
  const net = network(
    {
      S: sourceOf(Array.from({ length: n }, (_, i) => i)),
      M: mapOf((v) => v),
      K: sinkInto(got),
    },
    ["S.out>M.in", "M.out>K.in"],
    {},
    { timingSampleEvery: 1 },
  );
  await net.start();
  await net.finished;
  const s = net.stats();
  const m = s.processes.find((p) => p.name === "M")!;
  assert.equal(m.messagesIn.in, n);
  assert.equal(m.messagesOut.out, n);
  assert.equal(m.activations, n);
  assert.equal(m.processing.count, n); // timingSampleEvery: 1 times every activation
  assert.equal(m.processing.counts.reduce((a, b) => a + b, 0), n);
  assert.equal(m.queueWait.in.count, n);
  assert.equal(m.queueDepth.in, 0);
  assert.equal(m.queueCapacity.in, 10);
  assert.equal(m.starts, 1);
  assert.equal(s.latency.count, n);
  assert.equal(s.backlog, 0);
  assert.equal(s.activeProcesses, 0);
  assert.equal(s.state, "finished");
  assert.equal(s.processes.find((p) => p.name === "S")!.messagesOut.out, n);
});

test("Network stats sample the timing of synchronous processes", async () => {
  const n = 10_000;
  const net = network(
    { S: sourceOf(Array.from({ length: n }, (_, i) => i)), K: sinkInto([]) },
    ["S.out>K.in"],
    {},
    { timingSampleEvery: 100 },
  );
  await net.start();
  await net.finished;
  const k = net.stats().processes.find((p) => p.name === "K")!;
  assert.equal(k.messagesIn.in, n);
  assert.ok(k.processing.count >= n / 100, `timed ${k.processing.count}`);
  assert.ok(k.processing.count < n, `timed ${k.processing.count}`);
});

test("Network stats report queue depth at capacity behind a blocked receiver", async () => {
  const Never = defineComponent({
    name: "test/Never",
    description: "Holds its first message forever.",
    inPorts: { in: {} },
    process: () => new Promise<void>(() => {}),
  });
  const net = network(
    { S: sourceOf(Array.from({ length: 100 }, (_, i) => i)), N: Never },
    [{
      from: { process: "S", port: "out" },
      to: { process: "N", port: "in" },
      capacity: 7,
    }],
  );
  await net.start();
  await sleep(10);
  const s = net.stats();
  const nStats = s.processes.find((p) => p.name === "N")!;
  assert.equal(nStats.queueDepth.in, 8); // 7 buffered + 1 waiting for room
  assert.equal(nStats.activeActivations, 1);
  assert.equal(nStats.bufferedBytes, 8 * 8);
  assert.equal(s.backlog, 8);
  assert.equal(s.activeProcesses, 2);
  assert.equal(s.activeConnections, 1);
  assert.equal(s.partitions, 1);
  await net.stop();
});

test("Network stats count connected parts among healthy processes", async () => {
  const Idle = defineComponent({
    name: "test/Idle",
    description: "Waits.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process() {},
  });
  const net = network(
    { A: Idle, B: Idle, C: Idle, D: Idle },
    ["A.out>B.in", "C.out>D.in"],
    {
      inports: {
        IA: { process: "A", port: "in" },
        IC: { process: "C", port: "in" },
      },
    },
  );
  await net.start();
  assert.equal(net.stats().partitions, 2);
  net.closeInport("IC");
  await sleep(1);
  assert.equal(net.stats().partitions, 1);
  await net.stop();
});

test("Network rejects a spec naming an unknown process or port", () => {
  assert.throws(
    () => network({ K: sinkInto([]) }, ["X.out>K.in"]),
    /connection 0 names unknown process "X"/,
  );
  assert.throws(
    () => network({ S: sourceOf([]), K: sinkInto([]) }, ["S.out>K.nope"]),
    /unknown in-port "nope" of "K" \(test\/Sink\); its in-ports are in/,
  );
  assert.throws(
    () =>
      network({ S: sourceOf([]), K: sinkInto([]) }, [
        {
          from: { process: "S", port: "out" },
          to: { process: "K", port: "in" },
          capacity: 0,
        },
      ]),
    /capacity must be a positive integer, received 0/,
  );
});

test("Network cannot be started twice", async () => {
  const net = network({ K: sinkInto([]) }, []);
  await net.start();
  await net.finished;
  await assert.rejects(net.start(), /it is finished; build a new Network/);
});

test("Network without an error listener writes faults to console.error", async () => {
  const Boom = defineComponent({
    name: "test/Boom2",
    description: "Throws.",
    inPorts: { in: {} },
    process() {
      throw new Error("kaboom");
    },
  });
  const lines: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    const net = network({ B: Boom }, [], {
      initials: [{ data: 1, to: { process: "B", port: "in" } }],
    });
    await net.start();
    await net.finished;
  } finally {
    console.error = original;
  }
  assert.equal(lines.length, 1);
  assert.match(String(lines[0]), /process "B" failed on in-port "in": kaboom/);
});

test("Network emits state changes", async () => {
  const states: string[] = [];
  const net = network({ S: sourceOf([1]), K: sinkInto([]) }, ["S.out>K.in"]);
  net.on("state", (s) => states.push(s));
  await net.start();
  await net.finished;
  assert.deepEqual(states, ["running", "finished"]);
});

test("Network holds no more than capacity per connection over many messages (memory bound)", async () => {
  let maxBacklog = 0;
  const n = 20_000;
  const Watch = defineComponent({
    name: "test/Watch",
    description: "Watches the backlog every 100 messages.",
    inPorts: { in: {} },
    async process(v) {
      if ((v as number) % 100 === 0) {
        maxBacklog = Math.max(maxBacklog, net.backlog);
        await null;
      }
    },
  });
  const net: Network = network(
    {
      S: sourceOf(Array.from({ length: n }, (_, i) => i)),
      M: mapOf((v) => v),
      W: Watch,
    },
    ["S.out>M.in", "M.out>W.in"],
  );
  await net.start();
  await net.finished;
  // Two connections of capacity 10, plus at most one value waiting for room on each.
  assert.ok(maxBacklog <= 22, `backlog reached ${maxBacklog}`);
});

test("Network output() reads an exported out-port to its end", async () => {
  const net = network(
    { S: sourceOf([1, 2, 3]), M: mapOf((v) => (v as number) + 100) },
    ["S.out>M.in"],
    { outports: { OUT: { process: "M", port: "out" } } },
  );
  const out = net.output("OUT");
  assert.throws(
    () => net.output("OUT"),
    /call output\(\) once per port, before start\(\)/,
  );
  assert.throws(
    () => net.output("NOPE"),
    /no exported out-port "NOPE"; it has OUT/,
  );
  await net.start();
  const got: unknown[] = [];
  for await (const v of out) got.push(v);
  assert.deepEqual(got, [101, 102, 103]);
  assert.equal(await net.finished, "finished");
  assert.equal(net.stats().processes.length, 2);
});

test("Network leaves an exported out-port nobody reads unconnected", async () => {
  const net = network(
    { S: sourceOf([1, 2, 3]), M: mapOf((v) => v) },
    ["S.out>M.in"],
    { outports: { OUT: { process: "M", port: "out" } } },
  );
  await net.start();
  assert.equal(await net.finished, "finished");
  assert.equal(
    net.stats().processes.find((p) => p.name === "M")!.messagesOut.out,
    3,
  );
});

test("Network holds messages back until a connected control port has a value", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const Late = defineComponent({
    name: "test/Late",
    description: "Sends 3 after the data has been sent.",
    outPorts: { out: {} },
    async run(ctx) {
      await sleep(10);
      await ctx.send("out", 3);
    },
  });
  const net = network(
    { S: sourceOf([1, 2]), F: Late, X: Scale, K: sinkInto(got) },
    ["S.out>X.in", "F.out>X.factor", "X.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [3, 6]);
});

test("Network releases the hold when the control port's connections close without a value", async () => {
  const got: unknown[] = [];
  const Scale = scaleOf();
  const net = network(
    { S: sourceOf([1, 2]), F: sourceOf([]), X: Scale, K: sinkInto(got) },
    ["S.out>X.in", "F.out>X.factor", "X.out>K.in"],
  );
  await net.start();
  await net.finished;
  assert.deepEqual(got, [1, 2]);
});

test("Network calls onControl when a control port takes a new value while running", async () => {
  const seen: [string, unknown][] = [];
  const Watch = defineComponent({
    name: "test/Watch2",
    description: "Records control changes.",
    inPorts: { in: {}, level: { control: true, parse: (v) => Number(v) } },
    process() {},
    onControl(port, value) {
      seen.push([port, value]);
    },
  });
  const net = network(
    { S: sourceOf(["4", "5"]), W: Watch },
    ["S.out>W.level"],
    { initials: [{ data: "1", to: { process: "W", port: "level" } }] },
  );
  await net.start();
  await net.finished;
  assert.deepEqual(seen, [["level", 4], ["level", 5]]);
});
