import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { foldAddressFlags } from "../../src/cli/parse_args.ts";
import {
  misspeltVariables,
  resolveSettings,
  SettingsError,
} from "../../src/cli/settings.ts";

const TOKEN = "0123456789abcdef0123";

function withConfig(
  data: unknown,
  fn: (file: string, dir: string) => void,
): void {
  const dir = mkdtempSync(join(tmpdir(), "weir-settings-"));
  try {
    const file = join(dir, "weir.json");
    writeFileSync(
      file,
      typeof data === "string" ? data : JSON.stringify(data),
    );
    fn(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("resolveSettings() takes a flag over its variable, the variable over the file, the file over the default", () => {
  withConfig(
    { host: "0.0.0.0", port: 7000, logLevel: "warn", drainTimeout: "30s" },
    (file) => {
      const r = resolveSettings(
        { "--config": [file], "--port": ["8000"] },
        { WEIR_PORT: "9000", WEIR_LOG_LEVEL: "debug" },
      );
      assert.equal(r.settings.port, 8000);
      assert.equal(r.sources.port, "flag");
      assert.equal(r.settings.logLevel, "debug");
      assert.equal(r.sources.logLevel, "env");
      assert.equal(r.settings.host, "0.0.0.0");
      assert.equal(r.sources.host, "file");
      assert.equal(r.settings.drainTimeoutMs, 30_000);
      assert.equal(r.settings.db, "weir.db");
      assert.equal(r.sources.db, "default");
      assert.equal(r.configFile, file);
    },
  );
});

test("resolveSettings() fills every default with no flag, variable or file", () => {
  const r = resolveSettings({}, {});
  assert.deepEqual(r.settings, {
    host: "127.0.0.1",
    port: 9464,
    db: "weir.db",
    tokens: [],
    metricsNamespace: "weir",
    logLevel: "info",
    logFormat: "auto",
    drainTimeoutMs: 5000,
    fileTokens: [],
    history: null,
    historyIntervalMs: 1000,
    dataDir: null,
    historyRetentionMs: {},
    historyMaxBytes: 256 * 2 ** 20,
    historyFlushIntervalMs: 10_000,
    historyInclude: [],
    historyExclude: [],
    remoteWrite: [],
    safeMode: false,
    maxCapacity: 100_000,
    expressionTimeoutMs: 1000,
    expressionMaxDepth: 1000,
    stallThresholdMs: 2000,
    flowBytesBudget: 64 * 2 ** 20,
    allowExec: [],
    allowHosts: null,
    components: null,
    secretsDir: null,
    secretEnv: [],
  });
  assert.ok(Object.values(r.sources).every((s) => s === "default"));
  assert.equal(r.configFile, undefined);
});

test("resolveSettings() reads the config file named by WEIR_CONFIG; --config wins", () => {
  withConfig({ port: 7001 }, (file, dir) => {
    assert.equal(
      resolveSettings({}, { WEIR_CONFIG: file }).settings.port,
      7001,
    );
    const other = join(dir, "other.json");
    writeFileSync(other, '{"port": 7002}');
    assert.equal(
      resolveSettings({ "--config": [other] }, { WEIR_CONFIG: file })
        .settings.port,
      7002,
    );
  });
});

test("resolveSettings() takes a relative db path in the config file from the file's folder", () => {
  withConfig({ db: "data/flows.db" }, (file, dir) => {
    assert.equal(
      resolveSettings({ "--config": [file] }, {}).settings.db,
      join(dir, "data", "flows.db"),
    );
  });
  withConfig({ db: ":memory:" }, (file) => {
    assert.equal(
      resolveSettings({ "--config": [file] }, {}).settings.db,
      ":memory:",
    );
  });
  // A relative path from a flag or variable stays relative to the cwd.
  assert.equal(resolveSettings({}, { WEIR_DB: "x.db" }).settings.db, "x.db");
});

test("resolveSettings(): every --token counts; WEIR_TOKEN holds several, space-separated; a flag replaces the variable", () => {
  const other = "fedcba9876543210fedc";
  let r = resolveSettings({}, { WEIR_TOKEN: `read:${TOKEN}  ${other}` });
  assert.deepEqual(r.settings.tokens, [
    { token: TOKEN, scopes: ["read"] },
    { token: other, scopes: ["read", "write", "metrics", "in"] },
  ]);
  r = resolveSettings(
    { "--token": [`metrics:${TOKEN}`, other] },
    { WEIR_TOKEN: "ignored-because-of-the-flags" },
  );
  assert.deepEqual(r.settings.tokens.map((t) => t.token), [TOKEN, other]);
  assert.equal(r.sources.tokens, "flag");
  withConfig({ tokens: [`read,write:${TOKEN}`] }, (file) => {
    const t = resolveSettings({ "--config": [file] }, {}).settings.tokens;
    assert.deepEqual(t, [{ token: TOKEN, scopes: ["read", "write"] }]);
  });
});

test("resolveSettings() names the flag, variable or file key of a bad value, and what it must be", () => {
  const cases: [
    Record<string, string[]>,
    Record<string, string>,
    RegExp,
  ][] = [
    [
      { "--port": ["80x"] },
      {},
      /^--port must be a port number from 0 to 65535, received "80x"$/,
    ],
    [{}, { WEIR_PORT: "70000" }, /^WEIR_PORT must be a port number/],
    [
      { "--log-level": ["loud"] },
      {},
      /^--log-level must be one of debug, info, warn, error, received "loud"$/,
    ],
    [
      {},
      { WEIR_LOG_FORMAT: "xml" },
      /^WEIR_LOG_FORMAT must be one of auto, text, json/,
    ],
    [
      { "--metrics-namespace": ["9lives"] },
      {},
      /^--metrics-namespace must be letters, digits and underscores/,
    ],
    [
      {},
      { WEIR_DRAIN_TIMEOUT: "soon" },
      /^WEIR_DRAIN_TIMEOUT must be a duration/,
    ],
    [
      // Past the longest timer a drain would time out at once.
      { "--drain-timeout": ["1000h"] },
      {},
      /^--drain-timeout must be a duration up to 2147483647 ms \(about 24\.8 days, the longest timer\).*, received "1000h"$/,
    ],
    [
      // Seconds meant, milliseconds read: a drain of 30 ms.
      { "--drain-timeout": ["30"] },
      {},
      /^--drain-timeout needs a unit for a value under 100: 30 alone would be 30 ms; write "30s" for seconds, or "30ms", received "30"$/,
    ],
    [
      {},
      { WEIR_EXPRESSION_TIMEOUT: "2" },
      /^WEIR_EXPRESSION_TIMEOUT needs a unit for a value under 100: 2 alone would be 2 ms; write "2s" for seconds, or "2ms"/,
    ],
    [
      { "--token": ["short"] },
      {},
      /^--token: it must be at least 16 characters long/,
    ],
    [
      {},
      { WEIR_TOKEN: "bogus:0123456789abcdef" },
      /^WEIR_TOKEN: unknown scope "bogus"/,
    ],
  ];
  for (const [flags, env, message] of cases) {
    assert.throws(
      () => resolveSettings(flags, env),
      (e: Error) => e instanceof SettingsError && message.test(e.message),
      JSON.stringify([flags, env]),
    );
  }
});

test("resolveSettings() never shows a rejected token", () => {
  const secret = "read:sec ret-value-that-is-long";
  try {
    resolveSettings({}, { WEIR_TOKEN: secret });
    assert.fail("must throw");
  } catch (e) {
    assert.ok(e instanceof SettingsError);
    assert.doesNotMatch(e.message, /sec|ret-value/);
  }
});

test("resolveSettings() refuses a config file it cannot use, saying which and why", () => {
  withConfig({ port: "eighty" }, (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      new SettingsError(
        `${file}: "port" must be a port number from 0 to 65535, received "eighty"`,
      ),
    );
  });
  withConfig('{"port": 1e400}', (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      new SettingsError(
        `${file}: "port" must be a port number from 0 to 65535, received Infinity (a number out of range)`,
      ),
    );
  });
  withConfig({ prot: 80 }, (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      /has an unknown key "prot"; did you mean "port"\?; known keys: host, port, db, tokens, metricsNamespace, logLevel, logFormat, drainTimeout/,
    );
  });
  withConfig({ drainTimout: "30s" }, (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      /has an unknown key "drainTimout"; did you mean "drainTimeout"\?; known keys: /,
    );
  });
  withConfig("{ port: 80 }", (file) => {
    assert.throws(
      () => resolveSettings({}, { WEIR_CONFIG: file }),
      (e: Error) =>
        e.message ===
          `the config file "${file}" is not valid JSON: expected a key in double quotes, found "p" at line 1, column 3`,
    );
  });
  withConfig("[1, 2]", (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      /must hold a JSON object such as \{"port": 9464\}/,
    );
  });
  assert.throws(
    () => resolveSettings({}, { WEIR_CONFIG: "/nonexistent/weir.json" }),
    new SettingsError(
      'cannot read the config file "/nonexistent/weir.json" (from WEIR_CONFIG): no such file',
    ),
  );
});

test("resolveSettings() refuses a config file that gives a key twice, at any depth, or is empty", () => {
  withConfig('{"drainTimeout": "30s",\n "drainTimeout": "1s"}', (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      new SettingsError(
        `the config file "${file}" at line 2, column 2: key "drainTimeout" appears twice in this object (first at line 1, col 2); JSON keeps only the last value, so remove one`,
      ),
    );
  });
  withConfig(
    '{"historyRetention": {"raw": "1d", "1m": "30d", "raw": "2d"}}',
    (file) => {
      assert.throws(
        () => resolveSettings({ "--config": [file] }, {}),
        /at line 1, column 49: key "raw" appears twice in this object \(first at line 1, col 23\)/,
      );
    },
  );
  withConfig(" \n", (file) => {
    assert.throws(
      () => resolveSettings({ "--config": [file] }, {}),
      new SettingsError(
        `the config file "${file}" is empty: it must hold a JSON object such as {"port": 9464}`,
      ),
    );
  });
});

test("resolveSettings() with only some settings leaves the others' variables and keys unread", () => {
  withConfig({ db: 42 }, (file) => {
    const r = resolveSettings(
      { "--config": [file] },
      { WEIR_TOKEN: "short", WEIR_LOG_LEVEL: "warn" },
      ["logLevel", "drainTimeoutMs"],
    );
    assert.equal(r.settings.logLevel, "warn");
    assert.deepEqual(r.settings.tokens, []);
    assert.equal(r.settings.db, "weir.db");
    assert.equal(r.sources.db, "default");
    // Read in full, the same file and variables are refused.
    assert.throws(
      () =>
        resolveSettings({ "--config": [file] }, {
          WEIR_TOKEN: "short",
        }),
      SettingsError,
    );
  });
});

test("resolveSettings() reads --token-file, WEIR_TOKEN_FILE or tokenFile: one token a line, blank lines and # comments ignored", () => {
  const other = "fedcba9876543210fedc";
  withConfig({}, (config, dir) => {
    const file = join(dir, "tokens");
    writeFileSync(
      file,
      `# the dashboard\n\nread:${TOKEN}\r\n  ${other}  \n# end\n`,
    );
    const want = [
      { token: TOKEN, scopes: ["read"] },
      { token: other, scopes: ["read", "write", "metrics", "in"] },
    ];
    let r = resolveSettings({ "--token-file": [file] }, {});
    assert.deepEqual(r.settings.fileTokens, want);
    assert.equal(r.sources.fileTokens, "flag");
    r = resolveSettings({}, { WEIR_TOKEN_FILE: file });
    assert.deepEqual(r.settings.fileTokens, want);
    assert.equal(r.sources.fileTokens, "env");
    // Relative to the config file's folder, and alongside --token.
    writeFileSync(config, JSON.stringify({ tokenFile: "tokens" }));
    r = resolveSettings({
      "--config": [config],
      "--token": [`metrics:${other}`],
    }, {});
    assert.deepEqual(r.settings.fileTokens, want);
    assert.equal(r.sources.fileTokens, "file");
    assert.deepEqual(r.settings.tokens, [{
      token: other,
      scopes: ["metrics"],
    }]);
  });
});

test("resolveSettings() refuses a token file it cannot use, naming the file and line, never a secret", () => {
  withConfig({}, (_config, dir) => {
    const secret = "Read:s3cret-that-must-stay-hidden";
    const file = join(dir, "tokens");
    writeFileSync(file, `# ok\nread:${TOKEN}\n${secret}\n`);
    const empty = join(dir, "empty");
    writeFileSync(empty, "# nothing yet\n\n");
    const cases: [Record<string, string[]>, Record<string, string>, string][] =
      [
        [
          { "--token-file": [join(dir, "nope")] },
          {},
          `--token-file: cannot read the token file "${
            join(dir, "nope")
          }": no such file`,
        ],
        [
          {},
          { WEIR_TOKEN_FILE: dir },
          `WEIR_TOKEN_FILE: cannot read the token file "${dir}": `,
        ],
        [
          { "--token-file": [file] },
          {},
          `--token-file: "${file}" line 3: unknown scope "Read"; scopes are read, write, metrics`,
        ],
        [
          {},
          { WEIR_TOKEN_FILE: empty },
          `WEIR_TOKEN_FILE: the token file "${empty}" holds no token`,
        ],
      ];
    for (const [flags, env, start] of cases) {
      assert.throws(
        () => resolveSettings(flags, env),
        (e: Error) =>
          e instanceof SettingsError && e.message.startsWith(start) &&
          !e.message.includes("s3cret") && !e.message.includes(TOKEN),
        start,
      );
    }
  });
});

test("resolveSettings(): the limits and budgets come from a flag, a WEIR_ variable or the config file", () => {
  withConfig({ maxCapacity: 500, stallThreshold: "off" }, (file) => {
    const r = resolveSettings(
      {
        "--config": [file],
        "--expression-timeout": ["250ms"],
        "--flow-bytes-budget": ["16MiB"],
      },
      { WEIR_EXPRESSION_MAX_DEPTH: "200", WEIR_STALL_THRESHOLD: "5s" },
    );
    const s = r.settings;
    assert.deepEqual(
      [
        s.maxCapacity,
        s.expressionTimeoutMs,
        s.expressionMaxDepth,
        s.stallThresholdMs,
        s.flowBytesBudget,
      ],
      [500, 250, 200, 5000, 16 * 2 ** 20],
    );
    assert.deepEqual(
      [
        r.sources.maxCapacity,
        r.sources.expressionTimeoutMs,
        r.sources.expressionMaxDepth,
        r.sources.stallThresholdMs,
        r.sources.flowBytesBudget,
      ],
      ["file", "flag", "env", "env", "flag"],
    );
    assert.equal(
      resolveSettings({ "--stall-threshold": ["off"] }, {}).settings
        .stallThresholdMs,
      0,
    );
  });
});

test("resolveSettings() refuses limits and budgets out of range, naming where they came from", () => {
  for (
    const [flags, env, message] of [
      [
        { "--max-capacity": ["0"] },
        {},
        /^--max-capacity must be a whole number from 1 to 10000000/,
      ],
      [
        {},
        { WEIR_MAX_CAPACITY: "1e9" },
        /^WEIR_MAX_CAPACITY must be a whole number/,
      ],
      [
        { "--expression-timeout": ["forever"] },
        {},
        /^--expression-timeout must be a whole number of milliseconds/,
      ],
      [
        { "--expression-max-depth": ["-1"] },
        {},
        /^--expression-max-depth must be a whole number from 1 to 100000/,
      ],
      [
        { "--stall-threshold": ["10ms"] },
        {},
        /^--stall-threshold must be a duration from 100 ms to 1 h/,
      ],
      [
        {},
        { WEIR_FLOW_BYTES_BUDGET: "1KiB" },
        /^WEIR_FLOW_BYTES_BUDGET must be a size of at least 1 MiB/,
      ],
    ] as const
  ) {
    assert.throws(
      () => resolveSettings(flags, env),
      (e: Error) => e instanceof SettingsError && message.test(e.message),
      JSON.stringify([flags, env]),
    );
  }
});

test("resolveSettings() takes remote write's relative secret and TLS files from the config file's folder", () => {
  withConfig(
    {
      remoteWrite: [{
        url: "https://prom.example/api/v1/write",
        bearerTokenFile: "secrets/rw_token",
        tls: {
          caFile: "ca.pem",
          certFile: "/etc/weir/client.pem",
          keyFile: "client.key",
        },
      }],
    },
    (file, dir) => {
      const [d] =
        resolveSettings({ "--config": [file] }, {}).settings.remoteWrite;
      assert.equal(d.bearerTokenFile, join(dir, "secrets", "rw_token"));
      assert.deepEqual(d.tls, {
        caFile: join(dir, "ca.pem"),
        certFile: "/etc/weir/client.pem",
        keyFile: join(dir, "client.key"),
      });
    },
  );
});

test("--listen sets --host and --port as flags: it agrees with them, and beats WEIR_HOST, WEIR_PORT and the config file", () => {
  withConfig({ host: "10.0.0.1", port: 7000 }, (file) => {
    const flags = foldAddressFlags({
      "--listen": ["0.0.0.0:9000"],
      "--port": ["9000"],
      "--config": [file],
    });
    const r = resolveSettings(flags, { WEIR_HOST: "::1", WEIR_PORT: "8000" });
    assert.equal(r.settings.host, "0.0.0.0");
    assert.equal(r.settings.port, 9000);
    assert.equal(r.sources.host, "flag");
    assert.equal(r.sources.port, "flag");
  });
  assert.deepEqual(foldAddressFlags({ "--listen": ["[::1]:0"] }), {
    "--host": ["::1"],
    "--port": ["0"],
  });
});

test("misspeltVariables() names a WEIR_ variable one or two edits from a setting's, and leaves the rest alone", () => {
  assert.deepEqual(
    misspeltVariables({
      WEIR_DRAIN_TIMOUT: "30s",
      WEIR_TOKENS: "x",
      WEIR_LOGLEVEL: "debug",
      WEIR_DRAIN_TIMEOUT: "1s",
      WEIR_CONFIG: "a.json",
      WEIR_TEST_JOBS: "1",
      WEIR_STEP_TIMEOUT: "60",
      WEIR_REQUIRE_INTEGRATION: "1",
      HOME: "/root",
    }),
    [
      { variable: "WEIR_DRAIN_TIMOUT", meant: "WEIR_DRAIN_TIMEOUT" },
      { variable: "WEIR_TOKENS", meant: "WEIR_TOKEN" },
      { variable: "WEIR_LOGLEVEL", meant: "WEIR_LOG_LEVEL" },
    ],
  );
});

test("resolveSettings() takes a short duration with its unit, and a bare number of 100 ms or more, or 0", () => {
  const r = resolveSettings(
    { "--drain-timeout": ["30ms"], "--expression-timeout": ["2s"] },
    {},
  );
  assert.equal(r.settings.drainTimeoutMs, 30);
  assert.equal(r.settings.expressionTimeoutMs, 2000);
  assert.equal(
    resolveSettings({ "--drain-timeout": ["0"] }, {}).settings.drainTimeoutMs,
    0,
  );
  assert.equal(
    resolveSettings({}, { WEIR_DRAIN_TIMEOUT: "5000" }).settings
      .drainTimeoutMs,
    5000,
  );
});
