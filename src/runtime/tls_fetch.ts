/**
 * `fetch` with TLS settings of its own (a CA to trust, a client
 * certificate): Deno takes them in an HTTP client
 * (`Deno.createHttpClient`), Bun in `fetch`'s `tls` option.
 *
 * @module
 */

/** TLS settings: PEM texts. */
export interface TlsOptions {
  /** CA certificates to trust besides the system's. */
  ca?: string;
  /** A client certificate (with `key`). */
  cert?: string;
  /** The client certificate's private key. */
  key?: string;
}

interface DenoTls {
  createHttpClient(o: {
    caCerts?: string[];
    cert?: string;
    key?: string;
  }): unknown;
}

/**
 * A `fetch` of one request that uses `tls`; the global `fetch` when
 * `tls` sets nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tlsFetch } from "./tls_fetch.ts";
 *
 * const f = tlsFetch({});
 * assert.equal(typeof f, "function");
 * ```
 */
export function tlsFetch(
  tls: TlsOptions,
): (request: Request) => Promise<Response> {
  if (tls.ca === undefined && tls.cert === undefined) {
    return (request) => fetch(request);
  }
  const deno = (globalThis as { Deno?: DenoTls }).Deno;
  if (deno !== undefined) {
    const client = deno.createHttpClient({
      ...(tls.ca !== undefined ? { caCerts: [tls.ca] } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
    });
    return (request) => fetch(request, { client } as unknown as RequestInit);
  }
  const options = {
    tls: {
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
    },
  };
  return (request) => fetch(request, options as unknown as RequestInit);
}
