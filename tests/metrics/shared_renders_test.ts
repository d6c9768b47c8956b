import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { SharedRenders } from "../../src/metrics/shared_renders.ts";
import type {
  ExpositionFormat,
  MetricMetadata,
  MetricsSource,
} from "../../src/metrics/exposition.ts";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * A source whose exposition carries a value the test moves (`reading`) and
 * the number of the render (`render`), so an answer tells which render made
 * it and what it read. Its renders can be held, made synchronous and slow
 * (blocking the loop, as a render that never yields would), or failing.
 */
class CountingSource implements MetricsSource {
  /** The format of every render, in order. */
  readonly formats: ExpositionFormat[] = [];
  /** What the next render reads. */
  reading = 0;
  /** When set, a render blocks the loop this long before it returns (ms). */
  blockMs = 0;
  failure: Error | undefined;
  #gate: Promise<void> | undefined;
  #open = () => {};

  hold(): void {
    this.#gate = new Promise((resolve) => this.#open = resolve);
  }

  release(): void {
    this.#gate = undefined;
    this.#open();
  }

  render(format: ExpositionFormat): Promise<string> {
    this.formats.push(format);
    const text = `reading ${this.reading}\nrender ${this.formats.length}\n` +
      (format === "openmetrics" ? "# EOF\n" : "");
    if (this.blockMs > 0) {
      const until = performance.now() + this.blockMs;
      while (performance.now() < until) { /* a render that never yields */ }
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.#gate) return this.#gate.then(() => text);
    return Promise.resolve(text);
  }

  metadata(): Record<string, MetricMetadata[]> {
    return {};
  }
}

test("SharedRenders.get(): eight concurrent scrapes of one format get one render", async () => {
  const source = new CountingSource();
  const shared = new SharedRenders(source);
  source.reading = 7;
  const got = await Promise.all(
    Array.from({ length: 8 }, () => shared.get("text")),
  );
  assert.equal(source.formats.length, 1);
  assert.equal(shared.renders, 1);
  for (const r of got) assert.equal(decode(r.body), "reading 7\nrender 1\n");
});

test("SharedRenders.get(): scrapes queued behind a render that blocks the loop, dispatched one task each, share one more render", async () => {
  // A server that hands each queued request to its own task: with renders
  // that start at once and never yield, each request would find the one
  // before it ended and start its own, and the eighth would wait seven.
  const source = new CountingSource();
  source.blockMs = 20;
  source.reading = 3;
  const shared = new SharedRenders(source);
  const got = await Promise.all(
    Array.from(
      { length: 8 },
      () =>
        new Promise<string>((resolve, reject) =>
          setImmediate(() =>
            shared.get("text").then((r) => resolve(decode(r.body)), reject)
          )
        ),
    ),
  );
  // The first scrape's render, then one for the seven behind it.
  assert.equal(source.formats.length, 2);
  assert.deepEqual(got, [
    "reading 3\nrender 1\n",
    ...Array(7).fill("reading 3\nrender 2\n"),
  ]);
});

test("SharedRenders.get(): a lone scrape renders at once, not a turn of the loop later", async () => {
  const source = new CountingSource();
  const shared = new SharedRenders(source);
  let turned = false;
  setImmediate(() => turned = true);
  await shared.get("text");
  assert.equal(turned, false);
  assert.equal(source.formats.length, 1);
});

test("SharedRenders.get(): a scrape that comes while a render runs joins it; one after it ended gets a new render", async () => {
  const source = new CountingSource();
  const shared = new SharedRenders(source);
  source.hold();
  source.reading = 1;
  const first = shared.get("text");
  while (source.formats.length === 0) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Read already: the render in flight holds 1.
  source.reading = 2;
  const joined = Array.from({ length: 7 }, () => shared.get("text"));
  source.release();
  for (const r of await Promise.all([first, ...joined])) {
    assert.equal(decode(r.body), "reading 1\nrender 1\n");
  }
  assert.equal(source.formats.length, 1);
  // Straight after the end, in the same turn of the loop: a new render.
  const after = await shared.get("text");
  assert.equal(decode(after.body), "reading 2\nrender 2\n");
});

test("SharedRenders.get(): text and OpenMetrics are rendered apart", async () => {
  const source = new CountingSource();
  const shared = new SharedRenders(source);
  const [a, b, c] = await Promise.all([
    shared.get("text"),
    shared.get("openmetrics"),
    shared.get("openmetrics"),
  ]);
  assert.deepEqual([...source.formats].sort(), ["openmetrics", "text"]);
  assert.equal(decode(a.body).endsWith("# EOF\n"), false);
  assert.equal(decode(b.body).endsWith("# EOF\n"), true);
  assert.equal(b, c);
});

test("Rendition.gzipped(): one compression per render, shared by its scrapes", async () => {
  const source = new CountingSource();
  const shared = new SharedRenders(source);
  const [a, b] = await Promise.all([shared.get("text"), shared.get("text")]);
  const [x, y] = await Promise.all([a.gzipped(), b.gzipped()]);
  assert.equal(x, y);
  assert.equal(gunzipSync(x).toString("utf8"), decode(a.body));
});

test("SharedRenders.get(): a failed render fails every scrape that joined it, and the next scrape renders again", async () => {
  const source = new CountingSource();
  const shared = new SharedRenders(source);
  source.failure = new Error("collector exploded");
  const results = await Promise.allSettled([
    shared.get("text"),
    shared.get("text"),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  assert.equal(source.formats.length, 1);
  source.failure = undefined;
  assert.equal(
    decode((await shared.get("text")).body),
    "reading 0\nrender 2\n",
  );
});

test("SharedRenders.get(): a source that throws synchronously fails the scrapes, not the caller", async () => {
  const shared = new SharedRenders({
    render: () => {
      throw new TypeError("not a promise");
    },
    metadata: () => ({}),
  });
  await assert.rejects(shared.get("text"), /not a promise/);
});
