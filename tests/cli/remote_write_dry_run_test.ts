/**
 * `weir remote-write --dry-run` on a history kept on disk the way `weir
 * serve` keeps it (`<dir>/history` next to `<dir>/weir.db`): it names
 * each destination and its URL, counts what it would send of the last
 * `--since`, lists the series with their sample counts and external
 * labels, honours `exclude` and `--name`, never prints a secret, sends
 * nothing, writes no cursor and logs which history it reads (not as if it
 * sampled one); its usage errors exit 2 with a sentence.
 * Real child processes on this runtime, a real history folder, a real
 * (counting) receiver.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import { HistoryStore } from "../../src/history/store.ts";
import type { SeriesKind, SeriesLabels } from "../../src/history/types.ts";
import { killLeftovers, startWeir } from "./_weir.ts";

const SECRET = "rw-dry-s3cret-5c1d7b";
/** Samples appended per series, 1 s apart. */
const SAMPLES = 40;
/** The series the history holds; the `b_` one is excluded by the setting. */
const SERIES: [SeriesLabels, SeriesKind][] = [
  [{ __name__: "a_messages_total", flow: "sensors" }, "counter"],
  [{ __name__: "b_excluded_depth", flow: "sensors" }, "gauge"],
  [{ __name__: "c_queue_depth", flow: "sensors", port: "in" }, "gauge"],
];

let dir = "";
let db = "";
let newest = 0;
let requests = 0;
let url = "";
const server = createServer((req, res) => {
  requests++;
  req.resume();
  req.on("end", () => res.writeHead(204).end());
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "weir-rw-dry-"));
  db = join(dir, "weir.db");
  newest = Math.floor(Date.now() / 1000) * 1000;
  const store = await HistoryStore.open({ dir: join(dir, "history") });
  try {
    for (const [labels, kind] of SERIES) {
      const ref = store.seriesRef(labels, kind);
      for (let i = SAMPLES - 1; i >= 0; i--) {
        store.append(ref, newest - i * 1000, SAMPLES - i);
      }
    }
  } finally {
    await store.close();
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  killLeftovers();
  await new Promise((r) => server.close(r));
  server.closeAllConnections?.();
  rmSync(dir, { recursive: true, force: true });
});

/** This process's environment without WEIR_ settings, plus `extra`. */
function env(
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("WEIR_") || k === "WEIR_REQUIRE_INTEGRATION") e[k] = v;
  }
  return { ...e, ...extra };
}

/** A config file named `name` holding `remoteWrite`. */
function config(name: string, remoteWrite: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ remoteWrite }, null, 2));
  return file;
}

/** A destination of the config file, its token in RW_TOKEN. */
function destination(name: string, path: string): Record<string, unknown> {
  return {
    name,
    url: `${url}${path}`,
    bearerTokenEnv: "RW_TOKEN",
    externalLabels: { device: "gw-17" },
    exclude: ['{__name__=~"b.*"}'],
  };
}

/** Runs `weir <args>` to its end. */
async function weir(
  args: string[],
  extraEnv: Record<string, string> = { RW_TOKEN: SECRET },
): Promise<{ code: number | null; out: string; log: string }> {
  const w = startWeir(args, { env: env(extraEnv) });
  const exit = await w.exited;
  return { code: exit.code, out: w.stdout(), log: w.log() };
}

/** The lines of the series `name{...}` in the output, with their counts. */
function seriesLines(out: string): Map<string, number> {
  const lines = new Map<string, number>();
  for (const m of out.matchAll(/^ {4}(\S+\{.*\}) (\d+) samples, last /gm)) {
    lines.set(m[1], Number(m[2]));
  }
  return lines;
}

/** `weir remote-write --dry-run --config FILE --db DB ...more`. */
function dryRun(file: string, ...more: string[]) {
  return weir([
    "remote-write",
    "--dry-run",
    "--config",
    file,
    "--db",
    db,
    ...more,
  ]);
}

test(
  "weir remote-write --dry-run names each destination and its URL, counts what it would send and lists the series with their external labels",
  { timeout: 30_000 },
  async () => {
    const file = config("two.json", [
      destination("central", "/central/api/v1/write"),
      // A key in the query is a secret too: never printed.
      destination("backup", `/backup/api/v1/write?api_key=${SECRET}`),
    ]);
    const r = await dryRun(file, "--log-level", "debug");
    assert.equal(r.code, 0, r.log);
    assert.match(
      r.out,
      new RegExp(
        `^remote write "central" -> ${url}/central/api/v1/write \\(bearer token from \\$RW_TOKEN\\)$`,
        "m",
      ),
    );
    assert.match(
      r.out,
      new RegExp(
        `^remote write "backup" -> ${url}/backup/api/v1/write \\(bearer token from \\$RW_TOKEN\\)$`,
        "m",
      ),
    );
    // The default --since (5 min) holds every sample but the newest tick,
    // which the sampler may still be writing; b_ is excluded.
    const per = SAMPLES - 1;
    const summary = [...r.out.matchAll(
      /(\d+) series, (\d+) samples in (\d+) requests, (\d+) bytes \(snappy\)/g,
    )];
    assert.equal(summary.length, 2, r.out);
    for (const m of summary) {
      assert.equal(Number(m[1]), 2, `series: ${m[0]}`);
      assert.equal(Number(m[2]), 2 * per, `samples: ${m[0]}`);
      assert.ok(Number(m[3]) >= 1, `requests: ${m[0]}`);
      assert.ok(Number(m[4]) > 0, `bytes: ${m[0]}`);
    }
    assert.match(
      r.out,
      new RegExp(`to ${new Date(newest - 1000).toISOString()} \\(its last`),
    );
    const central = r.out.split(/^remote write "backup"/m)[0];
    assert.deepEqual(
      seriesLines(central),
      new Map([
        ['a_messages_total{device="gw-17",flow="sensors"}', per],
        ['c_queue_depth{device="gw-17",flow="sensors",port="in"}', per],
      ]),
    );
    // The value of the newest complete tick.
    assert.match(central, new RegExp(` samples, last ${SAMPLES - 1}$`, "m"));
    assert.doesNotMatch(r.out, /b_excluded_depth/);
    assert.ok(!r.log.includes(SECRET), `the token is printed:\n${r.log}`);
    // It reads the history, and says which; it records none.
    assert.ok(
      r.log.includes(`reading the metric history in ${join(dir, "history")}`),
      r.log,
    );
    assert.doesNotMatch(r.log, /metric history every/);
    assert.equal(requests, 0, "requests the receiver got");
    assert.ok(
      !existsSync(join(dir, "remote_write")),
      "a cursor folder written by a dry run",
    );
  },
);

test(
  "weir remote-write --dry-run --since counts only the samples of the last span",
  { timeout: 30_000 },
  async () => {
    const file = config("one.json", [destination("central", "/api/v1/write")]);
    const r = await dryRun(file, "--since", "10s");
    assert.equal(r.code, 0, r.log);
    // (newest - 10 s, newest - 1 s]: 9 ticks of each series.
    assert.match(r.out, /the last 10 s of the history/);
    assert.match(r.out, / 2 series, 18 samples in /);
    assert.deepEqual(
      [...seriesLines(r.out).values()],
      [9, 9],
    );
    assert.equal(requests, 0, "requests the receiver got");
    assert.ok(!existsSync(join(dir, "remote_write")), "a cursor folder");
  },
);

test(
  "weir remote-write --dry-run --since longer than 100 years exits 2 naming the flag and the value, and sends nothing",
  { timeout: 30_000 },
  async () => {
    const file = config("one.json", [destination("central", "/api/v1/write")]);
    // 3.6e26 ms: no safe integer, no time the history can look back to.
    const r = await dryRun(file, "--since", "99999999999999999999h");
    assert.equal(r.code, 2, r.log);
    assert.match(
      r.log,
      /--since is longer than 100 years \(3153600000000 ms\), the longest it may be, received "99999999999999999999h"/,
    );
    assert.equal(r.out, "");
    assert.equal(requests, 0, "requests the receiver got");
  },
);

test(
  "weir remote-write --dry-run --name shows only the destination of that name",
  { timeout: 30_000 },
  async () => {
    const file = config("two.json", [
      destination("central", "/central/api/v1/write"),
      destination("backup", "/backup/api/v1/write"),
    ]);
    const r = await dryRun(file, "--name", "backup");
    assert.equal(r.code, 0, r.log);
    assert.match(r.out, /^remote write "backup" -> /m);
    assert.doesNotMatch(r.out, /"central"/);
    assert.doesNotMatch(r.out, /\/central\//);
    const unknown = await dryRun(file, "--name", "elsewhere");
    assert.equal(unknown.code, 2, unknown.log);
    assert.match(
      unknown.log,
      /no remote write destination is named "elsewhere"/,
    );
    assert.equal(requests, 0, "requests the receiver got");
  },
);

test(
  "weir remote-write without --dry-run exits 2 with a sentence saying to add it",
  { timeout: 30_000 },
  async () => {
    const r = await weir([
      "remote-write",
      "--remote-write",
      `${url}/api/v1/write`,
      "--db",
      db,
    ]);
    assert.equal(r.code, 2, r.log);
    assert.match(
      r.log,
      /remote-write only shows what would be sent: add --dry-run/,
    );
    assert.equal(r.out, "");
    assert.equal(requests, 0, "requests the receiver got");
  },
);

test(
  "weir remote-write --dry-run exits 2 naming the variable when a destination's token variable is not set",
  { timeout: 30_000 },
  async () => {
    const file = config("one.json", [destination("central", "/api/v1/write")]);
    const r = await weir(
      ["remote-write", "--dry-run", "--config", file, "--db", db],
      {},
    );
    assert.equal(r.code, 2, r.log);
    assert.match(
      r.log,
      /remote write "central": the variable RW_TOKEN is not set/,
    );
    assert.equal(r.out, "");
  },
);

test(
  "weir remote-write --dry-run exits 2 when there is no destination",
  { timeout: 30_000 },
  async () => {
    const r = await weir(["remote-write", "--dry-run", "--db", db]);
    assert.equal(r.code, 2, r.log);
    assert.match(
      r.log,
      /no remote write destination: give --remote-write URL or a remoteWrite list/,
    );
    assert.equal(r.out, "");
  },
);

test(
  "weir remote-write --dry-run exits 2 naming the history's folder when another process holds it",
  { timeout: 30_000 },
  async () => {
    const history = join(dir, "history");
    const store = await HistoryStore.open({ dir: history });
    try {
      const r = await weir([
        "remote-write",
        "--dry-run",
        "--remote-write",
        `${url}/api/v1/write`,
        "--db",
        db,
      ]);
      assert.equal(r.code, 2, r.log);
      assert.ok(
        r.log.includes(`cannot open the metric history in "${history}"`),
        r.log,
      );
      assert.match(r.log, new RegExp(`in use by process ${process.pid}`));
      // The command refuses --no-history: the advice must not offer it.
      assert.doesNotMatch(r.log, /--no-history/);
      assert.match(r.log, /stop the process that holds it/);
      assert.equal(r.out, "");
    } finally {
      await store.close();
    }
    assert.equal(requests, 0, "requests the receiver got");
  },
);

test(
  "weir remote-write --dry-run exits 2 saying there is no history in a folder that holds none, and creates nothing",
  { timeout: 30_000 },
  async () => {
    const empty = mkdtempSync(join(tmpdir(), "weir-rw-dry-empty-"));
    const missing = join(empty, "nowhere");
    try {
      for (const dataDir of [missing, empty]) {
        const r = await weir([
          "remote-write",
          "--dry-run",
          "--remote-write",
          `${url}/api/v1/write`,
          "--data-dir",
          dataDir,
        ]);
        assert.equal(r.code, 2, r.log);
        assert.match(r.log, /no metric history in ".*": nothing to send/);
        assert.equal(r.out, "");
      }
      assert.equal(existsSync(missing), false, "the missing folder was made");
      assert.deepEqual(
        readdirSync(empty),
        [],
        "files made in the empty folder",
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    assert.equal(requests, 0, "requests the receiver got");
  },
);
