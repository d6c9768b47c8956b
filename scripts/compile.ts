/**
 * Builds the single executable: `bun scripts/compile.ts` writes `dist/weir`
 * for this machine; `--all` also cross-compiles every Linux target into
 * `dist/weir-<target>`; `--target=<name>` (repeatable) builds the ones
 * named; `--outdir=<dir>` writes elsewhere (default `dist`).
 *
 * Targets: linux-x64, linux-x64-baseline (CPUs without AVX2), linux-arm64,
 * linux-x64-musl, linux-arm64-musl (Alpine and other musl systems). Bun
 * fetches a target's runtime from the npm registry the first time it is
 * built, then keeps it in its cache. For linux-x64 on an x64 Linux machine
 * Bun embeds the runtime it runs on; the npm package `bun` installed Bun's
 * baseline build on the machine of bench/RESULTS.md (a CPU with AVX2), so
 * there linux-x64 is the baseline build too, which runs on every x64 CPU.
 *
 * What goes in: `src/cli/main.ts` and everything it imports, bundled and
 * minified, compiled to bytecode (about 30 ms less from exec to the first
 * response). The built-in components are imported statically, so the
 * executable reads nothing from the source tree when it runs. `tv4` is left
 * out: the `fbp` parser loads it only to check its output against a JSON
 * schema, which weir never asks for (weir validates graphs itself). Bun's
 * executables load `.env` and `bunfig.toml` from the working folder unless
 * told not to: weir's are told not to.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

/** The targets `--all` builds, by the suffix of their file name. */
export const TARGETS: Record<string, string> = {
  "linux-x64": "bun-linux-x64",
  "linux-x64-baseline": "bun-linux-x64-baseline",
  "linux-arm64": "bun-linux-arm64",
  "linux-x64-musl": "bun-linux-x64-musl",
  "linux-arm64-musl": "bun-linux-arm64-musl",
};

const ROOT = join(import.meta.dirname!, "..");

/**
 * Compiles weir into `outfile` for `target` (a Bun target such as
 * `bun-linux-arm64`; this machine's when left out). Throws with Bun's
 * output when the build fails.
 */
export function compile(outfile: string, target?: string): void {
  const bun = process.versions.bun !== undefined
    ? process.execPath
    : join(ROOT, "node_modules", ".bin", "bun");
  const args = [
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "--sourcemap",
    "--external=tv4",
    // What weir reads is its flags, WEIR_* variables and its config file:
    // not a .env or bunfig.toml that happens to be in the working folder.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    ...(target ? [`--target=${target}`] : []),
    join(ROOT, "src", "cli", "main.ts"),
    "--outfile",
    outfile,
  ];
  const r = spawnSync(bun, args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(
      `bun build --compile${target ? ` --target=${target}` : ""} failed (${
        r.status ?? r.signal
      }):\n${r.stdout}${r.stderr}`,
    );
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  let outdir = join(ROOT, "dist");
  const chosen: string[] = [];
  for (const a of args) {
    if (a === "--all") chosen.push(...Object.keys(TARGETS));
    else if (a.startsWith("--target=")) chosen.push(a.slice(9));
    else if (a.startsWith("--outdir=")) outdir = a.slice(9);
    else {
      console.error(
        `compile: unknown argument ${JSON.stringify(a)}; use --all, --target=<${
          Object.keys(TARGETS).join("|")
        }>, --outdir=<dir>`,
      );
      process.exit(2);
    }
  }
  for (const t of chosen) {
    if (!(t in TARGETS)) {
      console.error(
        `compile: unknown target ${JSON.stringify(t)}; known: ${
          Object.keys(TARGETS).join(", ")
        }`,
      );
      process.exit(2);
    }
  }
  mkdirSync(outdir, { recursive: true });
  const builds: [string, string | undefined][] = [[
    join(outdir, "weir"),
    undefined,
  ]];
  for (const t of new Set(chosen)) {
    builds.push([join(outdir, `weir-${t}`), TARGETS[t]]);
  }
  for (const [file, target] of builds) {
    const started = performance.now();
    compile(file, target);
    const mb = statSync(file).size / 1e6;
    console.log(
      `${file}: ${mb.toFixed(1)} MB (${target ?? "this machine"}, ${
        Math.round(performance.now() - started)
      } ms)`,
    );
  }
}
