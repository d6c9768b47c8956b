/**
 * `weir validate` and `POST /flows` see the same problems of a graph, in
 * the same order: by line and column, those without a position last, and
 * what the engine would refuse at build time as well as the rest.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cli } from "./_weir.ts";
import { fbp, setup } from "../server/_flow_api.ts";

/**
 * The problems `weir validate` prints for `text` (as `line:col: message`
 * or `path: message`), and those POST /flows answers, alike.
 */
async function bothSee(
  text: string,
): Promise<{ validate: string[]; api: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "weir-agree-"));
  const s = setup();
  try {
    const file = join(dir, "g.fbp");
    writeFileSync(file, text);
    const r = await cli(["validate", file]);
    assert.equal(r.code, 1, r.out + r.err);
    const validate = r.out.split("\n").map((l) =>
      l.startsWith(`${file}: `)
        ? l.slice(file.length + 2)
        : l.slice(file.length + 1)
    );
    const res = await s.app.request("/flows", fbp(`# @name g\n${text}`));
    assert.equal(res.status, 400);
    const body = await res.json() as {
      problems: {
        path: string;
        line?: number;
        col?: number;
        message: string;
      }[];
    };
    const api = body.problems.map((p) =>
      // The API's text has the @name line first: one line lower.
      p.line === undefined
        ? `${p.path}: ${p.message}`
        : `${p.line - 1}:${p.col}: ${p.message}`
    );
    return { validate, api };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("weir validate and POST /flows list a graph's problems by line and column, those without one last", async () => {
  // Checked processes first, then connections, then flow properties: in
  // the order found, line 3 came before line 1 and line 2 after both.
  const text = `'x' -> nope A(core/Repeat)
# @restart sometimes
'y' -> in B(core/Ouput)
A out -> in C(core/Drop)
`;
  const { validate, api } = await bothSee(text);
  assert.deepEqual(validate, api);
  assert.deepEqual(validate.map((l) => l.replace(/: .*/, "")), [
    "1:5",
    "2:1",
    "3:11",
  ]);
  assert.match(validate[0], /no in-port "nope"/);
  assert.match(validate[1], /restart must be one of/);
  assert.match(validate[2], /unknown component "core\/Ouput"/);
});
