import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileSandbox } from "../../src/cli/file_sandbox_setup.ts";
import { historyOptions } from "../../src/cli/history_setup.ts";
import { resolveSettings, SettingsError } from "../../src/cli/settings.ts";
import { cli, localArgs } from "./_weir.ts";

function withConfig(data: unknown, fn: (file: string, dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "weir-history-settings-"));
  try {
    const file = join(dir, "weir.json");
    writeFileSync(file, JSON.stringify(data));
    fn(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("history settings default: on for serve under the database's folder, off for run and demo", () => {
  const { settings } = resolveSettings({}, {});
  assert.equal(settings.history, null);
  assert.equal(settings.historyIntervalMs, 1000);
  assert.equal(settings.dataDir, null);
  assert.deepEqual(settings.historyRetentionMs, {});
  assert.equal(settings.historyMaxBytes, 256 * 2 ** 20);
  assert.equal(settings.historyFlushIntervalMs, 10_000);
  assert.deepEqual(settings.historyInclude, []);
  assert.deepEqual(settings.historyExclude, []);
  assert.deepEqual(historyOptions("serve", settings), {
    intervalMs: 1000,
    maxDiskBytes: 256 * 2 ** 20,
    flushIntervalMs: 10_000,
    dir: resolve("history"),
  });
  assert.equal(historyOptions("run", settings), null);
  assert.equal(historyOptions("demo", settings), null);
  // A database kept in memory: so is the history, unless a data dir is given.
  const memory = { ...settings, db: ":memory:" };
  assert.equal(historyOptions("serve", memory)?.dir, undefined);
  assert.equal(
    historyOptions("serve", { ...memory, dataDir: "/var/lib/weir" })?.dir,
    "/var/lib/weir/history",
  );
  assert.equal(
    historyOptions("serve", { ...settings, db: "/srv/w/flows.db" })?.dir,
    "/srv/w/history",
  );
});

test("history settings: a flag beats its variable, which beats the config file", () => {
  withConfig({
    historyInterval: "5s",
    dataDir: "data",
    history: false,
    historyRetention: { raw: "2d", "1h": "1y" },
    historyMaxBytes: "64MiB",
    historyFlushInterval: 2000,
    historyInclude: ["weir_.*"],
  }, (file, dir) => {
    const fromFile = resolveSettings({ "--config": [file] }, {});
    assert.equal(fromFile.settings.historyIntervalMs, 5000);
    // A relative data dir in the file is taken from the file's folder.
    assert.equal(fromFile.settings.dataDir, join(dir, "data"));
    assert.equal(fromFile.settings.history, false);
    assert.deepEqual(fromFile.settings.historyRetentionMs, {
      raw: 2 * 86_400_000,
      "1h": 365 * 86_400_000,
    });
    assert.equal(fromFile.settings.historyMaxBytes, 64 * 2 ** 20);
    assert.equal(fromFile.settings.historyFlushIntervalMs, 2000);
    assert.deepEqual(fromFile.settings.historyInclude, ["weir_.*"]);
    assert.equal(fromFile.sources.historyIntervalMs, "file");
    assert.equal(historyOptions("serve", fromFile.settings), null);

    const env = {
      WEIR_HISTORY_INTERVAL: "2s",
      WEIR_HISTORY: "on",
      WEIR_DATA_DIR: "/var/lib/weir",
      WEIR_HISTORY_INCLUDE: "weir_process_.* http_.*",
      WEIR_HISTORY_RETENTION: "1m=60d",
    };
    const fromEnv = resolveSettings({ "--config": [file] }, env);
    assert.equal(fromEnv.settings.historyIntervalMs, 2000);
    assert.equal(fromEnv.sources.historyIntervalMs, "env");
    assert.equal(fromEnv.settings.history, true);
    assert.equal(fromEnv.settings.dataDir, "/var/lib/weir");
    assert.deepEqual(fromEnv.settings.historyInclude, [
      "weir_process_.*",
      "http_.*",
    ]);
    assert.deepEqual(fromEnv.settings.historyRetentionMs, {
      "1m": 60 * 86_400_000,
    });

    const fromFlags = resolveSettings({
      "--config": [file],
      "--history-interval": ["500ms"],
      "--no-history": [""],
      "--data-dir": ["/tmp/w"],
      "--history-exclude": [".*_bucket", "http_.*"],
    }, env);
    assert.equal(fromFlags.settings.historyIntervalMs, 500);
    assert.equal(fromFlags.sources.historyIntervalMs, "flag");
    assert.equal(fromFlags.settings.history, false);
    assert.equal(fromFlags.sources.history, "flag");
    assert.equal(fromFlags.settings.dataDir, "/tmp/w");
    // A repeated pattern flag adds up.
    assert.deepEqual(fromFlags.settings.historyExclude, [
      ".*_bucket",
      "http_.*",
    ]);
    assert.equal(
      resolveSettings({ "--history": [""] }, { WEIR_HISTORY: "off" }).settings
        .history,
      true,
    );
  });
});

test("history settings: --history with a run turns it on, in memory unless a data dir is given", () => {
  const on = resolveSettings({ "--history": [""] }, {}).settings;
  assert.deepEqual(historyOptions("run", on), {
    intervalMs: 1000,
    maxDiskBytes: 256 * 2 ** 20,
    flushIntervalMs: 10_000,
  });
  const withDir = resolveSettings({
    "--history": [""],
    "--data-dir": ["/data"],
    "--history-include": ["weir_.*"],
    "--history-retention": ["raw=36h"],
  }, {}).settings;
  assert.deepEqual(historyOptions("demo", withDir), {
    intervalMs: 1000,
    maxDiskBytes: 256 * 2 ** 20,
    flushIntervalMs: 10_000,
    dir: "/data/history",
    include: ["weir_.*"],
    retentionMs: { raw: 36 * 3_600_000 },
  });
});

/** Asserts that these flags and variables fail with a SettingsError matching `message`. */
function bad(
  flags: Record<string, string[]>,
  env: Record<string, string>,
  message: RegExp,
): void {
  assert.throws(
    () => resolveSettings(flags, env),
    (e) => e instanceof SettingsError && message.test(e.message),
    `${JSON.stringify({ flags, env })} should fail with ${message}`,
  );
}

test("history settings: a bad value names its flag, variable or file key, and what it must be", () => {
  bad(
    { "--history-interval": ["5 parsecs"] },
    {},
    /^--history-interval must be a whole number of milliseconds from 100 to 60000.*received "5 parsecs"/,
  );
  bad(
    {},
    { WEIR_HISTORY_INTERVAL: "10ms" },
    /^WEIR_HISTORY_INTERVAL must be .* from 100/,
  );
  bad({}, { WEIR_HISTORY: "maybe" }, /^WEIR_HISTORY must be on or off/);
  bad(
    { "--history-retention": ["raw=forever"] },
    {},
    /^--history-retention must be tier=duration pairs .*"forever" is no duration/,
  );
  bad(
    {},
    { WEIR_HISTORY_RETENTION: "5m=1d" },
    /^WEIR_HISTORY_RETENTION must be tier=duration pairs .*"5m" is no tier/,
  );
  // A bare number would be milliseconds: a raw tier that keeps nothing.
  bad(
    { "--history-retention": ["raw=2"] },
    {},
    /^--history-retention must be tier=duration pairs .*; raw=2 has no unit \(it would be 2 ms\): write it with one, such as raw=2d/,
  );
  withConfig({ historyRetention: { "1m": 30 } }, (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      /"historyRetention" must be tier=duration pairs .*; 1m=30 has no unit/,
    );
  });
  // Which of the two would count? Neither: it is said once.
  bad(
    { "--history-retention": ["raw=1d,1m=30d,raw=2h"] },
    {},
    /^--history-retention must be tier=duration pairs .*"raw" is named twice/,
  );
  bad(
    { "--history-max-bytes": ["12"] },
    {},
    /^--history-max-bytes must be a size of at least 1 MiB/,
  );
  bad(
    {},
    { WEIR_HISTORY_MAX_BYTES: "lots" },
    /^WEIR_HISTORY_MAX_BYTES must be a size/,
  );
  bad(
    { "--history-flush-interval": ["0"] },
    {},
    /^--history-flush-interval must be a whole number of milliseconds from 100/,
  );
  bad(
    {},
    { WEIR_HISTORY_EXCLUDE: "weir_(oops" },
    /^WEIR_HISTORY_EXCLUDE must be regular expressions; "weir_\(oops" is not/,
  );
  bad(
    { "--history": [""], "--no-history": [""] },
    {},
    /--history and --no-history contradict each other/,
  );
  withConfig({ historyInclude: "weir_.*", dataDir: 7 }, (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      (e) =>
        e instanceof SettingsError &&
        e.message.startsWith(`${file}: "dataDir" must be a folder path`),
    );
  });
  withConfig({ historyRetention: { raw: -1 } }, (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      (e) =>
        e instanceof SettingsError &&
        e.message.startsWith(
          `${file}: "historyRetention" must be tier=duration`,
        ),
    );
  });
});

test("weir exits 2 on a bad history setting, naming it", async () => {
  const r = await cli(["serve", "--history-interval", "fast"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--history-interval must be/);
  const p = await cli(["run", "x.fbp", "--history-exclude", "("]);
  assert.equal(p.code, 2);
  assert.match(p.err, /--history-exclude must be regular expressions/);
  const v = await cli(["validate", "--history"]);
  assert.equal(v.code, 2);
  assert.match(v.err, /weir validate does not take --history/);
});

test("weir serve says once where the history cannot be opened, and why", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-hist-file-"));
  try {
    writeFileSync(join(dir, "history"), "");
    const r = await cli(["serve", ...localArgs(dir)]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      `cannot open the metric history in "${
        join(dir, "history")
      }": a file is in the way (it must be a folder); choose another folder with --data-dir or turn it off with --no-history`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("weir serve --help lists the history settings with their variables and defaults", async () => {
  const serve = (await cli(["serve", "--help"])).out;
  assert.match(serve, /--history-interval <duration>/);
  assert.match(serve, /env WEIR_HISTORY, default on/);
  assert.match(
    serve,
    /env WEIR_DATA_DIR, default \.\/data \(of the current folder\) for the files, the --db file's folder for the history/,
  );
  assert.match(serve, /--no-history/);
  const demo = (await cli(["demo", "--help"])).out;
  assert.match(demo, /env WEIR_HISTORY, default off/);
  assert.match(
    demo,
    /env WEIR_DATA_DIR, default \.\/data \(of the current folder\) for the files, none for the history \(in memory\)/,
  );
});

test("weir serve exits 2 when its history cannot be opened, naming the folder and the way out", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-history-settings-"));
  try {
    // A file where the data dir should be: no folder can be made under it.
    const file = join(dir, "not-a-folder");
    writeFileSync(file, "");
    const r = await cli([
      "serve",
      "--port",
      "0",
      "--db",
      ":memory:",
      "--data-dir",
      file,
    ]);
    assert.equal(r.code, 2, r.err);
    assert.match(
      r.err,
      new RegExp(
        `^cannot open the metric history in "${file}/history": .*; choose another folder with --data-dir or turn it off with --no-history$`,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("each command's --help says where files and the history go without --data-dir, as the code resolves them", async () => {
  const { settings } = resolveSettings({}, {});
  // What the code does with --data-dir unset: files under ./data of the
  // current folder for every command; the history beside the --db file for
  // serve (and remote-write), in memory for run and demo.
  for (const command of ["serve", "run", "validate", "demo"]) {
    assert.equal(fileSandbox(command, settings).root, resolve("data"));
  }
  const db = { ...settings, db: "/srv/w/flows.db", history: true };
  assert.equal(historyOptions("serve", db)?.dir, "/srv/w/history");
  assert.equal(historyOptions("run", db)?.dir, undefined);
  assert.equal(historyOptions("demo", db)?.dir, undefined);
  const shown = async (command: string) =>
    /env WEIR_DATA_DIR, default (.*)/.exec(
      (await cli([command, "--help"])).out,
    )?.[1];
  assert.equal(
    await shown("serve"),
    "./data (of the current folder) for the files, the --db file's folder for the history (in memory with --db :memory:)",
  );
  for (const command of ["run", "demo"]) {
    assert.equal(
      await shown(command),
      "./data (of the current folder) for the files, none for the history (in memory)",
    );
  }
  assert.equal(await shown("validate"), "./data (of the current folder)");
  assert.equal(
    await shown("remote-write"),
    "the --db file's folder (its history/)",
  );
  const serve = (await cli(["serve", "--help"])).out;
  assert.match(
    serve,
    /Without --data-dir the two\nfolders differ: flows' files are under \.\/data of the current folder, the\nhistory beside the --db file\./,
  );
});

test("the file sandbox refuses remote write's cursors, which weir serve keeps beside the history", () => {
  const { settings } = resolveSettings({ "--data-dir": ["/srv/weir"] }, {});
  const sandbox = fileSandbox("serve", settings);
  assert.equal(
    sandbox.check("remote_write.txt"),
    "/srv/weir/remote_write.txt",
  );
  assert.throws(
    () => sandbox.check("remote_write/central.cursor"),
    /off-limits to flows/,
  );
});

test("--history-retention, WEIR_HISTORY_RETENTION and historyRetention refuse a retention longer than 100 years, or under 1 ms, naming the setting and the value", () => {
  // 3e30 ms: no safe integer, no time the store can count to.
  bad(
    { "--history-retention": ["raw=99999999999999999999y"] },
    {},
    /^--history-retention must be tier=duration pairs .*; raw=99999999999999999999y is longer than 100 years \(3153600000000 ms\), the longest it may be, received "raw=99999999999999999999y"$/,
  );
  bad(
    {},
    { WEIR_HISTORY_RETENTION: "raw=1d,1h=101y" },
    /^WEIR_HISTORY_RETENTION must be .*; 1h=101y is longer than 100 years/,
  );
  bad(
    { "--history-retention": ["raw=0.4ms"] },
    {},
    /^--history-retention must be .*; raw=0.4ms must be a whole number of milliseconds of at least 1/,
  );
  for (const value of ["99999999999999999999h", "5300w"]) {
    withConfig({ historyRetention: { "1m": value } }, (file) => {
      assert.throws(
        () => resolveSettings({ "--config": [file] }, {}),
        (e) =>
          e instanceof SettingsError &&
          /"historyRetention" must be tier=duration pairs .*; 1m=\S+ is longer than 100 years/
            .test(e.message),
      );
    });
  }
  // The bound itself is taken.
  const { settings } = resolveSettings(
    { "--history-retention": ["1h=100y"] },
    {},
  );
  assert.deepEqual(settings.historyRetentionMs, { "1h": 3_153_600_000_000 });
});
