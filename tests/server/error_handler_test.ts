/**
 * The one table from error to HTTP status: the flow domain's errors get
 * their status, anything unknown is a logged 500 with a request id.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import {
  FlowConflictError,
  FlowManagerClosedError,
  FlowNotFoundError,
  FlowStartError,
  FlowStoreError,
  GraphTooDeepError,
  InvalidFlowArgumentError,
  InvalidPatchError,
} from "../../src/flows/errors.ts";
import { GraphError } from "../../src/graph/graph_error.ts";
import { errorHandler, statusOf } from "../../src/server/error_handler.ts";
import { HttpError } from "../../src/server/http_error.ts";

test("statusOf() maps each flow-domain error to its HTTP status", () => {
  assert.equal(statusOf(new FlowNotFoundError("a")), 404);
  assert.equal(statusOf(new FlowConflictError("a", "stale")), 409);
  assert.equal(statusOf(new FlowStartError("a", "no start")), 422);
  assert.equal(statusOf(new FlowManagerClosedError("closed")), 503);
  assert.equal(
    statusOf(new InvalidFlowArgumentError("id", "a b", "bad id")),
    400,
  );
  assert.equal(
    statusOf(new InvalidFlowArgumentError("rev", 0, "bad rev")),
    400,
  );
  assert.equal(statusOf(new InvalidPatchError("a", "bad patch")), 400);
  assert.equal(statusOf(new GraphTooDeepError("deep")), 400);
  assert.equal(statusOf(new GraphError([{ path: "$", message: "x" }])), 400);
  assert.equal(statusOf(new HttpError(413, "too big")), 413);
});

test("statusOf() knows no status for a built-in error or a storage failure", () => {
  assert.equal(statusOf(new TypeError("x is undefined")), undefined);
  assert.equal(statusOf(new RangeError("Invalid array length")), undefined);
  assert.equal(statusOf(new FlowStoreError(":memory:", "closed")), undefined);
  assert.equal(statusOf("a string"), undefined);
});

/** An app whose one route throws `error`; `told` collects what is logged. */
function throwing(error: unknown, ids = false) {
  const told: { requestId: string; error: unknown }[] = [];
  const app = new Hono();
  if (ids) app.use(requestId());
  app.get("/x", () => {
    throw error;
  });
  app.onError(
    errorHandler((r, e) => told.push({ requestId: r.requestId, error: e })),
  );
  return { app, told };
}

test("an unexpected TypeError thrown inside a handler is a logged 500 with a request id, never a 400", async () => {
  const bug = new TypeError(
    "Cannot read properties of undefined (reading 'x')",
  );
  const { app, told } = throwing(bug, true);
  const res = await app.request("/x");
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(typeof body.requestId, "string");
  assert.ok(body.requestId.length > 0);
  assert.equal(res.headers.get("x-request-id"), body.requestId);
  assert.match(body.error, /^internal error while handling GET \/x;/);
  assert.doesNotMatch(
    body.error,
    /reading 'x'/,
    "the bug's words stay in the log",
  );
  assert.deepEqual(told, [{ requestId: body.requestId, error: bug }]);
});

test("a 500 without the request-id middleware still gets an id of its own", async () => {
  const { app, told } = throwing(new RangeError("Invalid array length"));
  const res = await app.request("/x");
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.match(body.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(res.headers.get("x-request-id"), body.requestId);
  assert.equal(told.length, 1);
});

test("a domain error is answered with its message and status, not logged", async () => {
  const { app, told } = throwing(new FlowConflictError("a", "rev 1 is stale"));
  const res = await app.request("/x");
  assert.equal(res.status, 409);
  assert.deepEqual(await res.json(), { error: "rev 1 is stale" });
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(told, []);
});
