/**
 * JSON components: parse text into values (`json/Parse`) and write values
 * as text (`json/Stringify`).
 *
 * @module
 */
import {
  type Component,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import { _errorPort } from "./_util.ts";

/**
 * `json/Parse`: parses each string as JSON and sends the value on `out`.
 * Text that is not JSON (or a message that is not a string) fails the
 * message, so it goes to the process's `error` port or the network's
 * `error` event, and the next message is parsed as usual.
 *
 * @example
 * ```ts
 * import { JsonParse } from "./json.ts";
 *
 * JsonParse.name; // "json/Parse"
 * ```
 */
export const JsonParse: Component = defineComponent({
  name: "json/Parse",
  description: "Parses each string as JSON.",
  inPorts: { in: { type: "string", description: "JSON text." } },
  outPorts: {
    out: { description: "The parsed value." },
    error: _errorPort,
  },
  process(value, ctx) {
    if (typeof value !== "string") {
      throw new TypeError(
        `cannot parse JSON: expected a string, received ${
          describeValue(value)
        }`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      throw new SyntaxError(
        `cannot parse JSON from ${describeValue(value)}: ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    ctx.send("out", parsed);
  },
});

function _indent(value: unknown): number | string {
  if (typeof value === "number" && Number.isInteger(value)) {
    if (value >= 0 && value <= 10) return value;
  } else if (typeof value === "string" && value.length <= 10) {
    return value;
  }
  throw new RangeError(
    `expected an indent of 0 to 10 spaces or a string of up to 10 characters, received ${
      describeValue(value)
    }`,
  );
}

/**
 * `json/Stringify`: writes each message as JSON text on `out`, on one line
 * unless `indent` is set. A value JSON cannot hold (a function, a bigint, a
 * cycle) fails the message.
 *
 * @example
 * ```ts
 * import { JsonStringify } from "./json.ts";
 *
 * JsonStringify.inPorts.indent.default; // 0
 * ```
 */
export const JsonStringify: Component = defineComponent({
  name: "json/Stringify",
  description: "Writes each message as JSON text.",
  inPorts: {
    in: { description: "Values to write." },
    indent: {
      type: "any",
      control: true,
      default: 0,
      parse: _indent,
      description:
        "Spaces (0 to 10) or a string to indent nested levels with; 0 writes one line (default).",
    },
  },
  outPorts: {
    out: { type: "string", description: "The JSON text." },
    error: _errorPort,
  },
  process(value, ctx) {
    const indent = ctx.control<number | string>("indent");
    const text = JSON.stringify(value, null, indent === 0 ? undefined : indent);
    if (text === undefined) {
      throw new TypeError(
        `cannot write ${describeValue(value)} as JSON`,
      );
    }
    ctx.send("out", text);
  },
});
