/**
 * The `allowExec` setting (`--allow-exec`, `WEIR_ALLOW_EXEC`, `allowExec`
 * in the config file): the programs `exec/Run` may start, resolved at
 * start; `weir run` and `weir validate` take it, and without it `exec/Run`
 * is refused with a sentence saying how to allow it.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSettings, SettingsError } from "../../src/cli/settings.ts";
import { cli, startServeInTemp } from "./_weir.ts";

function inTemp(fn: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-exec-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "resolveSettings() reads --allow-exec, WEIR_ALLOW_EXEC or allowExec, names resolved on PATH",
  inTemp((dir) => {
    const echo = resolveSettings({ "--allow-exec": ["echo,/bin/cat"] }, {});
    assert.equal(echo.sources.allowExec, "flag");
    assert.equal(echo.settings.allowExec.length, 2);
    assert.match(echo.settings.allowExec[0], /^\/.*\/echo$/);
    assert.equal(echo.settings.allowExec[1], "/bin/cat");
    // The flag repeats; the variable holds several, comma-separated.
    const repeated = resolveSettings({
      "--allow-exec": ["/bin/echo", "/bin/cat"],
    }, {});
    assert.deepEqual(repeated.settings.allowExec, ["/bin/echo", "/bin/cat"]);
    const env = resolveSettings({}, {
      WEIR_ALLOW_EXEC: "/bin/sleep, /bin/cat",
    });
    assert.deepEqual(env.settings.allowExec, ["/bin/sleep", "/bin/cat"]);
    assert.equal(env.sources.allowExec, "env");
    const file = join(dir, "weir.json");
    writeFileSync(file, JSON.stringify({ allowExec: ["/bin/echo"] }));
    const fromFile = resolveSettings({ "--config": [file] }, {});
    assert.deepEqual(fromFile.settings.allowExec, ["/bin/echo"]);
    assert.equal(fromFile.sources.allowExec, "file");
    assert.deepEqual(resolveSettings({}, {}).settings.allowExec, []);
  }),
);

test("resolveSettings() refuses a program that does not exist, naming where it came from", () => {
  assert.throws(
    () => resolveSettings({ "--allow-exec": ["echo,no-such-tool-here"] }, {}),
    (e: Error) =>
      e instanceof SettingsError &&
      /^--allow-exec must list programs that can run \(names found on PATH, or absolute paths\); "no-such-tool-here": no executable of that name on PATH/
        .test(e.message),
  );
  assert.throws(
    () => resolveSettings({}, { WEIR_ALLOW_EXEC: "./run.sh" }),
    {
      name: "SettingsError",
      message:
        'WEIR_ALLOW_EXEC must list programs that can run (names found on PATH, or absolute paths); "./run.sh": give a name found on PATH or an absolute path, not a relative one, received "./run.sh"',
    },
  );
  assert.throws(
    () => resolveSettings({}, { WEIR_ALLOW_EXEC: "/etc/passwd" }),
    /"\/etc\/passwd": it is not an executable file/,
  );
});

test(
  "weir run --allow-exec runs exec/Run; without it the graph is refused, saying how to allow it",
  inTemp(async (dir) => {
    const output = join(dir, "out.txt");
    const graph = join(dir, "exec.fbp");
    writeFileSync(
      graph,
      `'echo' -> command Run(exec/Run)
'["-n", "hello"]' -> args Run
'go' -> in Run
'stdout' -> expr Pick(flow/Map)
'${output}' -> path Write(fs/WriteLines)
Run out -> in Pick out -> in Write
`,
    );
    const ran = await cli([
      "run",
      "--data-dir",
      dir,
      "--allow-exec",
      "echo",
      graph,
    ]);
    assert.equal(ran.code, 0, ran.err);
    assert.equal(readFileSync(output, "utf8"), "hello\n");
    const refused = await cli(["run", "--data-dir", dir, graph]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.err + refused.out,
      /exec\/Run: running commands is off on this server; the operator allows commands with --allow-exec/,
    );
    const other = await cli([
      "validate",
      "--data-dir",
      dir,
      "--allow-exec",
      "/bin/cat",
      graph,
    ]);
    assert.equal(other.code, 1);
    assert.match(
      other.out,
      new RegExp(
        `^${graph}:1:\\d+: .*command "echo" is not allowed; the server allows: "/bin/cat"`,
      ),
    );
  }),
);

test(
  "weir serve: a posted flow with exec/Run is refused unless --allow-exec lists its command",
  {
    timeout: 60_000,
  },
  async () => {
    const post = (url: string, text: string) =>
      fetch(`${url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: text,
      });
    const flow = (name: string, command: string) =>
      `# @name ${name}\n'${command}' -> command R(exec/Run) out -> in D(core/Drop)\n'x' -> in R\n`;
    const off = await startServeInTemp("weir-exec-off-");
    try {
      const res = await post(off.url, flow("echo", "echo"));
      const body = await res.text();
      assert.equal(res.status, 400, body);
      assert.match(
        body,
        /running commands is off on this server; the operator allows commands with --allow-exec/,
      );
    } finally {
      off.close();
    }
    const on = await startServeInTemp("weir-exec-on-", [
      "--allow-exec",
      "/bin/echo",
    ]);
    try {
      const refused = await post(on.url, flow("rm", "rm"));
      const body = await refused.text();
      assert.equal(refused.status, 400, body);
      assert.match(
        body,
        /command \\"rm\\" is not allowed; the server allows: \\"\/bin\/echo\\"/,
      );
      const accepted = await post(on.url, flow("echo", "echo"));
      assert.ok(accepted.status < 300, await accepted.text());
    } finally {
      on.close();
    }
  },
);
