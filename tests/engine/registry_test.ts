import { test } from "node:test";
import assert from "node:assert/strict";
import { defineComponent } from "../../src/engine/component.ts";
import { closestName, Registry } from "../../src/engine/registry.ts";
import { seededRandom } from "../_seeded_random.ts";

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

test("closestName() gives the same answer as comparing every name letter by letter, and answers a name of 900,000 characters (no name that long is near)", () => {
  // The reference: every candidate's edit distance, nothing skipped.
  const distance = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++) {
        cur[j] = Math.min(
          prev[j] + 1,
          cur[j - 1] + 1,
          prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
      }
      prev = cur;
    }
    return prev[b.length];
  };
  const reference = (name: string, candidates: string[], max?: number) => {
    const wanted = name.toLowerCase();
    let best: string | undefined;
    let bestDistance = (max ?? Math.max(2, Math.floor(name.length / 3))) + 1;
    for (const c of candidates) {
      const lc = c.toLowerCase();
      const d = Math.min(
        distance(wanted, lc),
        distance(wanted, lc.slice(lc.lastIndexOf("/") + 1)),
      );
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    return best;
  };
  const random = seededRandom(33);
  const word = (n: number) =>
    Array.from({ length: n }, () => "abcAB/"[Math.floor(random() * 6)])
      .join("");
  for (let k = 0; k < 2000; k++) {
    const candidates = Array.from(
      { length: 1 + Math.floor(random() * 6) },
      () => word(1 + Math.floor(random() * 14)),
    );
    const name = word(Math.floor(random() * 16));
    const max = random() < 0.3 ? Math.floor(random() * 5) : undefined;
    assert.equal(
      closestName(name, candidates, max),
      reference(name, candidates, max),
      JSON.stringify({ name, candidates, max }),
    );
  }
  assert.equal(
    closestName("x".repeat(900_000), ["core/Output", "flow/Map"]),
    undefined,
  );
});
