/**
 * The dashboard's event streams (`src/ui/sse.ts`): events split across
 * chunks however they come, and reconnects that wait longer while the
 * server is away.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MAX_RETRY_MS,
  retryDelay,
  type SseEvent,
  SseParser,
} from "../../src/ui/sse_parser.ts";

test("SseParser joins events cut anywhere, with LF, CRLF or CR line ends", () => {
  const text =
    'retry: 1000\r\n\r\nevent: stats\ndata: {"a":1}\n\n: keep-alive\r\rdata: x\rdata: y\r\n\r\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const p = new SseParser();
    const got: SseEvent[] = [];
    p.push(text.slice(0, cut), (e) => got.push(e));
    p.push(text.slice(cut), (e) => got.push(e));
    assert.deepEqual(got, [
      { event: "stats", data: '{"a":1}' },
      { event: "message", data: "x\ny" },
    ], `cut at ${cut}`);
    assert.equal(p.retryMs, 1000);
  }
});

test("SseParser reads a long line that comes in many small chunks", () => {
  const p = new SseParser();
  const got: SseEvent[] = [];
  const data = "x".repeat(300_000);
  const text = `event: stats\ndata: ${data}\n\n`;
  for (let i = 0; i < text.length; i += 1000) {
    p.push(text.slice(i, i + 1000), (e) => got.push(e));
  }
  assert.equal(got.length, 1);
  assert.equal(got[0].data.length, data.length);
});

test("SseParser.reset() drops the half event of a connection that broke, and keeps the retry hint", () => {
  const p = new SseParser();
  const got: SseEvent[] = [];
  p.push('retry: 500\n\nevent: stats\ndata: {"cut', (e) => got.push(e));
  p.reset();
  p.push("event: state\ndata: {}\n\n", (e) => got.push(e));
  assert.deepEqual(got, [{ event: "state", data: "{}" }]);
  assert.equal(p.retryMs, 500);
});

test("retryDelay: the server's hint after a stream that brought events, then twice as long per quiet attempt, at most MAX_RETRY_MS", () => {
  assert.equal(retryDelay(1000, 0), 1000);
  let last = 0;
  for (let tries = 1; tries <= 30; tries++) {
    const ms = retryDelay(1000, tries);
    const full = Math.min(MAX_RETRY_MS, 1000 * 2 ** tries);
    assert.ok(ms <= full && ms >= full * 0.8, `${tries}: ${ms}`);
    last = ms;
  }
  assert.ok(last >= MAX_RETRY_MS * 0.8);
});
