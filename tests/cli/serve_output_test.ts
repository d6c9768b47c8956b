/**
 * `weir serve` tags every `core/Output` line with the flow it comes from
 * (many flows share the server's standard output): a JSON object with the
 * flow and process in the JSON log format, `[flow] line` in text. `weir
 * run` keeps the flow's own lines untagged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { taggedOutput } from "../../src/cli/flow_output.ts";
import { cli, startServeInTemp } from "./_weir.ts";

const SLOW = { timeout: 60_000 };

async function serveAndPost(format: "json"): Promise<string> {
  const w = await startServeInTemp("weir-output-", ["--log-format", format]);
  try {
    for (const name of ["alpha", "beta"]) {
      const res = await fetch(`${w.url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: `# @name ${name}\n'hello from ${name}' -> in Log(core/Output)\n`,
      });
      assert.equal(res.status, 201, await res.text());
    }
    for (let i = 0; i < 200 && !w.stdout().includes("from beta"); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    process.kill(w.child.pid!, "SIGTERM");
    await w.exited;
    return w.stdout();
  } finally {
    w.close();
  }
}

test(
  "weir serve --log-format json: core/Output lines are JSON objects with the flow and process",
  SLOW,
  async () => {
    const out = await serveAndPost("json");
    const records = out.trim().split("\n").map((l) => JSON.parse(l));
    const alpha = records.find((r) => r.flow === "alpha");
    assert.deepEqual(
      { msg: alpha?.msg, process: alpha?.process, output: alpha?.output },
      { msg: "hello from alpha", process: "Log", output: true },
    );
    assert.ok(
      records.some((r) => r.flow === "beta" && r.msg === "hello from beta"),
    );
  },
);

test("on serve in the text log format, core/Output lines start with [flow], every line of a value", () => {
  const lines: string[] = [];
  const write = taggedOutput("text", (l) => lines.push(l));
  write("hello", "alpha", "Log");
  write("two\nlines", "beta", "Log");
  assert.deepEqual(lines, ["[alpha] hello", "[beta] two\n[beta] lines"]);
});

test(
  "weir run: core/Output lines stay the flow's own, untagged",
  SLOW,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-output-run-"));
    try {
      const file = join(dir, "hello.fbp");
      writeFileSync(file, "'hello' -> in Log(core/Output)\n");
      const r = await cli(["run", file, "--no-metrics"]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, "hello");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
