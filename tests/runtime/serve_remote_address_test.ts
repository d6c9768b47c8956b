/** Server.remoteAddress(): the client address of a request being answered. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve, type Server } from "../../src/runtime/serve.ts";

test("Server.remoteAddress() names the client of a request being answered, and nothing for another request", async () => {
  let server: Server | undefined = undefined;
  server = await serve((request, env) =>
    new Response(
      `${server!.remoteAddress(request, env)} ${
        server!.remoteAddress(new Request("http://localhost/"), undefined)
      }`,
    )
  );
  try {
    const res = await fetch(`${server.url}/`);
    assert.equal(await res.text(), "127.0.0.1 undefined");
  } finally {
    await server.close();
  }
});
