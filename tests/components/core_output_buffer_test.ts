/**
 * `core/Output` and Node `Buffer`s: `mqtt/In` sends a bytes payload as a
 * `Buffer`, whose `toJSON()` would write `{"type":"Buffer","data":[...]}`.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { CoreOutput } from "../../src/components/core.ts";
import { runComponent } from "./_helpers.ts";

test("core/Output logs a Buffer as other bytes: its text alone, else an array of numbers", async () => {
  const logged: unknown[][] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  try {
    await runComponent(CoreOutput, {
      input: [
        Buffer.from("hi"),
        Buffer.from([0xff, 1]),
        { topic: "t", payload: Buffer.from([104, 105]), qos: 0 },
        { type: "Buffer", data: [1] },
      ],
    });
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, [
    ["hi"],
    ["[255,1]"],
    ['{"topic":"t","payload":[104,105],"qos":0}'],
    ['{"type":"Buffer","data":[1]}'],
  ]);
});
