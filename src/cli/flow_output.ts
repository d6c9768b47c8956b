/**
 * Where `core/Output` writes on `weir serve`: standard output, each line
 * tagged with the flow it comes from, since every flow of the server
 * shares it (issue 18: lines were untagged). In the `json` log format a
 * line is an object like the log's (`time`, `level`, `msg`, `flow`,
 * `process`, `output: true`); in `text`, `[flow] line`. `weir run` keeps
 * the flow's output as it is: there it is the flow's product.
 *
 * @module
 */
import process from "node:process";
import type { OutputWriter } from "../components/core.ts";

/**
 * A `core/Output` writer that tags each line with its flow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { taggedOutput } from "./flow_output.ts";
 *
 * const lines: string[] = [];
 * const text = taggedOutput("text", (l) => lines.push(l));
 * text("21.5", "sensors", "Log");
 * const json = taggedOutput("json", (l) => lines.push(l), () => 0);
 * json("21.5", "sensors", "Log");
 * assert.deepEqual(lines, [
 *   "[sensors] 21.5",
 *   '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"21.5","flow":"sensors","process":"Log","output":true}',
 * ]);
 * ```
 */
export function taggedOutput(
  format: "json" | "text",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  now: () => number = Date.now,
): OutputWriter {
  if (format === "json") {
    return (line, flow, proc) =>
      write(JSON.stringify({
        time: new Date(now()).toISOString(),
        level: "info",
        msg: line,
        flow,
        process: proc,
        output: true,
      }));
  }
  // Every line of a value that holds several is tagged.
  return (line, flow) =>
    write(
      line.includes("\n")
        ? line.split("\n").map((l) => `[${flow}] ${l}`).join("\n")
        : `[${flow}] ${line}`,
    );
}
