/**
 * The metrics endpoint over real sockets, where the socket is the point:
 * clients that leave early, stall or never finish their request, HEAD,
 * gzip, multi-MB bodies, the scrape cap, closing, and `weir run --metrics`
 * exiting. Everything else goes through `app.request()`.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import type {
  ExpositionFormat,
  MetricMetadata,
  MetricsSource,
} from "../../src/metrics/exposition.ts";
import { serve, type Server } from "../../src/runtime/serve.ts";
import { metricsApp } from "../../src/server/metrics_app.ts";
import { runtimeCommand } from "../_runtime.ts";

const TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const MAIN = join(import.meta.dirname!, "..", "..", "src", "cli", "main.ts");

/** A source with a fixed exposition whose renders can be held open. */
class HeldSource implements MetricsSource {
  /** How many renders have started. */
  started = 0;
  #gate: Promise<void> | undefined;
  #open: () => void = () => {};
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(public exposition = "# TYPE up gauge\nup 1\n") {}

  /** Renders from now on wait until {@linkcode release}. */
  hold(): void {
    this.#gate = new Promise((resolve) => this.#open = resolve);
  }

  release(): void {
    this.#gate = undefined;
    this.#open();
  }

  /** Resolves once `count` renders have started in all. */
  whenStarted(count: number): Promise<void> {
    if (this.started >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async render(_format: ExpositionFormat): Promise<string> {
    this.started++;
    for (const w of this.#waiters) if (this.started >= w.count) w.resolve();
    if (this.#gate) await this.#gate;
    return this.exposition;
  }

  metadata(): Record<string, MetricMetadata[]> {
    return {};
  }
}

/** An exposition of about `mb` megabytes, every line distinct. */
function bigExposition(mb: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < mb * 1_000_000; i++) {
    const line = `weir_process_messages_total{flow="f${
      i % 7
    }",process="p${i}",port="in",direction="in"} ${i * 37}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join("\n") + "\n";
}

/** A connected raw TCP socket to 127.0.0.1:port; errors are swallowed. */
async function openSocket(port: number, host = "127.0.0.1"): Promise<Socket> {
  const socket = connect({ host, port });
  socket.on("error", () => {});
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/** Everything a raw socket receives until the server closes it. */
function readAll(socket: Socket): Promise<string> {
  let out = "";
  socket.setEncoding("latin1");
  socket.on("data", (d: string) => out += d);
  return new Promise((resolve) => socket.once("close", () => resolve(out)));
}

/** Sends `payload` on a new connection, resolves with the whole reply. */
async function exchange(port: number, payload: string): Promise<string> {
  const socket = await openSocket(port);
  const all = readAll(socket);
  socket.write(payload);
  return await all;
}

/** Whether `promise` settles within `ms`, and how long it took. */
async function within(
  promise: Promise<unknown>,
  ms: number,
): Promise<{ settled: boolean; ms: number }> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  return { settled, ms: Math.round(performance.now() - start) };
}

/** `node:http` GET or HEAD: status, headers and the raw (undecoded) body. */
function nodeHttp(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Runs `body` with the metrics app of `source` served on 127.0.0.1:0. */
async function withMetricsServer(
  source: MetricsSource,
  body: (server: Server) => Promise<void>,
  maxConcurrentScrapes?: number,
): Promise<void> {
  const server = await serve(
    metricsApp(source, { maxConcurrentScrapes }).fetch,
  );
  try {
    await body(server);
  } finally {
    // A hung close must not hang the suite: the tests that are about
    // closing check it themselves.
    await within(server.close(), 2000);
  }
}

// ---- bodies over the wire ---------------------------------------------------

test("a real collector's /metrics arrives over a socket in text 0.0.4, plain and gzipped", async () => {
  const metrics = new MetricsCollector();
  await withMetricsServer(metrics, async (server) => {
    const plain = await nodeHttp(server.port, "/metrics");
    assert.equal(plain.status, 200);
    assert.equal(plain.headers["content-type"], TEXT_TYPE);
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(Number(plain.headers["content-length"]), plain.body.length);
    assert.match(plain.body.toString("utf8"), /^# TYPE \w+ \w+$/m);

    const zipped = await nodeHttp(server.port, "/metrics", {
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.equal(zipped.headers["content-encoding"], "gzip");
    assert.equal(Number(zipped.headers["content-length"]), zipped.body.length);
    assert.match(gunzipSync(zipped.body).toString("utf8"), /^# TYPE /m);
  });
});

test("an 8 MB exposition arrives whole over a socket: fetch (auto-gunzip), node:http gzip, node:http plain", async () => {
  const source = new HeldSource(bigExposition(8));
  await withMetricsServer(source, async (server) => {
    const viaFetch = await fetch(`${server.url}/metrics`, {
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.equal(viaFetch.status, 200);
    assert.equal(viaFetch.headers.get("content-encoding"), "gzip");
    assert.ok(await viaFetch.text() === source.exposition, "fetch body");

    const zipped = await nodeHttp(server.port, "/metrics", {
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.ok(zipped.body.length < source.exposition.length / 5);
    assert.ok(
      gunzipSync(zipped.body).toString("utf8") === source.exposition,
      "node:http gzip body",
    );

    const plain = await nodeHttp(server.port, "/metrics");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.length, source.exposition.length);
    assert.ok(plain.body.toString("utf8") === source.exposition);
  });
});

test("HEAD /metrics over a socket announces the Content-Length a GET has, not 0", async () => {
  // RFC 9110 8.6: a Content-Length in a HEAD response must be the size the
  // GET would send; `curl -I` and uptime checkers show it.
  const source = new HeldSource(bigExposition(0.1));
  await withMetricsServer(source, async (server) => {
    const variants: Record<string, string>[] = [{}, {
      "Accept-Encoding": "gzip",
    }];
    for (const headers of variants) {
      const get = await nodeHttp(server.port, "/metrics", { headers });
      const head = await nodeHttp(server.port, "/metrics", {
        method: "HEAD",
        headers,
      });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.equal(
        head.headers["content-encoding"],
        get.headers["content-encoding"],
      );
      const length = head.headers["content-length"];
      assert.ok(
        length === undefined || Number(length) === get.body.length,
        `HEAD says content-length: ${length}, the GET sent ${get.body.length} bytes (${
          JSON.stringify(headers)
        })`,
      );
    }
  });
});

test("a GET /metrics with a body is answered, and so is the request pipelined after it", async () => {
  const source = new HeldSource();
  await withMetricsServer(source, async (server) => {
    const reply = await exchange(
      server.port,
      "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
        "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const statuses = reply.match(/HTTP\/1\.1 \d{3}/g);
    assert.deepEqual(statuses, ["HTTP/1.1 200", "HTTP/1.1 200"], reply);
    assert.ok(reply.includes(source.exposition));
    assert.ok(reply.endsWith('{"status":"success","data":{}}'), reply);
  });
});

// ---- clients that go away ---------------------------------------------------

test("a scraper that disconnects mid-render gives its slot back, and the server keeps serving", async () => {
  const source = new HeldSource();
  await withMetricsServer(source, async (server) => {
    source.hold();
    const socket = await openSocket(server.port);
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    await source.whenStarted(1);
    socket.destroy();
    // The slot is taken while the orphaned render runs...
    assert.equal((await fetch(`${server.url}/metrics`)).status, 503);
    source.release();
    // ...and given back once it ends, with nobody left to answer.
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), source.exposition);
  }, 1);
});

test("clients that hang up while a multi-MB body is being written leave the server serving", async () => {
  const source = new HeldSource(bigExposition(4));
  await withMetricsServer(source, async (server) => {
    for (let i = 0; i < 5; i++) {
      const socket = await openSocket(server.port);
      socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise((r) => socket.once("data", r));
      socket.destroy();
    }
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.ok((await res.text()) === source.exposition);
  });
});

// ---- the scrape cap over real sockets ---------------------------------------

test("over real sockets the scraper beyond the cap gets 503 with Retry-After at once, the others 200", async () => {
  const source = new HeldSource();
  await withMetricsServer(source, async (server) => {
    source.hold();
    const held = [1, 2].map(() => nodeHttp(server.port, "/metrics"));
    await source.whenStarted(2);
    const refused = await nodeHttp(server.port, "/metrics");
    assert.equal(refused.status, 503);
    assert.equal(refused.headers["retry-after"], "1");
    assert.match(refused.body.toString(), /too many concurrent scrapes: 2/);
    assert.equal(source.started, 2, "a refused scrape does not render");
    source.release();
    for (const res of await Promise.all(held)) {
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), source.exposition);
    }
  }, 2);
});

// ---- paths, queries and methods (no socket needed) --------------------------

test("GET /metrics with a query string, as Prometheus `params:` sends, serves the exposition", async () => {
  const source = new HeldSource();
  const app = metricsApp(source);
  for (
    const path of ["/metrics?x=1", "/metrics?module=a&module=b", "/metrics?"]
  ) {
    const res = await app.request(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-type"), TEXT_TYPE, path);
    assert.equal(await res.text(), source.exposition, path);
  }
});

test("GET /%6Detrics is /metrics; /metrics%2F and //metrics are not", async () => {
  const app = metricsApp(new HeldSource());
  assert.equal((await app.request("/%6Detrics")).status, 200);
  assert.equal((await app.request("/metrics%2F")).status, 404);
  assert.equal((await app.request("//metrics")).status, 404);
});

test("OPTIONS /metrics answers 405 with Allow: GET, HEAD and renders nothing", async () => {
  const source = new HeldSource();
  const res = await metricsApp(source).request("/metrics", {
    method: "OPTIONS",
  });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "GET, HEAD");
  assert.equal(source.started, 0);
});

// ---- closing ----------------------------------------------------------------

test("close() during a gzip scrape waits for it, and closes an idle keep-alive connection", async () => {
  const source = new HeldSource(bigExposition(1));
  const server = await serve(metricsApp(source).fetch);
  const idle = await openSocket(server.port);
  const idleClosed = new Promise((r) => idle.once("close", r));
  idle.write("GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((r) => idle.once("data", r));

  source.hold();
  const scrape = nodeHttp(server.port, "/metrics", {
    headers: { "Accept-Encoding": "gzip" },
  });
  await source.whenStarted(1);
  let closed = false;
  const closing = server.close().then(() => closed = true);
  await idleClosed;
  assert.equal(closed, false, "close() waits for the scrape in flight");
  source.release();
  const res = await scrape;
  assert.equal(res.status, 200);
  assert.ok(gunzipSync(res.body).toString("utf8") === source.exposition);
  assert.equal((await within(closing, 2000)).settled, true);
  await assert.rejects(fetch(`${server.url}/metrics`), TypeError);
});

test("close() cuts a client that sent half a request after closeGraceMs", {
  timeout: 10_000,
}, async () => {
  const server = await serve(metricsApp(new HeldSource()).fetch, {
    closeGraceMs: 500,
  });
  const socket = await openSocket(server.port);
  try {
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    // The server has read the partial head before close() is called.
    await new Promise((r) => setTimeout(r, 50));
    const { settled, ms } = await within(server.close(), 2500);
    assert.ok(
      settled,
      `close() still pending after ${ms} ms: a half-sent request holds it`,
    );
  } finally {
    socket.destroy();
    await within(server.close(), 1000);
  }
});

test(
  "close() does not wait forever for a scraper that stopped reading its response",
  {
    timeout: 15_000,
  },
  async () => {
    // A stalled scraper (or a paused container) must not keep weir from
    // exiting on SIGTERM: close() needs a bound on how long it lets a
    // response that nobody reads go on.
    const source = new HeldSource(bigExposition(20));
    const server = await serve(metricsApp(source).fetch, {
      closeGraceMs: 1000,
    });
    const socket = await openSocket(server.port);
    try {
      socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise((r) => socket.once("data", r));
      socket.pause();
      const { settled, ms } = await within(server.close(), 6000);
      assert.ok(
        settled,
        `close() still pending after ${ms} ms while a scraper does not read`,
      );
    } finally {
      socket.destroy();
      await within(server.close(), 1000);
    }
  },
);

test("serve() listens again on the port of a closed server that had a live connection", async () => {
  const first = await serve(() => new Response("first"));
  const port = first.port;
  const socket = await openSocket(port);
  const gone = new Promise((r) => socket.once("close", r));
  socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((r) => socket.once("data", r));
  await first.close();
  await gone;
  const second = await serve(() => new Response("second"), { port });
  try {
    assert.equal(await (await fetch(second.url)).text(), "second");
  } finally {
    await second.close();
  }
});

// ---- addresses --------------------------------------------------------------

test("serve() on 0.0.0.0 answers on loopback, and its url reaches it on this machine", async () => {
  const server = await serve(() => new Response("any"), {
    hostname: "0.0.0.0",
  });
  try {
    assert.equal(server.url, `http://0.0.0.0:${server.port}`);
    assert.equal(await (await fetch(server.url)).text(), "any");
    assert.equal(
      await (await fetch(`http://127.0.0.1:${server.port}`)).text(),
      "any",
    );
  } finally {
    await server.close();
  }
});

test("serve() on an unknown hostname says the hostname does not resolve", async () => {
  // .invalid never resolves (RFC 6761); the operator typed
  // `--metrics metrics.invalid:9464`. Offline, the lookup fails too.
  await assert.rejects(
    serve(() => new Response(""), {
      hostname: "weir-no-such-host.invalid",
    }),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(
        error.message,
        /^cannot listen on weir-no-such-host\.invalid:0: cannot resolve hostname "weir-no-such-host\.invalid" \([A-Z_]+\)$/,
      );
      return true;
    },
  );
});

// ---- weir run --metrics -----------------------------------------------------

/**
 * Runs `weir run <finite graph> --metrics 127.0.0.1:0` in a child process;
 * `onListening` gets the metrics port. Kills the child after `limitMs`.
 */
async function runWithMetrics(
  limitMs: number,
  onListening: (port: number) => Promise<void> | void,
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
10 -> count Tick
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
    const r = await runWithMetrics(8000, async (port) => {
      // A scraper on a keep-alive connection, as Prometheus keeps one.
      socket = await openSocket(port);
      socket.setEncoding("latin1");
      socket.on("data", (d: string) => scraped += d);
      socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    });
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

// ---- slow -------------------------------------------------------------------

test(
  "a scrape whose render takes 13 s is answered, not cut by the server's idle timeout",
  { timeout: 30_000 },
  async () => {
    // A big flow or a slow user collect under a Prometheus scrape_timeout of
    // 15 s or more; Bun.serve's default idleTimeout is 10 s.
    const source = {
      render: () =>
        new Promise<string>((r) => setTimeout(() => r("up 1\n"), 13_000)),
      metadata: () => ({}),
    };
    await withMetricsServer(source, async (server) => {
      const res = await nodeHttp(server.port, "/metrics");
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "up 1\n");
    }, 1);
  },
);
