import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import {
  CATALOGUE,
  REMOTE_WRITE_METRICS,
} from "../../src/metrics/catalogue.ts";
import { _settings } from "../../src/history/remote_write_options.ts";
import { metricsMarkdown } from "../../src/metrics/metrics_doc.ts";

test("METRICS.md is what the catalogue generates (run `npm run metrics:doc`)", () => {
  const file = readFileSync(
    new URL("../../METRICS.md", import.meta.url),
    "utf8",
  );
  assert.equal(
    file,
    metricsMarkdown(builtins().components()),
    "METRICS.md is stale: run `npm run metrics:doc` and commit it",
  );
});

test("catalogue names follow Prometheus conventions", () => {
  const seen = new Set<string>();
  for (const d of CATALOGUE) {
    assert.match(d.name, /^[a-z][a-z0-9_]*$/, d.name);
    assert.equal(seen.has(d.name), false, `${d.name} is defined once`);
    seen.add(d.name);
    assert.equal(
      d.name.endsWith("_total"),
      d.type === "counter",
      `${d.name}: counters and only counters end in _total`,
    );
    if (d.unit) {
      const stem = d.name.replace(/_total$/, "");
      assert.ok(
        stem.endsWith(`_${d.unit}`),
        `${d.name} ends with its unit ${d.unit}`,
      );
    }
    assert.match(d.help, /^[A-Z].*\.$/, `${d.name}: help is one sentence`);
    for (const l of d.labels) {
      assert.match(l.name, /^[a-z][a-z_]*$/, `${d.name} label ${l.name}`);
      assert.notEqual(l.name, "le");
    }
  }
});

test("the remote write texts give the writer's default batch deadline and the config file's keys", () => {
  const deadlineS = _settings({ url: "http://127.0.0.1:9/write" })
    .batchDeadlineMs / 1000;
  assert.match(
    REMOTE_WRITE_METRICS.remoteWriteLag.moves,
    new RegExp(`\\(\`batchDeadline\`, default ${deadlineS} s:`),
  );
  // The config file says maxSampleAge; the embedding option may be named
  // as such, never as if it were the setting.
  const texts = JSON.stringify(REMOTE_WRITE_METRICS).replaceAll(
    "`maxSampleAgeMs` of `RemoteWriteOptions`",
    "",
  );
  assert.doesNotMatch(texts, /maxSampleAgeMs/);
});
