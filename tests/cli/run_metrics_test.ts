/**
 * weir run --metrics: serves while the flow runs and exits soon after it, whatever its clients do.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtimeCommand } from "../_runtime.ts";
import { openSocket } from "../server/_metrics_sockets.ts";

const MAIN = join(import.meta.dirname!, "..", "..", "src", "cli", "main.ts");

/**
 * Runs `weir run <finite graph> --metrics 127.0.0.1:0` in a child process;
 * `onListening` gets the metrics port. Kills the child after `limitMs`.
 * The graph's flow sends `ticks` messages 20 ms apart, then finishes.
 */
async function runWithMetrics(
  limitMs: number,
  onListening: (port: number) => Promise<void> | void,
  ticks = 10,
): Promise<
  {
    code: number | null;
    ms: number;
    stderr: string;
    killed: boolean;
    hook: Promise<void>;
  }
> {
  const dir = mkdtempSync(join(tmpdir(), "weir-http-edge-"));
  const graph = join(dir, "ticks.fbp");
  writeFileSync(
    graph,
    `# @name fin

'20ms' -> interval Tick(core/Interval)

${ticks} -> count Tick

Tick out -> in Sink(core/Drop)

`,
  );
  const [cmd, pre] = runtimeCommand();
  const start = performance.now();
  const child = spawn(
    cmd,
    [
      ...pre,
      MAIN,
      "run",
      graph,
      "--metrics",
      "127.0.0.1:0",
      "--log-format",
      "text",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  let hook: Promise<void> = Promise.resolve();
  let hooked = false;
  child.stderr!.on("data", (d) => {
    stderr += d;
    const port = /metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(
      stderr,
    )?.[1];
    if (port && !hooked) {
      hooked = true;
      hook = Promise.resolve(onListening(Number(port)));
    }
  });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitMs);
  const code = await new Promise<number | null>((r) =>
    child.on("exit", (c) => r(c))
  );
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });
  return {
    code,
    ms: Math.round(performance.now() - start),
    stderr,
    killed,
    hook,
  };
}

test(
  "weir run --metrics 127.0.0.1:0 serves while the flow runs, then exits 0 with a keep-alive scraper connected",
  {
    timeout: 15_000,
  },
  async () => {
    let socket: Socket | undefined;
    let scraped = "";
    // The flow runs for about 1 s, so that the scrape comes while it runs:
    // in the 200 ms of 10 ticks, a busy machine (the suite runs several
    // files at once) had the flow finish before the request was sent.
    const r = await runWithMetrics(8000, async (port) => {
      // A scraper on a keep-alive connection, as Prometheus keeps one.
      socket = await openSocket(port);
      socket.setEncoding("latin1");
      socket.on("data", (d: string) => scraped += d);
      socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    }, 50);
    await r.hook;
    socket?.destroy();
    assert.equal(r.killed, false, `killed after ${r.ms} ms:\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /flow "fin" finished/);
    assert.match(scraped, /^HTTP\/1\.1 200/);
    assert.match(scraped, /weir_process_messages_total\{flow="fin"/);
  },
);

test(
  "weir run --metrics exits soon after its flow even when a client has sent half a request",
  {
    timeout: 10_000,
  },
  async () => {
    let socket: Socket | undefined;
    // The flow itself takes about 200 ms; startup about 0.5 s.
    const r = await runWithMetrics(4000, async (port) => {
      socket = await openSocket(port);
      socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    });
    await r.hook;
    socket?.destroy();
    assert.equal(
      r.killed,
      false,
      `still running ${r.ms} ms after start, its flow long finished:\n${r.stderr}`,
    );
    assert.equal(r.code, 0, r.stderr);
  },
);
