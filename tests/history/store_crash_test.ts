import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import { runtimeCommand } from "../_runtime.ts";
import { SMALL_TIERS, withDir } from "./_store_fixtures.ts";

test(
  "HistoryStore after SIGKILL: everything up to the last finished flush loads",
  {
    timeout: 30_000,
  },
  async () => {
    await withDir(async (dir) => {
      const [cmd, args] = runtimeCommand();
      const child = spawn(cmd, [
        ...args,
        new URL("./_store_child.ts", import.meta.url).pathname,
        dir,
      ], { stdio: ["ignore", "pipe", "inherit"] });
      let flushed = 0;
      let lines = 0;
      await new Promise<void>((resolve, reject) => {
        let buf = "";
        child.stdout!.on("data", (d: Buffer) => {
          buf += d.toString();
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const m = /^flushed (\d+)$/.exec(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
            if (m) flushed = Number(m[1]);
            if (++lines === 25) {
              process.kill(child.pid!, "SIGKILL");
              resolve();
            }
          }
        });
        child.on("exit", (code) => {
          if (lines < 25) reject(new Error(`child exited early: ${code}`));
        });
      });
      await new Promise((resolve) => child.on("close", resolve));
      const warnings: string[] = [];
      const s = await HistoryStore.open({
        dir,
        flushIntervalMs: 0,
        now: () => 0,
        tiers: SMALL_TIERS,
        onWarning: (m) => warnings.push(m),
      });
      // A write cut mid-way may leave one torn record per file, no more.
      assert.ok(warnings.length <= 3, warnings.join("\n"));
      const got = s.select(
        [{ name: "__name__", type: "=", value: "crash" }],
        0,
        1e12,
        0,
      );
      assert.equal(got.length, 3);
      for (const p of got) {
        const mul = Number(p.labels.i) + 1;
        assert.ok(p.t.length >= flushed, `${p.t.length} < ${flushed}`);
        for (let i = 0; i < p.t.length; i++) {
          assert.equal(p.t[i], (i + 1) * 1000);
          assert.equal(p.value[i], (i + 1) * mul);
        }
      }
      // Windows up to the last flush are whole.
      const [w] = s.select([{ name: "i", type: "=", value: "0" }], 0, 1e12, 1);
      assert.ok(w.t.length >= Math.floor(flushed / 10) - 1);
      assert.ok([...w.count!].every((c) => c === 10));
      await s.close();
    });
  },
);
