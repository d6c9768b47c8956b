/**
 * Where flows are kept between runs: an SQLite database through
 * `node:sqlite` (Deno and Bun both provide it), one row per flow.
 *
 * Every change is one transaction, and a file database runs in WAL mode
 * with `synchronous=FULL`, because edge boxes lose power: after a crash the
 * database holds each flow as it was before or after the change that was
 * under way, never half of it. The schema version lives in
 * `PRAGMA user_version`.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { DatabaseSync } from "node:sqlite";
import {
  FlowConflictError,
  FlowNotFoundError,
  FlowStorageError,
  FlowStoreError,
  InvalidFlowArgumentError,
  type StorageFailure,
} from "./errors.ts";

/** A flow as stored. */
export interface StoredFlow {
  /** The flow's id (also the `flow` label of its metrics). */
  id: string;
  /** 1 on create, one more on every change. */
  rev: number;
  /** The graph text as it was given. */
  text: string;
  /** The text's format. */
  format: "json" | "fbp";
  /** Whether the flow should run (it is started again after a restart). */
  running: boolean;
  /**
   * Whether it was ever set running: a flow that does not run now was
   * stopped (`true`) or never started (`false`). Rows of a database that
   * predates it count as started when they were running then.
   */
  started: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch. */
  updatedAt: number;
}

/** Why the flow database cannot be written now, as {@linkcode FlowStore.problem} says. */
export interface StorageProblem {
  /** Disk full, read-only, or an I/O error. */
  reason: StorageFailure;
  /** A sentence naming the file and what SQLite said. */
  message: string;
  /** When a write first failed so (ms since the epoch). */
  since: number;
}

/** Options of {@linkcode FlowStore.open}. */
export interface FlowStoreOptions {
  /**
   * How long to wait for another connection's write lock before giving up,
   * in milliseconds. Default 2000.
   */
  busyTimeoutMs?: number;
  /**
   * Told when writes start failing for want of storage (with the
   * {@linkcode StorageProblem}) and when a write succeeds again
   * (`undefined`): once per change of state, for the operator's log.
   * Default none.
   */
  onProblem?: (problem: StorageProblem | undefined) => void;
}

const FLOW_STORE_OPTIONS = optionKeys<FlowStoreOptions>()([
  "busyTimeoutMs",
  "onProblem",
]);

/** The schema this code writes; `PRAGMA user_version` holds it. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS flows (
  id TEXT PRIMARY KEY NOT NULL,
  rev INTEGER NOT NULL CHECK (rev >= 1),
  text TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('json', 'fbp')),
  running INTEGER NOT NULL CHECK (running IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started INTEGER NOT NULL DEFAULT 0 CHECK (started IN (0, 1))
) STRICT;
CREATE TABLE IF NOT EXISTS flow_starts (
  id TEXT PRIMARY KEY NOT NULL,
  attempts TEXT NOT NULL
) STRICT;
`;

const FORMATS: readonly string[] = ["json", "fbp"];

type Row = Record<string, unknown>;

/**
 * The flows of one weir instance, in an SQLite file (or `:memory:`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowStore } from "./flow_store.ts";
 *
 * const store = FlowStore.open(":memory:");
 * store.create({
 *   id: "ticks",
 *   text: "'1s' -> interval Tick(core/Interval) out -> in Drop(core/Drop)",
 *   format: "fbp",
 *   running: true,
 * });
 * assert.deepEqual(store.update("ticks", { running: false }, 1).rev, 2);
 * assert.deepEqual(store.list().length, 1);
 * store.close();
 * ```
 */
export class FlowStore {
  /** The database file, or `":memory:"`. */
  readonly path: string;
  #db: DatabaseSync | null;
  #problem: StorageProblem | undefined;
  readonly #onProblem: FlowStoreOptions["onProblem"];

  private constructor(
    path: string,
    db: DatabaseSync,
    onProblem: FlowStoreOptions["onProblem"],
  ) {
    this.path = path;
    this.#db = db;
    this.#onProblem = onProblem;
  }

  /**
   * Opens (creating when missing) the flow database at `path`, a file or
   * `":memory:"`, and creates its schema. Throws a {@linkcode FlowStoreError} saying why when
   * the file cannot be opened or written: a missing folder, a file that is
   * not a database (or is a newer weir's), a read-only file, or a lock
   * another process holds past `busyTimeoutMs`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * assert.deepEqual(store.path, ":memory:");
   * store.close();
   * ```
   */
  static open(path: string, options: FlowStoreOptions = {}): FlowStore {
    checkOptionKeys("Cannot open flow database", options, FLOW_STORE_OPTIONS);
    if (typeof path !== "string" || path === "") {
      throw new TypeError(
        `Cannot open flow database: path must be a file name or ":memory:", received ${
          typeof path === "string" ? '""' : typeof path
        }`,
      );
    }
    const busy = options.busyTimeoutMs ?? 2000;
    if (!Number.isInteger(busy) || busy < 0 || busy > 2 ** 31 - 1) {
      throw new RangeError(
        `Cannot open flow database ${path}: busyTimeoutMs must be a non-negative integer of milliseconds, received ${busy}`,
      );
    }
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { timeout: busy });
      // Another program's database is left as it was: checked before WAL
      // mode, which is written into the file's header, and the schema.
      _refuseForeign(db);
      if (path !== ":memory:") {
        // One weir per database: two servers on one file would both run
        // its flows and overwrite each other's changes unseen. The lock
        // taken by the first write below is held until close() (or the
        // process dies); set before WAL, so no shared-memory index is used.
        db.exec("PRAGMA locking_mode = EXCLUSIVE");
        db.exec("PRAGMA journal_mode = WAL");
        // FULL: a commit survives a power cut too, not only a crash.
        db.exec("PRAGMA synchronous = FULL");
      }
      db.exec("BEGIN IMMEDIATE");
      try {
        const version = Number(
          (db.prepare("PRAGMA user_version").get() as Row).user_version,
        );
        if (version > SCHEMA_VERSION) {
          throw new Error(
            `its schema version is ${version}, newer than this weir's ${SCHEMA_VERSION}; run a newer weir or choose another file`,
          );
        }
        const schema = _schemaVersion(db);
        db.exec(SCHEMA);
        _addStarted(db);
        const changed = version !== SCHEMA_VERSION ||
          _schemaVersion(db) !== schema;
        // Writing the version proves now, rather than at the first change,
        // that the file can be written (a read-only file already in WAL
        // mode passes everything above). Where nothing else changed, the
        // write is rolled back: opening a current database changes no byte
        // (a start that fails later leaves it as it was).
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
        db.exec(changed ? "COMMIT" : "ROLLBACK");
      } catch (e) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw e;
      }
    } catch (e) {
      try {
        db?.close();
      } catch {
        // Already closed: the original error is the one to report.
      }
      throw new FlowStoreError(
        path,
        `Cannot open flow database ${path}: ${_reason(e)}`,
        { cause: e },
      );
    }
    return new FlowStore(path, db, options.onProblem);
  }

  /**
   * Every flow, ordered by id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * assert.deepEqual(store.list(), []);
   * store.close();
   * ```
   */
  list(): StoredFlow[] {
    const db = this.#open("list flows");
    return db.prepare("SELECT * FROM flows ORDER BY id").all().map((r) =>
      _flow(r as Row)
    );
  }

  /**
   * The flow with this id, or `undefined`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * assert.deepEqual(store.get("nope"), undefined);
   * store.close();
   * ```
   */
  get(id: string): StoredFlow | undefined {
    const db = this.#open("read flow");
    const row = db.prepare("SELECT * FROM flows WHERE id = ?").get(
      _id(id, "read flow"),
    );
    return row === undefined ? undefined : _flow(row as Row);
  }

  /**
   * Stores a new flow at rev 1. Throws a {@linkcode FlowConflictError} when
   * the id is taken.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * const flow = store.create({ id: "a", text: "{}", format: "json", running: false });
   * assert.deepEqual(flow.rev, 1);
   * store.close();
   * ```
   */
  create(
    flow: {
      id: string;
      text: string;
      format: "json" | "fbp";
      running: boolean;
    },
  ): StoredFlow {
    const what = "create flow";
    const db = this.#open(what);
    if (typeof flow !== "object" || flow === null) {
      throw new TypeError(
        `Cannot ${what}: expected { id, text, format, running }, received ${
          flow === null ? "null" : typeof flow
        }`,
      );
    }
    const id = _id(flow.id, what);
    const text = _text(flow.text, id, what);
    const format = _format(flow.format, id, what);
    const running = _running(flow.running, id, what);
    return this.#transaction(db, `${what} ${JSON.stringify(id)}`, () => {
      const actualRev = this.#rev(db, id);
      if (actualRev !== undefined) {
        throw new FlowConflictError(
          id,
          `Cannot create flow ${
            JSON.stringify(id)
          }: a flow with that id exists (rev ${actualRev})`,
          { actualRev },
        );
      }
      const now = Date.now();
      db.prepare(
        "INSERT INTO flows (id, rev, text, format, running, created_at, updated_at, started) VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
      ).run(id, text, format, running ? 1 : 0, now, now, running ? 1 : 0);
      return {
        id,
        rev: 1,
        text,
        format,
        running,
        started: running,
        createdAt: now,
        updatedAt: now,
      };
    });
  }

  /**
   * Changes a flow in one transaction and adds one to its rev. With
   * `expectedRev`, the change is made only if the stored rev is that one
   * (else a {@linkcode FlowConflictError}); an unknown id is a
   * {@linkcode FlowNotFoundError}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * store.create({ id: "a", text: "{}", format: "json", running: false });
   * assert.deepEqual(store.update("a", { running: true }).rev, 2);
   * store.close();
   * ```
   */
  update(
    id: string,
    changes: { text?: string; format?: "json" | "fbp"; running?: boolean },
    expectedRev?: number,
  ): StoredFlow {
    const what = "update flow";
    const db = this.#open(what);
    id = _id(id, what);
    if (typeof changes !== "object" || changes === null) {
      throw new TypeError(
        `Cannot ${what} ${
          JSON.stringify(id)
        }: changes must be an object of text, format and running, received ${
          changes === null ? "null" : typeof changes
        }`,
      );
    }
    const text = changes.text === undefined
      ? undefined
      : _text(changes.text, id, what);
    const format = changes.format === undefined
      ? undefined
      : _format(changes.format, id, what);
    const running = changes.running === undefined
      ? undefined
      : _running(changes.running, id, what);
    _expectedRev(expectedRev, id, what);
    return this.#transaction(db, `${what} ${JSON.stringify(id)}`, () => {
      const old = this.#checked(db, id, expectedRev, what);
      const next: StoredFlow = {
        ...old,
        rev: old.rev + 1,
        text: text ?? old.text,
        format: format ?? old.format,
        running: running ?? old.running,
        started: old.started || (running ?? old.running),
        updatedAt: Date.now(),
      };
      db.prepare(
        "UPDATE flows SET rev = ?, text = ?, format = ?, running = ?, updated_at = ?, started = ? WHERE id = ?",
      ).run(
        next.rev,
        next.text,
        next.format,
        next.running ? 1 : 0,
        next.updatedAt,
        next.started ? 1 : 0,
        id,
      );
      return next;
    });
  }

  /**
   * Deletes a flow; with `expectedRev`, only if the stored rev is that one.
   * Throws like {@linkcode FlowStore.update}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * store.create({ id: "a", text: "{}", format: "json", running: false });
   * store.delete("a", 1);
   * assert.deepEqual(store.get("a"), undefined);
   * store.close();
   * ```
   */
  delete(id: string, expectedRev?: number): void {
    const what = "delete flow";
    const db = this.#open(what);
    id = _id(id, what);
    _expectedRev(expectedRev, id, what);
    this.#transaction(db, `${what} ${JSON.stringify(id)}`, () => {
      this.#checked(db, id, expectedRev, what);
      db.prepare("DELETE FROM flows WHERE id = ?").run(id);
      db.prepare("DELETE FROM flow_starts WHERE id = ?").run(id);
    });
  }

  /**
   * The times (ms since the epoch) of a flow's starts at restore that
   * failed or never settled (the process died during them), oldest first:
   * the crash-loop guard's memory across restarts. A flow with none has
   * `[]`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * store.recordStartAttempt("a", 1000, 0);
   * store.recordStartAttempt("a", 2000, 1500);
   * assert.deepEqual(store.startAttempts("a"), [2000]);
   * store.clearStartAttempts("a");
   * assert.deepEqual(store.startAttempts("a"), []);
   * store.close();
   * ```
   */
  startAttempts(id: string): number[] {
    const db = this.#open("read start attempts");
    const row = db.prepare("SELECT attempts FROM flow_starts WHERE id = ?")
      .get(id) as Row | undefined;
    if (row === undefined) return [];
    try {
      const list = JSON.parse(String(row.attempts));
      return Array.isArray(list)
        ? list.filter((t): t is number => typeof t === "number")
        : [];
    } catch {
      // A row edited by hand counts as none: the guard only holds back.
      return [];
    }
  }

  /**
   * Adds a start attempt at `at` to a flow's list, dropping those before
   * `since` (outside the guard's window). Written before the start, so a
   * start that kills the process is remembered.
   */
  recordStartAttempt(id: string, at: number, since: number): void {
    const db = this.#open("record a start attempt");
    const kept = this.startAttempts(id).filter((t) => t >= since);
    kept.push(at);
    this.#write(
      `record a start attempt of flow ${JSON.stringify(id)}`,
      () =>
        db.prepare(
          "INSERT INTO flow_starts (id, attempts) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts",
        ).run(id, JSON.stringify(kept.slice(-100))),
    );
  }

  /** Forgets a flow's start attempts: it started and settled, or an operator took over. */
  clearStartAttempts(id: string): void {
    const db = this.#open("clear start attempts");
    this.#write(
      `clear the start attempts of flow ${JSON.stringify(id)}`,
      () => db.prepare("DELETE FROM flow_starts WHERE id = ?").run(id),
    );
  }

  /**
   * Why the last write failed for want of storage (disk full, read-only,
   * an I/O error), while no write has succeeded since; `undefined` when
   * writes work. The server's readiness reports it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * assert.equal(store.problem, undefined);
   * store.close();
   * ```
   */
  get problem(): StorageProblem | undefined {
    return this.#problem;
  }

  /**
   * Closes the database; later calls do nothing, other methods throw.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FlowStore } from "./flow_store.ts";
   *
   * const store = FlowStore.open(":memory:");
   * store.close();
   * store.close(); // does nothing
   * assert.throws(() => store.list(), /the flow database :memory: is closed/);
   * ```
   */
  close(): void {
    const db = this.#db;
    this.#db = null;
    db?.close();
  }

  #open(what: string): DatabaseSync {
    if (this.#db === null) {
      throw new FlowStoreError(
        this.path,
        `Cannot ${what}: the flow database ${this.path} is closed`,
      );
    }
    return this.#db;
  }

  #transaction<T>(db: DatabaseSync, what: string, fn: () => T): T {
    return this.#write(what, () => {
      // IMMEDIATE takes the write lock first, so the read and the write
      // that depends on it cannot interleave with another connection's
      // change.
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (e) {
        try {
          if (db.isTransaction) db.exec("ROLLBACK");
        } catch {
          // SQLite rolls back by itself when it cannot; the first error
          // is the one to report.
        }
        throw e;
      }
    });
  }

  /**
   * Runs a write; a failure for want of storage becomes a
   * {@linkcode FlowStorageError} and the store's {@linkcode problem} until
   * a write succeeds.
   */
  #write<T>(what: string, fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (e) {
      const reason = _storageFailure(e);
      if (reason === undefined) throw e;
      const [state, remedy] = _FAILURES[reason];
      const detail = `the flow database ${this.path} ${state} (SQLite: ${
        _sqliteMessage(e)
      })`;
      if (this.#problem?.reason !== reason) {
        this.#problem = {
          reason,
          message: `${detail}; changes fail until a write succeeds: ${remedy}`,
          since: Date.now(),
        };
        this.#onProblem?.(this.#problem);
      }
      const message =
        `Cannot ${what}: ${detail}; nothing was changed: ${remedy}, then retry`;
      throw new FlowStorageError(this.path, reason, message, { cause: e });
    }
    if (this.#problem !== undefined) {
      this.#problem = undefined;
      this.#onProblem?.(undefined);
    }
    return result;
  }

  #rev(db: DatabaseSync, id: string): number | undefined {
    const row = db.prepare("SELECT rev FROM flows WHERE id = ?").get(id) as
      | Row
      | undefined;
    return row === undefined ? undefined : Number(row.rev);
  }

  #checked(
    db: DatabaseSync,
    id: string,
    expectedRev: number | undefined,
    what: string,
  ): StoredFlow {
    const row = db.prepare("SELECT * FROM flows WHERE id = ?").get(id);
    if (row === undefined) {
      throw new FlowNotFoundError(
        id,
        `Cannot ${what} ${JSON.stringify(id)}: it does not exist`,
      );
    }
    const old = _flow(row as Row);
    if (expectedRev !== undefined && expectedRev !== old.rev) {
      throw new FlowConflictError(
        id,
        `Cannot ${what} ${
          JSON.stringify(id)
        }: rev ${expectedRev} is stale, the stored rev is ${old.rev}; read the flow again and retry`,
        { expectedRev, actualRev: old.rev },
      );
    }
    return old;
  }
}

/** Each storage failure: what it means, after "the flow database PATH", and what to do. */
const _FAILURES: Record<StorageFailure, readonly [string, string]> = {
  disk_full: [
    "cannot be written: its disk is full",
    "free space on its file system",
  ],
  read_only: [
    "is read-only",
    "make its file, folder and file system writable",
  ],
  io_error: [
    "cannot be written: the system reported an I/O error",
    "check the disk and the system log",
  ],
};

/**
 * Whether `e` is SQLite failing for want of storage, and which: Bun's
 * `node:sqlite` errors carry SQLite's `errcode`, Deno's only the message.
 */
function _storageFailure(e: unknown): StorageFailure | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const errcode = (e as { errcode?: unknown }).errcode;
  if (typeof errcode === "number") {
    // The primary result code is the low byte of an extended one.
    switch (errcode & 0xff) {
      case 13: // SQLITE_FULL
        return "disk_full";
      case 8: // SQLITE_READONLY
        return "read_only";
      case 10: // SQLITE_IOERR
        return "io_error";
    }
  }
  const message = _sqliteMessage(e);
  if (/database or disk is full|ENOSPC|no space left/i.test(message)) {
    return "disk_full";
  }
  if (/readonly database|read-only file system|EROFS/i.test(message)) {
    return "read_only";
  }
  if (/disk I\/O error|EIO\b/i.test(message)) return "io_error";
  return undefined;
}

function _sqliteMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Adds the `started` column to a flows table written before it (schema
 * version 1 still: an older weir reads and writes the table as before,
 * naming its columns), counting a flow running then as started.
 */
function _addStarted(db: DatabaseSync): void {
  const columns = db.prepare("PRAGMA table_info(flows)").all() as Row[];
  if (columns.some((c) => c.name === "started")) return;
  db.exec(
    "ALTER TABLE flows ADD COLUMN started INTEGER NOT NULL DEFAULT 0 CHECK (started IN (0, 1))",
  );
  db.exec("UPDATE flows SET started = 1 WHERE running = 1");
}

/** The schema cookie, which every change of a table's definition bumps. */
function _schemaVersion(db: DatabaseSync): number {
  return Number(
    (db.prepare("PRAGMA schema_version").get() as Row).schema_version,
  );
}

/** Throws when the database holds tables and is not weir's (version 0). */
function _refuseForeign(db: DatabaseSync): void {
  const version = Number(
    (db.prepare("PRAGMA user_version").get() as Row).user_version,
  );
  if (version !== 0) return;
  const tables = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
  ).all().map((r) => String((r as Row).name));
  if (tables.length === 0) return;
  const shown = tables.slice(0, 5).map((t) => JSON.stringify(t)).join(", ") +
    (tables.length > 5 ? ` and ${tables.length - 5} more` : "");
  throw new Error(
    tables.includes("flows")
      ? `it holds a table named flows that weir did not create (tables ${shown}); it was left as it was: choose another file`
      : `it is another program's database (tables ${shown}), not weir's; it was left as it was: choose another file`,
  );
}

function _reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/unable to open database file/i.test(message)) {
    // Deno adds ": <path>" to SQLite's message; the caller names the file.
    return "unable to open database file (does its folder exist, and may this process create files there?)";
  }
  if (/locked|busy/i.test(message)) {
    return `${message} (another process holds it; is another weir running on this file?)`;
  }
  if (/readonly|read-only/i.test(message)) {
    return `${message} (this process may not write the file or its folder)`;
  }
  return message;
}

function _flow(row: Row): StoredFlow {
  return {
    id: String(row.id),
    rev: Number(row.rev),
    text: String(row.text),
    format: row.format === "fbp" ? "fbp" : "json",
    running: Number(row.running) === 1,
    started: Number(row.started) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function _id(id: unknown, what: string): string {
  if (typeof id !== "string" || id === "") {
    throw new TypeError(
      `Cannot ${what}: id must be a non-empty string, received ${
        typeof id === "string" ? '""' : typeof id
      }`,
    );
  }
  return id;
}

function _text(text: unknown, id: string, what: string): string {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot ${what} ${
        JSON.stringify(id)
      }: text must be a string, received ${typeof text}`,
    );
  }
  return text;
}

function _format(format: unknown, id: string, what: string): "json" | "fbp" {
  if (!FORMATS.includes(format as string)) {
    throw new RangeError(
      `Cannot ${what} ${
        JSON.stringify(id)
      }: format must be "json" or "fbp", received ${
        typeof format === "string" ? JSON.stringify(format) : typeof format
      }`,
    );
  }
  return format as "json" | "fbp";
}

function _running(running: unknown, id: string, what: string): boolean {
  if (typeof running !== "boolean") {
    throw new TypeError(
      `Cannot ${what} ${
        JSON.stringify(id)
      }: running must be a boolean, received ${typeof running}`,
    );
  }
  return running;
}

function _expectedRev(rev: unknown, id: string, what: string): void {
  if (rev !== undefined && (!Number.isInteger(rev) || (rev as number) < 1)) {
    throw new InvalidFlowArgumentError(
      "rev",
      rev,
      `Cannot ${what} ${
        JSON.stringify(id)
      }: rev must be a positive integer, received ${
        typeof rev === "number" ? rev : typeof rev
      }`,
    );
  }
}
