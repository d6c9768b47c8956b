/**
 * Failed token attempts: counted per client address, so that a client that
 * guesses is locked out for a while, and logged without flooding the log.
 *
 * @module
 */
import { setTimeout as setNodeTimeout } from "node:timers";

/** Where {@linkcode FailedAttempts} writes its lines. */
export type FailedAttemptsLog = (
  level: "warn",
  message: string,
  fields: Record<string, string | number>,
) => void;

/** Options of {@linkcode FailedAttempts}. */
export interface FailedAttemptsOptions {
  /**
   * Failed attempts a client address may make within `windowMs`; after
   * that it is locked out (429) until the window ends. Default 10.
   */
  maxFailures?: number;
  /** The window of `maxFailures` and of the log summary (ms). Default 60000. */
  windowMs?: number;
  /**
   * Client addresses remembered at most; the oldest is forgotten first,
   * so that many addresses cannot grow the table. Default 10000.
   */
  maxClients?: number;
  /** Failures logged one by one per window; the rest are summed up in one line. Default 5. */
  logFirst?: number;
  /** Where the lines go. Default `console.warn`. */
  log?: FailedAttemptsLog;
  /** The clock (ms). Default `Date.now`. */
  now?: () => number;
}

interface _Client {
  start: number;
  count: number;
}

/**
 * Counts failed token attempts per client address and says when one is
 * locked out. The log gets the first `logFirst` failures of each window
 * with the method, path and address (never the token), then one summary
 * line for the rest when the window ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FailedAttempts } from "./failed_attempts.ts";
 *
 * const lines: string[] = [];
 * let now = 0;
 * const attempts = new FailedAttempts({
 *   maxFailures: 2,
 *   log: (_level, message) => lines.push(message),
 *   now: () => now,
 * });
 * attempts.fail("10.0.0.7", "GET /flows");
 * assert.equal(attempts.lockedFor("10.0.0.7"), 0);
 * attempts.fail("10.0.0.7", "GET /flows");
 * assert.equal(attempts.lockedFor("10.0.0.7"), 60_000);
 * assert.equal(attempts.lockedFor("10.0.0.8"), 0);
 * now = 60_001;
 * assert.equal(attempts.lockedFor("10.0.0.7"), 0);
 * assert.match(lines[0], /token refused: GET \/flows from 10\.0\.0\.7/);
 * attempts.close();
 * ```
 */
export class FailedAttempts {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #logFirst: number;
  readonly #log: FailedAttemptsLog;
  readonly #now: () => number;
  readonly #clients = new Map<string, _Client>();
  #logged = 0;
  #unlogged = 0;
  #unloggedFrom = new Set<string>();
  #timer: ReturnType<typeof setNodeTimeout> | undefined;

  /** Checks the options; a bad one throws a `RangeError`. */
  constructor(options: FailedAttemptsOptions = {}) {
    this.#max = _count(options.maxFailures ?? 10, "maxFailures");
    this.#windowMs = _count(options.windowMs ?? 60_000, "windowMs");
    this.#maxClients = _count(options.maxClients ?? 10_000, "maxClients");
    this.#logFirst = _count(options.logFirst ?? 5, "logFirst", 0);
    this.#log = options.log ??
      ((_level, message, fields) => console.warn(message, fields));
    this.#now = options.now ?? Date.now;
  }

  /** Client addresses remembered now. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * How long `client` is still locked out (ms), 0 when it may try. A
   * client is locked out once it failed `maxFailures` times within the
   * window that began with its first failure, until that window ends.
   */
  lockedFor(client: string): number {
    const c = this.#clients.get(client);
    if (c === undefined || c.count < this.#max) return 0;
    const left = c.start + this.#windowMs - this.#now();
    return left > 0 ? left : 0;
  }

  /** Records a failed attempt of `client` at `what` (e.g. `"GET /flows"`). */
  fail(client: string, what: string): void {
    const now = this.#now();
    let c = this.#clients.get(client);
    if (c === undefined || now - c.start >= this.#windowMs) {
      if (c === undefined && this.#clients.size >= this.#maxClients) {
        // Maps iterate in insertion order: the first key is the oldest.
        this.#clients.delete(this.#clients.keys().next().value!);
      }
      this.#clients.delete(client);
      c = { start: now, count: 0 };
      this.#clients.set(client, c);
    }
    c.count++;
    const lockedOut = c.count === this.#max;
    if (this.#logged < this.#logFirst) {
      this.#logged++;
      this.#log(
        "warn",
        `token refused: ${what} from ${client} (failure ${c.count} from this address in ${
          this.#windowMs / 1000
        } s${
          lockedOut
            ? `; locked out until the window ends: further attempts get 429`
            : ""
        })`,
        { client, request: what, failures: c.count },
      );
    } else {
      this.#unlogged++;
      // Bounded: past 1,000 the summary says "1000+".
      if (this.#unloggedFrom.size < 1000) this.#unloggedFrom.add(client);
    }
    this.#timer ??= this.#schedule();
  }

  /** Writes the summary of the window now, and stops its timer. */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#flush();
  }

  #schedule(): ReturnType<typeof setNodeTimeout> {
    // Unref'd: a summary due must not keep a finished process alive.
    const t = setNodeTimeout(() => this.#flush(), this.#windowMs);
    t.unref();
    return t;
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#unlogged > 0) {
      this.#log(
        "warn",
        `${this.#unlogged} more failed token attempts in the last ${
          this.#windowMs / 1000
        } s from ${this.#unloggedFrom.size}${
          this.#unloggedFrom.size >= 1000 ? "+" : ""
        } addresses (not logged one by one)`,
        { failures: this.#unlogged, addresses: this.#unloggedFrom.size },
      );
    }
    this.#logged = 0;
    this.#unlogged = 0;
    this.#unloggedFrom = new Set();
  }
}

function _count(value: number, name: string, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min || value > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot count failed token attempts: ${name} must be an integer from ${min} to 2^31-1, received ${value}`,
    );
  }
  return value;
}
