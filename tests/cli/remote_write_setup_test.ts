import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  parseRemoteWrite,
  remoteWriteDestinations,
} from "../../src/cli/remote_write_setup.ts";

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
