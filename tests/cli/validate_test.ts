/**
 * `weir validate` checks a graph as the flow API does: the flow's
 * supervision properties with the rest, every problem of a graph at once,
 * and each problem line names its file, with or without a position.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cli } from "./_weir.ts";

const TICK = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)\n";

/** Writes `files` into a new folder, runs `fn` with their paths, removes it. */
async function withFiles(
  files: Record<string, string>,
  fn: (paths: Record<string, string>) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weir-validate-"));
  try {
    const paths: Record<string, string> = {};
    for (const [name, text] of Object.entries(files)) {
      paths[name] = join(dir, name);
      writeFileSync(paths[name], text);
    }
    await fn(paths);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("weir validate refuses a bad supervision property, as POST /flows does", async () => {
  const bad: Record<string, [string, RegExp]> = {
    "restart.fbp": [
      "# @restart sometimes\n",
      /restart must be one of never, on-failure, always, received "sometimes"/,
    ],
    "limit.fbp": [
      "# @restartLimit 5000\n",
      /restartLimit must be an integer from 0 to 1000 .*received "5000"/,
    ],
    "required.fbp": [
      "# @required maybe\n",
      /required must be true or false, received "maybe"/,
    ],
    "delay.fbp": [
      "# @restartDelayMs -5\n",
      /restartDelayMs must be an integer from 1 to 2147483647 .*received "-5"/,
    ],
  };
  const files = Object.fromEntries(
    Object.entries(bad).map(([name, [head]]) => [name, head + TICK]),
  );
  await withFiles(files, async (paths) => {
    for (const [name, [, message]] of Object.entries(bad)) {
      const r = await cli(["validate", paths[name]]);
      assert.equal(r.code, 1, `${name}: ${r.out}`);
      const lines = r.out.split("\n");
      assert.equal(lines.length, 1, r.out);
      assert.ok(lines[0].startsWith(`${paths[name]}:1:1: `), lines[0]);
      assert.match(lines[0], message);
    }
    const good = join(paths["restart.fbp"], "..", "good.fbp");
    writeFileSync(
      good,
      `# @restart on-failure\n# @restartLimit 3\n# @required true\n${TICK}`,
    );
    assert.equal((await cli(["validate", good])).code, 0);
  });
});

test("weir validate reports every problem of a graph at once: a bad required and a bad allow list", async () => {
  await withFiles(
    { "two.fbp": `# @required maybe\n# @allow bogus x\n${TICK}` },
    async ({ "two.fbp": file }) => {
      const r = await cli(["validate", file]);
      assert.equal(r.code, 1);
      const lines = r.out.split("\n").sort();
      assert.equal(lines.length, 2, r.out);
      assert.ok(lines[0].startsWith(`${file}:1:1: `), lines[0]);
      assert.match(lines[0], /required must be true or false/);
      assert.ok(lines[1].startsWith(`${file}:2:1: `), lines[1]);
      assert.match(lines[1], /allow has no kind "bogus"/);
      assert.match(r.err, /weir: 2 problems/);
    },
  );
});

test("weir validate names the file of a problem that has no line", async () => {
  await withFiles(
    { "empty.fbp": "# nothing here\n", "empty.json": '{"processes":{}}' },
    async (paths) => {
      const r = await cli([
        "validate",
        paths["empty.fbp"],
        paths["empty.json"],
      ]);
      assert.equal(r.code, 1);
      const lines = r.out.split("\n");
      assert.equal(lines.length, 2, r.out);
      assert.ok(
        lines[0].startsWith(`${paths["empty.fbp"]}: processes: `),
        lines[0],
      );
      assert.ok(lines[1].startsWith(`${paths["empty.json"]}:1:2: `), lines[1]);
      for (const line of lines) assert.match(line, /the graph has no process/);
    },
  );
});

test("weir validate --max-capacity checks capacities against a server's limit", async () => {
  await withFiles(
    { "cap.fbp": "A(core/Repeat) out -> (200000) in B(core/Drop)\n" },
    async ({ "cap.fbp": file }) => {
      const r = await cli(["validate", file]);
      assert.equal(r.code, 1);
      assert.match(r.out, /capacity must be a positive integer up to 100000/);
      const big = await cli(["validate", "--max-capacity", "500000", file]);
      assert.equal(big.code, 0, big.out);
      const small = await cli(["validate", "--max-capacity", "50", file]);
      assert.match(small.out, /capacity must be a positive integer up to 50 /);
    },
  );
});
