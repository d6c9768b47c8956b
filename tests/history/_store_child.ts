/**
 * A child process for the crash test: appends to a store in the folder
 * given as its argument and flushes in a loop, printing how far each
 * flush got, until it is killed.
 *
 * @module
 */
import process from "node:process";
import { HistoryStore } from "../../src/history/store.ts";
import { SMALL_TIERS } from "./_store_fixtures.ts";

const store = await HistoryStore.open({
  dir: process.argv[process.argv.length - 1],
  flushIntervalMs: 0,
  now: () => 0,
  tiers: SMALL_TIERS,
});
const refs = [0, 1, 2].map((i) =>
  store.seriesRef({ __name__: "crash", i: String(i) }, "counter")
);
let t = 0;
for (;;) {
  for (let k = 0; k < 37; k++) {
    t++;
    for (const r of refs) store.append(r, t * 1000, t * (r + 1));
  }
  await store.flush();
  process.stdout.write(`flushed ${t}\n`);
  await new Promise((resolve) => setTimeout(resolve, 1));
}
