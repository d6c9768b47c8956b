/**
 * The operator's own components (`--components DIR`): every `.js`, `.ts`
 * and `.mjs` module directly in DIR (sorted by name; subfolders, `.d.ts`
 * files and names starting with `.` or `_` are left for the modules to
 * import as helpers) is imported at start, and every export of it that is
 * a component made with `defineComponent` is registered, its file noted as
 * its origin. A module that cannot be imported, or exports no component,
 * or a component whose name is taken (by a built-in or another module's),
 * stops the command with the file and one line saying why.
 *
 * A module gets weir's API by importing the bare specifier `"weir"` (the
 * root module, `mod.ts`) or a subpath (`"weir/engine"`, ... as
 * `deno.json`'s `exports`), the same way on every runtime weir runs on:
 * - the single executable (Bun `--compile`) and the source on Bun: a Bun
 *   runtime plugin serves each as a virtual module holding weir's own
 *   module, so nothing is looked up on disk (the executable has no
 *   `node_modules`);
 * - the source on Deno: `deno.json`'s import map maps each to its file,
 *   and an import map applies to every module of the process, wherever
 *   its file is.
 * Either way the module shares weir's instances (`END`, `ProcessError`):
 * it does not get a second copy of the engine.
 *
 * The modules are code the operator trusts: they run in weir's process
 * with its permissions, not in a flow's sandbox.
 *
 * @module
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Component, isComponent } from "../engine/component.ts";
import { Registry } from "../engine/registry.ts";
import { thrownValue } from "../engine/excerpt.ts";

/** The file name endings of component modules. */
export const MODULE_EXTENSIONS: readonly string[] = [".js", ".ts", ".mjs"];

/** A component module that cannot be used; `file` is its path. */
export class ComponentModuleError extends Error {
  override name = "ComponentModuleError";
  /** The module's file (absolute), or the folder when it cannot be read. */
  readonly file: string;

  /** Creates the error: `cannot load the component module "FILE": WHY`. */
  constructor(file: string, why: string, what = "the component module") {
    super(`cannot load ${what} "${file}": ${why}`);
    this.file = file;
  }
}

/** Options of {@linkcode loadComponents}. */
export interface LoadComponentsOptions {
  /**
   * The time each module's import may take (its top-level `await`s
   * included) before the folder is refused, in ms. Default 10000.
   */
  importTimeoutMs?: number;
}

/** A module's import ran out of time. */
class _ImportTimeout extends Error {}

/** One loaded module and the names of the components it gave. */
export interface LoadedModule {
  /** Its file, absolute. */
  file: string;
  /** Its components' names, in export order. */
  components: string[];
}

/**
 * The component module files of `dir`, absolute and sorted by name: files
 * directly in it ending in `.js`, `.ts` or `.mjs`, leaving out `.d.ts` and
 * names starting with `.` or `_` (helpers). Throws a
 * {@linkcode ComponentModuleError} when `dir` is not a readable folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { componentModules } from "./components_dir.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-doc-"));
 * for (const f of ["b.ts", "a.js", "c.mjs", "x.d.ts", "_lib.ts", "notes.md"]) {
 *   writeFileSync(join(dir, f), "");
 * }
 * mkdirSync(join(dir, "lib"));
 * assert.deepEqual(
 *   componentModules(dir).map((f) => f.slice(dir.length + 1)),
 *   ["a.js", "b.ts", "c.mjs"],
 * );
 * rmSync(dir, { recursive: true });
 * ```
 */
export function componentModules(dir: string): string[] {
  const root = resolve(dir);
  let names: string[];
  try {
    if (!statSync(root).isDirectory()) {
      throw new ComponentModuleError(
        root,
        "it is not a folder",
        "the components folder",
      );
    }
    names = readdirSync(root);
  } catch (e) {
    if (e instanceof ComponentModuleError) throw e;
    const code = (e as { code?: string }).code;
    throw new ComponentModuleError(
      root,
      code === "ENOENT"
        ? "no such folder"
        : code === "EACCES"
        ? "permission denied"
        : (e as Error).message,
      "the components folder",
    );
  }
  return names
    .filter((n) =>
      MODULE_EXTENSIONS.some((ext) => n.endsWith(ext)) &&
      !n.endsWith(".d.ts") && !n.startsWith(".") && !n.startsWith("_")
    )
    .sort()
    .map((n) => join(root, n))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
}

/**
 * Imports every component module of `dir` (see
 * {@linkcode componentModules}) and registers their components into
 * `registry`, each with its file as origin (`registry.originOf(name)`).
 * All or nothing: on the first bad module (one whose import fails, or
 * takes longer than `importTimeoutMs`) it throws a
 * {@linkcode ComponentModuleError} naming the file, and registers nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { builtins } from "../components/mod.ts";
 * import { loadComponents } from "./components_dir.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-doc-"));
 * writeFileSync(
 *   join(dir, "twice.js"),
 *   `import { defineComponent } from "weir";
 *    export const Twice = defineComponent({
 *      name: "my/Twice", description: "Sends each message twice.",
 *      inPorts: { in: {} }, outPorts: { out: {} },
 *      process(v, ctx) { ctx.send("out", v); ctx.send("out", v); },
 *    });`,
 * );
 * const registry = builtins();
 * const loaded = await loadComponents(dir, registry);
 * assert.deepEqual(loaded, [{ file: join(dir, "twice.js"), components: ["my/Twice"] }]);
 * assert.equal(registry.originOf("my/Twice"), join(dir, "twice.js"));
 * assert.equal(registry.originOf("core/Output"), "built-in");
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function loadComponents(
  dir: string,
  registry: Registry,
  options: LoadComponentsOptions = {},
): Promise<LoadedModule[]> {
  const timeoutMs = options.importTimeoutMs ?? 10_000;
  const files = componentModules(dir);
  if (files.length > 0) _exposeWeir();
  const found: { file: string; components: Component[] }[] = [];
  for (const file of files) {
    let exports: Record<string, unknown>;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      exports = await Promise.race([
        import(pathToFileURL(file).href),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new _ImportTimeout()), timeoutMs);
        }),
      ]);
    } catch (e) {
      throw new ComponentModuleError(
        file,
        e instanceof _ImportTimeout
          ? `its import did not finish within ${
            timeoutMs >= 1000 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`
          } (a top-level await that never settles?)`
          : _importFailure(e, file),
      );
    } finally {
      clearTimeout(timer);
    }
    // One component exported under two names (`export default X` too) counts once.
    const components = [...new Set(Object.values(exports))].filter(
      isComponent,
    );
    if (components.length === 0) {
      const names = Object.keys(exports);
      throw new ComponentModuleError(
        file,
        `it exports no component (export what defineComponent from "weir" returns); ${
          names.length === 0
            ? "it exports nothing"
            : `its exports: ${names.join(", ")}`
        }`,
      );
    }
    found.push({ file, components });
  }
  // Checked before any is registered, so a refused folder leaves the registry
  // as it was. The registry says which names are taken, by one rule
  // (Registry.clashingName: names that differ only in case are one name),
  // for the folder's own components too, gathered in a registry of theirs.
  const folder = new Registry();
  for (const { file, components } of found) {
    for (const c of components) {
      const same = registry.clashingName(c.name);
      if (same !== undefined) {
        const builtin = registry.get(same)!;
        const origin = registry.originOf(builtin.name);
        const whose = origin === "built-in"
          ? "the built-in"
          : `the component from ${origin}`;
        throw new ComponentModuleError(
          file,
          same === c.name
            ? `its component "${c.name}" has the name of ${whose} "${builtin.name}"${
              builtin.name === c.name ? "" : ` (an alias of it)`
            }; rename it`
            : `its component "${c.name}" differs only in case from ${whose} "${same}"${
              builtin.name === same ? "" : ` (an alias of "${builtin.name}")`
            }; rename it`,
        );
      }
      const twin = folder.clashingName(c.name);
      if (twin !== undefined) {
        const otherFile = folder.originOf(twin);
        throw new ComponentModuleError(
          file,
          twin !== c.name
            ? otherFile === file
              ? `two of its components, "${twin}" and "${c.name}", differ only in case; rename one`
              : `its component "${c.name}" differs only in case from the component "${twin}" from "${otherFile}"; rename one`
            : otherFile === file
            ? `two of its components are named "${c.name}"; rename one`
            : `its component "${c.name}" has the name of the component from "${otherFile}"; rename one`,
        );
      }
      folder.registerFrom(file, c);
    }
  }
  for (const { file, components } of found) {
    for (const c of components) registry.registerFrom(file, c);
  }
  return found.map(({ file, components }) => ({
    file,
    components: components.map((c) => c.name),
  }));
}

/**
 * The paths among `dir` and `files` that users other than the owner and
 * group may write (mode `o+w`): anyone on the machine could then put code
 * into weir's process (into a folder, even a sticky one, by adding a
 * module).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { writableByOthers } from "./components_dir.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "weir-doc-"));
 * writeFileSync(join(dir, "a.ts"), "");
 * chmodSync(join(dir, "a.ts"), 0o666);
 * assert.deepEqual(writableByOthers(dir, [join(dir, "a.ts")]), [join(dir, "a.ts")]);
 * chmodSync(join(dir, "a.ts"), 0o644);
 * assert.deepEqual(writableByOthers(dir, [join(dir, "a.ts")]), []);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function writableByOthers(dir: string, files: string[]): string[] {
  const out: string[] = [];
  for (const path of [resolve(dir), ...files]) {
    try {
      // Even a sticky folder (/tmp) lets anyone add a module weir would load.
      if ((statSync(path).mode & 0o002) !== 0) out.push(path);
    } catch {
      // Gone meanwhile: the import reports it.
    }
  }
  return out;
}

/** Bun's runtime plugin API, the part used here. */
interface _BunPlugins {
  plugin(plugin: {
    name: string;
    setup(build: {
      module(
        specifier: string,
        load: () => Promise<
          { exports: Record<string, unknown>; loader: "object" }
        >,
      ): void;
    }): void;
  }): void;
}

/**
 * weir's specifiers, as `deno.json`'s `exports` (and `imports`) name them.
 * Literal imports, so that `bun build --compile` puts each in the
 * executable; each loads only when a module imports it.
 */
const _API: Record<string, () => Promise<Record<string, unknown>>> = {
  "weir": () => import("../../mod.ts"),
  "weir/components": () => import("../components/mod.ts"),
  "weir/engine": () => import("../engine/mod.ts"),
  "weir/flows": () => import("../flows/mod.ts"),
  "weir/graph": () => import("../graph/mod.ts"),
  "weir/history": () => import("../history/mod.ts"),
  "weir/metrics": () => import("../metrics/mod.ts"),
  "weir/runtime": () => import("../runtime/mod.ts"),
  "weir/server": () => import("../server/mod.ts"),
};

let _exposed = false;

/**
 * On Bun, serves `"weir"` and its subpaths as weir's own modules, once per
 * process. On Deno, `deno.json`'s import map does it (Deno has no runtime
 * resolution hook).
 */
function _exposeWeir(): void {
  const bun = (globalThis as { Bun?: _BunPlugins }).Bun;
  if (bun === undefined || _exposed) return;
  bun.plugin({
    name: "weir",
    setup(build) {
      for (const [specifier, load] of Object.entries(_API)) {
        build.module(specifier, async () => ({
          exports: await load(),
          loader: "object",
        }));
      }
    },
  });
  _exposed = true;
}

// deno-lint-ignore no-control-regex
const _ANSI = /\u001b\[[0-9;]*m/g;

/**
 * What went wrong importing `file`, in one line. Bun reports a syntax
 * error as a `BuildMessage` (an `AggregateError` of them when there are
 * several) with its position; Deno as a `TypeError` whose message holds
 * `SyntaxError: ...`, the source excerpt and `at file:...:line:col`, in
 * terminal colours.
 */
function _importFailure(e: unknown, file: string): string {
  const all = e instanceof AggregateError && e.errors.length > 0
    ? e.errors
    : [e];
  return all.map((one) => _oneFailure(one, file)).join("; ");
}

function _oneFailure(e: unknown, file: string): string {
  if (typeof e !== "object" || e === null || !("message" in e)) {
    return `it threw ${thrownValue(e)}`;
  }
  const err = e as {
    name?: string;
    message: unknown;
    specifier?: unknown;
    position?: { file?: string; line?: number; column?: number } | null;
  };
  const lines = String(err.message).replace(_ANSI, "").split("\n");
  // Bun says "Cannot find package 'weir'" and Deno "not in import map" for
  // a subpath weir does not have, as if weir were missing.
  const specifier = typeof err.specifier === "string"
    ? err.specifier
    : /^Import "([^"]+)" not a dependency/.exec(lines[0])?.[1];
  if (specifier?.startsWith("weir/") && !(specifier in _API)) {
    return `ResolveError: "${specifier}" is not one of weir's modules (${
      Object.keys(_API).join(", ")
    })`;
  }
  let name = err.name === "BuildMessage"
    ? "SyntaxError"
    : err.name === "ResolveMessage"
    ? "ResolveError"
    : err.name ?? "Error";
  let text = lines[0].trim();
  const inner = /^(SyntaxError): (.*)$/.exec(text);
  if (inner !== null) [, name, text] = inner;
  let at = err.position?.line !== undefined
    ? {
      file: err.position.file,
      line: err.position.line,
      col: err.position.column,
    }
    : undefined;
  if (at === undefined) {
    for (const l of lines.slice(1)) {
      const m = /^\s*at (file:\/\/\S+?):(\d+):(\d+)\s*$/.exec(l);
      if (m !== null) {
        at = {
          file: decodeURIComponent(new URL(m[1]).pathname),
          line: Number(m[2]),
          col: Number(m[3]),
        };
        break;
      }
    }
  }
  const where = at === undefined
    ? ""
    : ` (${
      at.file !== undefined && at.file !== file ? `${at.file} ` : ""
    }line ${at.line}${at.col !== undefined ? `, column ${at.col}` : ""})`;
  return `${name}: ${text}${where}`;
}
