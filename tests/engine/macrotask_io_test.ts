/**
 * A flow busy slice after slice must leave the runtime room to read its
 * sockets: `weir serve`'s requests are answered between the slices. On
 * Deno 2.9 a chain of `setImmediate`s polled the sockets only every few
 * dozen turns, and every request to a server with a busy flow waited
 * about 270 ms (`macrotask` now takes a timer after a run of immediates).
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { macrotask } from "../../src/engine/network.ts";
import { serve } from "../../src/runtime/serve.ts";

const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

test("a request is answered within a few slices of a chain of macrotasks, not after dozens", async () => {
  const server = await serve(() => new Response("ok"), {
    hostname: "127.0.0.1",
    port: 0,
  });
  try {
    // Warm up the client and the server's first connection.
    await (await fetch(server.url)).text();
    for (let round = 0; round < 3; round++) {
      let steps = 0;
      let stop = false;
      // A busy flow's slices: 4 ms of work, then the next as a macrotask.
      const step = () => {
        if (stop) return;
        spin(4);
        steps++;
        if (steps < 1000) macrotask(step);
      };
      macrotask(step);
      const res = await fetch(server.url);
      const answeredAt = steps;
      stop = true;
      assert.equal(await res.text(), "ok");
      // A timer's turn comes after 50 ms of immediates (about 12 slices),
      // and a request needs two or three of them; Deno 2.9 read the
      // socket after some 60 immediates each time, about 120 slices.
      assert.ok(
        answeredAt < 60,
        `the request was answered after ${answeredAt} slices of 4 ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await server.close();
  }
});
