/**
 * The folder the file components (`fs/*`) may reach, the paths inside it
 * they may not (the flow database and its companion files, the metric
 * history's folder), and a flow's own allow list narrowing it further.
 *
 * @module
 */
import { readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { type Component, describeValue } from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";
import { restrictable } from "../engine/flow_allow.ts";

/** Options of {@linkcode FileSandbox}. */
export interface FileSandboxOptions {
  /**
   * The folder files are read and written under; a relative path in a
   * flow is taken from here. Default `"data"` (from the current folder).
   */
  root?: string;
  /**
   * Files and folders under the root that flows may not touch (the
   * database `weir.db`, its `-wal`, `-shm` and `-journal` files, the
   * history folder). Default none. `/proc` is always refused: it would
   * reveal the process's environment (tokens) and memory.
   */
  deny?: readonly string[];
}

/**
 * A path a {@linkcode FileSandbox} refuses. Its message names an excerpt of
 * the path and why; `path` is the path as given.
 */
export class SandboxError extends RangeError {
  /** The path as the flow gave it. */
  readonly path: string;
  /** Makes the error; `reason` ends the sentence. */
  constructor(path: string, reason: string) {
    super(
      `Cannot use file ${JSON.stringify(excerpt(path, 120))}: ${reason}`,
    );
    this.name = "SandboxError";
    this.path = path;
  }
}

/**
 * The `path` setting of the file components: a non-empty string without a
 * NUL character (no file name holds one: the open would fail at run time).
 */
export function _filePath(value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `expected a file path, received ${describeValue(value)}`,
    );
  }
  if (value.includes("\0")) {
    throw new RangeError(
      `expected a file path, received ${
        JSON.stringify(excerpt(value, 120))
      }, which holds a NUL character`,
    );
  }
  return value;
}

/** Always refused, wherever the root is. */
const _ALWAYS_DENIED = ["/proc"];

/**
 * The real path of `path` (absolute): symbolic links resolved in the part
 * that exists, the rest appended as it is (a file not yet written).
 */
function _real(path: string): string {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return tail.length === 0 ? real : join(real, ...tail.reverse());
    } catch {
      const parent = dirname(head);
      if (parent === head) return path;
      tail.push(basename(head));
      head = parent;
    }
  }
}

function _within(path: string, folder: string): boolean {
  return path === folder ||
    path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * Where file components may go: under one root folder (default `./data`),
 * never into a denied path (the flow database and its companion files, the
 * history folder) and never into `/proc`. A path is checked twice: when a
 * graph is validated or a path arrives ({@linkcode FileSandbox.check}:
 * `..`, an absolute path elsewhere and a symbolic link leading out are
 * refused, by the real path of the part that exists), and after the file
 * is open ({@linkcode FileSandbox.checkOpen}: the real path of the open
 * descriptor, read from `/proc/self/fd`, so a link swapped in between
 * cannot escape either).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileSandbox } from "./file_sandbox.ts";
 *
 * const sandbox = new FileSandbox({ root: "/srv/weir", deny: ["/srv/weir/weir.db"] });
 * assert.equal(sandbox.check("in/a.txt"), "/srv/weir/in/a.txt");
 * assert.throws(() => sandbox.check("../etc/passwd"), /outside the data folder/);
 * assert.throws(() => sandbox.check("/etc/shadow"), /outside the data folder/);
 * assert.throws(() => sandbox.check("weir.db"), /off-limits/);
 * ```
 */
export class FileSandbox {
  /** The root folder, absolute (as given, not resolved through links). */
  readonly root: string;
  #deny: readonly string[];
  /**
   * Allow lists, each narrowing the one before (a flow's, then a
   * subgraph's): a path must be in one entry of every list. Absolute,
   * with the entries as given for messages.
   */
  #allow: readonly { absolute: string[]; given: readonly string[] }[] = [];

  /** A sandbox for `options.root`, refusing `options.deny`. */
  constructor(options: FileSandboxOptions = {}) {
    const root = options.root ?? "data";
    if (typeof root !== "string" || root === "") {
      throw new TypeError(
        `Cannot create file sandbox: root must be a folder path, received ${
          JSON.stringify(root)
        }`,
      );
    }
    this.root = resolve(root);
    this.#deny = [...(options.deny ?? [])].map((p) => resolve(this.root, p));
  }

  /**
   * The files and folders this sandbox allows when it was narrowed (each
   * list as given), outermost first; empty when all of the root is open.
   */
  get allowed(): readonly (readonly string[])[] {
    return this.#allow.map((a) => a.given);
  }

  /**
   * A sandbox with this one's root and refusals that reaches only `entries`
   * (files and folders, relative to the root or absolute inside it) and
   * what is under them: a flow's `allow.files`. Narrowing a narrowed
   * sandbox keeps both lists (a path must be in each: their
   * intersection). An entry outside the root or off-limits throws its
   * {@linkcode SandboxError}; an empty list reaches nothing.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FileSandbox } from "./file_sandbox.ts";
   *
   * const flow = new FileSandbox({ root: "/srv/weir" }).narrow(["in/", "out/report.csv"]);
   * assert.equal(flow.check("in/a/b.csv"), "/srv/weir/in/a/b.csv");
   * assert.equal(flow.check("out/report.csv"), "/srv/weir/out/report.csv");
   * assert.throws(() => flow.check("out/other.csv"), /not in this flow's allow list/);
   * assert.throws(() => flow.narrow(["/etc"]), /outside the data folder/);
   * ```
   */
  narrow(entries: readonly string[]): FileSandbox {
    const absolute: string[] = [];
    for (const entry of entries) {
      if (typeof entry !== "string" || entry === "") {
        throw new TypeError(
          `Cannot narrow the file sandbox: an entry must be a non-empty path, received ${
            JSON.stringify(entry)
          }`,
        );
      }
      // Checked against the root and its refusals only: lists narrowed
      // before still apply at each check, so the result is their
      // intersection whatever the order (a subgraph's list, then a flow's).
      const path = resolve(this.root, entry);
      this.#verify(entry, path, _real(path), false);
      absolute.push(path);
    }
    const narrowed = new FileSandbox({ root: this.root });
    narrowed.#deny = this.#deny;
    narrowed.#allow = [...this.#allow, { absolute, given: [...entries] }];
    return narrowed;
  }

  /**
   * The absolute path `path` stands for (relative paths from the root), or
   * a {@linkcode SandboxError} when it leads outside the root (directly,
   * by `..` or through a symbolic link) or to a denied path.
   */
  check(path: string): string {
    if (path.includes("\0")) {
      throw new SandboxError(path, "it holds a NUL character");
    }
    const absolute = resolve(this.root, path);
    this.#verify(path, absolute, _real(absolute));
    return absolute;
  }

  /**
   * Checks the file open as `fd` (opened for `path`) by its real path, so a
   * link created after {@linkcode FileSandbox.check} cannot lead out. Where
   * `/proc/self/fd` cannot be read, the path is checked again instead.
   */
  checkOpen(path: string, fd: number): void {
    let real: string;
    try {
      real = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      real = _real(resolve(this.root, path));
    }
    // A device or a pipe reads as "pipe:[123]": not a path, and not a file
    // under the root either (check() already refused its path).
    if (!isAbsolute(real)) {
      throw new SandboxError(path, "it is not a file under the data folder");
    }
    this.#verify(path, resolve(this.root, path), real);
  }

  #verify(path: string, absolute: string, real: string, lists = true): void {
    for (const denied of _ALWAYS_DENIED) {
      if (_within(absolute, denied) || _within(real, denied)) {
        throw new SandboxError(path, `${denied} is off-limits to flows`);
      }
    }
    const root = _real(this.root);
    if (!_within(absolute, this.root) || !_within(real, root)) {
      throw new SandboxError(
        path,
        `it is outside the data folder ${
          JSON.stringify(excerpt(this.root, 120))
        } (set with --data-dir); flows reach only files under it`,
      );
    }
    for (const denied of this.#deny) {
      if (_within(absolute, denied) || _within(real, _real(denied))) {
        throw new SandboxError(
          path,
          "it is off-limits to flows (the server's own files: the flow database and its companion files, the history, the remote write cursors, the token and config files, the components folder)",
        );
      }
    }
    for (const list of lists ? this.#allow : []) {
      const inList = list.absolute.some((entry) =>
        _within(absolute, entry) && _within(real, _real(entry))
      );
      if (!inList) {
        throw new SandboxError(
          path,
          `it is not in this flow's allow list (allow.files: ${
            list.given.length === 0 ? "none" : excerpt(
              list.given.map((g) => JSON.stringify(g)).join(", "),
              200,
            )
          })`,
        );
      }
    }
  }
}

/**
 * The paths a server keeps its own data in, for a sandbox's `deny`: the
 * database file `db` and its `-wal`, `-shm` and `-journal` companions, and
 * the history folder when there is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storagePaths } from "./file_sandbox.ts";
 *
 * assert.deepEqual(storagePaths("/d/weir.db", "/d/history"), [
 *   "/d/weir.db", "/d/weir.db-wal", "/d/weir.db-shm", "/d/weir.db-journal", "/d/history",
 * ]);
 * assert.deepEqual(storagePaths(":memory:", null), []);
 * ```
 */
export function storagePaths(db: string, historyDir: string | null): string[] {
  const paths = db === ":memory:" || db === ""
    ? []
    : ["", "-wal", "-shm", "-journal"].map((s) => resolve(db) + s);
  if (historyDir !== null) paths.push(resolve(historyDir));
  return paths;
}

/**
 * `make(sandbox)` (a file component), made to honour a flow's allow list:
 * for a flow whose graph has `allow`, the graph layer asks for a copy
 * whose sandbox is narrowed to `allow.files` (nothing when the list is
 * left out), and so on for a subgraph's own list inside it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileSandbox, sandboxedComponent } from "./file_sandbox.ts";
 * import { fsReadLines } from "./fs.ts";
 * import { restrictComponent } from "../engine/flow_allow.ts";
 *
 * const read = sandboxedComponent(fsReadLines, new FileSandbox({ root: "/srv/weir" }));
 * const flowRead = restrictComponent(read, { files: ["in/"] });
 * assert.throws(() => flowRead.inPorts.path.parse!("out/x"), /allow list/);
 * assert.equal(flowRead.inPorts.path.parse!("in/x"), "in/x");
 * ```
 */
export function sandboxedComponent(
  make: (sandbox: FileSandbox) => Component,
  sandbox: FileSandbox,
): Component {
  return restrictable(
    make(sandbox),
    (allow) => sandboxedComponent(make, sandbox.narrow(allow.files ?? [])),
  );
}
