/**
 * A graph's allow list (`properties.allow`, `# @allow` in .fbp): its shape
 * checked, and the registry a flow of the graph looks its components up
 * in, each component limited to the list (see `src/engine/flow_allow.ts`).
 * Validation and the build both use that registry, so a path outside the
 * list is a validation problem when it is an IIP and a process error when
 * it arrives in a message.
 *
 * @module
 */
import { describeValue } from "../engine/component.ts";
import type { Component } from "../engine/component.ts";
import {
  ALLOW_KINDS,
  type FlowAllow,
  restrictComponent,
} from "../engine/flow_allow.ts";
import { Registry } from "../engine/registry.ts";
import { errorMessage, isRecord } from "./_validation.ts";
import type { Report } from "./_validation.ts";
import { defineSubgraph, subgraphOf } from "./subgraph.ts";

/** Checks `properties.allow` (when present): an object of lists of strings. */
export function _checkAllow(allow: unknown, report: Report): void {
  if (allow === undefined) return;
  const example = '{ "files": ["in/", "out/report.csv"] }';
  if (!isRecord(allow)) {
    report(
      "properties.allow",
      `allow must be an object of lists, as ${example}, received ${
        describeValue(allow)
      }`,
    );
    return;
  }
  for (const [kind, list] of Object.entries(allow)) {
    const path = `properties.allow.${kind}`;
    if (!(ALLOW_KINDS as readonly string[]).includes(kind)) {
      report(
        path,
        `allow has no kind ${JSON.stringify(kind)}; the kinds are ${
          ALLOW_KINDS.join(", ")
        }`,
      );
      continue;
    }
    if (
      !Array.isArray(list) ||
      !list.every((x) => typeof x === "string" && x !== "")
    ) {
      report(
        path,
        `allow.${kind} must be a list of non-empty strings, received ${
          describeValue(list)
        }`,
      );
    }
  }
}

/** The graph's allow list when it has a well-formed one, else `undefined`. */
export function _allowOf(properties: unknown): FlowAllow | undefined {
  if (!isRecord(properties) || !isRecord(properties.allow)) return undefined;
  const problems: string[] = [];
  _checkAllow(properties.allow, (_path, message) => problems.push(message));
  return problems.length === 0 ? properties.allow as FlowAllow : undefined;
}

/**
 * The kinds of `properties.allow` whose lists are well-formed, when the
 * list as a whole is not (a kind misspelt beside them): their entries can
 * still be checked, so that validation reports every problem at once.
 * `undefined` when `allow` is no object.
 */
export function _wellFormedKinds(properties: unknown): FlowAllow | undefined {
  if (!isRecord(properties) || !isRecord(properties.allow)) return undefined;
  const kinds: FlowAllow = {};
  for (const kind of ALLOW_KINDS) {
    const list = properties.allow[kind];
    if (
      Array.isArray(list) &&
      list.every((x) => typeof x === "string" && x !== "")
    ) {
      kinds[kind] = list;
    }
  }
  return kinds;
}

/** An entry of an allow list that a component refused, and why. */
export interface _AllowProblem {
  /** The kind of the list: `files`, `hosts` or `exec`. */
  kind: keyof FlowAllow;
  message: string;
}

/**
 * Restricted views by registry and allow list, and restricted components
 * by component and allow list: the same inputs give the same objects, so
 * the subgraph checks that compare components (a subgraph containing
 * itself) still terminate, and a flow validated again costs a lookup.
 * Each map keeps at most {@linkcode _MAX_LISTS} allow lists.
 */
const _views = new WeakMap<
  Registry,
  Map<string, { registry: Registry; problems: Map<string, _AllowProblem> }>
>();
const _limited = new WeakMap<
  Component,
  Map<string, { component: Component; problems: readonly _AllowProblem[] }>
>();
const _MAX_LISTS = 64;

function _slot<K extends object, V>(
  map: WeakMap<K, Map<string, V>>,
  key: K,
): Map<string, V> {
  let byList = map.get(key);
  if (byList === undefined) {
    byList = new Map();
    map.set(key, byList);
  }
  if (byList.size >= _MAX_LISTS) byList.clear();
  return byList;
}

/**
 * `registry` as a flow whose graph has `allow` sees it: each component
 * limited to the list, subgraphs included (their inner registries too),
 * and the problems an entry raised (a file outside the data folder, a
 * host that is no host name),
 * whose component is limited to the other entries. Subgraph components
 * are restricted when first looked up.
 */
export function _restrictRegistry(
  registry: Registry,
  allow: FlowAllow,
): { registry: Registry; problems: _AllowProblem[] } {
  const list = JSON.stringify(allow);
  const views = _slot(_views, registry);
  const known = views.get(list);
  if (known !== undefined) {
    return { registry: known.registry, problems: [...known.problems.values()] };
  }
  const problems = new Map<string, _AllowProblem>();
  const view = new _RestrictedRegistry(
    registry,
    (c) => _restrictOne(c, allow, list, problems),
  );
  views.set(list, { registry: view, problems });
  // The components that are not subgraphs now, so the problems are known
  // (a subgraph, restricted, defines itself again: only when looked up).
  for (const c of _plainComponents(registry)) {
    _restrictOne(c, allow, list, problems);
  }
  return { registry: view, problems: [...problems.values()] };
}

function _restrictOne(
  component: Component,
  allow: FlowAllow,
  list: string,
  problems: Map<string, _AllowProblem>,
): Component {
  const slot = _slot(_limited, component);
  const known = slot.get(list);
  if (known !== undefined) {
    for (const p of known.problems) _addProblem(problems, p);
    return known.component;
  }
  // A subgraph that contains itself (refused by validation) meets itself
  // here: it is looked up as it is while being restricted.
  slot.set(list, { component, problems: [] });
  const found: _AllowProblem[] = [];
  let limited: Component;
  const definition = subgraphOf(component);
  if (definition !== undefined) {
    limited = defineSubgraph(
      component.name,
      definition.graph,
      _restrictRegistry(definition.registry, allow).registry,
      { description: component.description },
    );
  } else {
    try {
      limited = restrictComponent(component, allow);
    } catch {
      // Each refused entry (of any kind) is a problem; the others still
      // apply. An entry is tried alone: a kind left out refuses nothing.
      const kept: FlowAllow = {};
      for (const kind of ALLOW_KINDS) {
        const entries = allow[kind];
        if (entries === undefined) continue;
        const good: string[] = [];
        for (const entry of entries) {
          try {
            restrictComponent(component, { [kind]: [entry] });
            good.push(entry);
          } catch (e) {
            found.push({ kind, message: errorMessage(e) });
          }
        }
        kept[kind] = good;
      }
      limited = restrictComponent(component, kept);
    }
  }
  slot.set(list, { component: limited, problems: found });
  for (const p of found) _addProblem(problems, p);
  return limited;
}

function _addProblem(
  problems: Map<string, _AllowProblem>,
  p: _AllowProblem,
): void {
  problems.set(`${p.kind}\u0000${p.message}`, p);
}

/**
 * The components of `registry` that are not subgraphs, as it gives them
 * (a restricted view restricts them), without restricting any subgraph.
 */
function _plainComponents(registry: Registry): Component[] {
  return registry instanceof _RestrictedRegistry
    ? registry.plainComponents()
    : registry.components().filter((c) => subgraphOf(c) === undefined);
}

/** A registry's components as `restrict` limits them, looked up lazily. */
class _RestrictedRegistry extends Registry {
  readonly #base: Registry;
  readonly #restrict: (c: Component) => Component;

  constructor(base: Registry, restrict: (c: Component) => Component) {
    super();
    this.#base = base;
    this.#restrict = restrict;
  }

  override register(component: Component): this {
    throw new TypeError(
      `Cannot register component "${component.name}" in a flow's restricted view of a registry; register it in the registry itself`,
    );
  }

  override get(name: string): Component | undefined {
    const c = this.#base.get(name);
    return c === undefined ? undefined : this.#restrict(c);
  }

  override has(name: string): boolean {
    return this.#base.has(name);
  }

  override names(): string[] {
    return this.#base.names();
  }

  override components(): Component[] {
    return this.#base.components().map(this.#restrict);
  }

  /** The components that are not subgraphs, restricted. */
  plainComponents(): Component[] {
    return _plainComponents(this.#base).map(this.#restrict);
  }

  override aliasesOf(name: string): string[] {
    return this.#base.aliasesOf(name);
  }

  override closest(name: string): string | undefined {
    return this.#base.closest(name);
  }
}
