/**
 * Regular expressions from graphs (issue 18): the linear-time engine
 * (`LinearRegExp`, RE2 through `re2js`, or JavaScript's engine for a
 * pattern linear by construction) side by side with JavaScript's
 * `RegExp`, in one mitata run per table:
 *
 * 1. finding 8: `strings/Split`'s delimiter `/(a+)+b/` over 26 `a`s (1.5 s
 *    per message on Bun and 14.7 s on Deno with `RegExp`); `RegExp` is
 *    timed once over 20 characters (64 times less work than 26), and over
 *    26 with `--slow`;
 * 2. ordinary delimiters and matches over a 40-character CSV line: `RegExp`,
 *    `LinearRegExp` (the engine weir picks), and RE2 forced for every
 *    pattern (what running all on RE2 would cost);
 * 3. a JSONata expression with regular expressions on the `jsonata`
 *    package with `RegexEngine` `RegExp` (as before) and `LinearRegExp`
 *    (as now), and on the compiled path (as now).
 *
 *   bun bench/regex_bench.ts
 *   deno run -A bench/regex_bench.ts
 *   bun bench/regex_bench.ts --slow      # also RegExp over 26 characters (seconds)
 *
 * Prints mean times per operation and the ratios to `RegExp`, with the
 * load average before and after.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { bench, do_not_optimize, run } from "mitata";
import jsonata from "jsonata";
import { _useRe2Only, LinearRegExp } from "../src/expr/linear_regexp.ts";
import {
  compileExpression,
  jsonataPackage,
} from "../src/expr/compile_expression.ts";
import { runtime } from "./_runtime.ts";

const slow = process.argv.includes("--slow");
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];
const loadBefore = loadavg();

type Stats = { avg: number };
async function measure(
  register: () => void,
): Promise<Map<string, Stats>> {
  register();
  const out = await run({ format: "quiet" });
  const stats = new Map<string, Stats>();
  for (const b of out.benchmarks) stats.set(b.alias, b.runs[0].stats as Stats);
  return stats;
}

function fmt(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

console.log(`# regex_bench, ${runtime()}, load ${loadBefore} before\n`);

// 1. Finding 8.
const a26 = "a".repeat(26);
const a20 = "a".repeat(20);
const evil = new LinearRegExp("(a+)+b");
if (a26.split(evil)[0] !== a26) throw new Error("wrong split");
const t0 = performance.now();
a20.split(/(a+)+b/);
const native20 = performance.now() - t0;
let native26: number | undefined;
if (slow) {
  const t1 = performance.now();
  a26.split(/(a+)+b/);
  native26 = performance.now() - t1;
}
const f8 = await measure(() => {
  bench("linear 26", () => do_not_optimize(a26.split(evil)));
  bench("linear 5000", () => do_not_optimize("a".repeat(5000).split(evil)));
});
console.log("## Finding 8: strings/Split by /(a+)+b/ (one message)\n");
console.log("| input | RegExp | LinearRegExp (RE2) |");
console.log("|---|---|---|");
console.log(`| 20 a | ${native20.toFixed(1)} ms (once) | |`);
console.log(
  `| 26 a | ${
    native26 === undefined
      ? "not run (--slow)"
      : `${native26.toFixed(0)} ms (once)`
  } | ${fmt(f8.get("linear 26")!.avg)} |`,
);
console.log(`| 5,000 a | | ${fmt(f8.get("linear 5000")!.avg)} |\n`);

// 2. Ordinary patterns.
const line = "2024-05-01T10:00:00Z,sensor-17, 23.5 ,OK";
const patterns = [
  ",",
  "[;,]",
  "\\r?\\n",
  "\\s*,\\s*",
  "\\d+",
  "(\\d{4})-(\\d\\d)-(\\d\\d)",
  "^(\\w+)-(\\d+)$",
];
const rows: string[] = [];
for (const source of patterns) {
  const native = new RegExp(source);
  const nativeG = new RegExp(source, "g");
  const auto = new LinearRegExp(source);
  const autoG = new LinearRegExp(source, "g");
  _useRe2Only(true);
  const re2 = new LinearRegExp(source);
  const re2G = new LinearRegExp(source, "g");
  _useRe2Only(false);
  const stats = await measure(() => {
    for (let r = 0; r < 2; r++) {
      bench(`split native ${r}`, () => do_not_optimize(line.split(native)));
      bench(`split auto ${r}`, () => do_not_optimize(line.split(auto)));
      bench(`split re2 ${r}`, () => do_not_optimize(line.split(re2)));
      bench(`exec native ${r}`, () => {
        nativeG.lastIndex = 0;
        return do_not_optimize(nativeG.exec(line));
      });
      bench(`exec auto ${r}`, () => {
        autoG.lastIndex = 0;
        return do_not_optimize(autoG.exec(line));
      });
      bench(`exec re2 ${r}`, () => {
        re2G.lastIndex = 0;
        return do_not_optimize(re2G.exec(line));
      });
    }
  });
  const best = (k: string) =>
    Math.min(stats.get(`${k} 0`)!.avg, stats.get(`${k} 1`)!.avg);
  for (const op of ["split", "exec"]) {
    const n = best(`${op} native`);
    const a = best(`${op} auto`);
    const r2 = best(`${op} re2`);
    rows.push(
      `| ${op} | \`/${source}/\` | ${auto.engine} | ${fmt(n)} | ${fmt(a)} (${
        (a / n).toFixed(1)
      }x) | ${fmt(r2)} (${(r2 / n).toFixed(1)}x) |`,
    );
  }
}
console.log(`## Ordinary patterns over ${JSON.stringify(line)}\n`);
console.log(
  "| op | pattern | weir's engine | RegExp | LinearRegExp | RE2 forced |",
);
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(r);

// 3. JSONata.
const expr =
  '{"parts": $split(line, /\\s*,\\s*/), "date": $match(line, /(\\d{4})-(\\d\\d)/).groups, "ok": $contains(line, /OK$/), "clean": $replace(line, /\\s+/, "")}';
const data = { line };
const pkgNative = jsonata(expr, { RegexEngine: RegExp });
const pkgLinear = jsonataPackage(expr);
const compiled = compileExpression(expr);
if (!compiled.compiled) throw new Error("expected the compiled path");
const want = JSON.stringify(await pkgNative.evaluate(data));
for (
  const got of [await pkgLinear.evaluate(data), compiled.evaluateNow(data)]
) {
  if (JSON.stringify(got) !== want) throw new Error("results differ");
}
const js = await measure(() => {
  for (let r = 0; r < 2; r++) {
    bench(
      `pkg native ${r}`,
      async () => do_not_optimize(await pkgNative.evaluate(data)),
    );
    bench(
      `pkg linear ${r}`,
      async () => do_not_optimize(await pkgLinear.evaluate(data)),
    );
    bench(`compiled ${r}`, () => do_not_optimize(compiled.evaluateNow(data)));
  }
});
const jbest = (k: string) =>
  Math.min(js.get(`${k} 0`)!.avg, js.get(`${k} 1`)!.avg);
console.log(`\n## JSONata ${expr}\n`);
console.log("| path | RegexEngine | per evaluation |");
console.log("|---|---|---|");
console.log(
  `| jsonata package | RegExp (before) | ${fmt(jbest("pkg native"))} |`,
);
console.log(
  `| jsonata package | LinearRegExp (now) | ${fmt(jbest("pkg linear"))} (${
    (jbest("pkg linear") / jbest("pkg native")).toFixed(2)
  }x) |`,
);
console.log(`| compiled | LinearRegExp (now) | ${fmt(jbest("compiled"))} |`);
console.log(`\nload ${loadBefore} before, ${loadavg()} after`);
