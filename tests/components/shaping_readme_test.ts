import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtins } from "../../src/components/mod.ts";
import { createNetwork } from "../../src/embed.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { finishedWithin, inTempDir } from "./_helpers.ts";

/** The fenced blocks of README's "Data shaping" section, by language. */
function blocks(): Record<string, string> {
  const readme = readFileSync(
    new URL("../../README.md", import.meta.url),
    "utf8",
  );
  const start = readme.indexOf("### Data shaping");
  assert.ok(start >= 0, "README has a Data shaping section");
  const section = readme.slice(start, readme.indexOf("\n## ", start));
  const found: Record<string, string> = {};
  for (const m of section.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    found[m[1]] ??= m[2];
  }
  return found;
}

test("README's data-shaping example prints what the README says", async () => {
  const { fbp, csv, text } = blocks();
  await inTempDir(async (dir) => {
    mkdirSync(join(dir, "in"));
    writeFileSync(join(dir, "in", "readings.csv"), csv);
    const lines: string[] = [];
    const registry = builtins({
      files: { root: dir },
      output: (line) => lines.push(line),
    });
    assert.deepEqual(validateGraph(loadGraph(fbp), registry), []);
    const net = createNetwork(fbp, { registry });
    const errors: unknown[] = [];
    net.on("error", (e) => errors.push(e));
    await net.start();
    assert.equal(await finishedWithin(net, 5000), "finished");
    assert.deepEqual(errors, []);
    // The two error lines come in whichever order their processes ran.
    assert.deepEqual(lines.sort(), text.trimEnd().split("\n").sort());
  });
});

test("README's template error is the one validation reports", () => {
  const problems = validateGraph(
    loadGraph("'{{#rows}}' -> template T(text/Template)"),
    builtins(),
  );
  assert.equal(problems.length, 1);
  assert.match(
    problems[0].message,
    /Cannot compile the template: unclosed section "rows" at line 1, column 10$/,
  );
});
