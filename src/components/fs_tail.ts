/**
 * `fs/Tail`: follows a file as it grows, line by line, across rotation
 * (the file renamed and a new one made, or the file truncated), as
 * `tail -F` does, and a truncation `tail -F` misses: the file truncated and
 * written again past the point read between two checks (each read checks
 * that the last bytes read are still there; see the `path` port).
 *
 * It learns of changes from `fs.watch` on the file's folder (inotify on
 * Linux, on Deno and Bun alike) and, in case events are lost or the
 * platform has none, from a poll every `pollInterval`.
 *
 * @module
 */
import { constants, type FSWatcher, statSync, watch } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
  parseDuration,
} from "../engine/component.ts";
import { _errorPort } from "./_error_port.ts";
import { _fileError, _pathsFrom } from "./_file_error.ts";
import { _filePath, type FileSandbox } from "./file_sandbox.ts";

/** Bytes read at a time. */
const _CHUNK = 64 * 1024;
/**
 * How many of the bytes just before the point read each read checks are
 * still there: a file truncated and written again past that point between
 * two reads fails the check (see {@linkcode _Open.mark}).
 */
const _MARK = 256;
/** `maxLineLength`'s default: 1 Mi characters. */
const _MAX_LINE = 1024 * 1024;
/** The largest `maxLineLength` it takes: 256 Mi characters. */
const _MAX_LINE_LIMIT = 256 * 1024 * 1024;

function _start(value: unknown): "end" | "beginning" {
  if (value === "end" || value === "beginning") return value;
  throw new RangeError(
    `expected "end" or "beginning", received ${describeValue(value)}`,
  );
}

function _poll(value: unknown): number {
  const ms = parseDuration(value);
  if (ms >= 10 && ms <= 3_600_000) return ms;
  throw new RangeError(
    `expected a poll interval from 10 ms to 1 h, received ${
      describeValue(value)
    }`,
  );
}

function _lineLimit(value: unknown): number {
  if (
    Number.isInteger(value) && (value as number) >= 1 &&
    (value as number) <= _MAX_LINE_LIMIT
  ) {
    return value as number;
  }
  throw new RangeError(
    `expected an integer from 1 to ${_MAX_LINE_LIMIT}, received ${
      describeValue(value)
    }`,
  );
}

/**
 * Wakes the follower when the file may have changed: an `fs.watch` event
 * on its folder naming it, or the poll timer. An event that comes while
 * the follower reads is kept, so the next wait returns at once.
 */
class _Waker {
  #watcher: FSWatcher | undefined;
  #pending = false;
  #wake: (() => void) | undefined;
  readonly #pollMs: () => number;

  constructor(path: string, pollMs: () => number) {
    this.#pollMs = pollMs;
    const name = basename(path);
    try {
      this.#watcher = watch(dirname(path), (_event, file) => {
        // Some platforms give no file name: any change may be ours.
        if (file === null || file === undefined || String(file) === name) {
          this.#ring();
        }
      });
      // A folder removed, or the platform giving up: polling goes on.
      this.#watcher.on("error", () => this.close());
    } catch {
      this.#watcher = undefined; // No watching here: polling only.
    }
  }

  /** Whether `fs.watch` is watching (else it polls only). */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  #ring(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Resolves on the next change, the next poll, or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.#pending || signal.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wake = undefined;
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(done, this.#pollMs());
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

interface TailState {
  /** Lines sent. */
  lines: Meter;
  /** Rotations seen, by kind. */
  rotations: Record<"rename" | "truncate", Meter>;
}

/** A meter handle as `ctx.meter()` returns it. */
interface Meter {
  add(n?: number): void;
}

/** The file being followed. */
interface _Open {
  handle: FileHandle;
  /** Its identity, to tell a new file under the same name. */
  dev: number;
  ino: number;
  /** Where the next read starts. */
  position: number;
  /**
   * The last bytes read (those just before `position`): the first
   * `markLength` bytes of `mark`, where `markLength` is `position` up to
   * `_MARK`. Each read starts `markLength` bytes early and compares them:
   * other bytes (or fewer) there mean the file was truncated, whatever its
   * size says now.
   */
  mark: Uint8Array;
  markLength: number;
}

function _code(e: unknown): unknown {
  return (e as { code?: unknown } | null)?.code;
}

/**
 * Opens the file (checked against the sandbox again, and by its real path
 * once open); `undefined` when it does not exist (yet).
 */
async function _open(
  path: string,
  sandbox: FileSandbox | undefined,
  fromEnd: boolean,
): Promise<_Open | undefined> {
  let handle: FileHandle;
  try {
    // Non-blocking: opening a FIFO for reading otherwise waits for a
    // writer, holding the tail (and its stop) and a runtime I/O thread,
    // of which Bun has few. It changes nothing for a regular file, and
    // anything else is refused below.
    handle = await open(
      sandbox ? sandbox.check(path) : path,
      constants.O_RDONLY | constants.O_NONBLOCK,
    );
  } catch (e) {
    if ((e as Error).name === "SandboxError") throw e;
    if (_code(e) === "ENOENT") return undefined;
    throw _fileError("read", path, e, _pathsFrom(sandbox?.root));
  }
  try {
    sandbox?.checkOpen(path, handle.fd);
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw _fileError("read", path, "it is not a regular file");
    }
    const opened: _Open = {
      handle,
      dev: stat.dev,
      ino: stat.ino,
      position: fromEnd ? stat.size : 0,
      mark: new Uint8Array(_MARK),
      markLength: 0,
    };
    if (fromEnd) {
      // The bytes before the end, for the first read's check. Fewer than
      // asked (truncated since the stat) leave zeros that fail it: then
      // the file is read from its start, as a truncated one is.
      const length = Math.min(_MARK, opened.position);
      try {
        await handle.read(opened.mark, 0, length, opened.position - length);
      } catch (e) {
        throw _fileError("read", path, e);
      }
      opened.markLength = length;
    }
    return opened;
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Splits bytes into lines: `\n` or `\r\n` ends one; a partial line waits. */
class _Lines {
  #decoder = new TextDecoder();
  #pending: string[] = [];
  #pendingLength = 0;
  readonly #max: number;
  readonly #where: string;
  /**
   * Set when a line is too long: the lines before it are still returned
   * (and sent); the follower fails after them.
   */
  failure: Error | undefined;

  constructor(max: number, where: string) {
    this.#max = max;
    this.#where = where;
  }

  /** The whole lines that `bytes` completes. */
  push(bytes: Uint8Array): string[] {
    return this.#split(this.#decoder.decode(bytes, { stream: true }));
  }

  /**
   * The partial last line, if any, as a line of its own (the file it came
   * from was rotated away and will not finish it); the decoder starts over.
   */
  flush(): string[] {
    const lines = this.#split(this.#decoder.decode());
    this.#decoder = new TextDecoder();
    if (this.#pending.length > 0) lines.push(this.#take(""));
    return lines;
  }

  #take(end: string): string {
    this.#pending.push(end);
    const line = this.#pending.join("");
    this.#pending = [];
    this.#pendingLength = 0;
    return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
  }

  #split(text: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", start)) {
      const line = this.#take(text.slice(start, i));
      start = i + 1;
      if (line.length > this.#max) {
        this.failure = this.#tooLong();
        return lines;
      }
      lines.push(line);
    }
    if (start < text.length) {
      this.#pending.push(text.slice(start));
      this.#pendingLength += text.length - start;
      if (this.#pendingLength > this.#max + 1) this.failure = this.#tooLong();
    }
    return lines;
  }

  #tooLong(): Error {
    return _fileError(
      "read",
      this.#where,
      `a line is longer than maxLineLength (${this.#max} characters)`,
    );
  }
}

/**
 * Whether the first `length` of the `bytesRead` bytes in `buffer` are the
 * `length` bytes of `mark`.
 */
function _marked(
  buffer: Uint8Array,
  bytesRead: number,
  mark: Uint8Array,
  length: number,
): boolean {
  if (bytesRead < length) return false;
  for (let i = 0; i < length; i++) {
    if (buffer[i] !== mark[i]) return false;
  }
  return true;
}

/** What the name leads to now: its identity and size, or `undefined`. */
function _statName(
  path: string,
): { dev: number; ino: number; size: number } | undefined {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino, size: s.size };
  } catch {
    return undefined;
  }
}

async function _follow(
  ctx: Context<TailState>,
  sandbox: FileSandbox | undefined,
): Promise<void> {
  const path = ctx.control<string | undefined>("path");
  if (path === undefined) {
    throw new TypeError("fs/Tail needs a path option, and none was given");
  }
  const signal = ctx.signal;
  if (signal.aborted) return;
  const state = ctx.state;
  const absolute = sandbox ? sandbox.check(path) : resolve(path);
  const lines = new _Lines(ctx.control<number>("maxLineLength"), path);
  const waker = new _Waker(absolute, () => ctx.control<number>("pollInterval"));
  const buffer = new Uint8Array(_CHUNK);
  const send = async (batch: string[]) => {
    for (const line of batch) {
      if (signal.aborted) return;
      state.lines.add(1);
      const sent = ctx.send("out", line);
      if (sent !== undefined) await sent;
    }
    if (lines.failure !== undefined) throw lines.failure;
  };
  // Only the file there at the start is read from its end: a file that
  // appears later, or replaces it, is new and read whole.
  let current = await _open(
    path,
    sandbox,
    ctx.control<string>("start") === "end",
  );
  try {
    while (!signal.aborted) {
      if (current === undefined) {
        await waker.wait(signal);
        if (signal.aborted) return;
        current = await _open(path, sandbox, false);
        continue;
      }
      // Read what has been written since the last read, from the last
      // bytes read on: still there, or the file was truncated.
      const marked = current.markLength;
      let bytesRead: number;
      try {
        ({ bytesRead } = await current.handle.read(
          buffer,
          0,
          buffer.length,
          current.position - marked,
        ));
      } catch (e) {
        throw _fileError("read", path, e);
      }
      if (!_marked(buffer, bytesRead, current.mark, marked)) {
        // Truncated in place (copytruncate): shorter than what was read,
        // or written again past it since. Start over from its start.
        await send(lines.flush());
        current.position = 0;
        current.markLength = 0;
        state.rotations.truncate.add(1);
        continue;
      }
      if (bytesRead > marked) {
        current.position += bytesRead - marked;
        const keep = Math.min(_MARK, bytesRead);
        current.mark.set(buffer.subarray(bytesRead - keep, bytesRead));
        current.markLength = keep;
        await send(lines.push(buffer.subarray(marked, bytesRead)));
        continue;
      }
      // At the end of the open file: has the name moved on, or the file
      // shrunk?
      const named = _statName(absolute);
      if (
        named !== undefined &&
        (named.ino !== current.ino || named.dev !== current.dev)
      ) {
        // Rotated: the old file was read to its end above; a partial last
        // line of it will not be finished.
        await send(lines.flush());
        await current.handle.close();
        current = await _open(path, sandbox, false);
        state.rotations.rename.add(1);
        continue;
      }
      let size: number;
      try {
        size = (await current.handle.stat()).size;
      } catch (e) {
        throw _fileError("read", path, e);
      }
      // Grown or shrunk since the read: read (and check) again.
      if (size !== current.position) continue;
      await waker.wait(signal);
    }
  } finally {
    waker.close();
    await current?.handle.close();
  }
}

/**
 * `fs/Tail` reaching only the files `sandbox` allows (see
 * {@linkcode FsTail}); without one it follows any file the process can
 * read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fsTail } from "./fs_tail.ts";
 * import { FileSandbox } from "./file_sandbox.ts";
 *
 * const tail = fsTail(new FileSandbox({ root: "/srv/weir" }));
 * assert.throws(() => tail.inPorts.path.parse?.("/var/log/syslog"), /outside the data folder/);
 * ```
 */
export function fsTail(sandbox?: FileSandbox): Component {
  return defineComponent<TailState>({
    name: "fs/Tail",
    description:
      "Follows a file as it grows, line by line, across rotation (rename or truncation).",
    inPorts: {
      path: {
        type: "string",
        control: true,
        required: true,
        parse: sandbox
          ? (value) => {
            const path = _filePath(value);
            sandbox.check(path);
            return path;
          }
          : _filePath,
        description:
          `The file to follow, under the data folder. It may not exist yet: it is read from its start once it appears. A new file under the name, or the file truncated, is read from its start. A truncation is seen when the file is shorter than the point read, or when the last ${_MARK} bytes read before that point are not there any more: truncated and written again past that point before the tail looked (which GNU tail -F takes for growth, sending the middle of the new text), or changed in place (read again whole). Missed only when the text written again has the very same ${_MARK} bytes there (then it goes on from the point read). Lines written and truncated away between two checks are lost, as with tail -F.`,
      },
      start: {
        type: "string",
        control: true,
        default: "end",
        parse: _start,
        description:
          'Where to start in the file there at the start: "end" (default, only new lines) or "beginning".',
      },
      pollInterval: {
        type: "duration",
        control: true,
        default: 1000,
        parse: _poll,
        description:
          'How often the file is checked besides fs.watch events, e.g. "250ms" (default 1 s); the only check where fs.watch does not work (network file systems).',
      },
      maxLineLength: {
        type: "integer",
        control: true,
        default: _MAX_LINE,
        parse: _lineLimit,
        description:
          `Longest line, in characters (default ${_MAX_LINE}, at most ${_MAX_LINE_LIMIT}); a longer one fails the process.`,
      },
    },
    outPorts: {
      out: {
        type: "string",
        description:
          "Each line, without its line break, once the break is written; a partial last line waits for it.",
      },
      error: _errorPort,
    },
    meters: [
      {
        name: "fs_tail_lines_total",
        type: "counter",
        help: "Lines fs/Tail read and sent",
        moves: "one per line sent on out",
      },
      {
        name: "fs_tail_rotations_total",
        type: "counter",
        help: "Rotations fs/Tail followed, by kind",
        moves: "one each time the file is replaced or truncated",
        labels: [{
          name: "kind",
          help:
            "rename (a new file under the name) or truncate (the file shrank, or the bytes before the point read changed)",
          values: ["rename", "truncate"],
        }],
      },
    ],
    setup: (ctx) => ({
      lines: ctx.meter("fs_tail_lines_total"),
      rotations: {
        rename: ctx.meter("fs_tail_rotations_total", { kind: "rename" }),
        truncate: ctx.meter("fs_tail_rotations_total", { kind: "truncate" }),
      },
    }),
    run: (ctx) => _follow(ctx, sandbox),
  });
}

/**
 * `fs/Tail`: a source that follows the file at `path` as it grows and
 * sends each new line on `out` (without its line break; `\n` or `\r\n`
 * ends a line, and a partial last line waits for its break), as `tail -F`
 * does. It starts at the end of the file (`start: "beginning"` reads what
 * is there first), follows rotation (the file renamed and a new one made
 * under the name: the old one is read to its end, then the new one from
 * its start; or the file truncated: read again from its start), and waits
 * for a file that does not exist yet. It waits for room on `out` (back
 * pressure: it reads no further meanwhile) and runs until the network
 * stops. The registry's copy reads only under the data folder: a path
 * outside it is a validation problem (see {@linkcode fsTail}).
 *
 * A truncation is seen even when the file was written again past the
 * point already read before the tail looked (GNU `tail -F` takes that for
 * growth and sends the middle of the new text): each read starts a little
 * before that point and checks that the last bytes read (up to 256) are
 * still there. Other bytes there (or fewer) are a truncation: the file is
 * read from its start, so a file changed in place before that point is
 * read again whole. Text written again with those very bytes there is not
 * told apart from growth; lines written and truncated away between two
 * checks are lost (as with `tail -F`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FsTail } from "./fs_tail.ts";
 *
 * assert.equal(FsTail.inPorts.start.default, "end");
 * ```
 */
export const FsTail: Component = fsTail();
