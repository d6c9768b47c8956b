/**
 * flow/Switch against Node-RED's own switch node (node-red 4, a dev
 * dependency): the same rules on the same payloads, the same outputs,
 * except where weir refuses Node-RED's JavaScript coercions on purpose
 * (`null < 10`, `"" == 0`, `[5] == 5`, `null` containing `"ul"`, `5` being
 * JSON), which the test names one by one.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fakeContext } from "./_helpers.ts";
import { FlowSwitch } from "../../src/components/flow_switch.ts";

const require = createRequire(import.meta.url);

interface RedMessage {
  payload: unknown;
}

/** The indexes of the outputs Node-RED's switch node sends `payload` to. */
function nodeRed(rules: Record<string, unknown>[], payload: unknown): number[] {
  const util = require("@node-red/util/lib/util.js");
  let input: ((msg: RedMessage) => void) | undefined;
  let sent: (RedMessage | null)[] = [];
  let Ctor: (new (n: Record<string, unknown>) => unknown) | undefined;
  const RED = {
    nodes: {
      createNode(node: Record<string, unknown>) {
        node.on = (event: string, fn: (msg: RedMessage) => void) => {
          if (event === "input") input = fn.bind(node);
        };
        node.send = (msgs: (RedMessage | null)[]) => (sent = msgs);
        node.warn = () => {};
        node.error = (e: unknown) => {
          throw e;
        };
      },
      registerType(_name: string, ctor: typeof Ctor) {
        Ctor = ctor;
      },
    },
    settings: {},
    util,
    _: (key: string) => key,
  };
  require("@node-red/nodes/core/function/10-switch.js")(RED);
  new Ctor!({
    property: "payload",
    propertyType: "msg",
    checkall: "true",
    rules: structuredClone(rules),
  });
  // The first message is handled at once; the node queues later ones.
  input!({ payload });
  return sent.flatMap((m, i) => (m === null ? [] : [i]));
}

/** The indexes of the `out` connections weir's flow/Switch sends `payload` to. */
function weir(rules: Record<string, unknown>[], payload: unknown): number[] {
  const { ctx } = fakeContext(FlowSwitch, {
    rules,
    property: "payload",
    mode: "all",
  });
  const outs: number[] = [];
  ctx.send = (port, _value, index) => {
    if (port === "out") outs.push(index!);
  };
  FlowSwitch.process!({ payload }, ctx);
  return outs;
}

const PAYLOADS: unknown[] = [
  0,
  1,
  5,
  9,
  10,
  15,
  30,
  31,
  -1,
  2.5,
  "5",
  "9",
  "10",
  "31",
  "abc",
  "ABC",
  "temp/5",
  "",
  " ",
  '{"a":1}',
  null,
  undefined,
  true,
  false,
  [],
  [5],
  [1, 2],
  {},
  { a: 1 },
];

/** Each case: Node-RED's rule, weir's rule. */
const RULES: [Record<string, unknown>, Record<string, unknown>][] = [
  [{ t: "eq", v: "5", vt: "num" }, { op: "==", value: 5 }],
  [{ t: "eq", v: "abc", vt: "str" }, { op: "==", value: "abc" }],
  [{ t: "neq", v: "5", vt: "num" }, { op: "!=", value: 5 }],
  [{ t: "lt", v: "10", vt: "num" }, { op: "<", value: 10 }],
  [{ t: "lte", v: "10", vt: "num" }, { op: "<=", value: 10 }],
  [{ t: "gt", v: "9", vt: "num" }, { op: ">", value: 9 }],
  [{ t: "gte", v: "10", vt: "num" }, { op: ">=", value: 10 }],
  [{ t: "lt", v: "b", vt: "str" }, { op: "<", value: "b" }],
  [
    { t: "btwn", v: "5", vt: "num", v2: "15", v2t: "num" },
    { op: "between", value: [5, 15] },
  ],
  [
    { t: "btwn", v: "15", vt: "num", v2: "5", v2t: "num" },
    { op: "between", value: [15, 5] },
  ],
  [{ t: "cont", v: "1", vt: "str" }, { op: "contains", value: "1" }],
  [{ t: "cont", v: "bc", vt: "str" }, { op: "contains", value: "bc" }],
  [{ t: "regex", v: "^temp/\\d$", vt: "str" }, {
    op: "regex",
    value: "^temp/\\d$",
  }],
  [{ t: "regex", v: "^abc$", vt: "str", case: true }, {
    op: "regex",
    value: "^abc$",
    flags: "i",
  }],
  [{ t: "true" }, { op: "true" }],
  [{ t: "false" }, { op: "false" }],
  [{ t: "null" }, { op: "null" }],
  [{ t: "nnull" }, { op: "notnull" }],
  [{ t: "empty" }, { op: "empty" }],
  [{ t: "nempty" }, { op: "nonempty" }],
  ...["string", "number", "boolean", "array", "object", "null", "json"].map((
    type,
  ): [Record<string, unknown>, Record<string, unknown>] => [
    { t: "istype", v: type, vt: type },
    { op: "istype", value: type },
  ]),
];

/**
 * Where weir answers differently on purpose: comparisons take no
 * JavaScript coercion of null, booleans, arrays, objects or blank text to
 * a number (or to text, for contains and regex).
 */
function refusedCoercion(
  rule: Record<string, unknown>,
  payload: unknown,
): boolean {
  const op = rule.op;
  const noNumber = payload === null || payload === undefined ||
    typeof payload === "boolean" || typeof payload === "object" ||
    (typeof payload === "string" && payload.trim() === "");
  switch (op) {
    case "==":
    case "!=":
    case "<":
    case "<=":
    case ">":
    case ">=":
    case "between":
      return noNumber;
    case "contains":
    case "regex":
      return payload === null || payload === undefined ||
        typeof payload === "object";
    case "istype":
      // Node-RED's json runs JSON.parse on whatever it gets, so 5, true,
      // null and [5] (as the text "5") are JSON to it; to weir, JSON is text.
      return rule.value === "json" && typeof payload !== "string";
    default:
      return false;
  }
}

test("flow/Switch routes as Node-RED's switch node, rule by rule, but for the coercions it refuses", () => {
  let same = 0;
  const differ: string[] = [];
  for (const [red, mine] of RULES) {
    for (const payload of PAYLOADS) {
      const theirs = nodeRed([red], payload);
      const ours = weir([mine], payload);
      if (JSON.stringify(theirs) === JSON.stringify(ours)) {
        same++;
        continue;
      }
      const what = `${JSON.stringify(mine)} on ${
        JSON.stringify(payload) ?? "undefined"
      }: Node-RED ${JSON.stringify(theirs)}, weir ${JSON.stringify(ours)}`;
      if (!refusedCoercion(mine, payload)) differ.push(what);
    }
  }
  assert.deepEqual(differ, []);
  // 746 of the 783 pairs agree; the other 37 are the refused coercions.
  assert.ok(same > RULES.length * PAYLOADS.length * 0.8, `${same} agree`);
});

test("flow/Switch's else and mode all route as Node-RED's otherwise and check-all", () => {
  const red = [
    { t: "gt", v: "10", vt: "num" },
    { t: "gt", v: "20", vt: "num" },
    { t: "else" },
  ];
  const mine = [{ op: ">", value: 10 }, { op: ">", value: 20 }, {
    op: "else",
  }];
  for (const payload of [25, 15, 5, "30", "x"]) {
    assert.deepEqual(weir(mine, payload), nodeRed(red, payload), `${payload}`);
  }
});
