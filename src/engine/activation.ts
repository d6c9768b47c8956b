/**
 * The "current activation" marker: which process's code the event loop is
 * running now, kept where another thread can read it while this one is
 * blocked (a stall watchdog on a `Worker`, see `flows/stall_watchdog.ts`).
 *
 * The marker is one cell of a `SharedArrayBuffer`: the network writes a
 * process's id into it around the synchronous part of each activation (and
 * of `setup`, `flush`, control handlers and a loop's first step), and puts
 * the previous one back after, so nested hand-overs are named innermost
 * first. A plain typed-array store: no call, no allocation, no atomics on
 * the hot path (bench/versus.ts --same-process measures it).
 *
 * A watchdog that sees the marker unchanged through a stall flips it to
 * the negative id (`Atomics.compareExchange`): when the activation returns,
 * the network sees that its id is no longer there and reports the stall
 * (`Network.on("stall")`). What runs after an `await` of a process (an
 * asynchronous continuation) is not marked: it cannot be told apart from
 * the host's own work without a cost on every promise.
 *
 * @module
 */

/** Slots of {@linkcode activationCells}. */
const CURRENT = 0;

const _buffer = new SharedArrayBuffer(24);

/**
 * The shared cells: `[0]` the id of the process whose activation runs now
 * (0: none; negative: a watchdog found it stalled). The stall's start
 * (epoch ms) is in {@linkcode stallSince}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationCells } from "./activation.ts";
 *
 * assert.equal(activationCells[0], 0); // nothing runs between activations
 * assert.ok(activationCells.buffer instanceof SharedArrayBuffer);
 * ```
 */
export const activationCells: Int32Array = new Int32Array(_buffer, 0, 2);

/**
 * When a watchdog saw the stall begin (epoch ms: when it last knew the loop
 * turned, or its look before the activation began), written before it
 * flips the marker; 0 when unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stallSince } from "./activation.ts";
 *
 * assert.equal(stallSince.length, 1);
 * ```
 */
export const stallSince: Float64Array = new Float64Array(_buffer, 8, 1);

/**
 * When a network last took up work from the event loop (epoch ms): written
 * once per entry from the event loop (a macrotask) and every 128
 * activations, so that a watchdog does not count the time before an
 * activation (the main thread busy elsewhere, or not scheduled) against
 * it; and by the server's periodic work ({@linkcode noteLoopTurn}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aliveAt } from "./activation.ts";
 *
 * assert.equal(aliveAt.length, 1);
 * ```
 */
export const aliveAt: Float64Array = new Float64Array(_buffer, 16, 1);

/**
 * Says that a macrotask of the server's own periodic work (a sampling
 * tick) begins now: the loop turned, and a watchdog that reads
 * {@linkcode aliveAt} needs no ping of its own to know it (an idle server
 * then wakes once for both). Call it first thing in the timer's callback:
 * only the start of a macrotask proves that the loop turned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aliveAt, noteLoopTurn } from "./activation.ts";
 *
 * const before = Date.now();
 * noteLoopTurn();
 * assert.ok(aliveAt[0] >= before);
 * ```
 */
export function noteLoopTurn(): void {
  aliveAt[0] = Date.now();
}

let _nextId = 0;

/**
 * A new process id for the marker: 1, 2, ... (wrapping before 2^31, so it
 * stays a positive 32-bit integer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextActivationId } from "./activation.ts";
 *
 * const a = nextActivationId();
 * assert.ok(a > 0 && nextActivationId() !== a);
 * ```
 */
export function nextActivationId(): number {
  _nextId = _nextId >= 0x7fff_fffe ? 1 : _nextId + 1;
  return _nextId;
}

/**
 * Runs `fn` marked as an activation of process `id` (for the paths off the
 * per-message one: setup, flush, controls, a loop's start, guarded
 * activations) and returns what it returns; when a watchdog found it
 * stalled meanwhile, `stalled` is called once it returned (or threw). The
 * previous marker is put back either way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { activationCells, marked } from "./activation.ts";
 *
 * let seen = 0;
 * let stalled = false;
 * const r = marked(7, () => {
 *   seen = activationCells[0];
 *   return "done";
 * }, () => (stalled = true));
 * assert.deepEqual([seen, r, stalled, activationCells[0]], [7, "done", false, 0]);
 * ```
 */
export function marked<T>(id: number, fn: () => T, stalled: () => void): T {
  const cells = activationCells;
  const prev = cells[CURRENT];
  cells[CURRENT] = id;
  try {
    return fn();
  } finally {
    const flipped = cells[CURRENT] !== id;
    cells[CURRENT] = prev;
    if (flipped) stalled();
  }
}
