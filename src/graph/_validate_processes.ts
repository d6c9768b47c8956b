/**
 * The components' checks across a flow's processes
 * (`ComponentSpec.checkProcesses`), run on the flattened spec before the
 * flow runs: what no process can know alone, such as two of one flow that
 * would fail its start together.
 *
 * @module
 */
import type { Component, ProcessSettings } from "../engine/component.ts";
import type { NetworkSpec } from "../engine/spec.ts";
import type { Problem } from "./problem.ts";
import { convertIip } from "./_iip.ts";
import { joinKey } from "./_path.ts";

/**
 * The problems the `checkProcesses` of the flattened `spec`'s components
 * find, each at the path of the graph's process (a subgraph's inner
 * process is the subgraph process's, outside), with the check's message.
 * Each check is called once, with the processes of every component that
 * declares it, in the spec's order.
 */
export function processProblems(spec: NetworkSpec): Problem[] {
  const checks = new Map<
    NonNullable<Component["checkProcesses"]>,
    { component: string; processes: ProcessSettings[] }
  >();
  for (const p of spec.processes) {
    const check = p.component.checkProcesses;
    if (check === undefined) continue;
    let entry = checks.get(check);
    if (entry === undefined) {
      entry = { component: p.component.name, processes: [] };
      checks.set(check, entry);
    }
    entry.processes.push({
      process: p.name,
      settings: _settings(spec, p.name, p.component),
    });
  }
  const problems: Problem[] = [];
  for (const [check, { component, processes }] of checks) {
    const names = new Set(processes.map((p) => p.process));
    const at = (process: string) =>
      names.has(process) ? joinKey("processes", process.split("/")[0]) : "$";
    const found: Problem[] = [];
    try {
      const answer = check(processes);
      if (!Array.isArray(answer)) {
        throw new TypeError(
          `it returned ${
            answer === null ? "null" : typeof answer
          }, not a list of { process, message }`,
        );
      }
      for (const { process, message } of answer) {
        found.push({ path: at(process), message: String(message) });
      }
    } catch (e) {
      // A component of the operator's with a broken check: the flow
      // cannot be shown valid, and the problem says whose check it is.
      problems.push({
        path: at(processes[0].process),
        message: `component ${
          JSON.stringify(component)
        } could not check the processes that use it (${
          [...names].join(", ")
        }): ${e instanceof Error ? e.message : String(e)}`,
      });
      continue;
    }
    problems.push(...found);
  }
  return problems;
}

/**
 * The in-ports' values as the process would start with them: each one's
 * initial packet parsed, or its default when nothing feeds it; no entry
 * for a port a connection or an export feeds (a value of run time), or
 * more than one initial packet, or one its `parse` refuses.
 */
function _settings(
  spec: NetworkSpec,
  process: string,
  component: Component,
): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [port, portSpec] of Object.entries(component.inPorts)) {
    const feeds = (ref: { process: string; port: string }) =>
      ref.process === process && ref.port === port;
    if (
      spec.connections.some((c) => feeds(c.to)) ||
      Object.values(spec.inports ?? {}).some(feeds)
    ) {
      continue;
    }
    const initials = (spec.initials ?? []).filter((i) => feeds(i.to));
    if (initials.length === 0) {
      if (portSpec.default !== undefined) settings[port] = portSpec.default;
      continue;
    }
    if (initials.length > 1) continue;
    try {
      // As the build delivers it: a string converted by the port's type
      // (a JSON object's text for an object port) before its parse.
      const value = convertIip(portSpec.type, initials[0].data);
      settings[port] = portSpec.parse ? portSpec.parse(value) : value;
    } catch {
      // A value its port refuses is that port's problem, found before.
    }
  }
  return settings;
}
