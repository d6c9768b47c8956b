/**
 * weir's version, in one place: `package.json` and this constant must
 * agree (a test checks it).
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 *
 * VERSION; // "0.1.0"
 * ```
 *
 * @module
 */

/** weir's version (semver). */
export const VERSION = "0.1.0";
