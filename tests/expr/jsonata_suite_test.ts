/**
 * The `jsonata` project's own test suite (tests/expr/jsonata_suite/, from
 * github.com/jsonata-js/jsonata test/test-suite, MIT licence; brought in by
 * scripts/jsonata_suite.ts) through both of weir's expression paths:
 *
 * - every case through the `jsonata` package (`compile: false`), which must
 *   give the expected result or error code (a sanity check of the data and
 *   of the harness);
 * - every case the compiler takes through the compiled closure, which must
 *   give the expected result or error code too, and the package's.
 *
 * Cases with a `depth`/`timelimit` run the package under the suite's own
 * harness (evaluation callbacks that throw U1001) and the compiled path
 * under its budget hook (`evaluateWithin`, D1011/D1012 for U1001).
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import jsonata from "jsonata";
import { _useRe2Only, LinearRegExp } from "../../src/expr/linear_regexp.ts";
import {
  compileExpression,
  jsonataPackage,
} from "../../src/expr/compile_expression.ts";

interface Case {
  group: string;
  name: string;
  expr: string;
  data?: unknown;
  dataset?: string | null;
  bindings?: Record<string, unknown>;
  result?: unknown;
  undefinedResult?: boolean;
  code?: string;
  error?: Record<string, unknown>;
  timelimit?: number;
  depth?: number;
}

const lines = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), "jsonata_suite", "suite.jsonl"),
  "utf8",
).split("\n").filter((l) => l !== "");
const suite = {
  datasets: (JSON.parse(lines[0]) as { datasets: Record<string, unknown> })
    .datasets,
  cases: lines.slice(1).map((l) => JSON.parse(l) as Case),
};

function input(c: Case): unknown {
  if ("data" in c) return structuredClone(c.data);
  if (c.dataset === null || c.dataset === undefined) return undefined;
  return structuredClone(suite.datasets[c.dataset]);
}

/** A value as the suite's expectations compare it (chai's deep equal). */
function normalize(value: unknown, depth = 0): unknown {
  if (depth > 50) return "[deep]";
  if (typeof value === "function") return "[function]";
  if (value === null || typeof value !== "object") return value;
  const v = value as Record<string, unknown>;
  if (v._jsonata_lambda === true || v._jsonata_function === true) {
    return "[function]";
  }
  if (Array.isArray(value)) return value.map((x) => normalize(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = normalize(v[k], depth + 1);
  return out;
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: unknown };

/** What the case expects, as an outcome; the codes it accepts. */
function expected(c: Case, budgetCodes: string[]): {
  outcome: Outcome;
  codes: unknown[];
} {
  if (c.undefinedResult) {
    return { outcome: { ok: true, value: undefined }, codes: [] };
  }
  if ("result" in c) {
    return { outcome: { ok: true, value: c.result }, codes: [] };
  }
  const code = c.error?.code ?? c.code;
  const codes = code === "U1001" ? ["U1001", ...budgetCodes] : [code];
  return { outcome: { ok: false, code }, codes };
}

function agrees(
  c: Case,
  got: Outcome,
  budgetCodes: string[],
): string | undefined {
  const want = expected(c, budgetCodes);
  if (want.outcome.ok) {
    if (!got.ok) return `expected a result, got error ${String(got.code)}`;
    try {
      assert.deepStrictEqual(
        normalize(got.value),
        normalize(want.outcome.value),
      );
    } catch {
      return `expected ${JSON.stringify(want.outcome.value)}, got ${
        JSON.stringify(normalize(got.value))
      }`;
    }
    return undefined;
  }
  if (got.ok) {
    return `expected error ${String(want.outcome.code)}, got ${
      JSON.stringify(normalize(got.value))
    }`;
  }
  if (!want.codes.includes(got.code)) {
    return `expected error ${String(want.outcome.code)}, got ${
      String(got.code)
    }`;
  }
  return undefined;
}

function codeOf(e: unknown): unknown {
  return e !== null && typeof e === "object"
    ? (e as { code?: unknown }).code
    : undefined;
}

/** The suite's own harness: evaluation callbacks bounding depth and time. */
function timebox(expr: jsonata.Expression, timeout: number, maxDepth: number) {
  let depth = 0;
  const time = Date.now();
  const check = () => {
    if (maxDepth > 0 && depth > maxDepth) throw { code: "U1001" };
    if (Date.now() - time > timeout) throw { code: "U1001" };
  };
  const assign = expr.assign.bind(expr) as unknown as (
    name: symbol,
    value: unknown,
  ) => void;
  assign(
    Symbol.for("jsonata.__evaluate_entry"),
    (_e: unknown, _i: unknown, env: { isParallelCall?: boolean }) => {
      if (env.isParallelCall) return;
      depth++;
      check();
    },
  );
  assign(
    Symbol.for("jsonata.__evaluate_exit"),
    (_e: unknown, _i: unknown, env: { isParallelCall?: boolean }) => {
      if (env.isParallelCall) return;
      depth--;
      check();
    },
  );
}

async function viaPackage(c: Case): Promise<Outcome> {
  let expr: jsonata.Expression;
  try {
    expr = jsonataPackage(c.expr);
    if (c.timelimit !== undefined && c.depth !== undefined) {
      timebox(expr, c.timelimit, c.depth);
    }
  } catch (e) {
    return { ok: false, code: codeOf(e) };
  }
  try {
    return { ok: true, value: await expr.evaluate(input(c), c.bindings) };
  } catch (e) {
    return { ok: false, code: codeOf(e) };
  }
}

/**
 * The regular expressions of a case's expression (none when it does not
 * parse): every one runs on weir's linear-time engine on both paths.
 */
function regexesOf(text: string): RegExp[] {
  let ast: unknown;
  try {
    ast = jsonata(text).ast();
  } catch {
    return [];
  }
  const found: RegExp[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    if (node instanceof RegExp) {
      found.push(node);
      return;
    }
    for (const v of Object.values(node)) walk(v);
  };
  walk(ast);
  return found;
}

/** Cases with a regular expression, and those that agree on both paths. */
const regexTotals = { cases: 0, agree: 0, re2: 0, native: 0, refused: 0 };

const totals = {
  cases: 0,
  compiled: 0,
  fallback: 0,
  handedOver: 0,
  parseErrors: 0,
};
const byReason = new Map<string, number>();

/** The compiled path: undefined when the compiler left the case alone. */
async function viaCompiler(c: Case): Promise<Outcome | undefined> {
  let e;
  try {
    e = compileExpression(c.expr);
  } catch (err) {
    // A syntax error comes from the package's parser, shared by both
    // paths; anything else is the compiler failing.
    if (!(err instanceof SyntaxError)) {
      return { ok: false, code: `compiler crashed: ${String(err)}` };
    }
    totals.parseErrors++;
    return undefined;
  }
  if (!e.compiled) {
    totals.fallback++;
    const reason = e.fallbackReason ?? "";
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    return undefined;
  }
  totals.compiled++;
  try {
    let value: unknown;
    if (c.timelimit !== undefined && c.depth !== undefined) {
      value = e.evaluateWithin(input(c), {
        maxDepth: c.depth,
        timeoutMs: c.timelimit,
      }, c.bindings);
    } else {
      value = e.evaluateNow(input(c), c.bindings);
    }
    if (value instanceof Promise) {
      totals.handedOver++;
      value = await value;
    }
    return { ok: true, value };
  } catch (err) {
    return { ok: false, code: codeOf(err) };
  }
}

const groups = [...new Set(suite.cases.map((c) => c.group))];
const budgetCodes = ["D1011", "D1012"];

for (const group of groups) {
  test(
    `jsonata suite, ${group}: the package and the compiler agree with the expected results`,
    {
      timeout: 300_000,
    },
    async () => {
      const failures: string[] = [];
      for (const c of suite.cases.filter((x) => x.group === group)) {
        totals.cases++;
        const label = `${c.group}/${c.name} ${JSON.stringify(c.expr)}`;
        const regexes = regexesOf(c.expr);
        const before = failures.length;
        const pkg = await viaPackage(c);
        const pkgProblem = agrees(c, pkg, []);
        if (pkgProblem !== undefined) {
          failures.push(`package: ${label}: ${pkgProblem}`);
        }
        const compiled = await viaCompiler(c);
        if (compiled !== undefined) {
          const problem = agrees(c, compiled, budgetCodes);
          if (problem !== undefined) {
            failures.push(`compiled: ${label}: ${problem}`);
          }
        }
        if (regexes.length > 0) {
          regexTotals.cases++;
          if (failures.length === before) regexTotals.agree++;
          for (const r of regexes) {
            try {
              regexTotals[new LinearRegExp(r).engine]++;
            } catch {
              regexTotals.refused++;
            }
          }
        }
      }
      assert.deepEqual(failures, []);
    },
  );
}

test("jsonata suite: the compiler takes most cases (summary)", () => {
  console.log(
    `jsonata suite: ${totals.cases} cases; compiled ${totals.compiled}, ` +
      `left to the package ${totals.fallback} (syntax errors ${totals.parseErrors}), ` +
      `handed over at run time ${totals.handedOver}`,
  );
  for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${n} ${reason}`);
  }
  console.log(
    `jsonata suite: ${regexTotals.cases} cases with a regular expression, ` +
      `${regexTotals.agree} agree on both paths; their patterns ran on ` +
      `RE2 ${regexTotals.re2}, on JavaScript's engine (linear by ` +
      `construction) ${regexTotals.native}, refused ${regexTotals.refused}`,
  );
  assert.ok(regexTotals.cases > 0);
  assert.equal(
    totals.compiled + totals.fallback + totals.parseErrors,
    totals.cases,
  );
  assert.ok(totals.compiled > totals.cases / 2);
});

// After the summary: these runs would count in its totals.
test(
  "jsonata suite: every case with a regular expression agrees with every pattern on RE2",
  { timeout: 60_000 },
  async () => {
    _useRe2Only(true);
    const failures: string[] = [];
    let n = 0;
    try {
      for (const c of suite.cases) {
        if (regexesOf(c.expr).length === 0) continue;
        n++;
        const label = `${c.group}/${c.name} ${JSON.stringify(c.expr)}`;
        const pkg = agrees(c, await viaPackage(c), []);
        if (pkg !== undefined) failures.push(`package: ${label}: ${pkg}`);
        const compiled = await viaCompiler(c);
        const problem = compiled && agrees(c, compiled, budgetCodes);
        if (problem) failures.push(`compiled: ${label}: ${problem}`);
      }
    } finally {
      _useRe2Only(false);
    }
    console.log(
      `jsonata suite: ${n} cases with a regular expression, all on RE2`,
    );
    assert.deepEqual(failures, []);
    assert.ok(n > 0);
  },
);
