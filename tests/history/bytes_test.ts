import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteWriter } from "../../src/history/_bytes.ts";
import { encodeSeriesRecord } from "../../src/history/series_file.ts";
import { beginRecord, endRecord } from "../../src/history/record_frame.ts";
import { KINDS } from "../../src/history/series_index.ts";

const STRINGS = [
  "",
  "plain ascii",
  '{"__name__":"weir_process_messages_total","flow":"flow000"}',
  "café",
  "é at start",
  "ends in é",
  "漢字とかな",
  "emoji 🚀 pair",
  "🚀",
  "lone high \ud800 here",
  "lone low \udc00",
  "ends with a lone high \ud83d",
  "\u007f\u0080\u07ff\u0800\uffff",
  "x".repeat(1000) + "ü" + "y".repeat(300),
];

test("ByteWriter.utf8() writes what TextEncoder.encode() gives, string after string, across the buffer's growth, and nothing of an earlier write after reset()", () => {
  const w = new ByteWriter(4);
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const s of STRINGS) {
    w.utf8(s);
    parts.push(encoder.encode(s));
  }
  const want = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    want.set(p, at);
    at += p.length;
  }
  assert.deepEqual(w.bytes(), want);
  w.reset();
  w.utf8("ab");
  assert.deepEqual(w.bytes(), encoder.encode("ab"));
});

test("encodeSeriesRecord() writes the bytes it wrote with an encoded copy of the labels' JSON", () => {
  const encoder = new TextEncoder();
  const sets: Record<string, string>[] = [
    { __name__: "x" },
    { __name__: "y", flow: "ü🚀\ud800" },
  ];
  for (const labels of sets) {
    const w = new ByteWriter();
    encodeSeriesRecord(w, { id: 300, kind: "gauge", labels });
    const before = new ByteWriter();
    const at = beginRecord(before);
    before.u8(3);
    before.varint(300);
    before.u8(KINDS.indexOf("gauge"));
    before.raw(encoder.encode(JSON.stringify(labels)));
    endRecord(before, at);
    assert.deepEqual(w.bytes(), before.bytes());
  }
});
