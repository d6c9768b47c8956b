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
import { _errorPort } from "./_error_port.ts";

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
    try {
      return new RegExp(value.slice(1, -1));
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
 * ones included, on `out`. NoFlo's `strings/SplitStr` resolves to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StringsSplit } from "./strings.ts";
 *
 * assert.deepEqual(StringsSplit.inPorts.delimiter.parse?.("/[,;]/"), /[,;]/);
 * assert.equal(StringsSplit.inPorts.delimiter.parse?.(","), ",");
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
