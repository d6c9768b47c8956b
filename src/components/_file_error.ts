/**
 * File-system errors in a few words, for the `fs/*` components.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { cwd } from "node:process";
import { excerpt } from "../engine/excerpt.ts";

const _REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  EMFILE: "too many open files",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
  ENXIO:
    "no such device (a socket, or a FIFO nobody reads: only regular files are written)",
  ELOOP: "it is a symbolic link, which the sandbox does not follow for writes",
};

/**
 * Where a relative path of a file component is taken from, as
 * {@linkcode _fileError} says it: the data folder `root` of a sandbox, or
 * the current folder when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _pathsFrom } from "./_file_error.ts";
 *
 * assert.equal(_pathsFrom("/srv/data"), 'in the data folder "/srv/data"');
 * assert.match(_pathsFrom(undefined), /^from the current folder "\//);
 * ```
 */
export function _pathsFrom(root: string | undefined): string {
  return root === undefined
    ? `from the current folder ${JSON.stringify(excerpt(cwd(), 120))}`
    : `in the data folder ${JSON.stringify(excerpt(root, 120))}`;
}

/**
 * An `Error` saying which file could not be read or written and why, in a
 * few words (`cannot read "x.txt": no such file`); the system error is its
 * `cause`. When the system refused a relative path and `from` is given
 * ({@linkcode _pathsFrom}), the message ends with the folder the path was
 * taken from: the same graph run elsewhere reaches another file, and "no
 * such file" alone does not say which.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _fileError, _pathsFrom } from "./_file_error.ts";
 *
 * const cause = Object.assign(new Error("ENOENT"), { code: "ENOENT" });
 * const e = _fileError("read", "x.txt", cause);
 * assert.equal(e.message, 'cannot read "x.txt": no such file');
 * assert.equal(e.cause, cause);
 * assert.equal(
 *   _fileError("write", "out/r.csv", cause, _pathsFrom("/srv/data")).message,
 *   'cannot write "out/r.csv": no such directory (in the data folder "/srv/data")',
 * );
 * ```
 */
export function _fileError(
  verb: "read" | "write",
  path: string,
  cause: unknown,
  from?: string,
): Error {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = code === "ENOENT"
    ? verb === "read" ? "no such file" : "no such directory"
    : (typeof code === "string" && _REASONS[code]) ||
      (cause instanceof Error ? cause.message : String(cause));
  // Only for a system's refusal: a line too long came from the right file.
  const folder =
    from !== undefined && typeof code === "string" && !isAbsolute(path)
      ? ` (${from})`
      : "";
  // A path may be a whole message sent as one: quote an excerpt.
  return new Error(
    `cannot ${verb} ${JSON.stringify(excerpt(path, 120))}: ${
      excerpt(reason)
    }${folder}`,
    { cause },
  );
}
