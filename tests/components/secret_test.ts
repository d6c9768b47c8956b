import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import {
  _parseSecretRef,
  _resolveSecret,
  _Secret,
  SecretPolicy,
} from "../../src/components/_secret.ts";

/** A secrets folder (real path) beside an outside folder, removed after `fn`. */
function withDirs(fn: (secrets: string, outside: string) => void): void {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "weir-secret-")));
  try {
    const secrets = join(root, "secrets");
    const outside = join(root, "outside");
    mkdirSync(secrets);
    mkdirSync(outside);
    fn(secrets, outside);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("SecretPolicy.parse() takes env:NAME of an allowed variable and file:NAME in the secrets folder", () => {
  withDirs((secrets) => {
    const policy = new SecretPolicy({ dir: secrets, env: ["MQTT_PASS_1"] });
    assert.deepEqual(policy.parse("env:MQTT_PASS_1"), {
      kind: "env",
      name: "MQTT_PASS_1",
    });
    assert.deepEqual(policy.parse("file:mqtt"), {
      kind: "file",
      path: join(secrets, "mqtt"),
      given: "mqtt",
    });
    // An absolute path inside the folder, and a sub-folder, are taken.
    assert.equal(
      (policy.parse(`file:${secrets}/a/../b`) as { path: string }).path,
      join(secrets, "b"),
    );
    assert.equal(
      (policy.parse("file:sub/pw") as { path: string }).path,
      join(secrets, "sub", "pw"),
    );
  });
});

test("a secret reference is refused unless the operator named its place, with a sentence saying how to allow it", () => {
  // No policy (the default): nothing at all.
  assert.throws(
    () => _parseSecretRef("env:MQTT_PASSWORD"),
    (e: Error) =>
      e instanceof RangeError &&
      /env:MQTT_PASSWORD.*not allowed this variable; start weir with --secret-env MQTT_PASSWORD \(or WEIR_SECRET_ENV/
        .test(e.message),
  );
  assert.throws(
    () => _parseSecretRef("file:/run/secrets/mqtt"),
    /no secrets folder is set.*--secrets-dir DIR \(or WEIR_SECRETS_DIR, "secretsDir" in the config file, or systemd's \$CREDENTIALS_DIRECTORY\)/,
  );
  withDirs((secrets, outside) => {
    const policy = new SecretPolicy({ dir: secrets, env: ["ALLOWED"] });
    // A variable not listed (the server's environment: AWS keys, ...).
    assert.throws(
      () => policy.parse("env:AWS_SECRET_ACCESS_KEY"),
      /--secret-env AWS_SECRET_ACCESS_KEY/,
    );
    // Files outside the folder, by absolute path or by "..".
    for (
      const ref of [
        "file:/etc/shadow",
        `file:${outside}/tokens`,
        "file:../outside/tokens",
        "file:/proc/self/environ",
        "file:/dev/fd/3",
      ]
    ) {
      assert.throws(() => policy.parse(ref), /outside the secrets folder/, ref);
    }
    // A symbolic link in the folder leading out: refused at validation.
    writeFileSync(join(outside, "tokens"), "read,write:abc\n");
    symlinkSync(join(outside, "tokens"), join(secrets, "link"));
    assert.throws(
      () => policy.parse("file:link"),
      /outside the secrets folder/,
    );
    assert.throws(() => policy.parse("file:"), TypeError);
  });
});

test("weir's own files and variables are never secrets, even inside the secrets folder", () => {
  withDirs((secrets) => {
    const tokens = join(secrets, "tokens");
    writeFileSync(tokens, "read,write:abc\n");
    writeFileSync(join(secrets, "weir.db"), "");
    const policy = new SecretPolicy({
      dir: secrets,
      deny: [tokens, join(secrets, "weir.db"), join(secrets, "weir.db-wal")],
    });
    for (const ref of ["file:tokens", "file:weir.db", "file:weir.db-wal"]) {
      assert.throws(() => policy.parse(ref), /weir's own files/, ref);
    }
    assert.throws(
      () => new SecretPolicy({ env: ["WEIR_TOKEN"] }),
      /WEIR_ variables are weir's own settings/,
    );
    assert.throws(
      () => new SecretPolicy({ env: ["X"] }).parse("env:WEIR_TOKEN"),
      /weir's own settings/,
    );
    assert.throws(() => new SecretPolicy({ dir: "/" }), /off-limits/);
    assert.throws(() => new SecretPolicy({ dir: "/proc/self" }), /off-limits/);
    assert.throws(
      () => new SecretPolicy({ dir: join(secrets, "nope") }),
      /Cannot use secrets folder .*: no such folder \(ENOENT\)/,
    );
  });
});

test("_parseSecretRef() refuses a plain string without quoting it", () => {
  const policy = new SecretPolicy({ env: ["A"] });
  for (const secret of ["hunter2", "env:", "env:1abc", "not-a-ref/pw"]) {
    assert.throws(
      () => _parseSecretRef(secret, policy),
      (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /expected a secret reference/);
        if (secret.length > 5) {
          assert.ok(!e.message.includes(secret.slice(4)), e.message);
        }
        return true;
      },
    );
  }
  assert.throws(
    () => _parseSecretRef(12345678, policy),
    (e: Error) => /received number$/.test(e.message) && !/1234/.test(e.message),
  );
  assert.throws(() => _parseSecretRef({ pw: "x" }, policy), /received object$/);
});

test("SecretPolicy.resolve() reads a variable, and a file without its trailing newline", () => {
  withDirs((secrets) => {
    const file = join(secrets, "pw");
    const policy = new SecretPolicy({
      dir: secrets,
      env: ["X"],
      environment: { X: "v" },
    });
    writeFileSync(file, "s3cret\r\n");
    assert.equal(policy.resolve(policy.parse("file:pw")).reveal(), "s3cret");
    writeFileSync(file, "two\nlines\n");
    assert.equal(
      _resolveSecret(policy.parse("file:pw"), policy).reveal(),
      "two\nlines",
    );
    assert.equal(policy.resolve(policy.parse("env:X")).reveal(), "v");
  });
});

test("SecretPolicy.resolve() names the reference, never a value, when it cannot read it", () => {
  withDirs((secrets) => {
    const policy = new SecretPolicy({
      dir: secrets,
      env: ["NOT_SET_HERE", "E"],
      environment: { E: "" },
    });
    assert.throws(
      () => policy.resolve({ kind: "env", name: "NOT_SET_HERE" }),
      /^Error: Cannot read secret env:NOT_SET_HERE: the environment variable is not set$/,
    );
    assert.throws(
      () => policy.resolve(policy.parse("file:nope")),
      /^Error: Cannot read secret file:nope: ENOENT$/,
    );
    assert.throws(
      () => policy.resolve({ kind: "env", name: "E" }),
      /env:E: it is empty/,
    );
    // A reference that did not come through parse() is checked again.
    assert.throws(
      () => policy.resolve({ kind: "env", name: "HOME" }),
      /Cannot read secret .*--secret-env HOME/,
    );
    assert.throws(
      () => policy.resolve({ kind: "file", path: "/etc/hostname" }),
      /Cannot read secret file:\/etc\/hostname: it is outside the secrets folder/,
    );
  });
});

test("a secret file swapped for a link leading out after validation is refused when read", () => {
  withDirs((secrets, outside) => {
    const policy = new SecretPolicy({ dir: secrets });
    writeFileSync(join(secrets, "pw"), "fine\n");
    const ref = policy.parse("file:pw");
    rmSync(join(secrets, "pw"));
    writeFileSync(join(outside, "tokens"), "read,write:stolen-token\n");
    symlinkSync(join(outside, "tokens"), join(secrets, "pw"));
    assert.throws(
      () => policy.resolve(ref),
      (e: Error) =>
        /Cannot read secret file:pw: it is outside the secrets folder/.test(
          e.message,
        ) &&
        !e.message.includes("stolen"),
    );
  });
});

test("a secret that is a FIFO, a device, a folder or over 64 KiB is refused at once, never read whole", () => {
  withDirs((secrets) => {
    const fifo = join(secrets, "fifo");
    execFileSync("mkfifo", [fifo]);
    mkdirSync(join(secrets, "folder"));
    writeFileSync(join(secrets, "big"), "x".repeat(64 * 1024 + 1));
    writeFileSync(join(secrets, "fits"), "y".repeat(64 * 1024));
    const policy = new SecretPolicy({ dir: secrets });
    // Before the fix, reading the FIFO blocked the event loop forever.
    assert.throws(
      () => policy.resolve(policy.parse("file:fifo")),
      /^Error: Cannot read secret file:fifo: it is a FIFO, not a regular file$/,
    );
    assert.throws(
      () => policy.resolve(policy.parse("file:folder")),
      /Cannot read secret file:folder: (it is a folder|EISDIR)/,
    );
    assert.throws(
      () => policy.resolve(policy.parse("file:big")),
      (e: Error) =>
        /^Cannot read secret file:big: it is larger than 64 KiB \(65537 bytes\)$/
          .test(e.message),
    );
    assert.equal(
      policy.resolve(policy.parse("file:fits")).reveal().length,
      65536,
    );
    // /dev/zero through a link in the folder: never read (it grew without end).
    symlinkSync("/dev/zero", join(secrets, "zero"));
    assert.throws(
      () => policy.parse("file:zero"),
      /outside the secrets folder/,
    );
    assert.throws(
      () =>
        policy.resolve({
          kind: "file",
          path: join(secrets, "zero"),
          given: "zero",
        }),
      /Cannot read secret file:zero: it is outside the secrets folder/,
    );
  });
});

test("_Secret prints as [secret] everywhere but reveal()", () => {
  const s = new _Secret("hunter2", "env:P");
  assert.equal(String(s), "[secret]");
  assert.equal(`${s}`, "[secret]");
  assert.equal(JSON.stringify([s]), '["[secret]"]');
  assert.ok(!inspect({ s }).includes("hunter2"), inspect({ s }));
  assert.equal(s.reveal(), "hunter2");
  assert.equal(s.ref, "env:P");
});

/** A self-signed EC certificate made for these tests (openssl, 100 years). */
const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIUS3aT4Zr5nLMCiCs1MPW0LWYrnWMwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMd2VpciB0ZXN0IENBMCAXDTI2MTIwNTE1MjMwNFoYDzIxMjYx
MTExMTUyMzA0WjAXMRUwEwYDVQQDDAx3ZWlyIHRlc3QgQ0EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAARkYveYY+cN1qCRK8U9DGiw6H5ksXmBcsWElA2jau/hOjDM
i9QHEbk0dz0q2UtzjnlN+Cg24zNish6Fbh8bKnT7o1MwUTAdBgNVHQ4EFgQUUytS
oy27tSXS94yVDT+c+vnSdCkwHwYDVR0jBBgwFoAUUytSoy27tSXS94yVDT+c+vnS
dCkwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAx5IWlgdrA202
WDpCG2EF8ZlqiyjlNrNahCoJBHxPJJMCIQCPx7DCf8nJBdnNQ3g/L3c4MVf3yzww
QytRiuReFHVvSQ==
-----END CERTIFICATE-----
`;

test("mqtt's TLS files come from the secrets folder, bounded (1 MiB) and never from a FIFO", async () => {
  const { _clientOptions, _parseBrokerUrl, _tlsPathParser } = await import(
    "../../src/components/_mqtt_options.ts"
  );
  withDirs((secrets, outside) => {
    const policy = new SecretPolicy({ dir: secrets });
    const parse = _tlsPathParser(policy);
    // A real certificate: Bun checks the PEM when the process starts.
    writeFileSync(join(secrets, "ca.pem"), TEST_CA);
    writeFileSync(join(secrets, "big.pem"), "x".repeat(1024 * 1024 + 1));
    execFileSync("mkfifo", [join(secrets, "fifo.pem")]);
    writeFileSync(join(outside, "key.pem"), "outside");
    assert.throws(
      () => parse(join(outside, "key.pem")),
      /outside the secrets folder/,
    );
    const options = (ca: string) =>
      _clientOptions(
        {
          broker: _parseBrokerUrl("mqtts://127.0.0.1"),
          clientId: undefined,
          clean: true,
          keepalive: 60,
          protocolVersion: 4,
          username: undefined,
          password: undefined,
          will: undefined,
          ca: parse(ca),
          cert: undefined,
          key: undefined,
          rejectUnauthorized: true,
          connectTimeout: 1000,
        },
        "x",
        1000,
        policy,
      );
    assert.equal(String(options("ca.pem").ca), TEST_CA);
    assert.throws(
      () => options("big.pem"),
      /Cannot read the TLS CA file .*big\.pem: it is larger than 1 MiB/,
    );
    assert.throws(
      () => options("fifo.pem"),
      /Cannot read the TLS CA file .*fifo\.pem: it is a FIFO, not a regular file/,
    );
  });
});
