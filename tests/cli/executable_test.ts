/**
 * The single executable, end to end: built with `bun build --compile`,
 * copied into an empty folder (so that nothing of the source tree is at
 * hand), started on a free port with a graph file, scraped, given a second
 * flow over the API, and stopped with SIGTERM: it exits 0 within the drain
 * timeout, and each file sink holds every message its source sent.
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
import { test } from "node:test";
import { compile } from "../../scripts/compile.ts";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { parseExposition, valueOf } from "../metrics/_exposition.ts";
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

test(
  "the single executable serves from an empty folder, passes promtool, takes a second flow, and drains every message at SIGTERM",
  { timeout: 180_000 },
  async () => {
    const build = mkdtempSync(join(tmpdir(), "weir-build-"));
    const dir = mkdtempSync(join(tmpdir(), "weir-exe-"));
    try {
      compile(join(build, "weir"));
      const exe = join(dir, "weir");
      copyFileSync(join(build, "weir"), exe);
      rmSync(build, { recursive: true, force: true });

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
      rmSync(build, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
