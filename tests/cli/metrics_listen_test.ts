/**
 * weir run --metrics on IPv6 loopback, and the addresses it refuses.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CliError } from "../../src/cli/cli_error.ts";
import { main } from "../../src/cli/main.ts";
import { parseExposition, valueOf } from "../metrics/_exposition.ts";
import { N } from "../metrics/_fixtures.ts";

test("weir run --metrics [::1]:0 serves the flow's metrics on IPv6 loopback", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-edge-"));
  const graph = join(dir, "ticks.fbp");
  writeFileSync(
    graph,
    `# @name v6
'20ms' -> interval Tick(core/Interval)
40 -> count Tick
Tick out -> in Sink(core/Drop)
`,
  );
  const log = console.log;
  const error = console.error;
  const err: string[] = [];
  let scraped: Promise<string> | undefined;
  console.log = () => {};
  console.error = (...a: unknown[]) => {
    const line = a.join(" ");
    err.push(line);
    // Printed once the server listens, before the flow starts.
    const url = /metrics at (http:\/\/\S+\/metrics)/.exec(line)?.[1];
    if (url) scraped = fetch(url).then((r) => r.text());
  };
  let code: number;
  try {
    code = await main(["run", graph, "--metrics", "[::1]:0"], {
      env: {},
      isTerminal: true,
    });
  } catch (e) {
    code = e instanceof CliError ? e.code : -1;
    err.push(String(e));
  } finally {
    console.log = log;
    console.error = error;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(code, 0, err.join("\n"));
  assert.match(err.join("\n"), /metrics at http:\/\/\[::1\]:\d+\/metrics/);
  assert.ok(scraped, err.join("\n"));
  const e = parseExposition(await scraped);
  assert.equal(
    typeof valueOf(e, N("processMessages"), {
      flow: "v6",
      process: "Tick",
      port: "out",
      direction: "out",
    }),
    "number",
  );
});

test("weir refuses --metrics with an IPv6 address that is not in brackets or has no port, exit 2", async () => {
  const error = console.error;
  console.error = () => {};
  try {
    for (const bad of ["::1:9464", "[::1]", "[::1]:", "::1"]) {
      await assert.rejects(
        main(["run", "never-read.fbp", "--metrics", bad], { env: {} }),
        (e: unknown) =>
          e instanceof CliError && e.code === 2 &&
          /--metrics needs host:port/.test(e.message),
        bad,
      );
    }
  } finally {
    console.error = error;
  }
});
