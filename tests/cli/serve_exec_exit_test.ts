/**
 * A program `exec/Run` started never outlives `weir serve`: at SIGTERM the
 * drain ends it with SIGTERM, and one that ignores SIGTERM is killed when
 * weir exits (it used to survive, adopted by init, after a drain that
 * timed out).
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { eventually, startServeInTemp } from "./_weir.ts";

/** Whether process `pid` is gone (a zombie counts as gone: it runs nothing). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

test(
  "weir serve at SIGTERM leaves no program of exec/Run running, even one ignoring SIGTERM",
  { timeout: 60_000 },
  async () => {
    const w = await startServeInTemp("weir-exec-exit-", [
      "--allow-exec",
      "/bin/sh",
      "--drain-timeout",
      "500ms",
    ]);
    const pidFile = join(w.dir, "pid");
    let pid: number | undefined;
    try {
      const script =
        `trap "" TERM; echo $$ > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; exec sleep 600`;
      const flow = `# @name stubborn
'sh' -> command R(exec/Run) out -> in D(core/Drop)
'${JSON.stringify(["-c", script])}' -> args R
'0' -> timeout R
'go' -> in R
`;
      const res = await fetch(`${w.url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: flow,
      });
      assert.ok(res.status < 300, await res.text());
      pid = await eventually(
        () =>
          Promise.resolve(
            existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0,
          ),
        "the program started",
      );
      process.kill(w.child.pid!, "SIGTERM");
      const exit = await w.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, w.log());
      // weir is gone: its program, which ignores SIGTERM, must be too.
      await eventually(
        () => Promise.resolve(gone(pid!)),
        "the program ended",
        5000,
      );
    } finally {
      if (pid !== undefined && !gone(pid)) process.kill(pid, "SIGKILL");
      w.close();
    }
  },
);
