/**
 * A throwaway public key infrastructure for TLS tests, made with Debian's
 * `openssl`: a CA, a server certificate for 127.0.0.1 and a client
 * certificate, both signed by it (EC P-256, valid 2 days).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findOnPath } from "./_prometheus.ts";

/** How to get openssl where it is missing. */
export const OPENSSL_HINT = "apt-get install openssl";

/** PEM texts of a test CA, a server certificate for 127.0.0.1 and a client's. */
export interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** Runs `openssl args` in `dir`; throws with its output when it fails. */
function openssl(dir: string, args: string[]): void {
  // requireTool() would name Debian's prometheus package.
  const bin = findOnPath("openssl");
  if (bin === undefined) {
    throw new Error(
      `openssl is not on PATH: install it with \`${OPENSSL_HINT}\``,
    );
  }
  const r = spawnSync(bin, args, {
    cwd: dir,
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new Error(
      `openssl ${args.join(" ")} failed (${
        r.status ?? r.signal
      }):\n${r.stderr}`,
    );
  }
}

/**
 * A CA and two certificates it signed, made with openssl in `dir` as
 * `ca.pem`, `server.pem`/`server.key` and `client.pem`/`client.key`, and
 * their PEM texts.
 */
export function makePki(dir: string): Pki {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=weir test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const leaf = (name: string, subject: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, [
      "req",
      ...ec,
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject,
    ]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ]);
  };
  leaf(
    "server",
    "/CN=127.0.0.1",
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1",
      "",
    ].join("\n"),
  );
  leaf(
    "client",
    "/CN=weir-gw-17",
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=clientAuth",
      "",
    ].join("\n"),
  );
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    ca: read("ca.pem"),
    serverCert: read("server.pem"),
    serverKey: read("server.key"),
    clientCert: read("client.pem"),
    clientKey: read("client.key"),
  };
}
