/**
 * weir as an app installs it: packed with `npm pack`, added to a fresh Bun
 * app (`bun init`, `bun add` of the tarball) and to fresh Deno apps (the
 * unpacked tarball linked by `links`, or mapped in an import map), each app
 * run and type-checked (`bun check` with bun init's tsconfig, `deno check`).
 * The apps live in a temporary folder; packages come from the local caches
 * where they can, else from the npm registry.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { withMachineLock } from "./_machine_lock.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const BUN = join(BIN, "bun");
const DENO = join(BIN, "deno");
const WORK = mkdtempSync(join(tmpdir(), "weir-install-"));
// Packing, installing and type-checking take tens of seconds on a loaded
// machine: more than bun test's 5 s default.
const SLOW = { timeout: 300_000 };

after(async () => {
  const { rmSync } = await import("node:fs");
  rmSync(WORK, { recursive: true, force: true });
});

interface Ran {
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; rejects with its output when it fails. */
function _run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 240_000,
    }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(
            `${cmd} ${
              args.join(" ")
            } (in ${cwd}) failed: ${error.message}\n${stdout}\n${stderr}`,
          ),
        );
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

function _once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}

interface Packed {
  tarball: string;
  files: string[];
  size: number;
}

const packed = _once(async (): Promise<Packed> => {
  // `npm pack` runs the prepack script, which writes types/ with tsc, in
  // the repository: the suite's Deno and Bun runs of this file take turns
  // (one packing while the other's tsc rewrites types/ would pack files
  // half written).
  const { stdout } = await withMachineLock(
    `weir-test-npm-pack-${ROOT.replace(/[^A-Za-z0-9]+/g, "_")}`,
    () => _run("npm", ["pack", "--json", "--pack-destination", WORK], ROOT),
    240_000,
  );
  const [info] = JSON.parse(stdout.slice(stdout.indexOf("["))) as {
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  return {
    tarball: join(WORK, info.filename),
    files: info.files.map((f) => f.path),
    size: info.size,
  };
});

/** The program both runtimes run: the root, two subpaths, a tiny network. */
function appSource(spec: {
  root: string;
  metrics: string;
  graph: string;
}): string {
  return `import assert from "node:assert/strict";
import { builtins, createNetwork, defineComponent, type NetworkStats } from "${spec.root}";
import { MetricsCollector } from "${spec.metrics}";
import { parseFbp } from "${spec.graph}";

const seen: unknown[] = [];
const registry = builtins().register(defineComponent({
  name: "app/Keep",
  description: "Keeps what it receives.",
  inPorts: { in: {} },
  process(value) {
    seen.push(value);
  },
}));
const graph = parseFbp(
  "'1ms' -> interval Tick(core/Interval)\\n3 -> count Tick\\nTick out -> in Keep(app/Keep)",
);
const metrics = new MetricsCollector();
const net = createNetwork(graph, { registry, name: "installed" });
metrics.track(net);
await net.start();
const state: string = await net.finished;
const stats: NetworkStats = net.stats();
const text = await metrics.render();
console.log(JSON.stringify({
  state,
  seen,
  processes: stats.processes.map((p) => p.name),
  counted: text.includes(
    'weir_process_messages_total{flow="installed",process="Keep",port="in",direction="in"} 3',
  ),
}));

// Type-checking fails if weir's types were \`any\`: this line must be an error.
export function typesAreChecked(): void {
  // @ts-expect-error: the namespace is a string
  new MetricsCollector({ namespace: 3 });
  assert.ok(true);
}
`;
}

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The text of the README's section under `heading`, to the next heading. */
function _readmeSection(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no "${heading}"`);
  const rest = README.slice(start + heading.length + 2);
  return rest.slice(0, rest.search(/\n#{2,3} /));
}

/** The code blocks of a README section in the language `lang`. */
function _readmeBlocks(heading: string, lang: string): string[] {
  return [..._readmeSection(heading).matchAll(/```(\w+)\n([\s\S]*?)```/g)]
    .filter((m) => m[1] === lang).map((m) => m[2]);
}

/** The command the README's Installing section gives for `start` (`bun add hono@`). */
function _readmeCommand(start: string): string[] {
  const m = new RegExp("`(" + start.replace(/[.@]/g, "\\$&") + "[^`]*)`")
    .exec(_readmeSection("### Installing"));
  assert.ok(m, `README's Installing section gives no \`${start}...\``);
  return m[1].split(" ");
}

/**
 * The README's flow server example, on a port the system picks and closed
 * at once: an app that mounts flowApp in its own Hono app, which must use
 * weir's Hono to type-check.
 */
function _flowServerExample(): string {
  const [source] = _readmeBlocks("### The flow server in your app", "ts");
  assert.ok(source.includes("{ port: 8080 }"), source);
  return source.replace("{ port: 8080 }", '{ port: 0, hostname: "127.0.0.1" }')
    .replace('FlowStore.open("flows.db")', 'FlowStore.open(":memory:")') +
    'await fetch(new URL("/hello", server.url));\nawait server.close();\nawait flows.close();\nconsole.log("served");\n';
}

/** The README's component with a meter: it imports a type from weir/engine. */
function _meanExample(): string {
  const source = _readmeBlocks("### A first network", "ts")
    .find((s) => s.includes('from "weir/engine"'));
  assert.ok(
    source,
    "README's A first network imports nothing from weir/engine",
  );
  return source;
}

const EXPECTED_RUN = {
  state: "finished",
  seen: [0, 1, 2],
  processes: ["Tick", "Keep"],
  counted: true,
};

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

const bunApp = _once(async (): Promise<string> => {
  const { tarball } = await packed();
  const dir = join(WORK, "bun-app");
  mkdirSync(dir);
  await _run(BUN, ["init", "--yes"], dir);
  await _run(BUN, ["add", "--prefer-offline", tarball], dir);
  const [bun, ...add] = _readmeCommand("bun add hono@");
  assert.equal(bun, "bun");
  await _run(BUN, [...add, "--prefer-offline"], dir);
  writeFileSync(
    join(dir, "index.ts"),
    appSource({ root: "weir", metrics: "weir/metrics", graph: "weir/graph" }),
  );
  writeFileSync(join(dir, "server.ts"), _flowServerExample());
  writeFileSync(join(dir, "mean.ts"), _meanExample());
  return dir;
});

/** weir unpacked from the tarball beside the Deno apps, as a vendored copy. */
const unpacked = _once(async (): Promise<string> => {
  const { tarball } = await packed();
  const dir = join(WORK, "vendor", "weir");
  mkdirSync(dir, { recursive: true });
  await _run("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1"], WORK);
  return dir;
});

/** A Deno app that links weir and imports it by name and by path. */
const denoLinkedApp = _once(async (): Promise<string> => {
  await unpacked();
  const dir = join(WORK, "deno-linked-app");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({
      links: ["../vendor/weir"],
      imports: {
        "weir": "jsr:@weir/weir@^0.1.0",
        "weir/": "jsr:/@weir/weir@^0.1.0/",
      },
    }),
  );
  const [deno, ...add] = _readmeCommand("deno add npm:hono@");
  assert.equal(deno, "deno");
  await _run(DENO, add, dir);
  writeFileSync(
    join(dir, "main.ts"),
    appSource({
      root: "weir",
      metrics: "weir/metrics",
      graph: "../vendor/weir/src/graph/mod.ts",
    }),
  );
  writeFileSync(join(dir, "server.ts"), _flowServerExample());
  writeFileSync(join(dir, "mean.ts"), _meanExample());
  return dir;
});

/** A Deno app that maps weir's modules by path in its import map. */
const denoMappedApp = _once(async (): Promise<string> => {
  await unpacked();
  const dir = join(WORK, "deno-mapped-app");
  mkdirSync(dir);
  // The README's import map, its app folder beside vendor/ rather than above.
  const map = _readmeBlocks("### Installing", "json")
    .find((json) => json.includes("./vendor/weir/mod.ts"));
  assert.ok(map, "README's Installing section maps no ./vendor/weir/mod.ts");
  writeFileSync(
    join(dir, "deno.json"),
    map.replaceAll('"./vendor/weir/', '"../vendor/weir/'),
  );
  writeFileSync(
    join(dir, "main.ts"),
    appSource({ root: "weir", metrics: "weir/metrics", graph: "weir/graph" }),
  );
  writeFileSync(join(dir, "mean.ts"), _meanExample());
  return dir;
});

test(
  "npm pack ships the sources, their declarations and no tests, benchmarks, scripts or runtimes",
  SLOW,
  async () => {
    const { files } = await packed();
    const tops = [...new Set(files.map((f) => f.split("/")[0]))].sort();
    assert.deepEqual(tops, [
      "METRICS.md",
      "README.md",
      "deno.json",
      "mod.ts",
      "package.json",
      "src",
      "types",
    ]);
    const manifest = JSON.parse(
      readFileSync(join(ROOT, "package.json"), "utf8"),
    ) as { exports: Record<string, { types: string; default: string }> };
    for (const { types, default: source } of Object.values(manifest.exports)) {
      assert.ok(files.includes(types.slice(2)), types);
      assert.ok(files.includes(source.slice(2)), source);
    }
    assert.deepEqual(files.filter((f) => /_test\.ts$/.test(f)), []);
  },
);

test(
  "a Bun app adds the packed tarball and runs weir, weir/metrics and weir/graph",
  SLOW,
  async () => {
    const dir = await bunApp();
    const { stdout } = await _run(BUN, ["index.ts"], dir);
    assert.deepEqual(lastJsonLine(stdout), EXPECTED_RUN);
  },
);

test(
  "a Bun app type-checks against weir under the tsconfig bun init writes",
  SLOW,
  async () => {
    const dir = await bunApp();
    const tsconfig = readFileSync(join(dir, "tsconfig.json"), "utf8");
    assert.match(tsconfig, /"noUncheckedIndexedAccess": true/);
    const { stdout, stderr } = await _run(BUN, ["check"], dir);
    assert.match(stdout + stderr, /No type errors/);
  },
);

test(
  "a Bun app that adds hono as the README says serves the README's flow server example",
  SLOW,
  async () => {
    const dir = await bunApp();
    const { stdout } = await _run(BUN, ["server.ts"], dir);
    assert.match(stdout, /served\n$/);
  },
);

test(
  "a Deno app that links weir imports it by name and by path",
  SLOW,
  async () => {
    const dir = await denoLinkedApp();
    const { stdout } = await _run(DENO, ["run", "-A", "main.ts"], dir);
    assert.deepEqual(lastJsonLine(stdout), EXPECTED_RUN);
  },
);

test("a Deno app that links weir passes deno check", SLOW, async () => {
  const dir = await denoLinkedApp();
  await _run(DENO, ["check", "main.ts", "mean.ts"], dir);
});

test(
  "a Deno app that adds hono as the README says type-checks and serves the README's flow server example",
  SLOW,
  async () => {
    const dir = await denoLinkedApp();
    await _run(DENO, ["check", "server.ts"], dir);
    const { stdout } = await _run(DENO, ["run", "-A", "server.ts"], dir);
    assert.match(stdout, /served\n$/);
  },
);

test("a Deno app maps weir's modules in its import map", SLOW, async () => {
  const dir = await denoMappedApp();
  const { stdout } = await _run(DENO, ["run", "-A", "main.ts"], dir);
  assert.deepEqual(lastJsonLine(stdout), EXPECTED_RUN);
});

test(
  "a Deno app that maps weir as the README does passes deno check, weir/engine included",
  SLOW,
  async () => {
    const dir = await denoMappedApp();
    await _run(DENO, ["check", "main.ts", "mean.ts"], dir);
  },
);
