/**
 * Edge cases of the built-in components, as a demanding user meets them:
 * awkward files, timers at their limits, option changes while running,
 * failures in odd places, graph validation of every option, and the NoFlo
 * names run from .fbp text.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  readdirSync,
  readFileSync,
  readlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { builtins } from "../../src/components/mod.ts";
import {
  CoreDelay,
  CoreInterval,
  CoreKick,
  CoreMerge,
} from "../../src/components/core.ts";
import {
  FlowBatch,
  FlowFilter,
  FlowMap,
  FlowThrottle,
} from "../../src/components/flow.ts";
import {
  FsReadFile,
  FsReadLines,
  FsWriteLines,
} from "../../src/components/fs.ts";
import { JsonParse, JsonStringify } from "../../src/components/json.ts";
import { StringsSplit } from "../../src/components/strings.ts";
import { createNetwork } from "../../src/embed.ts";
import { type Component, defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { Network } from "../../src/engine/network.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import {
  fakeContext,
  feedOf,
  finishedWithin,
  inTempDir,
  linesOf,
  runComponent,
} from "./_helpers.ts";

// ---- helpers -------------------------------------------------------------

/** How many of this process's file descriptors are open on `path`. */
function openFdsOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(path)) n++;
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return n;
}

/**
 * Waits until `condition` holds, checking every few milliseconds, and fails
 * with `what` after `limitMs`: for effects nothing can be awaited on, such
 * as a stream closing its file.
 */
async function until(
  condition: () => boolean,
  what: string,
  limitMs = 3000,
): Promise<void> {
  const end = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > end) assert.fail(`${what} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise with its resolve function. */
function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
} {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Watches `setTimeout` while a test runs: which timers are still live (not
 * fired, not cleared), and what a timer callback threw (caught here, so a
 * bug cannot crash the test run; a host would crash).
 */
interface TimerWatch {
  /** Delays of the timers neither fired nor cleared. */
  live(): number[];
  /** Errors thrown out of timer callbacks. */
  escaped: unknown[];
  /** Resolves after the next callback of a timer with this delay has run. */
  fired(delay: number): Promise<void>;
  /** Puts the real functions back. */
  restore(): void;
}

function watchTimers(): TimerWatch {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Map<unknown, number>();
  const escaped: unknown[] = [];
  const waiters = new Map<number, (() => void)[]>();
  const patchedSet = (
    fn: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const delay = ms ?? 0;
    const id: unknown = realSet(() => {
      live.delete(id);
      try {
        fn(...args);
      } catch (e) {
        escaped.push(e);
      }
      for (const w of waiters.get(delay)?.splice(0) ?? []) w();
    }, ms);
    live.set(id, delay);
    return id;
  };
  const patchedClear = (id?: unknown) => {
    live.delete(id);
    realClear(id as Parameters<typeof clearTimeout>[0]);
  };
  globalThis.setTimeout = patchedSet as unknown as typeof setTimeout;
  globalThis.clearTimeout = patchedClear as unknown as typeof clearTimeout;
  return {
    live: () => [...live.values()],
    escaped,
    fired(delay) {
      return new Promise((resolve) => {
        const list = waiters.get(delay) ?? [];
        list.push(resolve);
        waiters.set(delay, list);
      });
    },
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

/** What a graph run produced. */
interface GraphRun {
  /** Values taken by each `test/Sink` process, by process name. */
  sinks: Record<string, unknown[]>;
  /** The network's error events. */
  errors: ProcessError[];
  /** The final state. */
  state: string;
  /** The network, for stats. */
  net: Network;
}

/**
 * Runs .fbp text with the built-ins plus `test/Sink` (keeps what it takes,
 * by process name) and `extra` components, until it finishes; stops it and
 * fails after `timeoutMs`.
 */
async function runGraph(
  text: string,
  options: {
    extra?: Component[];
    timeoutMs?: number;
    onSink?: (process: string, value: unknown, net: Network) => void;
  } = {},
): Promise<GraphRun> {
  const sinks: Record<string, unknown[]> = {};
  const box: { net?: Network } = {};
  const registry = builtins().register(defineComponent({
    name: "test/Sink",
    description: "Keeps every message, by process name.",
    inPorts: { in: { description: "Messages to keep." } },
    process(value, ctx) {
      (sinks[ctx.process] ??= []).push(value);
      options.onSink?.(ctx.process, value, box.net!);
    },
  }));
  for (const c of options.extra ?? []) registry.register(c);
  // Trailing indentation is trimmed: the .fbp reader refuses it (see the
  // test "createNetwork reads .fbp text whose last line is only indentation").
  const net = box.net = createNetwork(text, {
    registry,
  });
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  const timeoutMs = options.timeoutMs ?? 5000;
  const state = await finishedWithin(net, timeoutMs);
  if (state === "timeout") {
    assert.fail(
      `the graph did not finish within ${timeoutMs} ms; sinks: ${
        JSON.stringify(sinks)
      }`,
    );
  }
  return { sinks, errors, state, net };
}

/** The problems `validateGraph` finds in .fbp text, against the built-ins. */
function problemsOf(text: string): string[] {
  return validateGraph(loadGraph(text), builtins())
    .map((p) => p.message);
}

/** Stats of process `name`. */
function statsOf(net: Network, name: string) {
  const p = net.stats().processes.find((s) => s.name === name);
  assert.ok(p, `process ${name} exists`);
  return p;
}

// ---- fs/ReadLines --------------------------------------------------------

test("fs/ReadLines strips \\r\\n and sends no empty line for a final \\r\\n", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "crlf.txt");
    writeFileSync(path, "one\r\ntwo\r\n\r\nfour\r\n");
    const { outputs, errors } = await runComponent(FsReadLines, {
      iips: { path },
    });
    assert.deepEqual(outputs.out, ["one", "two", "", "four"]);
    assert.deepEqual(errors, []);
  });
});

test("fs/ReadLines sends the last line of a file that has no trailing newline", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "tail.txt");
    writeFileSync(path, "a\nb");
    const { outputs } = await runComponent(FsReadLines, { iips: { path } });
    assert.deepEqual(outputs.out, ["a", "b"]);
  });
});

test("fs/ReadLines sends one empty line per line break of a file of only newlines", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "blank.txt");
    writeFileSync(path, "\n\n\n");
    const { outputs, state } = await runComponent(FsReadLines, {
      iips: { path },
    });
    assert.deepEqual(outputs.out, ["", "", ""]);
    assert.equal(state, "finished");
  });
});

test("fs/ReadLines keeps a lone \\r inside a line: only \\n and \\r\\n end a line", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "cr.txt");
    writeFileSync(path, "field one\rstill line one\nline two\n");
    const { outputs } = await runComponent(FsReadLines, { iips: { path } });
    assert.deepEqual(outputs.out, ["field one\rstill line one", "line two"]);
  });
});

test("fs/ReadLines sends a 10 MB line whole", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "wide.txt");
    const line = "0123456789".repeat(1024 * 1024);
    writeFileSync(path, line + "\nend");
    const { outputs } = await runComponent(FsReadLines, {
      iips: { path },
      timeoutMs: 20_000,
    });
    const got = outputs.out as string[];
    assert.equal(got.length, 2);
    assert.equal(got[0].length, line.length);
    assert.ok(got[0] === line, "the long line arrived unchanged");
    assert.equal(got[1], "end");
  });
});

test("fs/ReadLines keeps multi-byte UTF-8 characters that straddle read chunks whole", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "utf8.txt");
    // Each 4 KiB boundary (so every chunk size that is a multiple of it)
    // falls inside a 2-, 3- or 4-byte character, at every possible byte.
    const chars = ["é", "€", "😀"];
    const lines: string[] = [];
    let bytes = 0;
    for (let m = 1; m <= 300; m++) {
      const ch = chars[m % 3];
      const size = Buffer.byteLength(ch);
      const into = 1 + (Math.floor(m / 3) % (size - 1)); // bytes before the boundary
      const filler = m * 4096 - into - bytes;
      const line = "x".repeat(filler) + ch + "ünï";
      lines.push(line);
      bytes += Buffer.byteLength(line) + 1;
    }
    writeFileSync(path, lines.join("\n") + "\n");
    const { outputs } = await runComponent(FsReadLines, {
      iips: { path },
      capacity: 3,
    });
    assert.equal((outputs.out as string[]).length, lines.length);
    assert.ok(
      !(outputs.out as string[]).some((l) => l.includes("\uFFFD")),
      "no replacement character",
    );
    assert.deepEqual(outputs.out, lines);
  });
});

test("fs/ReadLines treats a \\r\\n split across read chunks as one line break", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "crlf-split.txt");
    // "\r" is the last byte before every 4 KiB boundary, "\n" the first after.
    const lines: string[] = [];
    let bytes = 0;
    for (let m = 1; m <= 300; m++) {
      const line = "y".repeat(m * 4096 - 1 - bytes);
      lines.push(line);
      bytes += line.length + 2;
    }
    writeFileSync(path, lines.join("\r\n") + "\r\n");
    const { outputs } = await runComponent(FsReadLines, {
      iips: { path },
      capacity: 3,
    });
    assert.equal((outputs.out as string[]).length, lines.length);
    assert.deepEqual(outputs.out, lines);
  });
});

test("fs/ReadLines reports a directory on its error port with a sentence", async () => {
  await inTempDir(async (dir) => {
    const { outputs, errors, state } = await runComponent(FsReadLines, {
      iips: { path: dir },
      capture: ["out", "error"],
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(outputs.out, []);
    assert.equal(outputs.error.length, 1);
    assert.equal(
      (outputs.error[0] as Error).message,
      `process "T" failed: cannot read ${
        JSON.stringify(dir)
      }: it is a directory`,
    );
    assert.equal(state, "finished");
  });
});

test("fs/ReadLines sends every line of a file that is deleted while it is read", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "doomed.txt");
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    writeFileSync(path, lines.join("\n") + "\n");
    const { outputs, errors } = await runComponent(FsReadLines, {
      iips: { path },
      capacity: 1,
      onArrival: ({ value }) => {
        if (value === "line 10") unlinkSync(path);
      },
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(outputs.out, lines);
  });
});

test("fs/ReadLines closes its file when the network stops mid-read, and sends nothing after", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "long.txt");
    writeFileSync(
      path,
      Array.from({ length: 200_000 }, (_, i) => `${i}`).join("\n"),
    );
    let net!: Network;
    const { outputs, state } = await runComponent(FsReadLines, {
      iips: { path },
      capacity: 1,
      onArrival: ({ value }, n) => {
        net = n;
        if (value === "100") void n.stop();
      },
    });
    assert.equal(state, "stopped");
    const sentAtStop = statsOf(net, "T").messagesOut.out;
    const arrived = outputs.out.length;
    await until(() => openFdsOn(path) === 0, "the file was closed");
    assert.equal(statsOf(net, "T").messagesOut.out, sentAtStop);
    assert.equal(outputs.out.length, arrived);
    assert.ok(arrived < 200_000);
  });
});

test("fs/ReadLines closes its file when the network drains mid-read", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "long.txt");
    writeFileSync(
      path,
      Array.from({ length: 200_000 }, (_, i) => `${i}`).join("\n"),
    );
    let drained: Promise<{ drained: boolean }> | undefined;
    const { outputs, state } = await runComponent(FsReadLines, {
      iips: { path },
      capacity: 1,
      onArrival: ({ value }, net) => {
        if (value === "100") drained = net.drain(3000);
      },
    });
    assert.equal(state, "finished");
    assert.equal((await drained!).drained, true);
    assert.ok(outputs.out.length < 200_000);
    await until(() => openFdsOn(path) === 0, "the file was closed");
  });
});

test("fs/ReadLines into fs/WriteLines copies a file line for line, CRLF made LF", async () => {
  await inTempDir(async (dir) => {
    const src = join(dir, "in.txt");
    const dst = join(dir, "out.txt");
    const lines = Array.from(
      { length: 30_000 },
      (_, i) => `${i} ünïcødé ${"z".repeat(i % 97)}`,
    );
    writeFileSync(src, lines.join("\r\n"));
    const { state, errors } = await runGraph(`
      '${src}' -> path Read(fs/ReadLines) out -> in Write(fs/WriteLines)
      '${dst}' -> path Write
    `);
    assert.equal(state, "finished");
    assert.deepEqual(errors, []);
    assert.deepEqual(linesOf(dst), lines);
  });
});

test("fs/ReadLines reads the path an upstream process sends to its path port", async () => {
  // Validation accepts a connected path ("connect it or give it an IIP").
  await inTempDir(async (dir) => {
    const path = join(dir, "named.txt");
    writeFileSync(path, "first\nsecond\n");
    const { sinks, errors } = await runGraph(`
      '${path}' -> in Name(core/Repeat) out -> path Read(fs/ReadLines)
      Read out -> in Lines(test/Sink)
    `);
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.deepEqual(sinks.Lines, ["first", "second"]);
  });
});

test("fs/ReadLines reads only a bounded part of a large file ahead of a stalled consumer", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "huge.txt");
    const size = 50_000_000;
    writeFileSync(path, ("x".repeat(99) + "\n").repeat(size / 100));
    const stalled = deferred();
    let taken = 0;
    const Stalling = defineComponent({
      name: "test/Stalling",
      description: "Takes 1000 lines, then never finishes the next.",
      inPorts: { in: {} },
      process() {
        if (++taken < 1000) return;
        stalled.resolve();
        return new Promise<void>(() => {});
      },
    });
    const net = new Network({
      name: "read-ahead",
      processes: [
        { name: "R", component: FsReadLines },
        { name: "S", component: Stalling },
      ],
      connections: [{
        from: { process: "R", port: "out" },
        to: { process: "S", port: "in" },
        capacity: 1,
      }],
      initials: [{ data: path, to: { process: "R", port: "path" } }],
    });
    await net.start();
    await stalled.promise;
    // Give the reader every chance to run ahead.
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 5));
    const read = filePosition(path);
    await net.stop();
    assert.ok(read !== undefined, "the file is open");
    assert.ok(read < size / 10, `read ${read} of ${size} bytes ahead`);
  });
});

/** The read position of this process's open descriptor on `path`. */
function filePosition(path: string): number | undefined {
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== path) continue;
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
      return Number(/pos:\s+(\d+)/.exec(info)?.[1]);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return undefined;
}

// ---- fs/WriteLines -------------------------------------------------------

test("fs/WriteLines with append false truncates a longer existing file", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "log.txt");
    writeFileSync(path, "a much longer old line\nand another one\n");
    await runComponent(FsWriteLines, {
      iips: { path, append: false },
      input: ["new"],
    });
    assert.equal(readFileSync(path, "utf8"), "new\n");
  });
});

test("fs/WriteLines appends across two runs of a network", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "log.txt");
    await runComponent(FsWriteLines, { iips: { path }, input: ["1", "2"] });
    await runComponent(FsWriteLines, { iips: { path }, input: ["3"] });
    assert.deepEqual(linesOf(path), ["1", "2", "3"]);
  });
});

test("fs/WriteLines writes an object whose strings hold line breaks as one line of JSON", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "obj.txt");
    await runComponent(FsWriteLines, {
      iips: { path },
      input: [{ text: "a\nb\r\nc" }, ["x\ny"]],
    });
    assert.deepEqual(linesOf(path), [
      '{"text":"a\\nb\\r\\nc"}',
      '["x\\ny"]',
    ]);
  });
});

test("fs/WriteLines writes a string that holds a line break as it is", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "str.txt");
    await runComponent(FsWriteLines, {
      iips: { path },
      input: ["a\nb", "c"],
    });
    assert.equal(readFileSync(path, "utf8"), "a\nb\nc\n");
  });
});

test("fs/WriteLines fails a value JSON cannot hold with a sentence, and writes the rest", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bad.txt");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const { errors } = await runComponent(FsWriteLines, {
      iips: { path },
      input: ["a", 10n, cyclic, "b"],
    });
    assert.deepEqual(linesOf(path), ["a", "b"]);
    assert.equal(errors.length, 2);
    for (const e of errors) {
      // The same words on every runtime, naming what could not be written.
      assert.match(
        e.message,
        /^process "T" failed on in-port "in": cannot write (bigint 10|object) /,
      );
    }
  });
});

test("fs/WriteLines reports a path that is a directory with a sentence", async () => {
  await inTempDir(async (dir) => {
    const { errors } = await runComponent(FsWriteLines, {
      iips: { path: dir },
      input: ["a"],
    });
    assert.equal(errors.length, 1);
    assert.equal(
      errors[0].message,
      `process "T" failed on in-port "in": cannot write ${
        JSON.stringify(dir)
      }: it is a directory`,
    );
  });
});

test("fs/WriteLines reports a missing directory for an empty input too", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "missing", "out.txt");
    const { errors, state } = await runComponent(FsWriteLines, {
      iips: { path },
      input: [],
    });
    assert.equal(state, "finished");
    assert.equal(errors.length, 1);
    assert.equal(
      errors[0].message,
      `process "T" failed: cannot write ${
        JSON.stringify(path)
      }: no such directory`,
    );
  });
});

test("fs/WriteLines writes to /dev/null without an error", async () => {
  // A device cannot be fsync'ed (EINVAL): that is no failure of the write.
  const { errors, state } = await runComponent(FsWriteLines, {
    iips: { path: "/dev/null" },
    input: ["a", "b"],
  });
  assert.equal(state, "finished");
  assert.deepEqual(errors.map((e) => e.message), []);
});

test("fs/WriteLines has every line it took on disk after a drain", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "drained.txt");
    const Endless = defineComponent({
      name: "test/Endless",
      description: "Sends line 0, line 1, ... until stopped.",
      outPorts: { out: {} },
      async run(ctx) {
        for (let i = 0; !ctx.signal.aborted; i++) {
          await ctx.send("out", `line ${i} ${"w".repeat(200)}`);
        }
      },
    });
    const net = new Network({
      name: "drain",
      processes: [
        { name: "S", component: Endless },
        { name: "W", component: FsWriteLines },
      ],
      connections: [{
        from: { process: "S", port: "out" },
        to: { process: "W", port: "in" },
      }],
      initials: [{ data: path, to: { process: "W", port: "path" } }],
    });
    await net.start();
    await until(
      () => statsOf(net, "W").messagesIn.in > 2000,
      "2000 lines were taken",
    );
    const result = await net.drain(3000);
    assert.equal(result.drained, true);
    const taken = statsOf(net, "W").messagesIn.in;
    assert.deepEqual(
      linesOf(path),
      Array.from({ length: taken }, (_, i) => `line ${i} ${"w".repeat(200)}`),
    );
  });
});

// ---- fs/ReadFile ---------------------------------------------------------

test("fs/ReadFile decodes a file with every encoding its port accepts", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bytes.bin");
    const bytes = new Uint8Array([
      ...new TextEncoder().encode("hé€😀"),
      0xff,
      0x00,
      0x80,
      0x41,
    ]);
    writeFileSync(path, bytes);
    const encodings = [
      "utf-8",
      "utf8",
      "UTF-8",
      "utf16le",
      "utf-16le",
      "ucs2",
      "ucs-2",
      "latin1",
      "binary",
      "ascii",
      "base64",
      "base64url",
      "hex",
    ];
    const failed: string[] = [];
    for (const encoding of encodings) {
      const { outputs, errors } = await runComponent(FsReadFile, {
        iips: { encoding },
        input: [path],
      });
      const canonical = encoding.toLowerCase().replace(
        /^(utf)-(16le)$|^(ucs)-2$/,
        (_, a, b, c) => c ? "ucs2" : `${a}${b}`,
      ) as BufferEncoding;
      const expected = Buffer.from(bytes).toString(canonical);
      if (errors.length > 0 || outputs.out[0] !== expected) {
        failed.push(
          `${encoding}: ${
            errors.length > 0 ? errors[0].message : JSON.stringify(outputs.out)
          }`,
        );
      }
    }
    assert.deepEqual(failed, []);
  });
});

test("fs/ReadFile reports a directory on its error port and reads the next path", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "f.txt");
    writeFileSync(file, "ok");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [dir, file],
      capture: ["out", "error"],
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(outputs.out, ["ok"]);
    assert.equal(outputs.error.length, 1);
    assert.equal(
      (outputs.error[0] as Error).message,
      `process "T" failed on in-port "in": cannot read ${
        JSON.stringify(dir)
      }: it is a directory`,
    );
  });
});

test("fs/ReadFile fails a path that is not a string and reads the next", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "f.txt");
    writeFileSync(file, "ok");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [42, file],
    });
    assert.deepEqual(outputs.out, ["ok"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /expected a file path, received number 42/);
  });
});

// ---- flow/Batch ----------------------------------------------------------

test("flow/Batch with size 1 sends each message as its own array", async () => {
  const { outputs } = await runComponent(FlowBatch, {
    iips: { size: 1 },
    input: ["a", "b", "c"],
  });
  assert.deepEqual(outputs.out, [["a"], ["b"], ["c"]]);
});

test("flow/Batch sends the rest when the input ends and leaves no timer behind", async () => {
  const timers = watchTimers();
  try {
    const { outputs, state } = await runComponent(FlowBatch, {
      iips: { size: 10, timeout: "1h" },
      input: [1, 2, 3],
    });
    assert.equal(state, "finished");
    assert.deepEqual(outputs.out, [[1, 2, 3]]);
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch clears its timer when the network stops", async () => {
  const timers = watchTimers();
  try {
    const stopped = deferred();
    const Source = defineComponent({
      name: "test/Two",
      description: "Sends two values, then waits until stopped.",
      outPorts: { out: {} },
      async run(ctx) {
        await ctx.send("out", 1);
        await ctx.send("out", 2);
        await new Promise((r) =>
          ctx.signal.addEventListener("abort", r, { once: true })
        );
      },
    });
    const net = new Network({
      name: "batch-stop",
      processes: [
        { name: "S", component: Source },
        { name: "B", component: FlowBatch },
      ],
      connections: [{
        from: { process: "S", port: "out" },
        to: { process: "B", port: "in" },
      }],
      initials: [
        { data: 10, to: { process: "B", port: "size" } },
        { data: "1h", to: { process: "B", port: "timeout" } },
      ],
    });
    net.on("state", (s) => s === "stopped" && stopped.resolve());
    await net.start();
    await until(() => statsOf(net, "B").messagesIn.in === 2, "B took both");
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), [3_600_000]);
    await net.stop();
    await stopped.promise;
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch with a timeout beyond 24.8 days does not send a partial batch early", async () => {
  // 600 h is more than setTimeout's 2^31-1 ms: a raw timer fires at once.
  const Pausing = defineComponent({
    name: "test/Pausing",
    description: "Sends 1, waits 100 ms, sends 2.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", 1);
      await new Promise((r) => setTimeout(r, 100));
      await ctx.send("out", 2);
    },
  });
  const { outputs } = await runComponent(FlowBatch, {
    iips: { size: 10, timeout: "600h" },
    feeds: [{ port: "in", component: Pausing }],
  });
  assert.deepEqual(outputs.out, [[1, 2]]);
});

test("flow/Batch sends by timeout and by size in order when both happen", async () => {
  const timers = watchTimers();
  try {
    const Source = defineComponent({
      name: "test/Stepper",
      description: "Sends 1, waits for the timer's batch, then 2 to 4.",
      outPorts: { out: {} },
      async run(ctx) {
        const fired = timers.fired(7);
        await ctx.send("out", 1);
        await fired;
        for (const v of [2, 3, 4]) await ctx.send("out", v);
      },
    });
    const { outputs } = await runComponent(FlowBatch, {
      iips: { size: 2, timeout: 7 },
      feeds: [{ port: "in", component: Source }],
    });
    assert.deepEqual(outputs.out, [[1], [2, 3], [4]]);
    assert.deepEqual(timers.escaped, []);
  } finally {
    timers.restore();
  }
});

test("flow/Batch reports a batch its timer could not send instead of throwing from the timer", async () => {
  const gate = deferred();
  const took = deferred();
  const Gated = defineComponent({
    name: "test/Gated",
    description: "Holds its first message until the gate opens.",
    inPorts: { in: {} },
    process() {
      took.resolve();
      return gate.promise;
    },
  });
  const timers = watchTimers();
  try {
    const Source = defineComponent({
      name: "test/Stepper",
      description: "Sends one value per timer batch.",
      outPorts: { out: {} },
      async run(ctx) {
        await ctx.send("out", "a");
        await took.promise;
        for (const v of ["b", "c"]) {
          const fired = timers.fired(7);
          await ctx.send("out", v);
          await fired;
        }
        gate.resolve();
      },
    });
    const net = new Network({
      name: "batch-overflow",
      processes: [
        { name: "S", component: Source },
        { name: "B", component: FlowBatch },
        { name: "K", component: Gated },
      ],
      connections: [
        {
          from: { process: "S", port: "out" },
          to: { process: "B", port: "in" },
        },
        {
          from: { process: "B", port: "out" },
          to: { process: "K", port: "in" },
          capacity: 1,
          policy: "error",
        },
      ],
      initials: [
        { data: 10, to: { process: "B", port: "size" } },
        { data: 7, to: { process: "B", port: "timeout" } },
      ],
    });
    const errors: ProcessError[] = [];
    net.on("error", (e) => errors.push(e));
    await net.start();
    assert.equal(await net.finished, "finished");
    // A host would have crashed on an exception thrown from the timer.
    assert.deepEqual(
      timers.escaped.map((e) => (e as Error).message),
      [],
      "nothing thrown out of a timer callback",
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, "overflow");
  } finally {
    timers.restore();
  }
});

// ---- flow/Throttle -------------------------------------------------------

test("flow/Throttle applies a raised rate to the next message", async () => {
  const arrived = deferred();
  const Source = defineComponent({
    name: "test/RateChanger",
    description: "Sends m1, raises the rate once it arrived, sends m2 and m3.",
    outPorts: { out: {}, rate: {} },
    async run(ctx) {
      await ctx.send("out", "m1");
      await arrived.promise;
      await ctx.send("rate", 1000);
      await ctx.send("out", "m2");
      await ctx.send("out", "m3");
    },
  });
  const { sinks, errors } = await runGraph(
    `
    '0.01' -> rate T(flow/Throttle)
    S(test/RateChanger) out -> in T out -> in K(test/Sink)
    S rate -> rate T
    `,
    {
      extra: [Source],
      timeoutMs: 3000,
      onSink: () => arrived.resolve(),
    },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.K, ["m1", "m2", "m3"]);
});

test("flow/Throttle spaces the next message by a lowered rate", async () => {
  const { ctx, sent, setControl } = fakeContext(FlowThrottle, { rate: 100 });
  const t0 = performance.now();
  const a = FlowThrottle.process!(1, ctx);
  const b = FlowThrottle.process!(2, ctx);
  setControl("rate", 50);
  const c = FlowThrottle.process!(3, ctx);
  await Promise.all([a, b, c]);
  assert.deepEqual(sent, [["out", 1], ["out", 2], ["out", 3]]);
  // 1 at once, 2 after 1/100 s, and 3, sent with the rate at 50/s, 1/50 s
  // after 2: no two messages closer than the rate in force allows.
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 30, `three messages took only ${elapsed} ms`);
});

test("flow/Throttle at a very high rate forwards every message in order", async () => {
  const values = Array.from({ length: 500 }, (_, i) => i);
  const { outputs, errors } = await runComponent(FlowThrottle, {
    iips: { rate: 1e9 },
    input: values,
    capacity: 2,
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, values);
});

// ---- core/Delay ----------------------------------------------------------

test("core/Delay keeps order when its delay changes while messages wait", async () => {
  const Source = defineComponent({
    name: "test/DelayChanger",
    description: "Sends with a long, then a short, then a long delay.",
    outPorts: { out: {}, delay: {} },
    async run(ctx) {
      await ctx.send("out", 1);
      await ctx.send("delay", 0);
      await ctx.send("out", 2);
      await ctx.send("delay", "20ms");
      await ctx.send("out", 3);
      await ctx.send("delay", 0);
      await ctx.send("out", 4);
    },
  });
  const { sinks, errors } = await runGraph(
    `
    '40ms' -> delay D(core/Delay)
    S(test/DelayChanger) out -> in D out -> in K(test/Sink)
    S delay -> delay D
    `,
    { extra: [Source] },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(sinks.K, [1, 2, 3, 4]);
});

test("core/Delay delivers the messages still waiting when the network drains", async () => {
  const kept: unknown[] = [];
  const net = new Network({
    name: "delay-drain",
    processes: [
      { name: "S", component: feedOf([1, 2, 3]) },
      { name: "D", component: CoreDelay },
      { name: "K", component: keeper(kept) },
    ],
    connections: [
      { from: { process: "S", port: "out" }, to: { process: "D", port: "in" } },
      { from: { process: "D", port: "out" }, to: { process: "K", port: "in" } },
    ],
    initials: [{ data: "50ms", to: { process: "D", port: "delay" } }],
  });
  await net.start();
  await until(() => statsOf(net, "D").messagesIn.in === 3, "D took all 3");
  assert.deepEqual(kept, [], "nothing before the delay");
  const result = await net.drain(3000);
  assert.equal(result.drained, true);
  assert.deepEqual(kept, [1, 2, 3]);
});

test("core/Delay fed by an IIP delivers its message when the network drains", async () => {
  // NoFlo's classic "'x' -> in D(core/RepeatDelayed)": D has no upstream
  // process, but its message is in-flight work that drain promises to finish.
  const kept: unknown[] = [];
  const net = new Network({
    name: "delay-iip-drain",
    processes: [
      { name: "D", component: CoreDelay },
      { name: "K", component: keeper(kept) },
    ],
    connections: [
      { from: { process: "D", port: "out" }, to: { process: "K", port: "in" } },
    ],
    initials: [
      { data: "50ms", to: { process: "D", port: "delay" } },
      { data: "x", to: { process: "D", port: "in" } },
    ],
  });
  await net.start();
  const result = await net.drain(3000);
  assert.equal(result.drained, true);
  assert.deepEqual(kept, ["x"]);
});

/** A sink that pushes every message onto `kept`. */
function keeper(kept: unknown[]): Component {
  return defineComponent({
    name: "test/Keep",
    description: "Keeps values.",
    inPorts: { in: {} },
    process(v) {
      kept.push(v);
    },
  });
}

test("core/Delay keeps order beyond 1000 waiting messages", async () => {
  const values = Array.from({ length: 2500 }, (_, i) => i);
  const { outputs, errors } = await runComponent(CoreDelay, {
    iips: { delay: "10ms" },
    input: values,
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, values);
});

test("core/Delay and flow/Throttle leave no timer behind when the network stops", async () => {
  const timers = watchTimers();
  try {
    const net = createNetwork(`
      'a' -> in D(core/Delay) out -> in Drop(core/Drop)
      '1h' -> delay D
      'b' -> in T(flow/Throttle) out -> in Drop2(core/Drop)
      'c' -> in T
      '0.001' -> rate T
    `.trimEnd());
    await net.start();
    await until(
      () => timers.live().filter((ms) => ms >= 1000).length === 2,
      "both wait",
    );
    await net.stop();
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});

// ---- core/Interval -------------------------------------------------------

test("core/Interval with count 1 sends one tick and finishes", async () => {
  const { outputs, state } = await runComponent(CoreInterval, {
    iips: { interval: 1, count: 1 },
  });
  assert.deepEqual(outputs.out, [0]);
  assert.equal(state, "finished");
});

test("core/Interval with count 0 ticks on until the network drains", async () => {
  const { outputs, state } = await runComponent(CoreInterval, {
    iips: { interval: 1, count: 0 },
    onArrival: ({ value }, net) => {
      if (value === 20) void net.drain(1000);
    },
  });
  assert.deepEqual(outputs.out, Array.from({ length: 21 }, (_, i) => i));
  assert.equal(state, "finished");
});

test("core/Interval applies a shortened interval without waiting out the old one", async () => {
  const Source = defineComponent({
    name: "test/Faster",
    description: "Sets the interval to 5 ms.",
    outPorts: { out: {} },
    async run(ctx) {
      await ctx.send("out", "5ms");
    },
  });
  // Tick starts first, so it is already waiting out its hour.
  const { sinks } = await runGraph(
    `
    '1h' -> interval Tick(core/Interval)
    '2' -> count Tick
    Tick out -> in K(test/Sink)
    S(test/Faster) out -> interval Tick
    `,
    { extra: [Source], timeoutMs: 3000 },
  );
  assert.deepEqual(sinks.K, [0, 1]);
});

test("core/Interval with a 1 h interval stops at once on drain, leaving no timer", async () => {
  const timers = watchTimers();
  try {
    const net = createNetwork(
      `'1h' -> interval Tick(core/Interval) out -> in Drop(core/Drop)`,
    );
    await net.start();
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), [3_600_000]);
    const result = await net.drain(3000);
    assert.equal(result.drained, true);
    assert.equal(net.state, "finished");
    assert.deepEqual(timers.live().filter((ms) => ms >= 1000), []);
  } finally {
    timers.restore();
  }
});

// ---- flow/Map and flow/Filter --------------------------------------------

test("flow/Map sends an async fn's rejection to its error port and maps the next", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: {
      fn: async (v: unknown) => {
        await Promise.resolve();
        if (v === 2) throw new RangeError("no twos");
        return (v as number) * 2;
      },
    },
    input: [1, 2, 3],
    capture: ["out", "error"],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [2, 6]);
  assert.equal(outputs.error.length, 1);
  const e = outputs.error[0] as ProcessError;
  assert.equal(e.input, 2);
  assert.ok(e.cause instanceof RangeError);
  assert.equal(e.message, 'process "T" failed on in-port "in": no twos');
});

test("flow/Map reports a JSONata type error at evaluation with JSONata's own words", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { expr: "name + 1" },
    input: [{ name: "bolt" }, { name: 2 }],
    capture: ["out", "error"],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [3]);
  assert.equal(outputs.error.length, 1);
  assert.equal(
    (outputs.error[0] as Error).message,
    'process "T" failed on in-port "in": JSONata expression failed at position 6: The left side of the "+" operator must evaluate to a number',
  );
});

test("flow/Map reports calling an unknown JSONata function with a sentence", async () => {
  const { errors } = await runComponent(FlowMap, {
    iips: { expr: "$nosuch(x)" },
    input: [{ x: 1 }],
  });
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /JSONata expression failed at position \d+: Attempted to invoke a non-function/,
  );
});

test("flow/Map sends undefined when a JSONata path matches nothing", async () => {
  const { outputs, errors } = await runComponent(FlowMap, {
    iips: { expr: "missing.field" },
    input: [{ a: 1 }, { missing: { field: 7 } }],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [undefined, 7]);
});

test("flow/Filter rejects a message whose expr evaluates to undefined", async () => {
  const { outputs } = await runComponent(FlowFilter, {
    iips: { expr: "flag" },
    input: [{ flag: true }, {}, { flag: 0 }],
  });
  assert.deepEqual(outputs.out, [{ flag: true }]);
  assert.deepEqual(outputs.rejected, [{}, { flag: 0 }]);
});

test("flow/Filter sends a JSONata evaluation error to its error port and tests the next", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: { expr: "n > 1" },
    input: [{ n: "x" }, { n: 5 }],
    capture: ["out", "rejected", "error"],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(outputs.out, [{ n: 5 }]);
  assert.deepEqual(outputs.rejected, []);
  assert.equal(outputs.error.length, 1);
  assert.match(
    (outputs.error[0] as Error).message,
    /JSONata expression failed at position \d+: /,
  );
});

test("flow/Filter with a throwing fn sends the error and tests the next", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: {
      fn: (v: unknown) => {
        if (v === null) throw new TypeError("null reading");
        return true;
      },
    },
    input: [1, null, 2],
  });
  assert.deepEqual(outputs.out, [1, 2]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].input, null);
  assert.match(errors[0].message, /null reading$/);
});

test("flow/Filter with both fn and expr fails every message with a sentence", async () => {
  const { outputs, errors } = await runComponent(FlowFilter, {
    iips: { fn: () => true, expr: "true" },
    input: [1, 2],
  });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 2);
  for (const e of errors) {
    assert.match(
      e.message,
      /flow\/Filter takes an fn or an expr option, not both$/,
    );
  }
});

// ---- json ----------------------------------------------------------------

test("json/Parse sends an empty string to the error port", async () => {
  const { outputs, errors } = await runComponent(JsonParse, {
    input: ["", " 1 "],
  });
  assert.deepEqual(outputs.out, [1]);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /cannot parse JSON from string "": /);
});

test("json/Stringify fails a cyclic value saying it cannot write it as JSON", async () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const { outputs, errors } = await runComponent(JsonStringify, {
    input: [cyclic, 1],
  });
  assert.deepEqual(outputs.out, ["1"]);
  assert.equal(errors.length, 1);
  // The same sentence on every runtime (the runtimes' own texts differ).
  assert.match(
    errors[0].message,
    /^process "T" failed on in-port "in": cannot write object as JSON/,
  );
});

test("json/Stringify fails a bigint saying it cannot write it as JSON", async () => {
  const { errors } = await runComponent(JsonStringify, { input: [{ n: 1n }] });
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /^process "T" failed on in-port "in": cannot write object as JSON/,
  );
});

test("json/Stringify reads an indent IIP written in .fbp as a number of spaces", async () => {
  const { sinks } = await runGraph(`
    '{"a":1}' -> in P(json/Parse) out -> in S(json/Stringify) out -> in K(test/Sink)
    '2' -> indent S
  `);
  assert.deepEqual(sinks.K, ['{\n  "a": 1\n}']);
});

// ---- strings/Split -------------------------------------------------------

test("strings/Split sends empty parts for delimiters at both ends", async () => {
  const { outputs } = await runComponent(StringsSplit, {
    iips: { delimiter: "," },
    input: [",a,,b,"],
  });
  assert.deepEqual(outputs.out, ["", "a", "", "b", ""]);
});

test("strings/Split with a regular expression splits at every match", async () => {
  const { outputs } = await runComponent(StringsSplit, {
    iips: { delimiter: "/\\s+/" },
    input: ["a  b\t\nc"],
  });
  assert.deepEqual(outputs.out, ["a", "b", "c"]);
});

test("strings/Split splits \\r\\n text by its default delimiter, keeping the \\r", async () => {
  const { outputs } = await runComponent(StringsSplit, { input: ["a\r\nb"] });
  assert.deepEqual(outputs.out, ["a\r", "b"]);
});

test("strings/Split of an empty string sends one empty part", async () => {
  const { outputs } = await runComponent(StringsSplit, { input: [""] });
  assert.deepEqual(outputs.out, [""]);
});

// ---- core/Kick and core/Merge --------------------------------------------

test("core/Kick sends null for every message when no data is given, whatever the message", async () => {
  const { outputs } = await runComponent(CoreKick, {
    input: [undefined, null, 0, "x", { y: 1 }],
  });
  assert.deepEqual(outputs.out, [null, null, null, null, null]);
});

test("core/Merge of many inputs finishes only when the last input ends", async () => {
  const release = deferred();
  const Late = defineComponent({
    name: "test/Late",
    description: "Sends once released.",
    outPorts: { out: {} },
    async run(ctx) {
      await release.promise;
      await ctx.send("out", "late");
    },
  });
  // 30 inputs of 0 to 3 messages each, and one that sends only once all
  // the others' messages have arrived.
  const feeds = Array.from({ length: 30 }, (_, i) => ({
    port: "in",
    values: Array.from({ length: i % 4 }, (_, j) => `${i}.${j}`),
  }));
  const expected = feeds.flatMap((f) => f.values);
  let arrived = 0;
  const { outputs, state } = await runComponent(CoreMerge, {
    feeds: [...feeds, { port: "in", component: Late }],
    capacity: 1,
    onArrival: () => {
      if (++arrived === expected.length) release.resolve();
    },
  });
  assert.equal(state, "finished");
  assert.equal(outputs.out.length, expected.length + 1);
  assert.equal(outputs.out.at(-1), "late");
  assert.deepEqual(
    (outputs.out as string[]).slice(0, -1).sort(),
    [...expected].sort(),
  );
});

// ---- .fbp text as embedders write it ------------------------------------

test("createNetwork reads .fbp text whose last line is only indentation", async () => {
  // The usual shape of a graph in an indented template literal.
  const net = createNetwork(`
    'x' -> in R(core/Repeat) out -> in D(core/Drop)
    `);
  await net.start();
  assert.equal(await net.finished, "finished");
});

// ---- NoFlo names in .fbp graphs ------------------------------------------

test("NoFlo's core/Repeat, core/Drop and core/Output run a classic .fbp graph", async () => {
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  let run: GraphRun;
  try {
    run = await runGraph(`
      'hello' -> in R(core/Repeat) out -> in O(core/Output) out -> in K(test/Sink)
      'bye' -> in D(core/Drop)
    `);
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, [["hello"]]);
  assert.deepEqual(run.sinks.K, ["hello"]);
  assert.equal(run.state, "finished");
});

test("NoFlo's core/Kick sends its data IIP for each message on in", async () => {
  const { sinks } = await runGraph(`
    'go' -> data K(core/Kick) out -> in S(test/Sink)
    'a' -> in Split(strings/SplitStr) out -> in K
  `);
  assert.deepEqual(sinks.S, ["go"]);
});

test("NoFlo's core/Kick waits for a data value from a connected process before it sends", async () => {
  // NoFlo's Kick holds the signal while "data" is attached but empty.
  const Later = defineComponent({
    name: "test/Later",
    description: "Sends 'go' after a turn of the event loop.",
    outPorts: { out: {} },
    async run(ctx) {
      await new Promise((r) => setTimeout(r, 0));
      await ctx.send("out", "go");
    },
  });
  const { sinks } = await runGraph(
    `
    S(test/Later) out -> data K(core/Kick) out -> in O(test/Sink)
    'x' -> in K
    `,
    { extra: [Later] },
  );
  assert.deepEqual(sinks.O, ["go"]);
});

test("NoFlo's core/Output takes the options port of classic graphs", () => {
  assert.deepEqual(
    problemsOf(`
      '{"depth": 1}' -> options Log(core/Output)
      'x' -> in Log
    `),
    [],
  );
});

test("NoFlo's strings/SplitStr splits by a delimiter IIP, including /regex/", async () => {
  const { sinks } = await runGraph(`
    'a,b;c' -> in A(strings/SplitStr) out -> in S(test/Sink)
    ',' -> delimiter A
    'x1y22z' -> in B(strings/SplitStr) out -> in T(test/Sink)
    '/[0-9]+/' -> delimiter B
  `);
  assert.deepEqual(sinks.S, ["a", "b;c"]);
  assert.deepEqual(sinks.T, ["x", "y", "z"]);
});

test("NoFlo's packets/Counter forwards the packets and sends their number at the end", async () => {
  const { sinks } = await runGraph(`
    'a b c' -> in Split(strings/SplitStr) out -> in C(packets/Counter)
    ' ' -> delimiter Split
    C out -> in O(test/Sink)
    C count -> in N(test/Sink)
  `);
  assert.deepEqual(sinks.O, ["a", "b", "c"]);
  assert.deepEqual(sinks.N, [3]);
});

test("NoFlo's filesystem/ReadFile reads the file named by an IIP and reports a missing one", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "hello.txt");
    writeFileSync(file, "hello, file\n");
    const missing = join(dir, "missing.txt");
    const { sinks } = await runGraph(`
      '${file}' -> in R(filesystem/ReadFile) out -> in S(test/Sink)
      R error -> in E(test/Sink)
      '${missing}' -> in M(filesystem/ReadFile) error -> in F(test/Sink)
    `);
    assert.deepEqual(sinks.S, ["hello, file\n"]);
    assert.equal(sinks.E, undefined);
    assert.equal(sinks.F.length, 1);
    assert.match(
      (sinks.F[0] as Error).message,
      /cannot read ".*missing\.txt": no such file$/,
    );
  });
});

test("NoFlo's core/RepeatDelayed reads a delay IIP in milliseconds", async () => {
  const t0 = performance.now();
  const { sinks } = await runGraph(`
    '30' -> delay D(core/RepeatDelayed)
    'x' -> in D out -> in S(test/Sink)
  `);
  assert.deepEqual(sinks.S, ["x"]);
  assert.ok(performance.now() - t0 >= 30);
});

// ---- option errors caught by graph validation ----------------------------

const BAD_OPTIONS: [string, string, RegExp][] = [
  [
    "core/Interval interval 0",
    "'0' -> interval C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "interval" of "C" \(core\/Interval\) is not valid: expected a duration longer than 0, received (number 0|string "0")$/,
  ],
  [
    "core/Interval interval that is not a duration",
    "'fast' -> interval C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "interval" of "C" \(core\/Interval\): expected a duration such as 500, "500ms", "1\.5s", "2m" or "1h", received string "fast"$/,
  ],
  [
    "core/Interval negative count",
    "'-1' -> count C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "count" of "C" \(core\/Interval\) is not valid: expected a non-negative integer \(0 for no limit\), received number -1$/,
  ],
  [
    "core/Interval fractional count",
    "'1.5' -> count C(core/Interval) out -> in D(core/Drop)",
    /^IIP for in-port "count" of "C" \(core\/Interval\): expected an integer, received string "1\.5"$/,
  ],
  [
    "core/Delay delay that is not a duration",
    "'soon' -> delay C(core/Delay)",
    /^IIP for in-port "delay" of "C" \(core\/Delay\): expected a duration such as .*received string "soon"$/,
  ],
  [
    "flow/Batch size 0",
    "'0' -> size C(flow/Batch)",
    /^IIP for in-port "size" of "C" \(flow\/Batch\) is not valid: expected a positive integer, received number 0$/,
  ],
  [
    "flow/Batch negative timeout",
    "'-5' -> timeout C(flow/Batch)",
    /^IIP for in-port "timeout" of "C" \(flow\/Batch\): expected a duration such as .*received string "-5"$/,
  ],
  [
    "flow/Throttle rate 0",
    "'0' -> rate C(flow/Throttle)",
    /^IIP for in-port "rate" of "C" \(flow\/Throttle\) is not valid: expected a rate in messages per second above 0, received number 0$/,
  ],
  [
    "flow/Throttle rate that is not a number",
    "'fast' -> rate C(flow/Throttle)",
    /^IIP for in-port "rate" of "C" \(flow\/Throttle\): expected a number, received string "fast"$/,
  ],
  [
    "flow/Map expr with a syntax error",
    "'price * ' -> expr C(flow/Map)",
    /^IIP for in-port "expr" of "C" \(flow\/Map\) is not valid: invalid JSONata expression "price \* " at position \d+: .+$/,
  ],
  [
    "flow/Filter expr with a syntax error",
    "'temp >' -> expr C(flow/Filter)",
    /^IIP for in-port "expr" of "C" \(flow\/Filter\) is not valid: invalid JSONata expression "temp >" at position \d+: .+$/,
  ],
  [
    "json/Stringify indent above 10",
    "'11' -> indent C(json/Stringify)",
    /^IIP for in-port "indent" of "C" \(json\/Stringify\) is not valid: expected an indent of 0 to 10 spaces or a string of up to 10 characters, received (number 11|string "11")$/,
  ],
  [
    "json/Stringify negative indent",
    "'-1' -> indent C(json/Stringify)",
    /^IIP for in-port "indent" of "C" \(json\/Stringify\) is not valid: expected an indent of 0 to 10 spaces/,
  ],
  [
    "strings/Split invalid /pattern/",
    "'/(/' -> delimiter C(strings/Split)",
    /^IIP for in-port "delimiter" of "C" \(strings\/Split\) is not valid: invalid regular expression delimiter \/\(\/: .+$/,
  ],
  [
    "fs/ReadLines without a path",
    "C(fs/ReadLines) out -> in D(core/Drop)",
    /^in-port "path" of "C" \(fs\/ReadLines\) is required: connect it or give it an IIP$/,
  ],
  [
    "fs/WriteLines append that is not a boolean",
    "'/tmp/x' -> path C(fs/WriteLines)\n'yes' -> append C",
    /^IIP for in-port "append" of "C" \(fs\/WriteLines\): expected a boolean, received string "yes"$/,
  ],
  [
    "fs/ReadFile unknown encoding",
    "'klingon' -> encoding C(filesystem/ReadFile)",
    /^IIP for in-port "encoding" of "C" \(fs\/ReadFile\) is not valid: expected an encoding \(.*\), received string "klingon"$/,
  ],
];

for (const [what, text, message] of BAD_OPTIONS) {
  test(`validateGraph reports a bad option with a sentence: ${what}`, () => {
    const problems = problemsOf(text);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], message);
  });
}

test("validateGraph reports an empty strings/Split delimiter from a JSON graph", () => {
  const graph = loadGraph(JSON.stringify({
    processes: { C: { component: "strings/SplitStr" } },
    connections: [{ data: "", tgt: { process: "C", port: "delimiter" } }],
  }));
  const problems = validateGraph(graph, builtins()).map((p) => p.message);
  assert.deepEqual(problems, [
    'IIP for in-port "delimiter" of "C" (strings/Split) is not valid: expected a non-empty delimiter string (or "/pattern/"), received string ""',
  ]);
});

test("validateGraph accepts every option of a well-formed graph of all built-ins", () => {
  const problems = problemsOf(`
    '250ms' -> interval Tick(core/Interval)
    '3' -> count Tick
    Tick out -> in Delay(core/Delay) out -> in Batch(flow/Batch)
    '10ms' -> delay Delay
    '2' -> size Batch
    '1s' -> timeout Batch
    Batch out -> in Throttle(flow/Throttle) out -> in Map(flow/Map)
    '100' -> rate Throttle
    '$count($)' -> expr Map
    Map out -> in Filter(flow/Filter) out -> in Str(json/Stringify)
    '$ > 0' -> expr Filter
    '2' -> indent Str
    Str out -> in Split(strings/Split) out -> in Drop(core/Drop)
    '/,/' -> delimiter Split
  `);
  assert.deepEqual(problems, []);
});
