/**
 * A fake remote write receiver for the tests: what it received, decoded
 * with `@bufbuild/protobuf` (`_remote_write_decode.ts`), and writers cut
 * off with a request in flight.
 *
 * @module
 */
import type { RemoteWriter } from "../../src/history/remote_write.ts";
import { decodeBody, type DecodedSeries } from "./_remote_write_decode.ts";

/** One request as the fake receiver saw it. */
export interface Received {
  headers: Headers;
  series: DecodedSeries[];
  samples: number;
  /** The status the fake answered. */
  status: number;
}

export type Answer = (
  i: number,
  request: Request,
) => Response | Promise<Response>;

/**
 * A receiver behind `fetch`: decodes every request; `answer` decides the
 * reply (default 204). `accepted()` lists what it answered 2xx to.
 */
export function receiver(
  answer: Answer = () => new Response(null, { status: 204 }),
) {
  const requests: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = async (request: Request): Promise<Response> => {
    const series = decodeBody(new Uint8Array(await request.arrayBuffer()));
    // Its place among the requests, counted once its body is in (requests
    // sent at once each get their own).
    const i = requests.length;
    const r: Received = {
      headers: request.headers,
      series,
      samples: series.reduce((n, s) => n + s.samples.length, 0),
      status: 0,
    };
    requests.push(r);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const res = await answer(i, request);
      r.status = res.status;
      return res;
    } finally {
      inFlight--;
    }
  };
  return {
    fetch,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300),
  };
}

/** `name{labels}` of a decoded series, labels in the order they came. */
export function keyOf(s: DecodedSeries): string {
  return s.labels.map(([n, v]) => `${n}=${v}`).join(",");
}

/** Every sample time received, by series key, in arrival order. */
export function timesBySeries(requests: Received[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of requests) {
    for (const s of r.series) {
      const k = keyOf(s);
      const list = out.get(k) ?? [];
      list.push(...s.samples.map((x) => x.t));
      out.set(k, list);
    }
  }
  return out;
}

/** `from, from + step, ..., to`. */
export function range(from: number, to: number, step = 1000): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t += step) out.push(t);
  return out;
}

/** A promise and its resolve function. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** A reply that never comes: rejects when the request is aborted (close()). */
export function hang(request: Request): Promise<Response> {
  return new Promise((_, reject) => {
    request.signal.addEventListener(
      "abort",
      () => reject(request.signal.reason),
      { once: true },
    );
  });
}

/**
 * Runs the writer `make` returns until the receiver has acknowledged
 * `acks` requests, then closes it with the next one in flight (a process
 * that dies then). Returns that receiver and what `sendOnce()` said.
 */
export async function stopAfter(
  acks: number,
  make: (fetch: (request: Request) => Promise<Response>) => RemoteWriter,
): Promise<{ first: ReturnType<typeof receiver>; sent: number }> {
  const cut = deferred();
  const first = receiver((i, request) => {
    if (i < acks) return new Response(null, { status: 200 });
    cut.resolve();
    return hang(request);
  });
  const writer = make(first.fetch);
  const sending = writer.sendOnce();
  await cut.promise;
  await writer.close();
  return { first, sent: await sending };
}
