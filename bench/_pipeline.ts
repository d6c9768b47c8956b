/**
 * The pipelines the benchmarks compare: weir's 5-stage network and a
 * hand-written baseline of async stages joined by bounded queues.
 *
 * @module
 */
import { defineComponent } from "../src/engine/component.ts";
import { Network } from "../src/engine/network.ts";
import type { NetworkSpec } from "../src/engine/spec.ts";

/** Result of one pipeline run. */
export interface PipelineRun {
  /** Messages that reached the sink. */
  count: number;
  /** Sum of their values (checks that nothing was lost or changed). */
  sum: number;
}

/** Expected sum after `n` messages 0..n-1 went through `stages` x (+1). */
export function expectedSum(n: number, stages = 5): number {
  return (n * (n - 1)) / 2 + stages * n;
}

/**
 * The weir network of the pipeline benchmark: a source looping over
 * 0..n-1 (awaiting back pressure), `stages` maps (value + 1) and a
 * counting sink.
 */
export function weirPipeline(
  n: number,
  capacity = 10,
  stages = 5,
): { net: Network; result: PipelineRun } {
  const result: PipelineRun = { count: 0, sum: 0 };
  const Source = defineComponent({
    name: "bench/Source",
    description: "Emits 0..n-1.",
    outPorts: { out: {} },
    async run(ctx) {
      const out = ctx.out.out;
      for (let i = 0; i < n; i++) {
        const wait = out.send(i);
        if (wait) await wait;
      }
    },
  });
  const Inc = defineComponent({
    name: "bench/Inc",
    description: "Adds one.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(v, ctx) {
      ctx.out.out.send((v as number) + 1);
    },
  });
  const Sink = defineComponent({
    name: "bench/Sink",
    description: "Counts and sums.",
    inPorts: { in: {} },
    process(v) {
      result.count++;
      result.sum += v as number;
    },
  });
  const names = ["source"];
  const spec: NetworkSpec = {
    name: "bench",
    defaultCapacity: capacity,
    processes: [{ name: "source", component: Source }],
    connections: [],
  };
  for (let i = 1; i <= stages; i++) {
    spec.processes.push({ name: `map${i}`, component: Inc });
    names.push(`map${i}`);
  }
  spec.processes.push({ name: "sink", component: Sink });
  names.push("sink");
  for (let i = 1; i < names.length; i++) {
    spec.connections.push({
      from: { process: names[i - 1], port: "out" },
      to: { process: names[i], port: "in" },
    });
  }
  return { net: new Network(spec), result };
}

/** Runs weir's pipeline to completion. */
export async function runWeir(
  n: number,
  capacity = 10,
): Promise<PipelineRun> {
  const { net, result } = weirPipeline(n, capacity);
  await net.start();
  await net.finished;
  return result;
}

const CLOSED = Symbol("closed");

/**
 * A bounded async FIFO, written the way one would by hand: `put` waits
 * while full, `take` waits while empty, a ring buffer, no allocation unless
 * someone must wait.
 */
class BoundedQueue<T> {
  #buf: (T | undefined)[];
  #head = 0;
  #size = 0;
  #closed = false;
  #takers: ((v: T | typeof CLOSED) => void)[] = [];
  #putters: (() => void)[] = [];

  constructor(readonly capacity: number) {
    this.#buf = new Array(capacity);
  }

  async put(v: T): Promise<void> {
    while (this.#size === this.capacity) {
      await new Promise<void>((r) => this.#putters.push(r));
    }
    const taker = this.#takers.shift();
    if (taker) {
      taker(v);
      return;
    }
    this.#buf[(this.#head + this.#size) % this.capacity] = v;
    this.#size++;
  }

  async take(): Promise<T | typeof CLOSED> {
    if (this.#size === 0) {
      if (this.#closed) return CLOSED;
      return await new Promise((r) => this.#takers.push(r));
    }
    const v = this.#buf[this.#head] as T;
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    this.#putters.shift()?.();
    return v;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#takers.splice(0)) t(CLOSED);
  }
}

/** The baseline: the same pipeline as async functions joined by bounded queues. */
export async function runBaseline(
  n: number,
  capacity = 10,
  stages = 5,
): Promise<PipelineRun> {
  const queues: BoundedQueue<number>[] = [];
  for (let i = 0; i <= stages; i++) queues.push(new BoundedQueue(capacity));
  const result: PipelineRun = { count: 0, sum: 0 };
  const source = (async () => {
    for (let i = 0; i < n; i++) await queues[0].put(i);
    queues[0].close();
  })();
  const maps = [];
  for (let s = 0; s < stages; s++) {
    const input = queues[s];
    const output = queues[s + 1];
    maps.push((async () => {
      for (;;) {
        const v = await input.take();
        if (v === CLOSED) break;
        await output.put(v + 1);
      }
      output.close();
    })());
  }
  const sink = (async () => {
    const input = queues[stages];
    for (;;) {
      const v = await input.take();
      if (v === CLOSED) break;
      result.count++;
      result.sum += v;
    }
  })();
  await Promise.all([source, ...maps, sink]);
  return result;
}
