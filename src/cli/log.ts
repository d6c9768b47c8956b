/**
 * The weir command's log: one line per event, on standard error, as JSON
 * (for a log collector) or as readable text (for a person at a terminal).
 *
 * @module
 */

/** How much to log, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The log levels, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
];

/** How log lines look: `auto` picks `text` on a terminal, else `json`. */
export type LogFormat = "auto" | "text" | "json";

/** The log formats. */
export const LOG_FORMATS: readonly LogFormat[] = ["auto", "text", "json"];

/** Fields added to a log line, e.g. `{ flow: "demo" }`. */
export type LogFields = Record<string, string | number | boolean | null>;

/** Writes log lines at or above a level. */
export interface Logger {
  /** Logs `message` at `level` with `fields`. */
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** Logs at debug level. */
  debug(message: string, fields?: LogFields): void;
  /** Logs at info level. */
  info(message: string, fields?: LogFields): void;
  /** Logs at warn level. */
  warn(message: string, fields?: LogFields): void;
  /** Logs at error level. */
  error(message: string, fields?: LogFields): void;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** The least severe level written. Default `"info"`. */
  level?: LogLevel;
  /** `"json"` or `"text"` (resolve `"auto"` first). Default `"text"`. */
  format?: "text" | "json";
  /** Writes one line (without its newline). Default: `console.error`. */
  write?: (line: string) => void;
  /** The clock. Default `Date.now`. */
  now?: () => number;
}

/**
 * Creates a logger. A JSON line holds `time` (ISO 8601, UTC), `level`,
 * `msg` and the fields; a text line is `HH:MM:SS.mmm LEVEL message
 * key=value ...` in local time, leaving out the fields whose value the
 * message already holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 *
 * const lines: string[] = [];
 * const log = createLogger({ format: "json", write: (l) => lines.push(l), now: () => 0 });
 * log.info("serving", { url: "http://127.0.0.1:9464" });
 * log.debug("left out at the default level");
 * assert.deepEqual(lines, [
 *   '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"serving","url":"http://127.0.0.1:9464"}',
 * ]);
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const least = LOG_LEVELS.indexOf(options.level ?? "info");
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  const format = options.format === "json" ? _jsonLine : _textLine;
  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < least) return;
    write(format(now(), level, message, fields));
  };
  return {
    log,
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

/**
 * The format `auto` stands for: `text` when standard error (where the log
 * goes) is a terminal, else `json`. The issue that asked for this said
 * standard output; the log's own stream is what tells whether a person
 * reads it (`weir run flow.fbp | jq` pipes the flow's output while the log
 * stays on the terminal, and `weir serve 2>weir.log` writes JSON).
 */
export function resolveLogFormat(
  format: LogFormat,
  isTerminal: boolean,
): "text" | "json" {
  if (format !== "auto") return format;
  return isTerminal ? "text" : "json";
}

function _jsonLine(
  time: number,
  level: LogLevel,
  message: string,
  fields?: LogFields,
): string {
  return JSON.stringify({
    time: new Date(time).toISOString(),
    level,
    msg: message,
    ...fields,
  });
}

// deno-lint-ignore no-control-regex
const _CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/g;
/** A field value written as it is: no blank, quote, `=` or control character. */
// deno-lint-ignore no-control-regex
const _BARE = /^[^\s"=\x00-\x1f\x7f]+$/;

/**
 * `text` with its control characters but tabs written as escapes (`\n`,
 * `\r`, `\u001b`): a message may quote what a flow's graph holds (a
 * process name with a line break), which must not start a forged line or
 * drive the terminal.
 */
function _oneLine(text: string): string {
  return text.replace(
    _CONTROLS,
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\r"
        ? "\\r"
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function _textLine(
  time: number,
  level: LogLevel,
  message: string,
  fields?: LogFields,
): string {
  const d = new Date(time);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  let line = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
    p(d.getMilliseconds(), 3)
  } ${level.toUpperCase().padEnd(5)} ${_oneLine(message)}`;
  for (const [k, v] of Object.entries(fields ?? {})) {
    const s = String(v);
    // What the sentence already says is for machines (the JSON form) only.
    if (message.includes(s)) continue;
    line += ` ${k}=${_BARE.test(s) ? s : JSON.stringify(s)}`;
  }
  return line;
}
