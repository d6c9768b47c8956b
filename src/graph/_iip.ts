/**
 * IIP conversion shared by validation and build.
 *
 * @module
 */
import type { PortType } from "../engine/component.ts";

/**
 * The value an IIP delivers to a port of type `type`: a string converted as
 * NoFlo converts IIP strings by the port's type, else `data` itself.
 *
 * IIPs written in .fbp text are always strings (`'5' -> size Batch`), and
 * NoFlo's JSON graphs carry them as such too. A string converts when it
 * stands for a value of the port's type: a finite number (trimmed,
 * non-empty; an integer for `integer`), exactly `"true"` or `"false"`, JSON
 * of an object or an array. Any other string is left as it is, so that
 * validation reports it against the port's type.
 */
export function convertIip(type: PortType | undefined, data: unknown): unknown {
  if (typeof data !== "string") return data;
  switch (type) {
    case "number":
    case "integer": {
      const text = data.trim();
      if (text === "") return data;
      const n = Number(text);
      if (!Number.isFinite(n)) return data;
      return type === "integer" && !Number.isInteger(n) ? data : n;
    }
    case "boolean":
      return data === "true" ? true : data === "false" ? false : data;
    case "object":
    case "array": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        return data;
      }
      const isArray = Array.isArray(parsed);
      if (type === "array") return isArray ? parsed : data;
      return parsed !== null && typeof parsed === "object" && !isArray
        ? parsed
        : data;
    }
    default:
      return data;
  }
}
