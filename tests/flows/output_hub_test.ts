/**
 * `OutputHub`: `core/Output`'s lines, written as before and handed to the
 * listeners of their flow only.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { OutputHub, type OutputLine } from "../../src/flows/output_hub.ts";
import { builtins } from "../../src/components/mod.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { until } from "../engine/_helpers.ts";

test("OutputHub writes every line and hands each listener its own flow's lines only", () => {
  let clock = 100;
  const hub = new OutputHub(() => clock++);
  const printed: string[] = [];
  const write = hub.wrap((line, flow, process) =>
    printed.push(`${flow}/${process}: ${line}`)
  );
  const a: OutputLine[] = [];
  const a2: OutputLine[] = [];
  const b: OutputLine[] = [];
  hub.listen("a", (l) => a.push(l));
  hub.listen("a", (l) => a2.push(l));
  hub.listen("b", (l) => b.push(l));
  write("1", "a", "Log");
  write("2", "b", "Log");
  write("3", "c", "Log"); // nobody listens: written all the same
  write("4", "a", "Other");
  assert.deepEqual(printed, [
    "a/Log: 1",
    "b/Log: 2",
    "c/Log: 3",
    "a/Other: 4",
  ]);
  assert.deepEqual(a, [
    { at: 100, flow: "a", process: "Log", line: "1" },
    { at: 102, flow: "a", process: "Other", line: "4" },
  ]);
  assert.deepEqual(a2, a);
  assert.deepEqual(b, [{ at: 101, flow: "b", process: "Log", line: "2" }]);
});

test("OutputHub: a line's time is Date.now() by default", () => {
  const hub = new OutputHub();
  const heard: OutputLine[] = [];
  hub.listen("a", (l) => heard.push(l));
  const before = Date.now();
  hub.wrap(() => {})("x", "a", "Log");
  assert.equal(heard.length, 1);
  assert.ok(heard[0].at >= before && heard[0].at <= Date.now());
});

test("OutputHub: a listener that throws stops neither the writing nor the other listeners", () => {
  const hub = new OutputHub(() => 0);
  const printed: string[] = [];
  const write = hub.wrap((line) => printed.push(line));
  const heard: string[] = [];
  hub.listen("a", () => {
    throw new Error("a broken dashboard");
  });
  hub.listen("a", (l) => heard.push(l.line));
  assert.doesNotThrow(() => write("1", "a", "Log"));
  write("2", "a", "Log");
  assert.deepEqual(printed, ["1", "2"]);
  assert.deepEqual(heard, ["1", "2"]);
});

test("OutputHub: off() removes its listener only; flowsListened drops to 0 when all left", () => {
  const hub = new OutputHub(() => 0);
  const write = hub.wrap(() => {});
  assert.equal(hub.flowsListened, 0);
  const one: string[] = [];
  const two: string[] = [];
  const offOne = hub.listen("a", (l) => one.push(l.line));
  const offTwo = hub.listen("a", (l) => two.push(l.line));
  const offB = hub.listen("b", () => {});
  assert.equal(hub.flowsListened, 2);
  write("1", "a", "Log");
  offOne();
  offOne(); // twice is harmless, and leaves the other
  assert.equal(hub.flowsListened, 2);
  write("2", "a", "Log");
  offTwo();
  assert.equal(hub.flowsListened, 1);
  write("3", "a", "Log");
  offB();
  assert.equal(hub.flowsListened, 0);
  assert.deepEqual(one, ["1"]);
  assert.deepEqual(two, ["1", "2"]);
  // The same function listening twice is told twice, and each off() is its own.
  const twice: string[] = [];
  const fn = (l: OutputLine) => twice.push(l.line);
  const offX = hub.listen("a", fn);
  const offY = hub.listen("a", fn);
  write("4", "a", "Log");
  offX();
  write("5", "a", "Log");
  offY();
  assert.equal(hub.flowsListened, 0);
  assert.deepEqual(twice, ["4", "4", "5"]);
});

test("OutputHub behind core/Output: a flow's listener hears that flow's lines", async () => {
  const hub = new OutputHub(() => 0);
  const printed: string[] = [];
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: builtins({
      output: hub.wrap((line, flow) => printed.push(`${flow}: ${line}`)),
    }),
    log: () => {},
  });
  try {
    const heard: OutputLine[] = [];
    const off = hub.listen("one", (l) => heard.push(l));
    await flows.create({
      id: "one",
      text: "'hello' -> in Log(core/Output)",
      format: "fbp",
    });
    await flows.create({
      id: "two",
      text: "'other' -> in Log(core/Output)",
      format: "fbp",
    });
    await until(() => printed.length === 2);
    off();
    assert.deepEqual(printed.sort(), ["one: hello", "two: other"]);
    assert.deepEqual(heard, [
      { at: 0, flow: "one", process: "Log", line: "hello" },
    ]);
    assert.equal(hub.flowsListened, 0);
  } finally {
    await flows.close();
  }
});
