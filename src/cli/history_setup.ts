/**
 * The metric history of the weir command: its options from the settings
 * (on by default for `weir serve`, when asked for `weir run` and `weir
 * demo`; under `<data-dir>/history`, the data dir defaulting to the flow
 * database's folder for `weir serve`), and opening it with an operator's
 * error when it cannot be.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { History, type HistoryOptions } from "../history/history.ts";
import { HistoryOpenError } from "../history/history_open_error.ts";
import type { Logger } from "./log.ts";
import type { Settings } from "./settings.ts";

/** The history's options for `command`, or `null` when it keeps none. */
export function historyOptions(
  command: string,
  s: Pick<
    Settings,
    | "history"
    | "historyIntervalMs"
    | "dataDir"
    | "historyRetentionMs"
    | "historyMaxBytes"
    | "historyFlushIntervalMs"
    | "historyInclude"
    | "historyExclude"
    | "db"
  >,
): HistoryOptions | null {
  const on = s.history ?? command === "serve";
  if (!on) return null;
  const dataDir = s.dataDir ??
    (command === "serve" && s.db !== ":memory:"
      ? dirname(resolve(s.db))
      : null);
  const options: HistoryOptions = {
    intervalMs: s.historyIntervalMs,
    maxDiskBytes: s.historyMaxBytes,
    flushIntervalMs: s.historyFlushIntervalMs,
  };
  if (dataDir !== null) options.dir = join(resolve(dataDir), "history");
  if (Object.keys(s.historyRetentionMs).length > 0) {
    options.retentionMs = s.historyRetentionMs;
  }
  if (s.historyInclude.length > 0) options.include = s.historyInclude;
  if (s.historyExclude.length > 0) options.exclude = s.historyExclude;
  return options;
}

/** Options of {@linkcode openHistory}. */
export interface OpenHistoryOptions {
  /**
   * What the operator can do when the history cannot be opened. Default:
   * choose another folder or turn the history off.
   */
  advice?: string;
  /**
   * `"sample"`: the command records into the history, and its log line
   * says how often and where; `"read"`: it only reads it (`weir
   * remote-write --dry-run`), and the line says which folder it reads.
   * Default `"sample"`.
   */
  use?: "sample" | "read";
}

/**
 * Opens the history of `options`, its warnings (a corrupt chunk skipped)
 * going to the log; a history that cannot be opened is a usage error
 * (exit 2) naming its folder and the operator's way out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fail } from "./cli_error.ts";
 * import { openHistory } from "./history_setup.ts";
 * import { createLogger } from "./log.ts";
 *
 * const lines: string[] = [];
 * const log = createLogger({ format: "json", write: (l) => lines.push(l) });
 * const history = await openHistory({ intervalMs: 5000 }, log, fail);
 * await history.close();
 * assert.equal(JSON.parse(lines[0]).msg, "metric history every 5000 ms in memory");
 * ```
 */
export async function openHistory(
  options: HistoryOptions,
  log: Logger,
  fail: (message: string, code?: number) => never,
  {
    advice =
      "choose another folder with --data-dir or turn it off with --no-history",
    use = "sample",
  }: OpenHistoryOptions = {},
): Promise<History> {
  try {
    const history = await History.open({
      ...options,
      onWarning: (message) => log.warn(message, { dir: options.dir ?? null }),
      onInfo: (message) => log.info(message, { dir: options.dir ?? null }),
    });
    if (use === "read") {
      log.info(`reading the metric history in ${options.dir ?? "memory"}`, {
        dir: options.dir ?? null,
      });
    } else {
      log.info(
        `metric history every ${options.intervalMs ?? 1000} ms ${
          options.dir ? `in ${options.dir}` : "in memory"
        }`,
        { dir: options.dir ?? null, interval_ms: options.intervalMs ?? 1000 },
      );
    }
    return history;
  } catch (e) {
    // A bad option (settings check them first) says itself; the folder's
    // failures are said here with the way out.
    if (!(e instanceof HistoryOpenError)) {
      if (e instanceof RangeError || e instanceof TypeError) fail(e.message);
      throw e;
    }
    fail(
      `cannot open the metric history in "${e.dir}": ${e.reason}; ${advice}`,
    );
  }
}
