/**
 * Secrets and bad payloads on a real `weir serve` (review of issue 16,
 * findings R1, R2 and R8): a flow cannot name the server's token file or a
 * variable the operator did not list as a broker password; a FIFO in the
 * secrets folder does not block the server; and 1,000 payloads that are not
 * JSON write a handful of log lines (rate-limited through the network's
 * error event) while `weir_mqtt_dropped_total{reason="invalid"}` counts
 * every one, with a long topic cut to an excerpt.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import { testClient, until } from "../components/_mqtt_helpers.ts";
import { killLeftovers, startServe, startWeir } from "./_weir.ts";

const skip = mosquittoSkip();

async function metric(
  url: string,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith(`${name}{`) &&
    Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))
  );
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

function post(url: string, fbp: string[]): Promise<Response> {
  return fetch(`${url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "text/vnd.fbp" },
    body: fbp.join("\n") + "\n",
  });
}

test(
  "weir serve: a flow cannot take the token file, a file outside --secrets-dir or an unlisted variable as a broker password",
  { skip, timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-secrets-serve-"));
    const secrets = join(dir, "secrets");
    mkdirSync(secrets);
    // The token file inside the secrets folder: still never a secret.
    const tokens = join(secrets, "tokens");
    writeFileSync(tokens, "read,write:x-test-token-0123456789abcdef\n");
    const outside = join(dir, "other");
    writeFileSync(outside, "x-other-secret-0123456789\n");
    const args = [
      "--listen",
      "127.0.0.1:0",
      "--db",
      join(dir, "weir.db"),
      "--data-dir",
      join(dir, "data"),
      "--no-history",
      "--token-file",
      tokens,
      "--secrets-dir",
      secrets,
      "--secret-env",
      "MQTT_X_PW",
    ];
    const w = await startServe(args, {
      env: {
        ...process.env,
        AWS_SECRET_ACCESS_KEY: "aws-value-9",
        MQTT_X_PW: "pw",
      },
    });
    const auth = { Authorization: "Bearer x-test-token-0123456789abcdef" };
    try {
      const tryPassword = async (ref: string) => {
        const res = await fetch(`${w.url}/flows`, {
          method: "POST",
          headers: { "Content-Type": "text/vnd.fbp", ...auth },
          body: [
            "# @name exfil",
            "'mqtt://127.0.0.1:1' -> broker In(mqtt/In)",
            "'x/#' -> topic In",
            "'thief' -> username In",
            `'${ref}' -> password In`,
            "In out -> in D(core/Drop)",
            "",
          ].join("\n"),
        });
        return { status: res.status, text: await res.text() };
      };
      // Before the fix each of these was 201 and the value went to the broker.
      const file = await tryPassword(`file:${outside}`);
      assert.equal(file.status, 400, file.text);
      assert.match(file.text, /outside the secrets folder/);
      const inside = await tryPassword("file:tokens");
      assert.equal(inside.status, 400, inside.text);
      assert.match(inside.text, /weir's own files/);
      const env = await tryPassword("env:AWS_SECRET_ACCESS_KEY");
      assert.equal(env.status, 400, env.text);
      assert.match(env.text, /--secret-env AWS_SECRET_ACCESS_KEY/);
      for (const t of [file.text, inside.text, env.text]) {
        assert.ok(!/x-test-token|x-other-secret|aws-value/.test(t), t);
      }
      // A listed variable is taken.
      const ok = await tryPassword("env:MQTT_X_PW");
      assert.equal(ok.status, 201, ok.text);
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
      assert.ok(!/x-test-token|x-other-secret|aws-value/.test(w.log()));
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: without --secrets-dir every file: secret is refused, saying how to allow it; a secrets folder inside the data folder stops the start",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-secrets-none-"));
    try {
      const env = { ...process.env };
      delete env.CREDENTIALS_DIRECTORY;
      const w = await startServe([
        "--listen",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--data-dir",
        dir,
        "--no-history",
      ], { env });
      try {
        const res = await post(w.url, [
          "'mqtt://127.0.0.1:1' -> broker Out(mqtt/Out)",
          "'file:mqtt' -> password Out",
        ]);
        const text = await res.text();
        assert.equal(res.status, 400, text);
        assert.match(text, /no secrets folder is set.*--secrets-dir DIR/);
        process.kill(w.child.pid!, "SIGTERM");
        await w.exited;
      } finally {
        killLeftovers();
      }
      mkdirSync(join(dir, "secrets"));
      const bad = startWeir([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--data-dir",
        dir,
        "--secrets-dir",
        join(dir, "secrets"),
      ], { env });
      const exit = await bad.exited;
      assert.equal(exit.code, 2, bad.log());
      assert.match(bad.log(), /--secrets-dir .* is inside the data folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: a FIFO as a secret or a TLS file fails the flow at once; the server keeps answering",
  { skip, timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-secrets-fifo-"));
    const secrets = join(dir, "secrets");
    mkdirSync(secrets);
    execFileSync("mkfifo", [join(secrets, "pw")]);
    execFileSync("mkfifo", [join(secrets, "ca.pem")]);
    const w = await startServe([
      "--listen",
      "127.0.0.1:0",
      "--db",
      ":memory:",
      "--data-dir",
      join(dir, "data"),
      "--no-history",
      "--secrets-dir",
      secrets,
    ]);
    try {
      for (
        const [name, line, why] of [
          [
            "fifo-pw",
            "'file:pw' -> password In",
            /Cannot read secret file:pw: it is a FIFO, not a regular file/,
          ],
          [
            "fifo-ca",
            "'ca.pem' -> ca In",
            /Cannot read the TLS CA file .*ca\.pem: it is a FIFO, not a regular file/,
          ],
        ] as const
      ) {
        // Before the fix the POST never answered and /healthz neither.
        const res = await post(w.url, [
          `# @name ${name}`,
          "'mqtt://127.0.0.1:1' -> broker In(mqtt/In)",
          "'x/#' -> topic In",
          line,
          "In out -> in D(core/Drop)",
        ]);
        const text = await res.text();
        assert.ok(res.status < 500, text);
        const health = await fetch(`${w.url}/healthz`, {
          signal: AbortSignal.timeout(5000),
        });
        assert.equal(health.status, 200);
        // Refused at its start (not stored), or stored and failed.
        const info = res.status === 201
          ? await (await fetch(`${w.url}/flows/${name}`)).text()
          : "";
        if (res.status === 201) assert.match(info, /"state":"failed"/);
        assert.match(text + info + w.log(), why);
      }
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'weir serve: 1,000 payloads that are not JSON write a handful of log lines, each topic an excerpt, and weir_mqtt_dropped_total{reason="invalid"} counts them all',
  { skip, timeout: 120_000 },
  async () => {
    await using broker = await startMosquitto();
    const dir = mkdtempSync(join(tmpdir(), "weir-mqtt-bad-"));
    const w = await startServe([
      "--listen",
      "127.0.0.1:0",
      "--db",
      ":memory:",
      "--data-dir",
      dir,
      "--no-history",
    ]);
    const pub = await testClient(broker.url);
    try {
      const res = await post(w.url, [
        "# @name mq",
        `'${broker.url}' -> broker In(mqtt/In)`,
        "'bad/#' -> topic In",
        "'json' -> format In",
        "'1' -> qos In",
        "In out -> in D(core/Drop)",
      ]);
      assert.equal(res.status, 201, await res.text());
      await until(
        async () =>
          (await metric(w.url, "weir_mqtt_connected", { flow: "mq" })) === 1,
        "connected",
      );
      // A long topic: whole, it would be 3,000 characters in each line.
      const topic = `bad/${"t".repeat(3000)}`;
      const N = 1000;
      for (let i = 0; i < N; i++) {
        await pub.client.publishAsync(topic, `garbage ${i}`, { qos: 1 });
      }
      const dropped = () =>
        metric(w.url, "weir_mqtt_dropped_total", {
          flow: "mq",
          process: "In",
          reason: "invalid",
        });
      await until(async () => (await dropped()) === N, `${N} dropped`, 60_000)
        .catch(async (e) => {
          throw new Error(`${(e as Error).message}: ${await dropped()}`);
        });
      const lines = w.log().split("\n").filter((l) =>
        l.includes("a payload of")
      );
      // Before the fix: one unlimited "[weir]" line per payload (1,000).
      assert.ok(lines.length >= 1, "the first failures are logged");
      assert.ok(
        lines.length <= 6,
        `${lines.length} lines for ${N} bad payloads:\n${
          lines.slice(0, 10).join("\n")
        }`,
      );
      assert.ok(!w.log().includes("[weir]"), "no raw console.error lines");
      for (const l of lines) {
        assert.ok(
          !l.includes("t".repeat(200)),
          `the topic is excerpted: ${l.length} chars`,
        );
      }
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
    } finally {
      await pub.end();
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
