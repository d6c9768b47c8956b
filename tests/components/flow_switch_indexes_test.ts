/**
 * A connection from an index of `flow/Switch`'s `out` that no rule sends
 * on is a validation problem at its line: with three rules, `Sw out[3]`
 * (Node-RED numbers a switch's outputs from 1) validated clean, its
 * process never received a message, and what rule 0 matched was lost
 * when `out[0]` was left out. Found writing a switch by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";

const registry = builtins({ files: { root: "/tmp" } });
const problems = (text: string) =>
  validateGraph(loadGraph(text), registry).map((
    p,
  ) => [p.line, p.col, p.message]);

const RULES =
  `'[{"op": ">", "value": 30}, {"op": "between", "value": [18, 30]}, {"op": "else"}]' -> rules Sw(flow/Switch)`;

test("flow/Switch: a connection from an index no rule sends on is a problem at its line", () => {
  assert.deepEqual(
    problems(`'1' -> in Sw
Sw out[1] -> in A(core/Drop)
Sw out[2] -> in B(core/Drop)
Sw out[3] -> in C(core/Drop)
${RULES}
`),
    [[
      4,
      11,
      'connection source: process "Sw" (flow/Switch) never sends on out[3], so nothing would reach this connection; its settings send on out[0], out[1] and out[2] only (indexes count from 0)',
    ]],
  );
});

test("flow/Switch: the indexes are those the rules' out name", () => {
  const text = (index: number) =>
    `'1' -> in Sw
'[{"op": ">", "value": 30, "out": 2}, {"op": "else", "out": 0}]' -> rules Sw(flow/Switch)
Sw out[${index}] -> in A(core/Drop)
`;
  assert.deepEqual(problems(text(0)), []);
  assert.deepEqual(problems(text(2)), []);
  assert.match(
    String(problems(text(1))[0]?.[2]),
    /never sends on out\[1\], .*send on out\[0\] and out\[2\] only/,
  );
});

test("flow/Switch: rules fed by a connection leave every index to the run", () => {
  assert.deepEqual(
    problems(`'1' -> in Sw(flow/Switch)
'[]' -> in R(core/Repeat) out -> rules Sw
Sw out[7] -> in A(core/Drop)
`),
    [],
  );
});
