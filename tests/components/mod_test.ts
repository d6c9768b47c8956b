import { test } from "node:test";
import assert from "node:assert/strict";
import * as components from "../../src/components/mod.ts";
import type { Component } from "../../src/engine/component.ts";
import { NAMES } from "./_helpers.ts";

test("every built-in component is exported by name from the module", () => {
  const exported = Object.values(components).filter((v): v is Component =>
    typeof v === "object" && v !== null && "inPorts" in v
  );
  assert.deepEqual(exported.map((c) => c.name).sort(), NAMES);
});
