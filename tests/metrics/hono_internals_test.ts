/**
 * The Hono behaviour `src/metrics/_hono_internals.ts` relies on, checked
 * against the installed Hono: when Hono's version changes, the first test
 * fails and says what to re-check.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Hono } from "hono";
import { LinearRouter } from "hono/router/linear-router";
import { PatternRouter } from "hono/router/pattern-router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";
import { captureMatches } from "../../src/metrics/_hono_internals.ts";

/** The Hono version the capture was checked against. */
const CHECKED = "4.13.19";

test("captureMatches() was checked against the installed Hono version", () => {
  const file = new URL("../../node_modules/hono/package.json", import.meta.url);
  const { version } = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(
    version,
    CHECKED,
    `hono is ${version}, but src/metrics/_hono_internals.ts was checked against ${CHECKED}: ` +
      "re-check what its module doc relies on (the tests below), then set CHECKED here",
  );
});

const ROUTERS = {
  default: () => new Hono(),
  RegExpRouter: () => new Hono({ router: new RegExpRouter() }),
  TrieRouter: () => new Hono({ router: new TrieRouter() }),
  LinearRouter: () => new Hono({ router: new LinearRouter() }),
  PatternRouter: () => new Hono({ router: new PatternRouter() }),
  SmartRouter: () =>
    new Hono({
      router: new SmartRouter({
        routers: [new RegExpRouter(), new TrieRouter()],
      }),
    }),
};

for (const [name, make] of Object.entries(ROUTERS)) {
  test(`Hono (${name}) matches synchronously inside fetch(), the answering route last`, async () => {
    const app = make();
    app.use(async (_c, next) => await next());
    app.get("/flows/:id", async (c) => {
      await Promise.resolve();
      return c.text("ok");
    });
    const matches = captureMatches(app.router);
    for (const path of ["/flows/a", "/flows/b"]) {
      const outer = matches.begin();
      const res = app.fetch(new Request(`http://localhost${path}`));
      // Taken before the response settles: the match was synchronous.
      const route = matches.end(outer);
      assert.equal(route?.path, "/flows/:id");
      assert.equal(route?.method, "GET");
      assert.equal(await (await res).text(), "ok");
    }
  });

  test(`Hono (${name}) matches a handler's nested fetch() after the outer request's own match`, async () => {
    const app = make();
    app.get("/inner", (c) => c.text("inner"));
    app.get("/outer", async (c) => {
      const inner = await app.fetch(new Request("http://localhost/inner"));
      return c.text(await inner.text());
    });
    const matches = captureMatches(app.router);
    const outer = matches.begin();
    const res = await app.fetch(new Request("http://localhost/outer"));
    assert.equal(await res.text(), "inner");
    assert.equal(matches.end(outer)?.path, "/outer");
  });

  test(`Hono (${name}) reports a request no route answered with only middleware (method ALL) matched`, async () => {
    const app = make();
    app.use(async (_c, next) => await next());
    app.get("/known", (c) => c.text("ok"));
    const matches = captureMatches(app.router);
    const outer = matches.begin();
    const res = await app.fetch(new Request("http://localhost/unknown"));
    assert.equal(res.status, 404);
    assert.equal(matches.end(outer)?.method, "ALL");
  });
}

test("captureMatches() keeps observing a router that replaces its own match() on first use", async () => {
  const app = new Hono({ router: new RegExpRouter() });
  app.get("/a", (c) => c.text("a"));
  const matches = captureMatches(app.router);
  const own = Object.getOwnPropertyDescriptor(app.router, "match");
  assert.equal(typeof own?.set, "function");
  for (let i = 0; i < 3; i++) {
    const outer = matches.begin();
    await app.fetch(new Request("http://localhost/a"));
    assert.equal(matches.end(outer)?.path, "/a");
  }
  assert.equal(captureMatches(app.router), matches);
});
