/**
 * The dashboard's files inside the server (`src/ui/assets.gen.ts`): built
 * from the sources as they are now, linked from the page, and within the
 * issue's budget of 300 KB of JavaScript and CSS, gzipped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { UI_ASSETS, UI_SOURCE_HASH } from "../../src/ui/assets.gen.ts";
import { uiSourceHash } from "../../src/ui/source_hash.ts";

const ROOT = join(import.meta.dirname!, "..", "..");

test("src/ui/assets.gen.ts was built from the dashboard's sources as they are now", () => {
  assert.equal(
    UI_SOURCE_HASH,
    uiSourceHash(ROOT),
    "src/ui changed since src/ui/assets.gen.ts was built: run `npm run build:ui`",
  );
});

test("the page links the script and the style the server serves, and loads nothing from elsewhere", () => {
  const html = UI_ASSETS["/"].body;
  assert.match(html, /<script type="?module"? src="?\/ui\/app\.js"?/);
  assert.match(html, /href="?\/ui\/app\.css"?/);
  // No CDN, no web font: everything it names is served here.
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(UI_ASSETS["/ui/app.css"].body, /url\(\s*["']?https?:/);
  assert.doesNotMatch(
    UI_ASSETS["/ui/app.js"].body,
    /import\s*\(?\s*["']https?:|from\s*["']https?:/,
  );
  assert.match(UI_ASSETS["/ui/app.js"].type, /^text\/javascript/);
  assert.match(UI_ASSETS["/ui/app.css"].type, /^text\/css/);
});

test("the page's JavaScript and CSS are at most 300 KB gzipped", () => {
  let bytes = 0;
  for (const path of ["/ui/app.js", "/ui/app.css"]) {
    bytes += gzipSync(new TextEncoder().encode(UI_ASSETS[path].body), {
      level: 9,
    }).byteLength;
  }
  assert.ok(bytes <= 300 * 1024, `${bytes} bytes gzipped`);
});
