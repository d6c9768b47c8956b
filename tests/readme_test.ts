/**
 * What the README tells an operator to configure works as written.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  integrationSkip,
  requireTool,
  startPrometheus,
} from "./_prometheus.ts";
import { killLeftovers, startServe } from "./cli/_weir.ts";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The README's YAML blocks that configure Prometheus's scrapes. */
function _scrapeConfigs(): string[] {
  return [...README.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((yaml) => yaml.includes("scrape_configs:"));
}

/** The README's `authorization` block, as Prometheus reads it. */
function _authorization(yaml: string): { type: string; file: string } {
  const m =
    /\n(\s+)authorization:\n\1 {2}type: (\w+)\n\1 {2}credentials_file: (\S+)\n/
      .exec(yaml);
  assert.ok(m, `no authorization block in:\n${yaml}`);
  return { type: m[2], file: m[3] };
}

test("the README's Prometheus scrape configuration sends a bearer token from a file", () => {
  const configs = _scrapeConfigs();
  assert.equal(configs.length, 1);
  assert.deepEqual(_authorization(configs[0]), {
    type: "Bearer",
    file: "/etc/prometheus/weir.token",
  });
});

test(
  "the README's Prometheus scrape configuration passes promtool check config",
  { skip: integrationSkip("promtool") },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-readme-"));
    try {
      const yaml = _scrapeConfigs()[0];
      const token = join(dir, "weir.token");
      writeFileSync(token, "0123456789abcdef0123\n");
      // promtool fails when the credentials file does not exist.
      const config = join(dir, "prometheus.yml");
      writeFileSync(config, yaml.replace(_authorization(yaml).file, token));
      const r = spawnSync(
        requireTool("promtool"),
        ["check", "config", config],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "Prometheus scrapes a weir serve that has a token, with the README's authorization block",
  { skip: integrationSkip("prometheus"), timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-readme-"));
    const secret = "0123456789abcdef0123";
    try {
      const token = join(dir, "weir.token");
      writeFileSync(token, `${secret}\n`);
      const weir = await startServe([
        "--port",
        "0",
        "--db",
        ":memory:",
        "--token",
        `metrics:${secret}`,
      ]);
      const unauthorized = await fetch(`${weir.url}/metrics`);
      await unauthorized.body?.cancel();
      assert.equal(unauthorized.status, 401);
      const { type } = _authorization(_scrapeConfigs()[0]);
      await using prometheus = await startPrometheus({
        targets: [new URL(weir.url).host],
        authorization: { type, credentials_file: token },
      });
      const up = await prometheus.waitFor(async () => {
        const [sample] = await prometheus.query('up{job="weir"}');
        return sample;
      }, { timeoutMs: 30_000, what: "the first scrape" });
      assert.equal(up.value, 1, prometheus.logTail());
      process.kill(weir.child.pid!, "SIGTERM");
      assert.equal((await weir.exited).code, 0, weir.log());
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true });
    }
  },
);
