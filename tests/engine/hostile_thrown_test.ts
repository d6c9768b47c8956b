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
