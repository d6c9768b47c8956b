/**
 * Reading a file the operator named: one reason for each way it fails.
 *
 * @module
 */
import { readFileSync } from "node:fs";

/**
 * The file's text; when it cannot be read, `failed` is called with the
 * reason ("no such file", or the system's message) and must throw.
 */
export function readText(
  path: string,
  failed: (reason: string) => never,
): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    return failed(
      (e as { code?: string }).code === "ENOENT"
        ? "no such file"
        : (e as Error).message,
    );
  }
}
