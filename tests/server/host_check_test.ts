/**
 * DNS rebinding: a loopback server answers only requests addressed to a
 * loopback name; an exposed server answers to any name.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import { startServer } from "../../src/cli/serve.ts";
import { errorHandler } from "../../src/server/error_handler.ts";
import { hostCheck } from "../../src/server/host_guard.ts";
import { builtins } from "../../src/components/mod.ts";
import { fail } from "../../src/cli/cli_error.ts";
import { createLogger } from "../../src/cli/log.ts";
import {
  body,
  fbp,
  GOOD,
  openSocket,
  receive,
  setup,
  statusOf,
  TOKEN,
} from "./_flow_api.ts";

test("a loopback server refuses a Host that is not a loopback name with 421 and a JSON sentence, on every route; nothing is created", async () => {
  const s = setup();
  try {
    for (
      const host of [
        "evil.example:9464",
        "evil.example",
        "192.168.1.10:9464",
        "0.0.0.0:9464",
        "localhost.evil.example",
      ]
    ) {
      for (
        const [path, init] of [
          ["/flows", {}],
          ["/flows/a?start=false", fbp(GOOD, "PUT")],
          ["/metrics", {}],
          ["/components", {}],
          ["/healthz", {}],
        ] as [string, RequestInit][]
      ) {
        const res = await s.app.request(`http://${host}${path}`, init);
        const b = await body(res);
        assert.equal(res.status, 421, `${host} ${path}`);
        assert.match(
          b.error as string,
          /answers only to localhost, 127\.0\.0\.1 or \[::1\].*DNS rebinding/,
        );
      }
    }
    assert.deepEqual(s.flows.list(), []);
  } finally {
    await s.close();
  }
});

test("a loopback server answers to localhost, 127.0.0.1, [::1] and *.localhost on any port, and to allowedHosts", async () => {
  const s = setup({ allowedHosts: ["weir.lan"] });
  try {
    for (
      const host of [
        "localhost:9464",
        "LOCALHOST",
        "127.0.0.1:8080",
        "127.1.2.3",
        "[::1]:9464",
        "app.localhost:9464",
        "weir.lan:9464",
      ]
    ) {
      const res = await s.app.request(`http://${host}/flows`);
      assert.equal(res.status, 200, host);
    }
  } finally {
    await s.close();
  }
});

test("an exposed server (with a token) answers to any Host", async () => {
  const s = setup({
    access: { exposed: true, tokens: [{ token: TOKEN, scopes: ["read"] }] },
  });
  try {
    const res = await s.app.request("http://gateway.example:9464/flows", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 200);
  } finally {
    await s.close();
  }
});

test(
  "weir's server on loopback refuses a rebound Host over a real socket, and answers localhost",
  {
    timeout: 20_000,
  },
  async () => {
    const running = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      db: ":memory:",
      tokens: [],
      drainTimeoutMs: 1000,
      files: [],
      registry: builtins(),
      log: createLogger({ level: "error" }),
      fail,
    });
    try {
      const port = running.server.port;
      for (
        const [host, status] of [
          [`evil.example:${port}`, 421],
          [`EVIL.example.:${port}`, 421],
          // Not a valid host: Bun's URL then has none, the header decides.
          ["evil.example/../", 421],
          ["user@evil.example", 421],
          [`localhost:${port}`, 200],
          [`LocalHost.:${port}`, 200],
          [`127.0.0.1:${port}`, 200],
          [`[::1]:${port}`, 200],
        ] as [string, number][]
      ) {
        const socket = await openSocket(port);
        const reply = receive(socket);
        socket.write(
          `GET /flows HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        const text = await reply;
        assert.equal(statusOf(text), status, text);
        assert.match(text, /\r\n\r\n\{/, "a JSON body");
      }
    } finally {
      await running.shutdown();
    }
  },
);

test("hostCheck() refuses a foreign Host right after accepting a loopback one whose URL starts alike", async () => {
  const check = hostCheck();
  const app = new Hono().get("/x", (c) => {
    check(c);
    return c.text("ok");
  }).onError(errorHandler(() => {}));
  const statusFor = async (url: string) => (await app.request(url)).status;
  for (let round = 0; round < 2; round++) {
    assert.equal(await statusFor("http://localhost:9464/x"), 200);
    assert.equal(await statusFor("http://localhost.evil.example:9464/x"), 421);
    assert.equal(await statusFor("http://localhost:9464/x"), 200);
    assert.equal(await statusFor("http://localhost:19464/x"), 200);
    assert.equal(await statusFor("http://localhost:946/x"), 200);
    assert.equal(await statusFor("http://localhost9464.example/x"), 421);
  }
});
