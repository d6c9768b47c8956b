/**
 * A git ref checked out beside this tree, for benchmarks that run an
 * earlier commit side by side with the current one: a detached worktree
 * in a temporary folder, with this tree's `node_modules` linked in.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Checks `ref` out in a temporary detached worktree (its folder's name
 * starts with `prefix`); returns its path and a remover.
 */
export function baseWorktree(
  ref: string,
  prefix: string,
): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const git = (...args: string[]) => {
    const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
    }
  };
  git("worktree", "add", "--detach", dir, ref);
  symlinkSync(
    realpathSync(join(root, "node_modules")),
    join(dir, "node_modules"),
  );
  return { dir, remove: () => git("worktree", "remove", "--force", dir) };
}
