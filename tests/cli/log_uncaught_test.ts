/**
 * `weir serve` and `weir run` stay up when an operator's component lets an error escape
 * every flow (a rejected promise nobody awaits, a timer that throws): Deno
 * used to end the whole server on it, every flow with it, and Bun to print
 * it unstructured; it is one `error` line of the log, naming where it was
 * thrown, and the other flows go on.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import { test } from "node:test";
import { eventually, startServeInTemp, startWeir } from "./_weir.ts";

const LEAKY_JS = `import { defineComponent } from "weir";

export const Leaky = defineComponent({
  name: "ops/Leaky",
  description: "Forwards, leaving a rejected promise and a throwing timer behind.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  process(v, ctx) {
    Promise.reject(new Error("nobody awaits " + v));
    setTimeout(() => { throw new TypeError("timer threw on " + v); });
    ctx.send("out", v);
  },
});
`;

const UNTIDY_JS = `import { defineComponent } from "weir";

export const Untidy = defineComponent({
  name: "ops/Untidy",
  description: "Forwards; its teardown leaves a rejected promise behind.",
  inPorts: { in: {} },
  outPorts: { out: {} },
  process(v, ctx) {
    ctx.send("out", v);
  },
  teardown() {
    Promise.reject(new Error("teardown left this"));
  },
});
`;

const GRAPHS = {
  "leaky.fbp": `# @name leaky
'200ms' -> interval Tick(core/Interval)
2 -> count Tick
Tick out -> in L(ops/Leaky)
`,
  "steady.fbp": `# @name steady
'100ms' -> interval Tick(core/Interval)
Tick out -> in Out(core/Output)
`,
};

test(
  "weir serve logs an error that escapes an operator's component and goes on serving every other flow",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-uncaught-"));
    writeFileSync(join(dir, "leaky.js"), LEAKY_JS);
    const files = Object.entries(GRAPHS).map(([name, text]) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    });
    let w: Awaited<ReturnType<typeof startServeInTemp>> | undefined;
    try {
      w = await startServeInTemp("weir-uncaught-data-", [
        "--components",
        dir,
        "--log-format",
        "json",
        ...files,
      ]);
      const escaped = await eventually(() => {
        const r = w!.records().filter((r) => r.uncaught !== undefined);
        return Promise.resolve(r.length >= 4 ? r : undefined);
      }, "two rejections and two timer throws logged");
      for (const r of escaped) {
        assert.equal(r.level, "error");
        assert.match(String(r.at), /leaky\.js:\d+:\d+$/);
      }
      assert.deepEqual(
        escaped.map((r) => r.uncaught).sort(),
        ["exception", "exception", "rejection", "rejection"],
      );
      assert.ok(
        escaped.some((r) =>
          /^uncaught error: Error: nobody awaits 0 \(at .*leaky\.js:\d+:\d+\), thrown outside any flow's activation/
            .test(r.msg)
        ),
        JSON.stringify(escaped.map((r) => r.msg)),
      );
      assert.ok(
        escaped.some((r) =>
          r.msg.startsWith("uncaught error: TypeError: timer threw on 0 ")
        ),
      );
      // The server and the other flow are still there.
      // core/Output's lines go to standard output, tagged with their flow.
      const outputs = () =>
        w!.stdout().split("\n").filter((l) =>
          l.startsWith("{") && JSON.parse(l).flow === "steady"
        ).length;
      const before = outputs();
      await eventually(
        () => Promise.resolve(outputs() >= before + 3),
        "the steady flow printed on",
      );
      const health = await fetch(`${w.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const steady = await (await fetch(`${w.url}/flows/steady`)).json() as {
        state: string;
      };
      assert.equal(steady.state, "running");
      assert.equal(w.child.exitCode, null, w.log());
    } finally {
      w?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir run logs an error that escapes an operator's component, runs the flow to its end, and exits 1",
  {
    timeout: 60_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-uncaught-run-"));
    writeFileSync(join(dir, "leaky.js"), LEAKY_JS);
    writeFileSync(
      join(dir, "leaky.fbp"),
      `'20ms' -> interval Tick(core/Interval)
3 -> count Tick
Tick out -> in L(ops/Leaky) out -> in Out(core/Output)
`,
    );
    try {
      const w = startWeir([
        "run",
        "--components",
        dir,
        "--log-format",
        "json",
        join(dir, "leaky.fbp"),
      ]);
      const { code } = await w.exited;
      assert.equal(code, 1, w.log());
      assert.deepEqual(w.stdout().trim().split("\n"), ["0", "1", "2"]);
      const escaped = w.records().filter((r) => r.uncaught !== undefined);
      assert.ok(escaped.every((r) => r.level === "error"));
      assert.match(
        escaped[0].msg,
        /^uncaught error: Error: nobody awaits 0 \(at .*leaky\.js:\d+:\d+\)/,
      );
      // Every one is heard, the last message's too (it escaped as the
      // flow ended), and the last line says why the run fails. On a loaded
      // machine the three ticks can come in one turn of the loop, the flow
      // finishing in it: then every error is heard as weir run stops.
      assert.equal(escaped.length, 6, w.log());
      const last = w.records().at(-1)!;
      assert.equal(last.level, "error");
      assert.match(
        last.msg,
        /^flow "main" finished; exit 1: 6 errors escaped its components( \([1-5] as weir run stopped\)| as weir run stopped)?, logged above as "uncaught error"$/,
      );
      assert.equal(last.escaped, 6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir run logs an error that escapes a component's teardown as it stops, and exits 1 saying so, with or without a metrics server to close",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-uncaught-stop-"));
    writeFileSync(
      join(dir, "tidy.js"),
      UNTIDY_JS,
    );
    writeFileSync(
      join(dir, "untidy.fbp"),
      `'20ms' -> interval Tick(core/Interval)
2 -> count Tick
Tick out -> in U(ops/Untidy) out -> in Out(core/Output)
`,
    );
    try {
      // Without a server the run used to exit 0 before the rejection was
      // heard; closing one, Deno ended with its own trace and Bun printed
      // it unstructured and exited 0.
      for (const extra of [[], ["--metrics", "127.0.0.1:0"]]) {
        const w = startWeir([
          "run",
          "--components",
          dir,
          "--log-format",
          "json",
          ...extra,
          join(dir, "untidy.fbp"),
        ]);
        const { code } = await w.exited;
        assert.equal(code, 1, w.log());
        assert.deepEqual(w.stdout().trim().split("\n"), ["0", "1"]);
        const escaped = w.records().filter((r) => r.uncaught !== undefined);
        assert.equal(escaped.length, 1, w.log());
        assert.equal(escaped[0].level, "error");
        assert.equal(escaped[0].uncaught, "rejection");
        // Said as what it is: weir was stopping, and does not go on.
        assert.match(
          escaped[0].msg,
          /^uncaught error: Error: teardown left this \(at .*tidy\.js:\d+:\d+\), thrown outside any flow's activation \(.*\) as weir was stopping; the shutdown goes on$/,
        );
        const last = w.records().at(-1)!;
        assert.equal(last.level, "error");
        assert.equal(
          last.msg,
          'flow "main" finished; exit 1: 1 error escaped its components as weir run stopped, logged above as "uncaught error"',
          w.log(),
        );
        assert.doesNotMatch(w.log(), /Uncaught \(in promise\)|^error: /m);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve logs an error that escapes a component's teardown at its shutdown as come while it stopped, not promising that weir goes on",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-uncaught-shutdown-"));
    writeFileSync(join(dir, "tidy.js"), UNTIDY_JS);
    writeFileSync(
      join(dir, "untidy.fbp"),
      `# @name untidy
'1s' -> interval Tick(core/Interval) out -> in U(ops/Untidy)
`,
    );
    let w: Awaited<ReturnType<typeof startServeInTemp>> | undefined;
    try {
      w = await startServeInTemp("weir-uncaught-shutdown-data-", [
        "--components",
        dir,
        "--log-format",
        "json",
        join(dir, "untidy.fbp"),
      ]);
      await eventually(async () => {
        const res = await fetch(`${w!.url}/flows/untidy`);
        return (await res.json()).state === "running" || undefined;
      }, "the flow running");
      process.kill(w.child.pid!, "SIGTERM");
      const { code } = await w.exited;
      assert.equal(code, 0, w.log());
      const escaped = w.records().filter((r) => r.uncaught !== undefined);
      assert.equal(escaped.length, 1, w.log());
      assert.match(
        escaped[0].msg,
        /^uncaught error: Error: teardown left this \(at .*tidy\.js:\d+:\d+\), thrown outside any flow's activation \(.*\) as weir was stopping; the shutdown goes on$/,
      );
      assert.doesNotMatch(w.log(), /weir goes on/);
    } finally {
      w?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
