import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  deferred,
  inTempDir,
  linesOf,
  runComponent,
  statsOf,
  until,
} from "./_helpers.ts";
import { runGraph } from "./_graph_helpers.ts";
import { spawnSync } from "node:child_process";
import {
  readdirSync,
  readFileSync,
  readlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Network } from "../../src/engine/network.ts";
import { FsReadLines } from "../../src/components/fs.ts";
import { Buffer } from "node:buffer";

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

test("fs/ReadLines sends each line of a file without its line break, then finishes", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "in.txt");
    writeFileSync(path, "first\r\nsecond\n\nfourth, no newline");
    const { outputs, errors, state } = await runComponent(FsReadLines, {
      iips: { path },
    });
    assert.deepEqual(outputs.out, [
      "first",
      "second",
      "",
      "fourth, no newline",
    ]);
    assert.deepEqual(errors, []);
    assert.equal(state, "finished");
  });
});

test("fs/ReadLines sends nothing for an empty file and finishes", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "empty.txt");
    writeFileSync(path, "");
    const { outputs, state } = await runComponent(FsReadLines, {
      iips: { path },
    });
    assert.deepEqual(outputs.out, []);
    assert.equal(state, "finished");
  });
});

test("fs/ReadLines reports a missing file with a clear message and finishes", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "x.txt");
    const { outputs, errors, state } = await runComponent(FsReadLines, {
      iips: { path },
    });
    assert.deepEqual(outputs.out, []);
    assert.equal(errors.length, 1);
    assert.equal(
      errors[0].message,
      `process "T" failed: cannot read ${JSON.stringify(path)}: no such file`,
    );
    assert.equal(state, "finished");
  });
});

test("fs/ReadLines sends its failure to its error port when connected", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "x.txt");
    const { outputs, errors } = await runComponent(FsReadLines, {
      iips: { path },
      capture: ["out", "error"],
    });
    assert.deepEqual(errors, []);
    assert.equal(outputs.error.length, 1);
    assert.match(
      (outputs.error[0] as Error).message,
      /cannot read ".*x\.txt": no such file$/,
    );
  });
});

test("fs/ReadLines reports a directory as a file it cannot read", async () => {
  await inTempDir(async (dir) => {
    const { errors } = await runComponent(FsReadLines, {
      iips: { path: dir },
    });
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /cannot read ".*": it is a directory$/);
  });
});

test("fs/ReadLines waits for room: every line of a large file arrives in order", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "big.txt");
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    writeFileSync(path, lines.join("\n") + "\n");
    const { outputs } = await runComponent(FsReadLines, {
      iips: { path },
      capacity: 1,
    });
    assert.deepEqual(outputs.out, lines);
  });
});

test("fs/ReadLines stops reading when the network drains", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "long.txt");
    const total = 50_000;
    writeFileSync(
      path,
      Array.from({ length: total }, (_, i) => `${i}`).join("\n"),
    );
    const { outputs, state } = await runComponent(FsReadLines, {
      iips: { path },
      capacity: 1,
      onArrival: ({ value }, net) => {
        if (value === "2") void net.drain(1000);
      },
    });
    const got = outputs.out as string[];
    assert.ok(got.length < total, `read ${got.length} of ${total} lines`);
    assert.deepEqual(got.slice(0, 3), ["0", "1", "2"]);
    assert.equal(state, "finished");
  });
});

test('fs/ReadLines reads standard input when path is "-"', async () => {
  await inTempDir((dir) => {
    const helpers = new URL("./_helpers.ts", import.meta.url).href;
    const fs = new URL("../../src/components/fs.ts", import.meta.url).href;
    const script = join(dir, "stdin.ts");
    writeFileSync(
      script,
      `import { runComponent } from ${JSON.stringify(helpers)};
import { FsReadLines } from ${JSON.stringify(fs)};
const { outputs, errors } = await runComponent(FsReadLines, { iips: { path: "-" } });
console.log(JSON.stringify({ lines: outputs.out, errors: errors.length }));
`,
    );
    const args = process.versions.bun ? [script] : ["run", "-A", script];
    const child = spawnSync(process.execPath, args, {
      input: "one\ntwo\r\nthree",
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), {
      lines: ["one", "two", "three"],
      errors: 0,
    });
  });
});

test("fs/ReadLines rejects a path that is not a non-empty string", () => {
  assert.throws(
    () => FsReadLines.inPorts.path.parse!(""),
    { name: "TypeError", message: 'expected a file path, received string ""' },
  );
});

test("fs/ReadLines drops a UTF-8 byte-order mark at the start of the file only", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bom.txt");
    writeFileSync(path, "\uFEFFfirst\n\uFEFFsecond\n");
    const { outputs } = await runComponent(FsReadLines, { iips: { path } });
    assert.deepEqual(outputs.out, ["first", "\uFEFFsecond"]);
  });
});

test("fs/ReadLines keeps a final \\r that no \\n follows", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "cr-end.txt");
    writeFileSync(path, "a\r\nb\r");
    const { outputs } = await runComponent(FsReadLines, { iips: { path } });
    assert.deepEqual(outputs.out, ["a", "b\r"]);
  });
});

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

test("fs/ReadLines fails a line longer than maxLineLength, in one chunk or across many", async () => {
  await inTempDir(async (dir) => {
    const short = join(dir, "short.txt");
    writeFileSync(short, "ok\n" + "y".repeat(101) + "\nlater\n");
    const one = await runComponent(FsReadLines, {
      iips: { path: short, maxLineLength: 100 },
    });
    assert.deepEqual(one.outputs.out, ["ok"]);
    assert.equal(one.errors.length, 1);
    assert.equal(
      one.errors[0].message,
      `process "T" failed: cannot read ${
        JSON.stringify(short)
      }: a line is longer than maxLineLength (100 characters)`,
    );
    // No line break in 200 KiB: the line spans chunks of 64 KiB.
    const long = join(dir, "long.txt");
    writeFileSync(long, "z".repeat(200 * 1024));
    const many = await runComponent(FsReadLines, {
      iips: { path: long, maxLineLength: 100 * 1024 },
    });
    assert.deepEqual(many.outputs.out, []);
    assert.match(many.errors[0].message, /longer than maxLineLength/);
    // A line of exactly the limit, with a CRLF, passes.
    const exact = join(dir, "exact.txt");
    writeFileSync(exact, "w".repeat(100) + "\r\n");
    const fine = await runComponent(FsReadLines, {
      iips: { path: exact, maxLineLength: 100 },
    });
    assert.deepEqual(fine.outputs.out, ["w".repeat(100)]);
    assert.deepEqual(fine.errors, []);
  });
});

test("fs/ReadLines stops reading /dev/zero (no line breaks) at its default maxLineLength", async () => {
  const { outputs, errors } = await runComponent(FsReadLines, {
    iips: { path: "/dev/zero" },
  });
  assert.deepEqual(outputs.out, []);
  assert.match(
    errors[0].message,
    /cannot read "\/dev\/zero": a line is longer than maxLineLength \(16777216 characters\)/,
  );
});
