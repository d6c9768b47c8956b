import assert from "node:assert/strict";
import { test } from "node:test";
import { Access, isLoopback, parseTokenSpec } from "../../src/server/auth.ts";

const T1 = "0123456789abcdef0123";
const T2 = "fedcba9876543210fedc";

test("parseTokenSpec() reads scopes:token, and a bare token grants every scope", () => {
  assert.deepEqual(parseTokenSpec(`read,metrics:${T1}`), {
    token: T1,
    scopes: ["read", "metrics"],
  });
  assert.deepEqual(parseTokenSpec(T1).scopes, [
    "read",
    "write",
    "metrics",
    "in",
  ]);
  // A colon inside a token is part of the token (unless what precedes it
  // reads as scope names: a typo such as "raed:" is then an error).
  assert.equal(parseTokenSpec(`a1b2:${T1}`).token, `a1b2:${T1}`);
});

test("parseTokenSpec() refuses short tokens, unknown scopes and white space, saying why", () => {
  assert.throws(
    () => parseTokenSpec("short"),
    /at least 16 characters long, received 5 \(generate one with: openssl rand -hex 32\)/,
  );
  assert.throws(
    () => parseTokenSpec(`read,admin:${T1}`),
    /unknown scope "admin"; scopes are read, write, metrics/,
  );
  assert.throws(() => parseTokenSpec(`${T1} x`), /white space/);
});

test("parseTokenSpec() refuses a scope typo instead of granting every scope, and never shows the secret", () => {
  for (
    const [head, named] of [
      ["Read", '"Read"'],
      ["READ,write", '"READ"'],
      ["read;write", '"read;write"'],
      ["read-only", '"read-only"'],
      ["read,", "(an empty one)"],
      ["", "(an empty one)"],
      ["correcthorsebattery", "(a word of 19 characters)"],
    ]
  ) {
    assert.throws(
      () => parseTokenSpec(`${head}:${T1}`),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.includes(
          `unknown scope ${named}; scopes are read, write, metrics`,
        ) &&
        !e.message.includes(T1) && !e.message.includes("correcthorse"),
      head,
    );
  }
});

test("parseTokenSpec(): a secret with a colon after a digit or symbol, or after written-out scopes, still works", () => {
  assert.deepEqual(parseTokenSpec(`s3cret:${T1}`), {
    token: `s3cret:${T1}`,
    scopes: ["read", "write", "metrics", "in"],
  });
  assert.equal(parseTokenSpec(`x.y:${T1}`).token, `x.y:${T1}`);
  assert.deepEqual(parseTokenSpec(`read,write,metrics:abc:${T1}`), {
    token: `abc:${T1}`,
    scopes: ["read", "write", "metrics"],
  });
  assert.deepEqual(parseTokenSpec(` read , write :${T1}`).scopes, [
    "read",
    "write",
  ]);
});

test("Access.check(): a token is accepted for its scopes only", () => {
  const a = new Access({
    tokens: [{ token: T1, scopes: ["read"] }, {
      token: T2,
      scopes: ["write", "metrics"],
    }],
  });
  assert.deepEqual(a.check(`Bearer ${T1}`, "read").ok, true);
  assert.deepEqual(a.check(`bearer  ${T2} `, "write").ok, true);
  const noScope = a.check(`Bearer ${T1}`, "write");
  assert.equal(noScope.ok, false);
  assert.equal(!noScope.ok && noScope.status, 403);
  assert.match(!noScope.ok ? noScope.message : "", /lacks the "write" scope/);
  const wrong = a.check(`Bearer ${T1}x`, "read");
  assert.equal(!wrong.ok && wrong.status, 401);
  const missing = a.check(undefined, "metrics");
  assert.equal(!missing.ok && missing.status, 401);
  assert.match(!missing.ok ? missing.message : "", /Authorization: Bearer/);
  const basic = a.check(`Basic ${T1}`, "read");
  assert.equal(!basic.ok && basic.status, 401);
});

test("Access.check(): with no token, loopback is open and an exposed server refuses all but metrics", () => {
  const local = new Access({ exposed: false });
  assert.equal(local.check(undefined, "write").ok, true);
  const exposed = new Access({ exposed: true });
  assert.equal(exposed.check(undefined, "metrics").ok, true);
  for (const scope of ["read", "write"] as const) {
    const r = exposed.check(`Bearer ${T1}`, scope);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.status, 403);
    assert.match(
      !r.ok ? r.message : "",
      /start it with a token \(weir serve: --token or WEIR_TOKEN.*; an app that mounts flowApp: the tokens of its access option\)/,
    );
  }
});

test("isLoopback() knows loopback addresses from the ones that listen everywhere", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
    assert.equal(isLoopback(h), true, h);
  }
  for (const h of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
    assert.equal(isLoopback(h), false, h);
  }
});
