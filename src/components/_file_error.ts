/**
 * File-system errors in a few words, for the `fs/*` components.
 *
 * @module
 */
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
 * An `Error` saying which file could not be read or written and why, in a
 * few words (`cannot read "x.txt": no such file`); the system error is its
 * `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _fileError } from "./_file_error.ts";
 *
 * const cause = Object.assign(new Error("ENOENT"), { code: "ENOENT" });
 * const e = _fileError("read", "x.txt", cause);
 * assert.equal(e.message, 'cannot read "x.txt": no such file');
 * assert.equal(e.cause, cause);
 * ```
 */
export function _fileError(
  verb: "read" | "write",
  path: string,
  cause: unknown,
): Error {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = code === "ENOENT"
    ? verb === "read" ? "no such file" : "no such directory"
    : (typeof code === "string" && _REASONS[code]) ||
      (cause instanceof Error ? cause.message : String(cause));
  // A path may be a whole message sent as one: quote an excerpt.
  return new Error(
    `cannot ${verb} ${JSON.stringify(excerpt(path, 120))}: ${excerpt(reason)}`,
    { cause },
  );
}
