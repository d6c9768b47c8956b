/**
 * A process that throws (or rejects with) a hostile value: a revoked
 * proxy, whose `instanceof`, text and JSON all throw. The fault is counted
 * and reported like any other, naming the process; the flow goes on.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { network, sinkInto, sourceOf } from "./_helpers.ts";

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

for (const mode of ["throws", "rejects"] as const) {
  for (const port of ["event", "error port"] as const) {
    test(`a process that ${mode} a revoked proxy: counted, reported on its ${port}, the flow goes on`, async () => {
      const events: ProcessError[] = [];
      const routed: unknown[] = [];
      const ok: unknown[] = [];
      const Hostile = defineComponent({
        name: "test/Hostile",
        description: "Throws a revoked proxy on odd numbers.",
        inPorts: { in: {} },
        outPorts: { out: {}, error: {} },
        process(v, ctx) {
          if ((v as number) % 2 === 0) return ctx.send("out", v);
          if (mode === "rejects") return Promise.reject(revoked());
          throw revoked();
        },
      });
      const net = network(
        {
          S: sourceOf([1, 2, 3, 4]),
          H: Hostile,
          OK: sinkInto(ok),
          ...(port === "error port" ? { E: sinkInto(routed) } : {}),
        },
        [
          "S.out>H.in",
          "H.out>OK.in",
          ...(port === "error port" ? ["H.error>E.in"] : []),
        ],
      );
      net.on("error", (e) => events.push(e));
      await net.start();
      await net.finished;
      assert.deepEqual(ok, [2, 4]);
      const seen = (port === "event" ? events : routed) as ProcessError[];
      assert.equal(seen.length, 2);
      assert.equal(seen[0].process, "H");
      assert.equal(seen[0].kind, "exception");
      assert.match(seen[0].message, /process "H"/);
      assert.match(seen[0].message, /an unreadable value/);
      const h = net.stats().processes.find((p) => p.name === "H")!;
      assert.equal(h.errors.exception, 2);
      assert.equal(h.failures, 2);
    });
  }
}
