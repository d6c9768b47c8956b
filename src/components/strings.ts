/**
 * String components: `strings/Split` (NoFlo's `strings/SplitStr`).
 *
 * @module
 */
import {
  type Component,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import { excerpt } from "../engine/excerpt.ts";
import { _errorPort } from "./_error_port.ts";
import { LinearRegExp, linearRegexProblem } from "../expr/linear_regexp.ts";

/**
 * Reads a delimiter option: a string, or `/pattern/` for a regular
 * expression, as NoFlo's `strings/SplitStr` does; the pattern runs in time
 * linear in the text (see `src/expr/linear_regexp.ts`). A `RegExp` given
 * by code (a network built in code) is the embedding program's own and is
 * used as it is.
 */
function _delimiter(value: unknown): string | RegExp | LinearRegExp {
  if (value instanceof RegExp || value instanceof LinearRegExp) return value;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `expected a non-empty delimiter string (or "/pattern/"), received ${
        describeValue(value)
      }`,
    );
  }
  if (value.length > 2 && value.startsWith("/") && value.endsWith("/")) {
    const source = value.slice(1, -1);
    try {
      // Only checks the syntax (JavaScript's, as NoFlo's); nothing is matched.
      new RegExp(source);
    } catch (e) {
      throw new SyntaxError(
        `invalid regular expression delimiter ${value}: ${
          (e as Error).message
        }`,
      );
    }
    const refused = linearRegexProblem(source);
    if (refused !== undefined) {
      throw new RangeError(
        `cannot use the regular expression delimiter ${
          excerpt(value, 80)
        }: ${refused}`,
      );
    }
    return new LinearRegExp(source);
  }
  return value;
}

/**
 * `strings/Split`: splits each string by `delimiter` (default a line
 * break; `"/pattern/"` is a regular expression) and sends each part, empty
 * ones included, on `out`. NoFlo's `strings/SplitStr` resolves to it. A
 * pattern runs in time linear in the text whatever its shape (`(a+)+b`
 * included); one the linear-time engine cannot run (a backreference, a
 * lookaround) is refused when the option arrives, so at validation for a
 * graph's IIP, with the feature named (see `src/expr/linear_regexp.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StringsSplit } from "./strings.ts";
 *
 * const re = StringsSplit.inPorts.delimiter.parse?.("/\\s*[,;]\\s+/");
 * assert.deepEqual("a , b; c".split(re as RegExp), ["a", "b", "c"]);
 * assert.equal(StringsSplit.inPorts.delimiter.parse?.(","), ",");
 * assert.throws(() => StringsSplit.inPorts.delimiter.parse?.("/(a)\\1/"), RangeError);
 * ```
 */
export const StringsSplit: Component = defineComponent({
  name: "strings/Split",
  description: "Splits each string by a delimiter and sends each part.",
  inPorts: {
    in: { type: "string", description: "Strings to split." },
    delimiter: {
      type: "string",
      control: true,
      default: "\n",
      parse: _delimiter,
      description:
        'Where to split: a string, or "/pattern/" for a regular expression (default a line break).',
    },
  },
  outPorts: {
    out: { type: "string", description: "Each part, in order." },
    error: _errorPort,
  },
  process(value, ctx) {
    if (typeof value !== "string") {
      throw new TypeError(
        `cannot split ${describeValue(value)}: expected a string`,
      );
    }
    // Sent without waiting: the parts are in memory already, and the
    // engine holds a synchronous activation's surplus until there is room.
    const delimiter = ctx.control<string | RegExp | LinearRegExp>("delimiter");
    const parts = typeof delimiter === "string"
      ? value.split(delimiter)
      : value.split(delimiter);
    for (let i = 0; i < parts.length; i++) ctx.send("out", parts[i]);
  },
});
