/**
 * The programs `exec/Run` may start: the operator's list (`--allow-exec`),
 * resolved to absolute paths once at start, and a flow's own list
 * (`properties.allow.exec`) narrowing it further.
 *
 * @module
 */
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { basename, delimiter, isAbsolute, join } from "node:path";
import process from "node:process";
import { describeValue } from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";

/** How an operator turns `exec/Run` on, for the errors that say it is off. */
const _HOW_TO_ALLOW =
  'the operator allows commands with --allow-exec CMD[,CMD...] (or WEIR_ALLOW_EXEC, or "allowExec" in the config file), and an embedding host with builtins({ exec: [...] })';

function _isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The real path of `path`, or `path` itself when it cannot be resolved. */
function _real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Whether `entry` (a name or an absolute path, from an allow list) stands
 * for the program at `path`: a name by the program's file name, a path by
 * the real file it leads to (`/bin/echo` is `/usr/bin/echo` where `/bin`
 * links to `/usr/bin`).
 */
function _matches(entry: string, path: string): boolean {
  return entry.includes("/")
    ? _real(entry) === _real(path)
    : basename(path) === entry;
}

/** A quoted list for messages, shortened when long. */
function _list(items: readonly string[]): string {
  return items.length === 0
    ? "none"
    : excerpt(items.map((i) => JSON.stringify(i)).join(", "), 300);
}

/**
 * The commands `exec/Run` may start. The operator's entries are resolved
 * when the list is made ({@linkcode ExecAllowList.resolve}): a name on the
 * `PATH` of that moment, an absolute path as it is; each must be an
 * executable file. A command a flow names is then matched by its name
 * (the file name of an allowed path) or by its absolute path (the same
 * real file), and the allowed path is what runs, so a later `PATH` or a
 * file planted earlier on it cannot change the program. An empty list
 * allows nothing: `exec/Run` is off.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExecAllowList } from "./exec_allow.ts";
 *
 * const allow = ExecAllowList.resolve(["/bin/echo", "cat"], "/usr/bin:/bin");
 * assert.equal(allow.check("echo"), "/bin/echo");
 * assert.match(allow.check("cat"), /\/cat$/);
 * assert.throws(() => allow.check("rm"), /command "rm" is not allowed; the server allows: /);
 * const flow = allow.narrow(["echo"]);
 * assert.throws(() => flow.check("cat"), /not in this flow's allow list \(allow.exec: "echo"\)/);
 * assert.throws(() => new ExecAllowList().check("echo"), /running commands is off/);
 * ```
 */
export class ExecAllowList {
  /** The programs allowed, absolute paths, in the order given. */
  readonly paths: readonly string[];
  /** Flows' lists (as given), each narrowing the one before. */
  #narrowed: readonly (readonly string[])[] = [];

  /**
   * A list of programs already resolved to absolute paths (default none:
   * nothing may run). Use {@linkcode ExecAllowList.resolve} for names.
   */
  constructor(paths: readonly string[] = []) {
    for (const p of paths) {
      if (typeof p !== "string" || !isAbsolute(p)) {
        throw new TypeError(
          `Cannot make an exec allow list: each entry must be an absolute path, received ${
            describeValue(p)
          }`,
        );
      }
    }
    this.paths = Object.freeze([...paths]);
  }

  /**
   * Resolves an operator's entries: an absolute path must be an executable
   * file; a name (no `/`) is looked up on `searchPath` (default the
   * process's `PATH`, read only when a name is looked up: an empty list
   * needs no access to the environment, which Deno grants only with
   * `--allow-env`). Throws a `RangeError` naming the first entry that is
   * neither.
   */
  static resolve(
    entries: readonly string[],
    searchPath?: string,
  ): ExecAllowList {
    const paths: string[] = [];
    for (const entry of entries) {
      if (typeof entry !== "string" || entry === "") {
        throw new TypeError(
          `Cannot allow a command: expected a command name or an absolute path, received ${
            describeValue(entry)
          }`,
        );
      }
      if (entry.includes("/")) {
        if (!isAbsolute(entry)) {
          throw new RangeError(
            `Cannot allow command ${
              JSON.stringify(entry)
            }: give a name found on PATH or an absolute path, not a relative one`,
          );
        }
        if (!_isExecutableFile(entry)) {
          throw new RangeError(
            `Cannot allow command ${
              JSON.stringify(entry)
            }: it is not an executable file`,
          );
        }
        paths.push(entry);
        continue;
      }
      searchPath ??= process.env.PATH ?? "";
      const found = searchPath.split(delimiter)
        .filter((dir) => isAbsolute(dir))
        .map((dir) => join(dir, entry))
        .find(_isExecutableFile);
      if (found === undefined) {
        throw new RangeError(
          `Cannot allow command ${
            JSON.stringify(entry)
          }: no executable of that name on PATH (${
            excerpt(searchPath, 200)
          }); give its absolute path`,
        );
      }
      paths.push(found);
    }
    return new ExecAllowList([...new Set(paths)]);
  }

  /** The flows' lists narrowing this one (each as given), outermost first. */
  get narrowedBy(): readonly (readonly string[])[] {
    return this.#narrowed;
  }

  /**
   * This list, further limited to `entries` (names or absolute paths): a
   * flow's `allow.exec`. Narrowing twice keeps both (their intersection);
   * an empty list allows nothing. An entry the operator does not allow is
   * not an error: it simply allows nothing more.
   */
  narrow(entries: readonly string[]): ExecAllowList {
    const narrowed = new ExecAllowList(this.paths);
    narrowed.#narrowed = [...this.#narrowed, Object.freeze([...entries])];
    return narrowed;
  }

  /**
   * The absolute path to run for `command` (a name or an absolute path),
   * or a `RangeError` saying why it may not run: running commands is off,
   * the server does not allow it (naming what it allows), or a flow's list
   * leaves it out.
   */
  check(command: string): string {
    if (this.paths.length === 0) {
      throw new RangeError(
        `exec/Run: running commands is off on this server; ${_HOW_TO_ALLOW}`,
      );
    }
    const shown = JSON.stringify(excerpt(command, 120));
    if (command.includes("/") && !isAbsolute(command)) {
      throw new RangeError(
        `exec/Run: command ${shown} must be a name or an absolute path, not a relative one`,
      );
    }
    const path = this.paths.find((p) => _matches(command, p));
    if (path === undefined) {
      throw new RangeError(
        `exec/Run: command ${shown} is not allowed; the server allows: ${
          _list(this.paths)
        }`,
      );
    }
    for (const list of this.#narrowed) {
      if (!list.some((entry) => _matches(entry, path))) {
        throw new RangeError(
          `exec/Run: command ${shown} is not in this flow's allow list (allow.exec: ${
            _list(list)
          })`,
        );
      }
    }
    return path;
  }
}
