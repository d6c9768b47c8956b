/**
 * A stored flow whose text no longer parses: shown, not patched, fixed by PUT.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { body, fbp, GOOD, mergePatch, setup } from "./_flow_api.ts";

test("a stored flow whose text no longer parses: GET shows its text and problems (200), PATCH is 409 naming the stored text, PUT fixes it", async () => {
  const store = FlowStore.open(":memory:");
  // As an older weir might have written it.
  store.create({
    id: "old",
    text: "A(core/Repeat) out -> in B(",
    format: "fbp",
    running: true,
  });
  const s = setup({}, store);
  try {
    const [restored] = await s.flows.restore();
    assert.equal(restored.state, "failed");

    let res = await s.app.request("/flows/old");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("etag") ?? "", /^"1-[0-9a-f]{8}"$/);
    const got = await body(res);
    assert.deepEqual(got.source, {
      format: "fbp",
      text: "A(core/Repeat) out -> in B(",
    });
    assert.equal(got.graph, null);
    assert.equal(got.state, "failed");
    const problems = got.problems as { line: number; col: number }[];
    assert.equal(problems.length, 1);
    assert.equal(problems[0].line, 1);

    res = await s.app.request(
      "/flows/old",
      mergePatch('{"properties":{"a":1}}'),
    );
    assert.equal(res.status, 409);
    assert.match(
      String((await body(res)).error),
      /its stored graph does not parse .*replace it with PUT/,
    );
    assert.equal(s.store.get("old")?.rev, 1);

    res = await s.app.request("/flows/old", fbp(GOOD, "PUT"));
    assert.equal(res.status, 200);
    assert.equal((await body(res)).state, "running");
    assert.equal(
      (await body(await s.app.request("/flows/old"))).problems,
      undefined,
    );
  } finally {
    await s.close();
  }
});
