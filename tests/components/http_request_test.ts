/**
 * `http/Request` against a real local server (weir's `serve()` on
 * 127.0.0.1 at a free port): retries on 503 then success, a timeout, a
 * network error, 4xx, the host allow list, the token as a secret reference,
 * and its meters.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { httpRequest } from "../../src/components/http_request.ts";
import { SecretPolicy } from "../../src/components/_secret.ts";
import { restrictComponent } from "../../src/engine/flow_allow.ts";
import type { Network } from "../../src/engine/network.ts";
import { serve, type Server } from "../../src/runtime/serve.ts";
import { runComponent } from "./_helpers.ts";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateFlow, validateGraph } from "../../src/graph/validate.ts";
import { formatProblem } from "../../src/graph/problem.ts";

/** What the server saw of a request. */
interface Seen {
  url: string;
  headers: Headers;
}

/** A local server answering with `handler`; counts requests. */
async function withServer(
  handler: (req: Request, n: number) => Response | Promise<Response>,
  body: (url: string, seen: Seen[], bodies: string[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const bodies: string[] = [];
  const server: Server = await serve(async (req) => {
    // Copied: Deno closes a request once it is answered.
    seen.push({ url: req.url, headers: new Headers(req.headers) });
    bodies.push(await req.text());
    return handler(req, seen.length);
  }, { hostname: "127.0.0.1", port: 0 });
  try {
    await body(server.url, seen, bodies);
  } finally {
    await server.close();
  }
}

/** Meter values of the process under test, `name{labels}` -> value. */
function meters(net: Network | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  net?.forEachMeter((process, m) => {
    if (process !== "T") return;
    const labels = Object.entries(m.labels).map(([k, v]) => `${k}=${v}`).join(
      ",",
    );
    out[labels === "" ? m.spec.name : `${m.spec.name}{${labels}}`] = m.value;
  });
  return out;
}

test("http/Request retries a 503 with backoff, then sends the 200 response (JSON body parsed) to out", async () => {
  await withServer(
    (_req, n) =>
      n < 3
        ? new Response("busy", { status: 503 })
        : Response.json({ ok: true, n }, { headers: { "x-n": String(n) } }),
    async (url, seen, bodies) => {
      let net: Network | undefined;
      const r = await runComponent(httpRequest(), {
        iips: {
          url: `${url}/readings?src=a`,
          method: "POST",
          attempts: 3,
          backoff: "10ms",
        },
        input: [{ sensor: "s1", v: 21.5 }],
        capture: ["out", "error"],
        onArrival: (_a, n) => net = n,
      });
      assert.deepEqual(r.outputs.error, []);
      assert.equal(r.outputs.out.length, 1);
      const res = r.outputs.out[0] as {
        status: number;
        headers: Record<string, string>;
        body: unknown;
      };
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-n"], "3");
      assert.deepEqual(res.body, { ok: true, n: 3 });
      assert.equal(seen.length, 3);
      assert.equal(new URL(seen[0].url).search, "?src=a");
      assert.equal(seen[0].headers.get("content-type"), "application/json");
      assert.deepEqual(JSON.parse(bodies[2]), { sensor: "s1", v: 21.5 });
      const m = meters(net);
      assert.equal(m["http_client_requests_total{result=ok}"], 1);
      assert.equal(m["http_client_retries_total"], 2);
    },
  );
});

test("http/Request: a message gives url, method, headers, query and body; a plain value is the body", async () => {
  await withServer(
    (req) => new Response(`${req.method} ${new URL(req.url).search}`),
    async (url, seen, bodies) => {
      const r = await runComponent(httpRequest(), {
        iips: { url: `${url}/a`, method: "PUT", headers: { "x-app": "weir" } },
        input: [
          "plain text",
          {
            url: `${url}/b`,
            method: "patch",
            headers: { "x-extra": "1" },
            query: { from: 3, tag: ["a", "b"] },
            body: new Uint8Array([1, 2]),
          },
        ],
        capture: ["out", "error"],
      });
      assert.deepEqual(r.outputs.error, []);
      assert.deepEqual(
        r.outputs.out.map((o) => (o as { body: unknown }).body),
        ["PUT ", "PATCH ?from=3&tag=a&tag=b"],
      );
      assert.equal(
        seen[0].headers.get("content-type"),
        "text/plain;charset=UTF-8",
      );
      assert.equal(bodies[0], "plain text");
      assert.equal(seen[1].headers.get("x-app"), "weir");
      assert.equal(seen[1].headers.get("x-extra"), "1");
      assert.equal(
        seen[1].headers.get("content-type"),
        "application/octet-stream",
      );
    },
  );
});

test("http/Request: a 4xx goes to error at once (no retry), a 5xx after every attempt, each naming method, URL without query, and status", async () => {
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/missing"
        ? new Response("no", { status: 404 })
        : new Response("down", { status: 500 }),
    async (url, seen) => {
      let net: Network | undefined;
      const r = await runComponent(httpRequest(), {
        iips: { attempts: 2, backoff: 1 },
        input: [
          { url: `${url}/missing?key=SECRET` },
          { url: `${url}/broken` },
        ],
        capture: ["out", "error"],
        onArrival: (_a, n) => net = n,
      });
      assert.deepEqual(r.outputs.out, []);
      const messages = r.outputs.error.map((e) => (e as Error).message);
      assert.match(
        messages[0],
        /Cannot GET http:\/\/127\.0\.0\.1:\d+\/missing: the server answered 404/,
      );
      assert.doesNotMatch(messages[0], /SECRET/);
      assert.match(
        messages[1],
        /\/broken: the server answered 500.*\(2 attempts\)/,
      );
      assert.equal(seen.length, 3);
      const m = meters(net);
      assert.equal(m["http_client_requests_total{result=http_error}"], 2);
      assert.equal(m["http_client_retries_total"], 1);
    },
  );
});

test("http/Request: a response larger than maxBody goes to error at once, not retried (the server would send it again)", async () => {
  await withServer(
    () => new Response("x".repeat(2000)),
    async (url, seen) => {
      let net: Network | undefined;
      const r = await runComponent(httpRequest(), {
        iips: { attempts: 3, backoff: 1, maxBody: 1000 },
        input: [{ url: `${url}/big` }],
        capture: ["out", "error"],
        onArrival: (_a, n) => net = n,
      });
      assert.deepEqual(r.outputs.out, []);
      const message = (r.outputs.error[0] as Error).message;
      assert.match(
        message,
        /Cannot GET http:\/\/127\.0\.0\.1:\d+\/big: the response body is larger than 1000 bytes \(status 200\)$/,
      );
      assert.equal(seen.length, 1);
      const m = meters(net);
      assert.equal(m["http_client_retries_total"] ?? 0, 0);
      assert.equal(
        m["http_client_requests_total{result=network_error}"] ?? 0,
        0,
      );
    },
  );
});

test("http/Request: an attempt past its timeout is retried, then goes to error as a timeout", async () => {
  await withServer(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return new Response("late");
    },
    async (url, seen) => {
      let net: Network | undefined;
      const r = await runComponent(httpRequest(), {
        iips: { url, timeout: "50ms", attempts: 2, backoff: 1 },
        input: [1],
        capture: ["out", "error"],
        onArrival: (_a, n) => net = n,
      });
      assert.deepEqual(r.outputs.out, []);
      assert.match(
        (r.outputs.error[0] as Error).message,
        /no answer within 50 ms \(2 attempts\)/,
      );
      assert.equal(seen.length, 2);
      assert.equal(
        meters(net)["http_client_requests_total{result=timeout}"],
        1,
      );
    },
  );
});

test("http/Request: a refused connection is a network error on the error port after the retries", async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  let net: Network | undefined;
  const r = await runComponent(httpRequest(), {
    iips: {
      url: `http://127.0.0.1:${port}/x?token=abc`,
      attempts: 2,
      backoff: 1,
    },
    input: ["go"],
    capture: ["out", "error"],
    onArrival: (_a, n) => net = n,
  });
  assert.deepEqual(r.outputs.out, []);
  const message = (r.outputs.error[0] as Error).message;
  assert.match(
    message,
    new RegExp(`Cannot GET http://127.0.0.1:${port}/x: .*\\(2 attempts\\)`),
  );
  assert.doesNotMatch(message, /token=abc/);
  const m = meters(net);
  assert.equal(m["http_client_requests_total{result=network_error}"], 1);
  assert.equal(m["http_client_retries_total"], 1);
});

test("http/Request: the host allow list refuses a URL setting at validation and a message's URL or a redirect at run time", async () => {
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/hop"
        ? new Response(null, {
          status: 302,
          headers: { location: "http://localhost:1/elsewhere" },
        })
        : new Response("fine"),
    async (url, seen) => {
      const server = httpRequest({ hosts: ["127.0.0.1", "*.example.com"] });
      // The server's list: a URL setting outside it is a validation error.
      assert.throws(
        () => server.inPorts.url.parse!("https://evil.example/x"),
        /Cannot reach host "evil\.example": it is not in the allow list/,
      );
      assert.equal(
        server.inPorts.url.parse!("https://api.example.com/x"),
        "https://api.example.com/x",
      );
      // A flow's allow.hosts narrows it further.
      const flow = restrictComponent(server, { hosts: ["api.example.com"] });
      assert.throws(
        () => flow.inPorts.url.parse!(`${url}/x`),
        /not in the allow list \("api\.example\.com"/,
      );
      const r = await runComponent(
        restrictComponent(server, { hosts: ["127.0.0.1"] }),
        {
          input: [
            { url: "http://localhost:9/x" },
            { url: `${url}/hop` },
            { url: `${url}/ok` },
          ],
          capture: ["out", "error"],
        },
      );
      const messages = r.outputs.error.map((e) => (e as Error).message);
      assert.match(messages[0], /Cannot reach host "localhost:9"/);
      assert.match(
        messages[1],
        /redirected to another host: Cannot reach host "localhost:1"/,
      );
      assert.deepEqual(
        r.outputs.out.map((o) => (o as { body: unknown }).body),
        ["fine"],
      );
      // Neither the refused URL nor the redirect's target was fetched.
      assert.deepEqual(seen.map((s) => new URL(s.url).pathname), [
        "/hop",
        "/ok",
      ]);
    },
  );
});

test("http/Request: the token is a secret reference, sent as a bearer token and never in an error", async () => {
  const SECRET = "s3cr3t-token-value-1234";
  process.env.HTTP_REQUEST_TEST_TOKEN = SECRET;
  try {
    // The operator allowed the variable (--secret-env); without it, refused.
    assert.throws(
      () => httpRequest().inPorts.token.parse!("env:HTTP_REQUEST_TEST_TOKEN"),
      /--secret-env HTTP_REQUEST_TEST_TOKEN/,
    );
    const Request = httpRequest({
      secrets: new SecretPolicy({ env: ["HTTP_REQUEST_TEST_TOKEN"] }),
    });
    assert.throws(
      () => Request.inPorts.token.parse!(SECRET),
      (e: Error) =>
        !e.message.includes(SECRET) && /secret reference/.test(e.message),
    );
    await withServer(
      (req) =>
        req.headers.get("authorization") === `Bearer ${SECRET}`
          ? new Response("in")
          : new Response("no", { status: 401 }),
      async (url) => {
        const r = await runComponent(Request, {
          iips: { url, token: "env:HTTP_REQUEST_TEST_TOKEN" },
          input: [1, { url: `${url}/other`, headers: { authorization: "x" } }],
          capture: ["out", "error"],
        });
        assert.deepEqual(
          r.outputs.out.map((o) => (o as { body: unknown }).body),
          [
            "in",
            "in",
          ],
        );
        assert.deepEqual(r.outputs.error, []);
      },
    );
    // The server refusing it: the error names the status, never the token.
    await withServer(
      () => new Response("no", { status: 403 }),
      async (url) => {
        const r = await runComponent(Request, {
          iips: { url, token: "env:HTTP_REQUEST_TEST_TOKEN" },
          input: [1],
          capture: ["out", "error"],
        });
        const message = (r.outputs.error[0] as Error).message;
        assert.match(message, /answered 403/);
        assert.doesNotMatch(message, new RegExp(SECRET));
      },
    );
  } finally {
    delete process.env.HTTP_REQUEST_TEST_TOKEN;
  }
});

test("http/Request: a token a header cannot carry (a line break, a NUL) fails the flow's start naming its reference, never quoting it", async () => {
  // On Deno, Headers' own error quotes the value: "Invalid header value:
  // \"Bearer ...\"", which went to the error port and the log each time.
  for (
    const token of ["abc\nSECRET-PART", "abc\rSECRET-PART", "abc\0SECRET-PART"]
  ) {
    const Request = httpRequest({
      secrets: new SecretPolicy({
        env: ["TOKEN"],
        environment: { TOKEN: token },
      }),
    });
    await withServer(
      () => new Response("in"),
      async (url, seen) => {
        await assert.rejects(
          runComponent(Request, {
            iips: { url, token: "env:TOKEN" },
            input: [1],
            capture: ["out", "error"],
          }),
          (e: Error) =>
            /Cannot use the token env:TOKEN: it holds a line break/.test(
              e.message,
            ) && !e.message.includes("SECRET-PART"),
        );
        assert.equal(seen.length, 0);
      },
    );
  }
  // A line break at either end is dropped, as Headers does.
  const Request = httpRequest({
    secrets: new SecretPolicy({
      env: ["TOKEN"],
      environment: { TOKEN: "tok\n" },
    }),
  });
  await withServer(
    (req) => new Response(req.headers.get("authorization")),
    async (url) => {
      const r = await runComponent(Request, {
        iips: { url, token: "env:TOKEN" },
        input: [1],
      });
      assert.deepEqual(
        r.outputs.out.map((o) => (o as { body: unknown }).body),
        ["Bearer tok"],
      );
    },
  );
});

test("http/Request: every Set-Cookie of an answer reaches out, one per line; other repeated headers joined by a comma", async () => {
  await withServer(
    () => {
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append(
        "set-cookie",
        "session=abc; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
      );
      headers.append("set-cookie", "theme=dark");
      headers.append("x-many", "1");
      headers.append("x-many", "2");
      return new Response("ok", { headers });
    },
    async (url) => {
      const r = await runComponent(httpRequest(), {
        iips: { url },
        input: [1],
      });
      const headers = (r.outputs.out[0] as { headers: Record<string, string> })
        .headers;
      assert.equal(
        headers["set-cookie"],
        "session=abc; Expires=Wed, 21 Oct 2037 07:28:00 GMT\ntheme=dark",
      );
      assert.equal(headers["x-many"], "1, 2");
    },
  );
});

test("http/Request: a URL that does not parse, another scheme and an unknown method are refused when the graph is validated", () => {
  const Request = httpRequest();
  assert.throws(
    () => Request.inPorts.url.parse!("api.example.com/x"),
    /does not parse/,
  );
  assert.throws(
    () => Request.inPorts.url.parse!("ftp://example.com/"),
    /only http: and https:/,
  );
  assert.throws(
    () => Request.inPorts.method.parse!("FETCH"),
    /unknown HTTP method "FETCH"/,
  );
  assert.throws(() => Request.inPorts.attempts.parse!(0), /from 1 to 100/);
});

test("http/Request: a url setting with a user name or password is a validation problem with its line:col that does not show the password", () => {
  const found = validateGraph(
    loadGraph(
      [
        "# @name post",
        "'http://user:hunter2pass@127.0.0.1:18080/bad?api_key=QSECRET123' -> url Post(http/Request)",
        "'POST' -> method Post",
      ].join("\n"),
      { file: "flow.fbp" },
    ),
    builtins(),
  ).map((p) => formatProblem(p, "flow.fbp"));
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:2:\d+: .*"url" of "Post" \(http\/Request\).*Cannot use URL "http:\/\/127\.0\.0\.1:18080\/bad": it must not hold a user name or password \(not shown\); give a bearer token as a secret reference on the token port/,
  );
  assert.doesNotMatch(found[0], /hunter2pass|QSECRET123|user:/);
});

test("http/Request: a message's URL with a user name or password is an error of that message, not sent, the password not shown", async () => {
  await withServer(
    () => new Response("fine"),
    async (url, seen) => {
      const withUser = url.replace("http://", "http://user:hunter2pass@");
      const r = await runComponent(httpRequest(), {
        input: [{ url: `${withUser}/bad?api_key=QSECRET123` }, {
          url: `${url}/ok`,
        }],
        capture: ["out", "error"],
      });
      const messages = r.outputs.error.map((e) => (e as Error).message);
      assert.equal(messages.length, 1, messages.join("\n"));
      assert.match(
        messages[0],
        /Cannot use URL "http:\/\/127\.0\.0\.1:\d+\/bad": it must not hold a user name or password \(not shown\); send a token from the token port or an authorization header in the message/,
      );
      assert.doesNotMatch(messages[0], /hunter2pass|QSECRET123/);
      assert.deepEqual(seen.map((s) => new URL(s.url).pathname), ["/ok"]);
    },
  );
});

test("http/Request: secretHeaders sends headers made of secrets (a scheme of the flow's choosing too), over the setting's and the message's values", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-secret-headers-"));
  try {
    writeFileSync(join(dir, "influx"), "inf-SECRET-1\n");
    const Request = httpRequest({
      secrets: new SecretPolicy({
        dir,
        env: ["API_KEY"],
        environment: { API_KEY: "key-SECRET-2" },
      }),
    });
    await withServer(
      () => new Response("in"),
      async (url, seen) => {
        const r = await runComponent(Request, {
          iips: {
            url,
            headers: { "X-Api-Key": "placeholder", "X-Other": "1" },
            secretHeaders: {
              "X-Api-Key": "env:API_KEY",
              Authorization: "Token file:influx",
            },
          },
          input: [1, { headers: { "x-api-key": "from-message" } }],
          capture: ["out", "error"],
        });
        assert.deepEqual(r.outputs.error, []);
        assert.equal(seen.length, 2);
        for (const s of seen) {
          assert.equal(s.headers.get("x-api-key"), "key-SECRET-2");
          assert.equal(s.headers.get("authorization"), "Token inf-SECRET-1");
          assert.equal(s.headers.get("x-other"), "1");
        }
      },
    );
    // A value, a prefix or a reference the policy refuses: refused at
    // validation, the value never quoted.
    const parse = Request.inPorts.secretHeaders.parse!;
    assert.throws(
      () => parse({ "X-Api-Key": "key-SECRET-2" }),
      (e: Error) =>
        /header "X-Api-Key": expected a secret reference, "env:NAME" or "file:NAME", maybe after a scheme and a space \("Token env:NAME"\); received a string of 12 characters \(not shown\)/
          .test(e.message) && !e.message.includes("SECRET"),
    );
    assert.throws(
      () => parse({ Authorization: "Basic dXNlcjpTRUNSRVQ= extra" }),
      (e: Error) =>
        /expected a secret reference/.test(e.message) &&
        !e.message.includes("dXNlcjpTRUNSRVQ"),
    );
    assert.throws(
      () => parse({ "X-Api-Key": "env:HOME" }),
      /header "X-Api-Key": .*--secret-env HOME/,
    );
    assert.throws(
      () => parse({ "bad name": "env:API_KEY" }),
      /not a valid header name/,
    );
    assert.throws(
      () => parse({ "X-A": "env:API_KEY", "x-a": "env:API_KEY" }),
      /header "x-a" is given twice/,
    );
    assert.throws(
      () => parse("env:API_KEY"),
      /expected secretHeaders as an object/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("http/Request: a secret a header cannot carry fails the flow's start naming its reference; a redirect to another origin drops every secret header", async () => {
  const Broken = httpRequest({
    secrets: new SecretPolicy({
      env: ["KEY"],
      environment: { KEY: "abc\nSECRET-PART" },
    }),
  });
  await assert.rejects(
    runComponent(Broken, {
      iips: {
        url: "http://127.0.0.1:9/",
        secretHeaders: { "X-Key": "env:KEY" },
      },
      input: [1],
    }),
    (e: Error) =>
      /Cannot use the secret env:KEY: it holds a line break, a NUL or a character beyond U\+00FF, which a x-key header cannot carry/
        .test(e.message) && !e.message.includes("SECRET-PART"),
  );
  const Request = httpRequest({
    secrets: new SecretPolicy({
      env: ["KEY"],
      environment: { KEY: "k-SECRET" },
    }),
  });
  await withServer(
    () => new Response("elsewhere"),
    async (other, elsewhere) => {
      await withServer(
        (req) =>
          new URL(req.url).pathname === "/hop"
            ? new Response(null, {
              status: 302,
              headers: { location: `${other}/landed` },
            })
            : new Response("same"),
        async (url, seen) => {
          const r = await runComponent(Request, {
            iips: {
              secretHeaders: {
                "X-Key": "env:KEY",
                Authorization: "Key env:KEY",
              },
            },
            input: [{ url: `${url}/hop` }],
            capture: ["out", "error"],
          });
          assert.deepEqual(r.outputs.error, []);
          assert.equal(seen[0].headers.get("x-key"), "k-SECRET");
          assert.equal(seen[0].headers.get("authorization"), "Key k-SECRET");
          assert.equal(elsewhere.length, 1);
          assert.equal(elsewhere[0].headers.get("x-key"), null);
          assert.equal(elsewhere[0].headers.get("authorization"), null);
        },
      );
    },
  );
});

test("http/Request: token and an Authorization in secretHeaders together, or secretHeaders that is not an object, are validation problems that show no value", () => {
  const components = builtins({
    secrets: { env: ["TOKEN", "KEY"], environment: {} },
  });
  const problems = (lines: string[]) =>
    validateFlow(
      loadGraph(["# @name post", ...lines].join("\n"), { file: "flow.fbp" }),
      components,
    ).map((p) => formatProblem(p, "flow.fbp"));
  const both = problems([
    "'http://127.0.0.1:18080/' -> url Post(http/Request)",
    "'env:TOKEN' -> token Post",
    `'{"authorization": "Token env:KEY"}' -> secretHeaders Post`,
  ]);
  assert.equal(both.length, 1, both.join("\n"));
  assert.match(
    both[0],
    /process "Post": both token and secretHeaders give the Authorization header/,
  );
  const notObject = problems([
    "'http://127.0.0.1:18080/' -> url Post(http/Request)",
    "'hunter2-SECRET' -> secretHeaders Post",
  ]);
  assert.equal(notObject.length, 1, notObject.join("\n"));
  assert.match(
    notObject[0],
    /expected an object \(of secret references\), received string \(not shown\)/,
  );
  assert.doesNotMatch(notObject[0], /hunter2/);
});
