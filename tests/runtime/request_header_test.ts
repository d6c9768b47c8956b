/** requestHeader() and requestHeaderRecord(): the answers of `Headers`, read without exposing them on Deno. */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import {
  _readsInner,
  requestHeader,
} from "../../src/runtime/request_header.ts";
import { requestHeaderRecord } from "../../src/components/http_body.ts";
import { serve } from "../../src/runtime/serve.ts";

/** Sends `head` (a whole HTTP/1.1 request head) and resolves with the answer's body. */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => (text += chunk));
    socket.on("end", () => resolve(text.slice(text.indexOf("\r\n\r\n") + 4)));
    socket.on("error", reject);
  });
}

const NAMES = [
  "host",
  "x-dup",
  "X-Dup",
  "if-none-match",
  "accept",
  "set-cookie",
  "missing",
];

test("a served request's headers read one by one and all together as Headers reads them; on Deno through the served request itself", async () => {
  const server = await serve((request) => {
    // Read before anything touches request.headers (which would expose them).
    const inner = _readsInner(request);
    const one = NAMES.map((n) => requestHeader(request, n));
    const all = requestHeaderRecord(request, new Set(["accept"]));
    // What Headers.get answers for each name but the one left out.
    const expectedAll: Record<string, string> = {};
    request.headers.forEach((_, k) => {
      if (k !== "accept") expectedAll[k] = request.headers.get(k)!;
    });
    return Response.json({
      inner,
      one,
      expectedOne: NAMES.map((n) => request.headers.get(n)),
      all,
      expectedAll,
    });
  });
  try {
    const port = Number(new URL(server.url).port);
    const body = JSON.parse(
      await rawRequest(
        port,
        "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Dup: one\r\nAccept: */*\r\n" +
          'x-dup: two\r\nIf-None-Match: "v1", "v2"\r\nSet-Cookie: a=1\r\n' +
          "Set-Cookie: b=2\r\nConnection: close\r\n\r\n",
      ),
    );
    assert.deepEqual(body.one, body.expectedOne);
    assert.deepEqual(body.one.slice(1, 4), [
      "one, two",
      "one, two",
      '"v1", "v2"',
    ]);
    assert.equal(body.one[6], null);
    assert.deepEqual(body.all, body.expectedAll);
    assert.equal(body.all["x-dup"], "one, two");
    assert.equal(body.all["set-cookie"], "a=1, b=2");
    assert.equal(body.all.accept, undefined);
    // Deno's served request has its own reader; Bun's has none.
    const deno = "Deno" in globalThis && !("Bun" in globalThis);
    assert.equal(body.inner, deno);
  } finally {
    await server.close();
  }
});

test("a request made in JavaScript is read through its Headers", () => {
  const request = new Request("http://localhost/", {
    method: "POST",
    headers: { "Content-Type": "text/plain", "content-length": "3" },
    body: "abc",
  });
  assert.equal(_readsInner(request), false);
  assert.equal(requestHeader(request, "Content-Type"), "text/plain");
  assert.deepEqual(requestHeaderRecord(request), {
    "content-length": "3",
    "content-type": "text/plain",
  });
});

test("a header named __proto__ becomes an own field, not the record's prototype", async () => {
  const server = await serve((request) => {
    const record = requestHeaderRecord(request);
    return Response.json({
      own: Object.hasOwn(record, "__proto__"),
      value: Object.getOwnPropertyDescriptor(record, "__proto__")?.value,
      proto: Object.getPrototypeOf(record) === Object.prototype,
    });
  });
  try {
    const port = Number(new URL(server.url).port);
    const body = JSON.parse(
      await rawRequest(
        port,
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n__proto__: x\r\n__proto__: y\r\nConnection: close\r\n\r\n",
      ),
    );
    assert.deepEqual(body, { own: true, value: "x, y", proto: true });
  } finally {
    await server.close();
  }
});
