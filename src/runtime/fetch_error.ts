/**
 * What a failed `fetch` says, fit for a log line or an error message: the
 * reason each runtime gives (Deno 2.9 says only "fetch failed" and keeps
 * why in the error's `cause`; Bun says why in the message), with every
 * URL in it shown without credentials and query, which may hold secrets.
 * `http/Request` and remote write report their network errors this way.
 *
 * @module
 */

/**
 * A URL as errors show it: no credentials, no query (they may hold secrets).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { urlShown } from "./fetch_error.ts";
 *
 * assert.equal(urlShown(new URL("https://u:pw@h:1/p?token=x")), "https://h:1/p");
 * ```
 */
export function urlShown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Text that does not parse as a URL, shown as {@linkcode urlShown} would
 * show it: cut at its query, everything up to its last `@` (credentials)
 * gone, at most 100 characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { urlTextShown } from "./fetch_error.ts";
 *
 * assert.equal(urlTextShown("ws://u:pw@h :1/p?token=x"), "ws://h :1/p");
 * ```
 */
export function urlTextShown(value: string): string {
  let text = value.split(/[?#]/, 1)[0];
  const at = text.lastIndexOf("@");
  if (at >= 0) {
    text = (/^[^:/@]*:\/*/.exec(text)?.[0] ?? "") + text.slice(at + 1);
  }
  return text.slice(0, 100);
}

/**
 * `text` (a runtime's error) with every URL in it shown as
 * {@linkcode urlShown} does: `url` itself, and any other without its
 * credentials and query.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scrubUrls } from "./fetch_error.ts";
 *
 * const url = new URL("http://h/w?token=s3cret");
 * assert.equal(
 *   scrubUrls("connect failed: http://h/w?token=s3cret and http://a:b@x/y?q", url),
 *   "connect failed: http://h/w and http://x/y",
 * );
 * ```
 */
export function scrubUrls(text: string, url: URL): string {
  const shown = urlShown(url);
  // Runtimes quote the whole URL, with or without its credentials.
  const bare = `${url.protocol}//${url.host}${url.pathname}${url.search}`;
  for (const whole of [url.href, bare + url.hash, bare]) {
    text = text.split(whole).join(shown);
  }
  return text.replace(
    /([a-z][a-z0-9+.-]*:\/\/)(?:[^\s/?#]*@)?([^\s?#]*)(?:[?#]\S*)?/gi,
    "$1$2",
  );
}

/**
 * A failed fetch's reason, its cause added when the message lacks it
 * (Deno), any URL in it shown as {@linkcode urlShown} does, at most 300
 * characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchErrorText } from "./fetch_error.ts";
 *
 * const url = new URL("https://h/w?token=s3cret");
 * const deno = new TypeError("fetch failed", {
 *   cause: new Error(`error sending request for url (${url.href}): invalid peer certificate: UnknownIssuer`),
 * });
 * assert.equal(fetchErrorText(deno, url), "fetch failed: invalid peer certificate: UnknownIssuer");
 * ```
 */
export function fetchErrorText(error: unknown, url: URL): string {
  let text = scrubUrls((error as Error)?.message ?? String(error), url);
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })
    ?.cause;
  if (typeof cause?.message === "string" && cause.message !== "") {
    // Deno says only "fetch failed" and keeps why in the cause.
    const why = scrubUrls(cause.message, url)
      .replace(`error sending request for url (${urlShown(url)}): `, "");
    if (!text.includes(why)) text += `: ${why}`;
  }
  if (typeof cause?.code === "string" && !text.includes(cause.code)) {
    text += ` (${cause.code})`;
  }
  return text.slice(0, 300);
}
