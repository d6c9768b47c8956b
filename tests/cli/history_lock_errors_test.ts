/**
 * `weir serve` whose history cannot be locked: one sentence saying what
 * (its lock cannot be taken), where (the LOCK's path), why and who can
 * fix it, then the way out; nothing on disk changed. A LOCK that is a
 * folder, and a history folder the user weir runs as may not write (as
 * root the server runs as nobody through setpriv, skipped without it).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { History } from "../../src/history/history.ts";
import { openHistory } from "../../src/cli/history_setup.ts";
import { createLogger } from "../../src/cli/log.ts";
import { asNobody, NOBODY, setprivSkip } from "../_nobody.ts";
import { runtimeCommand } from "../_runtime.ts";
import { cli, localArgs, MAIN, startWeir } from "./_weir.ts";

const WAY_OUT =
  "choose another folder with --data-dir or turn it off with --no-history";

/** Every path under `dir`, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

test("weir serve with a history whose LOCK is a folder says so and what to do, and changes nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-lock-folder-"));
  try {
    const history = join(dir, "history");
    mkdirSync(join(history, "LOCK"), { recursive: true });
    const before = tree(dir);
    const r = await cli([
      "serve",
      ...localArgs(dir, "--db", join(dir, "weir.db")),
    ]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      `cannot open the metric history in "${history}": cannot take its lock ${
        join(history, "LOCK")
      }: it is a folder, where weir keeps its lock file; remove it; ${WAY_OUT}`,
    );
    assert.deepEqual(tree(dir), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "weir serve run by a user who may not write the history says permission denied on its LOCK and who can fix it, and changes nothing",
  {
    skip: setprivSkip(),
    timeout: 30_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-lock-denied-"));
    try {
      const data = join(dir, "data");
      const history = join(data, "history");
      // A history weir made before, as its owner.
      await (await History.open({ dir: history })).close();
      const before = tree(data);
      const args = ["serve", ...localArgs(data)];
      let err: string;
      if (process.getuid?.() === 0) {
        chmodSync(dir, 0o755);
        // Deno's cache and Bun's home, nobody's own.
        const home = join(dir, "home");
        mkdirSync(home);
        chownSync(home, NOBODY, NOBODY);
        const [runtime, flags] = runtimeCommand();
        const w = startWeir(args, {
          command: asNobody(runtime, [...flags, MAIN]),
          env: { PATH: process.env.PATH, HOME: home, DENO_DIR: home },
        });
        const exit = await w.exited;
        assert.equal(exit.code, 2, w.log());
        err = w.log();
      } else {
        chmodSync(history, 0o555);
        const r = await cli(args);
        chmodSync(history, 0o755);
        assert.equal(r.code, 2);
        err = `weir: ${r.err}`;
      }
      assert.ok(
        err.startsWith(
          `weir: cannot open the metric history in "${history}": cannot take its lock ${
            join(history, "LOCK")
          }: permission denied (EACCES); run weir as the folder's owner, or give the user weir runs as write access to it; ${WAY_OUT}\n`,
        ),
        err,
      );
      assert.deepEqual(tree(data), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("openHistory() says a held history's folder once, then the store's reason and the advice", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-lock-held-"));
  const held = await History.open({ dir });
  try {
    const failed: string[] = [];
    const fail = (message: string): never => {
      failed.push(message);
      throw new Error(message);
    };
    const log = createLogger({ level: "error" });
    await assert.rejects(
      openHistory({ dir }, log, fail, { advice: "stop it" }),
    );
    assert.deepEqual(failed, [
      `cannot open the metric history in "${dir}": ${
        join(dir, "LOCK")
      } is in use by process ${process.pid} (this one); stop it`,
    ]);
  } finally {
    await held.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
