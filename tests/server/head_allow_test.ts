/**
 * A route's `Allow` tells the truth about HEAD: every path of the flow
 * server's app, walked from its routes, either answers HEAD (2xx) and names
 * it in `Allow`, or refuses it (405) and does not.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { flowApp } from "../../src/server/flow_app.ts";
import { httpInParts } from "./_http_in_parts.ts";
import { MemoryHistory } from "./_memory_history.ts";

/** A flow that serves `/page` for GET and POST, `/hook` for POST alone. */
const WEB = `# @name web
'GET, POST' -> method Page(http/In)
'/page' -> path Page
Page out -> in PageOut(http/Response)
'POST' -> method Hook(http/In)
'/hook' -> path Hook
Hook out -> in HookOut(http/Response)
`;

const TICKS = `# @name a
'1s' -> interval Tick(core/Interval) out -> in Out(core/Drop)
`;

/** The paths to ask for a route's pattern: its parameters filled in. */
function _paths(pattern: string): string[] {
  if (pattern === "/in/:flow/*") return ["/in/web/page", "/in/web/hook"];
  const path = pattern.replace("/:id", "/a").replace("/:name/", "/job/");
  assert.doesNotMatch(
    path,
    /[:*]/,
    `route ${pattern}: this test does not know what to put for its parameters; teach _paths()`,
  );
  return [path];
}

const _methods = (allow: string | null) =>
  (allow ?? "").split(",").map((m) => m.trim()).filter((m) => m !== "");

test("every route of flowApp: a HEAD answered 2xx is named in the route's Allow, a HEAD refused with 405 is not", async () => {
  const { router, components, metrics, flows } = httpInParts();
  const app = flowApp({
    flows,
    metrics,
    components,
    httpIn: router,
    history: new MemoryHistory(),
  });
  try {
    for (const text of [TICKS, WEB]) {
      const res = await app.request("/flows", {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: text,
      });
      assert.equal(res.status, 201, await res.text());
    }
    const patterns = [...new Set(app.routes.map((r) => r.path))];
    // The walk covers what it should: a route group left out (none is
    // mounted without a route) would make this pass by saying nothing.
    for (
      const p of ["/flows/:id/events", "/flows/:id/tap", "/in/:flow/*", "/"]
    ) {
      assert.ok(patterns.includes(p), `${p} in ${patterns.join(" ")}`);
    }
    const wrong: string[] = [];
    let walked = 0;
    for (const path of patterns.flatMap(_paths)) {
      const head = await app.request(path, { method: "HEAD" });
      await head.body?.cancel();
      // The route's Allow: a HEAD's 405 has it, else that of a method
      // the route does not take (PROPFIND; under /in/, whose methods are
      // the flow's, DELETE, which neither of its routes takes).
      let allow = head.status === 405 ? head.headers.get("allow") : null;
      if (allow === null) {
        const method = path.startsWith("/in/") ? "DELETE" : "PROPFIND";
        const res = await app.request(path, { method });
        await res.body?.cancel();
        if (res.status === 405) allow = res.headers.get("allow");
      }
      assert.notEqual(allow, null, `${path}: no 405 tells its Allow`);
      const listed = _methods(allow).includes("HEAD");
      if (head.status >= 200 && head.status < 300 && !listed) {
        wrong.push(`HEAD ${path} answered ${head.status}; Allow: ${allow}`);
      } else if (head.status === 405 && listed) {
        wrong.push(`HEAD ${path} answered 405; Allow: ${allow}`);
      }
      walked++;
    }
    assert.deepEqual(wrong, []);
    assert.ok(walked >= 25, `walked ${walked} paths`);
  } finally {
    await flows.close({ timeoutMs: 500 });
  }
});
