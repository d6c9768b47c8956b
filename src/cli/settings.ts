/**
 * The weir command's settings, and where each comes from: a flag beats an
 * environment variable, which beats the config file, which beats the
 * default. The config file is optional: `--config FILE` or `WEIR_CONFIG`
 * names it, and it holds a JSON object whose keys are the settings' names
 * (`{"port": 9464, "db": "/var/lib/weir/flows.db"}`).
 *
 * A bad value fails with a sentence that names where it came from (the
 * flag, the variable, or the file and key) and what it must be.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { parseDuration } from "../engine/component.ts";
import { closestName } from "../engine/registry.ts";
import { excerpt } from "../engine/excerpt.ts";
import { MAX_TIMER_MS } from "../engine/limits.ts";
import { _checkDuration, _SPAN_LIMIT } from "../engine/_duration_limit.ts";
import { GraphError } from "../graph/graph_error.ts";
import { parseGraphJson } from "../graph/parse_graph_json.ts";
import { sourceMapOf } from "../graph/problem.ts";
import { resolveMetricsOptions } from "../metrics/options.ts";
import { parseTokenSpec, type TokenGrant } from "../server/auth.ts";
import { readText } from "./_read_text.ts";
import {
  parseRemoteWrite,
  remoteWritePathsFrom,
  type RemoteWriteSpec,
} from "./remote_write_setup.ts";
import { ExecAllowList } from "../components/exec_allow.ts";
import { HostAllowList } from "../components/http_hosts.ts";
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from "./log.ts";

/** Everything the weir command can be told, with the defaults filled in. */
export interface Settings {
  /** Where `weir serve` listens. Default `127.0.0.1`. */
  host: string;
  /** Its port; 0 picks a free one. Default 9464. */
  port: number;
  /** The flow database file, or `:memory:`. Default `weir.db`. */
  db: string;
  /** The bearer tokens accepted. Default none. */
  tokens: TokenGrant[];
  /**
   * More tokens, read from the file `--token-file` names (one per line), so
   * they stay off the command line. Default none.
   */
  fileTokens: TokenGrant[];
  /** Prefix of the engine metrics. Default `weir`. */
  metricsNamespace: string;
  /** The least severe log level written. Default `info`. */
  logLevel: LogLevel;
  /** JSON lines, text, or `auto` (text on a terminal). Default `auto`. */
  logFormat: LogFormat;
  /** How long a stop waits for messages to flow out (ms). Default 5000. */
  drainTimeoutMs: number;
  /**
   * Whether the metric history samples every series; `null` leaves it to
   * the command: on for `weir serve`, off for `weir run` and `weir demo`.
   */
  history: boolean | null;
  /** Time between two samples of the history (ms). Default 1000. */
  historyIntervalMs: number;
  /**
   * The folder weir keeps its data in (the history under `history/`);
   * `null`: the flow database's folder for `weir serve`, none (the history
   * in memory) for `weir run` and `weir demo`.
   */
  dataDir: string | null;
  /** Retention (ms) by tier name (`raw`, `1m`, `1h`); the tiers' defaults otherwise. */
  historyRetentionMs: Record<string, number>;
  /** The history's byte budget on disk, all tiers together. Default 256 MiB. */
  historyMaxBytes: number;
  /** How often the history writes recent samples to disk (ms). Default 10000. */
  historyFlushIntervalMs: number;
  /** Series the history keeps, by name (anchored regular expressions); all when empty. */
  historyInclude: string[];
  /** Series the history leaves out, by name (anchored regular expressions). */
  historyExclude: string[];
  /** Where remote write sends the history (none by default). */
  remoteWrite: RemoteWriteSpec[];
  /**
   * `weir serve` restores every stored flow stopped (a flow that takes the
   * server down cannot do it again); each is started by hand. Default off.
   */
  safeMode: boolean;
  /**
   * The largest connection capacity a flow may ask for (`capacity`,
   * `defaultCapacity`), in messages. Default 100,000.
   */
  maxCapacity: number;
  /** Each JSONata evaluation's time budget (ms). Default 1000. */
  expressionTimeoutMs: number;
  /** Each JSONata evaluation's depth budget (nested calls). Default 1000. */
  expressionMaxDepth: number;
  /**
   * A blocked event loop counts as a stall after this many ms: the flow
   * whose activation blocks it is logged and stopped. 0 turns the watchdog
   * off. Default 2000.
   */
  stallThresholdMs: number;
  /** The bytes a flow's connections may buffer before its sources wait. Default 64 MiB. */
  flowBytesBudget: number;
  /**
   * The programs `exec/Run` may start, as absolute paths (names were looked
   * up on `PATH` when the settings were read). Default none: off.
   */
  allowExec: string[];
  /**
   * The hosts `http/Request` may reach in every flow (`api.example.com`,
   * `*.corp.example`, `10.0.0.5:8080`); a flow's `allow.hosts` narrows it.
   * Default `null`: every host.
   */
  allowHosts: string[] | null;
  /**
   * The folder of the operator's own component modules (`.js`, `.ts`,
   * `.mjs`), loaded at start (see `components_dir.ts`). Default none.
   */
  components: string | null;
  /**
   * The secrets folder: a flow's `file:NAME` secret reference and the TLS
   * files of `mqtt/*` are files in it. Default none (then systemd's
   * `$CREDENTIALS_DIRECTORY` when set): every `file:` is refused.
   */
  secretsDir: string | null;
  /** The environment variables a flow's `env:NAME` may name. Default none. */
  secretEnv: string[];
}

/** Where a setting came from. */
export type SettingSource = "flag" | "env" | "file" | "default";

/** The resolved settings and the source of each. */
export interface ResolvedSettings {
  /** The values. */
  settings: Settings;
  /** Where each came from. */
  sources: Record<keyof Settings, SettingSource>;
  /** The config file read, if any. */
  configFile?: string;
  /** The token file read, if any (absolute). */
  tokenFile?: string;
}

/** A setting that can come from a flag, a variable or the config file. */
export interface SettingDef<K extends keyof Settings = keyof Settings> {
  /** The setting. */
  key: K;
  /** Its flag, e.g. `--port`. */
  flag: string;
  /** The switch that turns it off (`--no-history`), for an on/off setting. */
  off?: string;
  /** Whether the flag repeats, each one adding values (`--token`). */
  repeats?: boolean;
  /** What its value looks like in help, e.g. `<port>`; none for a switch. */
  arg?: string;
  /** A value to show in errors, e.g. `9464`. */
  example: string;
  /** Its environment variable. */
  env: string;
  /** Its key in the config file. */
  fileKey: string;
  /** One line of help. */
  help: string;
  /** The default. */
  default: Settings[K];
  /** The default as help shows it, by command, when not `String(default)`. */
  shownDefault?: (command: string) => string;
  /** Parses a value (a string from a flag or variable, JSON from the file). */
  parse(value: unknown): Settings[K];
}

/** Bad settings or usage: the message is one sentence for the operator. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

function _string(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`must be ${what}`);
  }
  return value;
}

function _oneOf<T extends string>(values: readonly T[]) {
  return (value: unknown): T => {
    if (!(values as readonly unknown[]).includes(value)) {
      throw new RangeError(`must be one of ${values.join(", ")}`);
    }
    return value as T;
  };
}

function _port(value: unknown): number {
  const n = typeof value === "number"
    ? value
    : typeof value === "string" && /^\d{1,5}$/.test(value.trim())
    ? Number(value)
    : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new RangeError("must be a port number from 0 to 65535");
  }
  return n;
}

function _tokens(value: unknown): TokenGrant[] {
  const specs = typeof value === "string"
    ? value.split(/\s+/).filter((s) => s !== "")
    : Array.isArray(value)
    ? value
    : undefined;
  if (specs === undefined || specs.some((s) => typeof s !== "string")) {
    throw new TypeError(
      'must be tokens ("[scopes:]token", space-separated in a variable, a list in the file)',
    );
  }
  return specs.map((s) => parseTokenSpec(s as string));
}

/** A token's own error, without its "Cannot use token: " opening. */
function _tokenWhy(e: unknown): string {
  return (e as Error).message.replace(/^Cannot (use|read) token: /, "");
}

function _tokenFile(value: unknown): TokenGrant[] {
  const path = _string(value, "a file path");
  const text = readText(path, (why) => {
    throw new RangeError(`cannot read the token file "${path}": ${why}`);
  });
  const grants: TokenGrant[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      grants.push(parseTokenSpec(line));
    } catch (e) {
      // The line is a secret: only its number is shown.
      throw new RangeError(`"${path}" line ${i + 1}: ${_tokenWhy(e)}`);
    }
  }
  if (grants.length === 0) {
    throw new RangeError(
      `the token file "${path}" holds no token (one "[scopes:]secret" a line; # starts a comment)`,
    );
  }
  return grants;
}

const _SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** A size in bytes: `1048576`, `"256MiB"`, `"1.5GB"`. */
function _bytes(value: unknown): number {
  const m = typeof value === "string"
    ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value)
    : null;
  const n = typeof value === "number"
    ? value
    : m && m[2].toLowerCase() in _SIZE_UNITS
    ? Number(m[1]) * _SIZE_UNITS[m[2].toLowerCase()]
    : NaN;
  if (!Number.isFinite(n) || n < 1_048_576) {
    throw new RangeError(
      'must be a size of at least 1 MiB: bytes, or "64MiB", "1GiB", "500MB"',
    );
  }
  return Math.floor(n);
}

const _LONG_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** A long duration in ms: `500`, `"90s"`, `"36h"`, `"30d"`, `"2w"`, `"2y"`. */
function _longDuration(value: unknown): number {
  const m = typeof value === "string"
    ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)?\s*$/.exec(value)
    : null;
  const n = typeof value === "number"
    ? value
    : m
    ? Number(m[1]) * _LONG_UNITS[m[2] ?? "ms"]
    : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new RangeError("not a duration");
  return Math.round(n);
}

/** The default tiers' names, which retention may name. */
const _TIERS = ["raw", "1m", "1h"];

/** Retention by tier: `"raw=2d,1m=60d"` (flag, variable) or `{"raw": "2d"}` (file). */
function _retention(value: unknown): Record<string, number> {
  const entries: [string, unknown][] = typeof value === "string"
    ? value.split(",").filter((p) => p.trim() !== "").map((p) => {
      const eq = p.indexOf("=");
      return eq < 0
        ? [p.trim(), undefined]
        : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
    })
    : value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.entries(value)
    : [];
  const what =
    `must be tier=duration pairs such as "raw=2d,1m=60d,1h=2y" (tiers ${
      _TIERS.join(", ")
    }; units ms, s, m, h, d, w, y)`;
  if (entries.length === 0) throw new RangeError(what);
  const out: Record<string, number> = {};
  for (const [tier, d] of entries) {
    if (!_TIERS.includes(tier)) {
      throw new RangeError(`${what}; "${tier}" is no tier`);
    }
    if (Object.hasOwn(out, tier)) {
      throw new RangeError(`${what}; "${tier}" is named twice`);
    }
    // A bare number would be milliseconds: "raw=2" meant 2 days, not a
    // raw tier that keeps nothing.
    const bare = _bareNumber(d);
    if (bare !== undefined) {
      throw new RangeError(
        `${what}; ${tier}=${bare} has no unit (it would be ${bare} ms): write it with one, such as ${tier}=${bare}d`,
      );
    }
    let ms: number;
    try {
      ms = _longDuration(d);
    } catch {
      throw new RangeError(`${what}; ${JSON.stringify(d)} is no duration`);
    }
    try {
      out[tier] = _checkDuration(ms, 1, _SPAN_LIMIT);
    } catch (e) {
      throw new RangeError(
        `${what}; ${tier}=${excerpt(String(d), 40)} ${(e as Error).message}`,
      );
    }
  }
  return out;
}

/** On or off: a switch gives `"on"`; a variable or the file a word or boolean. */
function _onOff(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  const v = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (["on", "true", "1", "yes"].includes(v)) return true;
  if (["off", "false", "0", "no"].includes(v)) return false;
  throw new RangeError("must be on or off (true/false, 1/0, yes/no)");
}

/** A duration in ms within `[min, max]`. */
function _durationWithin(min: number, max: number, examples: string) {
  return (value: unknown): number => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      ms = NaN;
    }
    if (!(ms >= min && ms <= max) || !Number.isInteger(ms)) {
      throw new RangeError(
        `must be a whole number of milliseconds from ${min} to ${max}: ms, or ${examples}`,
      );
    }
    return ms;
  };
}

/**
 * `value`'s text when it is a number without a unit (a JSON number, or
 * digits such as `"30"` or `" 2.5 "`), trimmed; else `undefined`.
 */
function _bareNumber(value: unknown): string | undefined {
  const text = String(value).trim();
  return typeof value === "number" || /^\d+(?:\.\d+)?$/.test(text)
    ? text
    : undefined;
}

/**
 * Refuses a bare number from 1 to 99 as a duration: read as milliseconds it
 * would be too short to be meant (`"drainTimeout": 30` beside systemd's
 * `TimeoutStopSec=60`, which counts seconds, is a 30 ms drain). With its
 * unit, `"30s"` or `"30ms"`, it is taken.
 */
function _refuseBareSeconds(value: unknown): void {
  const text = _bareNumber(value);
  if (text === undefined) return;
  const n = Number(text);
  if (n > 0 && n < 100) {
    throw new RangeError(
      `needs a unit for a value under 100: ${text} alone would be ${text} ms; write "${text}s" for seconds, or "${text}ms"`,
    );
  }
}

/** A whole number within `[min, max]`: `100000`, or `"1e5"` written out. */
function _intWithin(min: number, max: number, what: string) {
  return (value: unknown): number => {
    const n = typeof value === "number"
      ? value
      : typeof value === "string" && /^\s*\d+\s*$/.test(value)
      ? Number(value)
      : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new RangeError(
        `must be a whole number from ${min} to ${max} (${what})`,
      );
    }
    return n;
  };
}

/** The stall threshold: a duration from 100 ms to 1 h, or 0 / off for none. */
function _stallThreshold(value: unknown): number {
  if (value === 0 || value === false || value === "0" || value === "off") {
    return 0;
  }
  try {
    return _durationWithin(100, 3_600_000, '"2s", "500ms"')(value);
  } catch {
    throw new RangeError(
      'must be a duration from 100 ms to 1 h (ms, or "2s", "500ms"), or off',
    );
  }
}

/** Name patterns: space-separated in a flag or variable, a list in the file. */
function _patterns(value: unknown): string[] {
  const list = typeof value === "string"
    ? value.split(/\s+/).filter((s) => s !== "")
    : Array.isArray(value)
    ? value
    : undefined;
  if (
    list === undefined || list.length === 0 ||
    list.some((p) => typeof p !== "string" || p === "")
  ) {
    throw new TypeError(
      "must be metric name patterns (anchored regular expressions, space-separated in a variable, a list in the file)",
    );
  }
  for (const p of list as string[]) {
    try {
      new RegExp(`^(?:${p})$`);
    } catch (e) {
      throw new SyntaxError(
        `must be regular expressions; ${JSON.stringify(p)} is not: ${
          (e as Error).message
        }`,
      );
    }
  }
  return list as string[];
}

/**
 * Programs `exec/Run` may start: `"jq,/usr/local/bin/report"` (flag,
 * variable; the flag repeats) or a list in the file; each name is looked up
 * on `PATH` now, each path must be an executable file.
 */
function _allowExec(value: unknown): string[] {
  const list = typeof value === "string"
    ? value.split(/[,\s]+/).filter((s) => s !== "")
    : Array.isArray(value)
    ? value
    : undefined;
  if (
    list === undefined || list.length === 0 ||
    list.some((c) => typeof c !== "string" || c === "")
  ) {
    throw new TypeError(
      "must be commands: names found on PATH or absolute paths (comma-separated in a flag or variable, a list in the file)",
    );
  }
  try {
    return [...ExecAllowList.resolve(list as string[]).paths];
  } catch (e) {
    throw new RangeError(
      `must list programs that can run (names found on PATH, or absolute paths); ${
        (e as Error).message.replace(/^Cannot allow command /, "")
      }`,
    );
  }
}

/**
 * Variables a flow's `env:NAME` may name: `"MQTT_PASSWORD,API_TOKEN"`
 * (flag, variable; the flag repeats) or a list in the file; weir's own
 * `WEIR_*` are refused.
 */
function _secretEnv(value: unknown): string[] {
  const list = typeof value === "string"
    ? value.split(/[,\s]+/).filter((s) => s !== "")
    : Array.isArray(value)
    ? value
    : undefined;
  if (
    list === undefined || list.length === 0 ||
    list.some((c) =>
      typeof c !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)
    )
  ) {
    throw new TypeError(
      "must be environment variable names (letters, digits and _; comma-separated in a flag or variable, a list in the file)",
    );
  }
  const own = list.find((c) => (c as string).toUpperCase().startsWith("WEIR_"));
  if (own !== undefined) {
    throw new RangeError(
      `must not name weir's own variables (${own}: WEIR_ variables hold its settings and API token, never handed to flows)`,
    );
  }
  return [...new Set(list as string[])];
}

/**
 * Hosts `http/Request` may reach: `"api.example.com,*.corp.example"` (flag,
 * variable; the flag repeats) or a list in the file, each entry checked.
 */
function _allowHosts(value: unknown): string[] {
  const list = typeof value === "string"
    ? value.split(/[,\s]+/).filter((s) => s !== "")
    : Array.isArray(value)
    ? value
    : undefined;
  if (list === undefined || list.length === 0) {
    throw new TypeError(
      "must be host names such as api.example.com, *.corp.example or 10.0.0.5:8080 (comma-separated in a flag or variable, a list in the file)",
    );
  }
  try {
    new HostAllowList(list as string[]);
  } catch (e) {
    throw new RangeError(
      `must list host names: ${
        (e as Error).message.replace(/^Cannot use host allow list /, "")
      }`,
    );
  }
  return list as string[];
}

/** The settings, in the order help lists them. */
export const SETTINGS: readonly SettingDef[] = [
  {
    key: "host",
    flag: "--host",
    example: "0.0.0.0",
    arg: "<address>",
    env: "WEIR_HOST",
    fileKey: "host",
    help: "address to listen on (0.0.0.0 for every interface)",
    default: "127.0.0.1",
    parse: (v) => _string(v, "an address such as 127.0.0.1 or 0.0.0.0"),
  },
  {
    key: "port",
    flag: "--port",
    example: "9464",
    arg: "<port>",
    env: "WEIR_PORT",
    fileKey: "port",
    help: "port to listen on (0 picks a free one)",
    default: 9464,
    parse: _port,
  },
  {
    key: "db",
    flag: "--db",
    example: "/var/lib/weir/flows.db",
    arg: "<path>",
    env: "WEIR_DB",
    fileKey: "db",
    help: 'the flow database file (":memory:" keeps nothing)',
    default: "weir.db",
    parse: (v) => _string(v, 'a file path (or ":memory:")'),
  },
  {
    key: "tokens",
    flag: "--token",
    example: "read,metrics:$(openssl rand -hex 32)",
    arg: "<[scopes:]token>",
    env: "WEIR_TOKEN",
    fileKey: "tokens",
    help:
      "accept this bearer token (repeatable; scopes read,write,metrics,in, all when left out)",
    default: [],
    parse: _tokens,
  },
  {
    key: "metricsNamespace",
    flag: "--metrics-namespace",
    example: "edge",
    arg: "<name>",
    env: "WEIR_METRICS_NAMESPACE",
    fileKey: "metricsNamespace",
    help: "prefix of the engine metrics (weir_process_messages_total, ...)",
    default: "weir",
    parse: (v) => {
      const namespace = _string(v, "a metric name prefix such as weir");
      try {
        resolveMetricsOptions({ namespace });
      } catch {
        throw new RangeError(
          "must be letters, digits and underscores, not starting with a digit",
        );
      }
      return namespace;
    },
  },
  {
    key: "logLevel",
    flag: "--log-level",
    example: "debug",
    arg: "<level>",
    env: "WEIR_LOG_LEVEL",
    fileKey: "logLevel",
    help: `least severe log level written: ${LOG_LEVELS.join(", ")}`,
    default: "info",
    parse: _oneOf(LOG_LEVELS),
  },
  {
    key: "logFormat",
    flag: "--log-format",
    example: "json",
    arg: "<format>",
    env: "WEIR_LOG_FORMAT",
    fileKey: "logFormat",
    help:
      "json (one object per line), text, or auto: text on a terminal, else json",
    default: "auto",
    parse: _oneOf(LOG_FORMATS),
  },
  {
    key: "drainTimeoutMs",
    flag: "--drain-timeout",
    example: "30s",
    arg: "<duration>",
    env: "WEIR_DRAIN_TIMEOUT",
    fileKey: "drainTimeout",
    help: 'how long a stop waits for messages to flow out (ms, or "10s", "1m")',
    default: 5000,
    parse: (v) => {
      _refuseBareSeconds(v);
      let ms: number;
      try {
        ms = parseDuration(v);
      } catch {
        throw new RangeError(
          'must be a duration: milliseconds, or "500ms", "10s", "1m"',
        );
      }
      // A longer timer fires at once: every drain would give up at once.
      if (ms > MAX_TIMER_MS) {
        throw new RangeError(
          `must be a duration up to ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer): milliseconds, or "500ms", "10s", "1m"`,
        );
      }
      return ms;
    },
  },
  {
    key: "fileTokens",
    flag: "--token-file",
    example: "/etc/weir/tokens",
    arg: "<path>",
    env: "WEIR_TOKEN_FILE",
    fileKey: "tokenFile",
    help:
      'accept the tokens in this file, one "[scopes:]token" a line (# comments), besides --token',
    default: [],
    parse: _tokenFile,
  },
  {
    key: "history",
    flag: "--history",
    off: "--no-history",
    example: "on",
    env: "WEIR_HISTORY",
    fileKey: "history",
    help:
      "keep a metric history of every series, queryable with PromQL (--no-history: none)",
    default: null,
    shownDefault: (c) => c === "serve" ? "on" : "off",
    parse: _onOff,
  },
  {
    key: "safeMode",
    flag: "--safe-mode",
    example: "on",
    env: "WEIR_SAFE_MODE",
    fileKey: "safeMode",
    help:
      "restore every stored flow stopped, with the reason in its state; start each with POST /flows/:id/start",
    default: false,
    shownDefault: () => "off",
    parse: _onOff,
  },
  {
    key: "historyIntervalMs",
    flag: "--history-interval",
    example: "5s",
    arg: "<duration>",
    env: "WEIR_HISTORY_INTERVAL",
    fileKey: "historyInterval",
    help: 'time between two samples of the history (ms, or "1s", "15s")',
    default: 1000,
    shownDefault: () => "1s",
    parse: _durationWithin(100, 60_000, '"500ms", "1s", "15s", "1m"'),
  },
  {
    key: "dataDir",
    flag: "--data-dir",
    example: "/var/lib/weir",
    arg: "<path>",
    env: "WEIR_DATA_DIR",
    fileKey: "dataDir",
    help:
      "the data folder: flows' files (fs/*) are under it, the history in its history/",
    default: null,
    // Unset, the two differ: files are under ./data of the current folder
    // (file_sandbox_setup.ts), the history beside the --db file for serve
    // and in memory otherwise (history_setup.ts).
    shownDefault: (c) =>
      c === "validate"
        ? "./data (of the current folder)"
        : c === "remote-write"
        ? "the --db file's folder (its history/)"
        : `./data (of the current folder) for the files, ${
          c === "serve"
            ? "the --db file's folder for the history (in memory with --db :memory:)"
            : "none for the history (in memory)"
        }`,
    parse: (v) => _string(v, "a folder path"),
  },
  {
    key: "historyRetentionMs",
    flag: "--history-retention",
    example: "raw=2d,1m=60d,1h=2y",
    arg: "<tier=duration,...>",
    env: "WEIR_HISTORY_RETENTION",
    fileKey: "historyRetention",
    help:
      "how long each tier of the history is kept, up to 100y (units ms, s, m, h, d, w, y)",
    default: {},
    shownDefault: () => "raw=1d,1m=30d,1h=730d",
    parse: _retention,
  },
  {
    key: "historyMaxBytes",
    flag: "--history-max-bytes",
    example: "64MiB",
    arg: "<size>",
    env: "WEIR_HISTORY_MAX_BYTES",
    fileKey: "historyMaxBytes",
    help:
      'the history\'s disk budget, all tiers together; the oldest data goes first (bytes, or "64MiB", "1GB")',
    default: 256 * 2 ** 20,
    shownDefault: () => "256MiB",
    parse: _bytes,
  },
  {
    key: "historyFlushIntervalMs",
    flag: "--history-flush-interval",
    example: "5s",
    arg: "<duration>",
    env: "WEIR_HISTORY_FLUSH_INTERVAL",
    fileKey: "historyFlushInterval",
    help:
      "how often the history writes recent samples to disk: what a SIGKILL or power cut may lose",
    default: 10_000,
    shownDefault: () => "10s",
    parse: _durationWithin(100, 3_600_000, '"500ms", "5s", "1m"'),
  },
  {
    key: "historyInclude",
    flag: "--history-include",
    repeats: true,
    example: "'weir_process_.*'",
    arg: "<pattern>",
    env: "WEIR_HISTORY_INCLUDE",
    fileKey: "historyInclude",
    help:
      "keep only series whose name (or histogram's name) matches; an anchored regular expression (repeatable)",
    default: [],
    shownDefault: () => "all",
    parse: _patterns,
  },
  {
    key: "historyExclude",
    flag: "--history-exclude",
    repeats: true,
    example: "'.*_bucket'",
    arg: "<pattern>",
    env: "WEIR_HISTORY_EXCLUDE",
    fileKey: "historyExclude",
    help:
      "leave out series whose name (or histogram's name) matches; an anchored regular expression (repeatable)",
    default: [],
    shownDefault: () => "none",
    parse: _patterns,
  },
  {
    key: "remoteWrite",
    flag: "--remote-write",
    repeats: true,
    example: "http://prometheus:9090/api/v1/write",
    arg: "<url>",
    env: "WEIR_REMOTE_WRITE",
    fileKey: "remoteWrite",
    help:
      "send the metric history to this Prometheus remote write receiver (repeatable; the config file's remoteWrite list sets names, tokens, labels, series, TLS)",
    default: [],
    shownDefault: () => "none",
    parse: parseRemoteWrite,
  },
  {
    key: "maxCapacity",
    flag: "--max-capacity",
    example: "10000",
    arg: "<messages>",
    env: "WEIR_MAX_CAPACITY",
    fileKey: "maxCapacity",
    help:
      "the largest connection capacity a flow may ask for (capacity, defaultCapacity); buffers grow as they fill",
    default: 100_000,
    parse: _intWithin(1, 10_000_000, "messages a connection may buffer"),
  },
  {
    key: "expressionTimeoutMs",
    flag: "--expression-timeout",
    example: "200ms",
    arg: "<duration>",
    env: "WEIR_EXPRESSION_TIMEOUT",
    fileKey: "expressionTimeout",
    help:
      "time budget of each JSONata evaluation (flow/Map, flow/Filter); over it the message fails as a timeout",
    default: 1000,
    shownDefault: () => "1s",
    parse: (v) => {
      _refuseBareSeconds(v);
      return _durationWithin(1, 3_600_000, '"200ms", "1s"')(v);
    },
  },
  {
    key: "expressionMaxDepth",
    flag: "--expression-max-depth",
    example: "200",
    arg: "<depth>",
    env: "WEIR_EXPRESSION_MAX_DEPTH",
    fileKey: "expressionMaxDepth",
    help:
      "depth budget of each JSONata evaluation (nested calls); over it the message fails as a timeout",
    default: 1000,
    parse: _intWithin(1, 100_000, "nested calls"),
  },
  {
    key: "stallThresholdMs",
    flag: "--stall-threshold",
    example: "5s",
    arg: "<duration>",
    env: "WEIR_STALL_THRESHOLD",
    fileKey: "stallThreshold",
    help:
      "a flow whose activation blocks the event loop this long is logged and stopped (off: no watchdog)",
    default: 2000,
    shownDefault: () => "2s",
    parse: _stallThreshold,
  },
  {
    key: "flowBytesBudget",
    flag: "--flow-bytes-budget",
    example: "16MiB",
    arg: "<size>",
    env: "WEIR_FLOW_BYTES_BUDGET",
    fileKey: "flowBytesBudget",
    help:
      'bytes a flow\'s connections may buffer (estimated) before its sources wait (bytes, or "16MiB", "1GB")',
    default: 64 * 2 ** 20,
    shownDefault: () => "64MiB",
    parse: _bytes,
  },
  {
    key: "allowExec",
    flag: "--allow-exec",
    repeats: true,
    example: "jq,/usr/local/bin/report",
    arg: "<cmd[,cmd...]>",
    env: "WEIR_ALLOW_EXEC",
    fileKey: "allowExec",
    help:
      "programs exec/Run may start: names found on PATH or absolute paths (repeatable; none: exec/Run is off)",
    default: [],
    shownDefault: () => "none",
    parse: _allowExec,
  },
  {
    key: "allowHosts",
    flag: "--allow-hosts",
    repeats: true,
    example: "api.example.com,*.corp.example",
    arg: "<host[,host...]>",
    env: "WEIR_ALLOW_HOSTS",
    fileKey: "allowHosts",
    help:
      "hosts http/Request may reach in every flow: names, *.domain, host:port (repeatable; default any host)",
    default: null,
    shownDefault: () => "any",
    parse: _allowHosts,
  },
  {
    key: "components",
    flag: "--components",
    example: "/etc/weir/components",
    arg: "<dir>",
    env: "WEIR_COMPONENTS",
    fileKey: "components",
    help:
      "load the operator's own components: every .js, .ts and .mjs module in this folder (not its subfolders)",
    default: null,
    shownDefault: () => "none",
    parse: (v) => _string(v, "a folder path"),
  },
  {
    key: "secretsDir",
    flag: "--secrets-dir",
    example: "/etc/weir/secrets",
    arg: "<dir>",
    env: "WEIR_SECRETS_DIR",
    fileKey: "secretsDir",
    help:
      'the folder a flow\'s "file:NAME" secrets and MQTT TLS files are read from (default $CREDENTIALS_DIRECTORY of systemd; none: "file:" is refused)',
    default: null,
    shownDefault: () => "$CREDENTIALS_DIRECTORY, else none",
    parse: (v) => _string(v, "a folder path"),
  },
  {
    key: "secretEnv",
    flag: "--secret-env",
    repeats: true,
    example: "MQTT_PASSWORD,API_TOKEN",
    arg: "<name[,name...]>",
    env: "WEIR_SECRET_ENV",
    fileKey: "secretEnv",
    help:
      'environment variables a flow\'s "env:NAME" secrets may name (repeatable; none: "env:" is refused)',
    default: [],
    shownDefault: () => "none",
    parse: _secretEnv,
  },
];

/** The variable that names the config file. */
export const CONFIG_ENV = "WEIR_CONFIG";

/**
 * The `WEIR_*` variables in `env` that are not weir's but one or two edits
 * from one of its settings' (`WEIR_DRAIN_TIMOUT`), each with the one meant:
 * such a variable is otherwise ignored unseen, and its setting keeps its
 * default. Others (a test suite's `WEIR_TEST_JOBS`) are left alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { misspeltVariables } from "./settings.ts";
 *
 * assert.deepEqual(
 *   misspeltVariables({ WEIR_DRAIN_TIMOUT: "30s", WEIR_PORT: "1", WEIR_TEST_JOBS: "1" }),
 *   [{ variable: "WEIR_DRAIN_TIMOUT", meant: "WEIR_DRAIN_TIMEOUT" }],
 * );
 * ```
 */
export function misspeltVariables(
  env: Readonly<Record<string, string | undefined>>,
): { variable: string; meant: string }[] {
  const known = [...SETTINGS.map((d) => d.env), CONFIG_ENV];
  const out: { variable: string; meant: string }[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith("WEIR_") || known.includes(name)) continue;
    const meant = closestName(name, known, 2);
    if (meant !== undefined) out.push({ variable: name, meant });
  }
  return out;
}

/** The settings by their key in the config file. */
const BY_FILE_KEY = new Map(SETTINGS.map((d) => [d.fileKey, d]));

/**
 * Resolves the settings: `flags` (raw values by flag, repeated flags in
 * order), then `env`, then the config file (`--config` in `flags`, else
 * `WEIR_CONFIG`), then the defaults. A relative `db`, `tokenFile`,
 * `dataDir` or `components` path in the config file is taken from the
 * file's folder. With `only`, the other settings
 * keep their defaults and their variables and keys are not read (a command
 * is not stopped by a bad value it would not use). Throws a
 * {@linkcode SettingsError} naming the bad value's origin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSettings } from "./settings.ts";
 *
 * const r = resolveSettings({ "--port": ["8080"] }, { WEIR_PORT: "9000", WEIR_HOST: "0.0.0.0" });
 * assert.equal(r.settings.port, 8080); // the flag beats the variable
 * assert.equal(r.settings.host, "0.0.0.0");
 * assert.equal(r.sources.port, "flag");
 * assert.equal(r.sources.host, "env");
 * assert.equal(r.sources.db, "default");
 * ```
 */
export function resolveSettings(
  flags: Readonly<Record<string, readonly string[]>>,
  env: Readonly<Record<string, string | undefined>>,
  only?: readonly (keyof Settings)[],
): ResolvedSettings {
  const configFile = flags["--config"]?.at(-1) ??
    (env[CONFIG_ENV] ? env[CONFIG_ENV] : undefined);
  const file = configFile === undefined
    ? {}
    : readConfigFile(configFile, flags["--config"] ? "--config" : CONFIG_ENV);
  const settings = {} as Record<keyof Settings, unknown>;
  const sources = {} as Record<keyof Settings, SettingSource>;
  let tokenFile: string | undefined;
  for (const def of SETTINGS) {
    // A setting the command does not take keeps its default, unread.
    const found = only === undefined || only.includes(def.key)
      ? _lookUp(def, flags, env, file, configFile)
      : undefined;
    if (found === undefined) {
      settings[def.key] = def.default;
      sources[def.key] = "default";
      continue;
    }
    const { source, origin } = found;
    let { value } = found;
    // A relative token file in the config file is taken from its folder.
    if (
      def.key === "fileTokens" && source === "file" &&
      configFile !== undefined && typeof value === "string"
    ) {
      value = resolve(dirname(configFile), value);
    }
    if (def.key === "fileTokens" && typeof value === "string") {
      tokenFile = resolve(value);
    }
    try {
      settings[def.key] = def.parse(value);
    } catch (e) {
      // A token's own errors say what is wrong; the token is never shown.
      // Nor is remote write's value: a URL may hold a password, a header
      // a key (its errors name the destination and the key instead).
      throw new SettingsError(
        def.key === "tokens" || def.key === "fileTokens"
          ? `${origin}: ${_tokenWhy(e)}`
          : def.key === "remoteWrite"
          ? `${origin} ${(e as Error).message}`
          : `${origin} ${(e as Error).message}, received ${_shown(value)}`,
      );
    }
    sources[def.key] = source;
  }
  if (sources.db === "file" && configFile !== undefined) {
    const db = settings.db as string;
    if (db !== ":memory:") settings.db = resolve(dirname(configFile), db);
  }
  if (sources.dataDir === "file" && configFile !== undefined) {
    settings.dataDir = resolve(dirname(configFile), settings.dataDir as string);
  }
  if (sources.remoteWrite === "file" && configFile !== undefined) {
    // Its secret and TLS files, as the token file: from the file's folder.
    settings.remoteWrite = (settings.remoteWrite as RemoteWriteSpec[]).map((
      d,
    ) => remoteWritePathsFrom(d, dirname(configFile)));
  }
  if (sources.secretsDir === "file" && configFile !== undefined) {
    settings.secretsDir = resolve(
      dirname(configFile),
      settings.secretsDir as string,
    );
  }
  // systemd's credentials (LoadCredential=): the folder it made for weir.
  if (
    sources.secretsDir === "default" &&
    (only === undefined || only.includes("secretsDir")) &&
    env.CREDENTIALS_DIRECTORY
  ) {
    settings.secretsDir = env.CREDENTIALS_DIRECTORY;
    sources.secretsDir = "env";
  }
  if (sources.components === "file" && configFile !== undefined) {
    settings.components = resolve(
      dirname(configFile),
      settings.components as string,
    );
  }
  return {
    settings: settings as unknown as Settings,
    sources,
    ...(configFile !== undefined ? { configFile: resolve(configFile) } : {}),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
  };
}

/** Where a setting is given first: its flag, variable or file key. */
function _lookUp(
  def: SettingDef,
  flags: Readonly<Record<string, readonly string[]>>,
  env: Readonly<Record<string, string | undefined>>,
  file: Partial<Record<keyof Settings, unknown>>,
  configFile: string | undefined,
): { value: unknown; source: SettingSource; origin: string } | undefined {
  const given = flags[def.flag];
  if (def.off !== undefined && flags[def.off] !== undefined) {
    if (given !== undefined) {
      throw new SettingsError(
        `${def.flag} and ${def.off} contradict each other; give one`,
      );
    }
    return { value: "off", source: "flag", origin: def.off };
  }
  if (given !== undefined && given.length > 0) {
    // A repeating flag adds its values; the last of any other flag counts.
    const value = def.key === "tokens" || def.repeats
      ? given.join(" ")
      : def.arg === undefined
      ? "on"
      : given.at(-1);
    return { value, source: "flag", origin: def.flag };
  }
  const variable = env[def.env];
  if (variable !== undefined && variable !== "") {
    return { value: variable, source: "env", origin: def.env };
  }
  if (def.key in file) {
    return {
      value: file[def.key],
      source: "file",
      origin: `${configFile}: "${def.fileKey}"`,
    };
  }
  return undefined;
}

/** Reads the config file into settings keys; throws a SettingsError. */
function readConfigFile(
  path: string,
  from: string,
): Partial<Record<keyof Settings, unknown>> {
  const text = readText(path, (why) => {
    throw new SettingsError(
      `cannot read the config file "${path}" (from ${from}): ${why}`,
    );
  });
  if (text.trim() === "") {
    throw new SettingsError(
      `the config file "${path}" is empty: it must hold a JSON object such as {"port": 9464}`,
    );
  }
  let data: object;
  try {
    // The graph reader's strict JSON scanner tells where a syntax error is.
    data = parseGraphJson(text, { file: path });
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    const p = e.problems[0];
    throw new SettingsError(
      /^JSON syntax error: /.test(p.message)
        ? `the config file "${path}" is not valid JSON: ${
          p.message.replace(/^JSON syntax error: /, "")
        } at line ${p.line}, column ${p.col}`
        : `the config file "${path}" must hold a JSON object such as {"port": 9464}`,
    );
  }
  const out: Partial<Record<keyof Settings, unknown>> = {};
  for (const [k, v] of Object.entries(data)) {
    const def = BY_FILE_KEY.get(k);
    if (def === undefined) {
      const near = closestName(k, BY_FILE_KEY.keys());
      throw new SettingsError(
        `the config file "${path}" has an unknown key "${k}"${
          near ? `; did you mean "${near}"?` : ""
        }; known keys: ${[...BY_FILE_KEY.keys()].join(", ")}`,
      );
    }
    out[def.key] = v;
  }
  // A key given twice (at any depth): JSON.parse keeps the last value, so
  // the file would say two things and weir would do one of them.
  const twice = sourceMapOf(data)?.problems[0];
  if (twice !== undefined) {
    throw new SettingsError(
      `the config file "${path}" at line ${twice.line}, column ${twice.col}: ${twice.message}`,
    );
  }
  return out;
}

/**
 * A setting's value as the error that refuses it shows it: as JSON, but a
 * number JSON cannot write as itself (`1e400` in a config file reads as
 * Infinity, which JSON writes `null`).
 */
function _shown(value: unknown): string {
  return typeof value === "number" && !Number.isFinite(value)
    ? `${value} (a number out of range)`
    : JSON.stringify(value);
}
