/**
 * Looking through the `jsonata` package's syntax tree for a node.
 *
 * @module
 */

/** A node of the package's syntax tree, as {@linkcode _findNode} sees it. */
export interface _Node {
  type?: unknown;
  value?: unknown;
  position?: unknown;
  procedure?: { value?: unknown };
}

/**
 * The first node of `ast` that `test` takes, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import jsonata from "jsonata";
 * import { _findNode } from "./_find_node.ts";
 *
 * const ast = jsonata("a & b").ast();
 * assert.equal(_findNode(ast, (n) => n.value === "&")?.position, 3);
 * assert.equal(_findNode(ast, (n) => n.type === "regex"), undefined);
 * ```
 */
export function _findNode(
  ast: unknown,
  test: (node: _Node) => boolean,
): _Node | undefined {
  const stack: unknown[] = [ast];
  // The parser's nodes may share objects (slots of a parent step).
  const seen = new Set<object>();
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== "object") continue;
    if (node instanceof RegExp || seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (test(node as _Node)) return node as _Node;
    for (const key of Object.keys(node)) {
      stack.push((node as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}
