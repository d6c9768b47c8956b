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

test("Registry.register() refuses a name that differs from a taken one only in case, naming both", () => {
  const thing = (name: string) =>
    defineComponent({ name, description: "", process() {} });
  const r = new Registry().register(output(), "noflo/Output").registerFrom(
    "/srv/ops/a.ts",
    thing("my/Thing"),
  );
  assert.throws(() => r.register(thing("my/thing")), {
    message:
      'Cannot register component "my/thing": the name "my/thing" differs only in case from "my/Thing" from /srv/ops/a.ts; rename one',
  });
  assert.throws(() => r.register(thing("core/output")), {
    message:
      'Cannot register component "core/output": the name "core/output" differs only in case from the built-in "core/Output"; rename one',
  });
  assert.throws(() => r.register(thing("my/Other"), "NoFlo/output"), {
    message:
      'Cannot register component "my/Other": the name "NoFlo/output" differs only in case from "noflo/Output", an alias of the built-in "core/Output"; rename one',
  });
  assert.throws(() => r.register(thing("my/Own"), "my/own"), {
    message:
      'Cannot register component "my/Own": the name "my/own" differs only in case from "my/Own" itself; rename one',
  });
  // Refused whole: none of its names was registered.
  assert.equal(r.get("my/Other"), undefined);
  assert.equal(r.get("my/Own"), undefined);
  assert.deepEqual(r.names(), ["core/Output", "my/Thing", "noflo/Output"]);
  assert.equal(r.clashingName("MY/THING"), "my/Thing");
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
