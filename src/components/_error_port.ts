/**
 * The `error` out-port that the built-in components whose messages can fail
 * declare.
 *
 * @module
 */
import type { OutPortSpec } from "../engine/component.ts";

/**
 * The `error` out-port of a component whose messages can fail: the engine
 * sends a `ProcessError` there for each failure when it is connected, and
 * emits the network's `error` event otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _errorPort } from "./_error_port.ts";
 *
 * assert.equal(_errorPort.type, "object");
 * ```
 */
export const _errorPort: Readonly<OutPortSpec> = Object.freeze({
  type: "object",
  description:
    "A ProcessError for each failed message (when connected; else the network's error event).",
});
