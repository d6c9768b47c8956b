/**
 * A range query's answer written as the query API's JSON body, in UTF-8
 * bytes, from the typed arrays it was gathered in (`RangeColumns`):
 * Prometheus's `{"status":"success","data":{"resultType":"matrix",
 * "result":[{"metric":{...},"values":[[<seconds>,"<value>"],...]},...]}}`,
 * the same text `JSON.stringify` makes of the `[t, v]` matrix. Why bytes:
 * the `[t, v]` arrays, the `[seconds, "value"]` arrays made of them and
 * the text took some 250 bytes a point together, more than the points
 * themselves; the bytes are some 25 a point, and nothing else is made for
 * a point whose time is whole ms and whose value an integer (written digit
 * by digit), two short strings for others (bench/RESULTS.md, session 33).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { _matrixJson } from "./_matrix_json.ts";
 *
 * const bytes = await _matrixJson({
 *   resultType: "matrix",
 *   columns: [{ metric: { job: "é" }, t: new Float64Array([1500]), v: new Float64Array([NaN]) }],
 * });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"é"},"values":[[1.5,"NaN"]]}]}}',
 * );
 * ```
 *
 * @module
 */
import type { RangeColumns } from "../history/promql/query.ts";
import { formatPointValue } from "./_prometheus_api.ts";
import { _nextTurn } from "../engine/_next_turn.ts";

const CHUNK_BYTES = 1 << 20;
/** Points written between two turns of the event loop: some 50 to 150 ms here. */
const POINTS_A_TURN = 1 << 18;
const _encoder = new TextEncoder();

/**
 * `r` as the query API's success answer, in UTF-8 bytes; the event loop
 * runs (`pause`) after each series that takes the points written since
 * the last pause past 262,144. A time is a finite number, which a template
 * writes as `JSON.stringify` does; a value is `formatPointValue`'s text (a
 * number's digits, "NaN", "+Inf", "-Inf": nothing JSON escapes).
 */
export async function _matrixJson(
  r: RangeColumns,
  pause: () => Promise<void> = _nextTurn,
): Promise<Uint8Array> {
  const w = new _Chunks();
  w.ascii('{"status":"success","data":{"resultType":"matrix","result":[');
  let sincePause = 0;
  for (let s = 0; s < r.columns.length; s++) {
    const { metric, t, v } = r.columns[s];
    w.text(
      `${s === 0 ? "" : ","}{"metric":${JSON.stringify(metric)},"values":[`,
    );
    for (let i = 0; i < t.length; i++) {
      w.ascii(i === 0 ? "[" : ",[");
      const ms = t[i];
      if (ms >= 0 && ms < 1e15 && Number.isInteger(ms)) w.seconds(ms);
      else w.ascii(String(ms / 1000));
      w.ascii(',"');
      const x = v[i];
      if (Number.isSafeInteger(x) && !Object.is(x, -0)) w.integer(x);
      else w.ascii(formatPointValue(x));
      w.ascii('"]');
    }
    w.ascii("]}");
    sincePause += t.length;
    if (sincePause >= POINTS_A_TURN) {
      sincePause = 0;
      await pause();
    }
  }
  w.ascii("]}}");
  return w.bytes();
}

/** Bytes written into chunks of 1 MiB, joined once at the end. */
class _Chunks {
  #full: Uint8Array[] = [];
  #fullBytes = 0;
  #chunk = new Uint8Array(CHUNK_BYTES);
  #n = 0;

  /** Writes `s`, whose code units are all below 128. */
  ascii(s: string): void {
    if (this.#n + s.length > this.#chunk.length) this.#next(s.length);
    const chunk = this.#chunk;
    let n = this.#n;
    for (let i = 0; i < s.length; i++) chunk[n++] = s.charCodeAt(i);
    this.#n = n;
  }

  /**
   * Writes a safe integer's digits, as `String(x)` writes them (no string
   * made: a point's strings were most of the garbage an answer made).
   */
  integer(x: number): void {
    if (this.#n + 17 > this.#chunk.length) this.#next(17);
    const chunk = this.#chunk;
    if (x < 0) {
      chunk[this.#n++] = 45; // "-"
      x = -x;
    }
    let digits = 1;
    for (let p = 10; p <= x; p *= 10) digits++;
    let at = this.#n + digits;
    this.#n = at;
    do {
      const q = Math.floor(x / 10);
      chunk[--at] = 48 + (x - 10 * q);
      x = q;
    } while (x > 0);
  }

  /**
   * Writes `ms / 1000` as `String()` does, for a whole `ms` from 0 below
   * 1e15: with at most 15 significant digits, the decimal is the shortest
   * text that reads back as that double, so it is the seconds, then `.`
   * and the milliseconds without their trailing zeros.
   */
  seconds(ms: number): void {
    const s = Math.floor(ms / 1000);
    let frac = ms - 1000 * s;
    this.integer(s);
    if (frac === 0) return;
    if (this.#n + 4 > this.#chunk.length) this.#next(4);
    const chunk = this.#chunk;
    chunk[this.#n++] = 46; // "."
    let width = 3;
    while (frac % 10 === 0) {
      frac /= 10;
      width--;
    }
    for (let d = width - 1, p = 10 ** d; d >= 0; d--, p /= 10) {
      const digit = Math.floor(frac / p);
      chunk[this.#n++] = 48 + digit;
      frac -= digit * p;
    }
  }

  /** Writes `s` as UTF-8 (a UTF-16 code unit is 3 bytes at most). */
  text(s: string): void {
    if (this.#n + 3 * s.length > this.#chunk.length) this.#next(3 * s.length);
    this.#n += _encoder.encodeInto(s, this.#chunk.subarray(this.#n)).written;
  }

  #next(need: number): void {
    this.#full.push(this.#chunk.subarray(0, this.#n));
    this.#fullBytes += this.#n;
    this.#chunk = new Uint8Array(Math.max(CHUNK_BYTES, need));
    this.#n = 0;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#fullBytes + this.#n);
    let at = 0;
    for (const c of this.#full) {
      out.set(c, at);
      at += c.length;
    }
    out.set(this.#chunk.subarray(0, this.#n), at);
    this.#full = [];
    return out;
  }
}
