/**
 * A flow's allow list (issue 18): `properties.allow.files` (or
 * `# @allow files ...`) narrows what the flow's file components reach,
 * inside the data folder and never beyond it, at validation (an IIP path
 * outside the list is a problem naming the process and the path) and at
 * run time (a path arriving in a message fails the process); a flow
 * without the property reaches all of the data folder, as before.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inTempDir } from "./_helpers.ts";
import { builtins, FileSandbox } from "../../src/components/mod.ts";
import type { ProcessError } from "../../src/engine/errors.ts";
import { createNetwork } from "../../src/embed.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { defineSubgraph } from "../../src/graph/subgraph.ts";
import { finishedWithin } from "./_helpers.ts";
import type { Registry } from "../../src/engine/registry.ts";

function _data(dir: string): string {
  const data = join(dir, "data");
  mkdirSync(join(data, "in", "deep"), { recursive: true });
  mkdirSync(join(data, "out"), { recursive: true });
  mkdirSync(join(data, "private"), { recursive: true });
  writeFileSync(join(data, "in", "a.txt"), "a\n");
  writeFileSync(join(data, "in", "deep", "b.txt"), "b\n");
  writeFileSync(join(data, "private", "key.txt"), "secret\n");
  writeFileSync(join(dir, "outside.txt"), "outside\n");
  return data;
}

const problems = (text: string, registry: Registry) =>
  validateGraph(loadGraph(text), registry).map((p) =>
    `${p.line ?? ""}:${p.message}`
  );

/** Runs `text` to its end: its final state and its processes' errors. */
async function _run(text: string, registry: Registry) {
  const net = createNetwork(text, { registry });
  const errors: ProcessError[] = [];
  net.on("error", (e) => errors.push(e));
  await net.start();
  const state = await finishedWithin(net, 5000);
  return { state, errors: errors.map((e) => `${e.process}: ${e.message}`) };
}

test("an IIP path outside the flow's allow list is a validation problem naming the process and the path", async () => {
  await inTempDir((dir) => {
    const registry = builtins({ files: { root: _data(dir) } });
    const text = `# @allow files in/ out/report.csv
'in/a.txt' -> path A(fs/ReadLines)
'in/deep/b.txt' -> path B(fs/ReadLines)
'private/key.txt' -> path C(fs/ReadLines)
'out/report.csv' -> path W(fs/WriteLines)
'out/other.csv' -> path X(fs/WriteLines)
'x' -> in W
'x' -> in X
`;
    assert.deepEqual(problems(text, registry), [
      `4:IIP for in-port "path" of "C" (fs/ReadLines) is not valid: Cannot use file "private/key.txt": it is not in this flow's allow list (allow.files: "in/", "out/report.csv")`,
      `6:IIP for in-port "path" of "X" (fs/WriteLines) is not valid: Cannot use file "out/other.csv": it is not in this flow's allow list (allow.files: "in/", "out/report.csv")`,
    ]);
  });
});

test("the same paths in JSON's properties.allow, and a graph without allow reaches all of the data folder", async () => {
  await inTempDir((dir) => {
    const registry = builtins({ files: { root: _data(dir) } });
    const graph = (allow?: unknown) =>
      JSON.stringify({
        properties: allow === undefined ? {} : { allow },
        processes: { C: { component: "fs/ReadLines" } },
        connections: [{
          data: "private/key.txt",
          tgt: { process: "C", port: "path" },
        }],
      });
    assert.deepEqual(problems(graph(), registry), []);
    assert.deepEqual(problems(graph({ files: ["private"] }), registry), []);
    assert.match(
      problems(graph({ files: ["in/"] }), registry).join("\n"),
      /"C" \(fs\/ReadLines\) is not valid: Cannot use file "private\/key.txt": it is not in this flow's allow list/,
    );
    // A kind left out allows nothing of it.
    assert.match(
      problems(graph({ hosts: ["example.com"] }), registry).join("\n"),
      /not in this flow's allow list \(allow.files: none\)/,
    );
    // The data folder's own limits still hold.
    assert.match(
      problems(graph({ files: ["."] }), registry).join("\n") +
        problems(
          graph({ files: ["."] }).replace("private/key.txt", "../outside.txt"),
          registry,
        ).join("\n"),
      /outside the data folder/,
    );
  });
});

test("an allow entry outside the data folder is a problem: the list narrows, never widens", async () => {
  await inTempDir((dir) => {
    const data = _data(dir);
    const registry = builtins({
      files: { root: data, deny: [join(data, "private")] },
    });
    const text = `# @allow files in/ ../ /etc private/
'in/a.txt' -> path A(fs/ReadLines)
`;
    const found = problems(text, registry);
    assert.equal(found.length, 3, found.join("\n"));
    assert.match(
      found[0],
      /^1:allow.files: Cannot use file "\.\.\/": it is outside the data folder/,
    );
    assert.match(
      found[1],
      /^1:allow.files: Cannot use file "\/etc": it is outside the data folder/,
    );
    assert.match(
      found[2],
      /^1:allow.files: Cannot use file "private\/": it is off-limits to flows/,
    );
  });
});

test("the shape of allow is checked: an object of lists of strings, of the kinds files, hosts and exec", () => {
  const registry = builtins();
  const bad = (allow: unknown) =>
    problems(
      JSON.stringify({
        properties: { allow },
        processes: { D: { component: "core/Drop" } },
      }),
      registry,
    );
  assert.deepEqual(bad(["in/"]), [
    '1:allow must be an object of lists, as { "files": ["in/", "out/report.csv"] }, received array of 1',
  ]);
  assert.deepEqual(bad({ file: ["in/"] }), [
    '1:allow has no kind "file"; the kinds are files, hosts, exec',
  ]);
  assert.deepEqual(bad({ files: "in/" }), [
    '1:allow.files must be a list of non-empty strings, received string "in/"',
  ]);
  assert.deepEqual(bad({ hosts: [""] }), [
    "1:allow.hosts must be a list of non-empty strings, received array of 1",
  ]);
  assert.deepEqual(bad({ hosts: ["example.com"], exec: [] }), []);
});

test("at run time a path arriving in a message outside the allow list fails the process; allowed ones are read and written", async () => {
  await inTempDir(async (dir) => {
    const data = _data(dir);
    const registry = builtins({ files: { root: data } });
    const { state, errors } = await _run(
      `# @allow files in/ out/report.csv
',' -> delimiter S(strings/Split)
'in/deep/b.txt,private/key.txt,in/a.txt' -> in S
S out -> in R(fs/ReadFile) out -> in W(fs/WriteLines)
'out/report.csv' -> path W
`,
      registry,
    );
    assert.equal(state, "finished");
    assert.deepEqual(errors, [
      `R: process "R" failed on in-port "in": Cannot use file "private/key.txt": it is not in this flow's allow list (allow.files: "in/", "out/report.csv")`,
    ]);
    assert.equal(
      readFileSync(join(data, "out", "report.csv"), "utf8"),
      "b\n\na\n\n",
    );
  });
});

test("a symbolic link inside an allowed folder that leads elsewhere in the data folder is refused", async () => {
  await inTempDir((dir) => {
    const data = _data(dir);
    symlinkSync(join(data, "private", "key.txt"), join(data, "in", "key.txt"));
    const registry = builtins({ files: { root: data } });
    assert.match(
      problems(
        `# @allow files in/\n'in/key.txt' -> path R(fs/ReadLines)\n`,
        registry,
      ).join("\n"),
      /Cannot use file "in\/key.txt": it is not in this flow's allow list/,
    );
  });
});

test("a subgraph's processes obey the flow's allow list, and the subgraph's own list narrows it further", async () => {
  await inTempDir((dir) => {
    const data = _data(dir);
    const registry = builtins({ files: { root: data } });
    const inner = loadGraph(`INPORT=R.path:path
OUTPORT=R.out:out
R(fs/ReadLines)
`);
    registry.register(defineSubgraph("my/Read", inner, registry));
    const narrowInner = loadGraph(`# @allow files in/deep/
INPORT=R.path:path
OUTPORT=R.out:out
R(fs/ReadLines)
`);
    registry.register(defineSubgraph("my/ReadDeep", narrowInner, registry));
    const flow = (component: string, path: string) =>
      `# @allow files in/\n'${path}' -> path S(${component}) out -> in D(core/Drop)\n`;
    assert.deepEqual(problems(flow("my/Read", "in/a.txt"), registry), []);
    assert.match(
      problems(flow("my/Read", "private/key.txt"), registry).join("\n"),
      /"S" \(my\/Read\) is not valid: Cannot use file "private\/key.txt": it is not in this flow's allow list \(allow.files: "in\/"\)/,
    );
    assert.deepEqual(
      problems(flow("my/ReadDeep", "in/deep/b.txt"), registry),
      [],
    );
    assert.match(
      problems(flow("my/ReadDeep", "in/a.txt"), registry).join("\n"),
      /Cannot use file "in\/a.txt": it is not in this flow's allow list \(allow.files: "in\/deep\/"\)/,
    );
    // Without the flow's list, the subgraph's own still holds.
    assert.match(
      problems(
        `'private/key.txt' -> path S(my/ReadDeep) out -> in D(core/Drop)\n`,
        registry,
      ).join("\n"),
      /allow list \(allow.files: "in\/deep\/"\)/,
    );
  });
});

test("FileSandbox.narrow() keeps every list: a path must be in each", () => {
  const base = new FileSandbox({ root: "/srv/weir" });
  const flow = base.narrow(["in/", "out/"]);
  const sub = flow.narrow(["in/x/"]);
  assert.deepEqual(sub.allowed, [["in/", "out/"], ["in/x/"]]);
  assert.equal(sub.check("in/x/y"), "/srv/weir/in/x/y");
  assert.throws(
    () => sub.check("out/y"),
    /allow list \(allow.files: "in\/x\/"\)/,
  );
  // Lists intersect, in any order: etc/ is in neither.
  assert.throws(
    () => flow.narrow(["etc/"]).check("etc/x"),
    /allow list \(allow.files: "in\/", "out\/"\)/,
  );
  assert.throws(() => flow.narrow(["/etc/"]), /outside the data folder/);
  assert.throws(() => base.narrow([]).check("a"), /allow.files: none/);
});
