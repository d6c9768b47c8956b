/**
 * The README's screenshots of the dashboard: `bun scripts/screenshots.ts
 * [--wait=90]` starts `weir serve` from this tree (on Deno, a temporary
 * database, a free port) with the demo flow and the benchmarks' 20-process
 * flow, lets them run `--wait` seconds so the charts have history, and
 * saves `docs/img/dashboard-flows.png`, `dashboard-flow.png` and
 * `dashboard-chart.png` from Debian's Chromium.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { DEMO_FLOW } from "../src/cli/demo.ts";
import { launchChromium } from "../tests/_browser.ts";
import { FLOW_BIG } from "../bench/dashboard_bench.ts";

const ROOT = join(import.meta.dirname!, "..");
const OUT = join(ROOT, "docs", "img");
const wait = Number(
  process.argv.find((a) => a.startsWith("--wait="))?.slice(7) ?? 90,
);

const work = mkdtempSync(join(tmpdir(), "weir-screenshots-"));
writeFileSync(join(work, "demo.fbp"), DEMO_FLOW);
writeFileSync(join(work, "big.fbp"), FLOW_BIG);
const child = spawn(join(ROOT, "node_modules", ".bin", "deno"), [
  "run",
  "-A",
  join(ROOT, "src", "cli", "main.ts"),
  "serve",
  "--port",
  "0",
  "--db",
  join(work, "weir.db"),
  join(work, "demo.fbp"),
  join(work, "big.fbp"),
], {
  stdio: ["ignore", "ignore", "pipe"],
  env: { ...process.env, WEIR_LOG_FORMAT: "json" },
});
const url = await new Promise<string>((resolve, reject) => {
  let err = "";
  child.stderr!.on("data", (d) => {
    err += d;
    const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(err);
    if (m) resolve(m[1]);
  });
  child.on("exit", () => reject(new Error(`weir serve exited:\n${err}`)));
});
try {
  console.log(`weir serve at ${url}; waiting ${wait} s for history`);
  await new Promise((r) => setTimeout(r, wait * 1000));
  mkdirSync(OUT, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1400, height: 860 },
    });
    await page.goto(`${url}/`);
    await page.locator('[data-testid="flow-row"][data-flow="big"]').waitFor();
    await page.waitForTimeout(2500);
    await page.screenshot({ path: join(OUT, "dashboard-flows.png") });
    await page.goto(`${url}/#/flows/demo`);
    await page.locator('[data-testid="process-box"]').first().waitFor();
    await page.waitForTimeout(3000);
    await page.screenshot({ path: join(OUT, "dashboard-flow.png") });
    await page.locator('[data-testid="process-box"][data-process="Hot"]')
      .dispatchEvent("click");
    const chart = page.locator('[data-testid="chart"][data-points]').first();
    await chart.waitFor();
    await chart.scrollIntoViewIfNeeded();
    await page.waitForTimeout(2000);
    await page.screenshot({ path: join(OUT, "dashboard-chart.png") });
    console.log(`wrote ${OUT}/dashboard-{flows,flow,chart}.png`);
  } finally {
    await browser.close();
  }
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
