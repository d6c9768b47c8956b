/**
 * The file sandbox of the weir command: flows reach files only under
 * `--data-dir` (default `./data`), never the flow database, its companion
 * files or the history folder, wherever those are.
 *
 * @module
 */
import { FileSandbox, storagePaths } from "../components/file_sandbox.ts";
import { historyOptions } from "./history_setup.ts";
import type { Settings } from "./settings.ts";

/**
 * The sandbox of the file components for `command` run with settings `s`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileSandbox } from "./file_sandbox_setup.ts";
 * import { resolveSettings } from "./settings.ts";
 *
 * const { settings } = resolveSettings({ "--data-dir": ["/srv/weir"] }, {});
 * const sandbox = fileSandbox("serve", { ...settings, db: "/srv/weir/weir.db" });
 * assert.equal(sandbox.root, "/srv/weir");
 * assert.throws(() => sandbox.check("weir.db-wal"), /off-limits/);
 * assert.throws(() => sandbox.check("history/x"), /off-limits/);
 * ```
 */
export function fileSandbox(command: string, s: Settings): FileSandbox {
  const history = historyOptions(command, s);
  return new FileSandbox({
    root: s.dataDir ?? "data",
    deny: storagePaths(s.db, history?.dir ?? null),
  });
}
