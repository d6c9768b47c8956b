import { test } from "node:test";
import assert from "node:assert/strict";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { inTempDir, linesOf, runComponent } from "./_helpers.ts";
import {
  builtins,
  FileSandbox,
  fsReadFile,
  fsReadLines,
  fsWriteLines,
  storagePaths,
} from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";

/** A data folder `dir/data` with a database and a history folder in it. */
function _setup(dir: string): { data: string; sandbox: FileSandbox } {
  const data = join(dir, "data");
  mkdirSync(join(data, "history"), { recursive: true });
  writeFileSync(join(data, "weir.db"), "db");
  writeFileSync(join(data, "weir.db-wal"), "wal");
  writeFileSync(join(data, "note.txt"), "hello\nworld\n");
  writeFileSync(join(dir, "secret.txt"), "outside");
  const sandbox = new FileSandbox({
    root: data,
    deny: storagePaths(join(data, "weir.db"), join(data, "history")),
  });
  return { data, sandbox };
}

/** The error messages of a fs/ReadFile run over `paths`, and what it read. */
async function _read(sandbox: FileSandbox, paths: string[]) {
  const { outputs, errors } = await runComponent(fsReadFile(sandbox), {
    input: paths,
  });
  return { out: outputs.out, errors: errors.map((e) => e.message) };
}

test("fs/ReadFile in a sandbox reads a file under the data folder, by relative or absolute path", async () => {
  await inTempDir(async (dir) => {
    const { data, sandbox } = _setup(dir);
    const r = await _read(sandbox, ["note.txt", join(data, "note.txt")]);
    assert.deepEqual(r.out, ["hello\nworld\n", "hello\nworld\n"]);
    assert.deepEqual(r.errors, []);
  });
});

test("fs/ReadFile in a sandbox refuses /etc/shadow, ../x, /proc/self/environ and a symlink leading out", async () => {
  await inTempDir(async (dir) => {
    const { data, sandbox } = _setup(dir);
    symlinkSync(join(dir, "secret.txt"), join(data, "link.txt"));
    const r = await _read(sandbox, [
      "/etc/shadow",
      "../secret.txt",
      "/proc/self/environ",
      "link.txt",
    ]);
    assert.deepEqual(r.out, []);
    assert.equal(r.errors.length, 4);
    assert.match(
      r.errors[0],
      /file "\/etc\/shadow": it is outside the data folder/,
    );
    assert.match(
      r.errors[1],
      /file "\.\.\/secret\.txt": it is outside the data folder/,
    );
    assert.match(
      r.errors[2],
      /file "\/proc\/self\/environ": \/proc is off-limits/,
    );
    assert.match(
      r.errors[3],
      /file "link\.txt": it is outside the data folder/,
    );
    for (const e of r.errors) assert.doesNotMatch(e, /outside\n|outside$/);
  });
});

test("fs/ReadFile in a sandbox refuses the database, its -wal file and the history, though they are under the data folder", async () => {
  await inTempDir(async (dir) => {
    const { sandbox } = _setup(dir);
    const r = await _read(sandbox, ["weir.db", "weir.db-wal", "history/x"]);
    assert.deepEqual(r.out, []);
    assert.equal(r.errors.length, 3);
    for (const e of r.errors) assert.match(e, /off-limits to flows/);
  });
});

test("fs/ReadFile in a sandbox quotes only an excerpt of a long path", async () => {
  await inTempDir(async (dir) => {
    const { sandbox } = _setup(dir);
    const r = await _read(sandbox, ["/etc/" + "x".repeat(5000)]);
    assert.equal(r.errors.length, 1);
    assert.ok(r.errors[0].length < 600, r.errors[0]);
    assert.match(r.errors[0], /\(5,005 characters\)/);
  });
});

test("fs/WriteLines in a sandbox writes under the data folder and refuses the -wal file and a path outside", async () => {
  await inTempDir(async (dir) => {
    const { data, sandbox } = _setup(dir);
    const ok = await runComponent(fsWriteLines(sandbox), {
      iips: { path: "out/lines.txt" },
      input: ["a", "b"],
    });
    // A missing folder is not created: the write fails with its reason.
    assert.equal(ok.errors.length, 2);
    mkdirSync(join(data, "out"));
    const written = await runComponent(fsWriteLines(sandbox), {
      iips: { path: "out/lines.txt" },
      input: ["a", "b"],
    });
    assert.deepEqual(written.errors, []);
    assert.deepEqual(linesOf(join(data, "out", "lines.txt")), ["a", "b"]);
    for (const path of ["weir.db-wal", "../cron.txt"]) {
      const refused = await runComponent(fsWriteLines(sandbox), {
        feeds: [{ port: "path", values: [path] }],
        input: ["* * * * * evil"],
      });
      assert.ok(refused.errors.length >= 1, path);
      assert.match(
        refused.errors[0].message,
        /off-limits to flows|outside the data folder/,
      );
    }
    assert.equal(readFileSync(join(data, "weir.db-wal"), "utf8"), "wal");
    assert.throws(() => readFileSync(join(dir, "cron.txt")));
  });
});

test("fs/WriteLines in a sandbox does not write through a symlink leading out", async () => {
  await inTempDir(async (dir) => {
    const { data, sandbox } = _setup(dir);
    symlinkSync(join(dir, "secret.txt"), join(data, "link.txt"));
    const refused = await runComponent(fsWriteLines(sandbox), {
      feeds: [{ port: "path", values: ["link.txt"] }],
      input: ["overwritten"],
    });
    assert.ok(refused.errors.length >= 1);
    assert.equal(readFileSync(join(dir, "secret.txt"), "utf8"), "outside");
  });
});

test("fs/ReadLines in a sandbox reads under the data folder and refuses /etc/passwd", async () => {
  await inTempDir(async (dir) => {
    const { sandbox } = _setup(dir);
    const ok = await runComponent(fsReadLines(sandbox), {
      iips: { path: "note.txt" },
    });
    assert.deepEqual(ok.outputs.out, ["hello", "world"]);
    const refused = await runComponent(fsReadLines(sandbox), {
      feeds: [{ port: "path", values: ["/etc/passwd"] }],
    });
    assert.deepEqual(refused.outputs.out, []);
    assert.match(refused.errors[0].message, /outside the data folder/);
  });
});

test("validating a graph against builtins({ files }) names the process, the option and the path outside the data folder", async () => {
  await inTempDir((dir) => {
    const { data } = _setup(dir);
    const registry = builtins({
      files: { root: data, deny: storagePaths(join(data, "weir.db"), null) },
    });
    const problems = validateGraph(
      loadGraph(
        "'/etc/shadow' -> path R(fs/ReadLines) out -> in W(fs/WriteLines)\n" +
          "'weir.db-shm' -> path W\n",
      ),
      registry,
    ).map((p) => p.message);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(
      problems[0],
      /^IIP for in-port "path" of "R" \(fs\/ReadLines\) is not valid: Cannot use file "\/etc\/shadow": it is outside the data folder/,
    );
    assert.match(
      problems[1],
      /^IIP for in-port "path" of "W" \(fs\/WriteLines\) is not valid: Cannot use file "weir\.db-shm": it is off-limits/,
    );
    assert.deepEqual(
      validateGraph(
        loadGraph("'note.txt' -> path R(fs/ReadLines) out -> in D(core/Drop)"),
        registry,
      ),
      [],
    );
  });
});

test("builtins() without files roots the sandbox at ./data of the current folder", () => {
  const registry = builtins();
  const parse = registry.get("fs/ReadLines")!.inPorts.path.parse!;
  assert.throws(() => parse("/etc/passwd"), /outside the data folder/);
  assert.throws(() => parse("../x"), /outside the data folder/);
  assert.equal(parse("x.txt"), "x.txt");
  assert.equal(new FileSandbox().root, resolve("data"));
});

test("FileSandbox.checkOpen() judges the open file by its descriptor, so a link swapped in after check() cannot lead out", async () => {
  await inTempDir((dir) => {
    const { data, sandbox } = _setup(dir);
    // The path passed check() while it was a plain file under the data folder...
    writeFileSync(join(data, "swap.txt"), "inside");
    assert.equal(sandbox.check("swap.txt"), join(data, "swap.txt"));
    // ...but what got opened is the file outside.
    const fd = openSync(join(dir, "secret.txt"), "r");
    try {
      assert.throws(
        () => sandbox.checkOpen("swap.txt", fd),
        /file "swap\.txt": it is outside the data folder/,
      );
    } finally {
      closeSync(fd);
    }
    const inside = openSync(join(data, "swap.txt"), "r");
    try {
      sandbox.checkOpen("swap.txt", inside);
    } finally {
      closeSync(inside);
    }
  });
});

test("a file a sandboxed component cannot find names the data folder its relative path was taken from", async () => {
  await inTempDir(async (dir) => {
    const { data, sandbox } = _setup(dir);
    const folder = `(in the data folder ${JSON.stringify(data)})`;
    const lines = await runComponent(fsReadLines(sandbox), {
      iips: { path: "in/readings.csv" },
    });
    assert.equal(
      lines.errors[0]?.message,
      `process "T" failed: cannot read "in/readings.csv": no such file ${folder}`,
    );
    const file = await _read(sandbox, ["in/readings.csv"]);
    assert.equal(
      file.errors[0],
      `process "T" failed on in-port "in": cannot read "in/readings.csv": no such file ${folder}`,
    );
    const write = await runComponent(fsWriteLines(sandbox), {
      iips: { path: "out/report.csv" },
      input: ["a"],
    });
    assert.equal(
      write.errors[0]?.message,
      `process "T" failed on in-port "in": cannot write "out/report.csv": no such directory ${folder}`,
    );
    // An absolute path already says where it looked.
    const absolute = await _read(sandbox, [join(data, "in", "x.csv")]);
    assert.match(absolute.errors[0], /no such file$/);
  });
});

test("a file an unsandboxed component cannot find names the current folder its relative path was taken from", async () => {
  const r = await runComponent(fsReadLines(), {
    iips: { path: "no-such-folder/readings.csv" },
  });
  assert.equal(
    r.errors[0]?.message,
    `process "T" failed: cannot read "no-such-folder/readings.csv": no such file (from the current folder ${
      JSON.stringify(process.cwd())
    })`,
  );
});
