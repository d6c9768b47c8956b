/**
 * Lifecycle: a network starts once and tells its state changes to its
 * listeners.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inportNet, network, sinkInto, sourceOf } from "./_helpers.ts";

test("Network.start() rejects a network that has already run", async () => {
  const net = network({ K: sinkInto([]) }, []);
  await net.start();
  await net.finished;
  await assert.rejects(net.start(), /it is finished; build a new Network/);
});

test("Network emits each state change to its listeners: running, then finished", async () => {
  const states: string[] = [];
  const net = network({ S: sourceOf([1]), K: sinkInto([]) }, ["S.out>K.in"]);
  net.on("state", (s) => states.push(s));
  await net.start();
  await net.finished;
  assert.deepEqual(states, ["running", "finished"]);
});

test("Network.on() returns a function that unsubscribes the listener", async () => {
  const states: string[] = [];
  const net = inportNet([]);
  const off = net.on("state", (s) => void states.push(s));
  await net.start();
  off();
  off();
  await net.stop();
  assert.deepEqual(states, ["running"]);
});
