import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  parseRemoteWrite,
  remoteWriteDestinations,
} from "../../src/cli/remote_write_setup.ts";
import { resolveSettings, SettingsError } from "../../src/cli/settings.ts";

test("remoteWriteDestinations refuses a TLS file that holds no PEM block, naming the destination and the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-setup-"));
  try {
    const ca = join(dir, "ca.pem");
    writeFileSync(ca, "not a certificate\n");
    assert.throws(
      () =>
        remoteWriteDestinations(
          parseRemoteWrite([{
            name: "central",
            url: "https://h/w",
            tls: { caFile: ca },
          }]),
          {},
        ),
      (e: Error) =>
        e instanceof RangeError &&
        e.message ===
          `remote write "central": the TLS CA file ${ca} holds no PEM block (-----BEGIN ...-----)`,
    );
    assert.throws(
      () =>
        remoteWriteDestinations(
          parseRemoteWrite([{
            url: "https://h/w",
            tls: { caFile: join(dir, "none.pem") },
          }]),
          {},
        ),
      /remote write "h": cannot read the TLS CA file .*none\.pem \(ENOENT\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("parseRemoteWrite refuses what would half-work: unknown keys, both token sources, a password in the file", () => {
  const cases: [unknown, RegExp][] = [
    [
      [{ url: "http://h/w", batchdeadline: "1s" }],
      /\[0\] has an unknown key "batchdeadline"/,
    ],
    [
      [{ url: "http://h/w", bearerTokenFile: "/t", bearerTokenEnv: "T" }],
      /\[0\] gives bearerTokenFile and bearerTokenEnv: give one/,
    ],
    [
      [{ url: "http://h/w", basicAuth: { username: "u", password: "p" } }],
      /\[0\]\.basicAuth must be .*never goes in the config file/,
    ],
    [
      // Not "use bearerToken": the config file has no such key.
      [{ url: "http://h/w", headers: { authorization: "Bearer s3cret-tok" } }],
      /^[^]*\[0\]\.headers may not set "authorization": give bearerTokenFile, bearerTokenEnv or basicAuth[^]*never goes in the config file[^]*$/,
    ],
    [[{ url: "http://h/w", include: ["up{"] }], /\[0\]\.include: /],
    [[{ url: "http://h/w", maxBackoff: "soon" }], /\[0\]\.maxBackoff: /],
    [[{ url: "ftp://h/w" }], /\[0\]\.url must be an http: or https: URL/],
    [{ url: "http://h/w" }, /must be a list of destinations/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseRemoteWrite(value),
      message,
      JSON.stringify(value),
    );
  }
});

test("remoteWrite's durations in the config file: a timer's (timeout, backoffs, batchDeadline) up to 2^31-1 ms, maxWindow and maxSampleAge up to 100 years, whole ms from the writer's least; a settings error names the file, the key and the value", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-rw-setup-"));
  try {
    const file = join(dir, "weir.json");
    const refused = (key: string, value: unknown, why: RegExp) => {
      writeFileSync(
        file,
        JSON.stringify({ remoteWrite: [{ url: "http://h/w", [key]: value }] }),
      );
      assert.throws(
        () => resolveSettings({ "--config": [file] }, {}),
        (e: Error) =>
          e instanceof SettingsError &&
          e.message.startsWith(`${file}: "remoteWrite" [0].${key} `) &&
          why.test(e.message),
        `${key}: ${JSON.stringify(value)}`,
      );
    };
    const timer =
      /is longer than 2147483647 ms \(about 24\.8 days\), the longest a timer waits, received "/;
    // A longer timer fires at once: every request would time out at
    // once, every retry come at once.
    refused("timeout", "597h", timer);
    refused("maxBackoff", "1000h", timer);
    refused("minBackoff", "99999999999999999999h", timer);
    refused("batchDeadline", "600h", timer);
    refused("maxSampleAge", "900000h", /is longer than 100 years/);
    refused("maxWindow", "99999999999999999999h", /is longer than 100 years/);
    refused(
      "timeout",
      0,
      /must be a whole number of milliseconds of at least 1, received 0$/,
    );
    refused("batchDeadline", "1.5ms", /of at least 0, received "1\.5ms"$/);
    writeFileSync(
      file,
      JSON.stringify({
        remoteWrite: [{
          url: "http://h/w",
          timeout: "596h",
          maxSampleAge: "876000h",
          batchDeadline: 0,
        }],
      }),
    );
    const [spec] = resolveSettings({ "--config": [file] }, {}).settings
      .remoteWrite;
    assert.deepEqual(
      [spec.timeoutMs, spec.maxSampleAgeMs, spec.batchDeadlineMs],
      [596 * 3_600_000, 876_000 * 3_600_000, 0],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
