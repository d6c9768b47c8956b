/**
 * Validation of subgraph processes as the outer graph sees them: settings
 * that do not apply to them, a subgraph that contains itself, and names
 * that clash once subgraphs are flattened. (The problems inside a subgraph
 * are its own graph's, found by validating that graph.)
 *
 * @module
 */
import { quote } from "../engine/excerpt.ts";
import type { Component } from "../engine/component.ts";
import { joinKey } from "./_path.ts";
import { isRecord, type Report } from "./_validation.ts";
import { PROCESS_SETTINGS } from "./_validate_settings.ts";
import { subgraphOf } from "./subgraph.ts";

/**
 * Reports the process settings in `metadata` of subgraph process `name`:
 * it runs as its inner processes, which take them instead.
 */
export function checkSubgraphSettings(
  name: string,
  component: Component,
  metadata: unknown,
  path: string,
  report: Report,
): void {
  if (!isRecord(metadata)) return;
  for (const setting of PROCESS_SETTINGS) {
    if (metadata[setting] !== undefined) {
      report(
        joinKey(joinKey(path, "metadata"), setting),
        `${setting} does not apply to process ${
          quote(name)
        }: it is the subgraph "${component.name}", which runs as its inner processes; set ${setting} on those`,
      );
    }
  }
}

/**
 * Reports at `path` a subgraph that contains itself, directly or through
 * others; returns whether it does.
 */
export function checkSubgraphCycle(
  component: Component,
  path: string,
  report: Report,
): boolean {
  const cycle = _subgraphCycle(component, [component]);
  if (!cycle) return false;
  report(
    path,
    `subgraph "${cycle[cycle.length - 1]}" contains itself (${
      cycle.join(" -> ")
    }); a subgraph cannot include itself, directly or through other subgraphs`,
  );
  return true;
}

/**
 * Reports names that two processes take once subgraphs are flattened: an
 * outer process named like an inner one (`S/Log` beside subgraph process
 * `S`), or two subgraph processes whose inner names meet (`S` holding
 * `A/B` and `S/A` holding `B` both give `S/A/B`). `cyclic` names the
 * subgraph processes that contain themselves, which are not flattened.
 */
export function checkFlatNames(
  components: ReadonlyMap<string, Component | undefined>,
  cyclic: ReadonlySet<string>,
  report: Report,
): void {
  const owners = new Map<string, string>();
  const flat = new Map<string, string[]>();
  for (const [name, component] of components) {
    const names = component && subgraphOf(component) && !cyclic.has(name)
      ? _flatNames(component, `${name}/`)
      : [name];
    flat.set(name, names);
    // A plain process owns its own name, whoever comes first.
    if (names.length === 1 && names[0] === name) owners.set(name, name);
  }
  for (const [name, names] of flat) {
    if (names.length === 1 && names[0] === name) continue;
    const component = components.get(name)!;
    for (const inner of names) {
      const owner = owners.get(inner);
      if (owner === undefined) {
        owners.set(inner, name);
      } else if (owner === inner) {
        report(
          joinKey("processes", inner),
          `process ${quote(inner)} has the name that process ${
            quote(name)
          } (subgraph "${component.name}") gives one of its inner processes; rename it`,
        );
      } else if (owner !== name) {
        const other = components.get(owner)!;
        report(
          joinKey("processes", name),
          `processes ${quote(owner)} (subgraph "${other.name}") and ${
            quote(name)
          } (subgraph "${component.name}") both give an inner process the name ${
            quote(inner)
          } once flattened; rename one of them`,
        );
      }
    }
  }
}

/** The chain of subgraph names that leads back to one already in `chain`. */
function _subgraphCycle(
  component: Component,
  chain: Component[],
): string[] | undefined {
  const definition = subgraphOf(component);
  if (!definition || !isRecord(definition.graph.processes)) return undefined;
  for (const p of Object.values(definition.graph.processes)) {
    if (!isRecord(p) || typeof p.component !== "string") continue;
    const inner = definition.registry.get(p.component);
    if (!inner || !subgraphOf(inner)) continue;
    const next = [...chain, inner];
    if (chain.includes(inner)) return next.map((c) => c.name);
    const found = _subgraphCycle(inner, next);
    if (found) return found;
  }
  return undefined;
}

/** The names a subgraph's processes take once flattened under `prefix`. */
function _flatNames(component: Component, prefix: string): string[] {
  const definition = subgraphOf(component);
  if (!definition || !isRecord(definition.graph.processes)) return [];
  const names: string[] = [];
  for (const [name, p] of Object.entries(definition.graph.processes)) {
    const inner = isRecord(p) && typeof p.component === "string"
      ? definition.registry.get(p.component)
      : undefined;
    if (inner && subgraphOf(inner)) {
      names.push(..._flatNames(inner, `${prefix}${name}/`));
    } else {
      names.push(`${prefix}${name}`);
    }
  }
  return names;
}
