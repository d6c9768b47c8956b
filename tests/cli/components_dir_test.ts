/**
 * The operator's own components (`--components DIR`, `WEIR_COMPONENTS`,
 * the config key `components`), from the source on this runtime: a `.ts`
 * and a `.js` module that import `defineComponent` from `"weir"` are used
 * in a graph by `weir run` and `weir serve`, listed with their origin by
 * `weir components` and `GET /components`, and held to the server's stall
 * watchdog; each kind of bad module stops the command with exit code 2 and
 * one line naming the file. (The single executable: executable_test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { builtins } from "../../src/components/mod.ts";
import { loadComponents } from "../../src/cli/components_dir.ts";
import { componentsDir, GRAPH, SCALE_TS } from "./_components.ts";
import {
  cli,
  eventually,
  killLeftovers,
  startServeInTemp,
  startWeir,
} from "./_weir.ts";

/** A temp folder holding `files`. */
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "weir-ops-bad-"));
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const ONE = (name: string) =>
  `import { defineComponent } from "weir";
export const C = defineComponent({ name: ${
    JSON.stringify(name)
  }, description: "", inPorts: { in: {} }, process() {} });
`;

test(
  "weir run --components: a graph uses a .ts and a .js module's components",
  {
    timeout: 60_000,
  },
  async () => {
    const dir = componentsDir();
    const graphs = mkdtempSync(join(tmpdir(), "weir-ops-graph-"));
    try {
      writeFileSync(join(graphs, "scaled.fbp"), GRAPH);
      // Anyone may change this one: weir says so, and runs it.
      chmodSync(join(dir, "tag.js"), 0o666);
      chmodSync(join(dir, "scale.ts"), 0o644); // whatever the umask
      const w = startWeir([
        "run",
        "--components",
        dir,
        join(graphs, "scaled.fbp"),
      ]);
      const { code } = await w.exited;
      assert.equal(code, 0, w.log());
      assert.deepEqual(w.stdout().trim().split("\n"), [
        '{"value":0}',
        '{"value":10}',
        '{"value":20}',
      ]);
      const loaded = w.records().find((r) => r.msg.startsWith("loaded "));
      assert.equal(loaded?.msg, `loaded 2 components from 2 modules in ${dir}`);
      assert.equal(loaded?.components, "ops/Scale ops/Tag");
      assert.deepEqual(
        w.records().filter((r) => r.level === "warn").map((r) => r.path),
        [join(dir, "tag.js")],
      );
    } finally {
      killLeftovers();
      rmSync(graphs, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "weir serve with WEIR_COMPONENTS runs a flow of them, lists their origin at GET /components, and its stall watchdog stops one that blocks",
  {
    timeout: 90_000,
  },
  async () => {
    const dir = componentsDir();
    writeFileSync(
      join(dir, "block.mjs"),
      `import { defineComponent } from "weir";
export const Block = defineComponent({
  name: "ops/Block",
  description: "Busy-waits for the message's number of ms.",
  inPorts: { in: {} },
  process(v) {
    const end = Date.now() + Number(v);
    while (Date.now() < end) { /* the point */ }
  },
});
`,
    );
    const graphs = mkdtempSync(join(tmpdir(), "weir-ops-graph-"));
    writeFileSync(join(graphs, "scaled.fbp"), GRAPH);
    let w: Awaited<ReturnType<typeof startServeInTemp>> | undefined;
    try {
      w = await startServeInTemp("weir-ops-serve-", [
        join(graphs, "scaled.fbp"),
      ], {
        env: { ...cleanEnv(), WEIR_COMPONENTS: dir },
      });
      const url = w.url;
      const out = await eventually(
        () => {
          // core/Output's lines go to standard output, tagged with their flow.
          const lines = w!.stdout().split("\n").filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .filter((r) => r.output === true);
          return Promise.resolve(lines.length >= 3 ? lines : undefined);
        },
        "the flow printed its three values",
      );
      assert.deepEqual(out.map((r) => [r.flow, r.process, r.msg]), [
        ["scaled", "Out", '{"value":0}'],
        ["scaled", "Out", '{"value":10}'],
        ["scaled", "Out", '{"value":20}'],
      ]);
      const { components } = await (await fetch(`${url}/components`))
        .json() as {
          components: {
            name: string;
            origin: string;
            inPorts: { name: string; control: boolean }[];
          }[];
        };
      const origin = (name: string) =>
        components.find((c) => c.name === name)?.origin;
      assert.equal(origin("ops/Scale"), join(dir, "scale.ts"));
      assert.equal(origin("ops/Tag"), join(dir, "tag.js"));
      assert.equal(origin("ops/Block"), join(dir, "block.mjs"));
      assert.equal(origin("core/Output"), "built-in");
      assert.deepEqual(
        components.find((c) => c.name === "ops/Scale")?.inPorts.map((p) =>
          `${p.name} ${p.control}`
        ),
        ["in false", "factor true"],
      );

      // An operator's component is held to the same watchdog as a built-in.
      const poison = await fetch(`${url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: "# @name poison\n'3000' -> in Stall(ops/Block)\n",
      });
      assert.equal(poison.status, 201, await poison.text());
      const failed = await eventually(async () => {
        const info = await (await fetch(`${url}/flows/poison`)).json() as {
          state: string;
          error?: string;
        };
        return info.state === "failed" ? info : undefined;
      }, "the blocking flow was failed");
      assert.match(failed.error!, /stalled the server .* in process "Stall"$/);
    } finally {
      w?.close();
      rmSync(graphs, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** This process's environment without the WEIR_ settings (as startWeir's default). */
function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) =>
      !k.startsWith("WEIR_") || k === "WEIR_REQUIRE_INTEGRATION"
    ),
  );
}

test("weir components lists every component with its origin, the folder from the config file's key", async () => {
  const dir = componentsDir();
  const conf = mkdtempSync(join(tmpdir(), "weir-ops-conf-"));
  try {
    // A relative folder in the config file is taken from the file's folder.
    writeFileSync(
      join(conf, "weir.json"),
      JSON.stringify({ components: join("..", dir.split("/").at(-1)!) }),
    );
    const r = await cli(["components", "--config", join(conf, "weir.json")]);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      new RegExp(
        `^ops/Scale\\n {2}Multiplies each number by a factor\\.\\n {2}origin: ${dir}/scale\\.ts\\n {2}in {2}in: number\\n {2}in {2}factor: number, control\\n {2}out out: number\\n`,
        "m",
      ),
    );
    assert.match(
      r.out,
      new RegExp(`^ops/Tag\\n.*\\n {2}origin: ${dir}/tag\\.js$`, "m"),
    );
    assert.match(r.out, /^core\/Interval\n.*\n {2}origin: built-in$/m);
    assert.doesNotMatch(r.out, /shared|types|README/);
    // Without the setting: the built-ins alone.
    const plain = await cli(["components"]);
    assert.doesNotMatch(plain.out, /ops\//);
    assert.doesNotMatch(plain.out, /origin: (?!built-in)/);
  } finally {
    rmSync(conf, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test("weir validate --components checks graphs against the operator's components too", async () => {
  const dir = componentsDir();
  const graphs = mkdtempSync(join(tmpdir(), "weir-ops-graph-"));
  const graph = join(graphs, "scaled.fbp");
  try {
    writeFileSync(graph, GRAPH.replace("10 -> factor", "'x' -> factor"));
    const bad = await cli(["validate", "--components", dir, graph]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /expected a number, received string "x"/);
    writeFileSync(graph, GRAPH);
    const unknown = await cli(["validate", graph]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.out, /ops\/Scale/);
    const good = await cli(["validate", "--components", dir, graph]);
    assert.equal(good.code, 0, good.out);
  } finally {
    rmSync(graphs, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test("weir validate --components: the built-ins of a flow that uses operator components keep the flow's allow list", async () => {
  const dir = componentsDir();
  const data = mkdtempSync(join(tmpdir(), "weir-ops-data-"));
  const graph = join(data, "scaled.fbp");
  const text = (path: string) =>
    `# @allow files out/
'5ms' -> interval Tick(core/Interval)
3 -> count Tick
10 -> factor S(ops/Scale)
'${path}' -> path W(fs/WriteLines)
Tick out -> in S out -> in W
`;
  try {
    writeFileSync(graph, text("elsewhere.txt"));
    const args = ["validate", "--components", dir, "--data-dir", data, graph];
    const refused = await cli(args);
    assert.equal(refused.code, 1, refused.out);
    assert.match(
      refused.out,
      /"elsewhere\.txt": it is not in this flow.s allow list/,
    );
    assert.doesNotMatch(refused.out, /ops\/Scale/);
    writeFileSync(graph, text("out/scaled.txt"));
    const allowed = await cli(args);
    assert.equal(allowed.code, 0, allowed.out);
  } finally {
    rmSync(data, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Each bad folder, the file the message must name, and what it must say. */
const BAD: [string, Record<string, string>, string, RegExp][] = [
  [
    "a syntax error",
    { "a.ts": ONE("ops/A"), "b.ts": "export const x = ;\n" },
    "b.ts",
    /: SyntaxError: .+ \(line 1, column \d+\)$/,
  ],
  [
    "a module that throws when imported",
    { "boom.js": 'throw new Error("no config for boom");\n' },
    "boom.js",
    /: Error: no config for boom$/,
  ],
  [
    "a module that throws a value that is no error",
    { "odd.js": 'throw { code: 42, why: "no config" };\n' },
    "odd.js",
    /: it threw \{"code":42,"why":"no config"\}$/,
  ],
  [
    "a module that imports a subpath weir does not have",
    { "sub.js": 'import { x } from "weir/nope";\nexport const a = x;\n' },
    "sub.js",
    /: ResolveError: "weir\/nope" is not one of weir's modules \(weir, weir\/components, weir\/engine, .*\)$/,
  ],
  [
    "a module that exports no component",
    { "none.mjs": "export const answer = 42;\nexport default {};\n" },
    "none.mjs",
    /: it exports no component \(export what defineComponent from "weir" returns\); its exports: answer, default$/,
  ],
  [
    "a component named as a built-in",
    { "out.ts": ONE("core/Output") },
    "out.ts",
    /: its component "core\/Output" has the name of the built-in "core\/Output"; rename it$/,
  ],
  [
    "a component named as a built-in's alias",
    { "delay.ts": ONE("core/RepeatDelayed") },
    "delay.ts",
    /: its component "core\/RepeatDelayed" has the name of the built-in "core\/Delay" \(an alias of it\); rename it$/,
  ],
  [
    "a component named as a built-in but for case",
    { "out.ts": ONE("core/output") },
    "out.ts",
    /: its component "core\/output" differs only in case from the built-in "core\/Output"; rename it$/,
  ],
  [
    "a component named as another module's but for case",
    { "a.ts": ONE("ops/Same"), "b.js": ONE("ops/same") },
    "b.js",
    /: its component "ops\/same" differs only in case from the component "ops\/Same" from ".*\/a\.ts"; rename one$/,
  ],
  [
    "a component named as another module's",
    { "a.ts": ONE("ops/Same"), "b.js": ONE("ops/Same") },
    "b.js",
    /: its component "ops\/Same" has the name of the component from ".*\/a\.ts"; rename one$/,
  ],
  [
    "a component whose definition is refused",
    { "bad.ts": ONE("no name") },
    "bad.ts",
    /: TypeError: Cannot define component "no name": name must look like "family\/Name"/,
  ],
];

for (const [what, files, file, why] of BAD) {
  test(`weir components --components refuses ${what}: exit 2, the file and why`, async () => {
    const dir = dirWith(files);
    try {
      const r = await cli(["components", "--components", dir]);
      assert.equal(r.code, 2, r.out);
      assert.equal(r.error?.hint, false);
      assert.ok(
        r.err.startsWith(
          `cannot load the component module "${join(dir, file)}": `,
        ),
        r.err,
      );
      assert.match(r.err, why);
      assert.doesNotMatch(r.err, /\n/);
      assert.equal(r.out, "", "nothing listed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test(
  "weir serve with a bad component module exits 2 with one line on standard error, before it listens",
  {
    timeout: 30_000,
  },
  async () => {
    const dir = dirWith({ "b.ts": "export const x = ;\n" });
    try {
      const w = startWeir([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--components",
        dir,
      ]);
      const { code } = await w.exited;
      assert.equal(code, 2, w.log());
      const lines = w.log().trim().split("\n");
      assert.equal(lines.length, 1, w.log());
      assert.match(
        lines[0],
        new RegExp(
          `^weir: cannot load the component module "${dir}/b\\.ts": SyntaxError: .+ \\(line 1, column \\d+\\)$`,
        ),
      );
    } finally {
      killLeftovers();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("weir run --components names a folder that does not exist", async () => {
  const r = await cli(["run", "--components", "/nonexistent/ops", "x.fbp"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.err,
    'cannot load the components folder "/nonexistent/ops": no such folder',
  );
});

test("README's component example is the module these tests load", () => {
  const readme = readFileSync(
    join(import.meta.dirname!, "..", "..", "README.md"),
    "utf8",
  );
  const section = readme.slice(readme.indexOf("## Your own components"));
  const example = /```ts\n\/\/ components\/scale\.ts\n([^]*?)```/.exec(section);
  assert.ok(example !== null, "README has the components/scale.ts example");
  assert.equal(example[1], SCALE_TS);
  assert.equal(
    `// components/scale.ts\n${example[1]}`.trimEnd().split("\n").length,
    15,
  );
});

test(
  "loadComponents refuses a module whose import never finishes (a top-level await that never settles), naming it",
  { timeout: 10_000 },
  async () => {
    // Held by the test rather than forever, so that the runtime does not
    // report a top-level await left pending once the test is over.
    let release = () => {};
    (globalThis as { weirTestGate?: Promise<void> }).weirTestGate = new Promise<
      void
    >((r) => (release = r));
    const dir = dirWith({
      "stuck.js": "await globalThis.weirTestGate;\nexport const late = 1;\n",
    });
    try {
      const registry = builtins();
      await assert.rejects(
        loadComponents(dir, registry, { importTimeoutMs: 300 }),
        (e: Error) => {
          assert.equal(
            e.message,
            `cannot load the component module "${
              join(dir, "stuck.js")
            }": its import did not finish within 300 ms (a top-level await that never settles?)`,
          );
          return true;
        },
      );
      assert.equal(registry.originOf("core/Output"), "built-in");
    } finally {
      release();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("weir run --components warns when the folder holds no module it loads (only a subfolder, a .cjs, a helper)", async () => {
  const dir = dirWith({ "old.cjs": "module.exports = {};\n", "_lib.js": "" });
  const graphs = mkdtempSync(join(tmpdir(), "weir-ops-graph-"));
  try {
    writeFileSync(join(graphs, "one.fbp"), "'1' -> in Out(core/Output)\n");
    const w = startWeir([
      "run",
      "--components",
      dir,
      join(graphs, "one.fbp"),
    ]);
    const { code } = await w.exited;
    assert.equal(code, 0, w.log());
    const warned = w.records().find((r) => r.level === "warn");
    assert.equal(
      warned?.msg,
      `no component modules in ${dir}: weir loads the .js, .ts and .mjs files directly in it, not those in subfolders, .d.ts files or names starting with _ or .`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(graphs, { recursive: true, force: true });
  }
});

test("weir components and weir validate --components warn when the folder holds no module they load; the list and the verdict go on", async () => {
  const dir = dirWith({ "old.cjs": "module.exports = {};\n", "_lib.js": "" });
  const graphs = mkdtempSync(join(tmpdir(), "weir-ops-graph-"));
  const good = componentsDir();
  const warning =
    `weir: warning: no component modules in ${dir}: weir loads the .js, .ts and .mjs files directly in it, not those in subfolders, .d.ts files or names starting with _ or .`;
  try {
    const listed = await cli(["components", "--components", dir]);
    assert.equal(listed.code, 0, listed.err);
    assert.equal(listed.err, warning);
    assert.match(listed.out, /^core\/Output/m);
    writeFileSync(join(graphs, "one.fbp"), "'1' -> in Out(core/Output)\n");
    const validated = await cli([
      "validate",
      "--components",
      dir,
      join(graphs, "one.fbp"),
    ]);
    assert.equal(validated.code, 0, validated.err);
    assert.equal(validated.err.split("\n")[0], warning);
    // A folder with a module says nothing.
    const ok = await cli(["components", "--components", good]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.err, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(graphs, { recursive: true, force: true });
    rmSync(good, { recursive: true, force: true });
  }
});
