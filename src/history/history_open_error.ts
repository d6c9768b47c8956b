/**
 * The error of a history whose folder cannot be opened, with the folder
 * and the reason apart from the message, so that a caller (the weir
 * command) says them in a sentence of its own; and the reason the file
 * system gave when it refused a write.
 *
 * @module
 */

/**
 * A history's folder could not be opened: made, locked or read. `dir` is
 * the folder, `reason` says why (and, where the operator can, what to do).
 * Its message is `Cannot open history in "<dir>": <reason>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { History } from "./history.ts";
 * import { HistoryOpenError } from "./history_open_error.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-history-open-"));
 * try {
 *   writeFileSync(join(dir, "file"), "");
 *   await assert.rejects(History.open({ dir: join(dir, "file") }), (e) => {
 *     assert.ok(e instanceof HistoryOpenError);
 *     assert.equal(e.dir, join(dir, "file"));
 *     assert.equal(e.reason, "a file is in the way (it must be a folder)");
 *     return true;
 *   });
 * } finally {
 *   rmSync(dir, { recursive: true });
 * }
 * ```
 */
export class HistoryOpenError extends Error {
  override name = "HistoryOpenError";
  /** The history's folder. */
  readonly dir: string;
  /** Why it cannot be opened, without the folder's name. */
  readonly reason: string;

  /** An error for folder `dir`, for `reason`. */
  constructor(dir: string, reason: string, options?: ErrorOptions) {
    super(`Cannot open history in ${JSON.stringify(dir)}: ${reason}`, options);
    this.dir = dir;
    this.reason = reason;
  }
}

/**
 * Why the file system refused a write, for an operator, when `error` is
 * such a refusal (`EACCES`, `EPERM`, `EROFS`); else undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refusedWrite } from "./history_open_error.ts";
 *
 * const denied = Object.assign(new Error("EACCES: permission denied"), {
 *   code: "EACCES",
 * });
 * assert.equal(
 *   refusedWrite(denied),
 *   "permission denied (EACCES); run weir as the folder's owner, or give the user weir runs as write access to it",
 * );
 * assert.equal(refusedWrite(new Error("EIO")), undefined);
 * ```
 */
export function refusedWrite(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `permission denied (${code}); run weir as the folder's owner, or give the user weir runs as write access to it`;
    case "EROFS":
      return "the file system is read-only (EROFS); remount it read-write";
    default:
      return undefined;
  }
}
