/**
 * Option objects of the embedding API checked for keys nobody reads: a
 * misspelt option (`bytesbudget`, `maxBodyByte`) would otherwise be
 * ignored, and the default silently used in its place.
 *
 * @module
 */
import { closestName } from "./registry.ts";

/**
 * Every key of `T`, as a list written out once: the type checker refuses
 * a list that leaves a key out (a new option must be added to it) or names
 * one `T` does not have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionKeys } from "./option_keys.ts";
 *
 * interface Opts {
 *   size?: number;
 *   name?: string;
 * }
 * const keys = optionKeys<Opts>()(["size", "name"]);
 * assert.deepEqual(keys, ["size", "name"]);
 * ```
 */
export function optionKeys<T>(): <
  const K extends readonly (keyof T & string)[],
>(
  keys:
    & K
    & ([Exclude<keyof T, K[number]>] extends [never] ? unknown
      : { missing: Exclude<keyof T, K[number]> }),
) => K {
  return (keys) => keys;
}

/**
 * Throws a `TypeError` naming the first own key of `options` that is not
 * in `known` (with the closest known key, and the whole list), as `what:
 * unknown option "x"`. Anything but a plain object is left to the caller's
 * own checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOptionKeys } from "./option_keys.ts";
 *
 * checkOptionKeys("Cannot create network", { bytesBudget: 1 }, ["bytesBudget"]);
 * assert.throws(
 *   () => checkOptionKeys("Cannot create network", { bytesbudget: 1 }, ["bytesBudget", "buckets"]),
 *   {
 *     name: "TypeError",
 *     message:
 *       'Cannot create network: unknown option "bytesbudget"; did you mean "bytesBudget"? (the options are bytesBudget, buckets)',
 *   },
 * );
 * ```
 */
export function checkOptionKeys(
  what: string,
  options: unknown,
  known: readonly string[],
): void {
  if (options === null || typeof options !== "object") return;
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closestName(key, known);
    throw new TypeError(
      `${what}: unknown option ${JSON.stringify(key.slice(0, 100))}${
        near === undefined ? "" : `; did you mean "${near}"?`
      } (the options are ${known.join(", ")})`,
    );
  }
}
