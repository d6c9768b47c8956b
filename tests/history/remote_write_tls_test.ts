/**
 * Remote write over TLS to a receiver whose certificate a CA of its own
 * signed (the `tls` setting of a destination): a {@linkcode RemoteWriter}
 * whose fetch is `tlsFetch({ ca })` delivers every sample; the plain
 * fetch does not trust that CA, and its failure warning keeps the URL's
 * query out; a receiver that asks for a client certificate takes one the
 * CA signed and refuses a client without one. The CA and certificates
 * come from `openssl`, the receivers are `node:https` servers on
 * loopback.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type ServerOptions } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { History } from "../../src/history/history.ts";
import {
  RemoteWriter,
  type RemoteWriterContext,
} from "../../src/history/remote_write.ts";
import { tlsFetch } from "../../src/runtime/tls_fetch.ts";
import { integrationSkip } from "../_prometheus.ts";
import { makePki, OPENSSL_HINT } from "../_pki.ts";
import { decodeBody } from "./_remote_write_decode.ts";

const skip = integrationSkip("openssl", OPENSSL_HINT);

/** One request the receiver answered. */
interface Received {
  path: string;
  samples: [string, number, number][];
}

/**
 * An https receiver on 127.0.0.1 with `options`, answering 204 and
 * recording each request; `close()` stops it.
 */
async function receiver(options: ServerOptions) {
  const received: Received[] = [];
  const server = createServer(options, (req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const samples: Received["samples"] = [];
      for (const s of decodeBody(new Uint8Array(Buffer.concat(chunks)))) {
        const name = s.labels.find(([n]) => n === "__name__")?.[1] ?? "";
        for (const x of s.samples) samples.push([name, x.t, x.value]);
      }
      received.push({ path: req.url ?? "", samples });
      res.writeHead(204).end();
    });
  });
  // A refused handshake is the point of some tests, not a failure.
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    url: `https://127.0.0.1:${port}/api/v1/write`,
    close: async () => {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Ticks appended to each series; the newest is not complete yet. */
const TICKS = 10;

/** An in-memory history of two series at 1 s steps, and what a writer sends of it. */
async function history(): Promise<{
  history: History;
  want: [string, number, number][];
}> {
  const history = await History.open();
  const want: [string, number, number][] = [];
  for (const name of ["weir_a", "weir_b"]) {
    const ref = history.store.seriesRef({ __name__: name, flow: "f" }, "gauge");
    for (let i = 1; i <= TICKS; i++) {
      history.store.append(ref, i * 1000, i * 10);
      if (i < TICKS) want.push([name, i * 1000, i * 10]);
    }
  }
  return { history, want };
}

/** A writer of `h` to `url` from its oldest sample, windows due at once. */
function writer(
  h: History,
  url: string,
  context: RemoteWriterContext,
): RemoteWriter {
  return new RemoteWriter(h, {
    url,
    start: "oldest",
    batchDeadlineMs: 0,
    minBackoffMs: 10,
    maxBackoffMs: 50,
  }, context);
}

/** Every sample `received` holds, sorted. */
function arrived(received: Received[]): [string, number, number][] {
  return received.flatMap((r) => r.samples).sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]
  );
}

/**
 * Sends with `w` until it warns (a failure is retried until the writer
 * closes), then closes it.
 */
async function sendUntilWarned(
  w: RemoteWriter,
  warned: Promise<void>,
): Promise<void> {
  const sending = w.sendOnce();
  await warned;
  await w.close();
  await sending;
}

test(
  "tlsFetch({ ca }) sends every sample to a receiver whose certificate the CA signed",
  {
    skip,
    timeout: 20_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-rw-tls-"));
    const { history: h, want } = await history();
    let r: Awaited<ReturnType<typeof receiver>> | undefined;
    try {
      const pki = makePki(dir);
      r = await receiver({ key: pki.serverKey, cert: pki.serverCert });
      const warnings: string[] = [];
      const w = writer(h, r.url, {
        fetch: tlsFetch({ ca: pki.ca }),
        onWarning: (m) => warnings.push(m),
      });
      assert.equal(await w.sendOnce(), want.length);
      await w.close();
      assert.deepEqual(warnings, []);
      assert.equal(w.stats.samplesFailed, 0);
      assert.deepEqual(arrived(r.received), want);
      assert.ok(r.received.every((x) => x.path === "/api/v1/write"));
    } finally {
      await r?.close();
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "the plain fetch does not trust the CA: the samples fail, nothing arrives, and the warning leaves out the URL's query",
  {
    skip,
    timeout: 20_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-rw-tls-"));
    const { history: h } = await history();
    let r: Awaited<ReturnType<typeof receiver>> | undefined;
    try {
      const pki = makePki(dir);
      r = await receiver({ key: pki.serverKey, cert: pki.serverCert });
      const warnings: string[] = [];
      let warn = () => {};
      const warned = new Promise<void>((resolve) => warn = resolve);
      const w = writer(h, `${r.url}?token=qs-s3cret-91ab`, {
        onWarning: (m) => {
          warnings.push(m);
          warn();
        },
      });
      await sendUntilWarned(w, warned);
      assert.ok(w.stats.samplesFailed > 0, "samples failed");
      assert.equal(w.stats.samplesSent, 0);
      assert.deepEqual(r.received, []);
      assert.equal(warnings.length, 1, warnings.join("\n"));
      // Why, in the runtime's words: Deno's "invalid peer certificate:
      // UnknownIssuer", Bun's "unable to verify the first certificate".
      assert.match(warnings[0], /certificate.*: retrying/i);
      assert.doesNotMatch(warnings[0], /qs-s3cret-91ab|token=/);
    } finally {
      await r?.close();
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "a receiver that requires a client certificate takes tlsFetch({ ca, cert, key }) and refuses a client without one",
  {
    skip,
    timeout: 20_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-rw-tls-"));
    const { history: h, want } = await history();
    const { history: h2 } = await history();
    let r: Awaited<ReturnType<typeof receiver>> | undefined;
    try {
      const pki = makePki(dir);
      r = await receiver({
        key: pki.serverKey,
        cert: pki.serverCert,
        ca: pki.ca,
        requestCert: true,
        rejectUnauthorized: true,
      });
      const warnings: string[] = [];
      const w = writer(h, r.url, {
        fetch: tlsFetch({
          ca: pki.ca,
          cert: pki.clientCert,
          key: pki.clientKey,
        }),
        onWarning: (m) => warnings.push(m),
      });
      assert.equal(await w.sendOnce(), want.length, warnings.join("\n"));
      await w.close();
      assert.deepEqual(arrived(r.received), want);

      const count = r.received.length;
      let warn = () => {};
      const warned = new Promise<void>((resolve) => warn = resolve);
      const without = writer(h2, r.url, {
        fetch: tlsFetch({ ca: pki.ca }),
        onWarning: () => warn(),
      });
      await sendUntilWarned(without, warned);
      assert.ok(without.stats.samplesFailed > 0, "samples failed");
      assert.equal(without.stats.samplesSent, 0);
      assert.equal(r.received.length, count, "requests without a certificate");
    } finally {
      await r?.close();
      await h.close();
      await h2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
