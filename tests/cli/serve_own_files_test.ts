/**
 * Flows never reach the server's own files, wherever the operator keeps
 * them (review of issue 16, R4 and R5): the token file, the config file
 * and the components folder are off-limits to the file components even
 * inside the data folder, and a components folder inside the data folder
 * (where a flow could plant a module that weir imports at its next start)
 * stops the command before it starts.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { cli, killLeftovers, startServe } from "./_weir.ts";

const TOKEN = "read,write:own-files-test-token-0123456789";

test(
  "weir serve: a flow cannot read or write the token file, the config file or the components folder kept in the data folder",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-own-files-"));
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "tokens"), `${TOKEN}\n`);
    writeFileSync(
      join(data, "weir.json"),
      JSON.stringify({ tokenFile: "tokens" }),
    );
    try {
      const w = await startServe([
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data,
        "--db",
        join(dir, "flows.db"),
        "--config",
        join(data, "weir.json"),
      ]);
      const post = (text: string) =>
        fetch(`${w.url}/flows`, {
          method: "POST",
          headers: {
            "Content-Type": "text/vnd.fbp",
            Authorization: `Bearer ${TOKEN.slice(TOKEN.indexOf(":") + 1)}`,
          },
          body: text,
        });
      for (
        const [name, graph] of [
          [
            "readtokens",
            "'tokens' -> path R(fs/ReadLines) out -> in D(core/Drop)",
          ],
          [
            "addtoken",
            "'in:mine-0123456789abcdef' -> in W(fs/WriteLines)\n'tokens' -> path W",
          ],
          [
            "readconfig",
            "'weir.json' -> path R(fs/ReadLines) out -> in D(core/Drop)",
          ],
        ] as const
      ) {
        const res = await post(`# @name ${name}\n${graph}\n`);
        const body = await res.text();
        assert.equal(res.status, 400, `${name}: ${body}`);
        assert.match(body, /off-limits to flows/, name);
        assert.doesNotMatch(body, /own-files-test-token/, "no token shown");
      }
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("weir serve and weir run refuse a components folder inside the data folder, or holding it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-own-files-"));
  try {
    mkdirSync(join(dir, "data", "components"), { recursive: true });
    const inside = await cli([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--db",
      ":memory:",
      "--data-dir",
      join(dir, "data"),
      "--components",
      join(dir, "data", "components"),
    ]);
    assert.equal(inside.code, 2, inside.err);
    assert.match(
      inside.err,
      /the components folder ".*data\/components" is inside the data folder ".*data", where flows write files/,
    );
    const holding = await cli([
      "run",
      "--data-dir",
      join(dir, "data"),
      "--components",
      dir,
      "x.fbp",
    ]);
    assert.equal(holding.code, 2, holding.err);
    assert.match(holding.err, /is inside the components folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
