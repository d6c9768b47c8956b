/**
 * Error messages quote an excerpt of a value, never a whole payload; the
 * error keeps the whole value for code that handles it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { defineComponent } from "../../src/engine/component.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { excerpt } from "../../src/engine/excerpt.ts";
import type { FlowEvent } from "../../src/flows/flow_info.ts";
import { FlowManager } from "../../src/flows/flow_manager.ts";
import { FlowStore } from "../../src/flows/flow_store.ts";
import { network, sinkInto, sourceOf } from "./_helpers.ts";

test("excerpt() keeps a short text, and cuts a long one to 200 characters with its length", () => {
  assert.equal(excerpt("a".repeat(200)), "a".repeat(200));
  assert.equal(
    excerpt("b".repeat(250_000)),
    `${"b".repeat(200)}... (250,000 characters)`,
  );
  // A surrogate pair is not cut in two.
  assert.equal(excerpt(`x${"😀".repeat(10)}`, 4), "x😀... (21 characters)");
});

test("a process that throws a whole payload (an Error or a bare string) fails with an excerpt in its message, and the whole value in input", async () => {
  const payload = "secret-line\n".repeat(20_000);
  const errs: ProcessError[] = [];
  const Thrower = defineComponent({
    name: "test/Thrower",
    description: "Throws its input, as an Error and as itself.",
    inPorts: { in: {} },
    outPorts: { error: {} },
    process(v) {
      if (typeof v === "string" && v.startsWith("s")) throw new Error(v);
      throw `x${v}`;
    },
  });
  const net = network(
    { S: sourceOf([payload, payload.slice(1)]), T: Thrower, E: sinkInto(errs) },
    ["S.out>T.in", "T.error>E.in"],
  );
  await net.start();
  await net.finished;
  assert.equal(errs.length, 2);
  for (const e of errs) {
    assert.ok(e.message.length < 300, `${e.message.length} characters`);
    assert.match(e.message, /\.\.\. \(240,000 characters\)$/);
  }
  assert.equal(errs[0].input, payload);
});

test("a flow that reads a file and uses its text as a path logs and streams an excerpt of the text, not the file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-excerpt-"));
  const secret = join(dir, "secret.txt");
  const tail = "THE-END-OF-THE-SECRET";
  writeFileSync(
    secret,
    `${"root:$6$xyz:19000:0:99999:7:::\n".repeat(400)}${tail}`,
  );
  const logged: string[] = [];
  const flows = new FlowManager({
    store: FlowStore.open(":memory:"),
    // The file is inside the data folder; the text it holds, used as a
    // path by R2, names no file there.
    registry: builtins({ files: { root: dir } }),
    log: (message) => logged.push(message),
  });
  const events: FlowEvent[] = [];
  try {
    await flows.create({
      id: "leak",
      format: "fbp",
      text:
        `'${secret}' -> in R1(fs/ReadFile) out -> in R2(fs/ReadFile) out -> in D(core/Drop)`,
      start: false,
    });
    const off = flows.subscribe("leak", (e) => events.push(e));
    await flows.start("leak");
    const deadline = Date.now() + 10_000;
    while (!events.some((e) => e.type === "error") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    off();
    const errors = events.filter((e) => e.type === "error");
    assert.ok(errors.length > 0, JSON.stringify(events));
    const all = [...logged, ...errors.map((e) => JSON.stringify(e))];
    for (const line of all) {
      assert.ok(
        !line.includes(tail),
        `the whole file in: ${line.slice(0, 100)}`,
      );
      assert.ok(line.length < 1000, `${line.length} characters`);
    }
    assert.match(
      logged.find((l) => l.includes("R2")) ?? "",
      /cannot read "root:\$6\$xyz.*\.\.\. \(\d{2},\d{3} characters\)"/,
    );
  } finally {
    await flows.close({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
});
