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

test("HeaderTimeout asks the kernel before cutting a connection with no request noted, and then needs only the unanswered requests' peers", () => {
  let now = 0;
  const cut: number[] = [];
  const asked: number[][] = [];
  const sock = (port: number, inode: number) => ({
    state: "established" as const,
    localAddress: "127.0.0.1",
    localPort: 80,
    remoteAddress: "127.0.0.1",
    remotePort: port,
    inode,
  });
  const t = new HeaderTimeout(80, {
    timeoutMs: 1000,
    read: () => [sock(5001, 11), sock(5002, 12), sock(5003, 13)],
    readInodes: () => new Set([11, 12, 13]),
    cut: (inode) => cut.push(inode) > 0,
    now: () => now,
    // 11 was answered, 12 never, 13 cannot be told.
    served: (inodes) => {
      asked.push([...inodes]);
      return inodes.map((i) => i === 11 ? true : i === 12 ? false : undefined);
    },
  });
  assert.equal(t.everyPeer, true);
  t.check();
  assert.equal(t.everyPeer, false, "the kernel answered for socket 11");
  now = 1500;
  t.check();
  assert.deepEqual(cut, [12, 13]);
  assert.deepEqual(asked.at(-1), [11, 12, 13]);
  t.stop();
});

test("HeaderTimeout needs every request's peer while the kernel cannot tell", () => {
  const t = new HeaderTimeout(80, {
    read: () => [{
      state: "established" as const,
      localAddress: "127.0.0.1",
      localPort: 80,
      remoteAddress: "127.0.0.1",
      remotePort: 5001,
      inode: 11,
    }],
    readInodes: () => new Set([11]),
    cut: () => true,
    served: (inodes) => inodes.map(() => undefined),
  });
  t.check();
  assert.equal(t.everyPeer, true);
  t.stop();
});

test(
  "serve() on Deno keeps a keep-alive connection answered at once (its peer not read) while it closes a slow-headers one",
  { timeout: 30_000, skip: !isDeno && "Bun has its own header timeout" },
  async () => {
    const server = await serve(() => new Response("ok"), {
      headerTimeoutMs: 1000,
    });
    try {
      // Past the first check: the kernel has been asked.
      const first = await open(server.port);
      assert.equal(await request(first, "/"), "HTTP/1.1 200 OK");
      await new Promise((r) => setTimeout(r, 1500));
      const served = await open(server.port);
      assert.equal(await request(served, "/"), "HTTP/1.1 200 OK");
      const slow = await open(server.port);
      slow.write("GET / HTTP/1.1\r\nHost: localhost\r\n");
      await until(
        () => slow.gone,
        10_000,
        "the slow-headers connection closed",
      );
      await new Promise((r) => setTimeout(r, 1200));
      assert.ok(!served.gone, "the served keep-alive connection was closed");
      assert.equal(await request(served, "/"), "HTTP/1.1 200 OK");
      assert.ok(!first.gone);
      first.destroy();
      served.destroy();
      slow.destroy();
    } finally {
      await server.close();
    }
  },
);

test("HeaderTimeout reads the socket table again only for a new socket that could be due by the next check, not for the process's sockets that are not TCP", () => {
  let reads = 0;
  let now = 0;
  // 11: a connection to the server; 20 and 21: Unix sockets of the
  // runtime's, which /proc/net/tcp never lists.
  let inodes = new Set([11, 20, 21]);
  const listed = [11, 12, 13];
  const cut: number[] = [];
  const t = new HeaderTimeout(80, {
    timeoutMs: 10_000,
    checkMs: 1000,
    read: () => {
      reads++;
      return listed.filter((i) => inodes.has(i)).map((inode) => ({
        state: "established" as const,
        localAddress: "127.0.0.1",
        localPort: 80,
        remoteAddress: "127.0.0.1",
        remotePort: 5000 + inode,
        inode,
      }));
    },
    readInodes: () => new Set(inodes),
    cut: (inode) => cut.push(inode) > 0,
    now: () => now,
    // 11 was answered; 12 and 13 never were.
    served: (ids) => ids.map((i) => i === 11),
  });
  // The first new socket is read at once: the kernel is asked whether it
  // can tell a served socket.
  t.check();
  assert.equal(reads, 1);
  assert.equal(t.everyPeer, false);
  now += 1000;
  t.check();
  assert.equal(reads, 1, "the Unix sockets are settled by the first read");
  // A new connection that closes before its deadline is never read.
  inodes = new Set([11, 12, 20, 21]);
  for (let i = 0; i < 5; i++) {
    now += 1000;
    t.check();
  }
  inodes = new Set([11, 20, 21]);
  now += 1000;
  t.check();
  assert.equal(reads, 1);
  // One that stays is read once it could be due by the next check, and
  // cut at its deadline, dated from when it was first listed.
  inodes = new Set([11, 13, 20, 21]);
  const listedAt = now += 1000;
  t.check();
  while (now - listedAt < 9000) {
    now += 1000;
    t.check();
    assert.equal(reads, now - listedAt >= 9000 ? 2 : 1, `at ${now - listedAt}`);
  }
  assert.deepEqual(cut, []);
  now += 1000;
  t.check();
  assert.deepEqual(cut, [13]);
  assert.equal(reads, 2);
  // A Unix socket that goes and a new one that comes: read when due too.
  inodes = new Set([11, 13, 20, 22]);
  for (let i = 0; i < 9; i++) {
    now += 1000;
    t.check();
  }
  assert.equal(reads, 2);
  now += 1000;
  t.check();
  assert.equal(reads, 3);
  t.check();
  assert.equal(reads, 3);
  t.stop();
});
