/**
 * serve(): connections that never send a whole request (slow or unfinished
 * headers, slowloris) are closed, on Deno by serve()'s header timeout, on
 * Bun by Bun itself; connections that sent a request, and requests whose
 * handler takes longer than the timeout, are left alone.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { serve } from "../../src/runtime/serve.ts";
import { HeaderTimeout } from "../../src/runtime/header_timeout.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** A raw connection that records when it closes. */
function open(port: number): Promise<Socket & { gone: boolean }> {
  const socket = connect({ host: "127.0.0.1", port }) as Socket & {
    gone: boolean;
  };
  socket.gone = false;
  socket.on("close", () => socket.gone = true);
  socket.on("error", () => {});
  return new Promise((resolve) =>
    socket.once("connect", () => resolve(socket))
  );
}

/** One request on `socket`; resolves with the answer's status line. */
function request(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      if (/\r\n\r\n/.test(text) && /\r\n\r\n[\s\S]*ok/.test(text)) {
        socket.off("data", onData);
        resolve(text.split("\r\n")[0]);
      }
    };
    socket.on("data", onData);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  "serve() closes connections that send no whole request within the header timeout; served and slow-handler connections stay",
  {
    timeout: 60_000,
  },
  async () => {
    const lines: string[] = [];
    const server = await serve(async (req) => {
      if (new URL(req.url).pathname === "/slow") {
        await new Promise((r) => setTimeout(r, 2500));
      }
      return new Response("ok");
    }, { headerTimeoutMs: 1000, onHeaderTimeout: (m) => lines.push(m) });
    const sockets: (Socket & { gone: boolean })[] = [];
    try {
      // A keep-alive client that made a request and now idles.
      const served = await open(server.port);
      assert.equal(await request(served, "/"), "HTTP/1.1 200 OK");
      // A request whose handler takes longer than the header timeout.
      const slowHandler = await open(server.port);
      const slowAnswer = request(slowHandler, "/slow");
      // 100 connections that never finish their headers, one that sends
      // nothing, one that drips a header line a second.
      for (let i = 0; i < 100; i++) {
        const s = await open(server.port);
        s.write("GET / HTTP/1.1\r\nHost: localhost\r\n");
        sockets.push(s);
      }
      sockets.push(await open(server.port));
      const drip = await open(server.port);
      drip.write("GET / HTTP/1.1\r\n");
      const dripping = setInterval(() => drip.write("X-A: b\r\n"), 1000);
      sockets.push(drip);
      try {
        // Bun closes them by itself after about 10 s.
        await until(
          () => sockets.every((s) => s.gone),
          isDeno ? 20_000 : 40_000,
          `${sockets.filter((s) => !s.gone).length} slow connections closed`,
        );
      } finally {
        clearInterval(dripping);
      }
      assert.equal(await slowAnswer, "HTTP/1.1 200 OK");
      assert.ok(!served.gone, "the served keep-alive connection was closed");
      assert.equal(await request(served, "/"), "HTTP/1.1 200 OK");
      if (isDeno) {
        assert.ok(
          lines.some((l) =>
            /^closed \d+ connections? that sent no whole request within 1000 ms \(slow or unfinished headers\)$/
              .test(l)
          ),
          lines.join("\n"),
        );
      }
      served.destroy();
      slowHandler.destroy();
    } finally {
      for (const s of sockets) s.destroy();
      await server.close();
    }
  },
);

test("HeaderTimeout says once why it cannot run, and does nothing more", () => {
  const lines: string[] = [];
  const t = new HeaderTimeout(80, {
    read: () => null,
    readInodes: () => null,
    log: (m) => lines.push(m),
  });
  t.check();
  t.check();
  assert.deepEqual(lines, [
    "slow request headers are not timed out: cannot read this process's sockets in /proc (not Linux, or Deno without -A)",
  ]);
  assert.throws(
    () => new HeaderTimeout(80, { timeoutMs: 0, read: () => [] }),
    /Cannot time out request headers: timeoutMs must be a number of milliseconds from 1 to 2147483647, received 0/,
  );
});
