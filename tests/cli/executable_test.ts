/**
 * The single executable, end to end: built with `bun build --compile`,
 * copied into an empty folder (so that nothing of the source tree is at
 * hand), started on a free port with a graph file, scraped, given a second
 * flow over the API, and stopped with SIGTERM: it exits 0 within the drain
 * timeout, and each file sink holds every message its source sent. And the
 * operator's own component modules (`--components`), `.ts` and `.js`, which
 * import `defineComponent` from `"weir"` though the executable has no
 * `node_modules`: used by `weir run` and `weir serve`, listed with their
 * origin, and a bad one refused in one line. One build for both tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import { compile } from "../../scripts/compile.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { parseExposition, valueOf } from "../metrics/_exposition.ts";
import { componentsDir, GRAPH } from "./_components.ts";
import { assertEveryTick, killLeftovers, startServe } from "./_weir.ts";

/** A fast source, a slower stage and a file: a backlog builds up. */
const sinkGraph = (name: string, out: string) =>
  `# @name ${name}
'4ms' -> interval Tick(core/Interval)
100 -> rate Slow(flow/Throttle)
'${out}' -> path Write(fs/WriteLines)
Tick out -> (200) in Slow out -> in Write
`;

interface FlowStats {
  processes: { name: string; messagesOut: Record<string, number> }[];
  backlog: number;
}

/** The folder of the executable this file's tests share, once built. */
let built: string | undefined;

/**
 * Copies the executable into `dir` (an empty folder, so that nothing of
 * the source tree is at hand) and returns its path. The first call builds
 * it (about 2 s, 117 MB): once for all the tests of this file.
 */
function executableIn(dir: string): string {
  if (built === undefined) {
    const build = mkdtempSync(join(tmpdir(), "weir-build-"));
    built = build;
    compile(join(build, "weir"));
  }
  const exe = join(dir, "weir");
  copyFileSync(join(built, "weir"), exe);
  return exe;
}

// Removed after this file's tests, whichever of them ran.
after(() => {
  if (built !== undefined) rmSync(built, { recursive: true, force: true });
});

test(
  "the single executable serves from an empty folder, passes promtool, takes a second flow, and drains every message at SIGTERM",
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-exe-"));
    try {
      const exe = executableIn(dir);

      const version = spawnSync(exe, ["version"], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(version.status, 0, version.stderr);
      assert.match(
        version.stdout,
        /^weir \d+\.\d+\.\d+ \(bun [\d.]+, linux-\w+, single executable\)$/m,
      );
      const usage = spawnSync(exe, ["serve", "--prot", "1"], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(usage.status, 2);
      assert.equal(
        usage.stderr,
        "weir: unknown option \"--prot\"; did you mean --port?\nRun 'weir serve --help' for usage.\n",
      );

      writeFileSync(
        join(dir, "demo.fbp"),
        sinkGraph("demo", join(dir, "demo.txt")),
      );
      // Files Bun's executables load by default: weir's must not.
      writeFileSync(join(dir, ".env"), "WEIR_DB=from-dotenv.db\n");
      writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./nope.ts"]\n');
      const drainTimeoutMs = 20_000;
      const w = await startServe([
        "--port",
        "0",
        "--data-dir",
        ".",
        "--db",
        "flows.db",
        "--drain-timeout",
        `${drainTimeoutMs}`,
        "demo.fbp",
      ], { command: [exe, []], cwd: dir });
      let health: Response | undefined;
      for (let i = 0; i < 100 && health?.status !== 200; i++) {
        try {
          health = await fetch(`${w.url}/healthz`);
          await health.body?.cancel();
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      assert.equal(health?.status, 200);

      const second = await fetch(`${w.url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: sinkGraph("second", join(dir, "second.txt")),
      });
      assert.equal(second.status, 201, await second.text());
      const list = await (await fetch(`${w.url}/flows`)).json() as {
        flows: { id: string; state: string }[];
      };
      assert.deepEqual(
        list.flows.map((f) => `${f.id} ${f.state}`).sort(),
        ["demo running", "second running"],
      );

      // A backlog in both flows, then what each source had sent.
      const sent: Record<string, number> = {};
      let backlogs = 0;
      for (let i = 0; i < 200 && backlogs < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        backlogs = 0;
        for (const id of ["demo", "second"]) {
          const stats = await (await fetch(`${w.url}/flows/${id}/stats`))
            .json() as FlowStats;
          sent[id] = stats.processes.find((p) => p.name === "Tick")!
            .messagesOut.out;
          if (stats.backlog >= 20) backlogs++;
        }
      }
      assert.equal(backlogs, 2, "a backlog of 20 built up in both flows");

      const scrape = await fetch(`${w.url}/metrics`);
      assert.equal(
        scrape.headers.get("content-type"),
        "text/plain; version=0.0.4; charset=utf-8",
      );
      const text = await scrape.text();
      const e = parseExposition(text);
      assert.equal(valueOf(e, "weir_flows_active"), 2);
      assert.ok(
        valueOf(e, "weir_process_messages_total", {
          flow: "demo",
          process: "Tick",
          port: "out",
          direction: "out",
        })! > 0,
      );
      assert.ok(valueOf(e, "process_resident_memory_bytes")! > 0);
      if (integrationSkip("promtool") === false) {
        const { ok, output } = await promtoolCheck(text);
        assert.ok(ok, output);
      }

      const signalled = performance.now();
      process.kill(w.child.pid!, "SIGTERM");
      const { code } = await w.exited;
      const tookMs = performance.now() - signalled;
      assert.equal(code, 0, w.log());
      assert.ok(
        tookMs < drainTimeoutMs,
        `exited ${Math.round(tookMs)} ms after the signal`,
      );
      assert.ok(existsSync(join(dir, "flows.db")), "--db was used");
      assert.equal(existsSync(join(dir, "from-dotenv.db")), false, ".env read");
      assertEveryTick(join(dir, "demo.txt"), sent.demo);
      assertEveryTick(join(dir, "second.txt"), sent.second);
      assert.ok(
        w.records().some((r) => r.msg === "flows drained, database closed"),
        w.log(),
      );
      assert.ok(
        w.records().every((r) => r.level !== "error" && r.level !== "warn"),
        w.log(),
      );
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "the single executable loads the operator's .ts and .js component modules: weir run, weir serve, weir components, and a bad module",
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-exe-ops-"));
    const ops = componentsDir();
    try {
      const exe = executableIn(dir);
      writeFileSync(join(dir, "scaled.fbp"), GRAPH);
      const run = spawnSync(exe, ["run", "--components", ops, "scaled.fbp"], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(
        run.stdout,
        '{"value":0}\n{"value":10}\n{"value":20}\n',
      );

      const list = spawnSync(exe, ["components"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, WEIR_COMPONENTS: ops },
      });
      assert.equal(list.status, 0, list.stderr);
      assert.match(
        list.stdout,
        new RegExp(`^ops/Scale\\n.*\\n {2}origin: ${ops}/scale\\.ts$`, "m"),
      );
      assert.match(
        list.stdout,
        new RegExp(`^ops/Tag\\n.*\\n {2}origin: ${ops}/tag\\.js$`, "m"),
      );
      assert.match(list.stdout, /^core\/Output\n.*\n {2}origin: built-in$/m);

      const w = await startServe([
        "--listen",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--data-dir",
        ".",
        "--components",
        ops,
        "scaled.fbp",
      ], { command: [exe, []], cwd: dir });
      const catalogue = await (await fetch(`${w.url}/components`)).json() as {
        components: { name: string; origin: string }[];
      };
      assert.equal(
        catalogue.components.find((c) => c.name === "ops/Scale")?.origin,
        join(ops, "scale.ts"),
      );
      for (
        let i = 0;
        i < 400 && !w.stdout().includes('{\\"value\\":20}');
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(w.stdout(), /"msg":"\{\\"value\\":20\}","flow":"scaled"/);
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());

      writeFileSync(join(ops, "zz_bad.ts"), "export const x = ;\n");
      const bad = spawnSync(exe, ["serve", "--components", ops], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(bad.status, 2);
      assert.equal(
        bad.stderr,
        `weir: cannot load the component module "${ops}/zz_bad.ts": SyntaxError: Unexpected ; (line 1, column 18)\n`,
      );
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
      rmSync(ops, { recursive: true, force: true });
    }
  },
);
