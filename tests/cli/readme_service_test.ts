/**
 * README's systemd service, as the code reads it: its config file and the
 * unit's folders put the flows' files, the database and the history where
 * the service can write, not in `./data` of `/` (a service's current
 * folder).
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileSandbox } from "../../src/cli/file_sandbox_setup.ts";
import { historyOptions } from "../../src/cli/history_setup.ts";
import { resolveSettings } from "../../src/cli/settings.ts";

const README = readFileSync(
  join(import.meta.dirname!, "..", "..", "README.md"),
  "utf8",
);

/** The first fenced block of `lang` after `marker` in README. */
function blockAfter(marker: string, lang: string): string {
  const at = README.indexOf(marker);
  assert.ok(at >= 0, `README has ${marker}`);
  const open = README.indexOf("```" + lang + "\n", at);
  const start = open + lang.length + 4;
  return README.slice(start, README.indexOf("\n```", start));
}

test("README's systemd service roots the file components in its state folder, beside the database and the history", () => {
  // The config file README gives (Configuration), which the unit reads.
  const config = [...README.matchAll(/```json\n([\s\S]*?)\n```/g)]
    .map((m) => m[1])
    .find((block) => block.includes('"db": "/var/lib/weir/flows.db"'));
  assert.ok(config !== undefined, "README has the config file of the unit");
  const unit = blockAfter("As a systemd service", "ini");
  const dir = mkdtempSync(join(tmpdir(), "weir-readme-service-"));
  try {
    const file = join(dir, "weir.json");
    writeFileSync(file, config);
    const { settings } = resolveSettings({ "--config": [file] }, {});
    assert.equal(settings.db, "/var/lib/weir/flows.db");
    const sandbox = fileSandbox("serve", settings);
    assert.equal(sandbox.root, "/var/lib/weir");
    assert.equal(
      sandbox.check("in/readings.csv"),
      "/var/lib/weir/in/readings.csv",
    );
    assert.throws(() => sandbox.check("flows.db-wal"), /off-limits/);
    assert.throws(() => sandbox.check("history/x"), /off-limits/);
    // Remote write's cursors are beside the history, so in the data folder.
    assert.throws(
      () => sandbox.check("remote_write/central.cursor"),
      /off-limits to flows \(the server's own files: .*the remote write cursors/,
    );
    assert.equal(
      historyOptions("serve", settings)?.dir,
      "/var/lib/weir/history",
    );
    // systemd makes /var/lib/weir and the flows' folders, the service's own.
    const state = /^StateDirectory=(.*)$/m.exec(unit)?.[1].split(" ");
    assert.deepEqual(state, ["weir", "weir/in", "weir/out"]);
    assert.match(unit, /--config \/etc\/weir\/weir\.json/);
    assert.match(
      README,
      /"dataDir": "\/var\/lib\/weir"` in\n`\/etc\/weir\/weir\.json`/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
