/**
 * FlowManager counts its operations and active flows in the collector.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FlowConflictError,
  FlowNotFoundError,
} from "../../src/flows/errors.ts";
import { harness, operations, rejects, SLOW, ticking } from "./_harness.ts";

test(
  "FlowManager counts every operation by operation and result, and active flows",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "a", text: ticking(), format: "fbp" });
    await h.flows.create({ id: "b", text: ticking(), format: "fbp" });
    await rejects(
      h.flows.create({ id: "a", text: ticking(), format: "fbp" }),
      FlowConflictError,
    );
    await h.flows.replace("a", { text: ticking(), format: "fbp" });
    await h.flows.patch("a", { properties: { x: 1 } });
    await rejects(h.flows.patch("a", {}, { rev: 1 }), FlowConflictError);
    await h.flows.stop("b");
    await h.flows.start("b");
    await h.flows.stop("b");
    await rejects(h.flows.start("zz"), FlowNotFoundError);
    await h.flows.delete("b");
    assert.deepEqual(await operations(h.collector), {
      "create success": 2,
      "create error": 1,
      "update success": 2,
      "update error": 1,
      "delete success": 1,
      "start success": 1,
      "start error": 1,
      "stop success": 2,
    });
    assert.match(await h.collector.render(), /^weir_flows_active 1$/m);
    await h.flows.close();
  },
);
