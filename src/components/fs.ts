/**
 * File components: stream a file's lines (`fs/ReadLines`), append lines to
 * a file (`fs/WriteLines`) and read whole files named by messages
 * (`fs/ReadFile`, NoFlo's `filesystem/ReadFile`).
 *
 * They use `node:fs` and `node:process`, which Deno and Bun both provide.
 * Lines are split here rather than by `node:readline`, which also ends a
 * line at a lone `\r`.
 *
 * @module
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  writeSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { Buffer } from "node:buffer";
import process from "node:process";
import type { Readable } from "node:stream";
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import { _errorPort } from "./_error_port.ts";
import { _fileError, _pathsFrom } from "./_file_error.ts";
import { _toJson } from "./_to_json.ts";
import { _filePath, type FileSandbox } from "./file_sandbox.ts";

function _requirePath(ctx: Context<unknown>, component: string): string {
  const path = ctx.control<string | undefined>("path");
  if (path === undefined) {
    throw new TypeError(
      `${component} needs a path option, and none was given`,
    );
  }
  return path;
}

/**
 * The `path` port's parser: a non-empty string, which `sandbox` (when there
 * is one) accepts; `"-"` (standard input) passes when `stdin` is allowed.
 * Called on IIPs at validation and on each path that arrives.
 */
function _sandboxedPath(
  sandbox: FileSandbox | undefined,
  stdin: boolean,
): (value: unknown) => string {
  if (sandbox === undefined) return _filePath;
  return (value) => {
    const path = _filePath(value);
    if (!(stdin && path === "-")) sandbox.check(path);
    return path;
  };
}

/**
 * Opens `path` for reading; with a sandbox, the path is checked again (a
 * link made since validation) and so is the open file's real path.
 */
async function _openRead(
  path: string,
  sandbox: FileSandbox | undefined,
): Promise<FileHandle> {
  if (sandbox === undefined) return await open(path, "r");
  // Non-blocking: opening a FIFO for reading waits for a writer, holding a
  // runtime I/O thread (Bun has few: two such opens stopped every file
  // read of the process). Only regular files are read under a sandbox.
  const handle = await open(
    sandbox.check(path),
    constants.O_RDONLY | constants.O_NONBLOCK,
  );
  try {
    sandbox.checkOpen(path, handle.fd);
    // Its callers say which file: the reason alone, or it says so twice.
    if (!(await handle.stat()).isFile()) {
      throw new Error("it is not a regular file");
    }
  } catch (e) {
    await handle.close();
    throw e;
  }
  return handle;
}

/** Bytes read at a time: a file is read this far ahead of `out`. */
const _CHUNK = 64 * 1024;

/** `fs/ReadFile`'s default `maxBytes`: 16 MiB. */
const _MAX_FILE_BYTES = 16 * 1024 * 1024;
/** The largest `maxBytes` it takes: 1 GiB. */
const _MAX_FILE_BYTES_LIMIT = 1024 * 1024 * 1024;
/** `fs/ReadLines`' default `maxLineLength`: 16 Mi characters. */
const _MAX_LINE = 16 * 1024 * 1024;
/** The largest `maxLineLength` it takes: 256 Mi characters. */
const _MAX_LINE_LIMIT = 256 * 1024 * 1024;

/** A parser of a size option: an integer from 1 to `max`. */
function _sizeUpTo(max: number): (value: unknown) => number {
  return (value) => {
    if (
      Number.isInteger(value) && (value as number) >= 1 &&
      (value as number) <= max
    ) {
      return value as number;
    }
    throw new RangeError(
      `expected an integer from 1 to ${max}, received ${describeValue(value)}`,
    );
  };
}

/**
 * The bytes of the file at `path`, read a chunk at a time; past `max`
 * bytes it stops and fails (a device such as `/dev/zero` never ends, and
 * a huge file would take the host's memory).
 */
async function _readAtMost(
  path: string,
  max: number,
  sandbox: FileSandbox | undefined,
): Promise<Uint8Array> {
  const handle = await _openRead(path, sandbox);
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const room = Math.min(_CHUNK, max + 1 - total);
      const buffer = new Uint8Array(room);
      const { bytesRead } = await handle.read(buffer, 0, room, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) {
        throw new RangeError(
          `it is longer than maxBytes (${max} bytes); raise maxBytes, or stream it with fs/ReadLines`,
        );
      }
      chunks.push(buffer.subarray(0, bytesRead));
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.length;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}
const _encoder = new TextEncoder();

/** Where `fs/ReadLines` gets its bytes from: a file or standard input. */
interface _ByteSource {
  /** The next bytes (valid until the next call), or `null` at the end. */
  read(): Promise<Uint8Array | null>;
  /** Releases the file; standard input is left open. */
  close(): Promise<void>;
}

async function _fileSource(
  path: string,
  sandbox: FileSandbox | undefined,
): Promise<_ByteSource> {
  const handle = await _openRead(path, sandbox);
  const buffer = new Uint8Array(_CHUNK);
  return {
    async read() {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      return bytesRead === 0 ? null : buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

function _streamSource(input: Readable, signal: AbortSignal): _ByteSource {
  return {
    read: () => _readChunk(input, signal),
    close() {
      input.pause();
      return Promise.resolve();
    },
  };
}

/**
 * The next chunk of a stream in paused mode (so it reads only as fast as
 * lines are taken), `null` at its end or once `signal` aborts.
 */
function _readChunk(
  input: Readable,
  signal: AbortSignal,
): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      input.off("readable", attempt);
      input.off("end", attempt);
      input.off("error", fail);
      signal.removeEventListener("abort", attempt);
    };
    const fail = (e: unknown) => {
      cleanup();
      reject(e);
    };
    function attempt() {
      let chunk: unknown = null;
      if (!signal.aborted) {
        chunk = input.read();
        if (chunk === null && !input.readableEnded) return;
      }
      cleanup();
      resolve(
        chunk === null
          ? null
          : typeof chunk === "string"
          ? _encoder.encode(chunk)
          : chunk as Uint8Array,
      );
    }
    input.on("readable", attempt);
    input.on("end", attempt);
    input.on("error", fail);
    signal.addEventListener("abort", attempt);
    attempt();
  });
}

/**
 * `fs/ReadLines`: a source that sends each line of the file at `path`
 * (`"-"` reads standard input) on `out`, without its line break, and
 * finishes at the end of the file. Only `\n` and `\r\n` end a line: a
 * lone `\r` stays in the line. The last line needs no line break, and a
 * final line break starts no empty line. The text is UTF-8; a byte-order
 * mark at the start is dropped, and bytes that are not UTF-8 become
 * U+FFFD.
 *
 * It reads as fast as `out` takes lines (64 KiB ahead at most, plus the
 * line being read), so a file of any size is read in bounded memory; a
 * line longer than `maxLineLength` characters (16 Mi unless set) fails the
 * read, so a file without line breaks cannot fill the memory either. A
 * file that cannot be read fails the process with a message such as
 * `cannot read "x.txt": no such file`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FsReadLines } from "./fs.ts";
 *
 * assert.equal(FsReadLines.inPorts.path.required, true);
 * ```
 */
export const FsReadLines: Component = fsReadLines();

/**
 * `fs/ReadLines` ({@linkcode FsReadLines}) reaching only the files `sandbox`
 * allows: a path outside it is a validation problem when given as an IIP,
 * and fails the process when it arrives later. Without a sandbox it reads
 * any file the process can (as {@linkcode FsReadLines}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fsReadLines } from "./fs.ts";
 * import { FileSandbox } from "./file_sandbox.ts";
 *
 * const c = fsReadLines(new FileSandbox({ root: "/srv/weir" }));
 * assert.throws(() => c.inPorts.path.parse?.("/etc/shadow"), /outside the data folder/);
 * ```
 */
export function fsReadLines(sandbox?: FileSandbox): Component {
  return defineComponent({
    name: "fs/ReadLines",
    description: "Sends each line of a file (or standard input), then ends.",
    inPorts: {
      path: {
        type: "string",
        control: true,
        required: true,
        parse: _sandboxedPath(sandbox, true),
        description: 'The file to read; "-" reads standard input.',
      },
      maxLineLength: {
        type: "integer",
        control: true,
        default: _MAX_LINE,
        parse: _sizeUpTo(_MAX_LINE_LIMIT),
        description:
          `Longest line, in characters (default ${_MAX_LINE}, at most ${_MAX_LINE_LIMIT}); a longer one fails the read, so a file without line breaks cannot fill the memory.`,
      },
    },
    outPorts: {
      out: {
        type: "string",
        description: "Each line, without its line break.",
      },
      error: _errorPort,
    },
    async run(ctx) {
      const path = _requirePath(ctx, "fs/ReadLines");
      const signal = ctx.signal;
      if (signal.aborted) return;
      const stdin = path === "-";
      const where = stdin ? "standard input" : path;
      let source: _ByteSource;
      try {
        source = stdin
          ? _streamSource(process.stdin, signal)
          : await _fileSource(path, sandbox);
      } catch (e) {
        if ((e as Error).name === "SandboxError") throw e;
        throw _fileError(
          "read",
          where,
          e,
          stdin ? undefined : _pathsFrom(sandbox?.root),
        );
      }
      // Drops a byte-order mark at the start; keeps characters whole across
      // chunks.
      const decoder = new TextDecoder();
      // The start of the current line, from earlier chunks.
      let pending: string[] = [];
      let pendingLength = 0;
      const maxLine = ctx.control<number>("maxLineLength");
      const tooLong = () =>
        _fileError(
          "read",
          where,
          `a line is longer than maxLineLength (${maxLine} characters)`,
        );
      try {
        for (;;) {
          let bytes: Uint8Array | null;
          try {
            bytes = await source.read();
          } catch (e) {
            if (signal.aborted) return;
            throw _fileError("read", where, e);
          }
          if (signal.aborted) return;
          const text = bytes === null
            ? decoder.decode()
            : decoder.decode(bytes, { stream: true });
          let start = 0;
          for (
            let i = text.indexOf("\n");
            i !== -1;
            i = text.indexOf("\n", start)
          ) {
            let line = text.slice(start, i);
            start = i + 1;
            if (pending.length > 0) {
              pending.push(line);
              line = pending.join("");
              pending = [];
              pendingLength = 0;
            }
            if (line.charCodeAt(line.length - 1) === 13) {
              line = line.slice(0, -1);
            }
            if (line.length > maxLine) throw tooLong();
            const sent = ctx.send("out", line);
            if (sent !== undefined) await sent;
            if (signal.aborted) return;
          }
          if (start < text.length) {
            pending.push(text.slice(start));
            pendingLength += text.length - start;
            if (pendingLength > maxLine + 1) throw tooLong();
          }
          if (bytes === null) break;
        }
        if (pending.length > 0) {
          const sent = ctx.send("out", pending.join(""));
          if (sent !== undefined) await sent;
        }
      } finally {
        await source.close();
      }
    },
  });
}

interface WriteState {
  /** The open file, or `undefined` before the first line and after closing. */
  fd: number | undefined;
  /** Lines taken but not yet written. */
  pending: string;
  /** Writes `pending` once the current burst of messages is over. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A failed background write, reported with the next message. */
  failure: Error | undefined;
  /** The file was opened (or opening it failed): the end does not retry. */
  tried: boolean;
  /**
   * The open file is a regular file, which is synced to disk at the end (a
   * device or a pipe, such as `/dev/null` or `/dev/stdout`, cannot be).
   */
  regular: boolean;
}

/** `pending` is written at once beyond this many characters. */
const _WRITE_AT = 64 * 1024;

function _writePending(state: WriteState, path: string): void {
  if (state.pending === "" || state.fd === undefined) return;
  const bytes = _encoder.encode(state.pending);
  state.pending = "";
  try {
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(state.fd, bytes, offset, bytes.length - offset);
    }
  } catch (e) {
    throw _fileError("write", path, e);
  }
}

/** fsync errors that say the file cannot be synced, not that a write failed. */
const _UNSYNCABLE = new Set(["EINVAL", "ENOTSUP", "EOPNOTSUPP"]);

function _sync(fd: number, path: string): void {
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !_UNSYNCABLE.has(code)) {
      throw _fileError("write", path, e);
    }
  }
}

/** Writes the rest, syncs a regular file and closes it, whatever fails. */
function _close(state: WriteState, path: string): void {
  clearTimeout(state.timer);
  state.timer = undefined;
  const fd = state.fd;
  if (fd === undefined) return;
  let failure: unknown;
  try {
    _writePending(state, path);
    if (state.regular) _sync(fd, path);
  } catch (e) {
    failure = e;
  }
  state.fd = undefined;
  try {
    closeSync(fd);
  } catch (e) {
    failure ??= _fileError("write", path, e);
  }
  if (failure !== undefined) throw failure;
}

/**
 * Flags of a sandboxed write: the last part of the path may not be a
 * symbolic link (`O_NOFOLLOW`, where the platform has it), so a link
 * swapped in after the check cannot make the open truncate a file outside.
 */
function _writeFlags(append: boolean): number {
  // Non-blocking too: opening a FIFO for writing waits for a reader, and
  // a write to it then blocks the server's thread; it is refused below.
  return constants.O_WRONLY | constants.O_CREAT |
    (append ? constants.O_APPEND : constants.O_TRUNC) |
    (constants.O_NOFOLLOW ?? 0) | constants.O_NONBLOCK;
}

function _open(
  ctx: Context<WriteState>,
  sandbox: FileSandbox | undefined,
): number {
  const path = _requirePath(ctx, "fs/WriteLines");
  ctx.state.tried = true;
  const append = ctx.control<boolean>("append");
  let fd: number;
  try {
    fd = sandbox === undefined
      ? openSync(path, append ? "a" : "w")
      : openSync(sandbox.check(path), _writeFlags(append), 0o666);
  } catch (e) {
    if ((e as Error).name === "SandboxError") throw e;
    throw _fileError("write", path, e, _pathsFrom(sandbox?.root));
  }
  if (sandbox !== undefined) {
    try {
      sandbox.checkOpen(path, fd);
      if (!fstatSync(fd).isFile()) {
        throw _fileError("write", path, "it is not a regular file");
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }
  try {
    ctx.state.regular = fstatSync(fd).isFile();
  } catch {
    ctx.state.regular = false;
  }
  return fd;
}

function _line(value: unknown): string {
  if (typeof value === "string") return value;
  return _toJson(value) ?? String(value);
}

/**
 * `fs/WriteLines`: a sink that writes each message as one line of the file
 * at `path` (strings as they are, other values as JSON), appending by
 * default. It sends nothing. A value JSON cannot hold fails its message
 * with the same sentence as `json/Stringify`'s (`cannot write bigint 10 as
 * JSON: ...`), and the next lines are written as usual.
 *
 * The file is opened once, at the first message (or at the end of an empty
 * input); while opening fails, each message fails with the reason. Lines
 * are written synchronously, one write per burst of messages (at most
 * 64 KiB apart), so every line taken is written when the process finishes,
 * and even when the network is stopped: at the end of the input and on a
 * stop, the rest is written, synced to disk and the file closed. The path
 * may name a device or a pipe (`/dev/null`, `/dev/stdout`): only regular
 * files are synced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FsWriteLines } from "./fs.ts";
 *
 * assert.equal(FsWriteLines.inPorts.append.default, true);
 * ```
 */
export const FsWriteLines: Component = fsWriteLines();

/**
 * `fs/WriteLines` ({@linkcode FsWriteLines}) writing only where `sandbox`
 * allows: a path outside it is a validation problem when given as an IIP,
 * and fails the process when it arrives later; the file is opened without
 * following a symbolic link at its last part. Without a sandbox it writes
 * any path the process can (as {@linkcode FsWriteLines}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fsWriteLines } from "./fs.ts";
 * import { FileSandbox } from "./file_sandbox.ts";
 *
 * const c = fsWriteLines(new FileSandbox({ root: "/srv/weir" }));
 * assert.throws(() => c.inPorts.path.parse?.("../cron.d/x"), /outside the data folder/);
 * ```
 */
export function fsWriteLines(sandbox?: FileSandbox): Component {
  return defineComponent<WriteState>({
    name: "fs/WriteLines",
    description: "Writes each message as a line of a file, as messages arrive.",
    inPorts: {
      in: {
        description:
          "Lines to write: strings as they are, other values as JSON.",
      },
      path: {
        type: "string",
        control: true,
        required: true,
        parse: _sandboxedPath(sandbox, false),
        description: "The file to write.",
      },
      append: {
        type: "boolean",
        control: true,
        default: true,
        parse: _boolean,
        description:
          "Add to the end of an existing file (default true); false empties it first.",
      },
    },
    outPorts: { error: _errorPort },
    setup: () => ({
      fd: undefined,
      pending: "",
      timer: undefined,
      failure: undefined,
      tried: false,
      regular: false,
    }),
    process(value, ctx) {
      const state = ctx.state;
      if (state.failure !== undefined) {
        const failure = state.failure;
        state.failure = undefined;
        throw failure;
      }
      const line = _line(value);
      if (state.fd === undefined) state.fd = _open(ctx, sandbox);
      state.pending += line + "\n";
      if (state.pending.length >= _WRITE_AT) {
        clearTimeout(state.timer);
        state.timer = undefined;
        _writePending(state, ctx.control("path"));
      } else if (state.timer === undefined) {
        // One write per burst of messages rather than one per message.
        state.timer = setTimeout(() => {
          state.timer = undefined;
          try {
            _writePending(state, ctx.control("path"));
          } catch (e) {
            state.failure = e as Error;
          }
        }, 0);
      }
    },
    flush(ctx) {
      const state = ctx.state;
      // An empty input still creates (or empties) the file.
      if (!state.tried) state.fd = _open(ctx, sandbox);
      _close(state, ctx.control("path"));
      if (state.failure !== undefined) throw state.failure;
    },
    teardown(ctx) {
      const state = ctx.state;
      if (state !== undefined) _close(state, ctx.control("path"));
    },
  });
}

function _boolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  throw new TypeError(
    `expected true or false, received ${describeValue(value)}`,
  );
}

/**
 * The encodings `fs/ReadFile` accepts (any letter case), each with the
 * canonical Node.js name it is read with: Bun's `node:fs` does not know
 * aliases such as `utf-16le`.
 */
const _ENCODINGS: Readonly<Record<string, BufferEncoding>> = {
  "utf-8": "utf8",
  "utf8": "utf8",
  "utf16le": "utf16le",
  "utf-16le": "utf16le",
  "ucs2": "ucs2",
  "ucs-2": "ucs2",
  "latin1": "latin1",
  "binary": "latin1",
  "ascii": "ascii",
  "base64": "base64",
  "base64url": "base64url",
  "hex": "hex",
};

function _encoding(value: unknown): BufferEncoding {
  const name = typeof value === "string" ? value.toLowerCase() : "";
  if (Object.hasOwn(_ENCODINGS, name)) return _ENCODINGS[name];
  throw new RangeError(
    `expected an encoding (${Object.keys(_ENCODINGS).join(", ")}), received ${
      describeValue(value)
    }`,
  );
}

/**
 * `fs/ReadFile` (NoFlo's `filesystem/ReadFile`): for each path arriving on
 * `in`, reads the whole file and sends its text on `out`, decoded with
 * `encoding`; with UTF-8 a byte-order mark at the start is dropped. A file
 * that cannot be read sends an error such as `cannot read "x.txt": no such
 * file` to `error` (or the network's `error` event) and the next path is
 * read as usual. It reads at most `maxBytes` of a file (16 MiB unless set;
 * a longer file, or a device that never ends such as `/dev/zero`, is an
 * error `cannot read "x": it is longer than maxBytes (...)`): use
 * `fs/ReadLines` for large files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FsReadFile } from "./fs.ts";
 *
 * assert.equal(FsReadFile.inPorts.encoding.parse?.("UTF-16LE"), "utf16le");
 * ```
 */
export const FsReadFile: Component = fsReadFile();

/**
 * `fs/ReadFile` ({@linkcode FsReadFile}) reading only what `sandbox`
 * allows: a path outside it (`..`, an absolute path elsewhere, a symbolic
 * link leading out, the flow database) is an error on `error` naming an
 * excerpt of the path, and the next path is read. Without a sandbox it
 * reads any file the process can (as {@linkcode FsReadFile}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fsReadFile } from "./fs.ts";
 * import { FileSandbox } from "./file_sandbox.ts";
 *
 * assert.equal(fsReadFile(new FileSandbox()).name, "fs/ReadFile");
 * ```
 */
export function fsReadFile(sandbox?: FileSandbox): Component {
  return defineComponent({
    name: "fs/ReadFile",
    description: "Reads each file named on in and sends its whole text.",
    inPorts: {
      in: { type: "string", description: "Paths of the files to read." },
      encoding: {
        type: "string",
        control: true,
        default: "utf8",
        parse: _encoding,
        description:
          "Text encoding of the files: utf-8 (default), utf-16le, ucs-2, latin1 (binary), ascii, base64, base64url or hex.",
      },
      maxBytes: {
        type: "integer",
        control: true,
        default: _MAX_FILE_BYTES,
        parse: _sizeUpTo(_MAX_FILE_BYTES_LIMIT),
        description:
          `Largest file it reads, in bytes (default ${_MAX_FILE_BYTES}, 16 MiB; at most ${_MAX_FILE_BYTES_LIMIT}); a longer one is an error and the next path is read.`,
      },
    },
    outPorts: {
      out: { type: "string", description: "The text of each file." },
      error: _errorPort,
    },
    async process(value, ctx) {
      const path = _filePath(value);
      let bytes: Uint8Array;
      try {
        bytes = await _readAtMost(
          path,
          ctx.control<number>("maxBytes"),
          sandbox,
        );
      } catch (e) {
        if ((e as Error).name === "SandboxError") throw e;
        throw _fileError("read", path, e, _pathsFrom(sandbox?.root));
      }
      const encoding = ctx.control<BufferEncoding>("encoding");
      let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        .toString(encoding);
      // A byte-order mark says the text is UTF-8; it is not part of it.
      if (encoding === "utf8" && text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
      }
      await ctx.send("out", text);
    },
  });
}
