/**
 * The routes of a flow's `http/In` processes, checked before the flow
 * runs: two of one flow that serve the same method and path would fail its
 * start (the router refuses the second), so validation says so first.
 *
 * The route logic is `http_route_pattern.ts`'s, a module that imports
 * nothing, so that validation and the router cannot disagree on what the
 * same route is. A departure from DESIGN.md's dependency direction
 * (`graph -> engine` only): `src/graph` imports this one module of
 * `src/components`, and knows `http/In` by its name. A check across a
 * flow's processes declared by the component (a hook in
 * `engine/component.ts` that validation calls for every component) would
 * remove both; not done yet.
 *
 * @module
 */
import type { Component } from "../engine/component.ts";
import type { NetworkSpec } from "../engine/spec.ts";
import {
  compileRoutePattern,
  type RoutePattern,
  sharedRoute,
} from "../components/http_route_pattern.ts";
import type { Problem } from "./problem.ts";
import { joinKey } from "./_path.ts";

interface _Route {
  process: string;
  methods: readonly string[];
  pattern: RoutePattern;
}

/**
 * A problem for each `http/In` of the flattened `spec` that serves a method
 * and path an earlier one serves already (the same pattern up to parameter
 * names and a trailing `/`), at the path of the graph's process (a
 * subgraph's inner process is the subgraph process's, outside). Only routes
 * the graph's initial packets settle count: a `method` or `path` fed by a
 * connection or an exported port is known only when the flow runs, where
 * the router checks it.
 */
export function routeProblems(spec: NetworkSpec): Problem[] {
  const problems: Problem[] = [];
  const routes: _Route[] = [];
  for (const p of spec.processes) {
    if (p.component.name !== "http/In") continue;
    const route = _routeOf(spec, p.name, p.component);
    if (route === undefined) continue;
    for (const r of routes) {
      const both = sharedRoute(
        r.methods,
        r.pattern,
        route.methods,
        route.pattern,
      )
        .join(",");
      if (both === "") continue;
      problems.push({
        path: joinKey("processes", p.name.split("/")[0]),
        message:
          `Cannot serve ${both} ${route.pattern.source} from process "${p.name}" (http/In): process "${r.process}" serves ${both} ${r.pattern.source} already, the same method and path, so the flow would fail to start; give each http/In its own method or path`,
      });
      break;
    }
    routes.push(route);
  }
  return problems;
}

/** The route of an `http/In` process, when its initial packets settle it. */
function _routeOf(
  spec: NetworkSpec,
  process: string,
  component: Component,
): _Route | undefined {
  const methods = _setting(spec, process, component, "method");
  const path = _setting(spec, process, component, "path");
  if (!Array.isArray(methods) || typeof path !== "string") return undefined;
  try {
    return { process, methods, pattern: compileRoutePattern(path) };
  } catch {
    return undefined; // A bad pattern is the IIP check's problem.
  }
}

/**
 * A control port's value as the process would start with it: its one
 * initial packet parsed, or its default when nothing feeds it; `undefined`
 * when a connection or an export feeds it (a value of run time), or more
 * than one initial packet, or one its `parse` refuses.
 */
function _setting(
  spec: NetworkSpec,
  process: string,
  component: Component,
  port: string,
): unknown {
  const feeds = (ref: { process: string; port: string }) =>
    ref.process === process && ref.port === port;
  if (
    spec.connections.some((c) => feeds(c.to)) ||
    Object.values(spec.inports ?? {}).some(feeds)
  ) {
    return undefined;
  }
  const initials = (spec.initials ?? []).filter((i) => feeds(i.to));
  const portSpec = component.inPorts[port];
  if (initials.length === 0) return portSpec?.default;
  if (initials.length > 1) return undefined;
  try {
    return portSpec?.parse
      ? portSpec.parse(initials[0].data)
      : initials[0].data;
  } catch {
    return undefined;
  }
}
