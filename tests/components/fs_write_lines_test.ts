import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import {
  inTempDir,
  linesOf,
  runComponent,
  statsOf,
  until,
} from "./_helpers.ts";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Network } from "../../src/engine/network.ts";
import { FsWriteLines } from "../../src/components/fs.ts";

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
