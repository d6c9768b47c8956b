/**
 * Which hosts `http/Request` may reach: allow lists of host names (the
 * server's, a flow's `allow.hosts`, a subgraph's), each narrowing the one
 * before, checked for a URL given as a setting when the graph is validated
 * and for every URL (a message's, a redirect's) before it is fetched.
 *
 * @module
 */

/** One parsed entry: a host (or `*.suffix`) and an optional port. */
interface _Entry {
  /** Lower-cased host, `[v6]` in brackets; for a wildcard the suffix with its dot. */
  host: string;
  wildcard: boolean;
  /** `""`: any port. */
  port: string;
}

const _HOST = /^(?:\*\.)?[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$/;

function _parseEntry(entry: unknown): _Entry {
  if (typeof entry !== "string" || entry.trim() === "") {
    throw new TypeError(
      `Cannot use host allow list entry ${
        JSON.stringify(entry)
      }: expected a host name such as "api.example.com", "*.example.com" or "10.0.0.5:8080"`,
    );
  }
  let text = entry.trim().toLowerCase();
  if (/[/?#@\s]/.test(text)) {
    throw new RangeError(
      `Cannot use host allow list entry ${
        JSON.stringify(entry.slice(0, 100))
      }: expected a host name such as "api.example.com", "*.example.com" or "10.0.0.5:8080" (no scheme, no path)`,
    );
  }
  let port = "";
  const v6 = /^(\[[0-9a-f:.]+\])(?::(\d+))?$/.exec(text);
  if (v6 !== null) {
    return { host: v6[1], wildcard: false, port: v6[2] ?? "" };
  }
  const colon = text.lastIndexOf(":");
  if (colon >= 0) {
    port = text.slice(colon + 1);
    text = text.slice(0, colon);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
      throw new RangeError(
        `Cannot use host allow list entry ${
          JSON.stringify(entry)
        }: the port must be a number from 0 to 65535`,
      );
    }
  }
  if (!_HOST.test(text)) {
    throw new RangeError(
      `Cannot use host allow list entry ${
        JSON.stringify(entry)
      }: expected a host name such as "api.example.com", "*.example.com" or "10.0.0.5:8080" (no scheme, no path)`,
    );
  }
  const wildcard = text.startsWith("*.");
  return { host: wildcard ? text.slice(1) : text, wildcard, port };
}

/** The port a URL reaches (its default when it names none). */
function _port(url: URL): string {
  if (url.port !== "") return url.port;
  return url.protocol === "https:" ? "443" : "80";
}

/**
 * Allow lists of hosts; a URL must be allowed by every list. No list:
 * every host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostAllowList } from "./http_hosts.ts";
 *
 * const hosts = new HostAllowList().narrow(["api.example.com", "*.corp.example", "10.0.0.5:8080"]);
 * assert.equal(hosts.allows(new URL("https://api.example.com/x")), true);
 * assert.equal(hosts.allows(new URL("https://db.corp.example/")), true);
 * assert.equal(hosts.allows(new URL("http://10.0.0.5:8080/")), true);
 * assert.equal(hosts.allows(new URL("http://10.0.0.5:9090/")), false);
 * assert.equal(hosts.allows(new URL("https://evil.example/")), false);
 * assert.throws(() => hosts.check(new URL("https://evil.example/")), /not in the allow list/);
 * ```
 */
export class HostAllowList {
  #lists: readonly _List[];

  /**
   * All hosts (no list), or only `entries` when given. A bad entry throws a
   * `RangeError` or `TypeError` that says what is wrong with it.
   */
  constructor(entries?: readonly string[]) {
    this.#lists = entries === undefined ? [] : [_list(entries)];
  }

  /** Whether any list applies. */
  get limited(): boolean {
    return this.#lists.length > 0;
  }

  /**
   * This list narrowed by `entries` (a flow's `allow.hosts`): a URL must
   * be allowed by both. A bad entry throws a `RangeError` or `TypeError`.
   */
  narrow(entries: readonly string[]): HostAllowList {
    const out = new HostAllowList();
    out.#lists = [...this.#lists, _list(entries)];
    return out;
  }

  /** Whether every list allows `url`'s host and port. */
  allows(url: URL): boolean {
    return this.#failing(url) === undefined;
  }

  /**
   * Throws a `RangeError` that names `url`'s host (never its path or
   * query) and the list that refuses it.
   */
  check(url: URL): void {
    const list = this.#failing(url);
    if (list === undefined) return;
    throw new RangeError(
      `Cannot reach host ${
        JSON.stringify(url.host)
      }: it is not in the allow list (${
        list.length === 0
          ? "none"
          : list.map((g) => JSON.stringify(g)).join(", ").slice(0, 300)
      }; a flow's properties.allow.hosts, or the server's)`,
    );
  }

  #failing(url: URL): readonly string[] | undefined {
    const host = url.hostname.toLowerCase();
    const port = _port(url);
    for (const list of this.#lists) {
      const ok = list.entries.some((e) =>
        (e.port === "" || e.port === port) &&
        (e.wildcard
          ? host.endsWith(e.host) && host.length > e.host.length
          : host === e.host)
      );
      if (!ok) return list.given;
    }
    return undefined;
  }
}

interface _List {
  entries: _Entry[];
  given: readonly string[];
}

function _list(entries: readonly string[]): _List {
  if (!Array.isArray(entries)) {
    throw new TypeError(
      `Cannot use host allow list: expected a list of host names, received ${typeof entries}`,
    );
  }
  return { entries: entries.map(_parseEntry), given: [...entries] };
}
