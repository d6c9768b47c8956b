/**
 * The model of a flow's drawing: its processes with their ports and its
 * connections, from a `stats` snapshot or the stored graph. No DOM: the
 * tests read it on the runtimes.
 *
 * @module
 */
import { connKey, type NetworkStats } from "./stats.ts";

/** An end of a connection in fbp-graph JSON. */
export interface ModelGraphEnd {
  process: string;
  port: string;
  index?: number;
}

/** As much of fbp-graph JSON as the model reads. */
export interface ModelGraph {
  processes: Record<string, { component: string }>;
  connections: Array<
    { src?: ModelGraphEnd; tgt: ModelGraphEnd; data?: unknown }
  >;
}

/** As much of a component of `GET /components` as the model reads. */
export interface ModelComponent {
  inPorts: Array<{ name: string }>;
  outPorts: Array<{ name: string }>;
}

/** A port of a drawn process; `iip` is the text of its initial packet. */
export interface PortModel {
  name: string;
  iip?: string;
}

/** A drawn process. */
export interface NodeModel {
  name: string;
  component: string;
  ins: PortModel[];
  outs: PortModel[];
  /** Takes no data from another process. */
  source: boolean;
}

/** A drawn connection, ends as "Proc.port". */
export interface EdgeModel {
  from: string;
  to: string;
  key: string;
}

/** What is drawn. */
export interface GraphModel {
  nodes: NodeModel[];
  edges: EdgeModel[];
  /** Equal for two models that draw the same. */
  signature: string;
}

/**
 * `P.port` (or `P.port[i]`) as its process and port: the port is after the
 * last dot, since a process name may hold dots.
 */
export function splitEnd(end: string): [string, string] {
  const dot = end.lastIndexOf(".");
  return dot === -1 ? [end, ""] : [end.slice(0, dot), end.slice(dot + 1)];
}

/** `port`, or `port[i]` at an addressable port's index (as stats name it). */
function _portName(end: ModelGraphEnd): string {
  return end.index === undefined ? end.port : `${end.port}[${end.index}]`;
}

/** `P.port`, or `P.port[i]` at an addressable port's index. */
function _endName(end: ModelGraphEnd): string {
  return `${end.process}.${_portName(end)}`;
}

function _iipText(data: unknown): string {
  const t = typeof data === "string" ? data : JSON.stringify(data);
  return t.length > 120 ? `${t.slice(0, 117)}…` : t;
}

/**
 * The model of a flow: its processes and connections from the stats
 * snapshot when there is a whole one (it names flattened subgraphs' inner
 * processes and every port used), else from the stored graph; ports from
 * the component catalogue too, so unconnected ones show.
 */
export function buildModel(
  graph: ModelGraph | undefined,
  catalogue: Map<string, ModelComponent>,
  stats: NetworkStats | null,
): GraphModel {
  const nodes = new Map<string, NodeModel>();
  const useStats = stats !== null && stats.truncated === undefined &&
    stats.processes.length > 0;
  const port = (list: PortModel[], name: string) => {
    let p = list.find((x) => x.name === name);
    if (p === undefined) list.push(p = { name });
    return p;
  };
  const node = (name: string, component: string) => {
    let n = nodes.get(name);
    if (n === undefined) {
      n = { name, component, ins: [], outs: [], source: true };
      const c = catalogue.get(component);
      for (const p of c?.inPorts ?? []) n.ins.push({ name: p.name });
      for (const p of c?.outPorts ?? []) n.outs.push({ name: p.name });
      nodes.set(name, n);
    }
    return n;
  };
  const edges = new Map<string, EdgeModel>();
  if (useStats) {
    for (const p of stats.processes) {
      const n = node(p.name, p.component);
      for (const k in p.messagesIn) port(n.ins, k);
      for (const k in p.messagesOut) port(n.outs, k);
    }
    for (const c of stats.connections) {
      if (c.from === null) continue;
      edges.set(connKey(c.from, c.to), {
        from: c.from,
        to: c.to,
        key: connKey(c.from, c.to),
      });
    }
  } else if (graph !== undefined) {
    for (const [name, p] of Object.entries(graph.processes)) {
      node(name, p.component);
    }
    for (const c of graph.connections) {
      if (c.src === undefined) continue;
      const from = _endName(c.src);
      const to = _endName(c.tgt);
      edges.set(connKey(from, to), { from, to, key: connKey(from, to) });
    }
  }
  for (const e of edges.values()) {
    const [fp, fport] = splitEnd(e.from);
    const [tp, tport] = splitEnd(e.to);
    const a = nodes.get(fp);
    const b = nodes.get(tp);
    if (a === undefined || b === undefined) {
      edges.delete(e.key);
      continue;
    }
    port(a.outs, fport);
    port(b.ins, tport);
    b.source = false;
  }
  for (const c of graph?.connections ?? []) {
    if (c.src !== undefined || !("data" in c)) continue;
    const n = nodes.get(c.tgt.process);
    if (n !== undefined) {
      port(n.ins, _portName(c.tgt)).iip = _iipText(c.data);
    }
  }
  // An addressable port drawn by its indexes (out[0], out[1]) is not drawn
  // once more, bare and unconnected, from the catalogue or the counts.
  const connected = new Set(
    [...edges.values()].flatMap((e) => [`>${e.from}`, `<${e.to}`]),
  );
  const indexed = (n: NodeModel, list: PortModel[], dir: string) =>
    list.filter((p) =>
      p.iip !== undefined || connected.has(`${dir}${n.name}.${p.name}`) ||
      !list.some((q) => q.name.startsWith(`${p.name}[`))
    );
  for (const n of nodes.values()) {
    n.ins = indexed(n, n.ins, "<");
    n.outs = indexed(n, n.outs, ">");
  }
  const list = [...nodes.values()];
  const signature =
    list.map((n) =>
      `${n.name}(${n.component}):${n.ins.map((p) => p.name)}/${
        n.outs.map((p) => p.name)
      }`
    ).join(";") + "|" + [...edges.keys()].join(";");
  return { nodes: list, edges: [...edges.values()], signature };
}
