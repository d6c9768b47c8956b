/**
 * How tests start the current runtime as a child process.
 *
 * @module
 */
import process from "node:process";

/** The command and leading arguments that run a TypeScript file here. */
export function runtimeCommand(): [string, string[]] {
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  return isDeno ? [process.execPath, ["run", "-A"]] : [process.execPath, []];
}
