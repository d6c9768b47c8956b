/**
 * The hash of the dashboard's sources that `src/ui/assets.gen.ts` was
 * built from: every file under `src/ui/` but the generated one (sorted by
 * name; name and contents), and the versions of the bundled `uplot` and
 * `@dagrejs/dagre` in package.json. A test recomputes it to tell when the
 * assets are stale ("run npm run build:ui"). Runs on Deno and Bun.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The generated file, left out of the hash. */
export const GENERATED = "assets.gen.ts";

/**
 * sha-256 (hex) of the dashboard's sources under `root` (the repository).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uiSourceHash } from "./source_hash.ts";
 *
 * assert.match(uiSourceHash("."), /^[0-9a-f]{64}$/);
 * ```
 */
export function uiSourceHash(root: string): string {
  const dir = join(root, "src", "ui");
  const hash = createHash("sha256");
  const names = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) =>
      join(e.parentPath ?? dir, e.name).slice(dir.length + 1).replaceAll(
        "\\",
        "/",
      )
    )
    .filter((n) => n !== GENERATED)
    .sort();
  for (const name of names) {
    hash.update(`${name}\n`);
    hash.update(readFileSync(join(dir, name)));
    hash.update("\n");
  }
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  hash.update(
    `uplot@${deps.uplot}\n@dagrejs/dagre@${deps["@dagrejs/dagre"]}\n`,
  );
  return hash.digest("hex");
}
