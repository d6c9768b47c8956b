/**
 * Changes through the HTTP API are logged with the name of the token that
 * made them, never its secret.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { Access } from "../../src/server/auth.ts";
import { flowApp } from "../../src/server/flow_app.ts";

const SECRET = "s3cret-of-twenty-four-ch";
const NAMED = "another-secret-0123456789";
const TICK = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)";

test(
  "Access.check() names the token that matched: its given name, else token- and 8 hex digits of its SHA-256",
  () => {
    const access = new Access({
      tokens: [
        { token: SECRET, scopes: ["read", "write"] },
        { token: NAMED, scopes: ["read"], name: "grafana" },
      ],
    });
    const hex = createHash("sha256").update(SECRET).digest("hex").slice(0, 8);
    assert.deepEqual(access.check(`Bearer ${SECRET}`, "write"), {
      ok: true,
      token: `token-${hex}`,
    });
    assert.deepEqual(access.check(`Bearer ${NAMED}`, "read"), {
      ok: true,
      token: "grafana",
    });
  },
);

test(
  "POST, PATCH, stop, start and DELETE /flows are logged once each with the token's name and never its secret",
  async () => {
    const lines: string[] = [];
    const flows = new FlowManager({
      store: FlowStore.open(":memory:"),
      registry: builtins(),
      log: (message, _level, fields) =>
        lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    });
    const app = flowApp({
      flows,
      metrics: new MetricsCollector(),
      components: builtins(),
      access: { tokens: [{ token: SECRET, scopes: ["read", "write"] }] },
    });
    const auth = { Authorization: `Bearer ${SECRET}` };
    const hex = createHash("sha256").update(SECRET).digest("hex").slice(0, 8);
    try {
      const post = await app.request("/flows?id=f", {
        method: "POST",
        headers: { ...auth, "Content-Type": "text/vnd.fbp" },
        body: TICK,
      });
      assert.equal(post.status, 201);
      const patch = await app.request("/flows/f", {
        method: "PATCH",
        headers: { ...auth, "Content-Type": "application/merge-patch+json" },
        body: '{"properties":{"required":true}}',
      });
      assert.equal(patch.status, 200);
      for (const op of ["stop", "start"]) {
        const r = await app.request(`/flows/f/${op}`, {
          method: "POST",
          headers: auth,
        });
        assert.equal(r.status, 200);
      }
      const del = await app.request("/flows/f", {
        method: "DELETE",
        headers: auth,
      });
      assert.equal(del.status, 204);
      // Refused: no token.
      const refused = await app.request("/flows?id=g", {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: TICK,
      });
      assert.equal(refused.status, 401);
      assert.deepEqual(
        lines.map((l) => l.replace(/ \{.*$/, "")),
        [
          `flow "f" created (rev 1, running) by token-${hex}`,
          `flow "f" updated (rev 2, running) by token-${hex}`,
          `flow "f" stopped (rev 3, stopped) by token-${hex}; 0 messages discarded`,
          `flow "f" started (rev 4, running) by token-${hex}`,
          `flow "f" deleted (rev 4) by token-${hex}`,
        ],
      );
      assert.match(lines[0], /"by":"token-[0-9a-f]{8}"/);
      assert.ok(lines.every((l) => !l.includes(SECRET)));
    } finally {
      await flows.close();
    }
  },
);

test(
  "a loopback server with no token configured logs changes as anonymous",
  async () => {
    const lines: string[] = [];
    const flows = new FlowManager({
      store: FlowStore.open(":memory:"),
      registry: builtins(),
      log: (message) => lines.push(message),
    });
    const app = flowApp({
      flows,
      metrics: new MetricsCollector(),
      components: builtins(),
    });
    try {
      const r = await app.request("/flows?id=f", {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: TICK,
      });
      assert.equal(r.status, 201);
      assert.deepEqual(lines, [
        'flow "f" created (rev 1, running) by anonymous (no token configured)',
      ]);
    } finally {
      await flows.close();
    }
  },
);
