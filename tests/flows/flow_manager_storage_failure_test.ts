/**
 * FlowManager when the database fails: the operation fails and the flows run as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  grows,
  harness,
  rejects,
  SLOW,
  snapshot,
  ticking,
} from "./_harness.ts";

test(
  "FlowManager: when the database write fails, the operation fails and the flows run as before",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "f", text: ticking(), format: "fbp" });
    await h.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    await grows(h.got);
    const before = snapshot(h);
    const fail = () => {
      throw new Error("disk I/O error");
    };
    const writable = {
      create: h.store.create,
      update: h.store.update,
      delete: h.store.delete,
    };
    Object.assign(h.store, { create: fail, update: fail, delete: fail });
    const input = { text: ticking("test/Sink2"), format: "fbp" } as const;
    for (
      const op of [
        () => h.flows.create({ id: "new", ...input }),
        () => h.flows.replace("f", input),
        () =>
          h.flows.patch("f", {
            processes: { Extra: { component: "core/Drop" } },
          }),
        () => h.flows.replace("idle", input),
        () => h.flows.start("idle"),
        () => h.flows.stop("f"),
        () => h.flows.delete("f"),
      ]
    ) {
      await rejects(
        op(),
        Error,
        (e) => assert.match(e.message, /disk I\/O error/),
      );
    }
    Object.assign(h.store, writable);
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);
