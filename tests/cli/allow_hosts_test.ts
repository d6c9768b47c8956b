/**
 * The `allowHosts` setting (`--allow-hosts`, `WEIR_ALLOW_HOSTS`,
 * `allowHosts` in the config file): the hosts `http/Request` may reach in
 * every flow; a graph whose URL setting is outside it does not validate.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSettings, SettingsError } from "../../src/cli/settings.ts";
import { cli } from "./_weir.ts";

test("resolveSettings() reads --allow-hosts (repeating), WEIR_ALLOW_HOSTS and refuses a bad entry; default any host", () => {
  assert.equal(resolveSettings({}, {}).settings.allowHosts, null);
  const flag = resolveSettings({
    "--allow-hosts": ["api.example.com,*.corp.example", "10.0.0.5:8080"],
  }, {});
  assert.deepEqual(flag.settings.allowHosts, [
    "api.example.com",
    "*.corp.example",
    "10.0.0.5:8080",
  ]);
  assert.equal(flag.sources.allowHosts, "flag");
  const env = resolveSettings({}, { WEIR_ALLOW_HOSTS: "a.example b.example" });
  assert.deepEqual(env.settings.allowHosts, ["a.example", "b.example"]);
  assert.throws(
    () => resolveSettings({ "--allow-hosts": ["https://a.example/x"] }, {}),
    (e: Error) =>
      e instanceof SettingsError && /--allow-hosts/.test(e.message) &&
      /no scheme, no path/.test(e.message),
  );
});

test("weir validate --allow-hosts: an http/Request URL setting outside the list is a problem with its line:col", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-hosts-"));
  try {
    const file = join(dir, "post.fbp");
    writeFileSync(
      file,
      "'https://api.example.com/x' -> url A(http/Request)\n" +
        "'https://evil.example/x' -> url B(http/Request)\n",
    );
    let r = await cli(["validate", file]);
    assert.equal(r.code, 0, r.out + r.err);
    r = await cli(["validate", "--allow-hosts", "api.example.com", file]);
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /post\.fbp:2:\d+: .*Cannot reach host "evil\.example": it is not in the allow list \("api\.example\.com"/,
    );
    assert.doesNotMatch(r.out, /post\.fbp:1:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
