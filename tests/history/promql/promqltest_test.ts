/**
 * weir's PromQL against the expectations of Prometheus's own test scripts
 * (v2.42.0, promql/testdata; the cases in ./testdata, credited in each
 * file): every `eval` there must give Prometheus's answer, or fail where
 * Prometheus fails.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseScript, runCase } from "./_promqltest.ts";

const dir = fileURLToPath(new URL("./testdata/", import.meta.url));

for (const file of readdirSync(dir).filter((f) => f.endsWith(".test")).sort()) {
  test(`PromQL agrees with Prometheus 2.42's ${file}`, () => {
    const cases = parseScript(readFileSync(dir + file, "utf8"));
    assert.ok(cases.length > 0, `${file} has no eval cases`);
    const failures = cases.map((c) => runCase(c)).filter((f) =>
      f !== undefined
    );
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${cases.length} cases disagree`,
    );
  });
  test(`PromQL agrees with Prometheus 2.42's ${file}, reading series one at a time (selectEach)`, () => {
    const cases = parseScript(readFileSync(dir + file, "utf8"));
    const failures = cases.map((c) => runCase(c, { selectEach: true }))
      .filter((f) => f !== undefined);
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${cases.length} cases disagree`,
    );
  });
}

test("the test-script runner reports a wrong expectation", () => {
  const [c] = parseScript(`
load 5m
  x{a="1"} 0+1x10

eval instant at 50m x
  x{a="1"} 11
`);
  assert.match(runCase(c) ?? "", /is 10, expected 11/);
});
