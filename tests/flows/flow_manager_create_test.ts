/**
 * FlowManager.create(): ids, validation, start or not, and failures that change nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphError } from "../../src/graph/graph_error.ts";
import { FlowConflictError, FlowStartError } from "../../src/flows/errors.ts";
import {
  grows,
  harness,
  NO_START,
  operations,
  rejects,
  SLOW,
  snapshot,
  ticking,
} from "./_harness.ts";

test(
  "FlowManager.create() builds, starts, stores and tracks a flow named by its id",
  SLOW,
  async () => {
    const h = await harness();
    const info = await h.flows.create({
      id: "ticks",
      text: ticking(),
      format: "fbp",
    });
    assert.equal(info.id, "ticks");
    assert.equal(info.rev, 1);
    assert.equal(info.running, true);
    assert.equal(info.state, "running");
    assert.equal(info.format, "fbp");
    assert.equal(info.processes, 2);
    assert.equal(info.error, undefined);
    assert.equal(new Date(info.createdAt).toISOString(), info.createdAt);
    await grows(h.got);
    const stored = h.store.get("ticks")!;
    assert.equal(stored.text, ticking());
    assert.equal(stored.running, true);
    assert.deepEqual(h.collector.flows, ["ticks"]);
    assert.equal(h.flows.stats("ticks").name, "ticks");
    assert.deepEqual(h.flows.list().map((f) => f.id), ["ticks"]);
    assert.equal(h.flows.get("ticks").rev, 1);
    const source = h.flows.source("ticks");
    assert.equal(source.text, ticking());
    assert.equal(source.graph.processes?.Sink.component, "test/Sink");
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    await h.flows.close();
  },
);

test(
  "FlowManager.create() takes the id from input.id, else properties.name, else makes one",
  SLOW,
  async () => {
    const h = await harness();
    const named = await h.flows.create({
      text: `# @name sensors\n${ticking()}`,
      format: "fbp",
      start: false,
    });
    assert.equal(named.id, "sensors");
    const given = await h.flows.create({
      id: "given.id_1-x",
      text: `# @name sensors\n${ticking()}`,
      format: "fbp",
      start: false,
    });
    assert.equal(given.id, "given.id_1-x");
    const made = await h.flows.create({
      text: ticking(),
      format: "fbp",
      start: false,
    });
    assert.match(made.id, /^flow-[0-9a-f]{8}$/);
    const before = snapshot(h);
    for (const id of ["", "-lead", "has space", "a/b", "x".repeat(129)]) {
      await rejects(
        h.flows.create({ id, text: ticking(), format: "fbp" }),
        RangeError,
        (e) => assert.match(e.message, /Cannot create flow: an id is 1 to 128/),
      );
    }
    await rejects(
      h.flows.create({
        text: `# @name has space\n${ticking()}`,
        format: "fbp",
      }),
      RangeError,
      (e) => assert.match(e.message, /properties\.name.*; give an id/),
    );
    assert.deepEqual(snapshot(h), before);
    await h.flows.close();
  },
);

test(
  "FlowManager.create() quotes an id or properties.name of a megabyte as an excerpt that says its length",
  SLOW,
  async () => {
    // The whole of it was quoted: a 900,000-character name made an error
    // of 900 KB, that the flow API answered.
    const h = await harness();
    const long = "x".repeat(900_000);
    const quoted = `"${"x".repeat(200)}... (900,000 characters)"`;
    await rejects(
      h.flows.create({ id: long, text: ticking(), format: "fbp" }),
      RangeError,
      (e) =>
        assert.equal(
          e.message,
          `Cannot create flow: an id is 1 to 128 letters, digits, "_", "." or "-", starting with a letter or digit, received ${quoted}`,
        ),
    );
    await rejects(
      h.flows.create({ text: `# @name ${long}\n${ticking()}`, format: "fbp" }),
      RangeError,
      (e) =>
        assert.equal(
          e.message,
          `Cannot create flow: its id would be the graph's properties.name, but an id is 1 to 128 letters, digits, "_", "." or "-", starting with a letter or digit, received ${quoted}; give an id`,
        ),
    );
    assert.deepEqual(h.flows.list(), []);
    await h.flows.close();
  },
);

test(
  "FlowManager.create() failures leave the flows and the database unchanged",
  SLOW,
  async () => {
    const h = await harness();
    await h.flows.create({ id: "taken", text: ticking(), format: "fbp" });
    await h.flows.create({
      id: "idle",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    const before = snapshot(h);
    await rejects(
      h.flows.create({ id: "new", text: "A(no/Such)", format: "fbp" }),
      GraphError,
      (e) =>
        assert.match(e.problems[0].message, /unknown component "no\/Such"/),
    );
    await rejects(
      h.flows.create({ id: "new", text: "{ not json", format: "json" }),
      GraphError,
    );
    await rejects(
      h.flows.create({ id: "taken", text: ticking(), format: "fbp" }),
      FlowConflictError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.equal(e.actualRev, 1);
        assert.match(
          e.message,
          /Cannot create flow "taken": a flow with that id exists/,
        );
      },
    );
    await rejects(
      h.flows.create({ id: "new", text: NO_START, format: "fbp" }),
      FlowStartError,
      (e) => {
        assert.equal("status" in e, false, "no HTTP status in the domain");
        assert.equal(e.name, "FlowStartError");
        assert.match(e.message, /did not start: .*no device at \/dev\/ttyUSB0/);
        assert.ok(e.cause instanceof Error);
      },
    );
    await rejects(
      h.flows.create({
        id: "new",
        text: ticking(),
        format: "yaml" as "json",
      }),
      RangeError,
      (e) =>
        assert.match(
          e.message,
          /format must be "json" or "fbp", received "yaml"/,
        ),
    );
    await rejects(
      h.flows.create({
        id: "new",
        text: 42 as unknown as string,
        format: "fbp",
      }),
      TypeError,
    );
    await rejects(
      h.flows.create({
        id: "new",
        text: ticking(),
        format: "fbp",
        start: "yes" as unknown as boolean,
      }),
      TypeError,
    );
    await grows(h.got);
    assert.deepEqual(snapshot(h), before);
    assert.deepEqual(await operations(h.collector), {
      "create success": 2,
      "create error": 7,
    });
    await h.flows.close();
  },
);

test(
  "FlowManager.create({ start: false }) stores a flow that does not run until start()",
  SLOW,
  async () => {
    const h = await harness();
    const info = await h.flows.create({
      id: "later",
      text: ticking(),
      format: "fbp",
      start: false,
    });
    assert.equal(info.state, "created");
    assert.equal(info.running, false);
    assert.equal(h.store.get("later")?.running, false);
    assert.deepEqual(h.flows.readiness(), { ready: true, reasons: [] });
    const started = await h.flows.start("later");
    assert.equal(started.state, "running");
    assert.equal(started.running, true);
    assert.equal(started.rev, 2);
    assert.equal(h.store.get("later")?.running, true);
    await grows(h.got);
    // Starting a running flow changes nothing.
    assert.equal((await h.flows.start("later")).rev, 2);
    await h.flows.close();
  },
);
