/**
 * A flow's allow list through the API (issue 18): `POST /flows` refuses a
 * graph whose file path is outside its `allow.files` (400 naming the
 * process and the path) or whose entry is outside the data folder, and a
 * created flow reads and writes only what it lists while it runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtins } from "../../src/components/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { flowApp } from "../../src/server/flow_app.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";

/** A flow app whose file components reach `<tmp>/data`, and its folder. */
function _setup() {
  const dir = mkdtempSync(join(tmpdir(), "weir-allow-"));
  const data = join(dir, "data");
  mkdirSync(join(data, "in"), { recursive: true });
  mkdirSync(join(data, "out"), { recursive: true });
  writeFileSync(join(data, "in", "a.txt"), "one\ntwo\n");
  writeFileSync(join(data, "secret.txt"), "secret\n");
  const components = builtins({ files: { root: data } });
  const metrics = new MetricsCollector();
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    registry: components,
    collector: metrics,
    drainTimeoutMs: 1000,
    log: () => {},
  });
  const app = flowApp({ flows, metrics, components });
  return {
    app,
    flows,
    data,
    async close() {
      await flows.close({ timeoutMs: 1000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The error messages of flow `id` until its state is `finished`. */
function _finished(flows: FlowManager, id: string): Promise<string[]> {
  const errors: string[] = [];
  return new Promise((resolve) => {
    const off = flows.subscribe(id, (e) => {
      if (e.type === "error") errors.push(e.message);
      if (e.type === "state" && e.state === "finished") {
        off();
        resolve(errors);
      }
    });
  });
}

const post = (body: string, type = "text/vnd.fbp"): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": type },
  body,
});

test("POST /flows refuses a path outside the flow's allow list with 400 naming the process and the path", async () => {
  const s = _setup();
  try {
    const res = await s.app.request(
      "/flows?id=bad",
      post(`# @allow files in/ out/report.txt
'secret.txt' -> path R(fs/ReadLines) out -> in W(fs/WriteLines)
'out/report.txt' -> path W
`),
    );
    assert.equal(res.status, 400);
    const body = await res.json() as { problems: { message: string }[] };
    assert.equal(body.problems.length, 1);
    assert.match(
      body.problems[0].message,
      /IIP for in-port "path" of "R" \(fs\/ReadLines\) is not valid: Cannot use file "secret.txt": it is not in this flow's allow list \(allow.files: "in\/", "out\/report.txt"\)/,
    );
    assert.deepEqual(s.flows.list(), []);

    const json = await s.app.request(
      "/flows?id=bad2",
      post(
        JSON.stringify({
          properties: { allow: { files: ["in/", "../"] } },
          processes: { R: { component: "fs/ReadLines" } },
          connections: [{
            data: "in/a.txt",
            tgt: { process: "R", port: "path" },
          }],
        }),
        "application/json",
      ),
    );
    assert.equal(json.status, 400);
    assert.match(
      (await json.json() as { problems: { message: string }[] }).problems[0]
        .message,
      /allow.files: Cannot use file "\.\.\/": it is outside the data folder/,
    );
    assert.deepEqual(s.flows.list(), []);
  } finally {
    await s.close();
  }
});

test("a flow created with an allow list reads and writes what it lists, and fails on a path outside it at run time", async () => {
  const s = _setup();
  try {
    const res = await s.app.request(
      "/flows?id=copy&start=false",
      post(`# @allow files in/ out/report.txt
'in/a.txt' -> path R(fs/ReadLines) out -> in W(fs/WriteLines)
'out/report.txt' -> path W
`),
    );
    assert.equal(res.status, 201, await res.clone().text());
    const finished = _finished(s.flows, "copy");
    await s.app.request("/flows/copy/start", { method: "POST" });
    assert.deepEqual(await finished, []);
    assert.equal(
      readFileSync(join(s.data, "out", "report.txt"), "utf8"),
      "one\ntwo\n",
    );

    // A path that arrives in a message: the process fails, nothing is read.
    const leak = await s.app.request(
      "/flows?id=leak&start=false",
      post(`# @allow files in/
'secret.txt' -> in R(fs/ReadFile) out -> in O(core/Drop)
`),
    );
    assert.equal(leak.status, 201);
    const done = _finished(s.flows, "leak");
    const started = await s.app.request("/flows/leak/start", {
      method: "POST",
    });
    assert.equal(started.status, 200, await started.clone().text());
    const errors = await done;
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(
      errors[0],
      /Cannot use file "secret.txt": it is not in this flow's allow list \(allow.files: "in\/"\)/,
    );
  } finally {
    await s.close();
  }
});
