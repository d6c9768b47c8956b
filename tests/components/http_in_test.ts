/**
 * `http/In` and `http/Response` as components: their settings checked at
 * validation, a host without an HTTP server, the route patterns, and the
 * answers `http/Response` makes of messages.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HttpIn, toHttpResponse } from "../../src/components/http_in.ts";
import { HttpInRouter } from "../../src/components/http_in_router.ts";
import { compileRoutePattern } from "../../src/components/http_route_pattern.ts";
import { Network } from "../../src/engine/network.ts";
import { CoreDrop } from "../../src/components/core.ts";

test("http/In on a host without an HTTP server (weir run) fails the flow's start, saying so", async () => {
  const net = new Network({
    name: "f",
    processes: [
      { name: "In", component: HttpIn },
      { name: "Drop", component: CoreDrop },
    ],
    connections: [{
      from: { process: "In", port: "out" },
      to: { process: "Drop", port: "in" },
    }],
    initials: [{ data: "/x", to: { process: "In", port: "path" } }],
  });
  await assert.rejects(
    net.start(),
    /http\/In \("In"\) serves routes only under weir serve/,
  );
});

test("http/In's settings are checked when the graph is validated", () => {
  const ports = HttpIn.inPorts;
  assert.deepEqual(ports.method.parse!("get, Post"), ["GET", "POST"]);
  assert.throws(() => ports.method.parse!("BREW"), /unknown HTTP method/);
  assert.throws(() => ports.method.parse!([]), /at least one HTTP method/);
  assert.throws(() => ports.path.parse!("/a b"), /a URL path cannot/);
  assert.throws(() => ports.path.parse!("/a/:"), /is not a parameter/);
  assert.throws(() => ports.path.parse!("/a/:x/:x"), /appears twice/);
  assert.throws(() => ports.timeout.parse!("0ms"), /from 1 ms/);
  assert.throws(() => ports.maxBody.parse!(0), /positive integer/);
  assert.throws(() => ports.maxPending.parse!(1.5), /positive integer/);
});

test("route patterns match whole segments, with parameters, a trailing * and an optional trailing slash", () => {
  const p = compileRoutePattern("/v1/:kind/items/:id");
  assert.deepEqual(p.match("/v1/a/items/7"), ["a", "7"]);
  assert.deepEqual(p.match("/v1/a/items/7/"), ["a", "7"]);
  assert.equal(p.match("/v1/a/items"), undefined);
  assert.equal(p.match("/v1/a/items/7/8"), undefined);
  assert.equal(p.shape, compileRoutePattern("/v1/:x/items/:y").shape);
  assert.deepEqual(compileRoutePattern("/").match("/"), []);
  assert.equal(compileRoutePattern("/").match("/x"), undefined);
  assert.deepEqual(compileRoutePattern("/f/*").match("/f/a/b.txt"), [
    "a/b.txt",
  ]);
  assert.equal(compileRoutePattern("/a.b").match("/aXb"), undefined);
});

test("http/Response's answers: shaped, echo, plain fields, bytes, 204, custom content type", async () => {
  let res = toHttpResponse({ requestId: 1, total: 3 });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { total: 3 });
  res = toHttpResponse({
    requestId: 1,
    status: 201,
    headers: { "content-type": "text/csv", "x-n": 2 },
    body: "a,b\n",
  });
  assert.equal(res.headers.get("content-type"), "text/csv");
  assert.equal(res.headers.get("x-n"), "2");
  assert.equal(await res.text(), "a,b\n");
  res = toHttpResponse({ requestId: 1, body: new Uint8Array([1, 2]) });
  assert.equal(res.headers.get("content-type"), "application/octet-stream");
  res = toHttpResponse({ requestId: 1, status: 204, body: "ignored" });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  res = toHttpResponse({ requestId: 1, body: null });
  assert.equal(await res.text(), "");
  assert.throws(
    () => toHttpResponse({ requestId: 1, status: 99 }),
    /status must be an integer from 200 to 599/,
  );
  assert.throws(
    () => toHttpResponse({ requestId: 1, headers: { "x-a": {} } }),
    /header "x-a" must be a string or a number/,
  );
  assert.throws(
    () => toHttpResponse({ requestId: 1, headers: { "bad name": "x" } }),
    /is not a valid header/,
  );
});

test("a request answered 408 while its body arrived never reaches the flow, even when the body comes after all", async () => {
  const router = new HttpInRouter();
  const delivered: unknown[] = [];
  const remove = router.add({
    flow: "f",
    process: "In",
    methods: ["POST"],
    pattern: compileRoutePattern("/u"),
    timeoutMs: 150,
    maxBodyBytes: 1024,
    maxPending: 10,
    deliver: (m) => void delivered.push(m.body),
  });
  let rest!: ReadableStreamDefaultController<Uint8Array>;
  const request = new Request("http://localhost/in/f/u", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Content-Length": "7" },
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        rest = controller;
        controller.enqueue(new TextEncoder().encode("{"));
      },
    }),
    duplex: "half",
  } as RequestInit);
  const res = await router.handle("f", "/u", request)!;
  assert.equal(res.status, 408);
  // The rest of the body, too late: the read ends, and nothing is sent on.
  rest.enqueue(new TextEncoder().encode('"a":1}'));
  rest.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(delivered, []);
  assert.equal(router.pending, 0);
  remove();
});

test("a body whose read fails with something that has no text is refused 400, never an unhandled rejection", async () => {
  const router = new HttpInRouter();
  let delivered = 0;
  router.add({
    flow: "f",
    process: "In",
    methods: ["POST"],
    pattern: compileRoutePattern("/x"),
    timeoutMs: 5000,
    maxBodyBytes: 1024,
    maxPending: 10,
    deliver: () => void delivered++,
  });
  // An object with no prototype: String() of it throws.
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      c.error(Object.create(null));
    },
  });
  const request = new Request("http://x/in/f/x", {
    method: "POST",
    body,
    headers: { "content-type": "text/plain" },
    duplex: "half",
  } as RequestInit);
  const res = await router.handle("f", "/x", request);
  assert.equal(res?.status, 400);
  assert.match(
    String((await res!.json()).error),
    /could not be read to its end: an unreadable error/,
  );
  assert.equal(delivered, 0);
});

test("a flow that refuses a request with something that has no text answers it 503, never an unhandled rejection", async () => {
  const router = new HttpInRouter();
  router.add({
    flow: "f",
    process: "In",
    methods: ["GET"],
    pattern: compileRoutePattern("/x"),
    timeoutMs: 5000,
    maxBodyBytes: 1024,
    maxPending: 10,
    // An object with no prototype: String() of it throws.
    deliver: () => Promise.reject(Object.create(null)),
  });
  const res = await router.handle("f", "/x", new Request("http://x/in/f/x"));
  assert.equal(res?.status, 503);
  assert.match(
    String((await res!.json()).error),
    /cannot take the request: an unreadable error/,
  );
});

test("http/Response sends each line of a set-cookie header as a Set-Cookie of its own, as http/Request's out gives several", () => {
  const res = toHttpResponse({
    requestId: 1,
    headers: {
      "Set-Cookie":
        "session=abc; Expires=Wed, 21 Oct 2037 07:28:00 GMT\ntheme=dark",
    },
    body: "ok",
  });
  assert.deepEqual(res.headers.getSetCookie(), [
    "session=abc; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
    "theme=dark",
  ]);
  // A line break in any other header is still refused.
  assert.throws(
    () => toHttpResponse({ requestId: 1, headers: { "x-a": "1\n2" } }),
    /header "x-a" is not a valid header/,
  );
});
