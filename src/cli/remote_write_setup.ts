/**
 * Remote write in the weir command: the `remoteWrite` setting (a list of
 * destinations in the config file; `--remote-write URL`, repeatable, or
 * `WEIR_REMOTE_WRITE`, space-separated URLs, for a destination with the
 * defaults), its secrets read from files or variables, and the
 * {@linkcode RemoteWriter}s `weir serve` runs from its history.
 *
 * A destination in the config file:
 *
 * ```json
 * {
 *   "name": "central",
 *   "url": "https://prom.example:9090/api/v1/write",
 *   "bearerTokenFile": "/etc/weir/rw_token",
 *   "externalLabels": { "device": "gw-17" },
 *   "include": ["weir_process_messages_total", "{__name__=~\"process_.*\"}"],
 *   "exclude": ["{__name__=~\".*_bucket\"}"],
 *   "tls": { "caFile": "/etc/weir/ca.pem" }
 * }
 * ```
 *
 * Secrets: `bearerTokenFile` or `bearerTokenEnv`; `basicAuth` with
 * `username` and `passwordFile` or `passwordEnv`. Durations as the other
 * settings (`"5s"`, or ms). Unknown keys are refused (a typo would
 * otherwise be a setting silently not applied).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseDuration } from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";
import {
  _checkDuration,
  _SPAN_LIMIT,
  _TIMER_LIMIT,
} from "../engine/_duration_limit.ts";
import {
  type RemoteWriteOptions,
  RemoteWriter,
  type RemoteWriterContext,
  type RemoteWriteSource,
} from "../history/remote_write.ts";
import { decodeWriteRequest } from "../history/remote_write_proto.ts";
import type { LabelMatcher } from "../history/types.ts";
import { parseSeriesSelector } from "../server/_series_selector.ts";
import { tlsFetch } from "../runtime/tls_fetch.ts";
import { urlShown } from "../runtime/fetch_error.ts";

/** The writer's options a destination of the settings sets as they are. */
type Tuning = Pick<
  RemoteWriteOptions,
  | "maxSamplesPerRequest"
  | "maxShards"
  | "batchDeadlineMs"
  | "maxWindowMs"
  | "minBackoffMs"
  | "maxBackoffMs"
  | "timeoutMs"
  | "maxSamplesPerSecond"
  | "maxSampleAgeMs"
  | "oldAsAggregates"
  | "start"
>;

/**
 * One destination as the settings hold it: secrets not read yet, series
 * selectors as text, durations in ms.
 */
export interface RemoteWriteSpec extends Tuning {
  /** Its name (default the URL's host:port). */
  name?: string;
  /** The receiver's URL. */
  url: string;
  /** The file holding the bearer token. */
  bearerTokenFile?: string;
  /** The variable holding the bearer token. */
  bearerTokenEnv?: string;
  /** Basic auth: the user, and where the password is. */
  basicAuth?: { username: string; passwordFile?: string; passwordEnv?: string };
  /** More headers. */
  headers?: Record<string, string>;
  /** Labels added to every series. */
  externalLabels?: Record<string, string>;
  /** Series selectors to send (all when absent). */
  include?: string[];
  /** Series selectors not to send. */
  exclude?: string[];
  /** TLS: a CA file to trust, a client certificate and key. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

const STRINGS = ["name", "url", "bearerTokenFile", "bearerTokenEnv"] as const;
const COUNTS = [
  "maxSamplesPerRequest",
  "maxShards",
  "maxSamplesPerSecond",
] as const;
/**
 * Duration keys in the file, the option each sets, its least value (the
 * writer's) and its bound: a timer's (a timeout, a backoff, the batch
 * deadline's wait) fires at once past 2^31-1 ms, which made every request
 * time out at once and every retry come at once.
 */
const DURATIONS = {
  batchDeadline: ["batchDeadlineMs", 0, _TIMER_LIMIT],
  maxWindow: ["maxWindowMs", 1, _SPAN_LIMIT],
  minBackoff: ["minBackoffMs", 1, _TIMER_LIMIT],
  maxBackoff: ["maxBackoffMs", 1, _TIMER_LIMIT],
  timeout: ["timeoutMs", 1, _TIMER_LIMIT],
  maxSampleAge: ["maxSampleAgeMs", 0, _SPAN_LIMIT],
} as const;
const KEYS = new Set<string>([
  ...STRINGS,
  ...COUNTS,
  ...Object.keys(DURATIONS),
  "basicAuth",
  "headers",
  "externalLabels",
  "include",
  "exclude",
  "tls",
  "oldAsAggregates",
  "start",
]);

/**
 * Parses the `remoteWrite` setting: URLs (a string, space-separated) or,
 * from the config file, a list of URLs and destination objects. Throws a
 * TypeError or RangeError whose message completes "remoteWrite ...".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRemoteWrite } from "./remote_write_setup.ts";
 *
 * assert.deepEqual(parseRemoteWrite("http://a:9090/api/v1/write"), [
 *   { url: "http://a:9090/api/v1/write" },
 * ]);
 * assert.deepEqual(
 *   parseRemoteWrite([{ url: "http://a/w", maxBackoff: "10s", include: ["up"] }]),
 *   [{ url: "http://a/w", maxBackoffMs: 10_000, include: ["up"] }],
 * );
 * assert.throws(() => parseRemoteWrite([{ url: "http://a/w", maxbackoff: "1s" }]), /unknown key "maxbackoff"/);
 * ```
 */
export function parseRemoteWrite(value: unknown): RemoteWriteSpec[] {
  const list = typeof value === "string"
    ? value.split(/\s+/).filter((u) => u !== "")
    : value;
  if (!Array.isArray(list)) {
    throw new TypeError(
      "must be a list of destinations (URLs, or objects with url, name, bearerTokenFile, externalLabels, ...)",
    );
  }
  const names = new Set<string>();
  return list.map((item, i) => {
    const spec = _spec(item, `[${i}]`);
    const name = destinationName(spec);
    if (names.has(name)) {
      throw new RangeError(
        `[${i}] has the name "${name}" of another destination: give each a name of its own (the config file's "name")`,
      );
    }
    names.add(name);
    return spec;
  });
}

/** Checks a receiver's URL; the message never quotes it (it may hold a password). */
function _url(text: string, at: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`${at} is not a URL (http://host:port/path)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(`${at} must be an http: or https: URL`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new RangeError(
      `${at} must not hold a user or password: use basicAuth with passwordFile or passwordEnv`,
    );
  }
  return text;
}

/**
 * A destination's name: its own, or its URL's `host:port` (as the writer
 * names it).
 */
export function destinationName(spec: { name?: string; url: string }): string {
  if (spec.name !== undefined) return spec.name;
  try {
    return new URL(spec.url).host;
  } catch {
    return spec.url;
  }
}

function _spec(item: unknown, at: string): RemoteWriteSpec {
  if (typeof item === "string") return { url: _url(item, at) };
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    throw new TypeError(`${at} must be a URL or an object with a url`);
  }
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k)) {
      throw new RangeError(
        `${at} has an unknown key "${k}" (known: ${[...KEYS].join(", ")})`,
      );
    }
  }
  if (typeof o.url !== "string" || o.url === "") {
    throw new TypeError(`${at}.url must be the receiver's URL`);
  }
  const spec: RemoteWriteSpec = { url: _url(o.url, `${at}.url`) };
  for (const k of STRINGS) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== "string" || o[k] === "") {
      throw new TypeError(`${at}.${k} must be a non-empty string`);
    }
    spec[k] = o[k] as string;
  }
  if (spec.bearerTokenFile !== undefined && spec.bearerTokenEnv !== undefined) {
    throw new RangeError(
      `${at} gives bearerTokenFile and bearerTokenEnv: give one`,
    );
  }
  for (const k of COUNTS) {
    if (o[k] === undefined) continue;
    if (!Number.isSafeInteger(o[k]) || (o[k] as number) < 0) {
      throw new RangeError(`${at}.${k} must be a whole number`);
    }
    spec[k] = o[k] as number;
  }
  for (const [k, [option, min, limit]] of Object.entries(DURATIONS)) {
    if (o[k] === undefined) continue;
    let ms: number;
    try {
      ms = parseDuration(o[k]);
    } catch (e) {
      throw new RangeError(`${at}.${k}: ${(e as Error).message}`);
    }
    try {
      spec[option] = _checkDuration(ms, min, limit);
    } catch (e) {
      throw new RangeError(
        `${at}.${k} ${(e as Error).message}, received ${
          excerpt(JSON.stringify(o[k]), 40)
        }`,
      );
    }
  }
  if (o.basicAuth !== undefined) {
    const b = o.basicAuth as Record<string, unknown>;
    if (
      b === null || typeof b !== "object" || typeof b.username !== "string" ||
      Object.keys(b).some((k) =>
        !["username", "passwordFile", "passwordEnv"].includes(k)
      ) ||
      (typeof b.passwordFile === "string") ===
        (typeof b.passwordEnv === "string")
    ) {
      throw new TypeError(
        `${at}.basicAuth must be { "username": ..., "passwordFile" or "passwordEnv": ... } (the password itself never goes in the config file)`,
      );
    }
    spec.basicAuth = b as RemoteWriteSpec["basicAuth"];
  }
  for (const k of ["headers", "externalLabels"] as const) {
    if (o[k] === undefined) continue;
    const m = o[k] as Record<string, unknown>;
    if (
      m === null || typeof m !== "object" || Array.isArray(m) ||
      Object.values(m).some((v) => typeof v !== "string")
    ) {
      throw new TypeError(`${at}.${k} must be an object of strings`);
    }
    if (k === "headers") {
      const auth = Object.keys(m).find((h) =>
        h.toLowerCase() === "authorization"
      );
      if (auth !== undefined) {
        // The library's own hint (bearerToken) is no key of this file.
        throw new RangeError(
          `${at}.headers may not set ${
            JSON.stringify(auth)
          }: give bearerTokenFile, bearerTokenEnv or basicAuth (a secret never goes in the config file)`,
        );
      }
    }
    spec[k] = m as Record<string, string>;
  }
  for (const k of ["include", "exclude"] as const) {
    if (o[k] === undefined) continue;
    const list = o[k];
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) {
      throw new TypeError(
        `${at}.${k} must be a list of series selectors ("weir_process_messages_total", "{__name__=~\\"process_.*\\"}")`,
      );
    }
    for (const s of list as string[]) {
      try {
        parseSeriesSelector(s);
      } catch (e) {
        throw new RangeError(`${at}.${k}: ${(e as Error).message}`);
      }
    }
    spec[k] = list as string[];
  }
  if (o.tls !== undefined) {
    const t = o.tls as Record<string, unknown>;
    if (
      t === null || typeof t !== "object" ||
      Object.entries(t).some(([k, v]) =>
        !["caFile", "certFile", "keyFile"].includes(k) ||
        typeof v !== "string"
      ) || (t.certFile === undefined) !== (t.keyFile === undefined)
    ) {
      throw new TypeError(
        `${at}.tls must be { "caFile"?, "certFile" and "keyFile" together? } (paths)`,
      );
    }
    spec.tls = t as RemoteWriteSpec["tls"];
  }
  if (o.oldAsAggregates !== undefined) {
    if (typeof o.oldAsAggregates !== "boolean") {
      throw new TypeError(`${at}.oldAsAggregates must be true or false`);
    }
    spec.oldAsAggregates = o.oldAsAggregates;
  }
  if (o.start !== undefined) {
    if (o.start !== "now" && o.start !== "oldest") {
      throw new RangeError(`${at}.start must be "now" or "oldest"`);
    }
    spec.start = o.start;
  }
  return spec;
}

/**
 * `spec` with its relative file paths (token, password, TLS files) taken
 * from `dir`: a config file's folder, as for its `tokenFile`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { remoteWritePathsFrom } from "./remote_write_setup.ts";
 *
 * assert.deepEqual(
 *   remoteWritePathsFrom({ url: "http://a/w", bearerTokenFile: "rw_token", tls: { caFile: "/etc/ca.pem" } }, "/etc/weir"),
 *   { url: "http://a/w", bearerTokenFile: "/etc/weir/rw_token", tls: { caFile: "/etc/ca.pem" } },
 * );
 * ```
 */
export function remoteWritePathsFrom(
  spec: RemoteWriteSpec,
  dir: string,
): RemoteWriteSpec {
  const at = (p: string | undefined) => p === undefined ? p : resolve(dir, p);
  const out: RemoteWriteSpec = { ...spec };
  if (spec.bearerTokenFile !== undefined) {
    out.bearerTokenFile = at(spec.bearerTokenFile);
  }
  if (spec.basicAuth?.passwordFile !== undefined) {
    out.basicAuth = {
      ...spec.basicAuth,
      passwordFile: at(spec.basicAuth.passwordFile),
    };
  }
  if (spec.tls !== undefined) {
    out.tls = {};
    for (const k of ["caFile", "certFile", "keyFile"] as const) {
      if (spec.tls[k] !== undefined) out.tls[k] = at(spec.tls[k]);
    }
  }
  return out;
}

/** A destination ready to run: the writer's options and its context's fetch. */
export interface RemoteWriteDestination {
  /** The writer's options, secrets read. */
  options: RemoteWriteOptions;
  /** The fetch of its TLS settings, when it has any. */
  fetch?: RemoteWriterContext["fetch"];
}

/**
 * Reads each destination's secrets (from its file or variable) and
 * builds its options. Throws a RangeError naming the destination and
 * what is missing; the message never holds a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { remoteWriteDestinations } from "./remote_write_setup.ts";
 *
 * const [d] = remoteWriteDestinations(
 *   [{ url: "http://a/w", bearerTokenEnv: "RW_TOKEN", include: ["up"] }],
 *   { RW_TOKEN: "s3cret\n" },
 * );
 * assert.equal(d.options.bearerToken, "s3cret");
 * assert.deepEqual(d.options.include, [[{ name: "__name__", type: "=", value: "up" }]]);
 * assert.throws(
 *   () => remoteWriteDestinations([{ url: "http://a/w", bearerTokenEnv: "NOPE" }], {}),
 *   /remote write "a": the variable NOPE/,
 * );
 * ```
 */
export function remoteWriteDestinations(
  specs: readonly RemoteWriteSpec[],
  env: Readonly<Record<string, string | undefined>>,
): RemoteWriteDestination[] {
  return specs.map((spec) => {
    const where = `remote write "${destinationName(spec)}"`;
    /** A file's text; a sentence naming the destination when it cannot be read. */
    const read = (file: string, what: string) => {
      try {
        return readFileSync(file, "utf8");
      } catch (e) {
        throw new RangeError(
          `${where}: cannot read the ${what} ${file} (${
            (e as { code?: string }).code ?? "error"
          })`,
        );
      }
    };
    const secret = (file: string | undefined, variable: string | undefined) => {
      if (file !== undefined) {
        const value = read(file, "secret file").trim();
        if (value === "") {
          throw new RangeError(`${where}: the secret file ${file} is empty`);
        }
        return value;
      }
      if (variable !== undefined) {
        const value = env[variable]?.trim();
        if (value === undefined || value === "") {
          throw new RangeError(
            `${where}: the variable ${variable} is not set (or empty)`,
          );
        }
        return value;
      }
      return undefined;
    };
    const selectors = (list: string[] | undefined): LabelMatcher[][] =>
      (list ?? []).map((s) => parseSeriesSelector(s));
    const {
      url,
      name,
      headers,
      externalLabels,
      include,
      exclude,
      bearerTokenFile: _tokenFile,
      bearerTokenEnv: _tokenEnv,
      basicAuth: _basicAuth,
      tls: _tls,
      ...tuning
    } = spec;
    const options: RemoteWriteOptions = {
      ...tuning,
      url,
      name,
      headers,
      externalLabels,
      include: selectors(include),
      exclude: selectors(exclude),
    };
    const token = secret(spec.bearerTokenFile, spec.bearerTokenEnv);
    if (token !== undefined) options.bearerToken = token;
    if (spec.basicAuth !== undefined) {
      options.basicAuth = {
        username: spec.basicAuth.username,
        password: secret(
          spec.basicAuth.passwordFile,
          spec.basicAuth.passwordEnv,
        )!,
      };
    }
    for (const k of Object.keys(options) as (keyof RemoteWriteOptions)[]) {
      if (options[k] === undefined) delete options[k];
    }
    const d: RemoteWriteDestination = { options };
    if (spec.tls !== undefined) {
      const pem = (file: string | undefined, what: string) => {
        if (file === undefined) return undefined;
        const text = read(file, `TLS ${what}`);
        // Said now, not as endless retries later (Bun takes any text).
        if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
          throw new RangeError(
            `${where}: the TLS ${what} ${file} holds no PEM block (-----BEGIN ...-----)`,
          );
        }
        return text;
      };
      d.fetch = tlsFetch({
        ca: pem(spec.tls.caFile, "CA file"),
        cert: pem(spec.tls.certFile, "certificate"),
        key: pem(spec.tls.keyFile, "key"),
      });
    }
    return d;
  });
}

/**
 * `weir remote-write --dry-run`: for each destination, what it would
 * send of the last `sinceMs` of `history` (series, samples, requests and
 * compressed bytes, and the first `show` series with their sample counts),
 * read back from the very request bodies it would send, which go nowhere.
 * Nothing is sent and no cursor is written. Secrets are not printed: only
 * where they come from.
 */
export async function remoteWriteDryRun(
  specs: readonly RemoteWriteSpec[],
  destinations: readonly RemoteWriteDestination[],
  history: RemoteWriteSource,
  sinceMs: number,
  print: (line: string) => void,
  show = 20,
): Promise<void> {
  const newest = history.newestTime();
  for (let i = 0; i < destinations.length; i++) {
    const spec = specs[i];
    const { options } = destinations[i];
    const auth = spec.bearerTokenFile !== undefined
      ? `bearer token from ${spec.bearerTokenFile}`
      : spec.bearerTokenEnv !== undefined
      ? `bearer token from $${spec.bearerTokenEnv}`
      : spec.basicAuth !== undefined
      ? `basic auth as ${spec.basicAuth.username}`
      : "no auth";
    const counts = new Map<string, { samples: number; last: number }>();
    let requests = 0;
    let bytes = 0;
    const writer = new RemoteWriter(
      history,
      // Everything of the span, at once: no rate limit, no age limit.
      {
        ...options,
        batchDeadlineMs: 0,
        maxSampleAgeMs: 0,
        maxSamplesPerSecond: 0,
      },
      {
        startAt: newest - sinceMs,
        fetch: async (request) => {
          const body = new Uint8Array(await request.arrayBuffer());
          requests++;
          bytes += body.byteLength;
          for (const s of decodeWriteRequest(body)) {
            const key = _seriesText(s.labels);
            const c = counts.get(key) ?? { samples: 0, last: NaN };
            c.samples += s.t.length;
            c.last = s.v[s.v.length - 1];
            counts.set(key, c);
          }
          return new Response(null, { status: 204 });
        },
      },
    );
    await writer.sendOnce();
    await writer.close();
    const samples = writer.stats.samplesSent;
    print(
      `remote write "${writer.name}" -> ${
        urlShown(new URL(options.url))
      } (${auth}${spec.tls !== undefined ? ", TLS settings" : ""})`,
    );
    print(
      newest === -Infinity
        ? "  the history holds no sample yet"
        : `  the last ${sinceMs / 1000} s of the history, to ${
          new Date(writer.stats.sentThrough).toISOString()
        } (its last complete tick): ${counts.size} series, ${samples} samples in ${requests} requests, ${bytes} bytes (snappy)`,
    );
    const keys = [...counts.keys()].sort();
    for (const key of keys.slice(0, show)) {
      const c = counts.get(key)!;
      print(`    ${key} ${c.samples} samples, last ${c.last}`);
    }
    if (keys.length > show) print(`    ... and ${keys.length - show} more`);
  }
}

/** `name{a="x",b="y"}` of a series. */
function _seriesText(labels: Record<string, string>): string {
  const { __name__: name = "", ...rest } = labels;
  const inner = Object.keys(rest).sort().map((k) =>
    `${k}=${JSON.stringify(rest[k])}`
  ).join(",");
  return `${name}{${inner}}`;
}
