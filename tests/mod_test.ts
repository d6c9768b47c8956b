import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import * as root from "../mod.ts";

type Manifest = {
  version: string;
  exports: Record<string, string>;
  imports?: Record<string, string>;
  dependencies?: Record<string, string>;
};

function manifest(name: "package.json" | "deno.json"): Manifest {
  return JSON.parse(
    readFileSync(new URL(`../${name}`, import.meta.url), "utf8"),
  );
}

async function subpathModules(): Promise<Record<string, object>> {
  const modules: Record<string, object> = {};
  for (const [subpath, file] of Object.entries(manifest("deno.json").exports)) {
    if (subpath !== ".") {
      modules[subpath] = await import(
        new URL(`../${file}`, import.meta.url).href
      );
    }
  }
  return modules;
}

test("mod.ts exports the first hour's values and nothing else", () => {
  assert.deepEqual(Object.keys(root).sort(), [
    "END",
    "FlowManager",
    "FlowStore",
    "GraphBuilder",
    "GraphError",
    "MetricsCollector",
    "Network",
    "ProcessError",
    "Registry",
    "ResourceTracker",
    "buildNetworkSpec",
    "builtins",
    "connectionMetrics",
    "createNetwork",
    "defineComponent",
    "flowApp",
    "httpMetrics",
    "httpMetricsFetch",
    "loadGraph",
    "metricsApp",
    "onShutdown",
    "parseFbp",
    "parseGraphJson",
    "resourceSource",
    "serve",
  ]);
});

test("every value of mod.ts is also exported, the same object, by a subpath", async () => {
  const modules = Object.values(await subpathModules());
  const missing = Object.entries(root)
    .filter(([name, value]) =>
      !modules.some((m) => (m as Record<string, unknown>)[name] === value)
    )
    .map(([name]) => name)
    // createNetwork is the root's own: it joins the graph, the components
    // and the engine, so it belongs to no one folder.
    .filter((name) => name !== "createNetwork");
  assert.deepEqual(missing, []);
});

test("package.json exports deno.json's subpaths, each with its declarations", () => {
  const deno = manifest("deno.json").exports;
  const npm = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8"),
  ).exports as Record<string, { types: string; default: string }>;
  assert.deepEqual(
    npm,
    Object.fromEntries(
      Object.entries(deno).map(([subpath, file]) => [subpath, {
        types: `./types/${file.slice(2, -3)}.d.ts`,
        default: file,
      }]),
    ),
  );
});

test("tsconfig.types.json writes the declarations of every subpath", () => {
  const text = readFileSync(
    new URL("../tsconfig.types.json", import.meta.url),
    "utf8",
  );
  // JSONC: drop the comment lines.
  const config = JSON.parse(text.replace(/^\s*\/\/.*$/gm, "")) as {
    files: string[];
  };
  assert.deepEqual(
    config.files.sort(),
    Object.values(manifest("deno.json").exports).map((f) => f.slice(2)).sort(),
  );
});

test("each subpath is a folder's mod.ts that exists", () => {
  for (const [subpath, file] of Object.entries(manifest("deno.json").exports)) {
    const expected = subpath === "."
      ? "./mod.ts"
      : `./src${subpath.slice(1)}/mod.ts`;
    assert.equal(file, expected);
    assert.ok(existsSync(new URL(`../${file}`, import.meta.url)), file);
  }
});

test("deno.json maps each dependency to the npm version package.json pins", () => {
  const { dependencies = {} } = manifest("package.json");
  const { imports = {} } = manifest("deno.json");
  for (const [name, version] of Object.entries(dependencies)) {
    assert.equal(imports[name], `npm:${name}@${version}`, name);
  }
  // weir's own specifiers map to its source: see the test below.
  const bare = Object.keys(imports).filter((k) =>
    !k.endsWith("/") && !(k === "weir" || k.startsWith("weir/"))
  );
  assert.deepEqual(bare.sort(), Object.keys(dependencies).sort());
});

test('deno.json maps "weir" and each subpath to its module, for the operator\'s component modules (--components)', () => {
  const { imports = {}, exports } = manifest("deno.json");
  const own = Object.entries(imports).filter(([k]) =>
    k === "weir" || k.startsWith("weir/")
  );
  assert.deepEqual(
    Object.fromEntries(own),
    Object.fromEntries(
      Object.entries(exports as Record<string, string>).map((
        [subpath, file],
      ) => [`weir${subpath.slice(1)}`, file]),
    ),
  );
});

test("package.json and deno.json carry the same version", () => {
  assert.equal(manifest("deno.json").version, manifest("package.json").version);
});
