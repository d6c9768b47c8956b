import { test } from "node:test";
import assert from "node:assert/strict";
import { type AddressInfo, createServer } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  cli,
  eventually,
  killLeftovers,
  startServe,
  startWeir,
} from "./_weir.ts";
import { DEMO_METRICS } from "../../src/cli/demo.ts";
import { SETTINGS } from "../../src/cli/settings.ts";
import process from "node:process";
import { withMachineLock } from "../_machine_lock.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "weir-cli-"));
}

test("weir validate prints every problem as file:line:col: message and exits 1", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "bad.fbp");
    writeFileSync(
      file,
      "'1s' -> interval Tick(core/Interval)\nTick out -> in Log(core/Ouptut)\nTick output -> in Log\n",
    );
    const r = await cli(["validate", file]);
    assert.equal(r.code, 1);
    const lines = r.out.split("\n");
    assert.equal(lines.length, 2);
    assert.match(
      lines[0],
      new RegExp(
        `^${file}:2:\\d+: .*unknown component "core/Ouptut".*did you mean "core/Output"\\?`,
      ),
    );
    assert.match(
      lines[1],
      new RegExp(`^${file}:3:\\d+: .*no out-port "output"`),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("weir validate exits 0 on a valid graph and 2 on a missing file", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "ok.json");
    writeFileSync(
      file,
      JSON.stringify({
        processes: {
          A: { component: "core/Repeat" },
          B: { component: "core/Drop" },
        },
        connections: [{
          src: { process: "A", port: "out" },
          tgt: { process: "B", port: "in" },
        }],
      }),
    );
    assert.equal((await cli(["validate", file])).code, 0);
    const missing = await cli(["validate", join(dir, "nope.fbp")]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read ".*nope\.fbp": no such file/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("weir validate, run and serve refuse a device, a folder or a file over 16 MiB as a graph, config or token file, exit 2, without reading it whole", async () => {
  const dir = tempDir();
  try {
    // /dev/zero never ends: it was read until the memory ran out.
    const device = await cli(["validate", "/dev/zero"]);
    assert.equal(device.code, 2);
    assert.match(
      device.err,
      /cannot read "\/dev\/zero": it is a device, not a file/,
    );
    const big = join(dir, "big.fbp");
    writeFileSync(big, `# ${"x".repeat(16 * 2 ** 20)}\n`);
    const r = await cli(["run", big]);
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot read ".*big\.fbp": it is larger than 16 MiB/);
    const config = await cli(["serve", "--config", "/dev/zero"]);
    assert.equal(config.code, 2);
    assert.match(config.err, /\/dev\/zero.*it is a device, not a file/);
    const tokens = await cli(["serve", "--token-file", "/dev/urandom"]);
    assert.equal(tokens.code, 2);
    assert.match(tokens.err, /\/dev\/urandom.*it is a device, not a file/);
    // A folder: the system's "EISDIR: illegal operation on a directory".
    for (
      const args of [
        ["validate", dir],
        ["run", dir],
        ["serve", "--config", dir],
        ["serve", "--token-file", dir],
      ]
    ) {
      const folder = await cli(args);
      assert.equal(folder.code, 2, args.join(" "));
      assert.match(folder.err, /it is a folder, not a file/, args.join(" "));
      assert.doesNotMatch(folder.err, /EISDIR/, args.join(" "));
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("weir run runs a finite graph to the end, writing a real file", async () => {
  const dir = tempDir();
  try {
    const input = join(dir, "in.txt");
    const output = join(dir, "out.txt");
    writeFileSync(input, "1\n2\n3\n4\n5\n");
    const graph = join(dir, "double.fbp");
    writeFileSync(
      graph,
      `'${input}' -> path Read(fs/ReadLines)
'$number($) * 2' -> expr Double(flow/Map)
'${output}' -> path Write(fs/WriteLines)
Read out -> in Double out -> in Write
`,
    );
    const r = await cli(["run", "--data-dir", dir, graph]);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(output, "utf8"), "2\n4\n6\n8\n10\n");
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("weir run says how many processes it runs, one as 'process'", async () => {
  const dir = tempDir();
  try {
    const one = join(dir, "one.fbp");
    writeFileSync(one, "'x' -> in Drop(core/Drop)\n");
    let r = await cli(["run", one]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /running flow "main" \(1 process\); Ctrl-C to stop/);
    const two = join(dir, "two.fbp");
    writeFileSync(two, "'x' -> in R(core/Repeat) out -> in Drop(core/Drop)\n");
    r = await cli(["run", two]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /running flow "main" \(2 processes\); Ctrl-C to stop/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("weir run takes --max-capacity as validate and serve do: a capacity over 100,000 runs with a raised limit, and is a problem without it", async () => {
  const dir = tempDir();
  try {
    const graph = join(dir, "big.fbp");
    writeFileSync(
      graph,
      "'x' -> in R(core/Repeat)\nR out -> (200000) in Drop(core/Drop)\n",
    );
    let r = await cli(["run", graph]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /big\.fbp:2:\d+: capacity must be a positive integer up to 100000 .* received number 200000/,
    );
    r = await cli(["run", "--max-capacity", "300000", graph]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /flow "main" finished/);
    r = await cli(["run", "--max-capacity", "1000", graph]);
    assert.equal(r.code, 1);
    assert.match(r.err, /up to 1000 .* received number 200000/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("weir run exits 1 when a process fails", async () => {
  const dir = tempDir();
  try {
    const graph = join(dir, "fail.fbp");
    writeFileSync(
      graph,
      "'{not json' -> in Parse(json/Parse) out -> in Drop(core/Drop)\n",
    );
    const r = await cli(["run", graph]);
    assert.equal(r.code, 1);
    assert.match(r.err, /process "Parse" failed on in-port "in"/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("weir rejects an unknown command or option with exit code 2", async () => {
  assert.equal((await cli(["frobnicate"])).code, 2);
  const r = await cli(["run", "--nope"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option "--nope"/);
});

test("weir serve --drain-timeout 5 min answers with the duration error, not a missing file", async () => {
  const r = await cli(["serve", "--drain-timeout", "5", "min"]);
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    /--drain-timeout must be a duration: .*received "5 min"/,
  );
  assert.doesNotMatch(r.err, /no such file/);
});

test("weir components lists every component with its ports", async () => {
  const r = await cli(["components"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^core\/Interval$/m);
  assert.match(r.out, /^ {2}in {2}interval: duration, control/m);
  assert.match(r.out, /strings\/Split \(also strings\/SplitStr\)/);
});

test("weir demo serves its metrics, keeps running until SIGTERM, then drains and exits 0", async () => {
  const w = startWeir(["demo", "--metrics=127.0.0.1:0"]);
  try {
    const url = (await w.logged(
      (r) => r.msg.startsWith("metrics at"),
      "serving metrics",
    )).url as string;
    await w.logged((r) => r.msg.includes("Ctrl-C to stop"), "running");
    // Scrape until it has ticked a few times (every 500 ms).
    const ticks = await eventually(async () => {
      const res = await fetch(url);
      assert.equal(
        res.headers.get("content-type"),
        "text/plain; version=0.0.4; charset=utf-8",
      );
      const m =
        /^weir_process_messages_total\{flow="demo",process="Tick",port="out",direction="out"\} (\d+)$/m
          .exec(await res.text());
      return m !== null && Number(m[1]) >= 2 ? Number(m[1]) : undefined;
    }, "the demo ticked twice and the scrape shows it");
    assert.ok(ticks >= 2);
    assert.equal(w.child.exitCode, null, "the demo must still be running");
    // process.kill, not child.kill: Deno reports a child.kill()ed child as
    // killed by the signal even when it handled it and exited 0.
    process.kill(w.child.pid!, "SIGTERM");
    assert.equal((await w.exited).code, 0, w.log());
    const msgs = w.records().map((r) => r.msg);
    assert.ok(msgs.includes("SIGTERM: draining (up to 5000 ms)"), w.log());
    assert.ok(msgs.includes('flow "demo" finished'), w.log());
    // The partial batch was flushed by the drain: a summary line came out.
    assert.match(w.stdout(), /"readings":\s*\d+/);
  } finally {
    killLeftovers();
  }
});

test("weir demo serves its metrics on 127.0.0.1:9465 by default, not on weir serve's default port", async () => {
  const servePort = SETTINGS.find((s) => s.key === "port")!.default;
  assert.equal(servePort, 9464);
  assert.deepEqual(DEMO_METRICS, { hostname: "127.0.0.1", port: 9465 });
  const help = await cli(["demo", "--help"]);
  assert.match(help.out, /http:\/\/127\.0\.0\.1:9465\/metrics/);
});

/** Whether nothing listens on 127.0.0.1:`port` now. */
function _free(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

test(
  "weir serve and weir demo both start with their default ports, side by side",
  { timeout: 180_000 },
  // The suite's Deno and Bun runs of this file take turns.
  (t) =>
    withMachineLock("weir-test-ports-9464-9465", async () => {
      if (!(await _free(9464)) || !(await _free(9465))) {
        // Nothing on a CI machine holds them but this test.
        assert.notEqual(
          process.env.WEIR_REQUIRE_INTEGRATION,
          "1",
          "127.0.0.1:9464 or 9465 is taken on this machine (not by this test)",
        );
        return t.skip(
          "127.0.0.1:9464 or 9465 is taken on this machine (not by this test)",
        );
      }
      await defaultPorts();
    }),
);

async function defaultPorts(): Promise<void> {
  const dir = tempDir();
  try {
    const server = await startServe(["--db", ":memory:"], { cwd: dir });
    const demo = startWeir(["demo"], { cwd: dir });
    const at = await demo.logged(
      (r) => r.msg.startsWith("metrics at"),
      "serving metrics",
    );
    assert.equal(at.url, "http://127.0.0.1:9465/metrics");
    assert.equal(server.url, "http://127.0.0.1:9464");
    const [health, metrics] = await Promise.all([
      fetch(`${server.url}/healthz`),
      fetch(at.url as string),
    ]);
    assert.equal(health.status, 200);
    assert.equal(metrics.status, 200);
    await Promise.all([health.body?.cancel(), metrics.body?.cancel()]);
    process.kill(demo.child.pid!, "SIGTERM");
    process.kill(server.child.pid!, "SIGTERM");
    assert.equal((await demo.exited).code, 0, demo.log());
    assert.equal((await server.exited).code, 0, server.log());
  } finally {
    killLeftovers();
    rmSync(dir, { recursive: true });
  }
}

test("weir refuses a malformed --metrics address and a port in use, exit 2", async () => {
  for (const bad of ["9464", "localhost:", "a:b", "127.0.0.1:70000"]) {
    const r = await cli(["demo", "--metrics", bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, /--metrics needs host:port, e\.g\. 127\.0\.0\.1:9464/);
  }
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
  const port = (taken.address() as AddressInfo).port;
  try {
    const r = await cli(["demo", "--metrics", `127.0.0.1:${port}`]);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      new RegExp(
        `cannot listen on 127\\.0\\.0\\.1:${port}: address already in use; choose another with --metrics`,
      ),
    );
  } finally {
    taken.close();
  }
});

test("weir run runs NoFlo's classic line counter unchanged", async () => {
  const dir = tempDir();
  try {
    const text = join(dir, "three.txt");
    writeFileSync(text, "a\nb\nc");
    const graph = join(dir, "count.fbp");
    writeFileSync(
      graph,
      `'${text}' -> IN Read(filesystem/ReadFile) OUT -> IN Split(strings/SplitStr)
Split OUT -> IN Count(packets/Counter) COUNT -> IN Display(core/Output)
Read ERROR -> IN Display
`,
    );
    const r = await cli(["run", "--data-dir", dir, graph]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "3");
  } finally {
    rmSync(dir, { recursive: true });
  }
});
