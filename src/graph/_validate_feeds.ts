/**
 * Validation of in-ports that take one connection (`multiple: false`): the
 * edges that feed each, counted through subgraph exports and inside the
 * subgraph as well.
 *
 * @module
 */
import { type InnerInPort, innerInPort } from "./_inner_port.ts";
import { joinKey } from "./_path.ts";
import { listNames, type Report, type ResolvedEnd } from "./_validation.ts";
import { subgraphOf } from "./subgraph.ts";

interface _Feeds {
  end: ResolvedEnd;
  paths: string[];
  ports: Set<string>;
  inner?: InnerInPort;
}

/**
 * Collects the edges of a graph by the in-port they feed, then reports the
 * single-connection ports fed more than once.
 */
export class FeedCheck {
  readonly #feeds = new Map<string, _Feeds>();

  /** Counts the edge at `path` (not an IIP) that feeds `tgt`. */
  add(tgt: ResolvedEnd, path: string): void {
    // Connections to distinct slots of an addressable port do not share it.
    if (tgt.spec?.addressable && tgt.index === undefined) return;
    // Through a subgraph, the port that counts is the inner one: it may
    // be exported twice, or fed inside the subgraph as well.
    const inner = tgt.component && subgraphOf(tgt.component)
      ? innerInPort(tgt.component, tgt.port, tgt.index)
      : undefined;
    const key = inner
      ? `\0${tgt.process}/${inner.process}\0${inner.port}\0${inner.index ?? ""}`
      : `${tgt.process}\0${tgt.port}\0${tgt.index ?? ""}`;
    const entry = this.#feeds.get(key) ??
      { end: tgt, paths: [], ports: new Set(), inner };
    entry.paths.push(path);
    entry.ports.add(tgt.port);
    this.#feeds.set(key, entry);
  }

  /** Reports each single-connection port that more than one edge feeds. */
  check(report: Report): void {
    for (const { end, paths, ports, inner } of this.#feeds.values()) {
      if (end.spec?.multiple !== false) continue;
      if (inner && (ports.size > 1 || inner.edges > 0)) {
        if (paths.length + inner.edges < 2) continue;
        const exports = [...ports].map((p) => `"${p}"`);
        const feeders = inner.edges === 0
          ? listNames(paths)
          : `${listNames(paths)} and ${
            inner.edges === 1 ? "a connection" : `${inner.edges} connections`
          } inside subgraph "${end.component?.name}"`;
        report(
          joinKey(paths[paths.length > 1 ? 1 : 0], "tgt"),
          `in-port "${inner.port}" of "${end.process}/${inner.process}" (${inner.component.name}) takes one connection, but ${feeders} feed it (through ${
            listNames(exports)
          } of "${end.process}"); remove all but one, or merge them in a process first`,
        );
        continue;
      }
      if (paths.length < 2) continue;
      report(
        joinKey(paths[1], "tgt"),
        `in-port "${end.port}" of "${end.process}" (${end.component?.name}) takes one connection, but ${
          listNames(paths)
        } ${
          paths.length > 2 ? "all" : "both"
        } feed it; remove all but one, or merge them in a process first`,
      );
    }
  }
}
