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
import { _jsonDepthProblem } from "../engine/_json_depth.ts";
import { _errorPort } from "./_error_port.ts";
import { _toJson, MAX_JSON_DEPTH } from "./_to_json.ts";

export { MAX_JSON_DEPTH };

/**
 * `json/Parse`: parses each string as JSON and sends the value on `out`.
 * Text that is not JSON (or a message that is not a string) fails the
 * message, so it goes to the process's `error` port or the network's
 * `error` event, and the next message is parsed as usual. So does text
 * nested deeper than {@linkcode MAX_JSON_DEPTH} objects and arrays within
 * each other, refused before it is parsed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonParse } from "./json.ts";
 *
 * assert.equal(JsonParse.name, "json/Parse");
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
    const deep = _jsonDepthProblem(value, MAX_JSON_DEPTH);
    if (deep !== undefined) {
      throw new SyntaxError(
        `cannot parse JSON from ${describeValue(value)}: it is ${deep}`,
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

/**
 * Reads an indent option: a number of spaces from 0 to 10, or a string of
 * up to 10 characters. A string of digits (`"2"`, as an IIP written in
 * .fbp text arrives on this port of type `any`) is a number of spaces, as
 * in NoFlo; so `"11"` and `"-1"` are rejected rather than used as text.
 */
function _indent(value: unknown): number | string {
  if (typeof value === "string" && /^-?\d+$/.test(value)) {
    value = Number(value);
  }
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
 * unless `indent` is set. A value JSON cannot hold fails the message with a
 * `TypeError` whose message is the same on every runtime:
 * `cannot write a function as JSON`, or for a bigint or a cycle inside it
 * `cannot write object as JSON: it holds a bigint at .n` and
 * `cannot write object as JSON: it refers to itself at .self`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonStringify } from "./json.ts";
 *
 * assert.equal(JsonStringify.inPorts.indent.default, 0);
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
        'Spaces (0 to 10; a string of digits such as "2" counts as a number) or a string of up to 10 characters to indent nested levels with; 0 writes one line (default).',
    },
  },
  outPorts: {
    out: { type: "string", description: "The JSON text." },
    error: _errorPort,
  },
  process(value, ctx) {
    const indent = ctx.control<number | string>("indent");
    const text = _toJson(value, indent === 0 ? undefined : indent);
    if (text === undefined) {
      throw new TypeError(
        `cannot write ${describeValue(value)} as JSON`,
      );
    }
    ctx.send("out", text);
  },
});
