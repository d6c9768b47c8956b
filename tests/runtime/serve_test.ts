import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { serve, type Server } from "../../src/runtime/serve.ts";

const hello = () => new Response("hello");

/** Runs `body` with a server, closing it afterwards whatever happens. */
async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  body: (server: Server) => void | Promise<void>,
): Promise<void> {
  const server = await serve(handler);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

test("serve() answers a request over a real socket", async () => {
  await withServer(
    async (request) => {
      const url = new URL(request.url);
      return new Response(
        `${request.method} ${url.pathname} ${await request
          .text()}`,
        { status: 201, headers: { "x-weir": "yes" } },
      );
    },
    async (server) => {
      const response = await fetch(`${server.url}/flows`, {
        method: "POST",
        body: "graph",
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("x-weir"), "yes");
      assert.equal(await response.text(), "POST /flows graph");
    },
  );
});

test("serve() listens on 127.0.0.1 by default", async () => {
  await withServer(hello, (server) => {
    assert.equal(server.hostname, "127.0.0.1");
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });
});

test("serve() on port 0 listens on a free port", async () => {
  const a = await serve(hello, { port: 0 });
  const b = await serve(hello, { port: 0 });
  try {
    assert.ok(Number.isInteger(a.port) && a.port > 0 && a.port <= 65535);
    assert.notEqual(a.port, b.port);
    assert.equal(await (await fetch(b.url)).text(), "hello");
  } finally {
    await a.close();
    await b.close();
  }
});

test("serve() listens on the port it is given", async () => {
  // A port known to be free a moment ago: the one a port-0 server had.
  const probe = await serve(hello);
  const port = probe.port;
  await probe.close();
  const server = await serve(hello, { port });
  try {
    assert.equal(server.port, port);
    assert.equal(await (await fetch(server.url)).text(), "hello");
  } finally {
    await server.close();
  }
});

test("Server.close() stops accepting connections", async () => {
  const server = await serve(hello);
  assert.equal(await (await fetch(server.url)).text(), "hello");
  await server.close();
  await assert.rejects(fetch(server.url), TypeError);
});

/**
 * Starts a request that waits in its handler, runs `close`, and checks that
 * the close waits for the request, which gets its answer.
 */
async function assertClosingLetsRequestFinish(
  close: (server: Server) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let entered!: () => void;
  const handlerEntered = new Promise<void>((resolve) => entered = resolve);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const server = await serve(async () => {
    entered();
    await released;
    return new Response("late");
  }, { signal });
  const response = fetch(server.url).then((r) => r.text());
  await handlerEntered;
  let closed = false;
  const closing = close(server).then(() => closed = true);
  // A negative check: give the close the time to finish early, which it
  // must not while the handler still waits.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(closed, false);
  release();
  assert.equal(await response, "late");
  await closing;
  assert.equal(closed, true);
}

test("Server.close() lets a request in flight finish", async () => {
  await assertClosingLetsRequestFinish((server) => server.close());
});

test("serve() lets a request in flight finish when its signal aborts", async () => {
  const controller = new AbortController();
  await assertClosingLetsRequestFinish((server) => {
    controller.abort();
    return server.finished;
  }, controller.signal);
});

test("Server.close() can be called again and resolves again", async () => {
  const server = await serve(hello);
  await Promise.all([server.close(), server.close()]);
  await server.close();
});

test("Server.finished resolves once the server is closed", async () => {
  const server = await serve(hello);
  let finished = false;
  const done = server.finished.then(() => finished = true);
  await fetch(server.url).then((r) => r.text());
  assert.equal(finished, false);
  await server.close();
  await done;
  assert.equal(finished, true);
});

test("Server closes at the end of an await using block", async () => {
  let url: string;
  {
    await using server = await serve(hello);
    url = server.url;
    assert.equal(await (await fetch(url)).text(), "hello");
  }
  await assert.rejects(fetch(url), TypeError);
});

test("serve() closes the server when its signal aborts", async () => {
  const controller = new AbortController();
  const server = await serve(hello, { signal: controller.signal });
  assert.equal(await (await fetch(server.url)).text(), "hello");
  controller.abort();
  await server.finished;
  await assert.rejects(fetch(server.url), TypeError);
});

test("serve() rejects a signal that is already aborted", async () => {
  const controller = new AbortController();
  controller.abort(new Error("shutting down"));
  await assert.rejects(
    serve(hello, { signal: controller.signal }),
    { message: "shutting down" },
  );
});

test("serve() rejects a port that is in use", async () => {
  await withServer(hello, async (first) => {
    await assert.rejects(
      serve(hello, { port: first.port }),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(
          error.message,
          `cannot listen on 127.0.0.1:${first.port}: address already in use`,
        );
        assert.ok(error.cause instanceof Error, "keeps the runtime's error");
        return true;
      },
    );
  });
});

test("serve() rejects an address that is not on this machine", async () => {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a host.
  await assert.rejects(serve(hello, { hostname: "192.0.2.1" }), {
    message: "cannot listen on 192.0.2.1:0: address not available on this " +
      "machine",
    code: "EADDRNOTAVAIL",
  });
});

test("serve() rejects a port outside 0..65535 with a RangeError", async () => {
  for (const port of [-1, 65536, 1.5, Number.NaN, Infinity]) {
    await assert.rejects(serve(hello, { port }), {
      name: "RangeError",
      message: `Cannot serve: port must be an integer from 0 to 65535, ` +
        `received ${port}`,
    });
  }
});

test("serve() rejects a port that is not a number with a TypeError", async () => {
  await assert.rejects(
    serve(hello, { port: "8080" as unknown as number }),
    {
      name: "TypeError",
      message: 'Cannot serve: port must be a number, received "8080"',
    },
  );
});

test("serve() rejects an empty hostname with a TypeError", async () => {
  await assert.rejects(serve(hello, { hostname: "" }), {
    name: "TypeError",
    message: 'Cannot serve: hostname must be a non-empty string, received ""',
  });
});

test("serve() rejects a handler that is not a function", async () => {
  await assert.rejects(
    serve("hello" as unknown as () => Response),
    {
      name: "TypeError",
      message: 'Cannot serve: the handler must be a function, received "hello"',
    },
  );
});

test("serve() given a Hono app rather than its fetch says to pass app.fetch", async () => {
  const app = new Hono().get("/", (c) => c.text("hi"));
  await assert.rejects(
    serve(app as unknown as () => Response),
    {
      name: "TypeError",
      message:
        "Cannot serve: the handler must be a function, received an object (Hono); pass its fetch method (serve(app.fetch) for a Hono app)",
    },
  );
});

test("serve() takes an IPv6 address in URL brackets and gives a usable url", async () => {
  const server = await serve(() => new Response("v6"), { hostname: "[::1]" });
  try {
    assert.equal(server.url, `http://[::1]:${server.port}`);
    assert.equal(await (await fetch(server.url)).text(), "v6");
  } finally {
    await server.close();
  }
});

test("serve() answers a HEAD whose answer has no length without Content-Length: 0", async () => {
  // RFC 9110 8.6: a HEAD's Content-Length is the GET's or absent. Hono
  // answers a HEAD with the GET's headers and a null body, as here.
  await withServer(
    (request) =>
      request.method === "HEAD"
        ? new Response(null, {
          headers: { "content-type": "text/event-stream" },
        })
        : new Response("data: x\n\n", {
          headers: { "content-type": "text/event-stream" },
        }),
    async (server) => {
      for (let i = 0; i < 2; i++) {
        const head = await fetch(`${server.url}/events`, { method: "HEAD" });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get("content-length"), null);
        assert.equal(head.headers.get("content-type"), "text/event-stream");
        assert.equal(await head.text(), "");
      }
      // The connection is still good for the next request.
      const get = await fetch(`${server.url}/events`);
      assert.equal(await get.text(), "data: x\n\n");
    },
  );
});

test("serve() keeps the Content-Length a HEAD's answer sets, and a 204's lack of one", async () => {
  await withServer(
    (request) =>
      new URL(request.url).pathname === "/empty"
        ? new Response(null, { status: 204 })
        : new Response(null, { headers: { "content-length": "14" } }),
    async (server) => {
      const sized = await fetch(`${server.url}/x`, { method: "HEAD" });
      assert.equal(sized.headers.get("content-length"), "14");
      assert.equal(sized.headers.get("transfer-encoding"), null);
      await sized.body?.cancel();
      const empty = await fetch(`${server.url}/empty`, { method: "HEAD" });
      assert.equal(empty.status, 204);
      assert.equal(empty.headers.get("transfer-encoding"), null);
      await empty.body?.cancel();
    },
  );
});
