import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import * as components from "../../src/components/mod.ts";
import { type Component, defineComponent } from "../../src/engine/component.ts";

const NAMES = [
  "core/Delay",
  "core/Drop",
  "core/Interval",
  "core/Kick",
  "core/Merge",
  "core/Output",
  "core/Repeat",
  "flow/Batch",
  "flow/Counter",
  "flow/Filter",
  "flow/Map",
  "flow/Throttle",
  "fs/ReadFile",
  "fs/ReadLines",
  "fs/WriteLines",
  "json/Parse",
  "json/Stringify",
  "strings/Split",
];

const ALIASES: Record<string, string> = {
  "core/RepeatDelayed": "core/Delay",
  "filesystem/ReadFile": "fs/ReadFile",
  "packets/Counter": "flow/Counter",
  "strings/SplitStr": "strings/Split",
};

test("builtins() registers every built-in component under its weir name", () => {
  const registry = builtins();
  assert.deepEqual(registry.components().map((c) => c.name), NAMES);
});

test("builtins() resolves NoFlo names to the component with the same meaning", () => {
  const registry = builtins();
  for (const [alias, name] of Object.entries(ALIASES)) {
    assert.equal(registry.get(alias)?.name, name, alias);
  }
  assert.deepEqual(
    registry.names(),
    [...NAMES, ...Object.keys(ALIASES)].sort(),
  );
});

test("builtins() returns a new registry on each call", () => {
  const a = builtins();
  const b = builtins();
  assert.notEqual(a, b);
  a.register(defineComponent({
    name: "mine/Noop",
    description: "Does nothing.",
    inPorts: { in: { description: "Anything." } },
    process() {},
  }));
  assert.equal(b.has("mine/Noop"), false);
});

test("every built-in component is exported by name from the module", () => {
  const exported = Object.values(components).filter((v): v is Component =>
    typeof v === "object" && v !== null && "inPorts" in v
  );
  assert.deepEqual(exported.map((c) => c.name).sort(), NAMES);
});

test("every port of every built-in component has a description", () => {
  for (const c of builtins().components()) {
    assert.ok(c.description, `${c.name} has a description`);
    for (
      const [port, spec] of [
        ...Object.entries(c.inPorts),
        ...Object.entries(c.outPorts),
      ]
    ) {
      assert.ok(spec.description, `${c.name} port ${port} has a description`);
    }
  }
});

test("the default of every control port passes the port's own parse", () => {
  for (const c of builtins().components()) {
    for (const [port, spec] of Object.entries(c.inPorts)) {
      if (!spec.control || spec.default === undefined || !spec.parse) continue;
      assert.doesNotThrow(() => spec.parse!(spec.default), `${c.name}.${port}`);
    }
  }
});
