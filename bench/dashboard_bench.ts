/**
 * The dashboard's figures (issue 15), each on the server as shipped: the
 * executable on Bun (built from this tree into a temporary folder), the
 * source on Deno, `weir serve` with a 20-process flow from a graph file of
 * built-in components, and Debian's Chromium driven by `playwright-core`.
 *
 *   bun bench/dashboard_bench.ts --part=size      # gzipped page, executable growth
 *   bun bench/dashboard_bench.ts --part=paint     # first paint, graph drawn (5 runs)
 *   bun bench/dashboard_bench.ts --part=cost      # server CPU: no page vs one page
 *   bun bench/dashboard_bench.ts --part=memory --minutes=60   # browser heap
 *   --runtime=bun|deno (default both), --rounds=N, --seconds=N, --base=REF
 *
 * - size: the page's files as served (`src/ui/assets.gen.ts`) raw and
 *   gzipped (level 9, as the server sends them); the executable built from
 *   this tree and from `--base` (default the commit before the dashboard,
 *   08061fb) side by side.
 * - paint: a fresh browser context per run opens `/`; `first-contentful-paint`
 *   from the page's paint timing, then the time until the flow page shows
 *   one box per process (`#/flows/big`).
 * - cost: the server pinned to the last core, Chromium to the others;
 *   rounds alternate A (no page open) and B (one page on the flow's graph,
 *   live), `--seconds` each (default 20): the server's CPU time per second
 *   from /proc, its difference in % of a core.
 * - memory: one page on the flow's graph with its tap open for `--minutes`;
 *   every minute a garbage collection (CDP `HeapProfiler.collectGarbage`)
 *   and the page's JS heap, DOM nodes and listeners (CDP
 *   `Performance.getMetrics`).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { UI_ASSETS } from "../src/ui/assets.gen.ts";
import {
  launchChromium,
  type PageDocument,
  watchProblems,
} from "../tests/_browser.ts";

declare const document: PageDocument;
import { loadAverage, median, processCpuSeconds, rssMB } from "./_measure.ts";
import {
  compileWeir,
  cores,
  type ServerProcess,
  startWeirServe,
  weirCommand,
} from "./_serve.ts";
import { baseWorktree } from "./_worktree.ts";

type Runtime = "bun" | "deno";

const ROOT = join(import.meta.dirname!, "..");

function flag(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

/**
 * The benchmark's flow: 20 processes of built-in components, a sensor
 * ticking every 10 ms through a chain of six maps, a filter, a batch and four filters to drops.
 */
export const FLOW_BIG = (() => {
  const lines = [
    "# @name big",
    "'10ms' -> interval Tick(core/Interval)",
    `'{"n": $, "celsius": $round(18 + $random() * 12, 1)}' -> expr Reading(flow/Map)`,
  ];
  let prev = "Reading";
  for (let i = 1; i <= 6; i++) {
    lines.push(
      `'$merge([$, {"s${i}": celsius * ${i}}])' -> expr M${i}(flow/Map)`,
    );
    lines.push(`${prev} out -> in M${i}`);
    prev = `M${i}`;
  }
  lines.push("'celsius > 20' -> expr Hot(flow/Filter)");
  lines.push(`${prev} out -> in Hot`);
  lines.push("10 -> size Batch(flow/Batch)");
  lines.push("Hot out -> in Batch");
  lines.push(`'{"count": $count($)}' -> expr Summary(flow/Map)`);
  lines.push("Batch out -> in Summary");
  for (let i = 1; i <= 4; i++) {
    lines.push(`'n % ${i + 1} = 0' -> expr F${i}(flow/Filter)`);
    lines.push(`Reading out -> in F${i} out -> in D${i}(core/Drop)`);
  }
  lines.push("Tick out -> in Reading");
  lines.push("Summary out -> in End(core/Drop)");
  return lines.join("\n") + "\n";
})();

/** Processes of {@linkcode FLOW_BIG}. */
export const FLOW_BIG_PROCESSES = 20;

async function withServer<T>(
  rt: Runtime,
  fn: (url: string, server: ServerProcess) => Promise<T>,
): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), `weir-dash-bench-${rt}-`));
  const server = await startWeirServe(weirCommand(rt, ROOT, work), {
    core: cores().server,
    work,
    name: "big",
    graph: FLOW_BIG,
  });
  try {
    return await fn(`http://127.0.0.1:${server.port}`, server);
  } finally {
    server.stop();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

async function browser(): Promise<Browser> {
  // Chromium on the cores the server does not use.
  return await launchChromium([]);
}

function pinBrowser(b: Browser): void {
  const pid = (b as unknown as { process?: () => { pid?: number } })
    .process?.()?.pid;
  if (pid === undefined) return;
  // Every thread of the browser and its children: on the other cores.
  spawnSync("sh", [
    "-c",
    `for p in ${pid} $(pgrep -P ${pid}); do taskset -a -p -c ${cores().wrk} $p >/dev/null; done`,
  ]);
}

async function openFlow(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/#/flows/big`);
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('[data-testid="process-box"]').length === n,
    FLOW_BIG_PROCESSES,
    { timeout: 30_000 },
  );
}

function partSize(): void {
  let raw = 0;
  let gz = 0;
  for (const [path, a] of Object.entries(UI_ASSETS)) {
    const bytes = new TextEncoder().encode(a.body);
    const z = gzipSync(bytes, { level: 9 }).byteLength;
    raw += bytes.byteLength;
    gz += z;
    console.log(
      `${path}: ${bytes.byteLength.toLocaleString("en-US")} bytes, gzip ${
        z.toLocaleString("en-US")
      }`,
    );
  }
  console.log(
    `page total: ${raw.toLocaleString("en-US")} bytes, gzip ${
      gz.toLocaleString("en-US")
    } (goal: JS and CSS at most 300 KB gzipped)`,
  );
  const base = flag("base") ?? "08061fb";
  const wt = baseWorktree(base, "weir-dash-base-");
  const work = mkdtempSync(join(tmpdir(), "weir-dash-exe-"));
  try {
    const now = compileWeir(ROOT, join(work, "now"));
    const then = compileWeir(wt.dir, join(work, "base"));
    const a = statSync(then).size;
    const b = statSync(now).size;
    console.log(
      `executable: ${base} ${(a / 1e6).toFixed(2)} MB, this tree ${
        (b / 1e6).toFixed(2)
      } MB, grew ${((b - a) / 1e6).toFixed(2)} MB (goal: at most 3 MB)`,
    );
  } finally {
    wt.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

async function partPaint(rt: Runtime, runs: number): Promise<void> {
  await withServer(rt, async (url) => {
    const b = await browser();
    pinBrowser(b);
    try {
      const fcp: number[] = [];
      const drawn: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const ctx = await b.newContext();
        const page = await ctx.newPage();
        const problems = watchProblems(page);
        await page.goto(`${url}/`);
        const paint = await page.waitForFunction(() => {
          const e = performance.getEntriesByName("first-contentful-paint")[0];
          return e ? e.startTime : 0;
        });
        const t = (await paint.jsonValue()) as number;
        await openFlow(page, url);
        const d = await page.evaluate(() => performance.now());
        if (i > 0) { // the first run warms the server
          fcp.push(t);
          drawn.push(d);
        }
        if (problems.errors.length > 0) {
          console.log(`  problems: ${problems.errors.join("; ")}`);
        }
        await ctx.close();
      }
      console.log(
        `${rt}: first contentful paint median ${median(fcp).toFixed(0)} ms (${
          fcp.map((x) => x.toFixed(0)).join(", ")
        }); graph of ${FLOW_BIG_PROCESSES} processes drawn ${
          median(drawn).toFixed(0)
        } ms after navigation start (goal: first paint under 1 s)`,
      );
    } finally {
      await b.close();
    }
  });
}

async function partCost(
  rt: Runtime,
  rounds: number,
  seconds: number,
): Promise<void> {
  await withServer(rt, async (url, server) => {
    const b = await browser();
    pinBrowser(b);
    try {
      const ctx = await b.newContext();
      const a: number[] = [];
      const withPage: number[] = [];
      const cpuPerSecond = async (): Promise<number> => {
        const c0 = processCpuSeconds(server.pid);
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, seconds * 1000));
        return (processCpuSeconds(server.pid) - c0) /
          ((performance.now() - t0) / 1000);
      };
      // Warm up: the flow and the history run for a while first.
      await new Promise((r) => setTimeout(r, 5000));
      for (let i = 0; i < rounds; i++) {
        a.push(await cpuPerSecond());
        const page = await ctx.newPage();
        await openFlow(page, url);
        await new Promise((r) => setTimeout(r, 2000));
        withPage.push(await cpuPerSecond());
        await page.close();
        console.log(
          `  ${rt} round ${i + 1}: no page ${
            (a[i] * 100).toFixed(2)
          }% of a core, one page ${(withPage[i] * 100).toFixed(2)}%`,
        );
      }
      const diffs = a.map((x, i) => (withPage[i] - x) * 100);
      console.log(
        `${rt}: server CPU no page median ${
          (median(a) * 100).toFixed(2)
        }% of a core, one dashboard open ${
          (median(withPage) * 100).toFixed(2)
        }%: +${median(diffs).toFixed(2)} points (rounds: ${
          diffs.map((d) => d.toFixed(2)).join(", ")
        }; goal: at most 1 point); server RSS ${
          rssMB(server.pid).toFixed(1)
        } MB`,
      );
    } finally {
      await b.close();
    }
  });
}

async function partMemory(rt: Runtime, minutes: number): Promise<void> {
  await withServer(rt, async (url, server) => {
    const b = await browser();
    pinBrowser(b);
    try {
      const page = await b.newPage({ viewport: { width: 1400, height: 900 } });
      const problems = watchProblems(page);
      await openFlow(page, url);
      // The tap of the busiest connection, open all along.
      await page.locator('[data-testid="edge"][data-to="M1.in"]')
        .dispatchEvent("click");
      await page.locator('[data-testid="tap"]').click();
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Performance.enable");
      const sample = async () => {
        await cdp.send("HeapProfiler.collectGarbage");
        const { metrics } = await cdp.send("Performance.getMetrics");
        const m = new Map(metrics.map((x) => [x.name, x.value]));
        return {
          heapMB: (m.get("JSHeapUsedSize") ?? NaN) / 1e6,
          nodes: m.get("Nodes") ?? NaN,
          listeners: m.get("JSEventListeners") ?? NaN,
        };
      };
      const rows: {
        minute: number;
        heapMB: number;
        nodes: number;
        listeners: number;
      }[] = [];
      for (let minute = 0; minute <= minutes; minute++) {
        if (minute > 0) await new Promise((r) => setTimeout(r, 60_000));
        const s = await sample();
        rows.push({ minute, ...s });
        console.log(
          `  ${rt} minute ${minute}: JS heap ${
            s.heapMB.toFixed(2)
          } MB, DOM nodes ${s.nodes}, listeners ${s.listeners}; server RSS ${
            rssMB(server.pid).toFixed(1)
          } MB`,
        );
      }
      const first = rows[Math.min(2, rows.length - 1)];
      const last = rows.at(-1)!;
      console.log(
        `${rt}: over ${minutes} min, JS heap ${
          first.heapMB.toFixed(2)
        } MB at minute ${first.minute} -> ${last.heapMB.toFixed(2)} MB (max ${
          Math.max(...rows.map((r) => r.heapMB)).toFixed(2)
        }), DOM nodes ${first.nodes} -> ${last.nodes}, listeners ${first.listeners} -> ${last.listeners}; page problems: ${problems.errors.length}`,
      );
    } finally {
      await b.close();
    }
  });
}

if (import.meta.main) {
  const part = flag("part") ?? "size";
  const runtimes: Runtime[] = flag("runtime") === undefined
    ? ["bun", "deno"]
    : [flag("runtime") as Runtime];
  console.log(
    `dashboard bench, part ${part}: ${new Date().toISOString()}, load ${
      loadAverage().join(" ")
    }`,
  );
  if (part === "size") partSize();
  for (const rt of part === "size" ? [] : runtimes) {
    if (part === "paint") await partPaint(rt, Number(flag("rounds") ?? 5));
    else if (part === "cost") {
      await partCost(
        rt,
        Number(flag("rounds") ?? 4),
        Number(flag("seconds") ?? 20),
      );
    } else if (part === "memory") {
      await partMemory(rt, Number(flag("minutes") ?? 60));
    }
  }
  process.exit(0);
}
