/**
 * What a flow is allowed to reach outside itself (issue 18): a graph's
 * `properties.allow`, and the hook through which a component that reaches
 * outside (files today; hosts and programs when components for them exist)
 * gives a copy of itself limited to it. The graph layer applies it to every
 * component of a flow when the flow is validated and built, so the limit
 * holds at validation and at run time alike.
 *
 * @module
 */
import type { Component } from "./component.ts";

/**
 * A flow's allow list (`properties.allow` of its graph). Each kind lists
 * what the flow may reach; a kind left out allows nothing of that kind. A
 * graph without `allow` keeps the server's own limits (for files: the
 * whole data folder).
 */
export interface FlowAllow {
  /**
   * Files and folders under the data folder (relative to it, or absolute
   * inside it): the file components reach these and what is under them.
   */
  files?: readonly string[];
  /**
   * Hosts (`host`, `host:port` or `*.domain`) that `http/Request` (within
   * the server's `--allow-hosts`) and `mqtt/In`, `mqtt/Out` may reach.
   */
  hosts?: readonly string[];
  /**
   * Programs, by name or absolute path, that `exec/Run` may start: within
   * the server's own list (`--allow-exec`), never beyond it.
   */
  exec?: readonly string[];
}

/** The kinds a {@linkcode FlowAllow} may hold. */
export const ALLOW_KINDS: readonly (keyof FlowAllow)[] = [
  "files",
  "hosts",
  "exec",
];

const _restrictions = new WeakMap<
  Component,
  (allow: FlowAllow) => Component
>();

/**
 * Declares how `component` limits itself to a flow's allow list:
 * `restrict(allow)` returns a copy that reaches only what `allow` lists,
 * or throws a `RangeError` naming an entry it cannot honour (say, a folder
 * outside the data folder). Returns `component`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Component, defineComponent } from "./component.ts";
 * import { restrictable, restrictComponent } from "./flow_allow.ts";
 *
 * const make = (files: readonly string[] | undefined): Component =>
 *   restrictable(
 *     defineComponent({ name: "x/Files", description: files?.join(",") ?? "any", process() {} }),
 *     (allow) => make(allow.files ?? []),
 *   );
 * const open = make(undefined);
 * assert.equal(restrictComponent(open, { files: ["in/"] }).description, "in/");
 * ```
 */
export function restrictable(
  component: Component,
  restrict: (allow: FlowAllow) => Component,
): Component {
  _restrictions.set(component, restrict);
  return component;
}

/**
 * `component` limited to `allow`: its own restriction (see
 * {@linkcode restrictable}), or the component itself when it reaches
 * nothing outside the flow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent } from "./component.ts";
 * import { restrictComponent } from "./flow_allow.ts";
 *
 * const plain = defineComponent({ name: "x/Plain", description: "", process() {} });
 * assert.equal(restrictComponent(plain, { files: [] }), plain);
 * ```
 */
export function restrictComponent(
  component: Component,
  allow: FlowAllow,
): Component {
  const restrict = _restrictions.get(component);
  return restrict === undefined ? component : restrict(allow);
}
