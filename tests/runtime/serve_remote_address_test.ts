/** Server.remoteAddress(): the client address of a request being answered. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve, type Server } from "../../src/runtime/serve.ts";

test("Server.remoteAddress() names the client of a request being answered, and nothing for another request", async () => {
  let server: Server | undefined = undefined;
  server = await serve((request) =>
    new Response(
      `${server!.remoteAddress(request)} ${
        server!.remoteAddress(new Request("http://localhost/"))
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
