/**
 * The graph files given to `weir serve` are checked as the flow API checks
 * a graph: with the server's `--max-capacity`, flow properties included,
 * and any problem stops start-up with exit 1 and every problem of every
 * file, before the database is touched.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { killLeftovers, startServe, startWeir } from "./_weir.ts";

test(
  "weir serve --max-capacity 500000 takes a graph file asking for 200000, as POST /flows does",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-files-"));
    try {
      const cap = join(dir, "cap.fbp");
      writeFileSync(
        cap,
        "'1s' -> interval T(core/Interval) out -> (200000) in D(core/Drop)\n",
      );
      const w = await startServe([
        "--listen",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--data-dir",
        dir,
        "--no-history",
        "--max-capacity",
        "500000",
        cap,
      ]);
      const r = await fetch(`${w.url}/flows/cap`);
      const info = await r.json();
      assert.equal(r.status, 200, JSON.stringify(info));
      assert.equal(info.state, "running");
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve stops start-up on graph files with bad flow properties or a capacity over --max-capacity, listing every problem",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-files-"));
    const db = join(dir, "flows.db");
    try {
      const tick = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)\n";
      const files = {
        restart: join(dir, "rs.fbp"),
        two: join(dir, "two.fbp"),
        cap: join(dir, "cap.fbp"),
      };
      writeFileSync(files.restart, `# @restart sometimes\n${tick}`);
      writeFileSync(files.two, `# @required maybe\n# @allow bogus x\n${tick}`);
      writeFileSync(
        files.cap,
        "'1s' -> interval T(core/Interval) out -> (200) in D(core/Drop)\n",
      );
      const w = startWeir([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        "--data-dir",
        dir,
        "--no-history",
        "--max-capacity",
        "100",
        files.restart,
        files.two,
        files.cap,
      ]);
      const { code } = await w.exited;
      const log = w.log();
      assert.equal(code, 1, log);
      assert.ok(
        log.includes(`${files.restart}:1:1: restart must be one of`),
        log,
      );
      assert.ok(log.includes(`${files.two}:1:1: required must be`), log);
      assert.ok(log.includes(`${files.two}:2:1: allow has no kind`), log);
      assert.match(
        log,
        /cap\.fbp:1:\d+: capacity must be a positive integer up to 100 /,
      );
      assert.doesNotMatch(log, /serving flows/);
      assert.equal(existsSync(db), false, "no database was created");
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve logs a graph file's flow once when it creates it and once when it replaces it, by the file",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-files-"));
    const db = join(dir, "flows.db");
    const file = join(dir, "ticks.fbp");
    const tick = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)\n";
    /** Serves the file once; the log lines about flow "ticks". */
    const serveOnce = async () => {
      const w = await startServe([
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        "--data-dir",
        dir,
        "--no-history",
        file,
      ]);
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());
      return w.records().filter((r) =>
        r.flow === "ticks" && r.level === "info" && r.op !== "stop"
      );
    };
    try {
      writeFileSync(file, `# @name ticks\n${tick}`);
      const first = await serveOnce();
      assert.deepEqual(
        first.map((r) => [r.msg, r.op, r.rev, r.by]),
        [[
          `flow "ticks" created (rev 1, running) by file ${file}`,
          "create",
          1,
          `file ${file}`,
        ]],
      );
      writeFileSync(file, `# @name ticks\n# changed\n${tick}`);
      const second = await serveOnce();
      assert.deepEqual(
        second.filter((r) => !/restored/.test(r.msg)).map((r) => [r.op, r.rev]),
        [["update", 2]],
        JSON.stringify(second),
      );
      const third = await serveOnce();
      assert.deepEqual(
        third.filter((r) => !/restored/.test(r.msg)).map((r) => r.msg),
        [`flow "ticks" from ${file}: unchanged`],
      );
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve stops start-up on graph files whose name is no flow id, or that name one flow twice, naming the files",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-files-"));
    const db = join(dir, "flows.db");
    try {
      const tick = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)\n";
      const files = {
        bad: join(dir, "bad.fbp"),
        a: join(dir, "a.fbp"),
        b: join(dir, "b.json"),
      };
      writeFileSync(files.bad, `# @name my flow!\n${tick}`);
      writeFileSync(files.a, `# @name sensors\n${tick}`);
      writeFileSync(
        files.b,
        JSON.stringify({
          properties: { name: "sensors" },
          processes: { D: { component: "core/Drop" } },
          connections: [{ data: 1, tgt: { process: "D", port: "in" } }],
        }),
      );
      const w = startWeir([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        "--data-dir",
        dir,
        "--no-history",
        files.bad,
        files.a,
        files.b,
      ]);
      const { code } = await w.exited;
      const log = w.log();
      assert.equal(code, 1, log);
      assert.ok(
        log.includes(
          `${files.bad}: the flow's id would be the graph's name "my flow!", but an id is 1 to 128 letters`,
        ),
        log,
      );
      assert.ok(
        log.includes(
          `${files.b}: its flow "sensors" is ${files.a}'s flow too`,
        ),
        log,
      );
      assert.doesNotMatch(log, /serving flows/);
      assert.equal(existsSync(db), false, "no database was created");
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
