/**
 * The documented ranges of a graph's numbers (issue 18, "Numbers without
 * bounds"): each number that was accepted and ran is refused at validation
 * with a problem naming its range; the largest accepted value still passes.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphError, parseFbp, parseGraphJson } from "../../src/graph/mod.ts";
import { LIMITS } from "../../src/engine/limits.ts";
import { problems } from "./_helpers.ts";

/** A graph A -> B whose process A has `metadata`, and `properties`. */
function graph(
  metadata: Record<string, unknown>,
  properties: Record<string, unknown> = {},
  capacity?: number,
) {
  return parseGraphJson(JSON.stringify({
    properties,
    processes: {
      A: { component: "core/Repeat", metadata },
      B: { component: "core/Output" },
    },
    connections: [{
      src: { process: "A", port: "out" },
      tgt: { process: "B", port: "in" },
      ...(capacity === undefined ? {} : { metadata: { capacity } }),
    }],
    inports: { IN: { process: "A", port: "in" } },
  }));
}

test("validateGraph() refuses a capacity of 1e9 on a DSL arrow (it took the host to 2 GB)", () => {
  const found = problems(
    parseFbp("A(core/Repeat)\nA out -> (1000000000) in B(core/Output)"),
  );
  assert.equal(found.length, 1);
  assert.equal(found[0].path, "connections[0].metadata.capacity");
  assert.equal(
    found[0].message,
    "capacity must be a positive integer up to 100000 (messages the connection buffers), received number 1000000000",
  );
});

test("validateGraph() refuses a defaultCapacity of 1e8 and accepts 100,000", () => {
  const found = problems(graph({}, { defaultCapacity: 1e8 }));
  assert.deepEqual(found.map((p) => p.path), ["properties.defaultCapacity"]);
  assert.match(found[0].message, /up to 100000 .*received number 100000000$/);
  assert.deepEqual(
    problems(graph({}, { defaultCapacity: LIMITS.maxCapacity })),
    [],
  );
  assert.deepEqual(problems(graph({}, {}, LIMITS.maxCapacity)), []);
});

test("validateGraph() refuses a concurrency of 1e9 (a Delay grew 12 MB/s)", () => {
  const found = problems(graph({ concurrency: 1e9 }));
  assert.deepEqual(found.map((p) => p.path), [
    "processes.A.metadata.concurrency",
  ]);
  assert.match(
    found[0].message,
    /concurrency of process "A" must be a positive integer up to 100000 /,
  );
});

test("validateGraph() refuses a timeoutMs of 35 days, past the longest timer", () => {
  const found = problems(graph({ timeoutMs: 35 * 86_400_000 }));
  assert.deepEqual(found.map((p) => p.path), [
    "processes.A.metadata.timeoutMs",
  ]);
  assert.match(found[0].message, /up to 2147483647 \(about 24\.8 days/);
  assert.deepEqual(problems(graph({ timeoutMs: LIMITS.maxTimerMs })), []);
});

test("validateGraph() refuses retry attempts of 1e9 and a backoff of 3e9 ms", () => {
  const found = problems(
    graph({ retry: { attempts: 1e9, backoffMs: 3e9 } }),
  );
  assert.deepEqual(found.map((p) => p.path), [
    "processes.A.metadata.retry.attempts",
    "processes.A.metadata.retry.backoffMs",
  ]);
  assert.match(found[0].message, /must be a positive integer up to 1000 /);
  assert.match(
    found[1].message,
    /up to 2147483647 .*received number 3000000000$/,
  );
  assert.deepEqual(
    problems(graph({ retry: { attempts: 1000, backoffMs: 0 } })),
    [],
  );
});

test("validateGraph() refuses breaker numbers past their ranges", () => {
  const found = problems(
    graph({
      circuitBreaker: { failureThreshold: 1e7, resetTimeoutMs: 1e10 },
    }),
  );
  assert.deepEqual(found.map((p) => p.path), [
    "processes.A.metadata.circuitBreaker.failureThreshold",
    "processes.A.metadata.circuitBreaker.resetTimeoutMs",
  ]);
  assert.match(found[0].message, /up to 1000000 /);
  assert.match(found[1].message, /up to 2147483647 /);
});

/** A chain of `n` core/Repeat processes fed by `iips` IIPs, as JSON. */
function chain(n: number, iips = 0) {
  const processes: Record<string, unknown> = {};
  const connections: unknown[] = [];
  for (let i = 0; i < n; i++) {
    processes[`P${i}`] = { component: "core/Repeat" };
    if (i > 0) {
      connections.push({
        src: { process: `P${i - 1}`, port: "out" },
        tgt: { process: `P${i}`, port: "in" },
      });
    }
  }
  for (let i = 0; i < iips; i++) {
    connections.push({ data: i, tgt: { process: "P0", port: "in" } });
  }
  return parseGraphJson(JSON.stringify({ processes, connections }));
}

test("validateGraph() refuses more than 5000 processes or 10000 connections (IIPs included) before it checks anything else", () => {
  // 25,000 processes in a 1 MiB body held weir serve's event loop 6 s.
  assert.equal(LIMITS.maxProcesses, 5000);
  assert.equal(LIMITS.maxConnections, 10000);
  assert.deepEqual(problems(chain(5000, 5001)), []);
  assert.deepEqual(
    problems(chain(5001, 5001)).map((p) => [p.path, p.message]),
    [
      [
        "processes",
        "a graph has at most 5000 processes, received 5001; split it into several flows",
      ],
      [
        "connections",
        "a graph has at most 10000 connections, initial packets included, received 10001; split it into several flows",
      ],
    ],
  );
});

test("parseFbp() refuses a 5001st process or a 10001st arrow where it is written, before the parser reads the text", () => {
  const lines = (n: number, line: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => line(i)).join("\n");
  // 5000 named and anonymous processes, one declared twice: read.
  const most = `${lines(4999, (i) => `P${i}(core/Repeat)`)}\n` +
    "P0(core/Repeat)\n'x' -> in (core/Repeat)";
  assert.equal(Object.keys(parseFbp(most).processes ?? {}).length, 5000);
  assert.throws(
    () => parseFbp(`${most}\nQ(core/Repeat)`),
    (e) =>
      e instanceof GraphError && e.problems.length === 1 &&
      e.problems[0].line === 5002 && e.problems[0].col === 1 &&
      e.problems[0].message ===
        "a graph has at most 5000 processes; this is process 5001; split it into several flows",
  );
  const arrows = `A(core/Repeat)\n${lines(10001, () => "'x' -> in A")}`;
  assert.throws(
    () => parseFbp(arrows),
    (e) =>
      e instanceof GraphError && e.problems.length === 1 &&
      e.problems[0].line === 10002 && e.problems[0].col === 5 &&
      e.problems[0].message ===
        "a graph has at most 10000 connections, initial packets included; this is arrow 10001; split it into several flows",
  );
  assert.equal(
    parseFbp(arrows.slice(0, arrows.lastIndexOf("\n"))).connections?.length,
    10000,
  );
});

test("validateGraph() quotes a process name of 900,000 characters as an excerpt with its length, in a problem's path and message", () => {
  // The whole name was in both: a 1.8 MB problem, answered by POST /flows.
  const name = "P" + "x".repeat(899_999);
  const shown = `"P${"x".repeat(199)}... (900,000 characters)"`;
  const json = parseGraphJson(JSON.stringify({
    processes: {
      [name]: { component: "no/Such", metadata: { timeoutMs: -1 } },
      [`${name}y`]: { component: "core/Repeat" },
    },
  }));
  assert.deepEqual(problems(json).map((p) => [p.path, p.message]), [
    [
      `processes["P${"x".repeat(199)}... (900,000 characters)"]`,
      `process name "P${
        "x".repeat(39)
      }... (900,000 characters)" is longer than the 128 characters a name may have (it labels every metric series of its process)`,
    ],
    [
      `processes[${shown}].component`,
      `unknown component "no/Such" for process ${shown}; no registered component has a similar name`,
    ],
    [
      `processes[${shown}].metadata.timeoutMs`,
      `timeoutMs of process ${shown} must be a positive number of milliseconds up to 2147483647 (about 24.8 days, the longest timer), received number -1`,
    ],
    [
      `processes["P${"x".repeat(199)}... (900,001 characters)"]`,
      `process name "P${
        "x".repeat(39)
      }... (900,001 characters)" is longer than the 128 characters a name may have (it labels every metric series of its process)`,
    ],
  ]);
  const fbp = problems(parseFbp(`${name}(no/Such)\n`));
  assert.deepEqual(fbp.map((p) => [p.path, p.line, p.col]), [
    [`processes[${shown}]`, 1, 1],
    [`processes[${shown}].component`, 1, 1],
  ]);
});

test("validateGraph() refuses a process name longer than 128 characters, and quotes a long name or port in part", () => {
  assert.equal(LIMITS.maxNameLength, 128);
  const named = (name: string, port = "in") => ({
    processes: {
      [name]: { component: "core/Repeat" },
      B: { component: "core/Repeat" },
    },
    connections: [{
      src: { process: name, port: "out" },
      tgt: { process: "B", port },
    }],
  });
  assert.deepEqual(problems(named("n".repeat(128))), []);
  const long = "n".repeat(100_000);
  const found = problems(named(long, "p".repeat(50_000))).map((p) => p.message);
  assert.equal(found.length, 2);
  assert.equal(
    found[0],
    `process name "${
      "n".repeat(40)
    }... (100,000 characters)" is longer than the 128 characters a name may have (it labels every metric series of its process)`,
  );
  assert.match(
    found[1],
    /has no in-port "p{80,}\.\.\. \(50,000 characters\)"; its in-ports are in$/,
  );
  assert.ok(found[1].length < 1000, `${found[1].length} characters`);
});
