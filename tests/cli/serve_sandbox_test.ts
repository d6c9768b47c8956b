/**
 * `weir serve` as a process keeps flows' files under `--data-dir`: a
 * posted flow naming /etc/passwd, `..` or the flow database's -wal file is
 * refused with the problem, and nothing is stored.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { cli, killLeftovers, startServe } from "./_weir.ts";

test(
  "weir serve: a posted flow that reads /etc/passwd, ../x or the database's -wal file is refused with a problem, and nothing is stored",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-sandbox-"));
    try {
      const w = await startServe([
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--db",
        join(dir, "flows.db"),
      ]);
      const post = (text: string) =>
        fetch(`${w.url}/flows`, {
          method: "POST",
          headers: { "Content-Type": "text/vnd.fbp" },
          body: text,
        });
      for (
        const [name, path, reason] of [
          ["passwd", "/etc/passwd", /outside the data folder/],
          ["up", "../x", /outside the data folder/],
          ["wal", "flows.db-wal", /off-limits to flows/],
        ] as const
      ) {
        const res = await post(
          `# @name ${name}\n'${path}' -> path R(fs/ReadLines) out -> in D(core/Drop)\n`,
        );
        const body = await res.text();
        assert.ok(
          res.status === 400 || res.status === 422,
          `${name}: ${res.status} ${body}`,
        );
        assert.match(body, /fs\/ReadLines/);
        assert.match(body, reason);
        assert.doesNotMatch(body, /root:/, "no file contents");
      }
      const list = await (await fetch(`${w.url}/flows`)).json();
      assert.deepEqual(
        JSON.stringify(list).match(/"(passwd|up|wal)"/g),
        null,
        JSON.stringify(list),
      );
      // A flow writing under the data folder runs.
      const ok = await post(
        `# @name ok\n'tick' -> in W(fs/WriteLines)\n'ok.txt' -> path W\n`,
      );
      assert.equal(ok.status, 201, await ok.text());
      let text = "";
      for (let i = 0; i < 100 && text === ""; i++) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          text = readFileSync(join(dir, "ok.txt"), "utf8");
        } catch { /* not yet written */ }
      }
      assert.equal(text, "tick\n");
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("weir validate checks file paths against --data-dir", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-sandbox-"));
  try {
    const graph = join(dir, "g.fbp");
    writeFileSync(
      graph,
      "'/etc/passwd' -> path R(fs/ReadLines) out -> in D(core/Drop)\n",
    );
    const refused = await cli(["validate", "--data-dir", dir, graph]);
    assert.equal(refused.code, 1, refused.err);
    assert.match(
      refused.out + refused.err,
      /Cannot use file "\/etc\/passwd": it is outside the data folder/,
    );
    writeFileSync(
      graph,
      `'${
        join(dir, "x.txt")
      }' -> path R(fs/ReadLines) out -> in D(core/Drop)\n`,
    );
    const ok = await cli(["validate", "--data-dir", dir, graph]);
    assert.equal(ok.code, 0, ok.out + ok.err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
