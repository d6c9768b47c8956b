import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { defineComponent } from "../../src/engine/component.ts";
import { Network } from "../../src/engine/network.ts";
import {
  FsReadFile,
  FsReadLines,
  FsWriteLines,
} from "../../src/components/fs.ts";
import { inTempDir, linesOf, runComponent } from "./_helpers.ts";

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

test("fs/WriteLines writes strings as they are and other values as JSON, one per line", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "out.txt");
    const { outputs, errors, state } = await runComponent(FsWriteLines, {
      iips: { path },
      input: ["plain text", { a: 1 }, 42, null, ["x"]],
    });
    assert.deepEqual(outputs, {});
    assert.deepEqual(errors, []);
    assert.equal(state, "finished");
    assert.deepEqual(linesOf(path), [
      "plain text",
      '{"a":1}',
      "42",
      "null",
      '["x"]',
    ]);
  });
});

test("fs/WriteLines has every line of a large input in the file when the network finishes", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "many.txt");
    const lines = Array.from(
      { length: 20_000 },
      (_, i) => `${i} ${"x".repeat(i % 50)}`,
    );
    await runComponent(FsWriteLines, { iips: { path }, input: lines });
    assert.deepEqual(linesOf(path), lines);
  });
});

test("fs/WriteLines appends to an existing file by default", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "log.txt");
    writeFileSync(path, "old\n");
    await runComponent(FsWriteLines, { iips: { path }, input: ["new"] });
    assert.deepEqual(linesOf(path), ["old", "new"]);
  });
});

test("fs/WriteLines with append false empties the file first", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "log.txt");
    writeFileSync(path, "old\n");
    await runComponent(FsWriteLines, {
      iips: { path, append: false },
      input: ["new"],
    });
    assert.deepEqual(linesOf(path), ["new"]);
  });
});

test("fs/WriteLines creates the file for an empty input", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "empty.txt");
    await runComponent(FsWriteLines, { iips: { path }, input: [] });
    assert.equal(readFileSync(path, "utf8"), "");
  });
});

test("fs/WriteLines fails each message when the directory does not exist", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "nope", "out.txt");
    const { errors, state } = await runComponent(FsWriteLines, {
      iips: { path },
      input: ["a", "b"],
    });
    assert.equal(state, "finished");
    assert.deepEqual(errors.map((e) => e.input), ["a", "b"]);
    assert.equal(
      errors[0].message,
      `process "T" failed on in-port "in": cannot write ${
        JSON.stringify(path)
      }: no such directory`,
    );
  });
});

test("fs/WriteLines has every line it took in the file after a stop", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "stopped.txt");
    let sentSome!: () => void;
    const someSent = new Promise<void>((r) => (sentSome = r));
    const Endless = defineComponent({
      name: "test/Endless",
      description: "Sends 0, 1, 2, ... until stopped.",
      outPorts: { out: {} },
      async run(ctx) {
        for (let i = 0; !ctx.signal.aborted; i++) {
          if (i === 300) sentSome();
          await ctx.send("out", `line ${i}`);
        }
      },
    });
    const net = new Network({
      name: "stop",
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
    await someSent;
    await net.stop();
    const taken = net.stats().processes.find((p) => p.name === "W")!
      .messagesIn.in;
    assert.ok(taken >= 290, `took ${taken} lines`);
    assert.deepEqual(
      linesOf(path),
      Array.from({ length: taken }, (_, i) => `line ${i}`),
    );
  });
});

test("fs/WriteLines rejects an append option that is not a boolean", () => {
  assert.throws(
    () => FsWriteLines.inPorts.append.parse!("yes"),
    {
      name: "TypeError",
      message: 'expected true or false, received string "yes"',
    },
  );
});

test("fs/ReadFile sends the whole text of each file named on in", async () => {
  await inTempDir(async (dir) => {
    const a = join(dir, "a.txt");
    const b = join(dir, "b.txt");
    writeFileSync(a, "alpha\nbeta\n");
    writeFileSync(b, "ünïcødé");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [a, b],
    });
    assert.deepEqual(outputs.out, ["alpha\nbeta\n", "ünïcødé"]);
    assert.deepEqual(errors, []);
  });
});

test("fs/ReadFile sends a missing file's error to its error port and reads the next", async () => {
  await inTempDir(async (dir) => {
    const missing = join(dir, "x.txt");
    const there = join(dir, "there.txt");
    writeFileSync(there, "here");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [missing, there],
      capture: ["out", "error"],
    });
    assert.deepEqual(outputs.out, ["here"]);
    assert.deepEqual(errors, []);
    assert.equal(outputs.error.length, 1);
    const e = outputs.error[0] as Error;
    assert.equal(e.name, "ProcessError");
    assert.equal(
      e.message,
      `process "T" failed on in-port "in": cannot read ${
        JSON.stringify(missing)
      }: no such file`,
    );
  });
});

test("fs/ReadFile reads with the encoding option", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bin");
    writeFileSync(path, new Uint8Array([0xde, 0xad]));
    const { outputs } = await runComponent(FsReadFile, {
      iips: { encoding: "hex" },
      input: [path],
    });
    assert.deepEqual(outputs.out, ["dead"]);
  });
});

test("fs/ReadFile rejects an unknown encoding with a sentence", () => {
  assert.throws(
    () => FsReadFile.inPorts.encoding.parse!("klingon"),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message.startsWith("expected an encoding (") &&
      e.message.endsWith('received string "klingon"'),
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

test("fs/ReadFile drops a UTF-8 byte-order mark, and keeps its bytes in other encodings", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bom.txt");
    writeFileSync(path, "\uFEFFhi");
    const utf8 = await runComponent(FsReadFile, { input: [path] });
    assert.deepEqual(utf8.outputs.out, ["hi"]);
    const hex = await runComponent(FsReadFile, {
      iips: { encoding: "hex" },
      input: [path],
    });
    assert.deepEqual(hex.outputs.out, ["efbbbf6869"]);
  });
});

test("fs/ReadFile reads encoding aliases under their Node.js names", () => {
  const parse = FsReadFile.inPorts.encoding.parse!;
  assert.deepEqual(
    ["UTF-8", "utf-16le", "UCS-2", "binary", "hex"].map(parse),
    ["utf8", "utf16le", "ucs2", "latin1", "hex"],
  );
});

test("fs/WriteLines names the value JSON cannot hold", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bad.txt");
    const { errors } = await runComponent(FsWriteLines, {
      iips: { path },
      input: [{ id: 7n }, "ok"],
    });
    assert.deepEqual(linesOf(path), ["ok"]);
    assert.deepEqual(errors.map((e) => e.message), [
      'process "T" failed on in-port "in": cannot write object as JSON: it holds a bigint at .id',
    ]);
  });
});

test("fs/WriteLines writes to /dev/stdout when standard output is a pipe", async () => {
  await inTempDir((dir) => {
    const helpers = new URL("./_helpers.ts", import.meta.url).href;
    const fs = new URL("../../src/components/fs.ts", import.meta.url).href;
    const script = join(dir, "stdout.ts");
    writeFileSync(
      script,
      `import { runComponent } from ${JSON.stringify(helpers)};
import { FsWriteLines } from ${JSON.stringify(fs)};
const { errors } = await runComponent(FsWriteLines, {
  iips: { path: "/dev/stdout" },
  input: ["one", { two: 2 }],
});
console.error(JSON.stringify(errors.map((e) => e.message)));
`,
    );
    const args = process.versions.bun ? [script] : ["run", "-A", script];
    // Through `| cat`, standard output is a pipe (Bun's spawnSync would
    // give a socket, which no process can open by path: ENXIO).
    const child = spawnSync(
      "sh",
      ["-c", '"$0" "$@" | cat', process.execPath, ...args],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, 'one\n{"two":2}\n');
    assert.deepEqual(JSON.parse(child.stderr.trim().split("\n").at(-1)!), []);
  });
});
