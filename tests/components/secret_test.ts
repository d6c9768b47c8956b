import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import {
  _parseSecretRef,
  _resolveSecret,
  _Secret,
} from "../../src/components/_secret.ts";

test("_parseSecretRef() takes env:NAME and file:/absolute/path", () => {
  assert.deepEqual(_parseSecretRef("env:MQTT_PASS_1"), {
    kind: "env",
    name: "MQTT_PASS_1",
  });
  assert.deepEqual(_parseSecretRef("file:/run/secrets/../secrets/mqtt"), {
    kind: "file",
    path: "/run/secrets/mqtt",
  });
});

test("_parseSecretRef() refuses a plain string without quoting it", () => {
  for (const secret of ["hunter2", "env:", "env:1abc", "file:relative/pw"]) {
    assert.throws(
      () => _parseSecretRef(secret),
      (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /expected a secret reference/);
        // The value is not echoed (a bad reference's tail could be a secret).
        if (secret.length > 5) {
          assert.ok(!e.message.includes(secret.slice(4)), e.message);
        }
        return true;
      },
    );
  }
  assert.throws(
    () => _parseSecretRef(12345678),
    (e: Error) => /received number$/.test(e.message) && !/1234/.test(e.message),
  );
  assert.throws(() => _parseSecretRef({ pw: "x" }), /received object$/);
});

test("_parseSecretRef() refuses weir's own variables and /proc", () => {
  assert.throws(() => _parseSecretRef("env:WEIR_TOKEN"), RangeError);
  assert.throws(() => _parseSecretRef("env:weir_token"), RangeError);
  assert.throws(
    () => _parseSecretRef("file:/proc/self/environ"),
    /\/proc is off-limits/,
  );
  assert.throws(
    () => _parseSecretRef("file:/tmp/../proc/1/environ"),
    /\/proc is off-limits/,
  );
});

test("_resolveSecret() reads a variable, and a file without its trailing newline", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-secret-"));
  try {
    const file = join(dir, "pw");
    writeFileSync(file, "s3cret\r\n");
    assert.equal(
      _resolveSecret({ kind: "file", path: file }).reveal(),
      "s3cret",
    );
    writeFileSync(file, "two\nlines\n");
    assert.equal(
      _resolveSecret({ kind: "file", path: file }).reveal(),
      "two\nlines",
    );
    assert.equal(
      _resolveSecret({ kind: "env", name: "X" }, { env: { X: "v" } }).reveal(),
      "v",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("_resolveSecret() names the reference, never a value, when it cannot read it", () => {
  assert.throws(
    () => _resolveSecret({ kind: "env", name: "NOT_SET_HERE" }, { env: {} }),
    /^Error: Cannot read secret env:NOT_SET_HERE: the environment variable is not set$/,
  );
  assert.throws(
    () => _resolveSecret({ kind: "file", path: "/nonexistent/weir/pw" }),
    /^Error: Cannot read secret file:\/nonexistent\/weir\/pw: ENOENT$/,
  );
  assert.throws(
    () => _resolveSecret({ kind: "env", name: "E" }, { env: { E: "" } }),
    /env:E: it is empty/,
  );
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
