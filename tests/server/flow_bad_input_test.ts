/**
 * Bad graphs and bad ids are 400 (or 404) with a sentence, and change nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  body,
  fbp,
  GOOD,
  mergePatch,
  OTHER,
  setup,
  views,
} from "./_flow_api.ts";

test("JSON nested thousands deep is a 400 that says so, for a graph and for a merge patch; nothing changes", async () => {
  const s = setup();
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    const before = views(s);
    const deep = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    for (
      const [path, init] of [
        ["/flows?id=deep", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: `{"processes":{},"properties":{"x":${deep(100_000)}}}`,
        }],
        ["/flows/a", mergePatch(`{"properties":{"x":${deep(100_000)}}}`)],
      ] as [string, RequestInit][]
    ) {
      const res = await s.app.request(path, init);
      const b = await body(res);
      assert.equal(res.status, 400, String(b.error));
      // Either the JSON reader refuses it or the graph code: both say why.
      assert.match(
        String(b.error),
        /nested too deeply|not valid JSON|Invalid graph|Cannot read/,
      );
      assert.doesNotMatch(String(b.error), /^Maximum call stack/);
    }
    assert.deepEqual(views(s), before);
  } finally {
    await s.close();
  }
});

test("ids: unicode, percent-encoded slashes, malformed escapes and 129 characters are refused with the id rule or a 404; nothing is created", async () => {
  const s = setup();
  try {
    for (
      const id of ["%E2%9C%93", "a%2Fb", "a%20b", ".hidden", "a".repeat(129)]
    ) {
      const res = await s.app.request(`/flows/${id}`, fbp(GOOD, "PUT"));
      assert.equal(res.status, 400, id);
      assert.match(
        String((await body(res)).error),
        /an id is 1 to 128 letters/,
      );
    }
    for (const path of ["/flows/%E0%A4%A", "/flows/a%00b", "/flows/%ZZ"]) {
      const res = await s.app.request(path);
      assert.equal(res.status, 404, path);
      await body(res);
    }
    assert.deepEqual(s.store.list(), []);
    const ok = "a".repeat(128);
    assert.equal(
      (await s.app.request(`/flows/${ok}`, fbp(GOOD, "PUT"))).status,
      201,
    );
    assert.equal((await s.app.request(`/flows/${ok}`)).status, 200);
  } finally {
    await s.close();
  }
});

test("POST /flows refuses a graph with no process, as a bare word in .fbp text or as JSON, with a 400 that says why; nothing is created", async () => {
  const s = setup();
  try {
    const before = views(s);
    for (
      const [type, text, why] of [
        [
          "application/x-fbp",
          "hello",
          /"hello" is not connected and has no component/,
        ],
        [
          "text/vnd.fbp",
          "hello\n",
          /"hello" is not connected and has no component/,
        ],
        ["application/json", '{"processes":{}}', /the graph has no process/],
        ["text/vnd.fbp", "# nothing here\n", /the graph has no process/],
        // A graph wrapped in an object of the client's own making.
        [
          "application/json",
          JSON.stringify({
            id: "ticks",
            graph: "'1s' -> interval T(core/Interval)",
          }),
          /the graph has no process, .*; its keys "id", "graph" are not fbp-graph JSON's \(caseSensitive, properties, inports, outports, groups, processes, connections\): send the graph itself$/,
        ],
      ] as [string, string, RegExp][]
    ) {
      const res = await s.app.request("/flows", {
        method: "POST",
        headers: { "Content-Type": type },
        body: text,
      });
      const b = await body(res);
      assert.equal(res.status, 400, `${type} ${text}: ${JSON.stringify(b)}`);
      assert.match(
        (b.problems as { message: string }[]).map((p) => p.message).join("\n"),
        why,
      );
    }
    assert.deepEqual(views(s), before);
  } finally {
    await s.close();
  }
});

test("POST /flows refuses a # @name that is not a valid id with the id rule, and ?id= takes over from it", async () => {
  const s = setup();
  try {
    const text = "# @name my flow!\n'x' -> in Log(core/Output)\n";
    const before = views(s);
    const refused = await s.app.request("/flows", fbp(text));
    assert.equal(refused.status, 400);
    assert.match(
      String((await body(refused)).error),
      /graph's properties\.name, but an id is 1 to 128 letters.*received "my flow!"; give an id/,
    );
    assert.deepEqual(views(s), before);
    const given = await s.app.request("/flows?id=mine", fbp(text));
    assert.equal(given.status, 201);
    assert.equal((await body(given)).id, "mine");
  } finally {
    await s.close();
  }
});

test("PATCH that breaks the graph: each problem has its path but no line or column, which would point into merged text the client never sent; nothing changes", async () => {
  const s = setup();
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    const before = views(s);
    const res = await s.app.request(
      "/flows/a",
      mergePatch(
        JSON.stringify({
          processes: { Tick: { component: "core/Nope" } },
          connections: [{
            src: { process: "Ghost", port: "out" },
            tgt: { process: "Out", port: "in" },
          }],
        }),
      ),
    );
    const b = await body(res);
    assert.equal(res.status, 400, JSON.stringify(b));
    assert.match(String(b.error), /^Invalid graph: \d+ problems?$/);
    const problems = b.problems as Record<string, unknown>[];
    assert.ok(
      problems.some((p) =>
        p.path === "processes.Tick.component" &&
        /core\/Nope/.test(String(p.message))
      ),
      JSON.stringify(problems),
    );
    assert.ok(
      problems.some((p) => /Ghost/.test(String(p.message))),
      JSON.stringify(problems),
    );
    for (const p of problems) {
      assert.deepEqual(Object.keys(p).sort(), ["message", "path"]);
    }
    assert.deepEqual(views(s), before);
    assert.equal(s.flows.stored("a").text, GOOD);
  } finally {
    await s.close();
  }
});

test("a query parameter given twice with different values is a 400 naming it, not whichever one was read; nothing changes", async () => {
  const s = setup();
  try {
    await s.app.request("/flows/a", fbp(GOOD, "PUT"));
    const before = views(s);
    for (
      const [path, init, name] of [
        // The stored rev is 1: read as the first one, the stale 5 passed.
        ["/flows/a?rev=1&rev=5", fbp(OTHER, "PUT"), "rev"],
        ["/flows/a?rev=1&rev=5", { method: "DELETE" }, "rev"],
        ["/flows/a?rev=1&rev=5", mergePatch('{"properties":{"x":1}}'), "rev"],
        ["/flows?id=b&id=c", fbp(GOOD), "id"],
        ["/flows/b?start=true&start=false", fbp(GOOD, "PUT"), "start"],
        ["/flows/a/stop?timeout=10&timeout=20", { method: "POST" }, "timeout"],
        ["/flows/a/events?interval=100&interval=200", {}, "interval"],
        ["/flows/a/tap?rate=1&rate=2", {}, "rate"],
      ] as [string, RequestInit, string][]
    ) {
      const res = await s.app.request(path, init);
      const b = await body(res);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(b)}`);
      assert.match(
        String(b.error),
        new RegExp(`^${name} is given 2 times with different values`),
        path,
      );
    }
    assert.deepEqual(views(s), before);
    assert.equal(s.flows.stored("a").text, GOOD);
    // The same value twice says one thing: taken.
    const same = await s.app.request("/flows/a?rev=1&rev=1", fbp(OTHER, "PUT"));
    assert.equal(same.status, 200, JSON.stringify(await body(same)));
  } finally {
    await s.close();
  }
});
