/**
 * File components: stream a file's lines (`fs/ReadLines`), append lines to
 * a file (`fs/WriteLines`) and read whole files named by messages
 * (`fs/ReadFile`, NoFlo's `filesystem/ReadFile`).
 *
 * They use `node:fs`, `node:readline` and `node:process`, which Deno and
 * Bun both provide.
 *
 * @module
 */
import {
  closeSync,
  createReadStream,
  fsyncSync,
  openSync,
  writeSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import { _errorPort, _fileError } from "./_util.ts";

function _path(value: unknown): string {
  if (typeof value === "string" && value !== "") return value;
  throw new TypeError(
    `expected a file path, received ${describeValue(value)}`,
  );
}

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
 * `fs/ReadLines`: a source that sends each line of the file at `path`
 * (`"-"` reads standard input) on `out`, without its line break (`\n` or
 * `\r\n`), and finishes at the end of the file. It reads as fast as `out`
 * takes lines, so a file of any size is read in bounded memory. A file
 * that cannot be read fails the process with a message such as
 * `cannot read "x.txt": no such file`.
 *
 * @example
 * ```ts
 * import { FsReadLines } from "./fs.ts";
 *
 * FsReadLines.inPorts.path.required; // true
 * ```
 */
export const FsReadLines: Component = defineComponent({
  name: "fs/ReadLines",
  description: "Sends each line of a file (or standard input), then ends.",
  inPorts: {
    path: {
      type: "string",
      control: true,
      required: true,
      parse: _path,
      description: 'The file to read; "-" reads standard input.',
    },
  },
  outPorts: {
    out: { type: "string", description: "Each line, without its line break." },
    error: _errorPort,
  },
  async run(ctx) {
    const path = _requirePath(ctx, "fs/ReadLines");
    const signal = ctx.signal;
    if (signal.aborted) return;
    const stdin = path === "-";
    const input: Readable = stdin ? process.stdin : createReadStream(path);
    const lines = createInterface({ input, crlfDelay: Infinity });
    // Closing the interface ends the iteration; destroying the stream
    // instead leaves it hanging on Deno and Bun.
    const stop = () => lines.close();
    signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const line of lines) {
        const sent = ctx.send("out", line);
        if (sent !== undefined) await sent;
        if (signal.aborted) break;
      }
    } catch (e) {
      if (!signal.aborted) {
        throw _fileError("read", stdin ? "standard input" : path, e);
      }
    } finally {
      signal.removeEventListener("abort", stop);
      lines.close();
      if (!stdin) input.destroy();
    }
  },
});

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
}

/** `pending` is written at once beyond this many characters. */
const _WRITE_AT = 64 * 1024;
const _encoder = new TextEncoder();

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

function _close(state: WriteState, path: string): void {
  clearTimeout(state.timer);
  state.timer = undefined;
  const fd = state.fd;
  if (fd === undefined) return;
  try {
    _writePending(state, path);
    fsyncSync(fd);
  } finally {
    state.fd = undefined;
    closeSync(fd);
  }
}

function _open(ctx: Context<WriteState>): number {
  const path = _requirePath(ctx, "fs/WriteLines");
  ctx.state.tried = true;
  try {
    return openSync(path, ctx.control<boolean>("append") ? "a" : "w");
  } catch (e) {
    throw _fileError("write", path, e);
  }
}

function _line(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? String(value);
}

/**
 * `fs/WriteLines`: a sink that writes each message as one line of the file
 * at `path` (strings as they are, other values as JSON), appending by
 * default. It sends nothing.
 *
 * The file is opened once, at the first message (or at the end of an empty
 * input); while opening fails, each message fails with the reason. Lines
 * are written synchronously, one write per burst of messages (at most
 * 64 KiB apart), so every line taken is written when the process finishes,
 * and even when the network is stopped: at the end of the input and on a
 * stop, the rest is written, synced to disk and the file closed.
 *
 * @example
 * ```ts
 * import { FsWriteLines } from "./fs.ts";
 *
 * FsWriteLines.inPorts.append.default; // true
 * ```
 */
export const FsWriteLines: Component = defineComponent<WriteState>({
  name: "fs/WriteLines",
  description: "Writes each message as a line of a file.",
  inPorts: {
    in: {
      description: "Lines to write: strings as they are, other values as JSON.",
    },
    path: {
      type: "string",
      control: true,
      required: true,
      parse: _path,
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
  }),
  process(value, ctx) {
    const state = ctx.state;
    if (state.failure !== undefined) {
      const failure = state.failure;
      state.failure = undefined;
      throw failure;
    }
    if (state.fd === undefined) state.fd = _open(ctx);
    state.pending += _line(value) + "\n";
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
    if (!state.tried) state.fd = _open(ctx);
    _close(state, ctx.control("path"));
    if (state.failure !== undefined) throw state.failure;
  },
  teardown(ctx) {
    const state = ctx.state;
    if (state !== undefined) _close(state, ctx.control("path"));
  },
});

function _boolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  throw new TypeError(
    `expected true or false, received ${describeValue(value)}`,
  );
}

const _ENCODINGS = [
  "utf-8",
  "utf8",
  "utf16le",
  "utf-16le",
  "ucs2",
  "ucs-2",
  "latin1",
  "binary",
  "ascii",
  "base64",
  "base64url",
  "hex",
];

function _encoding(value: unknown): BufferEncoding {
  if (
    typeof value === "string" && _ENCODINGS.includes(value.toLowerCase())
  ) {
    return value.toLowerCase() as BufferEncoding;
  }
  throw new RangeError(
    `expected an encoding (${_ENCODINGS.join(", ")}), received ${
      describeValue(value)
    }`,
  );
}

/**
 * `fs/ReadFile` (NoFlo's `filesystem/ReadFile`): for each path arriving on
 * `in`, reads the whole file and sends its text on `out`. A file that
 * cannot be read sends an error such as `cannot read "x.txt": no such file`
 * to `error` (or the network's `error` event) and the next path is read as
 * usual. Use `fs/ReadLines` for large files.
 *
 * @example
 * ```ts
 * import { FsReadFile } from "./fs.ts";
 *
 * FsReadFile.inPorts.encoding.default; // "utf-8"
 * ```
 */
export const FsReadFile: Component = defineComponent({
  name: "fs/ReadFile",
  description: "Reads each file named on in and sends its whole text.",
  inPorts: {
    in: { type: "string", description: "Paths of the files to read." },
    encoding: {
      type: "string",
      control: true,
      default: "utf-8",
      parse: _encoding,
      description: 'Text encoding of the files (default "utf-8").',
    },
  },
  outPorts: {
    out: { type: "string", description: "The text of each file." },
    error: _errorPort,
  },
  async process(value, ctx) {
    const path = _path(value);
    let text: string;
    try {
      text = await readFile(path, {
        encoding: ctx.control<BufferEncoding>("encoding"),
      });
    } catch (e) {
      throw _fileError("read", path, e);
    }
    await ctx.send("out", text);
  },
});
