/**
 * Reading a file the operator named: one reason for each way it fails.
 *
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** The most a graph, config or token file may hold (16 MiB). */
const _MAX_BYTES = 16 * 2 ** 20;

/**
 * The file's text; when it cannot be read, `failed` is called with the
 * reason ("no such file", "it is a device, not a file", "it is a folder,
 * not a file", "it is larger than 16 MiB", or the system's message) and must throw. A device is
 * refused and a file read no further than the limit: `/dev/zero` named
 * by mistake never ends, and would be read until the memory ran out. A
 * pipe (`<(...)` of the shell) is read as it comes.
 */
export function readText(
  path: string,
  failed: (reason: string) => never,
): string {
  const read = _read(path);
  return typeof read === "string" ? read : failed(read.reason);
}

/** The text of the file at `path`, or why it cannot be read. */
function _read(path: string): string | { reason: string } {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const stat = fstatSync(fd);
    if (stat.isCharacterDevice() || stat.isBlockDevice()) {
      return { reason: "it is a device, not a file" };
    }
    if (stat.isDirectory()) return { reason: "it is a folder, not a file" };
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > _MAX_BYTES) return { reason: "it is larger than 16 MiB" };
      chunks.push(chunk.subarray(0, n));
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    // As readFileSync(path, "utf8"): a byte order mark stays.
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  } catch (e) {
    return {
      reason: (e as { code?: string }).code === "ENOENT"
        ? "no such file"
        : (e as Error).message,
    };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
