/**
 * `weir run` and `weir demo` leave the disk as it was when their start
 * fails (a metrics port in use, a flow whose start is refused), as `weir
 * serve` does: the history's folder they made goes again, a folder the
 * operator gave stays.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "./_weir.ts";

/** Every path under `dir`, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

/** A port this process listens on, so that weir cannot. */
async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

test("weir run and weir demo whose metrics port is in use remove the history's folder they made, and only it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-run-failed-start-"));
  const { port, server } = await busyPort();
  try {
    const graph = join(dir, "g.fbp");
    writeFileSync(graph, "'1s' -> interval Tick(core/Interval)\n");
    // The operator's data folder exists: the history's folder in it goes.
    mkdirSync(join(dir, "data"));
    const metrics = ["--metrics", `127.0.0.1:${port}`];
    const run = await cli([
      "run",
      "--history",
      "--data-dir",
      join(dir, "data"),
      ...metrics,
      graph,
    ]);
    assert.equal(run.code, 2, run.err);
    assert.match(run.err, /address already in use/);
    assert.deepEqual(tree(dir), ["data", "g.fbp"]);
    // None of the data folder exists: all of what was made goes.
    const demo = await cli([
      "demo",
      "--history",
      "--data-dir",
      join(dir, "new", "data"),
      ...metrics,
    ]);
    assert.equal(demo.code, 2, demo.err);
    assert.match(demo.err, /address already in use/);
    assert.deepEqual(tree(dir), ["data", "g.fbp"]);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("weir run whose flow's start is refused removes the history's folder it made", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-run-failed-start-"));
  try {
    const graph = join(dir, "g.fbp");
    writeFileSync(
      graph,
      [
        "'mqtt://127.0.0.1:1' -> broker Out(mqtt/Out)",
        "'env:RUN_TEST_SURELY_UNSET_SECRET' -> password Out",
        "",
      ].join("\n"),
    );
    const r = await cli([
      "run",
      "--history",
      "--data-dir",
      join(dir, "data"),
      "--no-metrics",
      "--secret-env",
      "RUN_TEST_SURELY_UNSET_SECRET",
      graph,
    ]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      /process "Out" \(mqtt\/Out\), setup: Cannot read secret env:RUN_TEST_SURELY_UNSET_SECRET/,
    );
    assert.deepEqual(tree(dir), ["g.fbp"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
