/**
 * Where flows' secrets may come from, as the operator sets it: the
 * `--secrets-dir` and `--secret-env` settings (flag, variable, config key,
 * systemd's `$CREDENTIALS_DIRECTORY`), read the same by `weir serve`,
 * `weir run` and `weir validate`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSettings, SettingsError } from "../../src/cli/settings.ts";
import { secretPolicy } from "../../src/cli/secret_setup.ts";
import { cli } from "./_weir.ts";

function withDir(fn: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-secret-settings-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "--secrets-dir and --secret-env come from a flag, a variable or the config file; CREDENTIALS_DIRECTORY is the default folder",
  withDir((dir) => {
    const flags = resolveSettings(
      { "--secrets-dir": ["/etc/weir/secrets"], "--secret-env": ["A,B", "C"] },
      {},
    ).settings;
    assert.equal(flags.secretsDir, "/etc/weir/secrets");
    assert.deepEqual(flags.secretEnv, ["A", "B", "C"]);
    const vars = resolveSettings({}, {
      WEIR_SECRETS_DIR: "/s",
      WEIR_SECRET_ENV: "MQTT_PASSWORD API_TOKEN",
    });
    assert.equal(vars.settings.secretsDir, "/s");
    assert.deepEqual(vars.settings.secretEnv, ["MQTT_PASSWORD", "API_TOKEN"]);
    const config = join(dir, "weir.json");
    writeFileSync(
      config,
      JSON.stringify({ secretsDir: "secrets", secretEnv: ["X"] }),
    );
    const file = resolveSettings({ "--config": [config] }, {});
    assert.equal(file.settings.secretsDir, join(dir, "secrets"));
    assert.deepEqual(file.settings.secretEnv, ["X"]);
    // systemd's LoadCredential= folder, unless the operator names another.
    const systemd = resolveSettings({}, {
      CREDENTIALS_DIRECTORY: "/run/credentials/weir.service",
    });
    assert.equal(systemd.settings.secretsDir, "/run/credentials/weir.service");
    assert.equal(systemd.sources.secretsDir, "env");
    assert.equal(
      resolveSettings({ "--secrets-dir": ["/x"] }, {
        CREDENTIALS_DIRECTORY: "/c",
      }).settings.secretsDir,
      "/x",
    );
    assert.equal(resolveSettings({}, {}).settings.secretsDir, null);
    assert.deepEqual(resolveSettings({}, {}).settings.secretEnv, []);
  }),
);

test("--secret-env refuses weir's own variables and names that are not variables", () => {
  assert.throws(
    () => resolveSettings({ "--secret-env": ["MQTT_PW,WEIR_TOKEN"] }, {}),
    (e: Error) =>
      e instanceof SettingsError &&
      /--secret-env must not name weir's own variables \(WEIR_TOKEN/.test(
        e.message,
      ),
  );
  assert.throws(
    () => resolveSettings({}, { WEIR_SECRET_ENV: "1BAD" }),
    /WEIR_SECRET_ENV must be environment variable names/,
  );
});

test(
  "the secret policy never reads the token file, the config file or the database, and refuses a secrets folder inside the data folder",
  withDir((dir) => {
    const secrets = join(dir, "secrets");
    mkdirSync(secrets);
    const tokens = join(secrets, "tokens");
    writeFileSync(tokens, "read:abcdefghijklmnop\n");
    const config = join(secrets, "weir.json");
    writeFileSync(config, JSON.stringify({ secretsDir: "." }));
    const resolved = resolveSettings({
      "--config": [config],
      "--token-file": [tokens],
      "--db": [join(secrets, "weir.db")],
      "--data-dir": [join(dir, "data")],
    }, {});
    const policy = secretPolicy("serve", resolved, {});
    for (
      const ref of [
        "file:tokens",
        "file:weir.json",
        "file:weir.db",
        "file:weir.db-wal",
      ]
    ) {
      assert.throws(() => policy.parse(ref), /weir's own files/, ref);
    }
    assert.equal(
      (policy.parse("file:mqtt") as { path: string }).path,
      join(secrets, "mqtt"),
    );
    assert.throws(
      () =>
        secretPolicy(
          "serve",
          resolveSettings(
            { "--data-dir": [dir], "--secrets-dir": [secrets] },
            {},
          ),
          {},
        ),
      /--secrets-dir ".*secrets" is inside the data folder/,
    );
  }),
);

test(
  "a secrets folder that is missing or a file is refused, naming the flag, variable or config key that named it",
  withDir((dir) => {
    const file = join(dir, "pw");
    writeFileSync(file, "hunter2");
    const missing = join(dir, "nope");
    const refusal = (
      flags: Record<string, string[]>,
      env: Record<string, string>,
    ) => {
      try {
        secretPolicy("serve", resolveSettings(flags, env), env);
      } catch (e) {
        return (e as Error).message;
      }
      assert.fail("the secrets folder was taken");
    };
    assert.match(
      refusal({ "--secrets-dir": [file] }, {}),
      /^--secrets-dir: Cannot use secrets folder ".*pw": it is a file, not a folder$/,
    );
    assert.match(
      refusal({}, { WEIR_SECRETS_DIR: missing }),
      /^WEIR_SECRETS_DIR: Cannot use secrets folder ".*nope": no such folder \(ENOENT\)$/,
    );
    // systemd's folder, set by the unit rather than by the operator.
    assert.match(
      refusal({}, { CREDENTIALS_DIRECTORY: missing }),
      /^\$CREDENTIALS_DIRECTORY \(systemd's credentials folder\): Cannot use secrets folder ".*nope": no such folder/,
    );
    const config = join(dir, "weir.json");
    writeFileSync(config, JSON.stringify({ secretsDir: "pw" }));
    assert.match(
      refusal({ "--config": [config] }, {}),
      /weir\.json: "secretsDir": Cannot use secrets folder ".*pw": it is a file, not a folder$/,
    );
  }),
);

test(
  "weir validate and weir run take --secrets-dir and --secret-env, and refuse what they do not allow",
  withDir(async (dir) => {
    const secrets = join(dir, "secrets");
    mkdirSync(secrets);
    const graph = join(dir, "g.fbp");
    writeFileSync(
      graph,
      [
        "'mqtt://127.0.0.1:1' -> broker Out(mqtt/Out)",
        "'env:MQTT_PW' -> password Out",
        "'mqtt://127.0.0.1:1' -> broker In(mqtt/In)",
        "'a' -> topic In",
        "'file:pw' -> password In",
        "'ca.pem' -> ca In",
        "In out -> in D(core/Drop)",
        "",
      ].join("\n"),
    );
    const refused = await cli(["validate", graph]);
    assert.equal(refused.code, 1, refused.out + refused.err);
    assert.match(refused.out, /g\.fbp:2:\d+: .*--secret-env MQTT_PW/);
    assert.match(refused.out, /g\.fbp:5:\d+: .*no secrets folder is set/);
    assert.match(refused.out, /g\.fbp:6:\d+: .*no secrets folder is set/);
    const allowed = await cli([
      "validate",
      "--secrets-dir",
      secrets,
      "--secret-env",
      "MQTT_PW",
      graph,
    ]);
    assert.equal(allowed.code, 0, allowed.out + allowed.err);
    // weir run validates with the same policy before it runs anything.
    const run = await cli(["run", "--secret-env", "OTHER", graph]);
    assert.equal(run.code, 1, run.out + run.err);
    assert.match(run.err + run.out, /--secret-env MQTT_PW/);
    const missing = await cli([
      "validate",
      "--secrets-dir",
      join(dir, "nope"),
      graph,
    ]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.err,
      /--secrets-dir: Cannot use secrets folder ".*nope": no such folder \(ENOENT\)/,
    );
  }),
);

test(
  "weir run: a flow whose start fails on a secret that cannot be read exits 1 naming the reference, as the flow's failure",
  withDir(async (dir) => {
    // Not a WEIR_ variable: those are never handed to flows.
    const variable = "MQTT_SECRET_SETTINGS_TEST_UNSET";
    delete process.env[variable];
    const graph = join(dir, "x.fbp");
    writeFileSync(
      graph,
      `'mqtt://127.0.0.1:1' -> broker Out(mqtt/Out)
't' -> topic Out
'u' -> username Out
'env:${variable}' -> password Out
'1s' -> interval T(core/Interval) out -> in Out
`,
    );
    const r = await cli(["run", "--secret-env", variable, graph]);
    assert.equal(r.code, 1);
    assert.ok(r.error !== undefined, "a CliError, not an unexpected error");
    assert.match(
      r.err,
      new RegExp(
        `^Cannot start network "main": process "Out" \\(mqtt/Out\\), setup: Cannot read secret env:${variable}: the environment variable is not set$`,
      ),
    );
  }),
);
