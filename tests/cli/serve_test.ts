/**
 * `weir serve` as a process: SIGTERM drains every flow into its sink and
 * exits 0; SIGKILL in the middle of a stream of updates loses no flow.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { integrationSkip, promtoolCheck } from "../_prometheus.ts";
import { parseExposition, valueOf } from "../metrics/_exposition.ts";
import {
  assertEveryTick,
  killLeftovers,
  startServe,
  startWeir as runWeir,
} from "./_weir.ts";

/** Starts `weir serve` on a free port and waits until it listens. */
const startWeir = (args: string[]) =>
  startServe(["--listen", "127.0.0.1:0", ...args]);

async function call(
  w: { url: string },
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(w.url + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

const fbp = (text: string, method = "POST"): RequestInit => ({
  method,
  headers: { "Content-Type": "text/vnd.fbp" },
  body: text,
});

test(
  "weir serve: SIGTERM drains every flow (each message the source sent reaches the file) and exits 0",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-serve-"));
    const out = join(dir, "out.txt");
    try {
      const w = await startWeir([
        "--data-dir",
        dir,
        "--db",
        join(dir, "flows.db"),
        "--drain-timeout",
        "20000",
      ]);
      // A fast source and a slow stage: at the signal, messages wait in the
      // connection, and draining must write them all.
      const graph = `# @name sink
'5ms' -> interval Tick(core/Interval)
50 -> rate Slow(flow/Throttle)
'${out}' -> path Write(fs/WriteLines)
Tick out -> (500) in Slow out -> in Write
`;
      const created = await call(w, "/flows", fbp(graph));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      let sent = 0;
      let backlog = 0;
      // Wait until a backlog has built up.
      for (let i = 0; i < 200 && backlog < 20; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const stats = (await call(w, "/flows/sink/stats")).body as {
          processes: { name: string; messagesOut: Record<string, number> }[];
          backlog: number;
        };
        sent = stats.processes.find((p) => p.name === "Tick")!.messagesOut.out;
        backlog = stats.backlog;
      }
      assert.ok(backlog >= 20, `a backlog built up (${backlog})`);
      process.kill(w.child.pid!, "SIGTERM");
      const { code } = await w.exited;
      assert.equal(code, 0, w.log());
      assertEveryTick(out, sent);
      assert.match(w.log(), /flows drained, database closed/);
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: after SIGKILL in the middle of a stream of updates, every flow comes back valid and running",
  { timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-kill-"));
    const db = join(dir, "flows.db");
    const texts = (id: string, n: number) =>
      `# @name ${id}\n'${
        n + 1
      }s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n`;
    try {
      const ids = ["a", "b", "c"];
      const written = new Map<string, Set<string>>(
        ids.map((id) => [id, new Set()]),
      );
      for (let round = 0; round < 3; round++) {
        const w = await startWeir(["--db", db]);
        if (round === 0) {
          for (const id of ids) {
            const r = await call(w, "/flows", fbp(texts(id, 0)));
            assert.equal(r.status, 201);
            written.get(id)!.add(texts(id, 0));
          }
        } else {
          // Everything from before the kill is back, valid and running.
          const list = (await call(w, "/flows")).body.flows as {
            id: string;
            state: string;
            rev: number;
          }[];
          assert.deepEqual(list.map((f) => f.id).sort(), ids);
          for (const f of list) {
            assert.equal(f.state, "running", `${f.id}: ${JSON.stringify(f)}`);
            const one = (await call(w, `/flows/${f.id}`)).body as {
              source: { text: string };
            };
            assert.ok(
              written.get(f.id)!.has(one.source.text),
              `${f.id}: a text that was sent`,
            );
          }
        }
        // A stream of updates, 3 at a time; SIGKILL lands in the middle.
        let n = 1 + round * 1000;
        let alive = true;
        const stream = (async () => {
          while (alive) {
            await Promise.all(ids.map(async (id) => {
              const text = texts(id, n);
              written.get(id)!.add(text);
              try {
                await fetch(`${w.url}/flows/${id}`, fbp(text, "PUT"));
              } catch { /* the server was killed */ }
            }));
            n++;
          }
        })();
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
        process.kill(w.child.pid!, "SIGKILL");
        const { signal } = await w.exited;
        alive = false;
        await stream;
        assert.equal(signal, "SIGKILL");
        assert.ok(n > 1 + round * 1000, "updates were under way");
      }
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: /metrics has the HTTP metrics by route pattern, the open connections and the flows; promtool accepts it",
  { timeout: 60_000, skip: integrationSkip("promtool") },
  async () => {
    const w = await startWeir(["--db", ":memory:"]);
    try {
      const graph =
        "# @name m1\n'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n";
      assert.equal((await call(w, "/flows", fbp(graph))).status, 201);
      for (let i = 0; i < 3; i++) await call(w, "/flows/m1");
      assert.equal((await call(w, "/nope")).status, 404);
      const text = await (await fetch(`${w.url}/metrics`)).text();
      const e = parseExposition(text);
      const req = (method: string, route: string, status: string) =>
        valueOf(e, "http_requests_total", { method, route, status });
      assert.equal(req("POST", "/flows", "201"), 1);
      assert.equal(req("GET", "/flows/:id", "200"), 3);
      assert.equal(req("GET", "unmatched", "404"), 1);
      // The API's JSON carries a Content-Length, so its sizes are known.
      assert.equal(
        valueOf(e, "http_response_size_bytes_count", {
          method: "GET",
          route: "/flows/:id",
        }),
        3,
      );
      assert.ok(
        valueOf(e, "http_response_size_bytes_sum", {
          method: "GET",
          route: "/flows/:id",
        })! > 3 * 100,
      );
      assert.equal(
        valueOf(e, "http_requests_in_flight"),
        1,
        "the scrape itself",
      );
      assert.ok(
        (valueOf(e, "http_open_connections") ?? 0) >= 1,
        "at least the scrape's connection is open",
      );
      assert.equal(valueOf(e, "weir_flows_active"), 1);
      const { ok, output } = await promtoolCheck(text);
      assert.ok(ok, output);
    } finally {
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0);
      killLeftovers();
    }
  },
);

/** Runs `weir serve` expecting it to fail at start-up. */
async function failedStart(
  args: string[],
): Promise<{ code: number | null; err: string }> {
  const w = runWeir(["serve", ...args]);
  return { code: (await w.exited).code, err: w.log() };
}

test(
  "weir serve: a port in use or a bad graph file fails before the database is touched",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-start-"));
    const db = join(dir, "flows.db");
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    try {
      const good = join(dir, "good.fbp");
      writeFileSync(
        good,
        "# @name good\n'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)\n",
      );
      const port = (busy.address() as AddressInfo).port;
      let r = await failedStart([
        "--listen",
        `127.0.0.1:${port}`,
        "--db",
        db,
        good,
      ]);
      assert.equal(r.code, 2, r.err);
      assert.match(
        r.err,
        /cannot listen on 127\.0\.0\.1:\d+: address already in use; choose another with --port \(0 picks a free one\)/,
      );
      assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
      assert.equal(existsSync(db), false, "no database was created");

      const bad = join(dir, "bad.fbp");
      writeFileSync(
        bad,
        "# @name bad\n'1s' -> interval Tick(core/Intervall)\n",
      );
      r = await failedStart(["--listen", "127.0.0.1:0", "--db", db, good, bad]);
      assert.equal(r.code, 1, r.err);
      assert.match(
        r.err,
        new RegExp(
          `${
            bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
          }:2:\\d+: .*core/Intervall`,
        ),
      );
      assert.equal(existsSync(db), false, "no database was created");
    } finally {
      busy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: a SIGTERM during start-up is acted on once it has started: drained, exit 0",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-early-"));
    try {
      // At debug level it logs its settings before it starts to listen.
      const w = runWeir([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        join(dir, "f.db"),
        "--log-level",
        "debug",
      ]);
      await w.logged((r) => r.level === "debug", "its first line");
      process.kill(w.child.pid!, "SIGTERM");
      assert.equal((await w.exited).code, 0, w.log());
      assert.match(w.log(), /flows drained, database closed/);
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve: SIGHUP drains like SIGTERM (the flows, then the history) and exits 0, instead of ending at once",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-hup-"));
    try {
      const w = await startWeir(["--data-dir", dir, "--db", ":memory:"]);
      process.kill(w.child.pid!, "SIGHUP");
      const exit = await w.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, w.log());
      const msgs = w.records().map((r) => r.msg);
      assert.ok(
        msgs.some((m) => m.startsWith("SIGHUP: closing the server")),
        w.log(),
      );
      assert.ok(msgs.includes("metric history written"), w.log());
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve warns of a misspelt WEIR_ variable, which it would otherwise ignore unseen, naming the one meant",
  { timeout: 60_000 },
  async () => {
    const env: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith("WEIR_")) env[k] = v;
    }
    env.WEIR_DRAIN_TIMOUT = "30s";
    const w = await startServe(
      ["--listen", "127.0.0.1:0", "--db", ":memory:", "--no-history"],
      { env },
    );
    try {
      const r = await w.logged(
        (r) => r.variable === "WEIR_DRAIN_TIMOUT",
        "the warning",
      );
      assert.equal(r.level, "warn");
      assert.equal(
        r.msg,
        "the environment variable WEIR_DRAIN_TIMOUT is not one of weir's and is ignored; did you mean WEIR_DRAIN_TIMEOUT?",
      );
    } finally {
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
      killLeftovers();
    }
  },
);

test(
  "weir serve warns of a token file every user may read, naming it and never a token",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-tokfile-"));
    const file = join(dir, "tokens");
    const secret = "0123456789abcdef0123456789abcdef";
    writeFileSync(file, `read:${secret}\n`);
    chmodSync(file, 0o644);
    try {
      const w = await startWeir(["--db", ":memory:", "--token-file", file]);
      const r = await w.logged(
        (r) => r.level === "warn" && r.path === file,
        "the warning",
      );
      assert.equal(
        r.msg,
        `the token file ${file} holds tokens and is readable by every user: anyone on this machine can take them from it; chmod o-r it (install -m 600)`,
      );
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
      assert.ok(!w.log().includes(secret));
      chmodSync(file, 0o600);
      const quiet = await startWeir(["--db", ":memory:", "--token-file", file]);
      process.kill(quiet.child.pid!, "SIGTERM");
      await quiet.exited;
      assert.ok(
        !quiet.records().some((r) => r.level === "warn"),
        quiet.log(),
      );
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve logs where its dashboard is, and that address answers with the page",
  { timeout: 60_000 },
  async () => {
    const w = await startWeir(["--db", ":memory:", "--no-history"]);
    try {
      const r = w.records().find((r) => r.msg.startsWith("serving flows"))!;
      assert.equal(r.dashboard, `${w.url}/`);
      assert.ok(
        r.msg.includes(`, the dashboard at ${w.url}/; Ctrl-C to stop`),
        r.msg,
      );
      const page = await fetch(r.dashboard as string);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      await page.body?.cancel();
    } finally {
      process.kill(w.child.pid!, "SIGTERM");
      await w.exited;
      killLeftovers();
    }
  },
);
