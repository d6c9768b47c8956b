/**
 * An app that embeds weir runs on Deno with no permission at all when it
 * needs none: importing weir and running a network of built-ins asks
 * for nothing (no `--allow-env`), so a Deno app grants only what its own
 * flows use. Each test runs a small app in a `deno run --no-prompt`
 * child without permission flags, on either test runner.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, test } from "node:test";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const WORK = mkdtempSync(join(tmpdir(), "weir-permissions-"));
const SLOW = { timeout: 120_000 };

after(() => rmSync(WORK, { recursive: true, force: true }));

/** Runs `source` with `deno run` and no permissions; its stdout, or its failure. */
function _denoRun(
  name: string,
  source: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(WORK, name);
  writeFileSync(file, source);
  return new Promise((resolve) => {
    execFile(
      DENO,
      ["run", "--no-prompt", "--config", join(ROOT, "deno.json"), file],
      {
        cwd: WORK,
        env: { ...process.env, NO_COLOR: "1" },
        timeout: 100_000,
      },
      (error, stdout, stderr) => {
        const code = error === null
          ? 0
          : typeof error.code === "number"
          ? error.code
          : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const RUN_TICKS = `
const net = createNetwork(
  "'1ms' -> interval T(core/Interval)\\n3 -> count T\\nT out -> in D(core/Drop)",
);
await net.start();
const state = await net.finished;
const drop = net.stats().processes.find((p) => p.name === "D");
console.log(JSON.stringify({ state, taken: drop?.messagesIn.in }));
`;

test(
  "createNetwork() with the built-ins runs on Deno without --allow-env",
  SLOW,
  async () => {
    const embed = pathToFileURL(join(ROOT, "src", "embed.ts")).href;
    const ran = await _denoRun(
      "embed_app.ts",
      `import { createNetwork } from ${JSON.stringify(embed)};\n${RUN_TICKS}`,
    );
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout), { state: "finished", taken: 3 });
  },
);

test(
  "weir's root module loads on Deno without --allow-env, flowApp and its query routes too",
  SLOW,
  async () => {
    const root = pathToFileURL(join(ROOT, "mod.ts")).href;
    const ran = await _denoRun(
      "root_app.ts",
      `import {
  builtins,
  createNetwork,
  flowApp,
  FlowManager,
  FlowStore,
  MetricsCollector,
} from ${JSON.stringify(root)};
const metrics = new MetricsCollector();
const components = builtins();
const flows = new FlowManager({
  store: FlowStore.open(":memory:"),
  registry: components,
  collector: metrics,
});
const app = flowApp({ flows, metrics, components });
const health = (await app.request("/healthz")).status;
await flows.close();
${RUN_TICKS.replace("{ state,", "{ health, state,")}`,
    );
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout), {
      health: 200,
      state: "finished",
      taken: 3,
    });
  },
);
