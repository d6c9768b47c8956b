/**
 * The file components refuse a FIFO in the data folder at once (review of
 * issue 16, R10): opening one waits for the other end, and a write to it
 * blocks the server's thread, so a flow could freeze the server by making
 * one and naming it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runGraph } from "./_graph_helpers.ts";
import { inTempDir } from "./_helpers.ts";

function fifoIn(dir: string): string {
  const fifo = join(dir, "pipe");
  const made = spawnSync("mkfifo", [fifo]);
  assert.equal(made.status, 0, String(made.stderr));
  return fifo;
}

/** Opens and closes the other end, should an open still wait on it. */
function release(fifo: string, flags: number): void {
  try {
    closeSync(openSync(fifo, flags | constants.O_NONBLOCK));
  } catch {
    // Nobody waits on that end.
  }
}

for (
  const [component, graph, end] of [
    [
      "fs/WriteLines",
      (f: string) => `'x' -> in W(fs/WriteLines)\n'${f}' -> path W`,
      constants.O_RDONLY,
    ],
    [
      "fs/ReadLines",
      (f: string) => `'${f}' -> path R(fs/ReadLines) out -> in S(test/Sink)`,
      constants.O_WRONLY,
    ],
    [
      "fs/ReadFile",
      (f: string) => `'${f}' -> in R(fs/ReadFile) out -> in S(test/Sink)`,
      constants.O_WRONLY,
    ],
  ] as const
) {
  test(
    `${component} refuses a FIFO in the data folder at once, never waiting for its other end`,
    {
      timeout: 20_000,
    },
    async () => {
      await inTempDir(async (dir) => {
        const fifo = fifoIn(dir);
        try {
          const run = await runGraph(graph(fifo), { timeoutMs: 5000 });
          assert.equal(run.errors.length, 1, String(run.errors));
          assert.match(
            run.errors[0].message,
            /it is not a regular file|no such device \(a socket, or a FIFO nobody reads/,
          );
        } finally {
          release(fifo, end);
        }
      });
    },
  );
}
