/**
 * The stall watchdog in a process of its own, where nothing else turns the
 * event loop (in `bun test` every test file shares one process, and what
 * another file leaves running turns it). Prints one line `RESULT <json>`.
 *
 *   deno run -A tests/flows/_watchdog_idle_fixture.ts pings
 *   deno run -A tests/flows/_watchdog_idle_fixture.ts blocks
 *
 * `pings`: the pings of 2.6 s idle, then of 2.6 s with `noteLoopTurn()`
 * every 300 ms. `blocks`: the stalls reported (their ms) after 1.5 s idle
 * and a block of 960 ms, then after a block of 2400 ms (threshold 1000).
 *
 * @module
 */
import process from "node:process";
import { noteLoopTurn } from "../../src/engine/activation.ts";
import { StallWatchdog } from "../../src/flows/stall_watchdog.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const block = (ms: number) => {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    // Blocks the thread: the point.
  }
};
const mode = process.argv.slice(2).find((a) => a === "pings" || a === "blocks");

if (mode === "pings") {
  // Pings after 750 ms of quiet.
  const dog = await StallWatchdog.start({ thresholdMs: 1000 });
  await sleep(2600);
  const idle = dog.pings;
  const tick = setInterval(noteLoopTurn, 300);
  await sleep(300);
  const before = dog.pings;
  await sleep(2600);
  const ticking = dog.pings - before;
  clearInterval(tick);
  dog.close();
  console.log(`RESULT ${JSON.stringify({ idle, ticking })}`);
} else if (mode === "blocks") {
  const ends: number[] = [];
  const dog = await StallWatchdog.start({
    thresholdMs: 1000,
    onStallEnd: (s) => ends.push(s.ms),
  });
  await sleep(1500);
  block(960);
  await sleep(1500);
  const short = [...ends];
  block(2400);
  await sleep(1500);
  dog.close();
  console.log(`RESULT ${JSON.stringify({ short, long: ends })}`);
} else {
  throw new Error("usage: _watchdog_idle_fixture.ts pings|blocks");
}
