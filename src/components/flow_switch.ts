/**
 * `flow/Switch`: routes each message to out-ports by rules, as Node-RED's
 * switch node does, in weir's port-based style. Its rules are parsed and
 * compiled by `switch_rules.ts`.
 *
 * @module
 */
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import type {
  ExpressionBudget,
  ExpressionSite,
} from "../expr/evaluate_expression.ts";
import { _errorPort } from "./_error_port.ts";
import { _Selector } from "./_message_path.ts";
import {
  _budgetOf,
  type ExpressionComponentOptions,
} from "./_expression_budget.ts";
import {
  _BETWEEN,
  _ELSE,
  _EQ,
  _GE,
  _GT,
  _LE,
  _LT,
  _NE,
  parseSwitchRules,
  type SwitchRule,
  type SwitchRules,
} from "./switch_rules.ts";

export {
  parseSwitchRules,
  SWITCH_OPERATORS,
  SWITCH_TYPES,
  type SwitchOperator,
  type SwitchRule,
  type SwitchRules,
} from "./switch_rules.ts";

function _parseMode(value: unknown): "first" | "all" {
  if (value === "first" || value === "all") return value;
  throw new RangeError(
    `expected "first" (the first matching rule) or "all" (every matching rule), received ${
      describeValue(value)
    }`,
  );
}

/**
 * The indexes of `out` that the rules given as an initial packet send on,
 * in order, for validation to find a connection no rule feeds (`out[3]`
 * after three rules, as counting from 1 would write).
 */
function _ruleOuts(
  settings: Readonly<Record<string, unknown>>,
): readonly number[] | undefined {
  const rules = settings.rules as SwitchRules | undefined;
  if (rules === undefined) return undefined;
  return [...new Set(rules.rules.map((r) => r.out))].sort((a, b) => a - b);
}

/** State of a `flow/Switch` process. */
interface SwitchState {
  site: ExpressionSite;
}

/** The default `property`: the message itself. */
const _WHOLE = _Selector.parse("");

/**
 * Where a message goes after rule `from` on, once an expression answered
 * with a promise: the out indexes of the matching rules, in rule order,
 * each once (at most one in "first" mode), appended to `found`.
 */
function _targetsLater(
  rules: readonly SwitchRule[],
  from: number,
  value: unknown,
  msg: unknown,
  all: boolean,
  found: number[],
  budget: ExpressionBudget,
  site: ExpressionSite,
): number[] | Promise<number[]> {
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i];
    const hit = rule.op === "else"
      ? found.length === 0
      : rule.test(value, msg, budget, site);
    if (hit === false) continue;
    if (hit !== true) {
      return hit.then((h) => {
        if (h && !found.includes(rule.out)) found.push(rule.out);
        if (h && !all) return found;
        return _targetsLater(
          rules,
          i + 1,
          value,
          msg,
          all,
          found,
          budget,
          site,
        );
      });
    }
    if (!found.includes(rule.out)) found.push(rule.out);
    if (!all) return found;
  }
  return found;
}

/** Sends `msg` to `out[targets[k]]` for k from `from` on, awaiting room. */
function _sendTo(
  ctx: Context<SwitchState>,
  msg: unknown,
  targets: readonly number[],
  from: number,
): void | Promise<void> {
  for (let k = from; k < targets.length; k++) {
    const r = ctx.send("out", msg, targets[k]);
    if (r !== undefined) return r.then(() => _sendTo(ctx, msg, targets, k + 1));
  }
}

function _route(
  ctx: Context<SwitchState>,
  msg: unknown,
  targets: readonly number[],
): void | Promise<void> {
  if (targets.length === 0) {
    if (ctx.out.unmatched.connected) return ctx.send("unmatched", msg);
    return;
  }
  if (targets.length === 1) return ctx.send("out", msg, targets[0]);
  return _sendTo(ctx, msg, targets, 0);
}

/**
 * Routes `msg`: the rules tested in order without allocating while every
 * test answers at once (the first match is a number, later ones an
 * array); an expression that answers with a promise hands the rest over
 * to {@linkcode _targetsLater}.
 */
function _switch(
  ctx: Context<SwitchState>,
  rules: readonly SwitchRule[],
  value: unknown,
  msg: unknown,
  all: boolean,
  budget: ExpressionBudget,
  site: ExpressionSite,
): void | Promise<void> {
  let first = -1;
  let more: number[] | undefined;
  const num = typeof value === "number" ? value : NaN;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    let hit: boolean | Promise<boolean>;
    // A number value against a number operand, inline; NaN (no number,
    // or a NaN value) takes the general test, which knows numeric strings.
    switch (rule.code) {
      case _ELSE:
        hit = first === -1;
        break;
      case _GT:
        hit = num === num
          ? num > rule.num
          : rule.test(value, msg, budget, site);
        break;
      case _GE:
        hit = num === num
          ? num >= rule.num
          : rule.test(value, msg, budget, site);
        break;
      case _LT:
        hit = num === num
          ? num < rule.num
          : rule.test(value, msg, budget, site);
        break;
      case _LE:
        hit = num === num
          ? num <= rule.num
          : rule.test(value, msg, budget, site);
        break;
      case _EQ:
        hit = num === num
          ? num === rule.num
          : rule.test(value, msg, budget, site);
        break;
      case _NE:
        hit = num === num
          ? num !== rule.num
          : rule.test(value, msg, budget, site);
        break;
      case _BETWEEN:
        hit = num === num
          ? num >= rule.lo && num <= rule.hi
          : rule.test(value, msg, budget, site);
        break;
      default:
        hit = rule.test(value, msg, budget, site);
    }
    if (hit === false) continue;
    if (hit !== true) {
      const found = first === -1 ? [] : [first, ...(more ?? [])];
      return hit.then((h) => {
        if (h && !found.includes(rule.out)) found.push(rule.out);
        if (h && !all) return found;
        return _targetsLater(
          rules,
          i + 1,
          value,
          msg,
          all,
          found,
          budget,
          site,
        );
      }).then((t) => _route(ctx, msg, t));
    }
    const out = rule.out;
    if (first === -1) {
      first = out;
      if (!all) break;
    } else if (out !== first && (more === undefined || !more.includes(out))) {
      (more ??= []).push(out);
    }
  }
  if (first === -1) {
    if (ctx.out.unmatched.connected) return ctx.send("unmatched", msg);
    return;
  }
  if (more === undefined) return ctx.send("out", msg, first);
  more.unshift(first);
  return _sendTo(ctx, msg, more, 0);
}

/**
 * `flow/Switch`: routes each message by rules, as Node-RED's switch node.
 * The `property` (a path such as `payload.temp`, or a JSONata expression;
 * default the message itself) is compared by each rule of `rules`, and a
 * message that matches rule `i` goes to `out[i]` (or to the index the
 * rule's `out` names, so that several rules can share a port). `mode`
 * `"all"` (the default, as Node-RED's) sends to every matching rule's
 * port, once per port; `"first"` stops at the first match. A message that
 * matches nothing goes to `unmatched` when it is connected, else nowhere.
 *
 * ```fbp
 * '[{"op": ">", "value": 30}, {"op": "between", "value": [10, 30]}, {"op": "else"}]' -> rules Sw(flow/Switch)
 * 'temp' -> property Sw
 * Sw out[0] -> in Hot(core/Output)
 * Sw out[1] -> in Mild(core/Output)
 * Sw out[2] -> in Cold(core/Output)
 * ```
 *
 * Operators (Node-RED's names `eq`, `neq`, `lt`, `lte`, `gt`, `gte`,
 * `btwn`, `cont`, `nempty`, `nnull`, `otherwise`, `jsonata_exp` are
 * accepted too):
 *
 * - `==`, `!=`: equal data (a number equals its numeric string, objects
 *   and arrays compare by content); `<`, `<=`, `>`, `>=`: numbers (or a
 *   number and a numeric string) by value, two strings as strings,
 *   anything else never matches. The operand is `value` (JSON) or `expr`
 *   (JSONata, evaluated with the message). Unlike Node-RED's JavaScript
 *   comparisons, null, booleans, arrays and empty strings are no numbers
 *   here: Node-RED finds `null < 10`, `"" == 0` and `[5] == 5` true,
 *   weir false. A value of `Infinity` or `-Infinity` compares as JSONata
 *   compares it (`Infinity > 30`, `-Infinity < 30`), `NaN` matches `!=`
 *   only and `-0` equals `0`, whether the operand is a number, a numeric
 *   string or an `expr` (a numeric string is a finite number: "Infinity"
 *   is text).
 * - `between`: `value` `[low, high]`, both ends included (in either order).
 * - `contains`: a string (or a number's or boolean's text) holding
 *   `value`, or an array holding an equal item.
 * - `regex`: `value` a regular expression (JavaScript's syntax, `flags`
 *   of `i`, `m`, `s`), run on the linear-time engine; a number or
 *   boolean is tested as its text.
 * - `istype`: `value` among string, number, boolean, array, object,
 *   null, undefined, buffer, json (a string that parses as JSON).
 * - `empty`, `nonempty`: a string, array, buffer or object with no (or
 *   some) content; other values are neither.
 * - `true`, `false`: exactly that boolean; `null`: null or missing;
 *   `notnull`: anything else.
 * - `else`: when no earlier rule matched.
 * - `jsonata`: `value` a JSONata expression evaluated with the message (not
 *   the property); a match when it gives `true`.
 *
 * Rules, regular expressions and expressions are compiled when the graph
 * is validated: a bad one is a validation problem naming the rule
 * (`rules[2] ...`). A failing expression fails the message (to `error`),
 * sending it nowhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FlowSwitch } from "./flow_switch.ts";
 *
 * assert.equal(FlowSwitch.outPorts.out.addressable, true);
 * assert.throws(
 *   () => FlowSwitch.inPorts.rules.parse?.('[{"op": "gtt", "value": 1}]'),
 *   /rules\[0\] has an unknown operator "gtt"/,
 * );
 * ```
 */
export const FlowSwitch: Component = flowSwitch();

/**
 * `flow/Switch` with its own options: `flowSwitch({ expressionBudget })`
 * bounds each evaluation of its JSONata (see
 * {@linkcode ExpressionComponentOptions}); `builtins({ expressionBudget })`
 * registers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowSwitch } from "./flow_switch.ts";
 *
 * assert.equal(flowSwitch({ expressionBudget: { timeoutMs: 50, maxDepth: 100 } }).name, "flow/Switch");
 * ```
 */
export function flowSwitch(
  options: ExpressionComponentOptions = {},
): Component {
  const budget = _budgetOf(options);
  return defineComponent<SwitchState>({
    name: "flow/Switch",
    description:
      "Routes each message to out[i] for the rules it matches (Node-RED's switch).",
    inPorts: {
      in: { description: "Messages to route." },
      rules: {
        control: true,
        required: true,
        parse: parseSwitchRules,
        description:
          'The rules, a JSON array such as [{"op": ">", "value": 30}, {"op": "else"}]; rule i sends to out[i] (or to its "out"). Numbers compare as in JSONata: Infinity > 30, NaN matches only "!=", -0 equals 0.',
      },
      property: {
        type: "string",
        control: true,
        default: _WHOLE,
        parse: _Selector.parse,
        description:
          'What the rules compare: a path such as "payload.temp" or a JSONata expression (default the message itself).',
      },
      mode: {
        type: "string",
        control: true,
        default: "all",
        parse: _parseMode,
        description:
          '"all" sends to every matching rule\'s port (default, as Node-RED), "first" to the first match only.',
      },
    },
    outPorts: {
      out: {
        addressable: true,
        indexes: _ruleOuts,
        description:
          "out[i] takes the messages that match rule i (the message itself, unchanged).",
      },
      unmatched: {
        description: "Messages that matched no rule (when connected).",
      },
      error: _errorPort,
    },
    setup: (ctx) => ({ site: { flow: ctx.network, process: ctx.process } }),
    process(msg, ctx) {
      const rules = ctx.control<SwitchRules>("rules").rules;
      const all = ctx.control<string>("mode") === "all";
      const site = ctx.state.site;
      const value = ctx.control<_Selector>("property").select(
        msg,
        budget,
        site,
      );
      if (value instanceof Promise) {
        return value.then((v) =>
          _switch(ctx, rules, v, msg, all, budget, site)
        );
      }
      return _switch(ctx, rules, value, msg, all, budget, site);
    },
  });
}
