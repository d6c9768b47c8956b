/**
 * What the dashboard shows of an error answer (`src/ui/api_error.ts`,
 * used by `src/ui/api.ts`'s `failure()`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { refusalText } from "../../src/ui/api_error.ts";

test("a 403 names the token only when the page sent one; other statuses keep the server's words", () => {
  assert.equal(
    refusalText(403, "weir listens beyond loopback and has no token", false),
    "refused: weir listens beyond loopback and has no token",
  );
  assert.equal(
    refusalText(403, "this needs the write scope", true),
    "this token cannot do that: this needs the write scope",
  );
  assert.equal(
    refusalText(401, "a token is needed", false),
    "a token is needed",
  );
  assert.equal(refusalText(500, "internal error", true), "internal error");
});
