/**
 * The load side of the MQTT benchmark (`bench/mqtt_bench.ts`): one client
 * publishes sensor readings to a flow's input topic as fast as the broker
 * takes them, another counts what the flow publishes on its output topic,
 * message by message (both bare-socket clients, `_mqtt_raw_client.ts`).
 *
 * Reading `n` is `{"sensor":"s1","temp":T,"n":n}` with T above 30 for every
 * odd `n` (half of them): a flow keeping `temp > 30` must publish exactly
 * the odd ones. The counter parses each message it receives, so it also
 * tells a wrong message (temp not above 30), a duplicate (QoS 1 may
 * deliver twice) and a loss (an odd `n` that never came).
 *
 * @module
 */
import process from "node:process";
import { RawClient } from "./_mqtt_raw_client.ts";

const decoder = new TextDecoder();

/** The readings of one window and what came out of the flow. */
export interface WindowResult {
  /** QoS of the publisher (and of the flow under test). */
  qos: 0 | 1;
  /** Messages published. */
  sent: number;
  /** Messages the flow should publish (the odd ones). */
  expected: number;
  /** Distinct expected messages received. */
  received: number;
  /** expected - received. */
  lost: number;
  /** Messages received a second time. */
  duplicates: number;
  /** Messages received that the filter should have dropped, or unparsable. */
  wrong: number;
  /** Seconds from the first publish to the last message received. */
  seconds: number;
  /** Seconds from the first publish to the last publish acknowledged. */
  publishSeconds: number;
  /** Whether the window was cut at `stopAfterPublishMs`. */
  stopped: boolean;
  /** Messages out of the flow per second (received / seconds). */
  outRate: number;
  /** Messages into the flow per second (sent / seconds). */
  inRate: number;
}

/** Options of {@linkcode Load.run}. */
export interface RunOptions {
  /** Where the flow reads. */
  inTopic: string;
  /** Where the flow writes. */
  outTopic: string;
  /** Publisher QoS. */
  qos: 0 | 1;
  /** Messages to publish. */
  count: number;
  /** QoS 1 publishes not yet acknowledged. Default 1000. */
  window?: number;
  /**
   * How long to wait for the next message before the window ends with a
   * loss, once everything is published. Default 10,000 ms (a flow that
   * buffers a backlog without back pressure may go quiet for seconds on a
   * loaded machine before it delivers).
   */
  idleMs?: number;
  /**
   * Called every `sampleMs` while the window runs (the RSS sampler of the
   * slow-consumer runs).
   */
  onTick?: () => void;
  /**
   * Expect every message, whatever its temp: the harness ceiling, where
   * the publisher writes straight to the counted topic with no flow.
   */
  everything?: boolean;
  /** Period of `onTick`. Default 100 ms. */
  sampleMs?: number;
  /**
   * Ends the window when publishing is done plus this many ms, whatever
   * came out (the slow-consumer runs, whose flow cannot keep up on purpose).
   */
  stopAfterPublishMs?: number;
}

/** What the counter is counting now. */
interface Counting {
  outTopic: string;
  seen: Uint8Array;
  received: number;
  expected: number;
  everything: boolean;
  duplicates: number;
  wrong: number;
  last: number;
  done: () => void;
}

/** The reading numbered `n`: hot (temp above 30) when `n` is odd. */
export function reading(n: number): string {
  const temp = n % 2 === 1 ? 30.5 + (n % 7) : 20 + (n % 7);
  return `{"sensor":"s1","temp":${temp},"n":${n}}`;
}

/**
 * The publisher and the counter, both connected to one broker. The counter
 * subscribes at QoS 1 to `outPattern`: a QoS 0 flow's messages come at
 * QoS 0 (the lower of the two), a QoS 1 flow's at QoS 1.
 */
export class Load {
  readonly pub: RawClient;
  readonly sub: RawClient;
  #counting: Counting | undefined;
  /** Probe messages seen (readiness checks). */
  probes = 0;
  /** The topics probes came out on since the last {@linkcode Load.ready}. */
  #probedOn = new Set<string>();

  private constructor(pub: RawClient, sub: RawClient) {
    this.pub = pub;
    this.sub = sub;
  }

  /** Connects both clients to `url`, the counter subscribed to `outPattern`. */
  static async connect(url: string, outPattern: string): Promise<Load> {
    const pub = await RawClient.connect(url, `bench-pub-${process.pid}`);
    const sub = await RawClient.connect(url, `bench-sub-${process.pid}`);
    const load = new Load(pub, sub);
    await sub.subscribe(
      outPattern,
      (topic, payload) => load.#onMessage(topic, payload),
    );
    return load;
  }

  #onMessage(topic: string, payload: Uint8Array): void {
    const c = this.#counting;
    let n = -1;
    let temp = NaN;
    try {
      const m = JSON.parse(decoder.decode(payload)) as {
        n?: unknown;
        temp?: unknown;
      };
      n = typeof m.n === "number" ? m.n : -2;
      temp = typeof m.temp === "number" ? m.temp : NaN;
    } catch {
      n = -2;
    }
    if (n === -1) {
      this.probes++;
      this.#probedOn.add(topic);
      return;
    }
    if (c === undefined || topic !== c.outTopic) return;
    c.last = performance.now();
    if (n < 0 || n >= c.seen.length || !(c.everything || temp > 30)) {
      c.wrong++;
      return;
    }
    if (c.seen[n] === 1) {
      c.duplicates++;
      return;
    }
    c.seen[n] = 1;
    c.received++;
    if (c.received === c.expected) c.done();
  }

  /**
   * Publishes a probe (`n` = -1, hot) to `inTopic` every 200 ms until one
   * comes out on `outTopic`: the flow is then subscribed and running.
   */
  async ready(inTopic: string, outTopic: string, timeoutMs = 60_000) {
    const probe = '{"sensor":"probe","temp":99,"n":-1}';
    this.#probedOn.clear();
    const deadline = Date.now() + timeoutMs;
    while (!this.#probedOn.has(outTopic)) {
      if (Date.now() > deadline) {
        throw new Error(
          `Cannot start the window: nothing came out on ${outTopic} ` +
            `within ${timeoutMs} ms of probes to ${inTopic} (probes seen on: ${
              [...this.#probedOn].join(", ") || "none"
            })`,
        );
      }
      await this.pub.publishAll(inTopic, 1, 1, () => probe);
      await sleep(200);
    }
    // Let the probes still in flight come out before counting.
    await sleep(300);
  }

  /** Publishes `count` readings and counts what comes out. */
  async run(options: RunOptions): Promise<WindowResult> {
    const { inTopic, outTopic, qos, count } = options;
    const window = options.window ?? 1000;
    const idleMs = options.idleMs ?? 10_000;
    const everything = options.everything ?? false;
    const expected = everything ? count : Math.floor(count / 2);
    let finish!: () => void;
    const allIn = new Promise<void>((resolve) => finish = resolve);
    const c: Counting = {
      outTopic,
      seen: new Uint8Array(count),
      received: 0,
      expected,
      everything,
      duplicates: 0,
      wrong: 0,
      last: 0,
      done: finish,
    };
    this.#counting = c;
    const ticker = options.onTick === undefined
      ? undefined
      : setInterval(options.onTick, options.sampleMs ?? 100);
    try {
      const t0 = performance.now();
      c.last = t0;
      await this.pub.publishAll(inTopic, qos, count, reading, { window });
      const published = performance.now();
      if (options.stopAfterPublishMs !== undefined) {
        await Promise.race([allIn, sleep(options.stopAfterPublishMs)]);
      } else {
        // Until everything came, or nothing came for idleMs.
        while (c.received < expected) {
          const idle = performance.now() - c.last;
          if (idle >= idleMs) break;
          await Promise.race([allIn, sleep(idleMs - idle)]);
        }
      }
      const seconds = (c.last - t0) / 1000;
      return {
        qos,
        sent: count,
        expected,
        received: c.received,
        lost: expected - c.received,
        duplicates: c.duplicates,
        wrong: c.wrong,
        seconds,
        publishSeconds: (published - t0) / 1000,
        stopped: options.stopAfterPublishMs !== undefined,
        outRate: c.received / seconds,
        inRate: count / seconds,
      };
    } finally {
      if (ticker !== undefined) clearInterval(ticker);
      this.#counting = undefined;
    }
  }

  /** Disconnects both clients. */
  async close(): Promise<void> {
    await Promise.all([this.pub.close(), this.sub.close()]);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
