/**
 * Secrets (broker passwords, tokens) as the connectors take them: never the
 * value itself in a graph, only a reference to where the value lives,
 * `"env:NAME"` (an environment variable of the weir process) or
 * `"file:NAME"` (a file's contents, one trailing newline removed). A
 * reference is checked when the graph is validated
 * ({@linkcode SecretPolicy.parse}, a control port's `parse`) and read when
 * the process starts ({@linkcode SecretPolicy.resolve}). The value travels
 * inside a {@linkcode _Secret}, which prints as `[secret]` in a log line,
 * an error or JSON.
 *
 * Secrets come only from places the operator names, since the value goes
 * to a host the graph names (a broker that could be the graph author's): a
 * {@linkcode SecretPolicy} holds a secrets folder (`--secrets-dir`, or
 * systemd's `$CREDENTIALS_DIRECTORY`) and a list of variables
 * (`--secret-env`). A `file:` reference is a name in that folder (or an
 * absolute path inside it), checked by real path (symbolic links
 * resolved) at validation and again on the open descriptor when it is
 * read; `/proc`, `/dev`, `/sys`, weir's own files (token file, config
 * file, database) and `env:WEIR_*` are refused whatever the operator says.
 * Files are read bounded and without blocking ({@linkcode _readBounded}).
 *
 * @module
 */
import { realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import process from "node:process";
import { _readBounded, _SECRET_CAP } from "./_bounded_read.ts";
import { describeType } from "../engine/component.ts";

/** Where a secret's value lives: an environment variable or a file. */
export type _SecretRef =
  | { readonly kind: "env"; readonly name: string }
  | {
    readonly kind: "file";
    /** The absolute path (inside the secrets folder). */
    readonly path: string;
    /** The reference's text after `file:`, as the graph gives it. */
    readonly given?: string;
  };

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Never read, wherever the secrets folder is. */
const _ALWAYS_DENIED = ["/proc", "/dev", "/sys"];

/**
 * The reference as it is written in a graph (`env:NAME`, `file:NAME`):
 * safe to show, since it holds no secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _secretRefText } from "./_secret.ts";
 *
 * assert.equal(_secretRefText({ kind: "env", name: "MQTT_PASSWORD" }), "env:MQTT_PASSWORD");
 * assert.equal(_secretRefText({ kind: "file", path: "/run/s/mqtt", given: "mqtt" }), "file:mqtt");
 * ```
 */
export function _secretRefText(ref: _SecretRef): string {
  return ref.kind === "env"
    ? `env:${ref.name}`
    : `file:${ref.given ?? ref.path}`;
}

const _EXPECTED =
  'expected a secret reference, "env:NAME" (an environment variable) or "file:NAME" (a file in the secrets folder), never the secret itself';

/** The syntax of a reference, before the policy: `{ kind, text }`. */
function _syntax(value: unknown): { kind: "env" | "file"; text: string } {
  if (typeof value !== "string") {
    // The type only: a number or an object there could be the secret too.
    throw new TypeError(`${_EXPECTED}; received ${describeType(value)}`);
  }
  if (value.startsWith("env:")) {
    const name = value.slice(4);
    if (!ENV_NAME_RE.test(name)) {
      throw new TypeError(
        `${_EXPECTED}; "env:" must be followed by a variable name (letters, digits and _, not starting with a digit)`,
      );
    }
    return { kind: "env", text: name };
  }
  if (value.startsWith("file:")) {
    const path = value.slice(5);
    if (path === "" || path.includes("\0") || path.length > 4096) {
      throw new TypeError(
        `${_EXPECTED}; "file:" must be followed by a file name or path`,
      );
    }
    return { kind: "file", text: path };
  }
  throw new TypeError(
    `${_EXPECTED}; received a plain string of ${value.length} characters (not shown)`,
  );
}

/**
 * The real path of `path` (absolute): symbolic links resolved in the part
 * that exists, the rest appended as it is (a file not there yet).
 */
function _real(path: string): string {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return tail.length === 0 ? real : join(real, ...tail.reverse());
    } catch {
      const parent = dirname(head);
      if (parent === head) return path;
      tail.push(basename(head));
      head = parent;
    }
  }
}

function _within(path: string, folder: string): boolean {
  return path === folder ||
    path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** Options of {@linkcode SecretPolicy}. */
export interface SecretPolicyOptions {
  /**
   * The secrets folder: `file:` references (and the TLS files of
   * `mqtt/*`) are files in it. Default none: every `file:` is refused.
   */
  dir?: string | null;
  /** The environment variables `env:` may name. Default none. */
  env?: readonly string[];
  /**
   * Files and folders never read even inside the secrets folder: the token
   * file, the config file, the database and its companions. Default none.
   */
  deny?: readonly string[];
  /** Where `env:` values are read. Default `process.env`. */
  environment?: Readonly<Record<string, string | undefined>>;
}

/** What the system's error code means for a secrets folder. */
const _FOLDER_ERRORS: Record<string, string> = {
  ENOENT: "no such folder",
  ENOTDIR: "a part of its path is a file, not a folder",
  EACCES: "permission denied",
};

/**
 * Where secrets may come from, as the operator set it: a secrets folder
 * and a list of environment variables. {@linkcode SecretPolicy.parse}
 * checks a reference when a graph is validated,
 * {@linkcode SecretPolicy.resolve} reads it when the process starts (the
 * real path checked again, on the open descriptor), and
 * {@linkcode SecretPolicy.filePath} / {@linkcode SecretPolicy.readFile} do
 * the same for a file given as a path (a TLS key). Refusals say how the
 * operator allows the reference, and never show a value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, realpathSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { SecretPolicy } from "./_secret.ts";
 *
 * const dir = realpathSync(mkdtempSync(join(tmpdir(), "weir-secrets-")));
 * writeFileSync(join(dir, "mqtt"), "hunter2\n");
 * const policy = new SecretPolicy({ dir, env: ["MQTT_PW"], environment: { MQTT_PW: "pw", HOME: "/root" } });
 * assert.equal(policy.resolve(policy.parse("file:mqtt")).reveal(), "hunter2");
 * assert.equal(policy.resolve(policy.parse("env:MQTT_PW")).reveal(), "pw");
 * assert.throws(() => policy.parse("env:HOME"), /--secret-env HOME/);
 * assert.throws(() => policy.parse("file:/etc/passwd"), /outside the secrets folder/);
 * assert.throws(() => new SecretPolicy().parse("file:mqtt"), /--secrets-dir/);
 * ```
 */
export class SecretPolicy {
  /** The secrets folder, its real path; `undefined` when none is set. */
  readonly dir: string | undefined;
  /** The variables `env:` may name. */
  readonly env: ReadonlySet<string>;
  readonly #deny: readonly string[];
  readonly #environment: Readonly<Record<string, string | undefined>>;

  /** A policy; throws when the folder cannot be used or a name is refused. */
  constructor(options: SecretPolicyOptions = {}) {
    const dir = options.dir ?? undefined;
    if (dir !== undefined) {
      if (typeof dir !== "string" || dir === "") {
        throw new TypeError(
          `Cannot use secrets folder: expected a folder path, received ${
            JSON.stringify(dir)
          }`,
        );
      }
      let real: string;
      let folder: boolean;
      try {
        real = realpathSync(resolve(dir));
        folder = statSync(real).isDirectory();
      } catch (e) {
        const code = (e as { code?: unknown })?.code;
        throw new RangeError(
          `Cannot use secrets folder ${JSON.stringify(dir)}: ${
            typeof code === "string"
              ? `${_FOLDER_ERRORS[code] ?? "it cannot be resolved"} (${code})`
              : "it cannot be resolved"
          }`,
        );
      }
      // A file named by mistake would make every file: secret fail later,
      // in a flow, as "not a folder" of some path under it.
      if (!folder) {
        throw new RangeError(
          `Cannot use secrets folder ${
            JSON.stringify(dir)
          }: it is a file, not a folder`,
        );
      }
      for (const denied of _ALWAYS_DENIED) {
        if (_within(real, denied) || _within(denied, real)) {
          throw new RangeError(
            `Cannot use secrets folder ${
              JSON.stringify(dir)
            }: it is or holds ${denied}, which is off-limits (it reveals the process, its memory or devices)`,
          );
        }
      }
      this.dir = real;
    } else {
      this.dir = undefined;
    }
    for (const name of options.env ?? []) {
      if (!ENV_NAME_RE.test(name)) {
        throw new TypeError(
          `Cannot allow secret variable ${
            JSON.stringify(name)
          }: a variable name has letters, digits and _, not starting with a digit`,
        );
      }
      if (name.toUpperCase().startsWith("WEIR_")) {
        throw new RangeError(
          `Cannot allow secret variable ${name}: WEIR_ variables are weir's own settings (its API token among them) and are never handed to flows`,
        );
      }
    }
    this.env = new Set(options.env ?? []);
    this.#deny = (options.deny ?? []).map((p) => _real(resolve(p)));
    this.#environment = options.environment ?? process.env;
  }

  /**
   * Parses a secret reference (a control port's `parse`): `"env:NAME"` of
   * an allowed variable, or `"file:NAME"` of a file in the secrets folder
   * (an absolute path inside it is taken too). A `TypeError` for what is
   * not a reference (never quoting it: a plain string there is most likely
   * the password itself), a `RangeError` for a reference the policy
   * refuses, saying how to allow it.
   */
  parse(value: unknown): _SecretRef {
    const { kind, text } = _syntax(value);
    if (kind === "env") {
      this.#checkEnv(text);
      return Object.freeze({ kind: "env", name: text });
    }
    const path = this.#check(`secret reference "file:${text}"`, text);
    return Object.freeze({ kind: "file", path, given: text });
  }

  /**
   * Checks the path of a file read as a secret (a TLS key, a CA file): a
   * name in the secrets folder or an absolute path inside it, by real
   * path. Returns its absolute path; throws a `RangeError` naming `what`.
   */
  filePath(value: string, what: string): string {
    return this.#check(what, value);
  }

  /**
   * Reads a file {@linkcode SecretPolicy.filePath} accepted, bounded
   * (`cap` bytes) and without blocking, checking its real path again on
   * the open descriptor. An `Error` naming `what` and why, never content.
   */
  readFile(path: string, cap: number, what: string): Uint8Array {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      throw new Error(
        `Cannot read ${what}: ${
          typeof code === "string" ? code : "it cannot be resolved"
        }`,
      );
    }
    try {
      this.#verify(real);
    } catch (e) {
      throw new Error(`Cannot read ${what}: ${(e as Error).message}`);
    }
    return _readBounded(real, {
      cap,
      what,
      verify: (r) => this.#verify(r),
    });
  }

  /**
   * Reads the secret `ref` points at (when the process starts, not at
   * validation: a graph may be checked where the secret does not exist).
   * A file's one trailing newline (`\n` or `\r\n`) is dropped, as `echo`
   * writes it. Throws an `Error` naming the reference (never a value) when
   * it is refused, the variable is not set, the file cannot be read, is
   * not a regular file, is over 64 KiB, or the value is empty.
   */
  resolve(ref: _SecretRef): _Secret {
    const text = _secretRefText(ref);
    let value: string;
    if (ref.kind === "env") {
      try {
        this.#checkEnv(ref.name);
      } catch (e) {
        throw new Error(`Cannot read secret ${(e as Error).message}`);
      }
      const found = this.#environment[ref.name];
      if (found === undefined) {
        throw new Error(
          `Cannot read secret ${text}: the environment variable is not set`,
        );
      }
      value = found;
    } else {
      const bytes = this.readFile(ref.path, _SECRET_CAP, `secret ${text}`);
      value = new TextDecoder().decode(bytes);
      if (value.endsWith("\r\n")) value = value.slice(0, -2);
      else if (value.endsWith("\n")) value = value.slice(0, -1);
    }
    if (value === "") {
      throw new Error(`Cannot read secret ${text}: it is empty`);
    }
    return new _Secret(value, text);
  }

  #checkEnv(name: string): void {
    if (name.toUpperCase().startsWith("WEIR_")) {
      throw new RangeError(
        `cannot use secret reference "env:${name}": WEIR_ variables are weir's own settings (its API token among them) and are not handed to flows`,
      );
    }
    if (!this.env.has(name)) {
      throw new RangeError(
        `cannot use secret reference "env:${name}": the operator has not allowed this variable; start weir with --secret-env ${name} (or WEIR_SECRET_ENV, or "secretEnv" in the config file) to allow it`,
      );
    }
  }

  #check(what: string, given: string): string {
    if (this.dir === undefined) {
      throw new RangeError(
        `cannot use ${what}: no secrets folder is set, so files are not read as secrets; start weir with --secrets-dir DIR (or WEIR_SECRETS_DIR, "secretsDir" in the config file, or systemd's $CREDENTIALS_DIRECTORY) and put the file there`,
      );
    }
    const absolute = isAbsolute(given)
      ? resolve(given)
      : resolve(this.dir, given);
    const real = _real(absolute);
    try {
      if (!_within(absolute, this.dir) && !_within(real, this.dir)) {
        throw new RangeError("it is outside the secrets folder");
      }
      this.#verify(real);
    } catch (e) {
      throw new RangeError(
        `cannot use ${what}: ${(e as Error).message} (${this.dir})`,
      );
    }
    return absolute;
  }

  /** Throws unless the real path `real` is a file in the folder, not denied. */
  #verify(real: string): void {
    if (
      this.dir === undefined || !_within(real, this.dir) || real === this.dir
    ) {
      throw new RangeError(
        real === this.dir
          ? "it is the secrets folder itself"
          : "it is outside the secrets folder (a symbolic link leading out counts)",
      );
    }
    for (const denied of [..._ALWAYS_DENIED, ...this.#deny]) {
      if (_within(real, denied)) {
        throw new RangeError(
          "it is one of weir's own files (token file, config file, database) or a system folder, never read as a secret",
        );
      }
    }
  }
}

/** The policy that allows nothing: no secrets folder, no variable. */
export const _NO_SECRETS: SecretPolicy = new SecretPolicy();

/**
 * Parses a secret reference with `policy` (default: nothing allowed), the
 * `parse` of a control port that takes a secret. See
 * {@linkcode SecretPolicy.parse}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseSecretRef, SecretPolicy } from "./_secret.ts";
 *
 * const policy = new SecretPolicy({ env: ["MQTT_PASSWORD"] });
 * assert.deepEqual(_parseSecretRef("env:MQTT_PASSWORD", policy), { kind: "env", name: "MQTT_PASSWORD" });
 * assert.throws(() => _parseSecretRef("hunter2", policy), (e: Error) =>
 *   e instanceof TypeError && !e.message.includes("hunter2") &&
 *   /a plain string of 7 characters/.test(e.message));
 * assert.throws(() => _parseSecretRef("env:WEIR_TOKEN", policy), /weir's own settings/);
 * assert.throws(() => _parseSecretRef("env:MQTT_PASSWORD"), /--secret-env MQTT_PASSWORD/);
 * ```
 */
export function _parseSecretRef(
  value: unknown,
  policy: SecretPolicy = _NO_SECRETS,
): _SecretRef {
  return policy.parse(value);
}

/**
 * A secret's value that does not print: `String()`, JSON and Node's and
 * Deno's inspection all give `[secret]`; `reveal()` gives the value, to be
 * handed to a client library and nowhere else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _Secret } from "./_secret.ts";
 *
 * const s = new _Secret("hunter2", "env:MQTT_PASSWORD");
 * assert.equal(`${s}`, "[secret]");
 * assert.equal(JSON.stringify({ password: s }), '{"password":"[secret]"}');
 * assert.equal(s.reveal(), "hunter2");
 * ```
 */
export class _Secret {
  readonly #value: string;
  /** The reference it was read from (`env:NAME`, `file:NAME`). */
  readonly ref: string;

  /** Wraps `value`, read from `ref`. */
  constructor(value: string, ref: string) {
    this.#value = value;
    this.ref = ref;
  }

  /** The value itself. */
  reveal(): string {
    return this.#value;
  }

  /** `[secret]`. */
  toString(): string {
    return "[secret]";
  }

  /** `[secret]`. */
  toJSON(): string {
    return "[secret]";
  }

  /** `[secret]`, for Node's and Bun's `util.inspect` (and console.log). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[secret]";
  }

  /** `[secret]`, for Deno's `Deno.inspect` (and console.log). */
  [Symbol.for("Deno.customInspect")](): string {
    return "[secret]";
  }
}

/**
 * Reads the secret `ref` points at with `policy` (default: nothing
 * allowed). See {@linkcode SecretPolicy.resolve}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _resolveSecret, SecretPolicy } from "./_secret.ts";
 *
 * const policy = new SecretPolicy({ env: ["MQTT_PASSWORD", "NOPE"], environment: { MQTT_PASSWORD: "hunter2" } });
 * assert.equal(_resolveSecret({ kind: "env", name: "MQTT_PASSWORD" }, policy).reveal(), "hunter2");
 * assert.throws(() => _resolveSecret({ kind: "env", name: "NOPE" }, policy), /env:NOPE: the environment variable is not set/);
 * ```
 */
export function _resolveSecret(
  ref: _SecretRef,
  policy: SecretPolicy = _NO_SECRETS,
): _Secret {
  return policy.resolve(ref);
}
