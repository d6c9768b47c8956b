/**
 * The secret policy of the weir command: a flow's `env:` and `file:`
 * secret references (and `mqtt/*`'s TLS files) come only from the
 * variables `--secret-env` lists and the folder `--secrets-dir` (or
 * systemd's `$CREDENTIALS_DIRECTORY`) names, never from weir's own files
 * (token file, config file, database and its companions, history, the
 * components folder).
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { resolve, sep } from "node:path";
import process from "node:process";
import { storagePaths } from "../components/file_sandbox.ts";
import { SecretPolicy } from "../components/_secret.ts";
import { historyOptions } from "./history_setup.ts";
import type { ResolvedSettings } from "./settings.ts";

/**
 * The secret policy for `command` run with `resolved` settings. Throws a
 * `RangeError` (one sentence for the operator) when the secrets folder
 * cannot be used: it does not exist, it is a system folder, or it lies
 * inside the data folder (where flows could read it with `fs/ReadFile`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretPolicy } from "./secret_setup.ts";
 * import { resolveSettings } from "./settings.ts";
 *
 * const resolved = resolveSettings({ "--secret-env": ["MQTT_PW"] }, {});
 * const policy = secretPolicy("run", resolved);
 * assert.equal(policy.dir, undefined);
 * assert.deepEqual([...policy.env], ["MQTT_PW"]);
 * ```
 */
export function secretPolicy(
  command: string,
  resolved: ResolvedSettings,
  environment?: Readonly<Record<string, string | undefined>>,
): SecretPolicy {
  const s = resolved.settings;
  const history = historyOptions(command, s);
  const deny = storagePaths(s.db, history?.dir ?? null);
  if (resolved.tokenFile !== undefined) deny.push(resolved.tokenFile);
  if (resolved.configFile !== undefined) deny.push(resolved.configFile);
  // Code, not secrets, and the operator's own: never sent to a broker.
  if (s.components !== null) deny.push(s.components);
  let policy: SecretPolicy;
  try {
    policy = new SecretPolicy({
      dir: s.secretsDir,
      env: s.secretEnv,
      deny,
      ...(environment !== undefined ? { environment } : {}),
    });
  } catch (e) {
    // Say where the folder was named: systemd's $CREDENTIALS_DIRECTORY
    // is set without the operator writing it anywhere weir reads.
    const message = (e as Error).message;
    if (!message.startsWith("Cannot use secrets folder")) throw e;
    throw new RangeError(
      `${_secretsDirOrigin(resolved, environment ?? process.env)}: ${message}`,
    );
  }
  if (policy.dir !== undefined) {
    const data = _real(resolve(s.dataDir ?? "data"));
    if (policy.dir === data || policy.dir.startsWith(data + sep)) {
      throw new RangeError(
        `--secrets-dir "${s.secretsDir}" is inside the data folder "${data}", where flows read files with fs/ReadFile; keep secrets in a folder of their own`,
      );
    }
  }
  return policy;
}

/** Where the secrets folder was named: a flag, a variable or the config file. */
function _secretsDirOrigin(
  resolved: ResolvedSettings,
  environment: Readonly<Record<string, string | undefined>>,
): string {
  switch (resolved.sources.secretsDir) {
    case "flag":
      return "--secrets-dir";
    case "file":
      return `${resolved.configFile}: "secretsDir"`;
    default:
      return environment.WEIR_SECRETS_DIR
        ? "WEIR_SECRETS_DIR"
        : "$CREDENTIALS_DIRECTORY (systemd's credentials folder)";
  }
}

function _real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
