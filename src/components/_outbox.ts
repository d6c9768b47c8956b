/**
 * Output that comes due with time as well as with messages, for
 * `flow/Window` (windows that close on the clock) and `flow/Join` (groups
 * that time out): one timer for the earliest deadline, sends in order
 * with back pressure, and failures of timer sends reported as they fail,
 * since a timer callback has no one to throw to.
 *
 * @module
 */
import { _clearTimer, _setTimer, type _Timer } from "./_timer.ts";

/** What an {@linkcode _Outbox} asks of its component. */
export interface _OutboxHooks {
  /** Sends one value on the component's output. */
  send(value: unknown): void | Promise<void>;
  /**
   * Reports a value that a timer (or {@linkcode _Outbox.push}) could not
   * send, with why: `ctx.report(error, value)`, as a failed activation is.
   */
  report(error: unknown, value: unknown): void;
  /** Takes out (and forgets) what is due at `now`, in the order to send it. */
  due(now: number): unknown[];
  /** The next deadline (ms, on the clock of `now`), `Infinity` for none. */
  next(): number;
  /** The clock (ms); `Date.now` unless a test gives another. */
  now(): number;
}

/**
 * The timer and the sends of one process. Everything it sends goes out in
 * order: an activation waits for the sends a timer started (back
 * pressure), and a timer that fires while sends are pending runs once
 * they are done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _Outbox } from "./_outbox.ts";
 *
 * const sent: unknown[] = [];
 * const reported: unknown[] = [];
 * let deadline = Infinity;
 * const box = new _Outbox({
 *   send: (v) => void sent.push(v),
 *   report: (error) => void reported.push(error),
 *   due: (now) => (now >= deadline ? ((deadline = Infinity), ["late"]) : []),
 *   next: () => deadline,
 *   now: () => Date.now(),
 * });
 * box.activation(() => {
 *   deadline = Date.now() + 5;
 *   return ["now"];
 * });
 * await new Promise((r) => setTimeout(r, 30));
 * assert.deepEqual(sent, ["now", "late"]);
 * assert.deepEqual(reported, []);
 * box.stop();
 * ```
 */
export class _Outbox {
  readonly #hooks: _OutboxHooks;
  /** Sends a timer started that have not completed; never rejects. */
  #waiting: Promise<void> | undefined;
  #timer: _Timer | undefined;
  #timerAt = Infinity;
  #stopped = false;

  /** An outbox for one process. */
  constructor(hooks: _OutboxHooks) {
    this.#hooks = hooks;
  }

  /**
   * Runs `work` (which changes the component's state and returns what to
   * send now) once earlier sends are done, re-arms the timer and sends;
   * returns what the activation awaits, which fails as its own sends do.
   */
  activation(work: () => unknown[]): void | Promise<void> {
    const waiting = this.#waiting;
    if (waiting !== undefined) return waiting.then(() => this.activation(work));
    const outputs = work();
    this.arm();
    const sent = this.#sendAll(outputs, 0);
    // A timer that fires meanwhile waits too: its output must not overtake
    // the rest of these sends.
    if (sent !== undefined) this.#hold(sent);
    return sent;
  }

  /**
   * Makes later sends wait for `sent`; the activation it belongs to gets
   * its failure, so the wait itself never rejects.
   */
  #hold(sent: Promise<void>): void {
    const waiting: Promise<void> = sent.then(
      () => {
        if (this.#waiting === waiting) this.#waiting = undefined;
      },
      () => {
        if (this.#waiting === waiting) this.#waiting = undefined;
      },
    );
    this.#waiting = waiting;
  }

  /** (Re-)arms the timer for the hooks' next deadline; clears it when none. */
  arm(): void {
    if (this.#stopped) return;
    const at = this.#hooks.next();
    if (at === Infinity) {
      _clearTimer(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    // A timer already due no later fires, finds nothing or less, re-arms.
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    _clearTimer(this.#timer);
    this.#timerAt = at;
    // At least 1 ms: a timer that fired a little early waits for the deadline.
    const delay = Math.max(1, Math.ceil(at - this.#hooks.now()));
    this.#timer = _setTimer(() => this.#onTimer(), delay);
  }

  /**
   * Sends `values` from outside an activation (a control that changed),
   * after whatever is pending, as a timer's output goes: each value that
   * fails is reported.
   */
  push(values: unknown[]): void {
    if (values.length === 0) return;
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#hold(waiting.then(() => this.#sendReported(values, 0)));
      return;
    }
    const sent = this.#sendReported(values, 0);
    if (sent !== undefined) this.#hold(sent);
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#stopped) return;
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      waiting.then(() => {
        if (this.#timer === undefined && this.#waiting === undefined) {
          this.#onTimer();
        }
      });
      return;
    }
    const outputs = this.#hooks.due(this.#hooks.now());
    const sent = this.#sendReported(outputs, 0);
    if (sent !== undefined) this.#hold(sent);
    this.arm();
  }

  /**
   * At the end of the input: once earlier sends are done, sends what
   * `rest` returns (everything still open) and stops the timer.
   */
  flush(rest: () => unknown[]): void | Promise<void> {
    const waiting = this.#waiting;
    if (waiting !== undefined) return waiting.then(() => this.flush(rest));
    this.stop();
    return this.#sendAll(rest(), 0);
  }

  /** Stops the timer for good (teardown). */
  stop(): void {
    this.#stopped = true;
    _clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #sendAll(values: unknown[], from: number): void | Promise<void> {
    for (let i = from; i < values.length; i++) {
      const r = this.#hooks.send(values[i]);
      if (r !== undefined) return r.then(() => this.#sendAll(values, i + 1));
    }
  }

  /**
   * Sends `values` in order from outside an activation: a value that
   * cannot go (a full connection whose policy is `error`, a send that
   * fails later) is reported as it fails, and the rest go on. Never
   * rejects.
   */
  #sendReported(values: unknown[], from: number): void | Promise<void> {
    for (let i = from; i < values.length; i++) {
      const value = values[i];
      let r: void | Promise<void>;
      try {
        r = this.#hooks.send(value);
      } catch (error) {
        this.#hooks.report(error, value);
        continue;
      }
      if (r !== undefined) {
        return r.then(
          () => this.#sendReported(values, i + 1),
          (error: unknown) => {
            this.#hooks.report(error, value);
            return this.#sendReported(values, i + 1);
          },
        );
      }
    }
  }
}
