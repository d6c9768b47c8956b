/**
 * MetricsCollector.wrapProcess(): the process wrapper's corner cases.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { sleep } from "../engine/_helpers.ts";
import { parseExposition, samplesOf, valueOf } from "./_exposition.ts";
import { N, sinks } from "./_fixtures.ts";

test("a wrapped function is called with the caller's this", () => {
  const m = new MetricsCollector();
  const obj = {
    base: 40,
    add: m.wrapProcess(function (this: { base: number }, n: number) {
      return this.base + n;
    }, { flow: "w", process: "add" }),
  };
  assert.equal(obj.add(2), 42);
});

test("a wrapped function that throws a non-Error rethrows that very value and counts it", async () => {
  const m = new MetricsCollector();
  const thrown = { code: 7 };
  const fn = m.wrapProcess(() => {
    throw thrown;
  }, { flow: "w", process: "t" });
  assert.throws(() => fn(), (e) => e === thrown);
  const rejects = m.wrapProcess(() => Promise.reject("no"), {
    flow: "w",
    process: "t",
  });
  await assert.rejects(rejects(), (e) => e === "no");
  const e = parseExposition(await m.render("text"));
  assert.equal(
    valueOf(e, N("processErrors"), { process: "t", kind: "exception" }),
    2,
  );
});

test("a wrapped async function that resolves to a thenable is timed until the thenable settles", async () => {
  const m = new MetricsCollector();
  const fn = m.wrapProcess(
    async () =>
      await {
        then(resolve: (v: number) => void) {
          setTimeout(() => resolve(5), 30);
        },
      },
    { flow: "w", process: "thenable" },
  );
  assert.equal(await fn(), 5);
  const e = parseExposition(await m.render("text"));
  const sum = valueOf(e, `${N("processProcessing")}_sum`, {
    process: "thenable",
  })!;
  assert.ok(sum >= 0.025, `timed ${sum} s`);
});

test("wrapping a function that returns a lazy thenable does not run it before the caller awaits", async () => {
  // Query builders (Knex, Mongoose, Drizzle) are thenables that run when
  // `then` is called; the caller chains more before awaiting, or never does.
  let runs = 0;
  const lazy = { then: (ok: (v: number) => void) => (runs++, ok(1)) };
  const m = new MetricsCollector();
  const build = m.wrapProcess(() => lazy, { flow: "w", process: "query" });
  build();
  await sleep(5);
  assert.equal(runs, 0);
});

test("a wrapped function hands back the very object its function returned", () => {
  const m = new MetricsCollector();
  const query = {
    where() {
      return this;
    },
    then(ok: (v: unknown[]) => void) {
      ok([]);
    },
  };
  const build = m.wrapProcess(() => query, { flow: "w", process: "builder" });
  const got = build();
  assert.equal(got, query);
});

test("wrapping the same labels twice feeds one series", async () => {
  const m = new MetricsCollector();
  const a = m.wrapProcess(() => 1, { flow: "w", process: "twice" });
  const b = m.wrapProcess(() => 2, { flow: "w", process: "twice" });
  a();
  b();
  b();
  const e = parseExposition(await m.render("text"));
  const count = `${N("processProcessing")}_count`;
  assert.equal(samplesOf(e, count, { process: "twice" }).length, 1);
  assert.equal(valueOf(e, count, { process: "twice" }), 3);
});

test("wrapProcess refuses a non-function and bad labels with a TypeError", () => {
  const m = new MetricsCollector();
  const wrap = m.wrapProcess as (fn: unknown, labels: unknown) => unknown;
  assert.throws(() => wrap.call(m, 42, { flow: "w", process: "p" }), {
    name: "TypeError",
    message: /expected a function, received number/,
  });
  for (const labels of [null, {}, { flow: "w" }, { flow: 1, process: "p" }]) {
    assert.throws(() => wrap.call(m, () => 1, labels), TypeError);
  }
});

test("a wrapped function's own series comes back when the flow of the same labels is untracked", async () => {
  const m = new MetricsCollector();
  const net = sinks(1, "f");
  m.track(net);
  const fn = m.wrapProcess(() => 1, { flow: "f", process: "P0" });
  fn();
  const count = `${N("processProcessing")}_count`;
  const tracked = parseExposition(await m.render("text"));
  assert.equal(samplesOf(tracked, count, { flow: "f" }).length, 1);
  assert.equal(valueOf(tracked, count, { flow: "f" }), 1);
  m.untrack(net);
  fn();
  const e = parseExposition(await m.render("text"));
  assert.equal(samplesOf(e, count, { flow: "f" }).length, 1);
  assert.equal(valueOf(e, count, { flow: "f" }), 2);
});
