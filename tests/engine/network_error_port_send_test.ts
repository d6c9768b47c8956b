/**
 * A fault a component sends on its own `error` port (a fault that does not
 * end the process, as mqtt/In's bad payloads) reaches the network's `error`
 * event when nothing is connected there, as the engine's own faults do, so
 * `weir serve` logs it rate-limited instead of it going nowhere (or to a
 * console.error per fault).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { createNetwork } from "../../src/embed.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { ProcessError } from "../../src/engine/errors.ts";

const Reporter = defineComponent({
  name: "test/Reporter",
  description:
    "Reports each message as a fault on its error port, and goes on.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  process(value, ctx) {
    void ctx.out.error.send(
      new ProcessError(`bad ${value}`, {
        network: ctx.network,
        process: ctx.process,
        port: "",
        kind: "exception",
        input: value,
      }),
    );
  },
});

test("a ProcessError sent on an unconnected error port is the network's error event", async () => {
  const registry = builtins().register(Reporter);
  const net = createNetwork(
    "'1' -> in R(test/Reporter)\n",
    { registry },
  );
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  await net.finished;
  assert.equal(errors.length, 1);
  assert.equal(errors[0].message, 'process "R" failed: bad 1');
  assert.equal(errors[0].process, "R");
});

test("a ProcessError sent on a connected error port goes there, not to the event", async () => {
  const seen: unknown[] = [];
  const registry = builtins().register(Reporter).register(defineComponent({
    name: "test/Keep",
    description: "Keeps what it takes.",
    inPorts: { in: {} },
    process(value) {
      seen.push(value);
    },
  }));
  const net = createNetwork(
    "'1' -> in R(test/Reporter) error -> in K(test/Keep)\n",
    { registry },
  );
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  await net.finished;
  assert.equal(errors.length, 0);
  assert.equal(seen.length, 1);
  assert.ok(seen[0] instanceof ProcessError);
});
