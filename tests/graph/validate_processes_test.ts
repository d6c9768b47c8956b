/**
 * `validateFlow()` runs each component's `checkProcesses`: a check across
 * every process of a flow that uses the component, declared by a component
 * of the embedding app as by a built-in, its problems at the processes'
 * paths and line:col.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  defineComponent,
  type ProcessSettings,
} from "../../src/engine/component.ts";
import { defineSubgraph, parseFbp } from "../../src/graph/mod.ts";
import { validateFlow } from "../../src/graph/validate.ts";
import { testRegistry } from "./_registry.ts";

/** A registry with `app/Device`: one process of a flow per device. */
function deviceRegistry(seen: ProcessSettings[][] = []) {
  return testRegistry().register(defineComponent({
    name: "app/Device",
    description: "Reads a device.",
    inPorts: {
      device: {
        type: "string",
        control: true,
        default: "/dev/ttyS0",
        parse: (v) => String(v).toLowerCase(),
      },
      rate: { type: "number", control: true },
      in: {},
    },
    outPorts: { out: {} },
    process() {},
    checkProcesses(processes) {
      seen.push([...processes]);
      const owner = new Map<unknown, string>();
      return processes.flatMap(({ process, settings }) => {
        // A device known only at run time is not checked.
        if (settings.device === undefined) return [];
        const first = owner.get(settings.device);
        if (first === undefined) owner.set(settings.device, process);
        return first === undefined ? [] : [{
          process,
          message:
            `process "${process}" reads ${settings.device}, which process "${first}" reads already`,
        }];
      });
    },
  }));
}

const problemsOf = (text: string, registry = deviceRegistry()) =>
  validateFlow(parseFbp(text), registry).map((p) =>
    `${p.path} ${p.line}:${p.col}: ${p.message}`
  );

test("validateFlow(): an app component's checkProcesses problem is reported at its process, with line:col", () => {
  assert.deepEqual(
    problemsOf(`'/dev/ttyS1' -> device A(app/Device) out -> in Log(core/Output)
'/dev/ttyS2' -> device B(app/Device) out -> in Log
'/DEV/TTYS1' -> device C(app/Device) out -> in Log
`),
    [
      'processes.C 3:24: process "C" reads /dev/ttys1, which process "A" reads already',
    ],
  );
});

test("validateFlow(): checkProcesses is called once with every process of the component, in the flow's order, and what their graph settles", () => {
  const seen: ProcessSettings[][] = [];
  const problems = problemsOf(
    `'/dev/a' -> device A(app/Device) out -> in Log(core/Output)
'3' -> rate B(app/Device) out -> in Log
'/dev/c' -> in Src(core/Repeat) out -> device C(app/Device) out -> in Log
'/dev/d' -> device D(app/Device) out -> in Log
'/dev/e' -> device D
`,
    deviceRegistry(seen),
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(seen, [[
    // An initial packet, parsed (and converted by the port's type).
    { process: "A", settings: { device: "/dev/a" } },
    // A port nothing feeds has its default.
    { process: "B", settings: { device: "/dev/ttyS0", rate: 3 } },
    // A connection's value comes at run time: no entry.
    { process: "C", settings: {} },
    // Two initial packets: no entry.
    { process: "D", settings: {} },
  ]]);
});

test("validateFlow(): a checkProcesses problem of a subgraph's inner process is at the subgraph process", () => {
  const registry = deviceRegistry();
  registry.register(defineSubgraph(
    "app/Reader",
    parseFbp(`INPORT=Dev.device:DEVICE
OUTPORT=Dev.out:OUT
Dev(app/Device)
`),
    registry,
  ));
  assert.deepEqual(
    problemsOf(
      `'/dev/a' -> device A(app/Device) out -> in Log(core/Output)
'/dev/a' -> DEVICE R(app/Reader) OUT -> in Log
`,
      registry,
    ),
    [
      'processes.R 2:20: process "R/Dev" reads /dev/a, which process "A" reads already',
    ],
  );
});

test("validateFlow(): checkProcesses runs only once the flow is otherwise valid", () => {
  const seen: ProcessSettings[][] = [];
  const problems = problemsOf(
    `'/dev/a' -> device A(app/Device) out -> in Log(core/Ouput)
'/dev/a' -> device B(app/Device) out -> in Log
`,
    deviceRegistry(seen),
  );
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0], /unknown component "core\/Ouput"/);
  assert.deepEqual(seen, []);
});

test("validateFlow(): the processes of components that declare the same checkProcesses are checked together", () => {
  const seen: string[][] = [];
  const check = (processes: readonly ProcessSettings[]) => {
    seen.push(processes.map((p) => p.process));
    return [];
  };
  const made = () =>
    defineComponent({
      name: "app/Tagged",
      description: "Tags what it receives.",
      inPorts: { in: {} },
      outPorts: { out: {} },
      process() {},
      checkProcesses: check,
    });
  // The subgraph's registry makes its own app/Tagged, as a second
  // builtins() would.
  const inner = testRegistry().register(made());
  const registry = testRegistry().register(made());
  registry.register(defineSubgraph(
    "app/Inner",
    parseFbp(`INPORT=T.in:IN
OUTPORT=T.out:OUT
T(app/Tagged)
`),
    inner,
  ));
  assert.deepEqual(
    problemsOf(
      `'x' -> in A(app/Tagged) out -> IN S(app/Inner) OUT -> in Log(core/Output)
`,
      registry,
    ),
    [],
  );
  assert.deepEqual(seen, [["A", "S/T"]]);
});

test("validateFlow(): a checkProcesses that throws or answers no list is a problem naming the component, at its first process, not an unexpected error", () => {
  for (
    const [check, why] of [
      [() => {
        throw new Error("checker exploded");
      }, "checker exploded"],
      [
        () => undefined,
        "it returned undefined, not a list of { process, message }",
      ],
    ] as const
  ) {
    const registry = testRegistry().register(defineComponent({
      name: "app/Buggy",
      description: "Its check is broken.",
      inPorts: { in: {} },
      process() {},
      checkProcesses: check as never,
    }));
    assert.deepEqual(
      problemsOf(
        `'1' -> in Log(core/Output)
'1' -> in A(app/Buggy)
'2' -> in B(app/Buggy)
`,
        registry,
      ),
      [
        `processes.A 2:11: component "app/Buggy" could not check the processes that use it (A, B): ${why}`,
      ],
    );
  }
});
