/**
 * Bearer-token access for the flow server: tokens with scopes (`read`,
 * `write`, `metrics`, `in`: the routes flows serve under `/in/`), compared in constant time, and the secure default
 * for a server reachable beyond loopback with no token configured.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import {
  FailedAttempts,
  type FailedAttemptsOptions,
} from "./failed_attempts.ts";

/** What a token lets its holder do. */
export type Scope = "read" | "write" | "metrics" | "in";

/** Every scope, in the order they are documented. */
export const SCOPES: readonly Scope[] = ["read", "write", "metrics", "in"];

/** A token and what it grants. */
export interface TokenGrant {
  /** The secret the client sends as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** What it grants. */
  readonly scopes: readonly Scope[];
  /**
   * How the log names what this token did; never the secret. Default
   * `token-` and the first 8 hex digits of the secret's SHA-256
   * (`printf %s "$TOKEN" | sha256sum | cut -c1-8`).
   */
  readonly name?: string;
}

/** Options of {@linkcode Access}. */
export interface AccessOptions {
  /** The tokens accepted. Default: none. */
  tokens?: readonly TokenGrant[];
  /**
   * Whether the server listens beyond loopback. With no token configured,
   * an exposed server refuses everything but health, version and metrics;
   * a loopback one lets everything through. Default `false`.
   */
  exposed?: boolean;
  /**
   * How failed token attempts are counted, locked out and logged (see
   * {@linkcode FailedAttempts}). Default: 10 per client address a minute,
   * the first 5 a minute logged to `console.warn`.
   */
  failedAttempts?: FailedAttemptsOptions;
}

/** The shortest token accepted: shorter ones can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** The outcome of {@linkcode Access.check}. */
export type AccessResult =
  | {
    ok: true;
    /** The name of the token that matched (absent when no token is configured). */
    token?: string;
  }
  | {
    ok: false;
    status: 401 | 403;
    message: string;
    /** A token was sent and matches none: a failed attempt. */
    invalidToken?: true;
  };

/**
 * Reads a token specification: `SCOPES:SECRET` (scopes separated by
 * commas, e.g. `read,metrics:s3cr3t-of-16-chars`) or just `SECRET`, which
 * grants every scope.
 *
 * The rule that tells a scope list from a secret containing a colon: when
 * the text before the first colon holds only letters, white space and the
 * separators `,;|+_-`, it is a scope list, and every comma-separated item
 * must be a known scope (lower case) or the token is refused: a typo such
 * as `Read:SECRET` never becomes an all-scope token. Anything else before
 * the first colon (a digit, another symbol) makes the whole string the
 * secret. A secret whose own text before a colon is only letters is given
 * with its scopes written out: `read,write,metrics:abc:def...`. The error
 * names the bad scope (only a short one: a long word may be part of a
 * secret) and never the secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTokenSpec } from "./auth.ts";
 *
 * assert.deepEqual(parseTokenSpec("read,metrics:0123456789abcdef").scopes, ["read", "metrics"]);
 * assert.deepEqual(parseTokenSpec("0123456789abcdef").scopes, ["read", "write", "metrics", "in"]);
 * assert.equal(parseTokenSpec("a1:0123456789abcdef").token, "a1:0123456789abcdef");
 * assert.throws(() => parseTokenSpec("Read:0123456789abcdef"), /unknown scope "Read"/);
 * ```
 */
export function parseTokenSpec(spec: string): TokenGrant {
  if (typeof spec !== "string") {
    throw new TypeError(
      `Cannot read token: expected "SCOPES:SECRET" or "SECRET", received ${typeof spec}`,
    );
  }
  const colon = spec.indexOf(":");
  const head = colon >= 0 ? spec.slice(0, colon) : "";
  if (colon < 0 || !/^[A-Za-z\s,;|+_-]*$/.test(head)) {
    return checkGrant({ token: spec, scopes: SCOPES });
  }
  const items = head.split(",").map((s) => s.trim());
  const bad = items.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad !== undefined) {
    throw new RangeError(
      `Cannot read token: unknown scope ${_describeScope(bad)}; scopes are ${
        SCOPES.join(", ")
      } (write "read,write:SECRET"; a secret with a colon after letters needs its scopes written out, "read,write,metrics:SECRET")`,
    );
  }
  return checkGrant({ token: spec.slice(colon + 1), scopes: items as Scope[] });
}

/** Names a bad scope, but not a long word that may be part of a secret. */
function _describeScope(scope: string): string {
  if (scope === "") return "(an empty one)";
  return scope.length <= 12
    ? JSON.stringify(scope)
    : `(a word of ${scope.length} characters)`;
}

function checkGrant(grant: TokenGrant): TokenGrant {
  if (grant.token.length < MIN_TOKEN_LENGTH) {
    throw new RangeError(
      `Cannot use token: it must be at least ${MIN_TOKEN_LENGTH} characters long, received ${grant.token.length} (generate one with: openssl rand -hex 32)`,
    );
  }
  if (/\s/.test(grant.token)) {
    throw new RangeError(
      "Cannot use token: it must not contain white space",
    );
  }
  if (grant.scopes.length === 0) {
    throw new RangeError("Cannot use token: it must grant at least one scope");
  }
  return grant;
}

/** A token's SHA-256 digest: equal-length buffers for timingSafeEqual. */
function digest(token: string): Uint8Array {
  return createHash("sha256").update(token).digest();
}

/**
 * Decides whether a request may do what it asks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Access } from "./auth.ts";
 *
 * const access = new Access({
 *   tokens: [{ token: "0123456789abcdef", scopes: ["read"] }],
 * });
 * assert.deepEqual(access.check("Bearer 0123456789abcdef", "read").ok, true);
 * assert.deepEqual(access.check("Bearer 0123456789abcdef", "write").ok, false);
 * assert.deepEqual(access.check(undefined, "read").ok, false);
 * ```
 */
export class Access {
  readonly #grants: {
    digest: Uint8Array;
    scopes: ReadonlySet<Scope>;
    name: string;
  }[];
  readonly #exposed: boolean;
  /** Failed token attempts, per client address (see `accessGuard`). */
  readonly attempts: FailedAttempts;

  /** Checks every token; a bad one throws a `RangeError` that says why. */
  constructor(options: AccessOptions = {}) {
    this.#grants = (options.tokens ?? []).map((g) => {
      checkGrant(g);
      for (const s of g.scopes) {
        if (!(SCOPES as readonly string[]).includes(s)) {
          throw new RangeError(
            `Cannot use token: unknown scope "${s}"; scopes are ${
              SCOPES.join(", ")
            }`,
          );
        }
      }
      const d = digest(g.token);
      const name = g.name ??
        `token-${
          [...d.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0"))
            .join("")
        }`;
      return { digest: d, scopes: new Set(g.scopes), name };
    });
    this.#exposed = options.exposed ?? false;
    this.attempts = new FailedAttempts(options.failedAttempts);
  }

  /** Whether the server listens beyond loopback (see {@linkcode AccessOptions.exposed}). */
  get exposed(): boolean {
    return this.#exposed;
  }

  /** Whether any token is configured. */
  get enabled(): boolean {
    return this.#grants.length > 0;
  }

  /**
   * Whether a request with this `Authorization` header may use a route
   * that needs `scope`.
   */
  check(authorization: string | undefined, scope: Scope): AccessResult {
    if (this.#grants.length === 0) {
      if (!this.#exposed || scope === "metrics") return { ok: true };
      return {
        ok: false,
        status: 403,
        message:
          'this server listens beyond loopback and has no token configured, so it refuses flow access; start it with a token (weir serve: --token or WEIR_TOKEN, e.g. WEIR_TOKEN=$(openssl rand -hex 32); an app that mounts flowApp: the tokens of its access option) and send it as "Authorization: Bearer <token>"',
      };
    }
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
    if (m === null) {
      return {
        ok: false,
        status: 401,
        message: authorization === undefined
          ? `this route needs a token with the "${scope}" scope: send "Authorization: Bearer <token>"`
          : 'the Authorization header must read "Bearer <token>"',
      };
    }
    const d = digest(m[1]);
    let match: ReadonlySet<Scope> | undefined;
    let name = "";
    // Every grant is compared, so the time taken does not tell which matched.
    for (const g of this.#grants) {
      if (timingSafeEqual(g.digest, d) && match === undefined) {
        match = g.scopes;
        name = g.name;
      }
    }
    if (match === undefined) {
      return {
        ok: false,
        status: 401,
        message: "the token is not valid",
        invalidToken: true,
      };
    }
    if (!match.has(scope)) {
      return {
        ok: false,
        status: 403,
        message: `the token lacks the "${scope}" scope this route needs`,
      };
    }
    return { ok: true, token: name };
  }
}

/**
 * Whether a listening address reaches only this machine (`127.0.0.0/8`,
 * `::1`, `localhost`). `0.0.0.0` and `::` listen everywhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./auth.ts";
 *
 * assert.deepEqual(isLoopback("127.0.0.1"), true);
 * assert.deepEqual(isLoopback("0.0.0.0"), false);
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}
