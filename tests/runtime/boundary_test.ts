/**
 * src/runtime is the one room that touches Deno and Bun, and the engine is
 * handed what it needs from there, never importing it (DESIGN.md).
 *
 * @module
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

const SRC = join(import.meta.dirname!, "..", "..", "src");

/** Every .ts file under `dir`, with its text. */
function _sources(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(..._sources(path));
    else if (entry.name.endsWith(".ts")) {
      out.push({ file: relative(SRC, path), text: readFileSync(path, "utf8") });
    }
  }
  return out;
}

/**
 * The code of `text` without its comments (JSDoc examples included) and
 * quoted strings (help texts may name `Deno.memoryUsage()`).
 */
function _code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
}

test("no file in src/engine imports src/runtime", () => {
  const offenders = _sources(join(SRC, "engine")).filter(({ text }) =>
    /from\s+["'][^"']*\/runtime\//.test(_code(text))
  ).map((s) => s.file);
  assert.deepEqual(offenders, []);
});

test("only src/runtime touches the Deno and Bun globals", () => {
  const offenders = _sources(SRC).filter(({ file, text }) =>
    !file.startsWith("runtime") &&
    /\b(?:Deno|Bun)\.[a-z]|globalThis\.(?:Deno|Bun)\b|from\s+["']bun:/.test(
      _code(text),
    )
  ).map((s) => s.file);
  assert.deepEqual(offenders, []);
});
