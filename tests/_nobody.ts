/**
 * Running a test's program as the user `nobody` (uid and gid 65534), so
 * that file permissions refuse it as they refuse an operator's service
 * user: as root permission bits stop nothing. Through `setpriv`
 * (util-linux); a test that needs it skips where it is missing, and
 * where the tests do not run as root (the permission bits then apply to
 * the test's own user: change them instead).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import process from "node:process";

/** `nobody`'s uid and gid. */
export const NOBODY = 65534;

/** Why setpriv cannot run a program as nobody here, or false when it can (or need not: not root). */
export function setprivSkip(): string | false {
  if (process.getuid?.() !== 0) return false; // not root: chmod does it
  try {
    execFileSync("setpriv", ["--version"], { stdio: "ignore" });
    return false;
  } catch {
    return "setpriv is not installed (needed to run a process as nobody)";
  }
}

/** `program args...` run as nobody: the command and its arguments for `spawn`. */
export function asNobody(
  program: string,
  args: readonly string[],
): [string, string[]] {
  return ["setpriv", [
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    "--clear-groups",
    program,
    ...args,
  ]];
}
