/**
 * A JSON body nested deeper than the limit is refused before it is parsed,
 * with the limit and where it was passed; one within it works.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { body, fbp, GOOD, mergePatch, setup, views } from "./_flow_api.ts";
import { DEFAULT_MAX_BODY_DEPTH } from "../../src/server/flow_app.ts";

const deepArray = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

test("the body depth limit is 64 levels", () => {
  assert.equal(DEFAULT_MAX_BODY_DEPTH, 64);
});

test("a graph nested 100,000 deep and a merge patch nested 10,000 deep are refused with 400 naming the limit and the place; nothing changes", async () => {
  const s = setup();
  try {
    assert.equal(
      (await s.app.request("/flows/a", fbp(GOOD, "PUT"))).status,
      201,
    );
    const before = views(s);
    for (
      const [path, init] of [
        ["/flows", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: deepArray(100_000),
        }],
        ["/flows/a", {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: `{"processes":{},"properties":{"x":${deepObject(10_000)}}}`,
        }],
        ["/flows/a", mergePatch(`{"properties":{"x":${deepObject(10_000)}}}`)],
        [
          "/flows/a",
          fbp(
            `'${
              deepObject(100_000)
            }' -> options O(core/Output)\n'1s' -> interval T(core/Interval) out -> in O`,
            "PUT",
          ),
        ],
      ] as [string, RequestInit][]
    ) {
      const res = await s.app.request(path, init);
      const b = await body(res);
      assert.equal(res.status, 400, `${init.method} ${path}: ${b.error}`);
      assert.match(
        String(b.error),
        /nested too deeply: objects and arrays more than 64 levels within each other \(line 1, col \d+\)/,
      );
    }
    assert.deepEqual(views(s), before);
    assert.equal(s.flows.get("a").rev, 1);
  } finally {
    await s.close();
  }
});

test("a body within the depth limit works, and brackets inside strings do not count", async () => {
  const s = setup();
  try {
    assert.equal(
      (await s.app.request("/flows/a", fbp(GOOD, "PUT"))).status,
      201,
    );
    const patch = mergePatch(
      `{"properties":{"x":${deepObject(40)},"y":${
        JSON.stringify("[{".repeat(5000))
      }}}`,
    );
    const res = await s.app.request("/flows/a", patch);
    assert.equal(res.status, 200, JSON.stringify(await res.clone().json()));
    assert.equal(s.flows.get("a").rev, 2);
  } finally {
    await s.close();
  }
});

test("maxBodyDepth sets the limit", async () => {
  const s = setup({ maxBodyDepth: 3 });
  try {
    assert.equal(
      (await s.app.request("/flows/a", fbp(GOOD, "PUT"))).status,
      201,
    );
    const res = await s.app.request(
      "/flows/a",
      mergePatch('{"properties":{"x":{"y":[1]}}}'),
    );
    assert.equal(res.status, 400);
    assert.match(String((await body(res)).error), /more than 3 levels.*col 25/);
  } finally {
    await s.close();
  }
});

test("a refusal quotes at most an excerpt of a header or parameter the client sent", async () => {
  const s = setup();
  try {
    const long = "9".repeat(10_000);
    for (
      const [path, init] of [
        ["/flows/a", fbp(GOOD, "PUT", { "If-Match": `x${long}` })],
        [`/flows/a?rev=x${long}`, fbp(GOOD, "PUT")],
        [`/flows/a?start=${long}`, fbp(GOOD, "PUT")],
        ["/flows", {
          method: "POST",
          headers: { "Content-Type": `application/${long}` },
          body: GOOD,
        }],
        [
          "/flows/a",
          fbp(GOOD, "PUT", { "Content-Type": `text/vnd.fbp; charset=${long}` }),
        ],
      ] as [string, RequestInit][]
    ) {
      const res = await s.app.request(path, init);
      const error = String((await body(res)).error);
      assert.ok(res.status >= 400, path.slice(0, 40));
      assert.ok(error.length < 400, `${error.length}: ${error.slice(0, 80)}`);
      assert.match(error, /\.\.\. \(10,0\d\d characters\)/);
    }
  } finally {
    await s.close();
  }
});
