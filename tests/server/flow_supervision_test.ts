/**
 * Supervision through the HTTP API: the policy set in the graph's
 * properties, the states in the answers, `/readyz` with required flows,
 * and bad settings refused with 400.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fbp, setup } from "./_flow_api.ts";

const TICK = "'1s' -> interval T(core/Interval) out -> in D(core/Drop)";

test(
  "POST /flows takes the restart policy and required from the graph's properties, and GET /flows/:id reports them",
  async () => {
    const s = setup();
    try {
      const r = await s.app.request(
        "/flows",
        fbp(
          `# @name pump\n# @restart on-failure\n# @restartLimit 3\n# @required true\n${TICK}`,
        ),
      );
      assert.equal(r.status, 201);
      const info = await r.json();
      assert.equal(info.state, "running");
      assert.equal(info.restart, "on-failure");
      assert.equal(info.required, true);
      assert.equal(info.restarts, 0);
      const got = await (await s.app.request("/flows/pump")).json();
      assert.deepEqual(
        [got.restart, got.required, got.restarts],
        ["on-failure", true, 0],
      );
      const plain = await (await s.app.request(
        "/flows",
        fbp(`# @name plain\n${TICK}`),
      )).json();
      assert.deepEqual([plain.restart, plain.required], ["never", false]);
    } finally {
      await s.close();
    }
  },
);

test(
  "GET /readyz is 503 naming a required flow that was stopped, and 200 again once it runs",
  async () => {
    const s = setup();
    try {
      await s.app.request(
        "/flows",
        fbp(`# @name must\n# @required true\n${TICK}`),
      );
      await s.app.request("/flows", fbp(`# @name may\n${TICK}`));
      assert.equal((await s.app.request("/readyz")).status, 200);
      await s.app.request("/flows/may/stop", { method: "POST" });
      assert.equal((await s.app.request("/readyz")).status, 200);
      const stop = await s.app.request("/flows/must/stop", { method: "POST" });
      assert.equal((await stop.json()).state, "stopped");
      const r = await s.app.request("/readyz");
      assert.equal(r.status, 503);
      assert.deepEqual(await r.json(), {
        ready: false,
        reasons: ['Flow "must" is required but is stopped: it was stopped'],
      });
      await s.app.request("/flows/must/start", { method: "POST" });
      assert.equal((await s.app.request("/readyz")).status, 200);
    } finally {
      await s.close();
    }
  },
);

test(
  "POST /flows with a bad restart policy is 400 naming properties.restart",
  async () => {
    const s = setup();
    try {
      const r = await s.app.request(
        "/flows",
        fbp(`# @name bad\n# @restart sometimes\n${TICK}`),
      );
      assert.equal(r.status, 400);
      const body = JSON.stringify(await r.json());
      assert.match(body, /properties\.restart/);
      assert.match(body, /one of never, on-failure, always/);
      assert.equal((await s.app.request("/flows/bad")).status, 404);
    } finally {
      await s.close();
    }
  },
);

test(
  "POST /flows lists every problem of a graph at once: a bad required and a bad allow list",
  async () => {
    const s = setup();
    try {
      const r = await s.app.request(
        "/flows",
        fbp(`# @name bad\n# @required maybe\n# @allow bogus x\n${TICK}`),
      );
      assert.equal(r.status, 400);
      const body = JSON.stringify(await r.json());
      assert.match(body, /properties\.required/);
      assert.match(
        body,
        /required must be true or false, received \\"maybe\\"/,
      );
      assert.match(body, /allow has no kind \\"bogus\\"/);
      assert.equal((await s.app.request("/flows/bad")).status, 404);
    } finally {
      await s.close();
    }
  },
);

test(
  "GET /metrics shows each flow's state (one series per state) and its restarts",
  async () => {
    const s = setup();
    try {
      await s.app.request("/flows", fbp(`# @name m\n${TICK}`));
      await s.app.request("/flows/m/stop", { method: "POST" });
      const text = await (await s.app.request("/metrics")).text();
      assert.match(text, /^weir_flow_state\{flow="m",state="stopped"\} 1$/m);
      assert.match(text, /^weir_flow_state\{flow="m",state="running"\} 0$/m);
      assert.equal(
        [...text.matchAll(/^weir_flow_state\{flow="m",/gm)].length,
        8,
      );
      assert.match(text, /^weir_flow_restarts_total\{flow="m"\} 0$/m);
      assert.match(text, /^# TYPE weir_flow_failures_total counter$/m);
    } finally {
      await s.close();
    }
  },
);
