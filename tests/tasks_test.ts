/**
 * `deno task X` and `npm run X` are the same command: one table in two files.
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

const ROOT = new URL("../", import.meta.url);

function _table(file: string, key: string): Record<string, string> {
  const json = JSON.parse(readFileSync(new URL(file, ROOT), "utf8"));
  return json[key] ?? {};
}

/**
 * Scripts npm runs by itself around its own commands (`npm pack` runs
 * `prepack`): hooks of npm's, not tasks a user runs, so Deno has none.
 */
const NPM_HOOKS = new Set([
  "preinstall",
  "install",
  "postinstall",
  "prepare",
  "prepack",
  "postpack",
  "prepublishOnly",
  "publish",
  "postpublish",
]);

const tasks = _table("deno.json", "tasks");
const scripts = Object.fromEntries(
  Object.entries(_table("package.json", "scripts")).filter(([name]) =>
    !NPM_HOOKS.has(name)
  ),
);

test("deno.json's tasks and package.json's scripts name the same tasks", () => {
  assert.deepEqual(Object.keys(tasks).sort(), Object.keys(scripts).sort());
});

test("each deno task runs the same command line as its npm script", () => {
  for (const [name, command] of Object.entries(scripts)) {
    assert.equal(tasks[name], command, `task "${name}"`);
  }
});

test("every task names Deno and Bun by their path in node_modules/.bin", () => {
  // `deno task` puts node_modules/.bin on PATH but runs what it finds there
  // as JavaScript, so a bare `deno` or `bun` (native binaries) fails with
  // "Invalid or unexpected token"; npm runs the path just as well.
  for (const [name, command] of Object.entries(tasks)) {
    const bare = command.split(/\s*(?:&&|\|\||;|\|)\s*/).filter((part) =>
      /^(deno|bun)\b/.test(part)
    );
    assert.deepEqual(bare, [], `task "${name}": ${command}`);
  }
});

test("every script file a task runs exists", () => {
  for (const [name, command] of Object.entries(tasks)) {
    for (
      const file of command.match(/\b(?:scripts|src)\/\S+\.(?:ts|mjs)\b/g) ?? []
    ) {
      assert.ok(existsSync(new URL(file, ROOT)), `task "${name}" runs ${file}`);
    }
  }
});

test("the tasks include the ones the README tells a user to run", () => {
  const readme = readFileSync(new URL("README.md", ROOT), "utf8");
  const named = new Set(
    [...readme.matchAll(/\bnpm (?:run ([\w:-]+)|(start|test))\b/g)].map((m) =>
      m[1] ?? m[2]
    ),
  );
  assert.ok(named.size > 0, "the README names npm scripts");
  for (const name of named) assert.ok(name in scripts, `npm run ${name}`);
});
