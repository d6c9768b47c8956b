/**
 * `fs/Tail` on real files in a temporary folder: new lines from the end
 * (or the whole file from the beginning), partial lines waiting for their
 * break, rotation by rename and by truncation, a file that appears later,
 * polling where `fs.watch` cannot watch, back pressure, a clean stop, and
 * the data-folder sandbox at validation.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { spawnSync } from "node:child_process";
import { basename, dirname, join } from "node:path";
import { fsTail } from "../../src/components/fs_tail.ts";
import { FileSandbox } from "../../src/components/file_sandbox.ts";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import { Network } from "../../src/engine/network.ts";
import { meterValues } from "./_meter_values.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { finishedWithin, inTempDir, until, watchTimers } from "./_helpers.ts";

/**
 * The poll interval of these tails: a delay no other timer has, so that a
 * live timer of it says the tail has read what there is and waits.
 */
const POLL_MS = 1234;

/** Whether this process has `path` open (read from /proc/self/fd). */
function isOpen(path: string): boolean {
  const real = realpathSync(dirname(path));
  const target = join(real, basename(path));
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) return true;
    } catch {
      // Closed since the listing.
    }
  }
  return false;
}

/** A running tail of `path` in a sandbox rooted at `dir`, with what it sent. */
async function startTail(
  dir: string,
  path: string,
  controls: Record<string, unknown> = {},
  capacity?: number,
) {
  const lines: string[] = [];
  const errors: string[] = [];
  const Keep = defineComponent({
    name: "test/Keep",
    description: "Keeps the lines.",
    inPorts: { in: {} },
    process(v) {
      lines.push(v as string);
    },
  });
  const timers = watchTimers();
  const net = new Network({
    name: "test",
    processes: [
      { name: "T", component: fsTail(new FileSandbox({ root: dir })) },
      { name: "Keep", component: Keep },
    ],
    connections: [{
      from: { process: "T", port: "out" },
      to: { process: "Keep", port: "in" },
      capacity,
    }],
    initials: Object.entries({ path, pollInterval: POLL_MS, ...controls }).map((
      [port, data],
    ) => ({ data, to: { process: "T", port } })),
  });
  net.on("error", (e) => errors.push(e.message));
  await net.start();
  return {
    lines,
    errors,
    net,
    /** Resolves once the tail has read what there is and waits for more. */
    waiting: () =>
      until(
        () => timers.live().includes(Number(controls.pollInterval ?? POLL_MS)),
        "the tail waits",
      ),
    /** Stops it (a failed tail has finished already). */
    async stop(expected = "stopped") {
      try {
        await net.stop();
        assert.equal(await finishedWithin(net, 5000), expected);
      } finally {
        timers.restore();
      }
    },
  };
}

const TIMEOUT = { timeout: 15_000 };

test(
  "fs/Tail starts at the end: only lines written after it started are sent",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "old 1\nold 2\n");
      const tail = await startTail(dir, "app.log");
      await tail.waiting();
      appendFileSync(file, "new 1\nnew 2\n");
      await until(
        () => tail.lines.length === 2,
        `two lines arrived: ${JSON.stringify(tail)}`,
      );
      appendFileSync(file, "new 3\r\n");
      await until(() => tail.lines.length === 3, "a third line arrived");
      await tail.stop();
      assert.deepEqual(tail.lines, ["new 1", "new 2", "new 3"]);
      assert.deepEqual(tail.errors, []);
    });
  },
);

test(
  "fs/Tail with start beginning sends the lines already there, then the new ones",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "a\nb\n");
      const tail = await startTail(dir, "app.log", { start: "beginning" });
      await until(() => tail.lines.length === 2, "the first lines arrived");
      appendFileSync(file, "c\n");
      await until(() => tail.lines.length === 3, "the new line arrived");
      await tail.stop();
      assert.deepEqual(tail.lines, ["a", "b", "c"]);
    });
  },
);

test(
  "fs/Tail holds a partial last line until its line break is written",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "");
      const tail = await startTail(dir, "app.log", { start: "beginning" });
      await tail.waiting();
      appendFileSync(file, "first\npar");
      await until(() => tail.lines.length === 1, "the whole line arrived");
      appendFileSync(file, "tial\nlast\n");
      await until(() => tail.lines.length === 3, "the rest arrived");
      await tail.stop();
      // "par" was never sent alone.
      assert.deepEqual(tail.lines, ["first", "partial", "last"]);
    });
  },
);

test(
  "fs/Tail follows a rotation by rename: the old file to its end, then the new one from its start",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "");
      const tail = await startTail(dir, "app.log");
      await tail.waiting();
      appendFileSync(file, "1\n");
      await until(() => tail.lines.length === 1, "line 1 arrived");
      renameSync(file, join(dir, "app.log.1"));
      // The writer still had the old file open.
      appendFileSync(join(dir, "app.log.1"), "2\n");
      writeFileSync(file, "3\n4\n");
      await until(
        () => tail.lines.length === 4,
        "the new file's lines arrived",
      );
      appendFileSync(file, "5\n");
      await until(() => tail.lines.length === 5, "line 5 arrived");
      assert.deepEqual(meterValues(tail.net, "T"), {
        fs_tail_lines_total: 5,
        'fs_tail_rotations_total{kind="rename"}': 1,
        'fs_tail_rotations_total{kind="truncate"}': 0,
      });
      await tail.stop();
      assert.deepEqual(tail.lines, ["1", "2", "3", "4", "5"]);
      assert.deepEqual(tail.errors, []);
    });
  },
);

test(
  "fs/Tail follows a truncation: the file is read again from its start",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "a long first line\nanother long line\n");
      const tail = await startTail(dir, "app.log", { start: "beginning" });
      await until(() => tail.lines.length === 2, "the first lines arrived");
      truncateSync(file, 0);
      // Shorter than what was read: seen as a truncation whenever it is checked.
      appendFileSync(file, "x\n");
      await until(
        () => tail.lines.length === 3,
        "the line after truncation arrived",
      );
      assert.deepEqual(meterValues(tail.net, "T"), {
        fs_tail_lines_total: 3,
        'fs_tail_rotations_total{kind="rename"}': 0,
        'fs_tail_rotations_total{kind="truncate"}': 1,
      });
      await tail.stop();
      assert.deepEqual(tail.lines, [
        "a long first line",
        "another long line",
        "x",
      ]);
    });
  },
);

test(
  "fs/Tail sees a truncation followed at once by more bytes than it had read: the new text from its start, no fragment",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "first line\nsecond line\n");
      const tail = await startTail(dir, "app.log", { start: "beginning" });
      await until(() => tail.lines.length === 2, "the first lines arrived");
      await tail.waiting();
      // Truncated and written again (longer than the 23 bytes read) in one
      // call: the tail cannot look in between, and the file only grew.
      writeFileSync(file, "a new first line, longer\nand a second one\n");
      await until(
        () => tail.lines.length === 4,
        `the new text arrived: ${JSON.stringify(tail.lines)}`,
      );
      appendFileSync(file, "then more\n");
      await until(() => tail.lines.length === 5, "the next line arrived");
      assert.deepEqual(meterValues(tail.net, "T"), {
        fs_tail_lines_total: 5,
        'fs_tail_rotations_total{kind="rename"}': 0,
        'fs_tail_rotations_total{kind="truncate"}': 1,
      });
      await tail.stop();
      assert.deepEqual(tail.lines, [
        "first line",
        "second line",
        "a new first line, longer",
        "and a second one",
        "then more",
      ]);
      assert.deepEqual(tail.errors, []);
    });
  },
);

test(
  "fs/Tail sees a truncation followed at once by as many bytes as it had read",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "aaaa\nbbbb\n");
      const tail = await startTail(dir, "app.log", { start: "beginning" });
      await until(() => tail.lines.length === 2, "the first lines arrived");
      await tail.waiting();
      // The same size as before: nothing to read past the point read.
      writeFileSync(file, "cccc\ndddd\n");
      await until(
        () => tail.lines.length === 4,
        `the new text arrived: ${JSON.stringify(tail.lines)}`,
      );
      await tail.stop();
      assert.deepEqual(tail.lines, ["aaaa", "bbbb", "cccc", "dddd"]);
    });
  },
);

test(
  "fs/Tail started at the end sees a truncation and longer text written before its first read",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "old 1\nold 2\n");
      const tail = await startTail(dir, "app.log");
      await tail.waiting();
      writeFileSync(file, "new line 1\nnew line 2\n");
      await until(
        () => tail.lines.length === 2,
        `the new text arrived: ${JSON.stringify(tail.lines)}`,
      );
      await tail.stop();
      assert.deepEqual(tail.lines, ["new line 1", "new line 2"]);
    });
  },
);

test(
  "fs/Tail goes on from the point read when a file is written again with the same text before it",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "kept 1\nkept 2\n");
      const tail = await startTail(dir, "app.log", { start: "beginning" });
      await until(() => tail.lines.length === 2, "the first lines arrived");
      await tail.waiting();
      // What a copy of the file with more after it looks like: nothing
      // before the point read changed, so nothing is sent twice.
      writeFileSync(file, "kept 1\nkept 2\nadded\n");
      await until(() => tail.lines.length === 3, "the added line arrived");
      await tail.stop();
      assert.deepEqual(tail.lines, ["kept 1", "kept 2", "added"]);
      assert.equal(
        meterValues(tail.net, "T")['fs_tail_rotations_total{kind="truncate"}'],
        0,
      );
    });
  },
);

test(
  "fs/Tail waits for a file that does not exist yet and reads it whole once it appears",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const tail = await startTail(dir, "later.log");
      await tail.waiting();
      writeFileSync(join(dir, "later.log"), "hello\n");
      await until(() => tail.lines.length === 1, "the line arrived");
      await tail.stop();
      assert.deepEqual(tail.lines, ["hello"]);
    });
  },
);

test(
  "fs/Tail polls where fs.watch cannot watch (a folder made after the start)",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const tail = await startTail(dir, "logs/app.log", { pollInterval: 20 });
      await tail.waiting();
      mkdirSync(join(dir, "logs"));
      writeFileSync(join(dir, "logs", "app.log"), "polled\n");
      await until(() => tail.lines.length === 1, "the line arrived by polling");
      appendFileSync(join(dir, "logs", "app.log"), "again\n");
      await until(() => tail.lines.length === 2, "the next line arrived");
      await tail.stop();
      assert.deepEqual(tail.lines, ["polled", "again"]);
    });
  },
);

test(
  "fs/Tail waits for room on out: every line arrives, in order",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "big.log");
      const expected = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
      writeFileSync(file, expected.join("\n") + "\n");
      const tail = await startTail(dir, "big.log", { start: "beginning" }, 1);
      await until(
        () => tail.lines.length === expected.length,
        "every line arrived",
        10_000,
      );
      await tail.stop();
      assert.deepEqual(tail.lines, expected);
    });
  },
);

test(
  "fs/Tail stops at once when the network stops and closes the file",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "x\n");
      const tail = await startTail(dir, "app.log");
      await tail.waiting();
      assert.equal(isOpen(file), true);
      await tail.stop();
      // A stop is immediate; the loop closes the file as it ends.
      await until(() => !isOpen(file), "the file is closed");
    });
  },
);

test("fs/Tail's path outside the data folder is a validation problem", async () => {
  await inTempDir((dir) => {
    const registry = builtins({ files: { root: join(dir, "data") } });
    const found = validateGraph(
      loadGraph(`'/etc/passwd' -> path T(fs/Tail)`),
      registry,
    ).map((p) => `${p.line}:${p.message}`);
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /^1:.*"T".*Cannot use file "\/etc\/passwd": it is outside the data folder/,
    );
    assert.deepEqual(
      validateGraph(loadGraph(`'logs/app.log' -> path T(fs/Tail)`), registry)
        .map((p) => p.message),
      [],
    );
  });
});

test("fs/Tail's bad start or poll interval is a validation problem", () => {
  const registry = builtins();
  const found = validateGraph(
    loadGraph(`'x.log' -> path T(fs/Tail)
'middle' -> start T
'1ms' -> pollInterval T`),
    registry,
  ).map((p) => `${p.line}:${p.message}`);
  assert.equal(found.length, 2);
  assert.match(
    found[0],
    /^2:.*expected "end" or "beginning", received string "middle"/,
  );
  assert.match(found[1], /^3:.*poll interval from 10 ms to 1 h/);
});

test("fs/Tail obeys a flow's allow.files", async () => {
  await inTempDir((dir) => {
    const registry = builtins({ files: { root: dir } });
    const found = validateGraph(
      loadGraph(`# @allow files logs/
'logs/app.log' -> path A(fs/Tail)
'secret/key.log' -> path B(fs/Tail)`),
      registry,
    ).map((p) => `${p.line}:${p.message}`);
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /^3:.*"secret\/key.log": it is not in this flow's allow list \(allow.files: "logs\/"\)/,
    );
  });
});

test("fs/Tail fails on a line longer than maxLineLength", TIMEOUT, async () => {
  await inTempDir(async (dir) => {
    writeFileSync(join(dir, "app.log"), "short\n" + "x".repeat(100) + "\n");
    const tail = await startTail(dir, "app.log", {
      start: "beginning",
      maxLineLength: 50,
    });
    await until(() => tail.errors.length === 1, "the process failed");
    await tail.stop("finished");
    assert.deepEqual(tail.lines, ["short"]);
    assert.match(
      tail.errors[0],
      /cannot read "app.log": a line is longer than maxLineLength \(50 characters\)/,
    );
  });
});

test(
  "fs/Tail learns of new lines from fs.watch, without waiting for a poll",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "app.log");
      writeFileSync(file, "");
      // No poll within the test: only an fs.watch event can wake it.
      const tail = await startTail(dir, "app.log", { pollInterval: 3_600_000 });
      await tail.waiting();
      appendFileSync(file, "watched\n");
      await until(() => tail.lines.length === 1, "the line arrived");
      renameSync(file, join(dir, "app.log.1"));
      writeFileSync(file, "rotated\n");
      await until(
        () => tail.lines.length === 2,
        "the rotated file's line arrived",
      );
      await tail.stop();
      assert.deepEqual(tail.lines, ["watched", "rotated"]);
    });
  },
);

test(
  "fs/Tail refuses a FIFO in the data folder at once, never waiting for a writer",
  TIMEOUT,
  async () => {
    await inTempDir(async (dir) => {
      const fifo = join(dir, "pipe");
      const made = spawnSync("mkfifo", [fifo]);
      assert.equal(made.status, 0, String(made.stderr));
      // Opening a FIFO for reading waits for a writer: it held the tail
      // (and its stop) forever, and on Bun two such opens held every file
      // read of the process.
      const tail = await startTail(dir, "pipe", { start: "beginning" });
      try {
        await until(() => tail.errors.length === 1, "the process failed");
        assert.match(
          tail.errors[0],
          /cannot read "pipe": it is not a regular file/,
        );
        await tail.stop("finished");
      } finally {
        // Release an open still waiting, so a failure cannot hang the run.
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // No reader waits (ENXIO): nothing to release.
        }
      }
    });
  },
);
