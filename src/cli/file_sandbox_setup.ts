/**
 * The file sandbox of the weir command: flows reach files only under
 * `--data-dir` (default `./data`), never the server's own files wherever
 * an operator keeps them: the flow database and its companion files, the
 * history folder, the remote write cursors, the token file, the config
 * file and the components folder (a flow that could write there would
 * plant code that weir runs at its next start, read or add tokens, or
 * make remote write skip or resend).
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
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
 * const sandbox = fileSandbox("serve", { ...settings, db: "/srv/weir/weir.db" }, {
 *   tokenFile: "/srv/weir/tokens",
 * });
 * assert.equal(sandbox.root, "/srv/weir");
 * assert.throws(() => sandbox.check("weir.db-wal"), /off-limits/);
 * assert.throws(() => sandbox.check("history/x"), /off-limits/);
 * assert.throws(() => sandbox.check("tokens"), /off-limits/);
 * assert.throws(() => sandbox.check("remote_write/central.cursor"), /off-limits/);
 * ```
 */
export function fileSandbox(
  command: string,
  s: Settings,
  own: { configFile?: string; tokenFile?: string } = {},
): FileSandbox {
  const history = historyOptions(command, s);
  const deny = [...storagePaths(s.db, history?.dir ?? null)];
  // Remote write keeps its cursors beside the history (serve.ts): a flow
  // writing one would make a destination skip or send again.
  if (history?.dir !== undefined) {
    deny.push(join(dirname(history.dir), "remote_write"));
  }
  if (own.configFile !== undefined) deny.push(resolve(own.configFile));
  if (own.tokenFile !== undefined) deny.push(resolve(own.tokenFile));
  if (s.components !== null) deny.push(resolve(s.components));
  return new FileSandbox({ root: s.dataDir ?? "data", deny });
}

/**
 * Why the components folder cannot be used with the data folder, or
 * `undefined` when it can: a components folder inside the data folder (or
 * holding it) is refused, since flows write files there and weir imports
 * what is in the components folder at its next start. Real paths, so a
 * symbolic link does not hide it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { componentsFolderProblem } from "./file_sandbox_setup.ts";
 *
 * assert.match(
 *   componentsFolderProblem("/srv/weir/data/components", "/srv/weir/data") ?? "",
 *   /inside the data folder/,
 * );
 * assert.equal(componentsFolderProblem("/etc/weir/components", "/srv/weir/data"), undefined);
 * ```
 */
export function componentsFolderProblem(
  components: string,
  dataDir: string,
): string | undefined {
  const c = _real(resolve(components));
  const d = _real(resolve(dataDir));
  if (_within(c, d)) {
    return `the components folder "${components}" is inside the data folder "${dataDir}", where flows write files: a flow could plant code that weir runs at its next start; keep your components outside --data-dir`;
  }
  if (_within(d, c)) {
    return `the data folder "${dataDir}" is inside the components folder "${components}": flows could write modules there; keep your components in a folder of their own, outside --data-dir`;
  }
  return undefined;
}

function _within(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." &&
    !rel.startsWith(sep));
}

function _real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
