/**
 * `http/Request`'s secret headers and control characters: Deno refuses a
 * header value holding one at each request ("failed to parse header
 * value"), Bun sends it for the server to refuse, so such a secret fails
 * the flow's start instead, naming its reference alone.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { httpRequest } from "../../src/components/http_request.ts";
import { SecretPolicy } from "../../src/components/_secret.ts";
import { runComponent } from "./_helpers.ts";

for (
  const [what, value] of [
    ["\\x01", "abc\x01SECRET-PART"],
    ["ESC", "abc\x1bSECRET-PART"],
    ["DEL", "abc\x7fSECRET-PART"],
  ]
) {
  test(`http/Request: a secret holding a control character (${what}) fails the flow's start, for secretHeaders and token alike, the value not shown`, async () => {
    const Request = httpRequest({
      secrets: new SecretPolicy({ env: ["KEY"], environment: { KEY: value } }),
    });
    for (
      const [iips, header] of [
        [{ secretHeaders: { "X-Key": "env:KEY" } }, "a x-key header"],
        [{ token: "env:KEY" }, "an Authorization header"],
      ] as const
    ) {
      await assert.rejects(
        runComponent(Request, {
          iips: { url: "http://127.0.0.1:9/", attempts: 1, ...iips },
          input: [1],
          capture: ["out", "error"],
        }),
        (e: Error) =>
          e.message.includes(
            `env:KEY: it holds a control character (other than a tab), which ${header} cannot carry`,
          ) && !e.message.includes("SECRET-PART"),
      );
    }
  });
}

test("http/Request: a tab inside a secret is sent, as a header may hold one", async () => {
  const Request = httpRequest({
    secrets: new SecretPolicy({
      env: ["KEY"],
      environment: { KEY: "a\tb" },
    }),
  });
  const r = await runComponent(Request, {
    iips: {
      url: "http://127.0.0.1:9/",
      attempts: 1,
      secretHeaders: { "X-Key": "env:KEY" },
    },
    input: [1],
    capture: ["out", "error"],
  });
  // Started, and the request went out (nothing listens on port 9).
  assert.equal(r.outputs.error.length, 1);
});
