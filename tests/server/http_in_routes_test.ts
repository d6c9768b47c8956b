/**
 * `http/In` and `http/Response` through the real weir app (`flowApp` with
 * a flow manager): a flow's routes under `/in/<flow>/<path>`, the `in`
 * scope, 504 and 503, routes gone when the flow stops, a duplicate route,
 * and graphs refused at validation.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { flowApp } from "../../src/server/flow_app.ts";
import { httpInParts } from "./_http_in_parts.ts";
import type { AccessOptions } from "../../src/server/auth.ts";
import { httpMetricsFetch } from "../../src/metrics/http_metrics.ts";

function _setup(access?: AccessOptions) {
  const { router, components, metrics, flows } = httpInParts();
  const app = flowApp({ flows, metrics, components, httpIn: router, access });
  const fetch = httpMetricsFetch(app, metrics);
  const request = (path: string, init?: RequestInit) =>
    Promise.resolve(fetch(new Request(`http://localhost${path}`, init)));
  const create = async (fbp: string, headers: Record<string, string> = {}) => {
    const res = await request("/flows", {
      method: "POST",
      headers: { "Content-Type": "text/vnd.fbp", ...headers },
      body: fbp,
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    router,
    flows,
    request,
    create,
    close: () => flows.close({ timeoutMs: 500 }),
  };
}

const ECHO = `# @name echo
'POST' -> method In(http/In)
'/echo' -> path In
In out -> in Out(http/Response)
`;

test("http/In -> http/Response echoes a JSON, a text and a bytes body with their content types", async () => {
  const s = _setup();
  try {
    assert.equal((await s.create(ECHO)).status, 201);
    let res = await s.request("/in/echo/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"a":[1,2],"b":"x"}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), { a: [1, 2], b: "x" });
    res = await s.request("/in/echo/echo", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "hello",
    });
    assert.equal(res.headers.get("content-type"), "text/plain;charset=UTF-8");
    assert.equal(await res.text(), "hello");
    res = await s.request("/in/echo/echo", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: new Uint8Array([0, 255, 7]),
    });
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual(
      new Uint8Array(await res.arrayBuffer()),
      new Uint8Array([0, 255, 7]),
    );
    // The request's own headers are not sent back.
    assert.equal(res.headers.get("host"), null);
  } finally {
    await s.close();
  }
});

test("http/In gives params (decoded), query, headers and a form body to the flow, which answers status, headers and body", async () => {
  const s = _setup();
  try {
    const fbp = `# @name sensors
'GET, POST' -> method In(http/In)
'/readings/:sensor/:kind' -> path In
'{"requestId": requestId, "status": 201, "headers": {"x-sensor": params.sensor}, "body": {"method": method, "path": path, "params": params, "query": query, "agent": headers."x-agent", "form": body}}' -> expr Map(flow/Map)
In out -> in Map out -> in Out(http/Response)
`;
    const created = await s.create(fbp);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const res = await s.request(
      "/in/sensors/readings/s%201/temp?from=3&tag=a&tag=b",
      {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-Agent": "probe",
        },
        body: "v=21.5&unit=C",
      },
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-sensor"), "s 1");
    assert.deepEqual(await res.json(), {
      method: "POST",
      path: "/readings/s%201/temp",
      params: { sensor: "s 1", kind: "temp" },
      query: { from: "3", tag: ["a", "b"] },
      agent: "probe",
      form: { v: "21.5", unit: "C" },
    });
    // GET answers too (and HEAD, as GET without a body).
    const get = await s.request("/in/sensors/readings/a/b");
    assert.equal(get.status, 201);
    assert.equal((await get.json()).form, null);
    const head = await s.request("/in/sensors/readings/a/b", {
      method: "HEAD",
    });
    assert.equal(head.status, 201);
    // RFC 9110 8.6: the length of the body the flow gave (which names the
    // method), not the 0 the runtime would send.
    const got = await (await s.request("/in/sensors/readings/a/b")).json();
    assert.equal(
      head.headers.get("content-length"),
      String(JSON.stringify({ ...got, method: "HEAD" }).length),
    );
    await head.body?.cancel();
    // Another method on the same path: 405 with Allow, which names the
    // HEAD the GET route answers.
    const del = await s.request("/in/sensors/readings/a/b", {
      method: "DELETE",
    });
    assert.equal(del.status, 405);
    assert.equal(del.headers.get("allow"), "GET, HEAD, POST");
    await del.body?.cancel();
  } finally {
    await s.close();
  }
});

test("http/In: a body past maxBody gets 413, bad JSON 400, and neither reaches the flow", async () => {
  const s = _setup();
  try {
    const fbp = `# @name small
'POST' -> method In(http/In)
'/x' -> path In
'8' -> maxBody In
In out -> in Out(http/Response)
`;
    assert.equal((await s.create(fbp)).status, 201);
    let res = await s.request("/in/small/x", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "123456789",
    });
    assert.equal(res.status, 413);
    assert.match((await res.json()).error, /8-byte limit/);
    res = await s.request("/in/small/x", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{nope",
    });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /not valid JSON/);
    assert.equal(s.router.pending, 0);
  } finally {
    await s.close();
  }
});

test("http/In: a request no http/Response answers gets 504 after the route's timeout", async () => {
  const s = _setup();
  try {
    const fbp = `# @name slow
'/never' -> path In(http/In)
'50ms' -> timeout In
In out -> in Drop(core/Drop)
`;
    assert.equal((await s.create(fbp)).status, 201);
    const res = await s.request("/in/slow/never");
    assert.equal(res.status, 504);
    assert.match((await res.json()).error, /did not answer within 50 ms/);
    assert.equal(s.router.pending, 0);
    // Counted in http/In's meters, by flow and process.
    const text = await (await s.request("/metrics")).text();
    assert.match(
      text,
      /weir_http_in_requests_total\{flow="slow",process="In"\} 1/,
    );
    assert.match(
      text,
      /weir_http_in_timeouts_total\{flow="slow",process="In"\} 1/,
    );
    assert.match(
      text,
      /weir_http_in_requests_in_flight\{flow="slow",process="In"\} 0/,
    );
  } finally {
    await s.close();
  }
});

test("http/In: stopping the flow answers its waiting requests 503 and removes its routes (404 after)", async () => {
  const s = _setup();
  try {
    const fbp = `# @name held
'/wait' -> path In(http/In)
In out -> in Drop(core/Drop)
`;
    assert.equal((await s.create(fbp)).status, 201);
    const waiting = s.request("/in/held/wait");
    // The request reached the flow before the stop.
    while (s.router.pending === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stop = await s.request("/flows/held/stop", { method: "POST" });
    assert.equal(stop.status, 200);
    const res = await waiting;
    assert.equal(res.status, 503);
    assert.match((await res.json()).error, /stop/);
    const after = await s.request("/in/held/wait");
    assert.equal(after.status, 404);
    assert.match((await after.json()).error, /is stopped/);
    const none = await s.request("/in/nosuch/wait");
    assert.equal(none.status, 404);
    assert.match((await none.json()).error, /there is no flow "nosuch"/);
    // Started again, it serves again.
    const start = await s.request("/flows/held/start", { method: "POST" });
    assert.equal(start.status, 200);
    assert.equal(s.router.serves("held"), true);
  } finally {
    await s.close();
  }
});

test("http/In: two processes of one flow whose IIPs give the same method and path are a validation problem (400) naming both, before anything runs", async () => {
  const s = _setup();
  try {
    const fbp = `# @name twice
'/a/:x' -> path A(http/In)
'/a/:y' -> path B(http/In)
A out -> in Out(http/Response)
B out -> in Out
`;
    const created = await s.create(fbp);
    assert.equal(created.status, 400, JSON.stringify(created.body));
    const { problems } = created.body as {
      problems: { path: string; line: number; message: string }[];
    };
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0].path, "processes.B");
    assert.equal(problems[0].line, 3);
    assert.match(
      problems[0].message,
      /from process "B" \(http\/In\): process "A" serves GET \/a\/:x already/,
    );
    assert.equal(s.router.serves("twice"), false);
    // Different methods on one path are fine.
    const ok = await s.create(`# @name split
'GET' -> method A(http/In)
'/a' -> path A
'POST' -> method B(http/In)
'/a' -> path B
A out -> in Out(http/Response)
B out -> in Out
`);
    assert.equal(ok.status, 201);
  } finally {
    await s.close();
  }
});

test("http/In: two processes serving the same method and path, one known only at run time, fail the flow's start, naming both", async () => {
  const s = _setup();
  try {
    // B's method comes through a connection: validation leaves it to the
    // router, which refuses the second route when the flow starts.
    const created = await s.create(`# @name late
'/a/:x' -> path A(http/In)
'/a/:y' -> path B(http/In)
'GET' -> in M(core/Repeat) out -> method B
A out -> in Out(http/Response)
B out -> in Out
`);
    assert.notEqual(created.status, 201);
    assert.match(
      JSON.stringify(created.body),
      /process \\"A\\" of flow \\"late\\" serves GET \/a\/:x already/,
    );
    assert.equal(s.router.serves("late"), false);
  } finally {
    await s.close();
  }
});

test("http/In: a bad path pattern and an unknown method are validation problems (400) before anything runs", async () => {
  const s = _setup();
  try {
    let r = await s.create(`# @name bad
'readings/:x' -> path In(http/In)
In out -> in Out(http/Response)
`);
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /must start with/);
    r = await s.create(`# @name bad
'FETCH' -> method In(http/In)
'/x' -> path In
In out -> in Out(http/Response)
`);
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /unknown HTTP method \\"FETCH\\"/);
    r = await s.create(`# @name bad
'/a/*/b' -> path In(http/In)
In out -> in Out(http/Response)
`);
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /may only be the last segment/);
  } finally {
    await s.close();
  }
});

test("/in/ needs a token with the in scope when tokens are configured", async () => {
  const IN = "i".repeat(24);
  const READ = "r".repeat(24);
  const s = _setup({
    tokens: [
      { token: IN, scopes: ["in"] },
      { token: READ, scopes: ["read", "write"] },
    ],
  });
  try {
    const created = await s.create(ECHO, { Authorization: `Bearer ${READ}` });
    assert.equal(created.status, 201);
    const post = (headers: Record<string, string>) =>
      s.request("/in/echo/echo", {
        method: "POST",
        headers: { "Content-Type": "text/plain", ...headers },
        body: "hi",
      });
    let res = await post({});
    assert.equal(res.status, 401);
    assert.match((await res.json()).error, /"in" scope/);
    res = await post({ Authorization: `Bearer ${READ}` });
    assert.equal(res.status, 403);
    await res.body?.cancel();
    res = await post({ Authorization: `Bearer ${IN}` });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hi");
    // The in scope reaches nothing else.
    res = await s.request("/flows", {
      headers: { Authorization: `Bearer ${IN}` },
    });
    assert.equal(res.status, 403);
    await res.body?.cancel();
  } finally {
    await s.close();
  }
});

test("/in/ routes are labelled /in/:flow/* in the HTTP metrics, never by their raw path", async () => {
  const s = _setup();
  try {
    assert.equal((await s.create(ECHO)).status, 201);
    for (const p of ["/in/echo/echo", "/in/echo/echo?x=1", "/in/echo/other"]) {
      const res = await s.request(p, {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: "x",
      });
      await res.body?.cancel();
    }
    const text = await (await s.request("/metrics")).text();
    assert.match(
      text,
      /http_requests_total\{method="POST",route="\/in\/:flow\/\*",status="200"\} 2/,
    );
    assert.match(
      text,
      /http_requests_total\{method="POST",route="\/in\/:flow\/\*",status="404"\} 1/,
    );
    assert.doesNotMatch(text, /route="\/in\/echo/);
  } finally {
    await s.close();
  }
});

test("http/In: past maxPending requests held at once, a new one gets 503 at once; the held ones still end (504)", async () => {
  const s = _setup();
  try {
    const fbp = `# @name full
'/x' -> path In(http/In)
'2' -> maxPending In
'300ms' -> timeout In
In out -> in Drop(core/Drop)
`;
    assert.equal((await s.create(fbp)).status, 201);
    const held = [s.request("/in/full/x"), s.request("/in/full/x")];
    while (s.router.pending < 2) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const third = await s.request("/in/full/x");
    assert.equal(third.status, 503);
    assert.equal(third.headers.get("retry-after"), "1");
    assert.match((await third.json()).error, /holds 2 requests/);
    for (const res of await Promise.all(held)) {
      assert.equal(res.status, 504);
      await res.body?.cancel();
    }
  } finally {
    await s.close();
  }
});

/** A POST whose body sends `first` and then nothing more, ever. */
function slowPost(first = "{"): RequestInit & { duplex: "half" } {
  return {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(first));
      },
    }),
    duplex: "half",
  };
}

test("http/In: a body that does not arrive within the route's timeout gets 408, and requests still reading count toward maxPending", async () => {
  const s = _setup();
  try {
    const fbp = `# @name slow
'POST' -> method In(http/In)
'/u' -> path In
'2' -> maxPending In
'300ms' -> timeout In
In out -> in Out(http/Response)
`;
    assert.equal((await s.create(fbp)).status, 201);
    const began = performance.now();
    const held = [
      s.request("/in/slow/u", slowPost()),
      s.request("/in/slow/u", slowPost()),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Two bodies still arriving fill the route: a third gets 503 at once.
    const third = await s.request("/in/slow/u", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(third.status, 503);
    assert.match((await third.json()).error, /holds 2 requests/);
    for (const res of await Promise.all(held)) {
      assert.equal(res.status, 408);
      assert.equal(res.headers.get("connection"), "close");
      assert.match((await res.json()).error, /did not arrive within 300 ms/);
    }
    assert.ok(performance.now() - began < 2000, "answered near the timeout");
    // The route serves again once they are gone.
    const ok = await s.request("/in/slow/u", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"a":1}',
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { a: 1 });
  } finally {
    await s.close();
  }
});

test("http/In: stopping the flow answers a request whose body is still arriving with 503", async () => {
  const s = _setup();
  try {
    const fbp = `# @name slow2
'POST' -> method In(http/In)
'/u' -> path In
'30s' -> timeout In
In out -> in Out(http/Response)
`;
    assert.equal((await s.create(fbp)).status, 201);
    const held = s.request("/in/slow2/u", slowPost());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(
      (await s.request("/flows/slow2", { method: "DELETE" })).status,
      204,
    );
    const res = await held;
    assert.equal(res.status, 503);
    await res.body?.cancel();
  } finally {
    await s.close();
  }
});

test("http/Response: an answer that is not valid gets the client 500 and goes to the error port; a message without requestId goes to error", async () => {
  const s = _setup();
  try {
    const fbp = `# @name bad
'/x' -> path In(http/In)
'200ms' -> timeout In
'{"requestId": requestId, "status": 42}' -> expr Map(flow/Map)
In out -> in Map out -> in Out(http/Response)
In out -> in Strip(flow/Map)
'{"body": "no id"}' -> expr Strip
Strip out -> in Out
Out error -> in Errors(core/Drop)
`;
    assert.equal((await s.create(fbp)).status, 201);
    const res = await s.request("/in/bad/x");
    assert.equal(res.status, 500);
    assert.match(
      (await res.json()).error,
      /status must be an integer from 200 to 599, received 42/,
    );
    // Both messages failed in Out: the bad status, and the one without id.
    const stats = s.flows.stats("bad");
    const out = stats.processes.find((p) => p.name === "Out");
    assert.equal(out?.failures, 2);
  } finally {
    await s.close();
  }
});

test("http/In: a route at / answers /in/<flow> and /in/<flow>/", async () => {
  const s = _setup();
  try {
    const fbp = `# @name root
'/' -> path In(http/In)
In out -> in Map(flow/Map)
'{"requestId": requestId, "body": path}' -> expr Map
Map out -> in Out(http/Response)
`;
    assert.equal((await s.create(fbp)).status, 201);
    for (const p of ["/in/root", "/in/root/"]) {
      const res = await s.request(p);
      assert.equal(res.status, 200, p);
      assert.equal(await res.text(), "/");
    }
  } finally {
    await s.close();
  }
});

test("http/In: a JSON body nested deeper than 64 levels gets 400 before it is parsed, and the flow runs on", async () => {
  const s = _setup();
  try {
    assert.equal((await s.create(ECHO)).status, 201);
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    let res = await s.request("/in/echo/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: deep,
    });
    assert.equal(res.status, 400);
    assert.match(
      (await res.json()).error,
      /nested too deeply: objects and arrays more than 64 levels .*\(line 1, col 65\)/,
    );
    // 64 levels pass, and the flow still answers.
    res = await s.request("/in/echo/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "[".repeat(64) + "]".repeat(64),
    });
    assert.equal(res.status, 200);
    assert.equal(s.flows.get("echo").state, "running");
  } finally {
    await s.close();
  }
});

test("http/Response: a page a flow serves (HTML, SVG) is sandboxed into an origin of its own; JSON answers carry no extra header", async () => {
  const s = _setup();
  try {
    const page = `# @name page
'/p' -> path In(http/In)
In out -> in Map(flow/Map)
'{"requestId": requestId, "headers": {"content-type": "text/html; charset=utf-8"}, "body": "<b>" & query.name & "</b>"}' -> expr Map
Map out -> in Out(http/Response)
`;
    assert.equal((await s.create(page)).status, 201);
    const res = await s.request("/in/page/p?name=%3Cscript%3E");
    assert.equal(res.status, 200);
    assert.match(
      res.headers.get("content-security-policy") ?? "",
      /^sandbox allow-scripts/,
    );
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    await res.body?.cancel();
    assert.equal((await s.create(ECHO)).status, 201);
    const json = await s.request("/in/echo/echo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(json.headers.get("content-security-policy"), null);
    await json.body?.cancel();
  } finally {
    await s.close();
  }
});

test("http/In: a route that names HEAD answers HEAD on its path, before a GET route of that path (which answers HEAD only where none does)", async () => {
  const s = _setup();
  try {
    const fbp = `# @name heads
'GET' -> method Get(http/In)
'/a/:x' -> path Get
'HEAD' -> method Head(http/In)
'/a/:y' -> path Head
'/b' -> path Only(http/In)
Get out -> in FromGet(flow/Map)
'{"requestId": requestId, "headers": {"X-From": "GET"}, "body": "get"}' -> expr FromGet
Head out -> in FromHead(flow/Map)
'{"requestId": requestId, "headers": {"X-From": "HEAD " & params.y}, "body": ""}' -> expr FromHead
Only out -> in FromOnly(flow/Map)
'{"requestId": requestId, "headers": {"X-From": "GET"}, "body": "b"}' -> expr FromOnly
FromGet out -> in Out(http/Response)
FromHead out -> in Out
FromOnly out -> in Out
`;
    const created = await s.create(fbp);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const get = await s.request("/in/heads/a/1");
    assert.deepEqual([get.headers.get("x-from"), await get.text()], [
      "GET",
      "get",
    ]);
    const head = await s.request("/in/heads/a/1", { method: "HEAD" });
    assert.equal(head.headers.get("x-from"), "HEAD 1");
    const implicit = await s.request("/in/heads/b", { method: "HEAD" });
    assert.equal(implicit.status, 200);
    assert.equal(implicit.headers.get("x-from"), "GET");
  } finally {
    await s.close();
  }
});
