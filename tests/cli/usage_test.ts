/**
 * The weir command as an operator meets it: help on every subcommand, the
 * version, settings from flags, variables and a config file, and bad usage
 * answered with one sentence, a hint and exit code 2.
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { versionLine } from "../../src/cli/main.ts";
import { VERSION } from "../../src/version.ts";
import { cli, killLeftovers, startServe, startWeir } from "./_weir.ts";

const COMMANDS = ["serve", "run", "validate", "components", "version", "demo"];

test("weir --help lists every command; each command's --help has its usage, options and examples", async () => {
  const top = await cli(["--help"]);
  assert.equal(top.code, 0);
  for (const c of COMMANDS) assert.match(top.out, new RegExp(`^  ${c} `, "m"));
  for (const c of COMMANDS) {
    for (const args of [[c, "--help"], [c, "-h"], ["help", c]]) {
      const r = await cli(args);
      assert.equal(r.code, 0, args.join(" "));
      assert.match(r.out, new RegExp(`^Usage: weir ${c}`), args.join(" "));
      assert.match(r.out, /\nOptions:\n/);
      const examples = r.out.split("\nExamples:\n")[1];
      assert.ok(examples, `${c}: examples`);
      for (const line of examples.trim().split("\n")) {
        assert.match(line, /weir /, `${c}: an example runs weir`);
      }
    }
  }
  // serve documents every setting with its variable and default.
  const serve = (await cli(["serve", "--help"])).out;
  for (
    const [flag, env] of [
      ["--host", "WEIR_HOST"],
      ["--port", "WEIR_PORT"],
      ["--db", "WEIR_DB"],
      ["--token", "WEIR_TOKEN"],
      ["--token-file", "WEIR_TOKEN_FILE"],
      ["--metrics-namespace", "WEIR_METRICS_NAMESPACE"],
      ["--log-level", "WEIR_LOG_LEVEL"],
      ["--log-format", "WEIR_LOG_FORMAT"],
      ["--config", "WEIR_CONFIG"],
    ]
  ) {
    assert.match(serve, new RegExp(`^  ${flag} `, "m"));
    assert.ok(serve.includes(env), `${flag}: ${env}`);
  }
});

test("weir version and --version print the version and the runtime", async () => {
  for (const args of [["version"], ["--version"], ["serve", "--version"]]) {
    const r = await cli(args);
    assert.equal(r.code, 0);
    assert.equal(r.out, versionLine());
  }
  assert.match(
    versionLine(),
    new RegExp(`^weir ${VERSION.replaceAll(".", "\\.")} \\((deno|bun) \\d`),
  );
});

test("weir: bad usage is exit 2 with a sentence that names the problem", async () => {
  const cases: [string[], RegExp][] = [
    [["srve"], /^unknown command "srve"; did you mean "serve"\?/],
    [
      ["serve", "--prot", "1"],
      /^unknown option "--prot"; did you mean --port\?$/,
    ],
    [
      ["run", "--db", "x.db", "a.fbp"],
      /^weir run does not take --db \(weir serve and weir remote-write do\)$/,
    ],
    [["serve", "--port"], /^--port needs a value, e\.g\. --port 9464$/],
    [
      ["run", "x.fbp", "--metrics"],
      /^--metrics needs a value, e\.g\. --metrics 127\.0\.0\.1:9464$/,
    ],
    [
      ["demo", "--no-metrics=yes"],
      /^--no-metrics takes no value, received "yes"$/,
    ],
    [["run"], /^run needs a graph file, e\.g\. weir run flows\/etl\.fbp$/],
    [["run", "a.fbp", "b.fbp"], /^run takes one graph file, received 2/],
    [
      ["run", "/nonexistent/a.fbp"],
      /^cannot read "\/nonexistent\/a\.fbp": no such file$/,
    ],
    [
      ["run", "--log-level", "loud", "a.fbp"],
      /^--log-level must be one of debug, info, warn, error, received "loud"$/,
    ],
    [["components", "extra"], /^components takes no arguments$/],
    [["version", "extra"], /^version takes no arguments$/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, message, args.join(" "));
  }
  const r = await cli(["run", "--nope"]);
  assert.equal(r.error?.command, "run", "the hint points to weir run --help");
});

/** Runs weir expecting it to exit at once; resolves with its code and stderr. */
async function failed(
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number | null; err: string }> {
  const w = startWeir(args, {
    env: env ? { ...process.env, ...env } : undefined,
  });
  const { code } = await w.exited;
  return { code, err: w.log() };
}

test(
  "weir serve: a port in use, an unreadable database, a missing graph or a bad variable is one sentence and a hint, exit 2, no stack trace",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-usage-"));
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const garbage = join(dir, "garbage.db");
      writeFileSync(garbage, "this is not a database, it is a text file\n");
      const cases: [string[], Record<string, string> | undefined, RegExp][] = [
        [
          ["serve", "--port", `${port}`, "--db", ":memory:"],
          undefined,
          new RegExp(
            `^weir: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use; choose another with --port \\(0 picks a free one\\)$`,
          ),
        ],
        [
          // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a host.
          ["serve", "--host", "192.0.2.1", "--port", "0", "--db", ":memory:"],
          undefined,
          /^weir: cannot listen on 192\.0\.2\.1:0: address not available on this machine; choose another with --host \(127\.0\.0\.1: this machine only, 0\.0\.0\.0: every interface\)$/,
        ],
        [
          ["serve", "--port", "0", "--db", garbage],
          undefined,
          /^weir: Cannot open flow database .*garbage\.db: file is not a database; choose another file with --db PATH/,
        ],
        [
          ["serve", "--port", "0", "--db", join(dir, "no", "such", "x.db")],
          undefined,
          /^weir: Cannot open flow database .*x\.db: unable to open database file \(does its folder exist/,
        ],
        [
          ["serve", "--port", "0", "--db", ":memory:", join(dir, "nope.fbp")],
          undefined,
          /^weir: cannot read ".*nope\.fbp": no such file$/,
        ],
        [
          ["serve", "--db", ":memory:"],
          { WEIR_PORT: "port" },
          /^weir: WEIR_PORT must be a port number from 0 to 65535, received "port"$/,
        ],
        [
          ["serve", "--bogus"],
          undefined,
          /^weir: unknown option "--bogus"$/,
        ],
      ];
      for (const [args, env, message] of cases) {
        const r = await failed(args, env);
        assert.equal(r.code, 2, `${args.join(" ")}:\n${r.err}`);
        const lines = r.err.trimEnd().split("\n");
        assert.equal(lines.length, 2, r.err);
        assert.match(lines[0], message);
        assert.equal(lines[1], "Run 'weir serve --help' for usage.");
      }
      assert.equal(existsSync(join(dir, "weir.db")), false);
    } finally {
      busy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve takes each setting from its flag, else its variable, else the config file (db from the file's folder)",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-config-"));
    try {
      const config = join(dir, "weir.json");
      writeFileSync(
        config,
        JSON.stringify({
          port: 1,
          db: "from-file.db",
          logLevel: "debug",
          metricsNamespace: "edge",
          drainTimeout: "7s",
        }),
      );
      const w = await startServe(["--drain-timeout", "9s"], {
        env: {
          ...process.env,
          WEIR_CONFIG: config,
          WEIR_PORT: "0",
          WEIR_LOG_FORMAT: "json",
        },
        cwd: tmpdir(),
      });
      try {
        const sourceOf = (key: string) =>
          w.records().find((r) => r.setting === key)?.source;
        assert.equal(sourceOf("port"), "env");
        assert.equal(sourceOf("db"), "file");
        assert.equal(sourceOf("logLevel"), "file");
        assert.equal(sourceOf("drainTimeoutMs"), "flag");
        assert.equal(sourceOf("host"), "default");
        assert.match(w.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.notEqual(w.url, "http://127.0.0.1:1");
        const metrics = await (await fetch(`${w.url}/metrics`)).text();
        assert.match(metrics, /^edge_flows_active 0$/m);
        assert.doesNotMatch(metrics, /^weir_flows_active/m);
        process.kill(w.child.pid!, "SIGTERM");
        assert.equal((await w.exited).code, 0, w.log());
        assert.ok(
          w.records().some((r) =>
            r.msg.includes("draining flows (up to 9000 ms)")
          ),
          w.log(),
        );
        assert.ok(existsSync(join(dir, "from-file.db")), "db beside the file");
      } finally {
        killLeftovers();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: a scope typo or a missing token file is one sentence naming it, exit 2, never the secret",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-usage-"));
    const secret = "s3cret-0123456789abcdef";
    try {
      const bad = join(dir, "tokens");
      writeFileSync(bad, `# ops\nread:${secret}-ok\nREAD,write:${secret}\n`);
      const cases: [string[], Record<string, string> | undefined, RegExp][] = [
        [
          ["serve", "--port", "0", "--db", ":memory:"],
          { WEIR_TOKEN: `Read:${secret}` },
          /^weir: WEIR_TOKEN: unknown scope "Read"; scopes are read, write, metrics, in /,
        ],
        [
          [
            "serve",
            "--port",
            "0",
            "--db",
            ":memory:",
            "--token",
            `read,wirte:${secret}`,
          ],
          undefined,
          /^weir: --token: unknown scope "wirte"; scopes are read, write, metrics, in /,
        ],
        [
          ["serve", "--port", "0", "--db", ":memory:", "--token-file", bad],
          undefined,
          /^weir: --token-file: ".*tokens" line 3: unknown scope "READ"; scopes are read, write, metrics, in /,
        ],
        [
          ["serve", "--port", "0", "--db", ":memory:"],
          { WEIR_TOKEN_FILE: join(dir, "nope") },
          /^weir: WEIR_TOKEN_FILE: cannot read the token file ".*nope": no such file$/,
        ],
      ];
      for (const [args, env, message] of cases) {
        const r = await failed(args, env);
        assert.equal(r.code, 2, `${args.join(" ")}:\n${r.err}`);
        const lines = r.err.trimEnd().split("\n");
        assert.equal(lines.length, 2, r.err);
        assert.match(lines[0], message);
        assert.ok(!r.err.includes("s3cret"), r.err);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve --token-file: its tokens are accepted, and no secret reaches a log line or an API answer",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-usage-"));
    const reader = "r3ader-0123456789abcdef";
    const admin = "adm1n-0123456789abcdef";
    try {
      const file = join(dir, "tokens");
      writeFileSync(file, `# dashboard\nread:${reader}\n\n${admin}\n`);
      const w = await startServe(
        ["--port", "0", "--db", ":memory:", "--log-level", "debug"],
        { env: { ...process.env, WEIR_TOKEN_FILE: file } },
      );
      try {
        const get = (token?: string, method = "GET") =>
          fetch(`${w.url}/flows`, {
            method,
            headers: {
              ...(token ? { authorization: `Bearer ${token}` } : {}),
              ...(method === "POST"
                ? { "content-type": "application/json" }
                : {}),
            },
            ...(method === "POST" ? { body: "{}" } : {}),
          });
        const answers: string[] = [];
        for (
          const [token, method, status] of [
            [reader, "GET", 200],
            [admin, "GET", 200],
            [undefined, "GET", 401],
            [`${reader}x`, "GET", 401],
            [reader, "POST", 403],
          ] as const
        ) {
          const res = await get(token, method);
          answers.push(await res.text());
          assert.equal(res.status, status, `${method} ${token}`);
        }
        const log = w.log();
        assert.match(log, /fileTokens = 2 token\(s\) \(env\)/);
        for (const text of [...answers, log]) {
          assert.ok(
            !text.includes("r3ader") && !text.includes("adm1n"),
            text,
          );
        }
      } finally {
        process.kill(w.child.pid!, "SIGTERM");
        await w.exited;
      }
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("weir serve: --listen and a --host or --port that says otherwise are refused, naming both; --metrics beside --no-metrics too", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["serve", "--listen", "127.0.0.1:0", "--port", "5"],
      /^--listen 127\.0\.0\.1:0 and --port 5 disagree on the port \(0 and 5\); give one of them$/,
    ],
    [
      ["serve", "--port", "5", "--listen", "127.0.0.1:0"],
      /^--listen 127\.0\.0\.1:0 and --port 5 disagree on the port/,
    ],
    [
      ["serve", "--host", "0.0.0.0", "--listen", "127.0.0.1:9464"],
      /^--listen 127\.0\.0\.1:9464 and --host 0\.0\.0\.0 disagree on the address \(127\.0\.0\.1 and 0\.0\.0\.0\); give one of them$/,
    ],
    [
      ["demo", "--metrics", "127.0.0.1:0", "--no-metrics"],
      /^--metrics 127\.0\.0\.1:0 and --no-metrics contradict each other; give one$/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, message, args.join(" "));
    assert.equal(r.error?.command, args[0], "the hint points to its help");
  }
});
