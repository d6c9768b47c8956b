/**
 * A process that throws (or rejects with) a hostile value: a revoked
 * proxy (whose `instanceof`, text and JSON all throw), an `Error` whose
 * message is no string, a proxy of its own `ProcessError` whose getters
 * throw. The fault is counted and reported like any other, as the
 * process's own, naming it; the flow goes on.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { ProcessError } from "../../src/engine/errors.ts";
import { ProcessContext, ProcessRuntime } from "../../src/engine/process.ts";
import { consoleCalls } from "../_console.ts";
import { network, sinkInto, sourceOf } from "./_helpers.ts";

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** What each hostile value makes, and the words its report carries. */
const HOSTILE: { name: string; make: () => unknown; says: RegExp }[] = [
  {
    name: "a revoked proxy",
    make: revoked,
    says: /an unreadable value \(its class, JSON and text all throw\)/,
  },
  {
    name: "an Error whose message is a number",
    make: () => Object.assign(new Error("x"), { message: 42 }),
    says: /failed on in-port "in": 42$/,
  },
  {
    name: "an Error whose message is a symbol",
    make: () => Object.assign(new Error("x"), { message: Symbol("why") }),
    says: /Symbol\(why\)$/,
  },
  {
    name: "an Error whose message's text throws",
    make: () =>
      Object.assign(new Error("x"), {
        message: {
          [Symbol.toPrimitive]() {
            throw new Error("no text");
          },
        },
      }),
    says: /an unreadable value/,
  },
  {
    name: "a proxy of its own ProcessError whose level throws",
    make: () =>
      new Proxy(
        new ProcessError("bad reading", {
          network: "test",
          process: "H",
          port: "in",
          kind: "exception",
        }),
        {
          get(target, key) {
            if (key === "level") throw new Error("no level");
            return Reflect.get(target, key);
          },
        },
      ),
    says: /process "H"/,
  },
];

for (const hostile of HOSTILE) {
  for (const mode of ["throws", "rejects"] as const) {
    for (const port of ["event", "error port"] as const) {
      test(`a process that ${mode} ${hostile.name}: counted, reported as its own on its ${port}, the flow goes on`, async () => {
        const events: ProcessError[] = [];
        const routed: unknown[] = [];
        const ok: unknown[] = [];
        const Hostile = defineComponent({
          name: "test/Hostile",
          description: "Throws a hostile value on odd numbers.",
          inPorts: { in: {} },
          outPorts: { out: {}, error: {} },
          process(v, ctx) {
            if ((v as number) % 2 === 0) return ctx.send("out", v);
            if (mode === "rejects") return Promise.reject(hostile.make());
            throw hostile.make();
          },
        });
        const toPort = port === "error port";
        const net = network(
          {
            S: sourceOf([1, 2, 3, 4]),
            H: Hostile,
            OK: sinkInto(ok),
            ...(toPort ? { E: sinkInto(routed) } : {}),
          },
          ["S.out>H.in", "H.out>OK.in", ...(toPort ? ["H.error>E.in"] : [])],
        );
        net.on("error", (e) => events.push(e));
        await net.start();
        await net.finished;
        assert.deepEqual(ok, [2, 4]);
        const seen = (toPort ? routed : events) as ProcessError[];
        assert.equal(seen.length, 2);
        assert.equal(seen[0].process, "H");
        assert.equal(seen[0].kind, "exception");
        assert.equal(seen[0].level, "error");
        assert.match(seen[0].message, /process "H"/);
        assert.match(seen[0].message, hostile.says);
        if (toPort) assert.deepEqual(events, []);
        const h = net.stats().processes.find((p) => p.name === "H")!;
        assert.equal(h.errors.exception, 2);
        assert.equal(h.failures, 2);
      });
    }
  }
}

test("a process that sends a revoked proxy on its unconnected error port goes on: the value is dropped there, as any value that is no ProcessError", async () => {
  const events: ProcessError[] = [];
  const ok: unknown[] = [];
  const Sender = defineComponent({
    name: "test/Sender",
    description: "Sends a revoked proxy on its error port, then passes on.",
    inPorts: { in: {} },
    outPorts: { out: {}, error: {} },
    process(v, ctx) {
      ctx.send("error", revoked());
      return ctx.send("out", v);
    },
  });
  const net = network(
    { S: sourceOf([1, 2]), H: Sender, OK: sinkInto(ok) },
    ["S.out>H.in", "H.out>OK.in"],
  );
  net.on("error", (e) => events.push(e));
  await net.start();
  await net.finished;
  assert.deepEqual(ok, [1, 2]);
  assert.deepEqual(events.map((e) => e.message), []);
  const h = net.stats().processes.find((p) => p.name === "H")!;
  assert.equal(h.failures, 0);
});

test("ctx.report outside a network (an engine with no report) logs a ProcessError at its level, and a hostile one at the level asked for, without throwing", async () => {
  const engine = {
    name: "bare",
    sendFrom: () => {},
    receive: () => Promise.resolve(undefined),
  };
  const Reporter = defineComponent({
    name: "test/Reporter",
    description: "Reports.",
    inPorts: { in: {} },
    process() {},
  });
  const p = new ProcessRuntime(engine, "R", Reporter, {}, {});
  const ctx = new ProcessContext(p, {}, p.abort.signal);
  const warning = new ProcessError("slow broker", {
    network: "bare",
    process: "R",
    port: "",
    kind: "exception",
    level: "warning",
  });
  const calls = await consoleCalls(() => {
    ctx.report(warning);
    ctx.report(revoked(), undefined, { level: "info" });
    ctx.report(
      new Proxy(warning, {
        get(target, key) {
          if (key === "level") throw new Error("no level");
          return Reflect.get(target, key);
        },
      }),
      undefined,
      { level: "warning" },
    );
  });
  assert.deepEqual(calls.map((c) => c.method), ["warn", "info", "warn"]);
  assert.match(
    String(calls[0].args[0]),
    /^\[weir\] process "R": .*slow broker/,
  );
  assert.match(String(calls[1].args[0]), /an unreadable value/);
});
