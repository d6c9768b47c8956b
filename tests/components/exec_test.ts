/**
 * `exec/Run` with real programs (`/bin/echo`, `/bin/cat`, `/bin/sleep`,
 * `/bin/sh`): arguments without a shell, standard input from the message,
 * the result out, non-zero exits, timeouts (SIGTERM, then SIGKILL), the
 * output limit, concurrency, a stop ending the child, the child's
 * environment, and the allow list at validation.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  ExecError,
  type ExecResult,
  execRun,
} from "../../src/components/exec.ts";
import { ExecAllowList } from "../../src/components/exec_allow.ts";
import { SecretPolicy } from "../../src/components/_secret.ts";
import { builtins } from "../../src/components/mod.ts";
import { createNetwork } from "../../src/embed.ts";
import { Network } from "../../src/engine/network.ts";
import { meterValues } from "./_meter_values.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import {
  feedOf,
  finishedWithin,
  inTempDir,
  runComponent,
  until,
} from "./_helpers.ts";

const ALLOWED = ["/bin/echo", "/bin/cat", "/bin/sleep", "/bin/sh", "env"];
const Run = execRun(ExecAllowList.resolve(ALLOWED));

const results = (values: unknown[]) => values as ExecResult[];

/**
 * A network named `name` whose process "R" (`run`, with `concurrency`)
 * runs `sh` with `settings` (control port -> value) once per value of
 * `inputs`, fed in order by process "Feed".
 */
const feedRun = (
  name: string,
  run: typeof Run,
  inputs: readonly unknown[],
  settings: Record<string, unknown>,
  concurrency?: number,
) =>
  new Network({
    name,
    processes: [
      { name: "R", component: run, concurrency },
      { name: "Feed", component: feedOf(inputs) },
    ],
    connections: [{
      from: { process: "Feed", port: "out" },
      to: { process: "R", port: "in" },
    }],
    initials: [
      { data: "sh", to: { process: "R", port: "command" } },
      ...Object.entries(settings).map(([port, data]) => ({
        data,
        to: { process: "R", port },
      })),
    ],
  });

test("exec/Run passes each argument as it is, without a shell", async () => {
  const { outputs, errors } = await runComponent(Run, {
    iips: { command: "echo", args: ["-n", "$HOME", "*", "a b"] },
    input: [null],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(results(outputs.out), [
    { code: 0, stdout: "$HOME * a b", stderr: "", signal: null },
  ]);
});

test("exec/Run writes the message to standard input: text, bytes, JSON, nothing", async () => {
  const { outputs } = await runComponent(Run, {
    iips: { command: "/bin/cat" },
    input: ["héllo\n", new TextEncoder().encode("bytes"), { a: 1 }, null],
  });
  assert.deepEqual(results(outputs.out).map((r) => r.stdout), [
    "héllo\n",
    "bytes",
    '{"a":1}',
    "",
  ]);
});

test("exec/Run sends a non-zero exit on out with its code and stderr", async () => {
  const { outputs, errors } = await runComponent(Run, {
    iips: { command: "sh", args: ["-c", "echo out; echo oops >&2; exit 3"] },
    input: [null],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(results(outputs.out), [
    { code: 3, stdout: "out\n", stderr: "oops\n", signal: null },
  ]);
});

test("exec/Run with errorOnFailure sends a non-zero exit to error, the result as its cause", async () => {
  const { outputs, errors } = await runComponent(Run, {
    iips: {
      command: "sh",
      args: ["-c", "echo oops >&2; exit 3"],
      errorOnFailure: true,
    },
    input: [null, null],
  });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 2);
  assert.match(errors[0].message, /"sh" exited with code 3: oops/);
  const cause = errors[0].cause as ExecError;
  assert.ok(cause instanceof ExecError);
  assert.deepEqual(cause.result, {
    code: 3,
    stdout: "",
    stderr: "oops\n",
    signal: null,
  });
});

test(
  "exec/Run ends a run past its timeout with SIGTERM and fails the message as a timeout",
  {
    timeout: 15_000,
  },
  async () => {
    const { outputs, errors } = await runComponent(Run, {
      iips: { command: "sleep", args: ["30"], timeout: "100ms" },
      input: [null],
    });
    assert.deepEqual(outputs.out, []);
    assert.match(
      errors[0].message,
      /"sleep" timed out after 100 ms and was ended with SIGTERM/,
    );
    const cause = errors[0].cause as ExecError;
    assert.equal(cause.reason, "timeout");
    assert.equal(cause.result.signal, "SIGTERM");
  },
);

test(
  "exec/Run sends SIGKILL after killGrace to a program that ignores SIGTERM",
  {
    timeout: 15_000,
  },
  async () => {
    const { errors } = await runComponent(Run, {
      iips: {
        command: "sh",
        // The ignored SIGTERM is inherited by sleep too.
        args: ["-c", "trap '' TERM; sleep 30"],
        // Time for the shell to set its trap even on a loaded host.
        timeout: "1s",
        killGrace: "100ms",
      },
      input: [null],
    });
    assert.match(
      errors[0].message,
      /timed out after 1000 ms and was ended with SIGKILL/,
    );
    assert.equal((errors[0].cause as ExecError).result.signal, "SIGKILL");
  },
);

/** Whether process `pid` is gone (a zombie counts as gone: it runs nothing). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** Kills the process whose pid the test's program wrote to `pidFile`, if any (started by the test). */
function killByPidFile(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
  } catch {
    // Gone already.
  }
}

test(
  "exec/Run's timeout ends what the program left running after it exited, holding its output open",
  {
    timeout: 30_000,
  },
  async () => {
    await inTempDir(async (dir) => {
      const pidFile = join(dir, "pid");
      // The shell exits at once; its background sleep keeps stdout open,
      // so the run is not over: the timeout must end the sleep too (it
      // was skipped once the shell had exited, and the run hung).
      const t = runComponent(Run, {
        iips: {
          command: "sh",
          args: ["-c", `sleep 600 & echo $! > ${pidFile}; echo started`],
          timeout: "500ms",
          killGrace: "100ms",
        },
        input: [null],
        timeoutMs: 20_000,
      });
      try {
        const { outputs, errors } = await t;
        assert.deepEqual(outputs.out, []);
        assert.match(errors[0]?.message ?? "", /"sh" timed out after 500 ms/);
        assert.equal((errors[0].cause as ExecError).result.stdout, "started\n");
        const pid = Number(readFileSync(pidFile, "utf8"));
        await until(() => gone(pid), "the background sleep ended");
      } finally {
        // Never leave the sleep behind when the test fails.
        killByPidFile(pidFile);
      }
    });
  },
);

test(
  "exec/Run's timeout ends the run even when a process that left the group holds its output open",
  {
    timeout: 30_000,
  },
  async () => {
    await inTempDir(async (dir) => {
      const pidFile = join(dir, "pid");
      // setsid puts the sleep in a session of its own, out of the run's
      // process group: no kill of the group reaches it, and it holds
      // stdout open for 30 s (the run waited for it before).
      const t = runComponent(Run, {
        iips: {
          command: "sh",
          args: [
            "-c",
            `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 30' & echo hi; sleep 20`,
          ],
          timeout: "500ms",
          killGrace: "100ms",
        },
        input: [null],
        timeoutMs: 15_000,
      });
      try {
        const { outputs, errors } = await t;
        assert.deepEqual(outputs.out, []);
        assert.match(errors[0]?.message ?? "", /"sh" timed out after 500 ms/);
        assert.equal((errors[0].cause as ExecError).result.stdout, "hi\n");
      } finally {
        killByPidFile(pidFile);
      }
    });
  },
);

test("exec/Run ends a program writing more than maxOutput, keeping what fits", {
  timeout: 15_000,
}, async () => {
  const { outputs, errors } = await runComponent(Run, {
    iips: {
      command: "sh",
      args: ["-c", "while :; do echo 0123456789; done"],
      maxOutput: 1000,
    },
    input: [null],
  });
  assert.deepEqual(outputs.out, []);
  assert.match(errors[0].message, /wrote more than maxOutput \(1000 bytes\)/);
  const cause = errors[0].cause as ExecError;
  assert.equal(cause.reason, "failed");
  assert.equal(cause.result.stdout.length, 1000);
});

test(
  "exec/Run runs one program at a time by default, and concurrency at once when set",
  {
    timeout: 20_000,
  },
  async () => {
    await inTempDir(async (dir) => {
      // Fails (exit 9) when another run holds the lock: runs overlapped.
      const lock = join(dir, "lock");
      const exclusive = `mkdir ${lock} || exit 9; sleep 0.05; rmdir ${lock}`;
      const one = await runComponent(Run, {
        iips: { command: "sh", args: ["-c", exclusive] },
        input: [null, null, null, null],
      });
      assert.deepEqual(results(one.outputs.out).map((r) => r.code), [
        0,
        0,
        0,
        0,
      ]);
      // Each run waits until both have started: only runs at once can end
      // (one at a time, the first would wait out its timeout).
      const both =
        `read n; touch ${dir}/$n; until [ -e ${dir}/a ] && [ -e ${dir}/b ]; do sleep 0.01; done`;
      const two = await runComponent(Run, {
        iips: { command: "sh", args: ["-c", both], timeout: "10s" },
        concurrency: 2,
        input: ["a\n", "b\n"],
        timeoutMs: 15_000,
      });
      assert.deepEqual(two.errors, []);
      assert.deepEqual(results(two.outputs.out).map((r) => r.code), [0, 0]);
    });
  },
);

test("exec/Run ends its running program when the network stops", {
  timeout: 15_000,
}, async () => {
  await inTempDir(async (dir) => {
    const pidFile = join(dir, "pid");
    const net = new Network({
      name: "test",
      processes: [{ name: "R", component: Run }],
      connections: [],
      initials: [
        { data: "sh", to: { process: "R", port: "command" } },
        {
          data: ["-c", `echo $$ > ${pidFile}; exec sleep 30`],
          to: { process: "R", port: "args" },
        },
        { data: null, to: { process: "R", port: "in" } },
      ],
    });
    await net.start();
    await until(
      () => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"),
      "the program started",
    );
    const pid = Number(readFileSync(pidFile, "utf8"));
    assert.equal(meterValues(net, "R").exec_running, 1);
    await net.stop();
    await finishedWithin(net, 5000);
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, "the program ended");
  });
});

test("exec/Run gives the program only PATH, HOME, LANG, LC_ALL, TZ, TMPDIR and its env option", async () => {
  process.env.WEIR_TEST_SECRET = "hunter2";
  try {
    const { outputs } = await runComponent(Run, {
      iips: { command: "env", env: { GREETING: "hi" } },
      input: [null],
    });
    const names = results(outputs.out)[0].stdout.trim().split("\n").map((l) =>
      l.slice(0, l.indexOf("="))
    ).sort();
    assert.ok(names.includes("GREETING"));
    assert.ok(!names.includes("WEIR_TEST_SECRET"));
    for (const name of names) {
      assert.ok(
        ["GREETING", "PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"].includes(
          name,
        ),
        `unexpected variable ${name}`,
      );
    }
  } finally {
    delete process.env.WEIR_TEST_SECRET;
  }
});

test("exec/Run refuses env variables that make a program load code of the flow's choosing", async () => {
  const parse = Run.inPorts.env.parse!;
  // An operator allows a script of theirs; a flow must not turn it into
  // any command with BASH_ENV pointing at a file it wrote, nor any program
  // with LD_PRELOAD, nor sneak one in as part of a name ("A=B" sets A).
  for (
    const name of [
      "BASH_ENV",
      "ENV",
      "LD_PRELOAD",
      "LD_LIBRARY_PATH",
      "BASH_FUNC_echo%%",
      "PYTHONPATH",
      "PERL5OPT",
      "NODE_OPTIONS",
      "GCONV_PATH",
      "IFS",
    ]
  ) {
    assert.throws(
      () => parse({ [name]: "/data/evil" }),
      new RegExp(`variable "${name.replace(/[%]/g, "\\$&")}" may not be set`),
      name,
    );
  }
  assert.throws(
    () => parse({ "PYTHONPATH=/data/lib": "" }),
    /not a variable name/,
  );
  assert.throws(() => parse({ LANG: "C\u0000" }), /NUL/);
  assert.throws(() => Run.inPorts.args.parse!(["a\u0000b"]), /NUL/);
  // A program's configuration and the programs it starts: a .gitconfig's
  // core.fsmonitor in a HOME the flow wrote runs a command.
  for (const name of ["HOME", "PATH", "GIT_CONFIG_GLOBAL", "PAGER"]) {
    assert.throws(() => parse({ [name]: "/data" }), /may not be set/, name);
  }
  assert.deepEqual(parse({ LANG: "C", GREETING: "hi", TZ: "UTC" }), {
    LANG: "C",
    GREETING: "hi",
    TZ: "UTC",
  });
  // And it holds at run time: a script allowed by the operator runs
  // without the flow's BASH_ENV.
  await inTempDir(async (dir) => {
    const evil = join(dir, "evil.sh");
    const marker = join(dir, "pwned");
    writeFileSync(evil, `touch ${marker}\n`);
    const { errors } = await runComponent(Run, {
      iips: { command: "sh", args: ["-c", "true"], env: { BASH_ENV: evil } },
      input: [null],
    }).catch((e: Error) => ({ errors: [e] }));
    assert.match(String(errors[0]?.message), /may not be set/);
    assert.equal(existsSync(marker), false);
  });
});

test("exec/Run counts its runs by result, and those running", {
  timeout: 15_000,
}, async () => {
  const net = feedRun("test", Run, ["ok\n", "fail\n", "slow\n", "ok\n"], {
    args: ["-c", "read x; case $x in fail) exit 1;; slow) sleep 30;; esac"],
    timeout: "200ms",
  });
  const errors: string[] = [];
  net.on("error", (e) => errors.push(e.message));
  await net.start();
  assert.equal(await finishedWithin(net, 10_000), "finished");
  assert.equal(errors.length, 1);
  assert.deepEqual(meterValues(net, "R"), {
    'exec_runs_total{result="ok"}': 2,
    'exec_runs_total{result="failed"}': 1,
    'exec_runs_total{result="timeout"}': 1,
    exec_running: 0,
  });
});

const problems = (text: string, exec?: readonly string[]) =>
  validateGraph(loadGraph(text), builtins({ exec })).map((p) =>
    `${p.line ?? ""}:${p.message}`
  );

test("exec/Run is refused at validation when the server allows nothing, saying how to allow it", () => {
  const found = problems(`'echo' -> command R(exec/Run)`);
  assert.equal(found.length, 1);
  assert.match(
    found[0],
    /^1:.*"R".*exec\/Run: running commands is off on this server; the operator allows commands with --allow-exec CMD\[,CMD\.\.\.\] \(or WEIR_ALLOW_EXEC, or "allowExec" in the config file\)/,
  );
});

test("a command the server does not allow is a validation problem naming it and what is allowed", () => {
  const found = problems(
    `'x' -> in R(exec/Run)
'rm' -> command R`,
    ["/bin/echo", "/bin/cat"],
  );
  assert.equal(found.length, 1);
  assert.match(
    found[0],
    /^2:.*exec\/Run: command "rm" is not allowed; the server allows: "\/bin\/echo", "\/bin\/cat"/,
  );
  assert.deepEqual(
    problems(`'echo' -> command R(exec/Run)`, ["/bin/echo"]),
    [],
  );
  assert.deepEqual(
    problems(`'/bin/echo' -> command R(exec/Run)`, ["echo"]),
    [],
  );
  assert.match(
    problems(`'./echo' -> command R(exec/Run)`, ["/bin/echo"])[0],
    /command "\.\/echo" must be a name or an absolute path/,
  );
});

test("a flow's allow.exec narrows the server's list", () => {
  const text = `# @allow exec echo
'cat' -> command C(exec/Run)
'echo' -> command E(exec/Run)`;
  const found = problems(text, ["/bin/echo", "/bin/cat"]);
  assert.equal(found.length, 1);
  assert.match(
    found[0],
    /^2:.*exec\/Run: command "cat" is not in this flow's allow list \(allow.exec: "echo"\)/,
  );
  // A flow listing a program the server refuses gains nothing.
  assert.match(
    problems(`# @allow exec sleep\n'sleep' -> command S(exec/Run)`, [
      "/bin/echo",
    ])[0],
    /command "sleep" is not allowed/,
  );
});

test("a flow's allow.exec is applied when it runs, to a command arriving in a message", async () => {
  const registry = builtins({ exec: ["/bin/echo", "/bin/cat"] });
  const net = createNetwork(
    `# @allow exec echo
'cat' -> data K(core/Kick)
'go' -> in K
K out -> command R(exec/Run)
'x' -> in R`,
    { registry },
  );
  const errors: string[] = [];
  net.on("error", (e) => errors.push(e.message));
  await net.start();
  await finishedWithin(net, 5000);
  // The command is refused; the message then finds no command to run.
  assert.deepEqual(errors, [
    `process "R" failed on in-port "command": exec/Run: command "cat" is not in this flow's allow list (allow.exec: "echo")`,
    `process "R" failed on in-port "in": exec/Run needs a command option, and none was given`,
  ]);
});

test(
  "exec/Run runs at most maxRunning programs at once whatever the concurrency (a flow's concurrency goes to 100,000)",
  { timeout: 30_000 },
  async () => {
    await inTempDir(async (dir) => {
      const capped = execRun(ExecAllowList.resolve(ALLOWED), { maxRunning: 2 });
      // Each run counts the runs alive as it starts (its own folder
      // included); a folder goes before its run ends, and so before its
      // slot is given back.
      const script =
        `mkdir ${dir}/run.$$; ls -d ${dir}/run.* | wc -l; sleep 0.2; rmdir ${dir}/run.$$`;
      const { outputs, errors } = await runComponent(capped, {
        iips: { command: "sh", args: ["-c", script] },
        concurrency: 8,
        input: [1, 2, 3, 4, 5, 6, 7, 8],
        timeoutMs: 25_000,
      });
      assert.deepEqual(errors, []);
      const seen = results(outputs.out).map((r) => Number(r.stdout.trim()));
      assert.equal(seen.length, 8);
      assert.ok(Math.max(...seen) <= 2, `runs alive at once: ${seen}`);
    });
  },
);

test("exec/Run's timeout and killGrace longer than a JavaScript timer are validation problems (they fired at once)", () => {
  // "600h" is 2,160,000,000 ms, past 2^31-1: the timer fired after 1 ms,
  // and every run "timed out after 2160000000 ms" as it started.
  for (const port of ["timeout", "killGrace"]) {
    assert.throws(
      () => Run.inPorts[port].parse!("600h"),
      /expected a duration up to 2147483647 ms \(about 24.8 days\), received string "600h"/,
      port,
    );
    assert.equal(Run.inPorts[port].parse!("596h"), 596 * 3_600_000);
  }
  assert.deepEqual(
    validateGraph(
      loadGraph(`'sleep' -> command R(exec/Run)\n'10000000000' -> timeout R`),
      builtins({ exec: ALLOWED }),
    ).map((p) => p.message).filter((m) => /24\.8 days/.test(m)).length,
    1,
  );
});

test(
  "a flow cannot take every program slot: another flow's run starts while the first flow's slow runs hold three quarters",
  { timeout: 30_000 },
  async () => {
    // 4 slots shared by both flows: the busy flow may hold 3.
    const shared = execRun(ExecAllowList.resolve(ALLOWED), { maxRunning: 4 });
    const flow = (name: string, inputs: string[], concurrency: number) =>
      feedRun(name, shared, inputs, {
        args: ["-c", "read x; [ $x = slow ] && sleep 2; echo $x"],
      }, concurrency);
    const busy = flow("busy", Array(8).fill("slow"), 8);
    const other = flow("other", ["quick"], 1);
    await busy.start();
    await until(
      () => meterValues(busy, "R").exec_running === 3,
      "three busy runs",
      5000,
    );
    await other.start();
    assert.equal(await finishedWithin(other, 10_000), "finished");
    // The quick run went while the busy flow's first three were still
    // sleeping: none of them had ended (before, it waited for the busy
    // flow's first runs to end and give their slots back).
    assert.equal(meterValues(other, "R")['exec_runs_total{result="ok"}'], 1);
    assert.equal(meterValues(busy, "R")['exec_runs_total{result="ok"}'], 0);
    assert.equal(meterValues(busy, "R").exec_running, 3);
    assert.equal(await finishedWithin(busy, 20_000), "finished");
    assert.equal(meterValues(busy, "R")['exec_runs_total{result="ok"}'], 8);
  },
);

test("exec/Run names every refused env variable of the option in one problem", () => {
  const parse = Run.inPorts.env.parse!;
  assert.throws(
    () =>
      parse({
        LANG: "C",
        PATH: "/data/bin",
        LD_PRELOAD: "/data/evil.so",
        BASH_ENV: "/data/evil.sh",
      }),
    (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.equal(
        e.message,
        `variables "PATH", "LD_PRELOAD" and "BASH_ENV" may not be set by a flow: each makes a program load code or settings from a file of the flow's choosing, or start another program`,
      );
      return true;
    },
  );
  // Each kind of refusal, all in the one message.
  assert.throws(
    () => parse({ HOME: "/data", "A=B": "x", "1X": "y", GREETING: "a\u0000b" }),
    /^RangeError: variable "HOME" may not be set by a flow: it makes .*; "A=B" and "1X" are not variable names .*; variable "GREETING" holds a NUL character/,
  );
  // And validation shows them as one problem of the IIP.
  const problems = validateGraph(
    loadGraph(
      `'{"PATH": "/d", "GIT_DIR": "/d", "LANG": "C"}' -> env R(exec/Run)\n'null' -> in R`,
      { format: "fbp" },
    ),
    builtins({ exec: ["/bin/echo"] }),
  ).filter((p) => /may not be set/.test(p.message));
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0].message, /variables "PATH" and "GIT_DIR" may not/);
  assert.equal(problems[0].line, 1);
});

test("exec/Run's secretEnv gives the program variables read from secret references at start, over env, never shown", async () => {
  await inTempDir(async (dir) => {
    writeFileSync(join(dir, "report-key"), "file-SECRET-1\n");
    const secrets = new SecretPolicy({
      dir,
      env: ["REPORT_TOKEN"],
      environment: { REPORT_TOKEN: "env-SECRET-2" },
    });
    const WithSecrets = execRun(ExecAllowList.resolve(ALLOWED), { secrets });
    const { outputs } = await runComponent(WithSecrets, {
      iips: {
        command: "env",
        env: { TOKEN: "placeholder", GREETING: "hi" },
        secretEnv: { KEY: "file:report-key", TOKEN: "env:REPORT_TOKEN" },
      },
      input: [null],
    });
    const lines = results(outputs.out)[0].stdout.trim().split("\n");
    assert.ok(lines.includes("KEY=file-SECRET-1"), lines.join("\n"));
    assert.ok(lines.includes("TOKEN=env-SECRET-2"), lines.join("\n"));
    assert.ok(lines.includes("GREETING=hi"), lines.join("\n"));
    const parse = WithSecrets.inPorts.secretEnv.parse!;
    // A plain value: refused without repeating it.
    assert.throws(
      () => parse({ KEY: "plain-SECRET-3" }),
      (e: Error) =>
        /variable "KEY": .*secret reference.*\(not shown\)/.test(e.message) &&
        !e.message.includes("SECRET-3"),
    );
    // A reference the operator did not allow, a name env refuses too.
    assert.throws(
      () => parse({ KEY: "env:HOME" }),
      /variable "KEY": .*--secret-env HOME/,
    );
    assert.throws(
      () => parse({ LD_PRELOAD: "env:REPORT_TOKEN" }),
      /variable "LD_PRELOAD" may not be set by a flow/,
    );
    assert.throws(() => parse(["x"]), /expected secretEnv as an object/);
    // Without a policy (the default), every reference is refused.
    assert.throws(
      () => Run.inPorts.secretEnv.parse!({ KEY: "env:REPORT_TOKEN" }),
      /--secret-env REPORT_TOKEN/,
    );
  });
});

test("exec/Run: a secret that starts as a shell function stops the flow's start naming its reference, not its value", async () => {
  const WithSecrets = execRun(ExecAllowList.resolve(ALLOWED), {
    secrets: new SecretPolicy({
      env: ["T"],
      environment: { T: "() { SECRET-PART; }" },
    }),
  });
  await assert.rejects(
    runComponent(WithSecrets, {
      iips: { command: "env", secretEnv: { KEY: "env:T" } },
      input: [null],
    }),
    (e: Error) =>
      /Cannot use the secret env:T for variable KEY: it starts as a shell function definition/
        .test(e.message) && !e.message.includes("SECRET-PART"),
  );
});

test("exec/Run: a secret with a NUL stops the flow's start naming its reference, not its value", async () => {
  const WithSecrets = execRun(ExecAllowList.resolve(ALLOWED), {
    secrets: new SecretPolicy({
      env: ["T"],
      environment: { T: "a\0SECRET-PART" },
    }),
  });
  await assert.rejects(
    runComponent(WithSecrets, {
      iips: { command: "env", secretEnv: { KEY: "env:T" } },
      input: [null],
    }),
    (e: Error) =>
      /Cannot use the secret env:T for variable KEY: it holds a NUL character/
        .test(e.message) && !e.message.includes("SECRET-PART"),
  );
});
