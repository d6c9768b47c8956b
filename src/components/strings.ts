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
import { unsafeRegexReason } from "../expr/safe_regex.ts";

/**
 * Reads a delimiter option: a string, or `/pattern/` for a regular
 * expression, as NoFlo's `strings/SplitStr` does.
 */
function _delimiter(value: unknown): string | RegExp {
  if (value instanceof RegExp) return value;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `expected a non-empty delimiter string (or "/pattern/"), received ${
        describeValue(value)
      }`,
    );
  }
  if (value.length > 2 && value.startsWith("/") && value.endsWith("/")) {
    const source = value.slice(1, -1);
    const unsafe = unsafeRegexReason(source);
    if (unsafe !== undefined) {
      throw new RangeError(
        `cannot use the regular expression delimiter ${
          excerpt(value, 80)
        }: ${unsafe}`,
      );
    }
    try {
      return new RegExp(source);
    } catch (e) {
      throw new SyntaxError(
        `invalid regular expression delimiter ${value}: ${
          (e as Error).message
        }`,
      );
    }
  }
  return value;
}

/**
 * `strings/Split`: splits each string by `delimiter` (default a line
 * break; `"/pattern/"` is a regular expression) and sends each part, empty
 * ones included, on `out`. NoFlo's `strings/SplitStr` resolves to it. A
 * pattern whose backtracking can take time exponential in the text (a
 * repeated group that holds a quantifier or alternatives, as `(a+)+`, or a
 * backreference) is refused when the option arrives, so at validation for
 * a graph's IIP (see `src/expr/safe_regex.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StringsSplit } from "./strings.ts";
 *
 * assert.deepEqual(StringsSplit.inPorts.delimiter.parse?.("/[,;]/"), /[,;]/);
 * assert.equal(StringsSplit.inPorts.delimiter.parse?.(","), ",");
 * assert.throws(() => StringsSplit.inPorts.delimiter.parse?.("/(a+)+b/"), RangeError);
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
    const parts = value.split(ctx.control<string | RegExp>("delimiter"));
    for (let i = 0; i < parts.length; i++) ctx.send("out", parts[i]);
  },
});
