/**
 * A flow's events as server-sent events.
 *
 * @module
 */
import type { FlowEvent } from "../flows/flow_info.ts";
import type { FlowManager } from "../flows/flow_manager.ts";

/** Bytes of events queued for a client before snapshots are skipped. */
const SSE_HIGH_WATER_BYTES = 64 * 1024;
/** Bytes queued beyond that before a client that does not read is cut off. */
const SSE_BACKLOG_BYTES = 1024 * 1024;

/**
 * Server-sent events of one flow: `state`, `error`, `replaced`,
 * `deleted` (then the stream ends) and a `stats` snapshot every `everyMs`.
 */
export function _eventStream(
  flows: FlowManager,
  id: string,
  everyMs: number,
  signal: AbortSignal | undefined,
): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const end = () => {
        stop();
        try {
          controller.close();
        } catch { /* closed already */ }
      };
      const send = (event: string, data: unknown) => {
        if (!open) return;
        // A client that stops reading must not make the server buffer
        // without bound: past the allowance it is cut off (its `retry`
        // brings it back when it reads again).
        if ((controller.desiredSize ?? 0) < -SSE_BACKLOG_BYTES) return end();
        try {
          controller.enqueue(
            encoder.encode(
              `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
            ),
          );
        } catch {
          stop();
        }
      };
      const stats = () => {
        // A snapshot only when the last one has been taken: the next one
        // supersedes it, so a slow client skips snapshots instead of
        // queueing them (each can be megabytes for a big flow).
        if ((controller.desiredSize ?? 0) <= 0) return;
        try {
          send("stats", flows.stats(id));
        } catch {
          // The flow is gone: its `deleted` event closes the stream.
        }
      };
      const unsubscribe = flows.subscribe(id, (e: FlowEvent) => {
        const { type, ...data } = e;
        send(type, data);
        if (type === "deleted") end();
      });
      const timer = setInterval(stats, everyMs);
      signal?.addEventListener("abort", end, { once: true });
      stop = () => {
        if (!open) return;
        open = false;
        clearInterval(timer);
        unsubscribe();
        signal?.removeEventListener("abort", end);
      };
      if (signal?.aborted) return end();
      // A retry hint, the current state and a first snapshot at once.
      controller.enqueue(
        encoder.encode(`retry: ${Math.max(everyMs, 1000)}\n\n`),
      );
      send("state", { state: flows.get(id).state });
      stats();
    },
    cancel() {
      stop();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: SSE_HIGH_WATER_BYTES }));
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    },
  });
}
