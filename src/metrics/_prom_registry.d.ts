/**
 * Types of `prom-client/lib/registry.js` (15.1.3), which the package
 * types only through its index: the module's export is the index's
 * `Registry` class.
 *
 * @module
 */
import type { Registry } from "prom-client";

declare const RegistryClass: typeof Registry;
export default RegistryClass;
