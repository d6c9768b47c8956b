/**
 * Secrets (broker passwords, tokens) as the connectors take them: never the
 * value itself in a graph, only a reference to where the value lives,
 * `"env:NAME"` (an environment variable of the weir process) or
 * `"file:/path"` (a file's contents, one trailing newline removed). A
 * reference is checked when the graph is validated
 * ({@linkcode _parseSecretRef}, a control port's `parse`) and read when the
 * process starts ({@linkcode _resolveSecret}). The value travels inside a
 * {@linkcode _Secret}, which prints as `[secret]` in a log line, an error
 * or JSON.
 *
 * Two references are refused whatever the graph's author wants, since the
 * value goes to a host the graph names (a broker that could be theirs):
 * `env:WEIR_*` (the server's own settings, its API token among them) and
 * files under `/proc` (the process's environment and memory). A file
 * reference must be absolute, so its meaning does not depend on the
 * folder weir was started from.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve, sep } from "node:path";
import process from "node:process";

/** Where a secret's value lives: an environment variable or a file. */
export type _SecretRef =
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "file"; readonly path: string };

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The reference as it is written in a graph (`env:NAME`, `file:/path`):
 * safe to show, since it holds no secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _secretRefText } from "./_secret.ts";
 *
 * assert.equal(_secretRefText({ kind: "env", name: "MQTT_PASSWORD" }), "env:MQTT_PASSWORD");
 * ```
 */
export function _secretRefText(ref: _SecretRef): string {
  return ref.kind === "env" ? `env:${ref.name}` : `file:${ref.path}`;
}

/**
 * Parses a secret reference, the `parse` of a control port that takes a
 * secret: `"env:NAME"` or `"file:/absolute/path"`. Anything else is a
 * `TypeError` (a `RangeError` for a reference it refuses) whose message
 * never quotes a value that is not a well-formed reference: a plain string
 * there is most likely the password itself, and the message ends up in
 * validation answers and logs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _parseSecretRef } from "./_secret.ts";
 *
 * assert.deepEqual(_parseSecretRef("env:MQTT_PASSWORD"), { kind: "env", name: "MQTT_PASSWORD" });
 * assert.deepEqual(_parseSecretRef("file:/run/secrets/mqtt"), { kind: "file", path: "/run/secrets/mqtt" });
 * assert.throws(() => _parseSecretRef("hunter2"), (e: Error) =>
 *   e instanceof TypeError && !e.message.includes("hunter2") &&
 *   /a plain string of 7 characters/.test(e.message));
 * assert.throws(() => _parseSecretRef("env:WEIR_TOKEN"), /weir's own settings/);
 * ```
 */
export function _parseSecretRef(value: unknown): _SecretRef {
  const expected =
    'expected a secret reference, "env:NAME" (an environment variable) or "file:/path" (a file), never the secret itself';
  if (typeof value !== "string") {
    // The type only: a number or an object there could be the secret too.
    const type = value === null
      ? "null"
      : Array.isArray(value)
      ? "an array"
      : typeof value;
    throw new TypeError(`${expected}; received ${type}`);
  }
  if (value.startsWith("env:")) {
    const name = value.slice(4);
    if (!ENV_NAME_RE.test(name)) {
      throw new TypeError(
        `${expected}; "env:" must be followed by a variable name (letters, digits and _, not starting with a digit)`,
      );
    }
    if (name.toUpperCase().startsWith("WEIR_")) {
      throw new RangeError(
        `cannot use secret reference "env:${name}": WEIR_ variables are weir's own settings (its API token among them) and are not handed to flows`,
      );
    }
    return Object.freeze({ kind: "env", name });
  }
  if (value.startsWith("file:")) {
    const path = value.slice(5);
    if (path === "" || !isAbsolute(path) || path.includes("\0")) {
      throw new TypeError(
        `${expected}; "file:" must be followed by an absolute path`,
      );
    }
    const absolute = resolve(path);
    if (absolute === "/proc" || absolute.startsWith(`/proc${sep}`)) {
      throw new RangeError(
        `cannot use secret reference "file:${path}": /proc is off-limits to flows (it reveals the process's environment and memory)`,
      );
    }
    return Object.freeze({ kind: "file", path: absolute });
  }
  throw new TypeError(
    `${expected}; received a plain string of ${value.length} characters (not shown)`,
  );
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
  /** The reference it was read from (`env:NAME`, `file:/path`). */
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

/** Where {@linkcode _resolveSecret} reads from; the process's by default. */
export interface _SecretSources {
  /** Environment variables. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads a file as UTF-8. Default `readFileSync(path, "utf8")`. */
  readFile?: (path: string) => string;
}

/**
 * Reads the secret `ref` points at (when the process starts, not at
 * validation: a graph may be checked where the secret does not exist). A
 * file's one trailing newline (`\n` or `\r\n`) is dropped, as `echo` writes
 * it. Throws an `Error` naming the reference (never a value) when the
 * variable is not set, the file cannot be read, or the value is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _resolveSecret } from "./_secret.ts";
 *
 * const env = { MQTT_PASSWORD: "hunter2" };
 * assert.equal(_resolveSecret({ kind: "env", name: "MQTT_PASSWORD" }, { env }).reveal(), "hunter2");
 * const readFile = () => "s3cret\n";
 * assert.equal(_resolveSecret({ kind: "file", path: "/run/secrets/mqtt" }, { readFile }).reveal(), "s3cret");
 * assert.throws(() => _resolveSecret({ kind: "env", name: "NOPE" }, { env }), /env:NOPE: the environment variable is not set/);
 * ```
 */
export function _resolveSecret(
  ref: _SecretRef,
  sources: _SecretSources = {},
): _Secret {
  const text = _secretRefText(ref);
  let value: string;
  if (ref.kind === "env") {
    const found = (sources.env ?? process.env)[ref.name];
    if (found === undefined) {
      throw new Error(
        `Cannot read secret ${text}: the environment variable is not set`,
      );
    }
    value = found;
  } else {
    try {
      value = (sources.readFile ?? _readUtf8)(ref.path);
    } catch (e) {
      // The code only (ENOENT, EACCES): a message could quote the file.
      const code = (e as { code?: unknown })?.code;
      throw new Error(
        `Cannot read secret ${text}: ${
          typeof code === "string" ? code : "the file cannot be read"
        }`,
      );
    }
    if (value.endsWith("\r\n")) value = value.slice(0, -2);
    else if (value.endsWith("\n")) value = value.slice(0, -1);
  }
  if (value === "") {
    throw new Error(`Cannot read secret ${text}: it is empty`);
  }
  return new _Secret(value, text);
}

function _readUtf8(path: string): string {
  return readFileSync(path, "utf8");
}
