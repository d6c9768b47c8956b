/**
 * A folder named as a file to read fails with one sentence: `fs/ReadLines`
 * and `fs/ReadFile` said `cannot read "dir": cannot read "dir": it is not a
 * regular file` (found naming a folder in a graph run with `weir run`).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runGraph } from "./_graph_helpers.ts";
import { inTempDir } from "./_helpers.ts";

for (
  const [component, graph] of [
    [
      "fs/ReadLines",
      (d: string) => `'${d}' -> path R(fs/ReadLines) out -> in S(test/Sink)`,
    ],
    [
      "fs/ReadFile",
      (d: string) => `'${d}' -> in R(fs/ReadFile) out -> in S(test/Sink)`,
    ],
  ] as const
) {
  test(`${component} names a folder it cannot read once`, async () => {
    await inTempDir(async (dir) => {
      const folder = join(dir, "folder");
      mkdirSync(folder);
      const run = await runGraph(graph(folder));
      assert.equal(run.errors.length, 1, String(run.errors));
      const message = run.errors[0].message;
      assert.match(
        message,
        /cannot read "[^"]*folder": it is not a regular file$/,
      );
      assert.equal(message.split("cannot read").length, 2, message);
    });
  });
}
