/**
 * `http/In` and `http/Response` in the real `weir serve` (a child process
 * on 127.0.0.1 at a free port): a flow's routes under `/in/<flow>/`, the
 * `in` scope, 504, a route gone when its flow stops, a duplicate route.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startServeInTemp } from "./_weir.ts";

const ADMIN = "a".repeat(32);
const CLIENT = "c".repeat(32);

const FLOW = `# @name sensors
'POST, GET' -> method In(http/In)
'/readings/:sensor' -> path In
'300ms' -> timeout In
In out -> in Route(flow/Filter)
'method = "POST"' -> expr Route
Route out -> in Map(flow/Map)
'{"requestId": requestId, "status": 202, "body": {"sensor": params.sensor, "unit": query.unit, "value": body.value}}' -> expr Map
Map out -> in Out(http/Response)
`;

test(
  "weir serve: a flow's http/In routes answer under /in/<flow>/ behind the in scope, 504 when nothing answers, 404 once stopped",
  {
    timeout: 60_000,
  },
  async () => {
    const weir = await startServeInTemp("weir-http-in-", [
      "--token",
      `read,write,metrics:${ADMIN}`,
      "--token",
      `in:${CLIENT}`,
    ]);
    try {
      const api = (path: string, init: RequestInit = {}, token = ADMIN) =>
        fetch(`${weir.url}${path}`, {
          ...init,
          headers: {
            Authorization: `Bearer ${token}`,
            ...(init.headers as Record<string, string> ?? {}),
          },
        });
      const created = await api("/flows", {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: FLOW,
      });
      assert.equal(created.status, 201, await created.text());
      const post = (token: string) =>
        api("/in/sensors/readings/s-17?unit=C", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ value: 21.5 }),
        }, token);
      // The flow's own token: 202 and the body the flow made.
      let res = await post(CLIENT);
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), {
        sensor: "s-17",
        unit: "C",
        value: 21.5,
      });
      // A token without the in scope, and none at all.
      res = await post(ADMIN);
      assert.equal(res.status, 403);
      await res.body?.cancel();
      res = await fetch(`${weir.url}/in/sensors/readings/s-17`);
      assert.equal(res.status, 401);
      await res.body?.cancel();
      // GET is served but the flow drops it: 504 after the route's timeout.
      res = await api("/in/sensors/readings/s-17", {}, CLIENT);
      assert.equal(res.status, 504);
      assert.match((await res.json()).error, /within 300 ms/);
      // Stopped, the flow serves nothing.
      const stop = await api("/flows/sensors/stop", { method: "POST" });
      assert.equal(stop.status, 200);
      await stop.body?.cancel();
      res = await post(CLIENT);
      assert.equal(res.status, 404);
      await res.body?.cancel();
      // The metrics name the route pattern, never the raw path.
      const metrics = await (await api("/metrics")).text();
      assert.match(metrics, /route="\/in\/:flow\/\*"/);
      assert.doesNotMatch(metrics, /route="\/in\/sensors/);
      assert.match(
        metrics,
        /weir_http_in_timeouts_total\{flow="sensors",process="In"\} 1/,
      );
    } finally {
      weir.close();
    }
  },
);

test(
  "weir serve: a flow whose two http/In serve the same method and path is refused (400) naming both, and serves nothing",
  {
    timeout: 60_000,
  },
  async () => {
    const weir = await startServeInTemp("weir-http-in-dup-");
    try {
      const res = await fetch(`${weir.url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: `# @name dup
'/x' -> path A(http/In)
'/x' -> path B(http/In)
A out -> in Out(http/Response)
B out -> in Out
`,
      });
      const body = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(
        body.problems[0].message,
        /from process "B" \(http\/In\): process "A" serves GET \/x already/,
      );
      const missing = await fetch(`${weir.url}/in/dup/x`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    } finally {
      weir.close();
    }
  },
);

test(
  "weir serve: a flow never sees the caller's Authorization (the weir token that passed the in scope), other headers it does",
  { timeout: 60_000 },
  async () => {
    const weir = await startServeInTemp("weir-http-in-auth-", [
      "--token",
      `read,write:${ADMIN}`,
      "--token",
      `in:${CLIENT}`,
    ]);
    try {
      const created = await fetch(`${weir.url}/flows`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${ADMIN}`,
          "Content-Type": "text/vnd.fbp",
        },
        body: `# @name hdr
'/h' -> path In(http/In)
In out -> in Map(flow/Map)
'{"requestId": requestId, "body": headers}' -> expr Map
Map out -> in Out(http/Response)
`,
      });
      assert.equal(created.status, 201, await created.text());
      const res = await fetch(`${weir.url}/in/hdr/h`, {
        headers: {
          Authorization: `Bearer ${CLIENT}`,
          "Proxy-Authorization": "Basic eDp5",
          "X-Sensor": "s-17",
        },
      });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.equal(JSON.parse(text)["x-sensor"], "s-17");
      assert.equal(text.includes(CLIENT), false, text);
      assert.doesNotMatch(text, /authorization/i);
    } finally {
      weir.close();
    }
  },
);
