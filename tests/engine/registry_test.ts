import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { closestName, Registry } from "../../src/engine/registry.ts";

function output() {
  return defineComponent({
    name: "core/Output",
    description: "",
    inPorts: { in: {} },
    process() {},
  });
}

test("Registry.get() resolves a name and each of its aliases to the same component", () => {
  const out = output();
  const r = new Registry().register(out, "noflo/Output");
  assert.equal(r.get("core/Output"), out);
  assert.equal(r.get("noflo/Output"), out);
  assert.deepEqual(r.aliasesOf("core/Output"), ["noflo/Output"]);
});

test("Registry.components() lists a component once whatever its aliases", () => {
  const out = output();
  const r = new Registry().register(out, "noflo/Output");
  assert.deepEqual(r.components(), [out]);
});

test("Registry.closest() suggests the registered name nearest to a misspelt or bare one", () => {
  const r = new Registry().register(output(), "noflo/Output");
  assert.equal(r.closest("core/Ouptut"), "core/Output");
  assert.equal(r.closest("Output"), "core/Output");
  assert.equal(r.closest("zzzzzzzz"), undefined);
});

test("Registry.register() refuses a name that is taken", () => {
  const out = output();
  const r = new Registry().register(out, "noflo/Output");
  assert.throws(() => r.register(out), /the name "core\/Output" is taken/);
});

test("closestName() finds the nearest candidate by edit distance", () => {
  assert.equal(
    closestName("strings/SplitString", ["strings/SplitStr", "core/Kick"]),
    "strings/SplitStr",
  );
});

test("Registry.registerFrom() keeps a component's origin; register() means built-in; extend() carries both", () => {
  const mine = defineComponent({
    name: "ops/Scale",
    description: "",
    inPorts: { in: {} },
    process() {},
  });
  const r = new Registry().register(output()).registerFrom(
    "/srv/ops/scale.ts",
    mine,
  );
  assert.equal(r.originOf("ops/Scale"), "/srv/ops/scale.ts");
  assert.equal(r.originOf("core/Output"), "built-in");
  const copy = new Registry().extend(r);
  assert.equal(copy.originOf("ops/Scale"), "/srv/ops/scale.ts");
  assert.equal(copy.originOf("core/Output"), "built-in");
});

test("Registry.registerFrom() refuses a taken name, naming both origins", () => {
  const r = new Registry().register(output(), "noflo/Output").registerFrom(
    "/srv/ops/a.ts",
    defineComponent({ name: "ops/A", description: "", process() {} }),
  );
  assert.throws(
    () => r.registerFrom("/srv/ops/b.ts", output()),
    {
      message:
        'Cannot register component "core/Output" from /srv/ops/b.ts: the name "core/Output" is taken by the built-in "core/Output"',
    },
  );
  assert.throws(
    () =>
      r.registerFrom(
        "/srv/ops/b.ts",
        defineComponent({ name: "ops/A", description: "", process() {} }),
      ),
    {
      message:
        'Cannot register component "ops/A" from /srv/ops/b.ts: the name "ops/A" is taken by "ops/A" from /srv/ops/a.ts',
    },
  );
});
