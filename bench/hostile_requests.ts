/**
 * What hostile requests cost `weir serve` (issue 18): a request body
 * nested deep (peak RSS and time to the answer), token guessing (guesses
 * checked per second), 50 clients that stop reading the event stream of a
 * 6,000-process flow (RSS before, during and after; `events`, history on as
 * shipped, or `events --no-history`) and 500 connections that never finish
 * their headers (how many are still open 5 to 25 s later; `slowheaders`).
 * Starts `weir serve` on this runtime as a child process, on a free
 * loopback port with an in-memory database, and reads the child's RSS
 * (`VmRSS`, peak `VmHWM`) from /proc.
 *
 * Run: `deno run -A bench/hostile_requests.ts` or `bun bench/hostile_requests.ts`
 * (`nesting`, `tokens`, `events`, `slowheaders`; default all).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const MAIN = join(import.meta.dirname!, "..", "src", "cli", "main.ts");
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** `weir serve` with `args`, and its URL once it listens. */
async function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [...(isDeno ? ["run", "-A"] : []), MAIN, "serve", ...args],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...env },
    },
  );
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      err += d;
      const m = /"url":"([^"]+)"/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on("exit", () => reject(new Error(`weir serve exited:\n${err}`)));
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      process.kill(child.pid!, "SIGTERM");
      const t = setTimeout(() => process.kill(child.pid!, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A process's peak and current RSS in MB. */
function rss(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) =>
    Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1]);
  return { peak: kb("VmHWM") / 1024, now: kb("VmRSS") / 1024 };
}

async function nesting(): Promise<void> {
  const s = await startServe(["--listen", "127.0.0.1:0", "--db", ":memory:"]);
  try {
    await fetch(`${s.url}/flows/a?start=false`, {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: "A(core/Repeat)",
    }).then((r) => r.body?.cancel());
    const before = rss(s.pid);
    console.log(
      `idle: peak ${before.peak.toFixed(0)} MB, now ${
        before.now.toFixed(0)
      } MB`,
    );
    const cases: [string, string, string, string][] = [
      [
        "POST /flows, JSON nested 100,000 deep (200 KB)",
        "POST",
        "/flows",
        "[".repeat(100_000) + "]".repeat(100_000),
      ],
      [
        "PATCH /flows/a, merge patch nested 10,000 deep",
        "PATCH",
        "/flows/a",
        '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000),
      ],
    ];
    for (const [what, method, path, body] of cases) {
      const t0 = performance.now();
      const res = await fetch(`${s.url}${path}`, {
        method,
        headers: {
          "Content-Type": method === "PATCH"
            ? "application/merge-patch+json"
            : "application/json",
        },
        body,
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      const r = rss(s.pid);
      console.log(
        `${what}: ${res.status} in ${ms.toFixed(0)} ms, peak RSS ${
          r.peak.toFixed(0)
        } MB, now ${r.now.toFixed(0)} MB; ${text.slice(0, 120)}`,
      );
    }
  } finally {
    await s.stop();
  }
}

async function tokens(): Promise<void> {
  const token = "0123456789abcdef0123456789abcdef";
  const s = await startServe(
    ["--listen", "127.0.0.1:0", "--db", ":memory:"],
    { WEIR_TOKEN: token },
  );
  try {
    const seconds = 3;
    const end = performance.now() + seconds * 1000;
    const counts = new Map<number, number>();
    let i = 0;
    // 16 clients guessing as fast as the server answers.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() < end) {
          const res = await fetch(`${s.url}/flows`, {
            headers: { Authorization: `Bearer guess-${i++}-xxxxxxxxxxxxxxxx` },
          });
          await res.body?.cancel();
          counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const checked = counts.get(401) ?? 0;
    console.log(
      `token guessing, 16 clients for ${seconds} s: ${
        JSON.stringify(Object.fromEntries(counts))
      }; guesses checked: ${(checked / seconds).toFixed(0)}/s`,
    );
  } finally {
    await s.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function events(history: boolean): Promise<void> {
  const s = await startServe([
    "--listen",
    "127.0.0.1:0",
    "--db",
    ":memory:",
    ...(history ? [] : ["--no-history"]),
  ]);
  const sockets: Socket[] = [];
  try {
    let graph = "'1' -> in P0(core/Repeat)\n";
    for (let i = 1; i < 6000; i++) {
      graph += `P${i - 1} out -> in P${i}(core/Repeat)\n`;
    }
    const put = await fetch(`${s.url}/flows/big`, {
      method: "PUT",
      headers: { "Content-Type": "text/vnd.fbp" },
      body: graph,
    });
    await put.body?.cancel();
    const whole = (await (await fetch(`${s.url}/flows/big/stats`)).text())
      .length;
    await sleep(3000);
    const before = rss(s.pid).now;
    const port = Number(new URL(s.url).port);
    for (let i = 0; i < 50; i++) {
      const socket = connect({ host: "127.0.0.1", port });
      socket.on("error", () => {});
      socket.write("GET /flows/big/events HTTP/1.1\r\nHost: localhost\r\n\r\n");
      socket.pause();
      sockets.push(socket);
    }
    let during = 0;
    for (let i = 0; i < 40; i++) {
      await sleep(500);
      during = Math.max(during, rss(s.pid).now);
    }
    for (const socket of sockets) socket.destroy();
    const after: number[] = [];
    for (let i = 0; i < 6; i++) {
      await sleep(5000);
      after.push(rss(s.pid).now);
    }
    console.log(
      `events (history ${
        history ? "on" : "off"
      }): 6,000 processes (whole snapshot ${
        (whole / 1e6).toFixed(1)
      } MB), 50 clients not reading for 20 s: RSS before ${
        before.toFixed(0)
      } MB, peak during ${during.toFixed(0)} MB, after they left (every 5 s) ${
        after.map((a) => a.toFixed(0)).join(", ")
      } MB; lowest after / before ${(Math.min(...after) / before).toFixed(2)}`,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await s.stop();
  }
}

async function slowHeaders(): Promise<void> {
  const s = await startServe(["--listen", "127.0.0.1:0", "--db", ":memory:"]);
  const sockets: Socket[] = [];
  let open = 0;
  try {
    const port = Number(new URL(s.url).port);
    for (let i = 0; i < 500; i++) {
      const socket = connect({ host: "127.0.0.1", port });
      socket.on("error", () => {});
      open++;
      socket.on("close", () => open--);
      socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
      sockets.push(socket);
    }
    const seen: string[] = [];
    for (const at of [5, 10, 15, 20, 25]) {
      await sleep(5000);
      seen.push(`${at} s: ${open}`);
    }
    console.log(
      `slow headers: 500 connections that never finish their headers, still open after ${
        seen.join(", ")
      }`,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await s.stop();
  }
}

const which = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const all = which.length === 0;
console.log(`runtime: ${isDeno ? "deno" : "bun"}`);
if (all || which.includes("nesting")) await nesting();
if (all || which.includes("tokens")) await tokens();
if (all || which.includes("events")) {
  await events(!process.argv.includes("--no-history"));
}
if (all || which.includes("slowheaders")) await slowHeaders();
