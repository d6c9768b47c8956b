import { test } from "node:test";
import assert from "node:assert/strict";
import { OverflowError, ProcessError } from "../../src/engine/errors.ts";
import { Listeners } from "../../src/engine/events.ts";
import { errorKind, Faults } from "../../src/engine/faults.ts";
import { connect, processOf } from "./_fakes.ts";

function faultsOf(silenced = false) {
  const listeners = new Listeners();
  const events: ProcessError[] = [];
  listeners.on("error", (e) => events.push(e));
  return { faults: new Faults("net", listeners, () => silenced), events };
}

test("errorKind() tells an overflow from any other exception", () => {
  assert.equal(errorKind(new OverflowError("A.out -> B.in", 1)), "overflow");
  assert.equal(errorKind(new Error("no")), "exception");
});

test("Faults.count() counts by kind and stamps the time of the error", () => {
  const { faults } = faultsOf();
  const p = processOf("P");
  const before = Date.now();
  faults.count(p, "exception");
  faults.count(p, "timeout");
  faults.count(p, "overflow");
  assert.deepEqual(
    [p.errorsException, p.errorsTimeout, p.errorsOverflow],
    [1, 1, 1],
  );
  assert.ok(p.lastErrorAt >= before);
});

test("Faults.fail() counts a failure and emits it as a ProcessError without an error port connected", () => {
  const { faults, events } = faultsOf();
  const p = processOf("P");
  faults.fail(p, new Error("boom"), "m", "in");
  assert.equal(p.failures, 1);
  assert.equal(events.length, 1);
  assert.equal(events[0].process, "P");
  assert.equal(events[0].network, "net");
  assert.equal(events[0].input, "m");
  assert.equal(events[0].kind, "exception");
});

test("Faults.route() sends the error to a connected error port instead of the event", () => {
  const sent: unknown[] = [];
  const { faults, events } = faultsOf();
  const p = processOf("P", undefined, {
    engine: {
      name: "net",
      sendFrom: (_o, v) => void sent.push(v),
      receive: () => new Promise(() => {}),
    },
  });
  p.errorPort!.conns.push(connect(processOf("X"), processOf("Y")));
  faults.route(p, new Error("boom"), "m", "in", "exception");
  assert.equal(events.length, 0);
  assert.equal(sent.length, 1);
  assert.ok(sent[0] instanceof ProcessError);
});

test("Faults.route() reports on the event an error port that could not take the error", () => {
  const { faults, events } = faultsOf();
  const p = processOf("P", undefined, {
    engine: {
      name: "net",
      sendFrom: () => {
        throw new OverflowError("P.error -> L.in", 1);
      },
      receive: () => new Promise(() => {}),
    },
  });
  p.errorPort!.conns.push(connect(processOf("X"), processOf("Y")));
  faults.route(p, new Error("boom"), "m", "in", "exception");
  assert.equal(events.length, 1);
  assert.match(events[0].message, /its error port could not take the error/);
});

test("Faults.route() routes nothing while the network is stopping", () => {
  const { faults, events } = faultsOf(true);
  faults.fail(processOf("P"), new Error("boom"), "m", "in");
  assert.equal(events.length, 0);
});

test("Faults.rejected() counts the message and routes a circuit_open error", () => {
  const { faults, events } = faultsOf();
  const p = processOf("P");
  faults.rejected(p, "m", "in");
  assert.equal(p.rejected, 1);
  assert.equal(events[0].kind, "circuit_open");
  assert.match(events[0].message, /circuit breaker is open/);
});
