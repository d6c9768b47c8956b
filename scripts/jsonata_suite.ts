/**
 * Brings the `jsonata` project's own test suite (`test/test-suite` of
 * github.com/jsonata-js/jsonata, MIT licence) into weir as one compact JSON
 * file, `tests/expr/jsonata_suite/suite.jsonl`, that
 * `tests/expr/jsonata_suite_test.ts` runs through both of weir's expression
 * paths (the compiler and the `jsonata` package).
 *
 *   bun scripts/jsonata_suite.ts /path/to/jsonata/git-dir [commit]
 *
 * The source is a git directory (a clone or a bare mirror): files are read
 * with `git show`, so no work tree is needed. Each case keeps the fields of
 * the suite's own format (see its TESTSUITE.md) plus `group` and `name`; an
 * `expr-file` is read into `expr`; datasets are stored once, by name.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const [gitDir, commitArg] = process.argv.slice(2);
if (gitDir === undefined) {
  throw new TypeError(
    "Cannot import the JSONata test suite: give the git directory of a jsonata-js/jsonata clone",
  );
}
const commit = commitArg ?? "HEAD";
const git = (...args: string[]) =>
  execFileSync("git", ["-C", gitDir, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
const show = (path: string) => git("show", `${commit}:${path}`);
const resolved = git("rev-parse", commit).trim();
const base = "test/test-suite";
const files = git("ls-tree", "-r", "--name-only", commit, base)
  .split("\n")
  .filter((f) => f !== "");

const datasets: Record<string, unknown> = {};
const cases: Record<string, unknown>[] = [];
for (const file of files) {
  const rest = file.slice(base.length + 1).split("/");
  if (rest[0] === "datasets" && file.endsWith(".json")) {
    datasets[rest[1].replace(/\.json$/, "")] = JSON.parse(show(file));
  } else if (rest[0] === "groups" && file.endsWith(".json")) {
    const spec = JSON.parse(show(file));
    const list = Array.isArray(spec) ? spec : [spec];
    list.forEach((c: Record<string, unknown>, i: number) => {
      const name = list.length > 1 ? `${rest[2]}#${i}` : rest[2];
      if (typeof c["expr-file"] === "string") {
        c.expr = show(`${base}/groups/${rest[1]}/${c["expr-file"]}`);
        delete c["expr-file"];
      }
      cases.push({ group: rest[1], name: name.replace(/\.json/, ""), ...c });
    });
  }
}

const out = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "tests",
  "expr",
  "jsonata_suite",
  "suite.jsonl",
);
// JSON Lines: the source and the datasets, then one case a line (small
// diffs when the suite is brought in again; `deno fmt` leaves .jsonl alone,
// and the suite holds lone surrogates that it refuses in .json).
const source =
  `https://github.com/jsonata-js/jsonata/tree/${resolved}/test/test-suite`;
const text = [
  JSON.stringify({ source, datasets }),
  ...cases.map((c) => JSON.stringify(c)),
].join("\n") + "\n";
writeFileSync(out, text);
console.log(
  `${cases.length} cases, ${Object.keys(datasets).length} datasets -> ${out}`,
);
