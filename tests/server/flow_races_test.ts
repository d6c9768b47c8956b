/**
 * Requests racing on a few ids: no 5xx, and memory and database agree.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fbp, GOOD, mergePatch, OTHER, setup, views } from "./_flow_api.ts";

test(
  "PUT, PATCH, DELETE, start and stop racing on three ids: no 5xx, a PUT without rev never 404s or 409s, memory and database agree",
  {
    timeout: 60_000,
  },
  async () => {
    const s = setup();
    try {
      // A fixed, interleaved sequence (a small linear congruential generator).
      let seed = 7;
      const next = (n: number) => {
        seed = (seed * 48271) % 2147483647;
        return seed % n;
      };
      const bodies = [GOOD, OTHER, "A(core/Repeat)", "A(no/Such)", "A("];
      const pending: Promise<[string, number]>[] = [];
      for (let i = 0; i < 150; i++) {
        const id = ["a", "b", "c"][next(3)];
        const text = bodies[next(bodies.length)];
        const op = ["put", "delete", "start", "stop", "patch", "post"][next(6)];
        const req = {
          put: () => s.app.request(`/flows/${id}`, fbp(text, "PUT")),
          delete: () => s.app.request(`/flows/${id}`, { method: "DELETE" }),
          start: () => s.app.request(`/flows/${id}/start`, { method: "POST" }),
          stop: () =>
            s.app.request(`/flows/${id}/stop?timeout=${next(3) * 5}`, {
              method: "POST",
            }),
          patch: () =>
            s.app.request(
              `/flows/${id}`,
              mergePatch(JSON.stringify({ properties: { n: i } })),
            ),
          post: () => s.app.request(`/flows?id=${id}`, fbp(text)),
        }[op]!;
        pending.push(
          Promise.resolve(req()).then(async (r) => {
            await r.body?.cancel();
            return [op, r.status];
          }),
        );
        if (next(3) === 0) await new Promise((r) => setTimeout(r, 0));
      }
      const results = await Promise.all(pending);
      for (const [op, status] of results) {
        assert.ok(status < 500, `${op} answered ${status}`);
        if (op === "put") {
          assert.ok(
            [200, 201, 400, 422].includes(status),
            `PUT answered ${status}`,
          );
        }
      }
      const v = views(s);
      assert.equal(v.memory, v.stored);
    } finally {
      await s.close();
    }
  },
);
