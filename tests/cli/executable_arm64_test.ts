/**
 * The cross-compiled linux-arm64 executable runs: built with `bun build
 * --compile --target=bun-linux-arm64` and run under qemu-user with
 * Debian's arm64 C library, it serves a flow, passes promtool and drains
 * at SIGTERM. Needs `qemu-aarch64` and `/usr/aarch64-linux-gnu` (Debian's
 * qemu-user and libc6-arm64-cross; CI installs both). qemu-user runs the
 * program, not an arm64 kernel: a failure here may be qemu's, and speed
 * means nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { compile } from "../../scripts/compile.ts";
import { findOnPath, integrationSkip, promtoolCheck } from "../_prometheus.ts";
import {
  assertEveryTick,
  eventually,
  killLeftovers,
  startServe,
} from "./_weir.ts";

const INSTALL = "apt-get install qemu-user libc6-arm64-cross";
const SYSROOT = "/usr/aarch64-linux-gnu";

test(
  "the linux-arm64 executable serves a flow under qemu-user, passes promtool and drains at SIGTERM",
  { timeout: 240_000, skip: integrationSkip("qemu-aarch64", INSTALL) },
  async () => {
    const qemu = findOnPath("qemu-aarch64");
    assert.ok(qemu, `qemu-aarch64 is not on PATH: ${INSTALL}`);
    assert.ok(
      existsSync(join(SYSROOT, "lib", "ld-linux-aarch64.so.1")),
      `no arm64 C library in ${SYSROOT}: ${INSTALL}`,
    );
    const dir = mkdtempSync(join(tmpdir(), "weir-arm64-"));
    try {
      const exe = join(dir, "weir");
      compile(exe, "bun-linux-arm64");
      const run = [qemu, ["-L", SYSROOT, exe]] as [string, string[]];
      const version = spawnSync(run[0], [...run[1], "version"], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(version.status, 0, version.stderr);
      assert.match(
        version.stdout,
        /\(bun [\d.]+, linux-arm64, single executable\)/,
      );

      const out = join(dir, "ticks.txt");
      writeFileSync(
        join(dir, "ticks.fbp"),
        `# @name ticks\n'20ms' -> interval Tick(core/Interval) out -> in W(fs/WriteLines)\n'${out}' -> path W\n`,
      );
      const w = await startServe(
        ["--port", "0", "--data-dir", ".", "--db", "flows.db", "ticks.fbp"],
        { command: run, cwd: dir },
      );
      try {
        const health = await fetch(`${w.url}/healthz`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
        // Scrape until it has ticked.
        const ticked =
          /^weir_process_messages_total\{flow="ticks",process="Tick",port="out",direction="out"\} [1-9]/m;
        const text = await eventually(async () => {
          const t = await (await fetch(`${w.url}/metrics`)).text();
          return ticked.test(t) ? t : undefined;
        }, "a tick in the scrape");
        assert.match(text, ticked);
        if (integrationSkip("promtool") === false) {
          const { ok, output } = await promtoolCheck(text);
          assert.ok(ok, output);
        }
        process.kill(w.child.pid!, "SIGTERM");
        assert.equal((await w.exited).code, 0, w.log());
        assertEveryTick(out, 1);
      } finally {
        killLeftovers();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
