/**
 * serve() listening: a port freed by a closed server, 0.0.0.0, and a hostname that does not resolve.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../src/runtime/serve.ts";
import { openSocket } from "../server/_metrics_sockets.ts";

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
