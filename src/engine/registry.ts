/**
 * The component registry: names (and aliases) to components.
 *
 * @module
 */
import { type Component, describeValue, isComponent } from "./component.ts";
import { sameMeter } from "./meters.ts";

/** The origin of a component registered without one: weir's built-ins. */
const BUILT_IN = "built-in";

/**
 * Components by catalogue name. Built-ins are registered at build time, with
 * no file-system scan; an alias (e.g. NoFlo's `core/Output`) resolves to the
 * same component.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "./registry.ts";
 * import { defineComponent } from "./component.ts";
 *
 * const registry = new Registry();
 * registry.register(
 *   defineComponent({
 *     name: "my/Noop",
 *     description: "Does nothing.",
 *     inPorts: { in: {} },
 *     process() {},
 *   }),
 *   "my/Nothing",
 * );
 * assert.deepEqual(registry.get("my/Noop")?.name, "my/Noop");
 * assert.deepEqual(registry.get("my/Nothing")?.name, "my/Noop");
 * assert.deepEqual(registry.names(), ["my/Noop", "my/Nothing"]);
 * ```
 */
export class Registry {
  #byName = new Map<string, Component>();
  /** Each name and alias by its {@linkcode _nameKey}. */
  #byKey = new Map<string, string>();
  #aliasOf = new Map<string, string>();
  #originOf = new Map<string, string>();

  /**
   * Registers a component under its name and any aliases; a taken name
   * throws, as does one that differs from a taken one only in case
   * (`my/thing` beside `my/Thing`: see {@linkcode clashingName}), naming
   * both.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { defineComponent } from "./component.ts";
   * import { Registry } from "./registry.ts";
   *
   * const thing = (name: string) =>
   *   defineComponent({ name, description: "", process() {} });
   * const registry = new Registry().register(thing("my/Thing"));
   * assert.throws(
   *   () => registry.register(thing("my/thing")),
   *   {
   *     message:
   *       'Cannot register component "my/thing": the name "my/thing" differs only in case from the built-in "my/Thing"; rename one',
   *   },
   * );
   * ```
   */
  register(component: Component, ...aliases: string[]): this {
    return this.registerFrom(BUILT_IN, component, ...aliases);
  }

  /**
   * Registers a component as {@linkcode register} does, noting where it
   * came from (say, the file of an operator's module), which
   * {@linkcode originOf} tells. A taken name throws, naming both origins.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { defineComponent } from "./component.ts";
   * import { Registry } from "./registry.ts";
   *
   * const Noop = defineComponent({ name: "my/Noop", description: "", process() {} });
   * const registry = new Registry().registerFrom("/srv/ops/noop.ts", Noop);
   * assert.equal(registry.originOf("my/Noop"), "/srv/ops/noop.ts");
   * assert.throws(
   *   () => registry.registerFrom("/srv/ops/other.ts", Noop),
   *   /"my\/Noop" from \/srv\/ops\/other.ts: the name "my\/Noop" is taken by "my\/Noop" from \/srv\/ops\/noop.ts/,
   * );
   * ```
   */
  registerFrom(
    origin: string,
    component: Component,
    ...aliases: string[]
  ): this {
    if (!isComponent(component)) {
      const name = (component as { name?: unknown } | null)?.name;
      throw new TypeError(
        `Cannot register component${
          typeof name === "string" ? ` ${JSON.stringify(name)}` : ""
        }${
          origin === BUILT_IN ? "" : ` from ${origin}`
        }: expected a component made with defineComponent(), received ${
          describeValue(component)
        }`,
      );
    }
    const names = [component.name, ...aliases];
    for (const [i, name] of names.entries()) {
      // Its own names too: an alias that differs from its name only in
      // case is one more spelling of one name.
      const own = names.slice(0, i).find((n) => _nameKey(n) === _nameKey(name));
      const same = own ?? this.clashingName(name);
      if (same === undefined) continue;
      const taken = own === undefined ? this.#byName.get(same)! : component;
      const was = own === undefined ? this.originOf(taken.name) : origin;
      const owner = own !== undefined
        ? `"${component.name}" itself`
        : was === BUILT_IN
        ? `the built-in "${taken.name}"`
        : `"${taken.name}" from ${was}`;
      throw new Error(
        `Cannot register component "${component.name}"${
          origin === BUILT_IN ? "" : ` from ${origin}`
        }: the name "${name}" ${
          same === name
            ? `is taken by ${owner}`
            : `differs only in case from ${
              same === taken.name ? owner : `"${same}", an alias of ${owner}`
            }; rename one`
        }`,
      );
    }
    // One meter name is one metric: every component declaring it agrees.
    for (const m of component.meters ?? []) {
      for (const other of this.#byName.values()) {
        const o = other.meters?.find((x) => x.name === m.name);
        if (o !== undefined && !sameMeter(o, m)) {
          throw new Error(
            `Cannot register component "${component.name}": its meter "${m.name}" differs from the one "${other.name}" declares (type, unit, help and labels must match)`,
          );
        }
      }
    }
    this.#byName.set(component.name, component);
    this.#byKey.set(_nameKey(component.name), component.name);
    if (origin !== BUILT_IN) this.#originOf.set(component.name, origin);
    for (const alias of aliases) {
      this.#byName.set(alias, component);
      this.#byKey.set(_nameKey(alias), alias);
      this.#aliasOf.set(alias, component.name);
    }
    return this;
  }

  /**
   * Where a component (by name) came from, as given to
   * {@linkcode registerFrom}; `"built-in"` for one registered with
   * {@linkcode register} (weir's own, or an embedding app's).
   */
  originOf(name: string): string {
    return this.#originOf.get(name) ?? BUILT_IN;
  }

  /** Registers every component of another registry (aliases and origins kept). */
  extend(other: Registry): this {
    for (const c of other.components()) {
      this.registerFrom(
        other.originOf(c.name),
        c,
        ...other.aliasesOf(c.name),
      );
    }
    return this;
  }

  /**
   * The registered name or alias that `name` would take: `name` itself, or
   * one that differs from it only in case (a graph that writes
   * `core/output` is read as a slip for `core/Output`, so the two cannot
   * be two components); `undefined` when `name` is free. The one rule of
   * which names are taken, for {@linkcode registerFrom} and for weir's
   * loader of component modules, which checks a folder before registering
   * any of it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { defineComponent } from "./component.ts";
   * import { Registry } from "./registry.ts";
   *
   * const registry = new Registry().register(
   *   defineComponent({ name: "core/Output", description: "", process() {} }),
   * );
   * assert.equal(registry.clashingName("core/output"), "core/Output");
   * assert.equal(registry.clashingName("core/Output"), "core/Output");
   * assert.equal(registry.clashingName("core/Outputs"), undefined);
   * ```
   */
  clashingName(name: string): string | undefined {
    return this.#byKey.get(_nameKey(name));
  }

  /** The component with this name or alias, or `undefined`. */
  get(name: string): Component | undefined {
    return this.#byName.get(name);
  }

  /** Whether a name or alias is registered. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Every name and alias, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  /** The components (each once), sorted by name. */
  components(): Component[] {
    return [...new Set(this.#byName.values())].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /** The aliases registered for a component name. */
  aliasesOf(name: string): string[] {
    return [...this.#aliasOf].filter(([, n]) => n === name).map(([a]) => a)
      .sort();
  }

  /**
   * The registered name closest to `name` (edit distance, case-insensitive),
   * for "did you mean" hints; `undefined` when nothing is close.
   */
  closest(name: string): string | undefined {
    return closestName(name, this.names());
  }
}

/**
 * What two component names share when one is taken for the other: their
 * letters, whatever their case.
 */
function _nameKey(name: string): string {
  return name.toLowerCase();
}

/**
 * The candidate closest to `name` by edit distance (case-insensitive), when
 * within a third of its length (at least 2 edits), or within `maxDistance`
 * edits when given, else `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closestName } from "./registry.ts";
 *
 * assert.deepEqual(
 *   closestName("core/Ouput", ["core/Output", "core/Kick"]),
 *   "core/Output",
 * );
 * assert.deepEqual(closestName("zzzzzz", ["core/Output"]), undefined);
 * ```
 */
export function closestName(
  name: string,
  candidates: Iterable<string>,
  maxDistance?: number,
): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = (maxDistance ?? Math.max(2, Math.floor(name.length / 3))) +
    1;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    // A name given without its family ("Output") matches "core/Output".
    const d = Math.min(
      _within(wanted, lc, bestDistance),
      _within(wanted, lc.slice(lc.lastIndexOf("/") + 1), bestDistance),
    );
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

/**
 * The edit distance of `a` and `b`, or Infinity when it cannot be under
 * `bound`: it is at least the difference of their lengths, so a name of a
 * megabyte is not compared letter by letter with every component (that
 * took `weir validate` 21.5 s on Deno); the closest name is the same.
 */
function _within(a: string, b: string, bound: number): number {
  return Math.abs(a.length - b.length) >= bound ? Infinity : _distance(a, b);
}

function _distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j] + 1,
        cur[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length];
}
