/**
 * new FlowManager() refuses bad options with a sentence.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import type { Registry } from "../../src/engine/registry.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";

test("FlowManager refuses bad options with a sentence", () => {
  const store = FlowStore.open(":memory:");
  const registry = builtins();
  assert.throws(
    () => new FlowManager({ store: null as unknown as FlowStore, registry }),
    /options\.store must be a FlowStore/,
  );
  assert.throws(
    () => new FlowManager({ store, registry: {} as Registry }),
    /options\.registry must be a component Registry/,
  );
  assert.throws(
    () => new FlowManager({ store, registry, drainTimeoutMs: -5 }),
    (e: unknown) =>
      e instanceof RangeError &&
      /drainTimeoutMs must be a non-negative number of milliseconds up to 2147483647 \(about 24\.8 days, the longest timer\), received -5/
        .test(e.message),
  );
  // Beyond the longest timer, a drain would time out at once.
  assert.throws(
    () => new FlowManager({ store, registry, drainTimeoutMs: 2 ** 31 }),
    (e: unknown) =>
      e instanceof RangeError && /received 2147483648/.test(e.message),
  );
  store.close();
});
