/**
 * `weir serve` sends its metric history by Prometheus remote write 1.0: a
 * real Prometheus (its remote-write receiver on) gets every sample weir's
 * history holds, with weir's labels and values, through a receiver outage,
 * a SIGKILL while behind and a restart; a fake receiver sees the headers
 * and makes weir retry and drop; a bad `remoteWrite` setting stops `weir
 * serve` at its start. Real processes, real sockets, real files.
 *
 * What arrived is compared with weir's history read from disk after weir
 * stopped, up to the cursor's `sent` (the end of the last window the
 * receiver acknowledged whole). Values are compared where they are not
 * NaN: a range selector in Prometheus leaves out staleness markers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { CursorFile } from "../../src/history/cursor_file.ts";
import { HistoryStore } from "../../src/history/store.ts";
import { decodeBody } from "../history/_remote_write_decode.ts";
import { parseExposition, samplesOf } from "../metrics/_exposition.ts";
import { freePort } from "../_mosquitto.ts";
import {
  integrationSkip,
  type PrometheusHandle,
  promtoolCheck,
  startPrometheus,
} from "../_prometheus.ts";
import { killLeftovers, startServe, startWeir, type Weir } from "./_weir.ts";

const FLOW = `'100ms' -> interval Tick(core/Interval)
Tick out -> in Sink(core/Drop)
`;

const RECEIVER = ["--web.enable-remote-write-receiver"];

/** A value (ms) and its sample, as both sides are compared. */
type Samples = [t: number, value: number][];

/** Labels as a key: sorted names, without `drop`. */
function key(labels: Record<string, string>, drop: string[] = []): string {
  const names = Object.keys(labels).filter((n) => !drop.includes(n)).sort();
  return JSON.stringify(names.map((n) => [n, labels[n]]));
}

/** A fresh folder with the flow file and a config file of `remoteWrite`. */
function setUp(
  prefix: string,
  remoteWrite: unknown[],
): { dir: string; flow: string; config: string; data: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const flow = join(dir, "ticker.fbp");
  writeFileSync(flow, FLOW);
  const config = join(dir, "weir.json");
  writeFileSync(config, JSON.stringify({ remoteWrite }, null, 2));
  return { dir, flow, config, data: join(dir, "data") };
}

/** `weir serve` on a free loopback port with the folder of {@linkcode setUp}. */
function serveArgs(
  s: { dir: string; flow: string; config: string; data: string },
  extra: string[] = [],
): string[] {
  return [
    "--listen",
    "127.0.0.1:0",
    "--db",
    join(s.dir, "flows.db"),
    "--data-dir",
    s.data,
    "--config",
    s.config,
    ...extra,
    s.flow,
  ];
}

/** A destination's cursor file, or undefined before weir writes it. */
interface Cursor {
  url: string;
  sent: number;
  window?: { end: number; after: string };
}

function readCursor(data: string, name: string): Cursor | undefined {
  const path = join(data, "remote_write", `${name}.cursor`);
  if (!existsSync(path)) return undefined; // not written yet
  const file = CursorFile.open(path);
  try {
    const text = file.read();
    return text === undefined ? undefined : JSON.parse(text);
  } finally {
    file.close();
  }
}

/** weir's /metrics: the value of `name` for `destination` (NaN when none). */
async function rwMetric(
  url: string,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return samplesOf(parseExposition(text), name, labels)[0]?.value ?? NaN;
}

/** Every remote write counter of `destination` at one scrape. */
async function rwStats(url: string, destination: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const e = parseExposition(text);
  const v = (name: string, more: Record<string, string> = {}) =>
    samplesOf(e, `weir_remote_write_${name}`, { destination, ...more })[0]
      ?.value ?? NaN;
  return {
    text,
    sent: v("samples_total"),
    failed: v("samples_failed_total"),
    retried: v("samples_retried_total"),
    rejected: v("samples_dropped_total", { reason: "rejected" }),
    lag: v("lag_seconds"),
  };
}

/**
 * Resolves with the first value of `probe` other than undefined, null or
 * false; a probe that throws is asked again. Fails, naming `what`, after
 * `ms` or as soon as `weir` exits.
 */
async function until<T>(
  probe: () =>
    | Promise<T | undefined | null | false>
    | T
    | undefined
    | null
    | false,
  what: string,
  options: { ms?: number; weir?: Weir; prometheus?: PrometheusHandle } = {},
): Promise<T> {
  const { ms = 30_000, weir } = options;
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    if (weir !== undefined && weir.child.exitCode !== null) {
      throw new Error(
        `weir exited (${weir.child.exitCode}) while waiting for ${what}:\n${weir.log()}`,
      );
    }
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) {
        return value;
      }
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      const prom = options.prometheus === undefined
        ? ""
        : `\nPrometheus's log:\n${options.prometheus.logTail()}`;
      throw new Error(
        `not seen within ${ms} ms: ${what}${why}${prom}\nweir's log:\n${
          weir?.log() ?? "(none)"
        }`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An instant query's data, on Prometheus or weir, at `timeMs` (default now). */
async function instant(
  base: string,
  promql: string,
  timeMs?: number,
): Promise<{ resultType: string; result: unknown[] }> {
  const params = new URLSearchParams({ query: promql });
  if (timeMs !== undefined) params.set("time", (timeMs / 1000).toFixed(3));
  const res = await fetch(`${base}/api/v1/query?${params}`);
  const body = await res.json();
  if (body.status !== "success") {
    throw new Error(
      `${base} answered ${JSON.stringify(promql)} with HTTP ${res.status}: ${
        JSON.stringify(body)
      }`,
    );
  }
  return body.data;
}

/** A range selector's samples by series key (NaN left out), at `timeMs`. */
async function rangeSamples(
  base: string,
  promql: string,
  timeMs: number,
  drop: string[] = [],
): Promise<Map<string, Samples>> {
  const data = await instant(base, promql, timeMs);
  assert.equal(data.resultType, "matrix", promql);
  const out = new Map<string, Samples>();
  for (
    const { metric, values } of data.result as {
      metric: Record<string, string>;
      values: [number, string][];
    }[]
  ) {
    const samples: Samples = values
      .map(([t, v]): [number, number] => [Math.round(t * 1000), Number(v)])
      .filter(([, v]) => !Number.isNaN(v));
    if (samples.length > 0) out.set(key(metric, drop), samples);
  }
  return out;
}

/** An instant vector's values by series key. */
async function vector(
  base: string,
  promql: string,
  timeMs: number,
  drop: string[] = [],
): Promise<Map<string, number>> {
  const data = await instant(base, promql, timeMs);
  assert.equal(data.resultType, "vector", promql);
  const out = new Map<string, number>();
  for (
    const { metric, value } of data.result as {
      metric: Record<string, string>;
      value: [number, string];
    }[]
  ) out.set(key(metric, drop), Number(value[1]));
  return out;
}

/** One series of weir's history on disk. */
interface Stored {
  labels: Record<string, string>;
  t: number[];
  v: number[];
}

/** Every raw series weir's history wrote under `data`, read by a fresh store. */
async function onDisk(data: string): Promise<Map<string, Stored>> {
  const store = await HistoryStore.open({
    dir: join(data, "history"),
    intervalMs: 1000,
    flushIntervalMs: 0,
  });
  try {
    const out = new Map<string, Stored>();
    const all = [{ name: "__name__", type: "=~" as const, value: ".+" }];
    for (const p of store.select(all, 0, Date.now() + 60_000, 0)) {
      const labels = { ...p.labels } as Record<string, string>;
      out.set(key(labels), { labels, t: [...p.t], v: [...p.value] });
    }
    return out;
  } finally {
    await store.close();
  }
}

/** The non-NaN samples of `s` in `(after, through]`. */
function span(s: Stored, after: number, through: number): Samples {
  const out: Samples = [];
  for (let i = 0; i < s.t.length; i++) {
    if (s.t[i] > after && s.t[i] <= through && !Number.isNaN(s.v[i])) {
      out.push([s.t[i], s.v[i]]);
    }
  }
  return out;
}

/**
 * Asserts that `got` holds exactly `want`, series by series, naming the
 * first few series that differ.
 */
function assertSameSeries(
  got: Map<string, Samples>,
  want: Map<string, Samples>,
  what: string,
): void {
  const problems: string[] = [];
  for (const [k, samples] of want) {
    const g = got.get(k);
    if (g === undefined) problems.push(`missing ${k} (${samples.length})`);
    else {
      try {
        assert.deepEqual(g, samples);
      } catch {
        const gs = new Set(g.map((s) => s.join()));
        const ws = new Set(samples.map((s) => s.join()));
        problems.push(
          `${k}: lacks ${
            samples.filter((s) => !gs.has(s.join())).slice(0, 5).join(" ")
          }; has besides ${
            g.filter((s) => !ws.has(s.join())).slice(0, 5).join(" ")
          }`,
        );
      }
    }
  }
  for (const k of got.keys()) {
    if (!want.has(k)) problems.push(`unexpected ${k}`);
  }
  assert.equal(
    problems.length,
    0,
    `${what}: ${problems.length} series differ:\n${
      problems.slice(0, 8).join("\n")
    }`,
  );
}

/** Prints a figure when WEIR_TEST_FIGURES=1 (for the report of a run). */
function figure(text: string): void {
  if (process.env.WEIR_TEST_FIGURES === "1") console.error(`[figure] ${text}`);
}

async function stopWeir(w: Weir): Promise<void> {
  process.kill(w.child.pid!, "SIGTERM");
  const exit = await w.exited;
  assert.equal(exit.code, 0, `weir's exit after SIGTERM:\n${w.log()}`);
}

test(
  "weir serve's remote write delivers every sample of its history, with its labels, values and external labels, to Prometheus",
  { skip: integrationSkip("prometheus"), timeout: 60_000 },
  async () => {
    const prom = await startPrometheus({ targets: [], extraArgs: RECEIVER });
    const s = setUp("weir-rw-labels-", [{
      name: "central",
      url: `${prom.url}/api/v1/write`,
      batchDeadline: "1s",
      start: "oldest",
      externalLabels: { device: "gw-17" },
      include: [
        '{__name__=~"weir_.*"}',
        "process_resident_memory_bytes",
        '{__name__=~"http_.*"}',
      ],
      exclude: ['{__name__=~"http_.*_bucket"}'],
    }]);
    try {
      const w = await startServe(serveArgs(s));
      const first = await until(
        async () => {
          const c = readCursor(s.data, "central");
          return c !== undefined && Number.isFinite(c.sent) &&
            await rwMetric(w.url, "weir_remote_write_samples_total", {
                destination: "central",
              }) > 0 &&
            c;
        },
        "a first window acknowledged",
        { weir: w, prometheus: prom },
      );
      // /metrics while remote write runs passes promtool.
      const { ok, output } = await promtoolCheck(
        (await rwStats(w.url, "central")).text,
      );
      assert.ok(ok, output);
      await until(
        () => (readCursor(s.data, "central")?.sent ?? 0) >= first.sent + 8000,
        "8 s more of history acknowledged",
        { weir: w, prometheus: prom },
      );
      await stopWeir(w);
      const sent = readCursor(s.data, "central")!.sent;
      const stored = await onDisk(s.data);

      const included = /^(weir_.*|process_resident_memory_bytes|http_.*)$/;
      const excluded = /^http_.*_bucket$/;
      const want = new Map<string, Samples>();
      for (const series of stored.values()) {
        const name = series.labels.__name__;
        if (!included.test(name) || excluded.test(name)) continue;
        const samples = span(series, -Infinity, sent);
        if (samples.length === 0) continue;
        want.set(key({ ...series.labels, device: "gw-17" }), samples);
      }
      const got = await rangeSamples(prom.url, '{__name__=~".+"}[1h]', sent);
      assertSameSeries(got, want, `Prometheus up to the cursor (${sent})`);

      // The series the check relies on were there to compare.
      const names = new Set([...stored.values()].map((x) => x.labels.__name__));
      const sentNames = new Set(
        [...got.keys()].map((k) =>
          (JSON.parse(k) as string[][]).find(([n]) => n === "__name__")![1]
        ),
      );
      for (
        const n of [
          "weir_process_messages_total",
          "weir_history_sample_duration_seconds_bucket",
          "http_request_duration_seconds_count",
        ]
      ) assert.ok(sentNames.has(n), `${n} in Prometheus`);
      if (names.has("process_resident_memory_bytes")) {
        assert.ok(sentNames.has("process_resident_memory_bytes"));
      }
      assert.ok(
        names.has("http_request_duration_seconds_bucket") &&
          !sentNames.has("http_request_duration_seconds_bucket"),
        "exclude: http_request_duration_seconds_bucket kept by weir, not sent",
      );
      assert.ok(
        names.has("process_cpu_seconds_total") &&
          !sentNames.has("process_cpu_seconds_total"),
        "include: process_cpu_seconds_total kept by weir, not sent",
      );
      const messages = [...got.entries()].filter(([k]) =>
        k.includes('"weir_process_messages_total"') &&
        k.includes('["process","Sink"]') && k.includes('["direction","in"]')
      );
      assert.equal(messages.length, 1, "the Sink's messages in");
      assert.ok(
        messages[0][1].at(-1)![1] > 0,
        "the Sink's count of messages in Prometheus",
      );
      assert.deepEqual(
        await instant(prom.url, 'count({__name__=~".+", device!="gw-17"})'),
        { resultType: "vector", result: [] },
        "every series carries device=gw-17",
      );
      figure(
        `labels: ${got.size} series, ${
          [...got.values()].reduce((n, x) => n + x.length, 0)
        } samples compared through ${sent}`,
      );
    } finally {
      killLeftovers();
      await prom.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve's remote write retries through a Prometheus outage and catches up with no sample missing",
  { skip: integrationSkip("prometheus"), timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-rw-outage-"));
    const storagePath = join(dir, "prometheus");
    let prom = await startPrometheus({
      targets: [],
      extraArgs: RECEIVER,
      storagePath,
    });
    const port = Number(new URL(prom.url).port);
    const s = setUp("weir-rw-outage-weir-", [{
      name: "central",
      url: `${prom.url}/api/v1/write`,
      batchDeadline: "1s",
      maxBackoff: "500ms",
    }]);
    try {
      const w = await startServe(serveArgs(s));
      await until(
        async () => (await rwStats(w.url, "central")).sent > 0,
        "samples acknowledged before the outage",
        { weir: w, prometheus: prom },
      );
      const stoppedAt = Date.now();
      await prom.stop();
      let maxLag = 0;
      const during = await until(
        async () => {
          const st = await rwStats(w.url, "central");
          maxLag = Math.max(maxLag, st.lag);
          return st.failed > 0 && st.retried > 0 && st.lag >= 10 && st;
        },
        "failed and retried samples, and a lag of 10 s, while Prometheus is down",
        {
          weir: w,
        },
      );

      const restartedAt = Date.now();
      prom = await startPrometheus({
        targets: [],
        extraArgs: RECEIVER,
        storagePath,
        port,
      });
      const caughtUp = await until(
        async () => {
          const c = readCursor(s.data, "central");
          const st = await rwStats(w.url, "central");
          maxLag = Math.max(maxLag, st.lag);
          return c !== undefined && c.sent >= restartedAt + 1000 &&
            st.lag < 8 &&
            { c, st };
        },
        "the cursor past the restart and the lag under 8 s",
        {
          weir: w,
          prometheus: prom,
        },
      );
      const catchUpMs = Date.now() - restartedAt;
      assert.ok(caughtUp.st.retried >= during.retried);

      // Half a tick before an acknowledged one: no sample on either edge.
      const at = caughtUp.c.sent - 500;
      const seconds = Math.ceil((at - stoppedAt) / 1000) + 3;
      // count_over_time() drops the name: one query per name.
      for (
        const name of [
          "weir_process_messages_total",
          "weir_flows_active",
          "weir_history_samples_appended_total",
          "weir_remote_write_samples_total",
          "process_resident_memory_bytes",
        ]
      ) {
        const promql = `count_over_time(${name}[${seconds}s])`;
        const inPrometheus = await vector(prom.url, promql, at);
        const inWeir = await vector(w.url, promql, at);
        if (name.startsWith("weir_")) {
          assert.ok(inWeir.size > 0, `${promql} in weir`);
        }
        if (!isDeepStrictEqual(inPrometheus, inWeir)) {
          // What to look at when it fails (once in CI under load, not
          // reproduced since): the writer's counters and warnings.
          const st = await rwStats(w.url, "central");
          console.error(
            `${promql} at ${at} (stopped ${stoppedAt}, restarted ${restartedAt}, cursor ${
              JSON.stringify(caughtUp.c)
            }):\n${
              st.text.split("\n").filter((l) =>
                l.startsWith("weir_remote_write_")
              ).join("\n")
            }\n${
              w.records().filter((r) => r.level !== "info").map((r) =>
                JSON.stringify(r)
              ).join("\n")
            }`,
          );
        }
        assert.deepEqual(
          inPrometheus,
          inWeir,
          `${promql} at ${at}: Prometheus and weir`,
        );
      }
      // And sample by sample, every series over the same span.
      const selector = `{__name__=~".+"}[${seconds}s]`;
      assertSameSeries(
        await rangeSamples(prom.url, selector, at),
        await rangeSamples(w.url, selector, at),
        `${selector} at ${at}: Prometheus and weir`,
      );
      const messagesIn = [...(await vector(
        w.url,
        `count_over_time(weir_process_messages_total{process="Sink",direction="in"}[${seconds}s])`,
        at,
      )).values()];
      assert.equal(messagesIn.length, 1);
      await stopWeir(w);
      figure(
        `outage: ${
          restartedAt - stoppedAt
        } ms down, max lag ${maxLag} s, caught up ${catchUpMs} ms after the restart (lag then ${caughtUp.st.lag} s), ${
          messagesIn[0]
        } samples of a series compared over ${seconds} s, ${during.failed} samples failed, ${caughtUp.st.retried} retried`,
      );
    } finally {
      killLeftovers();
      await prom.stop();
      rmSync(s.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve's remote write, SIGKILLed while behind, sends after its restart everything its history flushed, once",
  { skip: integrationSkip("prometheus"), timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-rw-kill-"));
    const port = await freePort();
    const maxSamplesPerRequest = 500;
    const s = setUp("weir-rw-kill-weir-", [{
      name: "central",
      url: `http://127.0.0.1:${port}/api/v1/write`,
      batchDeadline: "1s",
      maxBackoff: "500ms",
      start: "oldest",
      maxSamplesPerRequest,
    }]);
    const args = serveArgs(s, ["--history-flush-interval", "1s"]);
    let prom: PrometheusHandle | undefined;
    try {
      const first = await startServe(args);
      await until(
        async () => {
          const st = await rwStats(first.url, "central");
          const flushes = await rwMetric(
            first.url,
            "weir_history_flush_duration_seconds_count",
            {},
          );
          return st.failed > 0 && st.lag >= 6 && flushes >= 3;
        },
        "6 s of lag, failed requests and 3 history flushes",
        {
          weir: first,
        },
      );
      process.kill(first.child.pid!, "SIGKILL");
      assert.equal((await first.exited).signal, "SIGKILL");
      const before = readCursor(s.data, "central");
      assert.ok(before !== undefined, "a cursor written before the kill");
      const flushed = await onDisk(s.data);
      const flushedThrough = Math.max(
        ...[...flushed.values()].map((x) => x.t.at(-1) ?? -Infinity),
      );
      assert.ok(
        flushedThrough > before.sent,
        "history flushed past the cursor",
      );

      prom = await startPrometheus({
        targets: [],
        extraArgs: RECEIVER,
        storagePath: join(dir, "prometheus"),
        port,
      });
      const second = await startServe(args);
      const restartedAt = Date.now();
      await until(
        () =>
          (readCursor(s.data, "central")?.sent ?? -Infinity) >= flushedThrough,
        "the cursor past what was flushed before the kill",
        { weir: second, prometheus: prom, ms: 40_000 },
      );
      const catchUpMs = Date.now() - restartedAt;

      // Everything flushed before the kill is in Prometheus.
      const want = new Map<string, Samples>();
      for (const [k, series] of flushed) {
        const samples = span(series, before.sent, flushedThrough);
        if (samples.length > 0) want.set(k, samples);
      }
      const got = await rangeSamples(
        prom.url,
        '{__name__=~".+"}[1h]',
        flushedThrough,
      );
      assertSameSeries(got, want, "Prometheus, through the flushed span");

      // Samples acknowledged against the span sent: a cursor at rest on
      // both sides of the scrape, so the counter matches that cursor.
      const { sentThrough, acknowledged } = await until(
        async () => {
          const a = readCursor(s.data, "central");
          const st = await rwStats(second.url, "central");
          const b = readCursor(s.data, "central");
          return a !== undefined && b !== undefined && a.window === undefined &&
            b.window === undefined && a.sent === b.sent &&
            { sentThrough: a.sent, acknowledged: st.sent };
        },
        "a cursor at rest around a scrape",
        { weir: second },
      );
      await stopWeir(second);
      let inSpan = 0;
      for (const series of (await onDisk(s.data)).values()) {
        inSpan += series.t.filter((t) => t > before.sent && t <= sentThrough)
          .length;
      }
      assert.ok(
        acknowledged >= inSpan &&
          acknowledged <= inSpan + maxSamplesPerRequest,
        `weir_remote_write_samples_total ${acknowledged} after the restart, ${inSpan} samples in (${before.sent}, ${sentThrough}]`,
      );
      figure(
        `SIGKILL: ${
          [...want.values()].reduce((n, x) => n + x.length, 0)
        } flushed samples compared; caught up ${catchUpMs} ms after the restart; ${acknowledged} acknowledged for ${inSpan} in the span`,
      );
    } finally {
      killLeftovers();
      await prom?.stop();
      rmSync(s.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** One request a fake receiver got. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  status: number;
}

test(
  "weir serve's remote write retries a 500, drops on a 400 with a warning, and sends its token and headers but never logs the token",
  { skip: integrationSkip("promtool"), timeout: 60_000 },
  async () => {
    const secret = "rw-s3cret-7f2e9a";
    const received: Received[] = [];
    let flaky = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let status = 204;
        let text = "";
        if (req.url === "/flaky" && ++flaky <= 2) {
          status = 500;
          text = "try again later";
        } else if (req.url?.startsWith("/strict")) {
          status = 400;
          text = "bad data";
        }
        received.push({
          path: (req.url ?? "").split("?")[0],
          headers: req.headers,
          body: new Uint8Array(Buffer.concat(chunks)),
          status,
        });
        res.writeHead(status, { "content-type": "text/plain" }).end(text);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const s = setUp("weir-rw-fake-", [
      {
        name: "flaky",
        url: `${base}/flaky`,
        bearerTokenEnv: "RW_TOKEN",
        batchDeadline: "1s",
        start: "oldest",
      },
      {
        name: "strict",
        // A key in the query (some receivers take one there): never logged.
        url: `${base}/strict?key=qk-5ecret-91`,
        bearerTokenEnv: "RW_TOKEN",
        batchDeadline: "1s",
        start: "oldest",
      },
    ]);
    try {
      const env: Record<string, string | undefined> = { RW_TOKEN: secret };
      for (const [k, v] of Object.entries(process.env)) {
        if (!k.startsWith("WEIR_")) env[k] = v;
      }
      const w = await startServe(serveArgs(s), { env });
      const first = await until(
        async () => {
          const c = readCursor(s.data, "flaky");
          const st = await rwStats(w.url, "flaky");
          return c !== undefined && st.sent > 0 && st.failed > 0 &&
            st.retried > 0 && { c, st };
        },
        "flaky: samples failed, retried and then acknowledged",
        { weir: w },
      );
      const strict = await until(
        async () => {
          const st = await rwStats(w.url, "strict");
          return st.rejected > 0 && st;
        },
        "strict: samples dropped (rejected)",
        { weir: w },
      );
      assert.equal(strict.sent, 0, "strict: nothing acknowledged");
      const warning = await w.logged(
        (r) =>
          r.level === "warn" && r.msg.includes('"strict"') &&
          r.msg.includes("400") && r.msg.includes("bad data"),
        "the warning of the 400",
      );
      assert.match(warning.msg, /dropped \(rejected\)/);
      const { ok, output } = await promtoolCheck(
        (await rwStats(w.url, "flaky")).text,
      );
      assert.ok(ok, output);
      await until(
        () => (readCursor(s.data, "flaky")?.sent ?? 0) >= first.c.sent + 3000,
        "3 s more acknowledged by flaky",
        { weir: w },
      );
      await stopWeir(w);
      const sent = readCursor(s.data, "flaky")!.sent;

      for (const r of received) {
        assert.equal(r.headers.authorization, `Bearer ${secret}`, r.path);
        assert.equal(r.headers["content-encoding"], "snappy");
        assert.equal(r.headers["content-type"], "application/x-protobuf");
        assert.equal(r.headers["x-prometheus-remote-write-version"], "0.1.0");
      }
      assert.ok(!w.log().includes(secret), "the token is not in weir's output");
      // The start line names where each destination sends, without its query.
      assert.ok(
        w.records().some((r) =>
          r.msg ===
            `remote write "strict" sending the history to ${base}/strict` &&
          r.url === `${base}/strict`
        ),
        w.log(),
      );
      assert.ok(
        !w.log().includes("qk-5ecret-91"),
        "the query's key is not logged",
      );
      assert.ok(received.some((r) => r.path === "/strict"));

      // Every sample of the history up to the cursor arrived in an
      // acknowledged request (the 500s' samples came again).
      const got = new Map<string, Samples>();
      for (const r of received) {
        if (r.path !== "/flaky" || r.status !== 204) continue;
        for (const series of decodeBody(r.body)) {
          const k = key(Object.fromEntries(series.labels));
          const list = got.get(k) ?? [];
          for (const x of series.samples) {
            if (!Number.isNaN(x.value)) list.push([x.t, x.value]);
          }
          got.set(k, list);
        }
      }
      for (const [k, list] of got) {
        const unique = [...new Map(list.map((x) => [x[0], x])).values()];
        unique.sort((a, b) => a[0] - b[0]);
        const upTo = unique.filter(([t]) => t <= sent);
        if (upTo.length === 0) got.delete(k);
        else got.set(k, upTo);
      }
      const want = new Map<string, Samples>();
      for (const [k, series] of await onDisk(s.data)) {
        const samples = span(series, -Infinity, sent);
        if (samples.length > 0) want.set(k, samples);
      }
      assertSameSeries(got, want, "the fake receiver, up to the cursor");
      figure(
        `fake: ${received.length} requests, flaky failed ${first.st.failed} retried ${first.st.retried}; strict dropped ${strict.rejected}`,
      );
    } finally {
      killLeftovers();
      await new Promise((r) => server.close(r));
      server.closeAllConnections?.();
      rmSync(s.dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve refuses a bad remoteWrite setting at its start with exit code 2 and a sentence naming the problem",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-rw-bad-"));
    try {
      const url = "http://127.0.0.1:9/api/v1/write";
      const cases: [string, unknown[], string[], RegExp][] = [
        [
          "an unknown key",
          [{ url, batchDeadLine: "1s" }],
          [],
          /unknown key "batchDeadLine"/,
        ],
        [
          "a missing token file",
          [{ url, name: "central", bearerTokenFile: join(dir, "no-token") }],
          [],
          /remote write "central": cannot read the secret file .*no-token/,
        ],
        [
          "no history",
          [{ url }],
          ["--no-history"],
          /remote write sends from the metric history, which is off/,
        ],
        [
          "two destinations of one name",
          [{ url, name: "a" }, { url: url + "2", name: "a" }],
          [],
          /name "a" of another destination/,
        ],
        [
          "a URL with a user and password",
          [{ url: "http://alice:hunter2pw@127.0.0.1:9/api/v1/write" }],
          [],
          /must not hold a user or password/,
        ],
        [
          "a URL with a user and password, flag and debug log",
          [],
          [
            "--log-level",
            "debug",
            "--remote-write",
            "http://alice:hunter2pw@127.0.0.1:9/api/v1/write",
          ],
          /must not hold a user or password/,
        ],
        [
          // They would share a name, a cursor file and a metric series.
          "two --remote-write URLs of one host:port",
          [],
          [
            "--remote-write",
            "http://127.0.0.1:9/a",
            "--remote-write",
            "http://127.0.0.1:9/b",
          ],
          /name "127\.0\.0\.1:9" of another destination/,
        ],
      ];
      await Promise.all(
        cases.map(async ([what, remoteWrite, extra, message]) => {
          const config = join(dir, `${what.replaceAll(" ", "_")}.json`);
          writeFileSync(config, JSON.stringify({ remoteWrite }));
          const w = startWeir([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--data-dir",
            join(dir, "data-" + what.replaceAll(" ", "_")),
            "--config",
            config,
            ...extra,
          ]);
          // A weir that starts anyway is stopped when it says so.
          const started = w.logged(
            (r) => r.msg.startsWith("serving flows"),
            "listening",
          ).then(() => process.kill(w.child.pid!, "SIGTERM"), () => {});
          const exit = await w.exited;
          await started;
          assert.equal(exit.code, 2, `${what}: exit code\n${w.log()}`);
          assert.match(w.log(), message, what);
          assert.doesNotMatch(w.log(), /hunter2pw/, `${what}: password echoed`);
        }),
      );
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
