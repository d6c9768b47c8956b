/**
 * Request bodies over real sockets: the size limit and a stalled body.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serve } from "../../src/runtime/serve.ts";
import { GOOD, openSocket, receive, setup, statusOf } from "./_flow_api.ts";

test(
  "bodies over sockets: exactly the limit is read, one byte more is 413, a chunked body past it is 413, a stalled body is 408",
  {
    timeout: 60_000,
  },
  async () => {
    const limit = 4096;
    const s = setup({ maxBodyBytes: limit, requestTimeoutMs: 500 });
    const server = await serve(s.app.fetch, { closeGraceMs: 100 });
    const send = async (payload: string, stall = false) => {
      const socket = await openSocket(server.port);
      const got = receive(socket, (t) => /\r\n\r\n[\s\S]*\}/.test(t));
      socket.write(payload);
      const reply = await got;
      socket.destroy();
      assert.ok(stall || reply.length > 0);
      return reply;
    };
    // .fbp text of exactly `limit` bytes: a comment pads a good graph.
    const pad = (n: number) => `# ${"x".repeat(n - GOOD.length - 3)}\n` + GOOD;
    try {
      for (const [size, status] of [[limit, 201], [limit + 1, 413]]) {
        const text = pad(size);
        assert.equal(new TextEncoder().encode(text).length, size);
        const reply = await send(
          `PUT /flows/s${size} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/vnd.fbp\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n${text}`,
        );
        assert.equal(statusOf(reply), status, `${size} bytes`);
      }
      const chunk = "#".repeat(1000) + "\n";
      const chunks = Array.from(
        { length: 5 },
        () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      ).join("");
      let reply = await send(
        `PUT /flows/chunked HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/vnd.fbp\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
      );
      assert.equal(statusOf(reply), 413);
      assert.match(reply, /larger than the 4096-byte limit/);
      // Half a body, then nothing.
      reply = await send(
        `PUT /flows/slow HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/vnd.fbp\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n'1s' -> interval`,
        true,
      );
      assert.equal(statusOf(reply), 408);
      assert.match(reply, /did not arrive within 500 ms/);
      assert.deepEqual(s.store.list().map((f) => f.id), [`s${limit}`]);
    } finally {
      await server.close();
      await s.close();
    }
  },
);
