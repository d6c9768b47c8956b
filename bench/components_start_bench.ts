/**
 * Start-up cost of the operator's own components (`--components DIR`):
 * `weir serve` with no components folder against the same command with a
 * folder of 20 component modules (10 `.ts`, 10 `.js`, each a component
 * with a control port like README's `ops/Scale`), for each way weir runs:
 *
 * - `binary`: the single executable, built here with `compile()` of
 *   `scripts/compile.ts` into a temporary folder and run from a fresh one;
 * - `bun`: `bun src/cli/main.ts`;
 * - `deno`: `deno run -A src/cli/main.ts`.
 *
 * Start: from `spawn()` of `<cmd> serve --listen 127.0.0.1:<port> --db
 * :memory: --no-history [--components DIR]` to the first `GET /healthz`
 * answered 200, polled in a loop that asks again at once. One warm-up
 * start of each (not counted: the runtimes' caches, Deno's transpile cache
 * of the modules), then `--rounds` rounds; in each, for each runtime, one
 * start without and one with the folder, in alternating order (A B, then
 * B A), so that the machine's drift hits both. Medians, min - max, and the
 * ratio of the medians. Every process is stopped by its pid (SIGTERM, then
 * SIGKILL after 10 s); only 127.0.0.1 is used.
 *
 * Run: `bun bench/components_start_bench.ts` (or `deno run -A
 * bench/components_start_bench.ts`); `--rounds=N` (default 10),
 * `--modules=N` (default 20). Prints a Markdown table for bench/RESULTS.md.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { compile } from "../scripts/compile.ts";
import { loadAverage, median } from "./_measure.ts";

const argv: string[] = process.argv ?? [];
const intArg = (name: string, fallback: number): number => {
  const v = argv.find((a) => a.startsWith(`--${name}=`))?.slice(
    name.length + 3,
  );
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot run the benchmark: --${name} must be a positive integer, received "${v}"`,
    );
  }
  return n;
};
const ROUNDS = intArg("rounds", 10);
const MODULES = intArg("modules", 20);
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

type Kind = "binary" | "bun" | "deno";
const KINDS: Kind[] = ["binary", "bun", "deno"];

/** A component module like README's example, numbered. */
function moduleText(i: number, ts: boolean): string {
  return `import { defineComponent } from "weir";

export const Scale${i} = defineComponent({
  name: "bench/Scale${i}",
  description: "Multiplies each number by a factor.",
  inPorts: {
    in: { type: "number" },
    factor: { type: "number", control: true, default: ${i} },
  },
  outPorts: { out: { type: "number" } },
  process(value${ts ? ": number" : ""}, ctx) {
    ctx.send("out", value * ctx.control${ts ? "<number>" : ""}("factor"));
  },
});
`;
}

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null;

/** SIGTERM by pid, wait for the exit; SIGKILL after STOP_TIMEOUT_MS. */
async function stop(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((r) => child.once("exit", () => r()));
  process.kill(child.pid!, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((r) =>
      timer = setTimeout(() => r(true), STOP_TIMEOUT_MS)
    ),
  ]);
  clearTimeout(timer);
  if (late && !exited(child)) {
    process.kill(child.pid!, "SIGKILL");
    await done;
  }
}

/** The `ms` of weir's "loaded N components" log line, by start. */
const loadMs: Record<string, number[]> = {};

/**
 * ms from spawn() to the first 200 from /healthz; the process is then
 * stopped. With a components folder, the load time weir logged (its
 * "loaded N components" line's `ms`) goes into `loadMs[file]`.
 */
async function startMs(
  file: string,
  pre: string[],
  cwd: string,
  components: string | undefined,
): Promise<number> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(file, [
    ...pre,
    "serve",
    "--listen",
    `127.0.0.1:${port}`,
    "--db",
    ":memory:",
    "--no-history",
    ...(components ? ["--components", components] : []),
  ], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let err = "";
  child.stderr!.on("data", (d) => err += d);
  try {
    for (;;) {
      try {
        const res = await fetch(`${base}/healthz`);
        await res.arrayBuffer();
        if (res.status === 200) {
          const took = performance.now() - t0;
          const m = /"msg":"loaded \d+ components?[^\n]*"ms":([\d.]+)/.exec(
            err,
          );
          if (m !== null) (loadMs[file] ??= []).push(Number(m[1]));
          return took;
        }
      } catch {
        // Not listening yet: ask again at once.
      }
      if (exited(child)) {
        throw new Error(
          `${file} exited (${
            child.exitCode ?? child.signalCode
          }) before answering /healthz`,
        );
      }
      if (performance.now() - t0 > START_TIMEOUT_MS) {
        throw new Error(`${file} did not answer within ${START_TIMEOUT_MS} ms`);
      }
    }
  } finally {
    await stop(child);
  }
}

const r1 = (n: number) => n.toFixed(1);

async function main(): Promise<void> {
  const build = mkdtempSync(join(tmpdir(), "weir-bench-build-"));
  const run = mkdtempSync(join(tmpdir(), "weir-bench-run-"));
  const ops = mkdtempSync(join(tmpdir(), "weir-bench-ops-"));
  try {
    for (let i = 0; i < MODULES; i++) {
      const ts = i % 2 === 0;
      writeFileSync(
        join(ops, `scale_${String(i).padStart(2, "0")}.${ts ? "ts" : "js"}`),
        moduleText(i, ts),
      );
    }
    compile(join(build, "weir"));
    copyFileSync(join(build, "weir"), join(run, "weir"));
    const commands: Record<Kind, [string, string[], string]> = {
      binary: [join(run, "weir"), [], run],
      bun: [bin("bun"), [MAIN], ROOT],
      deno: [bin("deno"), ["run", "-A", MAIN], ROOT],
    };
    const loadBefore = loadAverage();
    const times: Record<Kind, { none: number[]; some: number[] }> = {
      binary: { none: [], some: [] },
      bun: { none: [], some: [] },
      deno: { none: [], some: [] },
    };
    for (const kind of KINDS) {
      const [file, pre, cwd] = commands[kind];
      await startMs(file, pre, cwd, undefined);
      await startMs(file, pre, cwd, ops);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of KINDS) {
        const [file, pre, cwd] = commands[kind];
        const order = round % 2 === 0 ? [false, true] : [true, false];
        for (const withOps of order) {
          const ms = await startMs(file, pre, cwd, withOps ? ops : undefined);
          times[kind][withOps ? "some" : "none"].push(ms);
        }
      }
    }
    const loadAfter = loadAverage();
    const versions = `bun ${
      (await import("node:child_process")).execFileSync(bin("bun"), [
        "--version",
      ]).toString().trim()
    }, deno ${
      (await import("node:child_process")).execFileSync(bin("deno"), [
        "--version",
      ]).toString().split("\n")[0].replace(/^deno /, "")
    }`;
    console.log(
      `- Run: ${
        new Date().toISOString()
      }, \`bun bench/components_start_bench.ts --rounds=${ROUNDS} --modules=${MODULES}\``,
    );
    console.log(`- Runtimes: ${versions}`);
    console.log(
      `- Load average (1 min): ${loadBefore[0]} before, ${loadAfter[0]} after`,
    );
    console.log("");
    console.log(
      `| weir serve, spawn to first /healthz 200 (ms) | no components: median (min - max) | ${MODULES} modules: median (min - max) | ratio of medians | loading the ${MODULES} modules, as weir logs it (ms): median (min - max) |`,
    );
    console.log("|---|---|---|---|---|");
    for (const kind of KINDS) {
      const { none, some } = times[kind];
      // The warm-up's load is left out, as its start is.
      const loads = (loadMs[commands[kind][0]] ?? []).slice(1);
      const shown = kind === "binary"
        ? "single executable"
        : kind === "bun"
        ? "bun src/cli/main.ts"
        : "deno run -A src/cli/main.ts";
      console.log(
        `| ${shown} | ${r1(median(none))} (${r1(Math.min(...none))} - ${
          r1(Math.max(...none))
        }) | ${r1(median(some))} (${r1(Math.min(...some))} - ${
          r1(Math.max(...some))
        }) | ${(median(some) / median(none)).toFixed(2)} | ${
          loads.length === 0
            ? "-"
            : `${r1(median(loads))} (${r1(Math.min(...loads))} - ${
              r1(Math.max(...loads))
            })`
        } |`,
      );
    }
    console.log("");
    for (const kind of KINDS) {
      console.log(
        `${kind}: none ${
          times[kind].none.map(r1).join(", ")
        }; ${MODULES} modules ${times[kind].some.map(r1).join(", ")}`,
      );
    }
  } finally {
    rmSync(build, { recursive: true, force: true });
    rmSync(run, { recursive: true, force: true });
    rmSync(ops, { recursive: true, force: true });
  }
}

await main();
