import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, resolveLogFormat } from "../../src/cli/log.ts";

const T0 = Date.UTC(2026, 10, 23, 17, 5, 9, 42);

test("createLogger(): a JSON line per event with time, level, msg and the fields", () => {
  const lines: string[] = [];
  const log = createLogger({
    format: "json",
    write: (l) => lines.push(l),
    now: () => T0,
  });
  log.info('flow "a" created', { flow: "a", rev: 1 });
  log.error("it broke\non two lines");
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(lines[0]), {
    time: "2026-11-23T17:05:09.042Z",
    level: "info",
    msg: 'flow "a" created',
    flow: "a",
    rev: 1,
  });
  assert.equal(JSON.parse(lines[1]).msg, "it broke\non two lines");
  assert.ok(!lines[1].includes("\n"), "one line per event");
});

test("createLogger(): text lines read as time, level, message, key=value (fields the message holds left out)", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", write: (l) => lines.push(l) });
  log.warn("drain timed out", { flow: "a b", discarded: 3 });
  log.info("serving at http://127.0.0.1:9464", {
    url: "http://127.0.0.1:9464",
    db: "x.db",
  });
  assert.match(
    lines[1],
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}serving at http:\/\/127\.0\.0\.1:9464 db=x\.db$/,
  );
  assert.match(
    lines[0],
    /^\d\d:\d\d:\d\d\.\d{3} WARN {2}drain timed out flow="a b" discarded=3$/,
  );
});

test("createLogger(): a text line stays one line, whatever its message holds (a process named by a flow's graph)", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "text", write: (l) => lines.push(l) });
  log.error('process "P\n21:00:00.000 ERROR forged\r\u001b[2J" failed', {
    flow: "f\u001b[31m",
  });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^\d\d:\d\d:\d\d\.\d{3} ERROR process "P\\n21:00:00\.000 ERROR forged\\r\\u001b\[2J" failed flow="f\\u001b\[31m"$/,
  );
});

test("createLogger() writes nothing below its level", () => {
  const levels: string[] = [];
  const log = createLogger({
    level: "warn",
    format: "json",
    write: (l) => levels.push(JSON.parse(l).level),
  });
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  log.log("info", "i");
  assert.deepEqual(levels, ["warn", "error"]);
});

test("resolveLogFormat(): auto is text on a terminal and JSON elsewhere; an explicit format stays", () => {
  assert.equal(resolveLogFormat("auto", true), "text");
  assert.equal(resolveLogFormat("auto", false), "json");
  assert.equal(resolveLogFormat("json", true), "json");
  assert.equal(resolveLogFormat("text", false), "text");
});
