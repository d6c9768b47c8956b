/**
 * Failed token attempts are counted per client address, locked out after
 * a few, logged without the token and without flooding the log.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fail } from "../../src/cli/cli_error.ts";
import { createLogger } from "../../src/cli/log.ts";
import { startServer } from "../../src/cli/serve.ts";
import { builtins } from "../../src/components/mod.ts";
import { FailedAttempts } from "../../src/server/failed_attempts.ts";
import { body, setup, TOKEN } from "./_flow_api.ts";

test("FailedAttempts locks a client out after maxFailures in its window, until the window ends; other clients are not affected", () => {
  let now = 1000;
  const a = new FailedAttempts({
    maxFailures: 3,
    windowMs: 10_000,
    log: () => {},
    now: () => now,
  });
  for (let i = 0; i < 2; i++) a.fail("10.0.0.1", "GET /flows");
  assert.equal(a.lockedFor("10.0.0.1"), 0);
  now += 500;
  a.fail("10.0.0.1", "GET /flows");
  assert.equal(a.lockedFor("10.0.0.1"), 9_500);
  assert.equal(a.lockedFor("10.0.0.2"), 0);
  now = 1000 + 10_000;
  assert.equal(a.lockedFor("10.0.0.1"), 0);
  // A new window counts from zero.
  a.fail("10.0.0.1", "GET /flows");
  assert.equal(a.lockedFor("10.0.0.1"), 0);
  a.close();
});

test("FailedAttempts remembers at most maxClients addresses, forgetting the oldest", () => {
  const a = new FailedAttempts({ maxClients: 100, log: () => {} });
  for (let i = 0; i < 100_000; i++) {
    a.fail(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, "GET /");
  }
  assert.equal(a.size, 100);
  a.close();
});

test("FailedAttempts logs the first few failures of a window, then one summary line with the count; never more", () => {
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const a = new FailedAttempts({
    logFirst: 3,
    windowMs: 60_000,
    log: (_l, message, fields) => lines.push({ message, fields }),
  });
  for (let i = 0; i < 1000; i++) a.fail(`10.0.0.${i % 7}`, "GET /flows");
  assert.equal(lines.length, 3);
  assert.match(
    lines[0].message,
    /^token refused: GET \/flows from 10\.0\.0\.0 \(failure 1 from this address in 60 s\)$/,
  );
  a.close();
  assert.equal(lines.length, 4);
  assert.equal(
    lines[3].message,
    "997 more failed token attempts in the last 60 s from 7 addresses (not logged one by one)",
  );
});

test("a client that guesses tokens gets 429 with Retry-After after 10 failures, even with the right token, and the log never holds a token", async () => {
  const lines: string[] = [];
  let client = "10.0.0.1";
  const s = setup({
    access: {
      tokens: [{ token: TOKEN, scopes: ["read"] }],
      failedAttempts: { log: (_l, m, f) => lines.push(m + JSON.stringify(f)) },
    },
    clientAddress: () => client,
  });
  try {
    const get = (token: string) =>
      s.app.request("/flows", {
        headers: { Authorization: `Bearer ${token}` },
      });
    const guesses: string[] = [];
    for (let i = 0; i < 10; i++) {
      const guess = `guess-${i}-${"x".repeat(20)}`;
      guesses.push(guess);
      const res = await get(guess);
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
    for (const token of ["another-guess-xxxxxxxxxx", TOKEN]) {
      const res = await get(token);
      const b = await body(res);
      assert.equal(res.status, 429, token);
      assert.match(
        String(b.error),
        /too many failed token attempts from 10\.0\.0\.1: retry in 60 s/,
      );
      assert.equal(res.headers.get("retry-after"), "60");
    }
    // Not counted, not refused: no token tried.
    assert.equal((await s.app.request("/flows")).status, 401);
    client = "10.0.0.2";
    assert.equal((await get(TOKEN)).status, 200);
    assert.equal(lines.length, 5);
    assert.match(lines[0], /token refused: GET \/flows from 10\.0\.0\.1/);
    for (const line of lines) {
      for (const g of [...guesses, TOKEN]) assert.ok(!line.includes(g), line);
    }
  } finally {
    await s.close();
  }
});

test(
  "weir's server counts failed attempts by the client's real address, on this runtime",
  { timeout: 20_000 },
  async () => {
    const lines: string[] = [];
    const running = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      db: ":memory:",
      tokens: [{ token: TOKEN, scopes: ["read"] }],
      drainTimeoutMs: 1000,
      files: [],
      registry: builtins(),
      log: createLogger({
        level: "warn",
        format: "json",
        write: (l) => lines.push(l),
      }),
      fail,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const res = await fetch(`${running.server.url}/flows`, {
          headers: { Authorization: `Bearer wrong-${"y".repeat(20)}` },
        });
        await res.body?.cancel();
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
      assert.match(
        lines[0],
        /"msg":"token refused: GET \/flows from 127\.0\.0\.1 \(failure 1/,
      );
      assert.ok(!lines.join("\n").includes("wrong-"));
    } finally {
      await running.shutdown();
    }
  },
);
