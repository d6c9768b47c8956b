/**
 * Writes METRICS.md from the metric catalogue: `npm run metrics:doc`.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { metricsMarkdown } from "../src/metrics/metrics_doc.ts";

const file = new URL("../METRICS.md", import.meta.url);
writeFileSync(file, metricsMarkdown());
console.log(`wrote ${file.pathname}`);
