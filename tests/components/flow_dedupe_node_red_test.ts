/**
 * flow/Dedupe against Node-RED's own `rbe` node (node-red 4, a dev
 * dependency), message for message: the same sequences through both, the
 * same messages out.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { runShaping } from "./_shaping_helpers.ts";

const require = createRequire(import.meta.url);

interface RedMessage {
  topic: string;
  payload: unknown;
  n: number;
}

interface RedNode {
  on(event: string, fn: (msg: RedMessage) => void): void;
}

/** Node-RED's rbe node built with `config`, and what it sent. */
function nodeRed(config: Record<string, unknown>): {
  input(msg: RedMessage): void;
  sent: RedMessage[];
} {
  const util = require("@node-red/util/lib/util.js");
  const sent: RedMessage[] = [];
  let input: ((msg: RedMessage) => void) | undefined;
  let Ctor: (new (n: Record<string, unknown>) => RedNode) | undefined;
  const RED = {
    nodes: {
      createNode(node: Record<string, unknown>) {
        node.on = (event: string, fn: (msg: RedMessage) => void) => {
          if (event === "input") input = fn.bind(node);
        };
        node.send = (msg: RedMessage) => sent.push(msg);
        node.warn = () => {};
      },
      registerType(_name: string, ctor: typeof Ctor) {
        Ctor = ctor;
      },
    },
    util,
    _: (key: string) => key,
  };
  require("@node-red/nodes/core/function/rbe.js")(RED);
  new Ctor!(config);
  return { input: (msg) => input!(msg), sent };
}

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` messages over three topics with payloads drawn by `draw`. */
function messages(
  seed: number,
  count: number,
  draw: (r: () => number) => unknown,
): RedMessage[] {
  const r = random(seed);
  return Array.from({ length: count }, (_, n) => ({
    topic: ["a", "b", "c"][Math.floor(r() * 3)],
    payload: draw(r),
    n,
  }));
}

const pick = <T>(r: () => number, xs: T[]) => xs[Math.floor(r() * xs.length)];

/** Payloads for the change modes: numbers, strings, objects, null. */
const anyPayload = (r: () => number) =>
  pick(r, [
    1,
    1,
    2,
    "1",
    "x",
    "x",
    null,
    true,
    { a: 1, b: [1, 2] },
    { b: [1, 2], a: 1 },
    { a: 2 },
    [1, 2],
  ]);

/** Payloads for the dead band modes: numbers, numbers in text, not numbers. */
const numericPayload = (r: () => number) =>
  pick(r, [
    Math.round(r() * 100) / 10,
    Math.round(r() * 1000) / 10,
    `${Math.round(r() * 100) / 10} C`,
    "n/a",
    10,
    10,
    11,
  ]);

const CASES: {
  name: string;
  red: Record<string, unknown>;
  weir: string;
  draw: (r: () => number) => unknown;
}[] = [
  { name: "rbe", red: { func: "rbe" }, weir: "", draw: anyPayload },
  {
    name: "rbei (ignore the first)",
    red: { func: "rbei" },
    weir: "'true' -> ignoreFirst T",
    draw: anyPayload,
  },
  {
    name: "deadband 2 against the last sent",
    red: { func: "deadband", gap: "2", inout: "out" },
    weir: "'deadband' -> mode T\n'2' -> band T",
    draw: numericPayload,
  },
  {
    name: "deadband 2 against the last seen",
    red: { func: "deadband", gap: "2", inout: "in" },
    weir: "'deadband' -> mode T\n'2' -> band T\n'seen' -> compare T",
    draw: numericPayload,
  },
  {
    name: "deadbandEq 1 against the last sent",
    red: { func: "deadbandEq", gap: "1", inout: "out" },
    weir: "'deadband-eq' -> mode T\n'1' -> band T",
    draw: numericPayload,
  },
  {
    name: "deadband 10% against the last sent",
    red: { func: "deadband", gap: "10%", inout: "out" },
    weir: "'deadband' -> mode T\n'10%' -> band T",
    draw: numericPayload,
  },
  {
    name: "deadbandEq 25% against the last seen",
    red: { func: "deadbandEq", gap: "25%", inout: "in" },
    weir: "'deadband-eq' -> mode T\n'25%' -> band T\n'seen' -> compare T",
    draw: numericPayload,
  },
];

for (const c of CASES) {
  test(`flow/Dedupe passes what Node-RED's rbe node passes: ${c.name}`, async () => {
    for (const seed of [1, 2, 3]) {
      const msgs = messages(seed, 60, c.draw);
      const red = nodeRed({ property: "payload", topi: "topic", ...c.red });
      // Node-RED changes nothing it sends here; a copy all the same.
      for (const m of structuredClone(msgs)) red.input(m);
      const run = await runShaping(`
        '${
        JSON.stringify(msgs).replaceAll("'", "\\'")
      }' -> values V(test/Values) out -> in T(flow/Dedupe)
        T out -> in K(test/Sink)
        T error -> in E(test/Sink)
        'payload' -> value T
        'topic' -> key T
        ${c.weir}
      `);
      assert.deepEqual(run.errors, []);
      const ours = (run.sinks.K ?? []).map((m) => (m as RedMessage).n);
      assert.deepEqual(
        ours,
        red.sent.map((m) => m.n),
        `seed ${seed}`,
      );
      assert.ok(ours.length > 3, `seed ${seed} passes a few`);
    }
  });
}
