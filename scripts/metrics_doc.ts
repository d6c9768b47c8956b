/**
 * Writes METRICS.md from the metric catalogue and the built-in components'
 * meters: `npm run metrics:doc`.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { builtins } from "../src/components/mod.ts";
import { metricsMarkdown } from "../src/metrics/metrics_doc.ts";

const file = new URL("../METRICS.md", import.meta.url);
writeFileSync(file, metricsMarkdown(builtins().components()));
console.log(`wrote ${file.pathname}`);
