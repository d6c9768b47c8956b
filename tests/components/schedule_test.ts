/**
 * `core/Schedule`: cron expressions (seconds, time zones) through croner,
 * "every" periods aligned to the clock, no drift, missed firings under
 * back pressure, a clean stop, and validation of bad expressions and
 * unknown time zones. Most tests run on a fake clock that the test moves;
 * one runs a real seconds cron.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CoreSchedule,
  coreSchedule,
  type Firing,
  type ScheduleClock,
} from "../../src/components/schedule.ts";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { Network } from "../../src/engine/network.ts";
import { meterValues } from "./_meter_values.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import {
  deferred,
  finishedWithin,
  runComponent,
  until,
  watchTimers,
} from "./_helpers.ts";

/**
 * A clock the test moves: `now` changes only when a sleep is let through
 * (`tick()`, to that sleep's deadline, plus `late` ms) or by `advance()`.
 * `asleep` resolves once the schedule waits for its next firing.
 */
function manualClock(start: number) {
  let now = start;
  let wakeUp: ((ok: boolean) => void) | undefined;
  let deadline = 0;
  let asleep = deferred();
  const clock: ScheduleClock = {
    now: () => now,
    sleepUntil(due, signal, wake) {
      deadline = due;
      return new Promise((resolve) => {
        const abort = () => resolve(false);
        signal.addEventListener("abort", abort, { once: true });
        wake.addEventListener("abort", abort, { once: true });
        wakeUp = (ok) => {
          signal.removeEventListener("abort", abort);
          wake.removeEventListener("abort", abort);
          resolve(ok);
        };
        asleep.resolve();
      });
    },
  };
  return {
    clock,
    get now() {
      return now;
    },
    /** Resolves when the schedule is waiting for a firing. */
    get asleep() {
      return asleep.promise;
    },
    /** The deadline the schedule waits for. */
    get deadline() {
      return deadline;
    },
    /** Lets the waiting sleep end, `late` ms after its deadline. */
    tick(late = 0) {
      now = Math.max(now, deadline + late);
      asleep = deferred();
      const w = wakeUp;
      wakeUp = undefined;
      w?.(true);
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

/** A clock whose sleeps end at once, `late(i)` ms after each deadline. */
function jumpingClock(start: number, late: (i: number) => number = () => 0) {
  let now = start;
  let i = 0;
  const clock: ScheduleClock = {
    now: () => now,
    sleepUntil(due) {
      now = Math.max(now, due + late(i++));
      return Promise.resolve(true);
    },
  };
  return clock;
}

const firings = (values: unknown[]) => values as Firing[];

test("core/Schedule every 5m fires at :00, :05, :10 of the clock, not 5 min after the start", async () => {
  const start = Date.parse("2026-12-03T12:03:17.250Z");
  const { outputs, state } = await runComponent(
    coreSchedule(jumpingClock(start)),
    { iips: { every: "5m", count: 3 } },
  );
  assert.equal(state, "finished");
  assert.deepEqual(firings(outputs.out).map((f) => f.time), [
    "2026-12-03T12:05:00.000Z",
    "2026-12-03T12:10:00.000Z",
    "2026-12-03T12:15:00.000Z",
  ]);
  assert.deepEqual(firings(outputs.out).map((f) => f.seq), [0, 1, 2]);
  for (const f of firings(outputs.out)) {
    assert.equal(f.epochMs, Date.parse(f.time));
    assert.equal(f.missed, 0);
  }
});

test("core/Schedule every with an offset shifts each firing by it", async () => {
  const start = Date.parse("2026-12-03T12:03:17Z");
  const { outputs } = await runComponent(
    coreSchedule(jumpingClock(start)),
    { iips: { every: "1h", offset: "15m", count: 2 } },
  );
  assert.deepEqual(firings(outputs.out).map((f) => f.time), [
    "2026-12-03T12:15:00.000Z",
    "2026-12-03T13:15:00.000Z",
  ]);
});

test("core/Schedule does not drift when every timer fires late", async () => {
  const start = Date.parse("2026-12-03T00:00:00.500Z");
  // Each sleep ends 0 to 900 ms after its deadline, as on a busy host.
  const late = (i: number) => (i * 337) % 900;
  const { outputs } = await runComponent(
    coreSchedule(jumpingClock(start, late)),
    { iips: { every: "1s", count: 50 } },
  );
  const times = firings(outputs.out).map((f) => f.epochMs);
  assert.equal(times.length, 50);
  times.forEach((t, i) =>
    assert.equal(t, Date.parse("2026-12-03T00:00:01Z") + i * 1000)
  );
});

test("core/Schedule reads a cron expression in its time zone, across a daylight saving change", async () => {
  // Berlin: 09:00 is 08:00 UTC in winter time and 07:00 UTC from 29 March.
  const start = Date.parse("2026-03-27T12:00:00Z");
  const { outputs } = await runComponent(
    coreSchedule(jumpingClock(start)),
    { iips: { cron: "0 0 9 * * *", timezone: "Europe/Berlin", count: 3 } },
  );
  assert.deepEqual(firings(outputs.out).map((f) => f.time), [
    "2026-03-28T08:00:00.000Z",
    "2026-03-29T07:00:00.000Z",
    "2026-03-30T07:00:00.000Z",
  ]);
});

test("core/Schedule takes a five-field cron expression and nicknames", async () => {
  const start = Date.parse("2026-12-03T12:03:17Z");
  const five = await runComponent(coreSchedule(jumpingClock(start)), {
    iips: { cron: "*/20 * * * *", timezone: "UTC", count: 2 },
  });
  assert.deepEqual(firings(five.outputs.out).map((f) => f.time), [
    "2026-12-03T12:20:00.000Z",
    "2026-12-03T12:40:00.000Z",
  ]);
  const nick = await runComponent(coreSchedule(jumpingClock(start)), {
    iips: { cron: "@daily", timezone: "Asia/Tokyo", count: 1 },
  });
  assert.deepEqual(firings(nick.outputs.out).map((f) => f.time), [
    "2026-12-03T15:00:00.000Z",
  ]);
});

test(
  "core/Schedule with a real seconds cron fires on whole seconds, one second apart",
  {
    timeout: 15_000,
  },
  async () => {
    const { outputs, state } = await runComponent(CoreSchedule, {
      iips: { cron: "*/1 * * * * *", count: 2 },
    });
    assert.equal(state, "finished");
    const [a, b] = firings(outputs.out);
    assert.equal(a.epochMs % 1000, 0);
    assert.equal(b.epochMs - a.epochMs, 1000);
    assert.deepEqual([a.seq, b.seq], [0, 1]);
    assert.equal(a.time, new Date(a.epochMs).toISOString());
  },
);

test("core/Schedule counts the firings due while out is full as missed and sends none of them late", async () => {
  const start = Date.parse("2026-12-03T12:00:00Z");
  const m = manualClock(start);
  const arrived: Firing[] = [];
  const first = deferred();
  const gate = deferred();
  const Slow = defineComponent({
    name: "test/Slow",
    description: "Takes the first message, then waits for the gate.",
    inPorts: { in: {} },
    async process(value) {
      arrived.push(value as Firing);
      if (arrived.length === 1) {
        first.resolve();
        await gate.promise;
      }
    },
  });
  const net = new Network({
    name: "test",
    processes: [
      { name: "S", component: coreSchedule(m.clock) },
      { name: "Slow", component: Slow },
    ],
    connections: [{
      from: { process: "S", port: "out" },
      to: { process: "Slow", port: "in" },
      capacity: 1,
    }],
    initials: [
      { data: "1s", to: { process: "S", port: "every" } },
      { data: 5, to: { process: "S", port: "count" } },
    ],
  });
  await net.start();
  await m.asleep;
  m.tick(); // firing 0 (12:00:01): Slow takes it and holds it
  await first.promise;
  await m.asleep;
  m.tick(); // firing 1 (12:00:02): waits in the connection
  await m.asleep;
  m.tick(); // firing 2 (12:00:03): no room, the send waits
  // Ten seconds pass while the flow is held back, then it moves again.
  m.advance(10_000);
  gate.resolve();
  await m.asleep;
  // The next firing is the first one after now, not a burst of late ones.
  assert.equal(m.deadline, Date.parse("2026-12-03T12:00:14Z"));
  m.tick(); // firing 3
  await m.asleep;
  m.tick(); // firing 4, the last
  assert.equal(await finishedWithin(net, 5000), "finished");
  assert.deepEqual(
    arrived.map((f) => [f.seq, f.time.slice(11, 19), f.missed]),
    [
      [0, "12:00:01", 0],
      [1, "12:00:02", 0],
      [2, "12:00:03", 0],
      [3, "12:00:14", 10],
      [4, "12:00:15", 0],
    ],
  );
  assert.deepEqual(meterValues(net, "S"), {
    schedule_firings_total: 5,
    schedule_missed_total: 10,
  });
});

test("core/Schedule stops at once when the network stops, leaving no timer", async () => {
  const timers = watchTimers();
  const firedAt: number[] = [];
  const net = new Network({
    name: "test",
    processes: [
      { name: "S", component: CoreSchedule },
      {
        name: "Keep",
        component: defineComponent({
          name: "test/Keep",
          description: "Keeps the firings.",
          inPorts: { in: {} },
          process(v) {
            firedAt.push((v as Firing).epochMs);
          },
        }),
      },
    ],
    connections: [{
      from: { process: "S", port: "out" },
      to: { process: "Keep", port: "in" },
    }],
    // Months away whenever the test runs ("every 1h" failed in the last
    // 10 s of an hour, when the wait armed is shorter than 10 s).
    initials: [{
      data: `0 0 0 1 ${(new Date().getUTCMonth() + 6) % 12 + 1} *`,
      to: { process: "S", port: "cron" },
    }],
  });
  try {
    await net.start();
    // Its wait for the firing is armed (10 s at a time, checking the clock).
    await until(() => timers.live().includes(10_000), "the wait is armed");
    await net.stop();
    assert.equal(await finishedWithin(net, 1000), "stopped");
    assert.ok(!timers.live().includes(10_000));
    assert.deepEqual(timers.escaped, []);
  } finally {
    timers.restore();
  }
  assert.deepEqual(firedAt, []);
});

test("core/Schedule applies a new every at once", async () => {
  const start = Date.parse("2026-12-03T12:00:00Z");
  const m = manualClock(start);
  const arrived: Firing[] = [];
  const Every = defineComponent({
    name: "test/Every",
    description: "Sends a new period once told.",
    outPorts: { out: {} },
    async run(ctx) {
      await m.asleep;
      await ctx.send("out", "1s");
    },
  });
  const result = runComponent(coreSchedule(m.clock), {
    iips: { every: "1h", count: 1 },
    feeds: [{ port: "every", component: Every }],
    onArrival: ({ value }) => arrived.push(value as Firing),
  });
  // The first wait is for 13:00; once the period changes, for 12:00:01.
  await m.asleep;
  while (m.deadline !== Date.parse("2026-12-03T12:00:01Z")) {
    await new Promise((r) => setImmediate(r));
  }
  m.tick();
  await result;
  assert.deepEqual(arrived.map((f) => f.time), ["2026-12-03T12:00:01.000Z"]);
});

test("core/Schedule fails the process when given neither cron nor every, or both", async () => {
  const none = await runComponent(coreSchedule(jumpingClock(0)), {
    iips: { count: 1 },
  });
  assert.match(
    none.errors[0]?.message ?? "",
    /needs a cron option .* or an every option/,
  );
  const both = await runComponent(coreSchedule(jumpingClock(0)), {
    iips: { count: 1, every: "1s", cron: "* * * * * *" },
  });
  assert.match(both.errors[0]?.message ?? "", /takes cron or every, not both/);
});

const problems = (text: string) =>
  validateGraph(loadGraph(text), builtins()).map((p) =>
    `${p.line ?? ""}:${p.message}`
  );

test("a bad cron expression is a validation problem naming it, with its line", () => {
  const found = problems(`'1 2 3' -> in Log(core/Output)
'61 * * * * *' -> cron Tick(core/Schedule)
Tick out -> in Log`);
  assert.equal(found.length, 1);
  assert.match(
    found[0],
    /^2:.*"Tick".*invalid cron expression "61 \* \* \* \* \*": Invalid value for second: 61/,
  );
  const words = problems(`'every day' -> cron Tick(core/Schedule)`);
  assert.match(words[0], /invalid cron expression "every day"/);
});

test("an unknown time zone is a validation problem naming it", () => {
  const found = problems(`'0 * * * *' -> cron Tick(core/Schedule)
'Europe/Atlantis' -> timezone Tick`);
  assert.equal(found.length, 1);
  assert.match(
    found[0],
    /^2:.*unknown time zone "Europe\/Atlantis"; use an IANA name/,
  );
  assert.deepEqual(
    problems(`'0 * * * *' -> cron Tick(core/Schedule)
'America/New_York' -> timezone Tick`),
    [],
  );
});

test("a bad every or offset is a validation problem", () => {
  assert.match(
    problems(`'soon' -> every Tick(core/Schedule)`)[0],
    /expected a period of at least 1 ms and at most 366 days, such as 500, "30s", "5m", "1h" or "1d", received string "soon"/,
  );
  assert.equal(CoreSchedule.inPorts.every.parse!("1d"), 86_400_000);
  assert.throws(
    () => CoreSchedule.inPorts.offset.parse!(-5),
    /offset of 0 or more/,
  );
});

test("core/Schedule takes every and offset as numbers of ms in a JSON graph", () => {
  const graph = JSON.stringify({
    processes: { Tick: { component: "core/Schedule" } },
    connections: [
      { data: 300_000, tgt: { process: "Tick", port: "every" } },
      { data: 1500, tgt: { process: "Tick", port: "offset" } },
    ],
  });
  assert.deepEqual(validateGraph(loadGraph(graph), builtins()), []);
});

test("a cron expression that never fires is a validation problem, not a flow that finishes at once", () => {
  // February 31st never comes; a year-limited expression whose year has
  // passed never fires again.
  const feb31 = problems(`'0 0 0 31 2 *' -> cron Tick(core/Schedule)`);
  assert.equal(feb31.length, 1);
  assert.match(feb31[0], /^1:.*cron expression "0 0 0 31 2 \*" never fires/);
  assert.match(
    problems(`'0 0 0 1 1 * 2020' -> cron Tick(core/Schedule)`)[0],
    /"0 0 0 1 1 \* 2020" never fires/,
  );
  assert.deepEqual(problems(`'0 0 0 29 2 *' -> cron Tick(core/Schedule)`), []);
});

/**
 * A year-limited cron expression for a wall time 13.5 h from now (as UTC
 * reads it): still to come in every zone up to 13 h ahead of UTC (the
 * host's too), passed already in `Etc/GMT-14` (14 h ahead).
 */
function passedOnlyFarEast(): string {
  const t = new Date(Date.now() + 13.5 * 3_600_000);
  return `0 ${t.getUTCMinutes()} ${t.getUTCHours()} ${t.getUTCDate()} ${
    t.getUTCMonth() + 1
  } * ${t.getUTCFullYear()}`;
}

test("a cron expression whose last time has passed in its time zone (not in the host's) is a validation problem", () => {
  const cron = passedOnlyFarEast();
  assert.deepEqual(problems(`'${cron}' -> cron Tick(core/Schedule)`), []);
  const found = problems(`'${cron}' -> cron Tick(core/Schedule)
'Etc/GMT-14' -> timezone Tick`);
  assert.equal(found.length, 1);
  assert.match(
    found[0],
    /"Tick".*never fires in time zone "Etc\/GMT-14": no time after now there matches it/,
  );
});

test("core/Schedule fails, not finishes silently, when its settings never fire (a time zone that came while the flow ran)", async () => {
  const now = Date.now();
  const r = await runComponent(coreSchedule(jumpingClock(now)), {
    iips: { cron: passedOnlyFarEast(), timezone: "Etc/GMT-14" },
  });
  assert.deepEqual(r.outputs.out ?? [], []);
  assert.match(
    r.errors[0]?.message ?? "",
    /never fires in time zone "Etc\/GMT-14"/,
  );
  // One that fired and then has no time left is done, without an error.
  const once = await runComponent(coreSchedule(jumpingClock(now)), {
    iips: {
      cron: `0 0 0 1 1 * ${new Date(now).getUTCFullYear() + 1}`,
      timezone: "UTC",
    },
  });
  assert.equal(firings(once.outputs.out ?? []).length, 1);
  assert.deepEqual(once.errors, []);
});

test("core/Schedule refuses a timezone given with every, which is aligned in UTC (it was ignored)", async () => {
  const run = await runComponent(coreSchedule(jumpingClock(0)), {
    iips: { count: 1, every: "1d", timezone: "Europe/Berlin" },
  });
  assert.deepEqual(run.outputs.out, []);
  assert.match(
    run.errors[0]?.message ?? "",
    /timezone applies to cron only; every is aligned to UTC/,
  );
});

test("every and offset have an upper bound: a period past it is a validation problem", () => {
  assert.equal(CoreSchedule.inPorts.every.parse!("366d"), 366 * 86_400_000);
  for (const bad of ["367d", 1e20, Number.MAX_VALUE]) {
    assert.throws(
      () => CoreSchedule.inPorts.every.parse!(bad),
      /at most 366 days/,
      String(bad),
    );
  }
  assert.throws(
    () => CoreSchedule.inPorts.offset.parse!(1e20),
    /at most 366 days/,
  );
});

test("core/Schedule at the daylight saving edges: a skipped local time fires at the jump, a repeated one once", async () => {
  // Berlin, 29 March 2026: 02:00 local jumps to 03:00 (01:00 UTC): 02:30
  // does not exist and fires at the jump, not never. 25 October: 02:00 to
  // 03:00 local comes twice (00:00-01:00 and 01:00-02:00 UTC): 02:30 fires
  // once, the first time, not twice.
  const spring = await runComponent(
    coreSchedule(jumpingClock(Date.parse("2026-03-28T12:00:00Z"))),
    { iips: { cron: "0 30 2 * * *", timezone: "Europe/Berlin", count: 2 } },
  );
  assert.deepEqual(firings(spring.outputs.out).map((f) => f.time), [
    "2026-03-29T01:00:00.000Z",
    "2026-03-30T00:30:00.000Z",
  ]);
  const autumn = await runComponent(
    coreSchedule(jumpingClock(Date.parse("2026-10-24T12:00:00Z"))),
    { iips: { cron: "0 30 2 * * *", timezone: "Europe/Berlin", count: 2 } },
  );
  assert.deepEqual(firings(autumn.outputs.out).map((f) => f.time), [
    "2026-10-25T00:30:00.000Z",
    "2026-10-26T01:30:00.000Z",
  ]);
});

test("core/Schedule re-anchors when the wall clock is set forward while it waits (a device without a real-time clock at boot)", async () => {
  // Booted at 1970; NTP sets the clock to 2026 while the first firing is
  // awaited. Only a second of real (monotonic) time passes: no firing
  // labelled 1970 may be sent, and the 56 years are not "missed".
  let wall = 0;
  let mono = 0;
  let jumped = false;
  const clock: ScheduleClock = {
    now: () => wall,
    monotonic: () => mono,
    sleepUntil(due) {
      if (!jumped) {
        jumped = true;
        wall = Date.parse("2026-12-03T13:00:00.400Z");
        mono += 1000;
        return Promise.resolve(true);
      }
      mono += Math.max(0, due - wall);
      wall = Math.max(wall, due);
      return Promise.resolve(true);
    },
  };
  const { outputs } = await runComponent(coreSchedule(clock), {
    iips: { every: "1m", count: 2 },
  });
  assert.deepEqual(
    firings(outputs.out).map((f) => [f.time, f.missed]),
    [["2026-12-03T13:01:00.000Z", 0], ["2026-12-03T13:02:00.000Z", 0]],
  );
});
