/**
 * The options of one remote write receiver, and their check: what a
 * `RemoteWriter` (`./remote_write.ts`) accepts, with every default filled
 * in and every bad value refused with a RangeError that names the option.
 * No message carries a secret (bearer token, basic auth password, a URL's
 * password).
 *
 * @module
 */
import type { LabelMatcher } from "./types.ts";

/** One receiver of a `RemoteWriter` (`./remote_write.ts`). */
export interface RemoteWriteOptions {
  /** The receiver's URL (`http:` or `https:`, no user info). */
  url: string;
  /**
   * The destination's name: its cursor file and its `destination` label.
   * Default: the URL's `host:port`. Letters, digits, `.`, `_`, `-`, `:`.
   */
  name?: string;
  /** A bearer token (the secret itself; read it from a file or variable). */
  bearerToken?: string;
  /** Basic auth (the password is a secret). Not with `bearerToken`. */
  basicAuth?: { readonly username: string; readonly password: string };
  /** More request headers (not `Authorization`: use the fields above). */
  headers?: Readonly<Record<string, string>>;
  /** Labels added to every series that has no label of that name. */
  externalLabels?: Readonly<Record<string, string>>;
  /** Series to send: one selector's matchers each; all series when empty. */
  include?: readonly (readonly LabelMatcher[])[];
  /** Series not to send, one selector's matchers each. */
  exclude?: readonly (readonly LabelMatcher[])[];
  /** Samples in one request, at most. Default 2,000. */
  maxSamplesPerRequest?: number;
  /** Requests in flight at once while behind. Default 8. */
  maxShards?: number;
  /**
   * While caught up, the time a window spans before it is sent (ms).
   * Default 10,000 (Telegraf's flush interval; twice Prometheus's
   * `batch_send_deadline`): a series' labels are sent once a window, so a
   * longer window sends fewer bytes and costs less CPU (the 100 flows x 10
   * processes set-up: 122 against 179 KiB/s, 0.14-0.19 points of a core
   * less than 5,000; bench/RESULTS.md "Session 18"), at a receiver
   * lagging about 11 s instead of 6.
   */
  batchDeadlineMs?: number;
  /** While behind, the time one window spans at most (ms). Default 60,000. */
  maxWindowMs?: number;
  /** First retry delay (ms). Default 30. */
  minBackoffMs?: number;
  /** Longest retry delay (ms). Default 5,000. */
  maxBackoffMs?: number;
  /** Time a request may take before it counts as failed (ms). Default 30,000. */
  timeoutMs?: number;
  /** At most this many samples a second (0: no limit). Default 0. */
  maxSamplesPerSecond?: number;
  /**
   * Samples older than this are not sent raw (ms; 0: all are). Default 0.
   * The warning that counts them names it as the operator sets it, the
   * destination's `maxSampleAge` (a duration in weir's settings).
   */
  maxSampleAgeMs?: number;
  /** With `maxSampleAgeMs`: send the minute windows of what is too old. */
  oldAsAggregates?: boolean;
  /**
   * Where the first window starts when there is no cursor: `now`
   * (default), after the newest complete tick when the writer is made
   * (every sample the history appends since is sent), or `oldest`.
   */
  start?: "now" | "oldest";
}

const NAME = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Checks `options` and fills in the defaults; throws a RangeError naming
 * the option and the problem, never a secret (token, password).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _settings } from "./remote_write_options.ts";
 *
 * const s = _settings({ url: "https://tsdb.example:9090/api/v1/write", bearerToken: "s3cret" });
 * assert.equal(s.name, "tsdb.example:9090");
 * assert.equal(s.headers.Authorization, "Bearer s3cret");
 * assert.equal(s.maxSamplesPerRequest, 2000);
 * assert.throws(
 *   () => _settings({ url: "http://x/write", maxShards: 0 }),
 *   (e: unknown) => e instanceof RangeError && /maxShards/.test(e.message),
 * );
 * ```
 */
export function _settings(o: RemoteWriteOptions) {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new RangeError(
      "Cannot configure remote write: url is not a URL (http://host:port/path)",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(
      `Cannot configure remote write: url must be http: or https:, received ${url.protocol}`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new RangeError(
      "Cannot configure remote write: url must not hold a user or password (use basicAuth, its password from a file or variable)",
    );
  }
  const name = o.name ?? url.host;
  if (!NAME.test(name)) {
    throw new RangeError(
      `Cannot configure remote write: name must be 1-100 letters, digits, ".", "_", "-" or ":", received ${
        JSON.stringify(name)
      }`,
    );
  }
  const where = `remote write "${name}"`;
  const int = (
    key: keyof RemoteWriteOptions,
    fallback: number,
    min: number,
  ) => {
    const v = (o[key] ?? fallback) as number;
    if (!Number.isSafeInteger(v) || v < min) {
      throw new RangeError(
        `Cannot configure ${where}: ${key} must be an integer of at least ${min}, received ${v}`,
      );
    }
    return v;
  };
  if (o.bearerToken !== undefined && o.basicAuth !== undefined) {
    throw new RangeError(
      `Cannot configure ${where}: give bearerToken or basicAuth, not both`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    const lower = k.toLowerCase();
    if (
      lower === "authorization" || lower === "content-type" ||
      lower === "content-encoding" || lower === "content-length" ||
      lower === "x-prometheus-remote-write-version"
    ) {
      throw new RangeError(
        `Cannot configure ${where}: header ${JSON.stringify(k)} is set by weir${
          lower === "authorization" ? " (use bearerToken or basicAuth)" : ""
        }`,
      );
    }
    try {
      new Headers({ [k]: v });
    } catch {
      throw new RangeError(
        `Cannot configure ${where}: header ${
          JSON.stringify(k)
        } is not a valid header`,
      );
    }
    headers[k] = v;
  }
  if (o.bearerToken !== undefined) {
    headers["Authorization"] = `Bearer ${o.bearerToken}`;
  } else if (o.basicAuth !== undefined) {
    const bytes = new TextEncoder().encode(
      `${o.basicAuth.username}:${o.basicAuth.password}`,
    );
    headers["Authorization"] = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  // A basic auth value is base64: any password fits.
  if (o.bearerToken !== undefined) {
    try {
      new Headers({ Authorization: headers["Authorization"] });
    } catch {
      // Never quoted: it is the secret.
      throw new RangeError(
        `Cannot configure ${where}: its bearer token holds a character no HTTP header can carry (a line break in its file?)`,
      );
    }
  }
  for (const [k, v] of Object.entries(o.externalLabels ?? {})) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith("__")) {
      throw new RangeError(
        `Cannot configure ${where}: external label name ${
          JSON.stringify(k)
        } is not a label name`,
      );
    }
    if (typeof v !== "string") {
      throw new RangeError(
        `Cannot configure ${where}: external label ${k} must be a string`,
      );
    }
  }
  const start = o.start ?? "now";
  if (start !== "now" && start !== "oldest") {
    throw new RangeError(
      `Cannot configure ${where}: start must be "now" or "oldest", received ${
        JSON.stringify(start)
      }`,
    );
  }
  const minBackoffMs = int("minBackoffMs", 30, 1);
  const maxBackoffMs = int("maxBackoffMs", 5000, 1);
  if (maxBackoffMs < minBackoffMs) {
    throw new RangeError(
      `Cannot configure ${where}: maxBackoffMs (${maxBackoffMs}) is below minBackoffMs (${minBackoffMs})`,
    );
  }
  return {
    name,
    url: url.href,
    headers,
    secrets: _secretsOf(o, url, headers),
    externalLabels: o.externalLabels ?? {},
    include: o.include ?? [],
    exclude: o.exclude ?? [],
    maxSamplesPerRequest: int("maxSamplesPerRequest", 2000, 1),
    maxShards: int("maxShards", 8, 1),
    batchDeadlineMs: int("batchDeadlineMs", 10_000, 0),
    maxWindowMs: int("maxWindowMs", 60_000, 1),
    minBackoffMs,
    maxBackoffMs,
    timeoutMs: int("timeoutMs", 30_000, 1),
    maxSamplesPerSecond: int("maxSamplesPerSecond", 0, 0),
    maxSampleAgeMs: int("maxSampleAgeMs", 0, 0),
    oldAsAggregates: o.oldAsAggregates === true,
    start,
  };
}

/**
 * Values no warning may show, longest first: the bearer token, the basic
 * auth password and the credential the header carries, the values of the
 * other headers and of the URL's query, and the query whole. A header or
 * query value under 4 characters is left out: it is no secret worth the
 * name, and hiding it would garble the receiver's words (a "1" in "401").
 */
function _secretsOf(
  o: RemoteWriteOptions,
  url: URL,
  headers: Record<string, string>,
): string[] {
  const out = new Set<string>();
  if (o.bearerToken) out.add(o.bearerToken);
  if (o.basicAuth?.password) out.add(o.basicAuth.password);
  const auth = headers["Authorization"];
  if (auth !== undefined) out.add(auth.slice(auth.indexOf(" ") + 1));
  const values = [
    ...Object.entries(headers).filter(([k]) => k !== "Authorization").map((
      [, v],
    ) => v),
    ...[...url.searchParams.values()],
    url.search.slice(1),
  ];
  for (const v of values) if (v.trim().length >= 4) out.add(v.trim());
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * `text` (what a receiver answered) with each of `secrets` written
 * `[secret]`: a receiver, or a proxy before it, may repeat the token or
 * the URL it was sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _hideSecrets } from "./remote_write_options.ts";
 *
 * assert.equal(
 *   _hideSecrets("bad token s3cret-tok", ["s3cret-tok"]),
 *   "bad token [secret]",
 * );
 * ```
 */
export function _hideSecrets(text: string, secrets: readonly string[]): string {
  for (const s of secrets) text = text.split(s).join("[secret]");
  return text;
}

/** The checked options of one receiver, defaults filled in. */
export type _Settings = ReturnType<typeof _settings>;
