/**
 * What a start of the weir command made on disk, to remove again when the
 * start fails, so that a failed start leaves the disk as it was: `weir
 * serve` (the flow database, the history's folder, remote write's
 * cursors) and `weir run` and `weir demo` (the history's folder).
 *
 * @module
 */
import { lstatSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * The files and folders a start created, noted step by step. Each path is
 * looked at just before the step that may make it, not all at the top: a
 * step can wait (the database for its lock), and a folder another process
 * makes meanwhile is not this start's to remove.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { CreatedPaths } from "./created_paths.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-doc-"));
 * const created = new CreatedPaths();
 * // The step about to run may make data/history, and data with it.
 * created.before([join(dir, "data", "history")]);
 * mkdirSync(join(dir, "data", "history"), { recursive: true });
 * // The start fails: what it made goes, the folder it was given stays.
 * created.remove();
 * assert.equal(existsSync(join(dir, "data")), false);
 * assert.equal(existsSync(dir), true);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class CreatedPaths {
  readonly #paths: string[] = [];

  /**
   * Notes those of `paths` that do not exist now, each as the outermost
   * folder of it that does not (making `a/b/c` makes `a/b` too when `a`
   * holds no `b`): the step about to run may make them. Relative paths
   * are taken from the current folder.
   */
  before(paths: readonly string[]): void {
    for (let path of paths) {
      path = resolve(path);
      if (_exists(path)) continue;
      while (dirname(path) !== path && !_exists(dirname(path))) {
        path = dirname(path);
      }
      if (!this.#paths.includes(path)) this.#paths.push(path);
    }
  }

  /**
   * Removes what was noted (call it once what the start opened is
   * closed); what cannot be removed stays, as the start's own error is the
   * one to say.
   */
  remove(): void {
    for (const path of this.#paths.splice(0)) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // Nothing more to do about it.
      }
    }
  }
}

/** Whether `path` exists (a broken symbolic link does). */
function _exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (e) {
    // Another error (ENOTDIR, EACCES): nothing this start can make there.
    return (e as { code?: unknown }).code !== "ENOENT";
  }
}
