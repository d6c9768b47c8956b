/**
 * weir's version, in one place: `package.json` and this constant must
 * agree (a test checks it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VERSION } from "./version.ts";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+/); // semver: 0.1.0
 * ```
 *
 * @module
 */

/** weir's version (semver). */
export const VERSION = "0.1.0";
