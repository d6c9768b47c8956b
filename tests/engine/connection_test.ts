import { test } from "node:test";
import assert from "node:assert/strict";
import { Connection } from "../../src/engine/connection.ts";
import { OverflowError } from "../../src/engine/errors.ts";
import type { OverflowPolicy } from "../../src/engine/spec.ts";

interface Proc {
  name: string;
}
const A: Proc = { name: "A" };
const B: Proc = { name: "B" };

/** A connection A.out -> B.in. */
function conn(capacity: number, policy: OverflowPolicy = "block") {
  return new Connection<Proc>(
    { proc: A, port: "out", index: -1 },
    { proc: B, port: "in", index: -1 },
    capacity,
    policy,
    false,
  );
}

/** Takes everything buffered, oldest first. */
function drain(c: Connection<Proc>): unknown[] {
  const out: unknown[] = [];
  while (c.count > 0) out.push(c.take(0));
  return out;
}

/** "settled" when `p` has settled by the time already-queued work ran, else "pending". */
function state(p: Promise<unknown>): Promise<string> {
  return Promise.race([
    p.then(() => "settled"),
    new Promise<string>((r) => setTimeout(() => r("pending"), 0)),
  ]);
}

test("Connection() refuses a capacity that is not a positive integer", () => {
  for (const capacity of [0, -1, 1.5, NaN]) {
    assert.throws(() => conn(capacity), RangeError);
  }
  assert.throws(() => conn(0), /B\.in: capacity must be a positive integer/);
});

test("Connection() refuses an unknown overflow policy", () => {
  assert.throws(
    () => conn(1, "sometimes" as OverflowPolicy),
    /policy must be one of block, drop-oldest, drop-newest, error/,
  );
});

test("Connection.offer() buffers while there is room", () => {
  const c = conn(3);
  assert.equal(c.offer("a", 0, 0), undefined);
  assert.equal(c.offer("b", 0, 0), undefined);
  assert.equal(c.count, 2);
  assert.deepEqual(c.values(), ["a", "b"]);
});

test("Connection.take() returns values in FIFO order", () => {
  const c = conn(4);
  for (const v of [1, 2, 3]) c.offer(v, 0, 0);
  assert.deepEqual(drain(c), [1, 2, 3]);
  assert.equal(c.delivered, 3);
});

test("Connection.take() keeps FIFO order across the end of the ring", () => {
  const c = conn(3);
  const got: unknown[] = [];
  // Interleaved, so the head and the tail wrap several times.
  for (let i = 0; i < 10; i++) {
    c.offer(i, 0, 0);
    c.offer(i + 100, 0, 0);
    got.push(c.take(0));
    got.push(c.take(0));
  }
  assert.deepEqual(
    got,
    Array.from({ length: 10 }, (_, i) => [i, i + 100]).flat(),
  );
  assert.equal(c.count, 0);
});

test("Connection.take() reports the origin of the value it returned", () => {
  const c = conn(2);
  c.offer("a", 7, 0);
  c.offer("b", 9, 0);
  c.take(0);
  assert.equal(c.takenOrigin, 7);
  c.take(0);
  assert.equal(c.takenOrigin, 9);
});

test("Connection.take() observes how long the value waited", () => {
  const c = conn(2);
  c.offer("a", 0, 1000);
  c.take(1250);
  const h = c.wait.snapshot();
  assert.equal(h.count, 1);
  assert.equal(h.sum, 0.25);
});

test("Connection.offer() drops the oldest when full (drop-oldest)", () => {
  const c = conn(2, "drop-oldest");
  for (const v of ["a", "b", "c"]) assert.equal(c.offer(v, 0, 0), undefined);
  assert.equal(c.count, 2);
  assert.equal(c.droppedOldest, 1);
  assert.deepEqual(drain(c), ["b", "c"]);
});

test("Connection.offer() keeps the newest values in order when it drops the oldest across the ring's end", () => {
  const c = conn(3, "drop-oldest");
  for (let i = 0; i < 8; i++) c.offer(i, i, 0);
  assert.equal(c.droppedOldest, 5);
  assert.deepEqual(drain(c), [5, 6, 7]);
  assert.equal(c.takenOrigin, 7);
});

test("Connection.offer() refuses the newest when full (drop-newest)", () => {
  const c = conn(2, "drop-newest");
  for (const v of ["a", "b", "c"]) assert.equal(c.offer(v, 0, 0), undefined);
  assert.equal(c.droppedNewest, 1);
  assert.deepEqual(drain(c), ["a", "b"]);
});

test("Connection.offer() throws an OverflowError when full (error)", () => {
  const c = conn(1, "error");
  c.offer("a", 0, 0);
  assert.throws(
    () => c.offer("b", 0, 0),
    (e) => e instanceof OverflowError && /A\.out -> B\.in/.test(e.message),
  );
  assert.equal(c.refused, 1);
  assert.deepEqual(drain(c), ["a"]);
});

test("Connection.offer() waits when full (block)", async () => {
  const c = conn(1);
  c.offer("a", 0, 0);
  const wait = c.offer("b", 0, 0);
  assert.ok(wait instanceof Promise);
  assert.equal(await state(wait), "pending");
  assert.equal(c.take(0), "a");
  assert.equal(await state(wait), "settled");
});

test("Connection.take() lets the oldest parked value into the freed slot", () => {
  const c = conn(2);
  c.offer(1, 0, 0);
  c.offer(2, 0, 0);
  void c.offer(3, 0, 0);
  void c.offer(4, 0, 0);
  assert.equal(c.pending.length, 2);
  assert.equal(c.take(0), 1);
  assert.equal(c.count, 2);
  assert.equal(c.pending.length, 1);
  assert.deepEqual(c.values(), [2, 3, 4]);
  assert.deepEqual(drain(c), [2, 3, 4]);
  assert.equal(c.pending.length, 0);
});

test("Connection.offer() never drops when it blocks", () => {
  const c = conn(1);
  c.offer("a", 0, 0);
  void c.offer("b", 0, 0);
  assert.deepEqual(
    [c.droppedOldest, c.droppedNewest, c.refused],
    [0, 0, 0],
  );
});

test("Connection.discard() counts buffered and parked values under its reason", () => {
  const c = conn(2);
  c.offer(1, 0, 0);
  c.offer(2, 0, 0);
  void c.offer(3, 0, 0);
  c.discard("stopped");
  assert.equal(c.droppedStopped, 3);
  assert.equal(c.droppedUnread, 0);
  assert.equal(c.count, 0);
  assert.equal(c.closed, true);
  assert.deepEqual(c.values(), []);
});

test("Connection.discard() releases the parked senders", async () => {
  const c = conn(1);
  c.offer(1, 0, 0);
  const wait = c.offer(2, 0, 0)!;
  c.discard("unread");
  await wait;
  assert.equal(c.pending.length, 0);
  assert.equal(c.droppedUnread, 2);
});

test("Connection.offer() drops what is sent after the receiver is gone as unread", () => {
  const c = conn(2);
  c.discard("unread");
  assert.equal(c.offer("late", 0, 0), undefined);
  assert.equal(c.droppedUnread, 1);
  assert.equal(c.count, 0);
});

test("Connection.offer() drops what is sent to a closed connection as stopped", () => {
  const c = conn(2);
  c.closed = true;
  c.offer("late", 0, 0);
  assert.equal(c.droppedStopped, 1);
  assert.equal(c.droppedUnread, 0);
});

test("Connection.discard() of an already closed connection counts as stopped what comes later", () => {
  const c = conn(2);
  c.closed = true;
  c.discard("unread");
  c.offer("late", 0, 0);
  assert.equal(c.droppedStopped, 1);
});

test("Connection counts each drop under its own reason", () => {
  const oldest = conn(1, "drop-oldest");
  const newest = conn(1, "drop-newest");
  const refusing = conn(1, "error");
  for (const c of [oldest, newest, refusing]) {
    c.offer(0, 0, 0);
    try {
      c.offer(1, 0, 0);
    } catch {
      // The error policy's refusal, counted below.
    }
  }
  const counts = (c: Connection<Proc>) => [
    c.droppedOldest,
    c.droppedNewest,
    c.refused,
    c.droppedUnread,
    c.droppedStopped,
  ];
  assert.deepEqual(counts(oldest), [1, 0, 0, 0, 0]);
  assert.deepEqual(counts(newest), [0, 1, 0, 0, 0]);
  assert.deepEqual(counts(refusing), [0, 0, 1, 0, 0]);
});

test("Connection holds its sender back only for block between two processes", () => {
  assert.equal(conn(1, "block").blocksSender, true);
  assert.equal(conn(1, "drop-oldest").blocksSender, false);
  const self = new Connection<Proc>(
    { proc: A, port: "out", index: -1 },
    { proc: A, port: "in", index: -1 },
    1,
    "block",
    false,
  );
  assert.equal(self.blocksSender, false);
  const iip = new Connection<Proc>(
    null,
    { proc: B, port: "in", index: -1 },
    1,
    "block",
    false,
  );
  assert.equal(iip.blocksSender, false);
});

test("Connection.backlog() counts buffered and parked values", () => {
  const c = conn(1);
  c.offer(1, 0, 0);
  void c.offer(2, 0, 0);
  assert.equal(c.backlog(), 2);
});

test("Connection.name() names both ends, or (initial) without a sender", () => {
  assert.equal(conn(1).name(), "A.out -> B.in");
  const iip = new Connection<Proc>(
    null,
    { proc: B, port: "in", index: -1 },
    1,
    "block",
    false,
  );
  assert.equal(iip.name(), "(initial) -> B.in");
});

test("Connection allocates a large capacity only as it fills (issue 18: 1e9 took the host to 2 GB)", () => {
  const c = conn(1e9);
  assert.ok(c.size <= 16, `starts with ${c.size} slots`);
  assert.equal(c.buf.length, c.size);
  for (let i = 0; i < 100; i++) assert.equal(c.offer(i, 0, 0), undefined);
  assert.ok(c.size >= 100 && c.size <= 256, `${c.size} slots for 100`);
  assert.deepEqual(drain(c), Array.from({ length: 100 }, (_, i) => i));
});

test("Connection grows a wrapped-around ring in FIFO order, then stops at its capacity", () => {
  const c = conn(40);
  let next = 0;
  let want = 0;
  // Wrap the 16-slot ring around before it grows.
  for (let i = 0; i < 12; i++) c.offer(next++, 0, 0);
  for (let i = 0; i < 10; i++) assert.equal(c.take(0), want++);
  for (let i = 0; i < 38; i++) assert.equal(c.offer(next++, 0, 0), undefined);
  assert.equal(c.count, 40);
  assert.equal(c.size, 40);
  // Full at its capacity: the block policy parks the next one.
  const parked = c.offer(next++, 0, 0);
  assert.ok(parked instanceof Promise);
  const rest = drain(c);
  assert.deepEqual(
    rest,
    Array.from({ length: next - want }, (_, i) => want + i),
  );
});

test("Connection with drop-oldest keeps the newest once grown to its capacity", () => {
  const c = conn(20, "drop-oldest");
  for (let i = 0; i < 25; i++) c.offer(i, 0, 0);
  assert.equal(c.droppedOldest, 5);
  assert.deepEqual(drain(c), Array.from({ length: 20 }, (_, i) => 5 + i));
});
