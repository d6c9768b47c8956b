/**
 * The connectors' edges found by a review (session 10): secrets across
 * redirects, settings that only failed at run time, fields lost to
 * `__proto__`, shadowed routes, bodies that are not UTF-8. Each test failed
 * before its fix.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import process from "node:process";
import { createServer } from "node:net";
import { httpRequest } from "../../src/components/http_request.ts";
import { SecretPolicy } from "../../src/components/_secret.ts";
import type { Network } from "../../src/engine/network.ts";
import { serve, type Server } from "../../src/runtime/serve.ts";
import { inTempDir, runComponent } from "./_helpers.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Component } from "../../src/engine/component.ts";
import { parseSwitchRules } from "../../src/components/switch_rules.ts";
import { CsvParse } from "../../src/components/csv.ts";
import { searchParamsObject } from "../../src/components/http_body.ts";
import { toHttpResponse } from "../../src/components/http_in.ts";
import { FileSandbox } from "../../src/components/file_sandbox.ts";
import {
  fsReadFile,
  fsReadLines,
  fsWriteLines,
} from "../../src/components/fs.ts";
import { fsTail } from "../../src/components/fs_tail.ts";
import { execRun } from "../../src/components/exec.ts";
import { ExecAllowList } from "../../src/components/exec_allow.ts";
import { problemsOf } from "./_graph_helpers.ts";
import { HttpInRouter } from "../../src/components/http_in_router.ts";
import { compileRoutePattern } from "../../src/components/http_route_pattern.ts";

/** What a server saw of a request. */
interface Seen {
  server: number;
  method: string;
  url: string;
  headers: Headers;
}

/** `n` local servers answering with `handler`, then `body`. */
async function withServers(
  n: number,
  handler: (
    server: number,
    req: Request,
    urls: string[],
    seen: Seen[],
  ) => Response | Promise<Response>,
  body: (urls: string[], seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const servers: Server[] = [];
  const urls: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = await serve(async (req) => {
        seen.push({
          server: i,
          method: req.method,
          url: req.url,
          headers: new Headers(req.headers),
        });
        await req.arrayBuffer();
        return handler(i, req, urls, seen);
      }, { hostname: "127.0.0.1", port: 0 });
      servers.push(s);
      urls.push(s.url);
    }
    await body(urls, seen);
  } finally {
    for (const s of servers) await s.close();
  }
}

/** Meter values of process T, `name{labels}` -> value. */
function meters(net: Network | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  net?.forEachMeter((p, m) => {
    if (p !== "T") return;
    const labels = Object.entries(m.labels).map(([k, v]) => `${k}=${v}`)
      .join(",");
    out[labels === "" ? m.spec.name : `${m.spec.name}{${labels}}`] = m.value;
  });
  return out;
}

test("http/Request retries a message with its token and content type after a cross-host redirect failed", async () => {
  const SECRET = "review-s10-token-9876";
  process.env.REVIEW_S10_TOKEN = SECRET;
  try {
    const Request = httpRequest({
      secrets: new SecretPolicy({ env: ["REVIEW_S10_TOKEN"] }),
    });
    await withServers(
      2,
      (server, _req, urls, seen) => {
        // Server 0: the first request is redirected (307 keeps the method
        // and body) to server 1, which is down (503); the retry is answered.
        if (server === 1) return new Response("down", { status: 503 });
        return seen.filter((s) => s.server === 0).length === 1
          ? new Response(null, {
            status: 307,
            headers: { location: `${urls[1]}/elsewhere` },
          })
          : new Response("ok");
      },
      async ([url], seen) => {
        const r = await runComponent(Request, {
          iips: {
            url,
            method: "POST",
            token: "env:REVIEW_S10_TOKEN",
            attempts: 2,
            backoff: 1,
          },
          input: [{ v: 1 }],
          capture: ["out", "error"],
        });
        assert.equal(r.outputs.out.length, 1);
        const toFirst = seen.filter((s) => s.server === 0);
        assert.equal(toFirst.length, 2);
        // Both attempts start the same way: the token and the JSON type
        // were sent to the origin server the second time too.
        assert.equal(
          toFirst[1].headers.get("authorization"),
          `Bearer ${SECRET}`,
          "the retry to the original host lost its Authorization header",
        );
        assert.equal(
          toFirst[1].headers.get("content-type"),
          "application/json",
        );
      },
    );
  } finally {
    delete process.env.REVIEW_S10_TOKEN;
  }
});

test("http/Request: a redirect whose Location does not parse is an error naming the request, and is counted", async () => {
  await withServers(
    1,
    () =>
      new Response(null, {
        status: 302,
        headers: { location: "http://[::1/x?key=from-location" },
      }),
    async ([url]) => {
      let net: Network | undefined;
      const r = await runComponent(httpRequest(), {
        iips: { url },
        input: [1],
        capture: ["out", "error"],
        onArrival: (_a, n) => net = n,
      });
      assert.equal(r.outputs.error.length, 1);
      const message = (r.outputs.error[0] as Error).message;
      assert.match(
        message,
        new RegExp(`Cannot GET ${url.replace(/[./]/g, "\\$&")}/?: `),
      );
      assert.doesNotMatch(message, /key=from-location/);
      const m = meters(net);
      assert.equal(
        (m["http_client_requests_total{result=http_error}"] ?? 0) +
          (m["http_client_requests_total{result=network_error}"] ?? 0),
        1,
        "the failed message is counted in http_client_requests_total",
      );
    },
  );
});

test("flow/Switch refuses an operator named after an Object.prototype member at validation", () => {
  // Node-RED's names are looked up in a plain object: "toString",
  // "valueOf", "constructor" and "hasOwnProperty" are found on its
  // prototype, pass as operators, and match every message.
  for (const op of ["toString", "valueOf", "constructor", "hasOwnProperty"]) {
    assert.throws(
      () => parseSwitchRules([{ op }]),
      /rules\[0\] has an unknown operator/,
      op,
    );
  }
});

test("csv/Parse refuses columns that name a field twice at validation", () => {
  // ["t", "t"]: each row keeps only its last field; the first is lost
  // silently (flow/Join refuses part names given twice, http/In a
  // parameter given twice).
  assert.throws(() => CsvParse.inPorts.columns.parse!(["t", "t"]), /twice/);
});

test("csv/Parse does not silently drop a field when the header row names it twice", async () => {
  const r = await runComponent(CsvParse, {
    input: ["a,a\n1,2\n"],
    capture: ["out", "error"],
  });
  const rows = r.outputs.out.flat() as Record<string, unknown>[];
  const kept = rows.length === 1 && JSON.stringify(rows[0]).includes('"1"');
  assert.ok(
    kept || r.outputs.error.length > 0,
    `the field "1" was dropped without an error: ${JSON.stringify(r.outputs)}`,
  );
});

test("a field or query parameter named __proto__ is kept (or refused), never silently dropped", async () => {
  // Assigning a string to obj["__proto__"] is ignored where the runtime
  // has the accessor (Bun): the value vanishes.
  const query = searchParamsObject("__proto__=1&b=2");
  assert.ok(
    Object.hasOwn(query, "__proto__"),
    `query parameter __proto__ lost: ${JSON.stringify(query)}`,
  );
  const r = await runComponent(CsvParse, {
    input: ["__proto__,b\n1,2\n"],
    capture: ["out", "error"],
  });
  const rows = r.outputs.out.flat() as Record<string, unknown>[];
  assert.ok(
    (rows.length === 1 && Object.hasOwn(rows[0], "__proto__")) ||
      r.outputs.error.length > 0,
    `csv field __proto__ lost without an error: ${JSON.stringify(rows)}`,
  );
});

test("a file path holding a NUL character is a validation problem, not a run-time failure", async () => {
  await inTempDir((dir) => {
    const root = join(dir, "data");
    mkdirSync(root);
    const sandbox = new FileSandbox({ root });
    for (
      const make of [fsReadLines, fsWriteLines, fsReadFile, fsTail] as ((
        s: FileSandbox,
      ) => Component)[]
    ) {
      const c = make(sandbox);
      assert.throws(() => c.inPorts.path.parse!("in/a\u0000.txt"), c.name);
    }
  });
});

test("http/Response sandboxes a body the browser would sniff as a page (no or an unknown content type)", () => {
  // A flow's answer with its own headers: text/html gets the CSP sandbox
  // and nosniff, but an empty or unknown type is sniffed by browsers (the
  // body starts with markup) and rendered as a page in weir's origin.
  for (const type of ["", "unknown/unknown", "*/*"]) {
    const res = toHttpResponse({
      requestId: 1,
      headers: { "content-type": type },
      body: "<html><script>fetch('/api/v1/flows')</script>",
    });
    assert.ok(
      /sandbox/.test(res.headers.get("content-security-policy") ?? "") ||
        res.headers.get("x-content-type-options") === "nosniff",
      `content-type ${JSON.stringify(type)}: ${
        JSON.stringify([...res.headers])
      }`,
    );
  }
});

test("http/Response sandboxes every type a browser may render as a page (text/xsl, multipart/x-mixed-replace), not only html, xml and svg", () => {
  // Chromium runs the XHTML script of a text/xsl answer in the server's
  // origin (found by session 17's review: it deleted a flow).
  const page = (type: string) =>
    toHttpResponse({
      requestId: 1,
      headers: { "content-type": type },
      body:
        "<html xmlns='http://www.w3.org/1999/xhtml'><script>1</script></html>",
    }).headers;
  for (
    const type of [
      "text/xsl",
      "multipart/x-mixed-replace; boundary=x",
      "application/xhtml+xml",
      "image/svg+xml",
      "text/html; charset=utf-8",
      "application/vnd.weird",
      "text/x-anything",
    ]
  ) {
    const h = page(type);
    assert.match(h.get("content-security-policy") ?? "", /sandbox/, type);
    assert.equal(h.get("x-content-type-options"), "nosniff", type);
  }
  for (
    const type of [
      "text/plain; charset=utf-8",
      "application/json",
      "application/problem+json",
      "text/csv",
      "application/octet-stream",
      "image/png",
      "video/mp4",
    ]
  ) {
    assert.equal(page(type).get("content-security-policy"), null, type);
  }
});

test("exec/Run refuses env variables that start another program or load code, as it refuses PAGER and BASH_ENV", () => {
  const parse = execRun(new ExecAllowList()).inPorts.env.parse!;
  for (
    const name of [
      // Programs started by less and man, like PAGER.
      "LESSOPEN",
      "LESSCLOSE",
      "MANPAGER",
      "SYSTEMD_PAGER",
      // Code or a module loaded from a file of the flow's choosing.
      "LUA_INIT",
      "PHPRC",
      "PHP_INI_SCAN_DIR",
      "OPENSSL_CONF",
    ]
  ) {
    assert.throws(
      () => parse({ [name]: "|/data/evil.sh %s" }),
      /may not be set/,
      name,
    );
  }
});

test("http/Request does not send its token over plain http after an https URL redirects to http on the same host", async () => {
  const SECRET = "review-s10-token-downgrade";
  process.env.REVIEW_S10_TOKEN_2 = SECRET;
  const realFetch = globalThis.fetch;
  const sent: { url: string; authorization: string | null }[] = [];
  // A stub network: the https URL answers a redirect to the same host
  // over http; what the http hop carries is what an eavesdropper reads.
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    sent.push({
      url,
      authorization: new Headers(init?.headers).get("authorization"),
    });
    return Promise.resolve(
      url.startsWith("https:")
        ? new Response(null, {
          status: 302,
          headers: { location: "http://api.example.com/next" },
        })
        : new Response("ok"),
    );
  }) as typeof fetch;
  try {
    const Request = httpRequest({
      secrets: new SecretPolicy({ env: ["REVIEW_S10_TOKEN_2"] }),
    });
    await runComponent(Request, {
      iips: {
        url: "https://api.example.com/start",
        token: "env:REVIEW_S10_TOKEN_2",
        attempts: 1,
      },
      input: [1],
      capture: ["out", "error"],
    });
    assert.equal(sent[0].authorization, `Bearer ${SECRET}`);
    for (const s of sent.filter((s) => s.url.startsWith("http:"))) {
      assert.equal(
        s.authorization,
        null,
        `the token went in clear text to ${s.url}`,
      );
    }
  } finally {
    globalThis.fetch = realFetch;
    delete process.env.REVIEW_S10_TOKEN_2;
  }
});

test("http/Request: a URL that does not parse is refused without showing its password or query", () => {
  // Errors show a URL without credentials and query (they may hold
  // secrets), but a URL that does not parse is quoted whole.
  const url = "https://deploy:hunter2-pass@api example.com/x?api_key=k-123";
  assert.throws(
    () => httpRequest().inPorts.url.parse!(url),
    (e: Error) =>
      /does not parse/.test(e.message) && !e.message.includes("hunter2") &&
      !e.message.includes("k-123"),
  );
});

test("core/Schedule settings that cannot run together are validation problems, not run-time failures", () => {
  // Each graph validates clean today and then fails as soon as it runs.
  for (
    const graph of [
      // every with a timezone: "timezone applies to cron only".
      "'5m' -> every S(core/Schedule)\n'Europe/Berlin' -> timezone S\nS out -> in O(core/Drop)",
      // cron and every: "takes cron or every, not both".
      "'5m' -> every S(core/Schedule)\n'0 * * * * *' -> cron S\nS out -> in O(core/Drop)",
      // neither.
      "'3' -> count S(core/Schedule)\nS out -> in O(core/Drop)",
    ]
  ) {
    assert.notDeepEqual(problemsOf(graph), [], graph);
  }
});

test("http/In: a route another route of the flow shadows entirely is refused, or still gets its own paths", async () => {
  // GET /a/:id added first, then GET /a/latest (or /a/* then /a/:x): the
  // second route is never reached, and nothing says so.
  for (
    const [first, second, path] of [
      ["/a/:id", "/a/latest", "/a/latest"],
      ["/a/*", "/a/:x", "/a/b"],
    ]
  ) {
    const router = new HttpInRouter();
    const route = (process: string, pattern: string) => ({
      flow: "f",
      process,
      methods: ["GET"],
      pattern: compileRoutePattern(pattern),
      timeoutMs: 1000,
      maxBodyBytes: 1024,
      maxPending: 10,
      deliver: (m: { requestId: number }) =>
        void router.respond("f", m.requestId, new Response(process)),
    });
    router.add(route("First", first));
    let refused = false;
    try {
      router.add(route("Second", second));
    } catch {
      refused = true;
    }
    if (refused) continue;
    const res = await router.handle(
      "f",
      path,
      new Request(`http://x/in/f${path}`),
    );
    assert.equal(
      await res?.text(),
      "Second",
      `${second} (added after ${first}) never gets ${path}`,
    );
  }
});

test("http/In refuses a JSON body that is not UTF-8 whether or not it declares its length", async () => {
  const router = new HttpInRouter();
  router.add({
    flow: "f",
    process: "P",
    methods: ["POST"],
    pattern: compileRoutePattern("/x"),
    timeoutMs: 1000,
    maxBodyBytes: 1024,
    maxPending: 10,
    deliver: (m) =>
      void router.respond("f", m.requestId, Response.json({ body: m.body })),
  });
  // {"a":"<ff fe>"}: chunked, it gets 400 "not valid UTF-8"; with a
  // Content-Length, the bytes become U+FFFD and the flow gets altered data.
  const bytes = new Uint8Array([
    0x7b,
    0x22,
    0x61,
    0x22,
    0x3a,
    0x22,
    0xff,
    0xfe,
    0x22,
    0x7d,
  ]);
  for (
    const headers of [
      { "content-type": "application/json", "transfer-encoding": "chunked" },
      {
        "content-type": "application/json",
        "content-length": String(bytes.length),
      },
    ] as Record<string, string>[]
  ) {
    const res = await router.handle(
      "f",
      "/x",
      new Request("http://x/in/f/x", { method: "POST", body: bytes, headers }),
    );
    assert.equal(res?.status, 400, JSON.stringify(headers));
    assert.match(await res!.text(), /not valid UTF-8/);
  }
  // A real U+FFFD (bytes EF BF BD) is valid UTF-8 and arrives as sent.
  const real = new TextEncoder().encode('{"a":"\uFFFD"}');
  const res = await router.handle(
    "f",
    "/x",
    new Request("http://x/in/f/x", {
      method: "POST",
      body: real,
      headers: {
        "content-type": "application/json",
        "content-length": String(real.length),
      },
    }),
  );
  assert.equal(res?.status, 200);
  assert.deepEqual(await res!.json(), { body: { a: "\uFFFD" } });
});

test('http/Request: a refused connection\'s error says why (not just "fetch failed"), without the query', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const r = await runComponent(httpRequest(), {
    iips: { url: `http://127.0.0.1:${port}/x?token=abc`, attempts: 1 },
    input: ["go"],
    capture: ["out", "error"],
  });
  const message = (r.outputs.error[0] as Error).message;
  // Deno's fetch says "fetch failed" and keeps the reason ("Connection
  // refused") in error.cause.message, which has no code to append.
  assert.match(message, /refused|ECONNREFUSED/i);
  assert.doesNotMatch(message, /token=abc/);
});

test("http/Request refuses a literal Authorization header in its headers setting, as its token port refuses a literal token", () => {
  // The token port takes only a secret reference ("env:NAME"), but the
  // same secret written as a header passes validation, is stored in the
  // graph and comes back in every API answer that shows the flow.
  const Request = httpRequest();
  for (const name of ["Authorization", "proxy-authorization"]) {
    assert.throws(
      () => Request.inPorts.headers.parse!({ [name]: "Bearer lit-secret-77" }),
      (e: Error) =>
        /token/.test(e.message) && !e.message.includes("lit-secret-77"),
      name,
    );
  }
});
