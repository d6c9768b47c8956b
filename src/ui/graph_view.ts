/// <reference lib="dom" />
/**
 * A flow drawn as its FBP graph (SVG, laid out by dagre, left to right):
 * processes as boxes with in-ports left and out-ports right, connections
 * as edges with a live label. The SVG is built once per graph shape; each
 * `stats` snapshot only changes texts, widths and classes.
 *
 * @module
 */
import dagre from "@dagrejs/dagre";
import {
  type EdgeModel,
  type GraphModel,
  type NodeModel,
  type PortModel,
  splitEnd,
} from "./graph_model.ts";
import { fmtCount, fmtRate, s, setAttr, setText, toggle } from "./dom.ts";
import {
  breakerState,
  connKey,
  type NetworkStats,
  type RateTracker,
  total,
} from "./stats.ts";

/** What the user picked. */
export type Selection =
  | { kind: "flow" }
  | { kind: "process"; name: string }
  | { kind: "connection"; from: string; to: string };

const HEADER = 46;
const ROW = 18;
const FOOTER = 40;
const LABEL_W = 104;
const LABEL_H = 38;
const BAR_W = 36;

interface NodeRefs {
  g: SVGGElement;
  phase: SVGTextElement;
  pill: SVGRectElement;
  breaker: SVGTextElement;
  rateIn: SVGTextElement;
  rateOut: SVGTextElement;
  delivered: SVGTextElement;
  errors: SVGTextElement;
  source: boolean;
}

interface EdgeRefs {
  g: SVGGElement;
  rate: SVGTextElement;
  delivered: SVGTextElement;
  bar: SVGRectElement;
  depth: SVGTextElement;
  drops: SVGTextElement;
}

/** A count in at most 6 characters ("99,999", "123k", "1.23M"): box footers are narrow. */
function _short(n: number): string {
  return n >= 1e5 && n < 1e6 ? `${Math.floor(n / 1e3)}k` : fmtCount(n);
}

function _textWidth(text: string, px: number): number {
  return text.length * px * 0.6;
}

/** A smooth path through points (a uniform B-spline, d3's curveBasis). */
export function basisPath(pts: Array<{ x: number; y: number }>): string {
  const f = (n: number) => n.toFixed(1);
  if (pts.length < 3) {
    return pts.map((p, i) => `${i === 0 ? "M" : "L"}${f(p.x)},${f(p.y)}`).join(
      "",
    );
  }
  let d = `M${f(pts[0].x)},${f(pts[0].y)}`;
  const p0 = pts[0];
  const p1 = pts[1];
  d += `L${f((5 * p0.x + p1.x) / 6)},${f((5 * p0.y + p1.y) / 6)}`;
  for (let i = 2; i < pts.length; i++) {
    const a = pts[i - 2];
    const b = pts[i - 1];
    const c = pts[i];
    d += `C${f((2 * a.x + b.x) / 3)},${f((2 * a.y + b.y) / 3)} ${
      f((a.x + 2 * b.x) / 3)
    },${f((a.y + 2 * b.y) / 3)} ${f((a.x + 4 * b.x + c.x) / 6)},${
      f((a.y + 4 * b.y + c.y) / 6)
    }`;
  }
  const a = pts[pts.length - 2];
  const b = pts[pts.length - 1];
  d += `C${f((2 * a.x + b.x) / 3)},${f((2 * a.y + b.y) / 3)} ${
    f((a.x + 2 * b.x) / 3)
  },${f((a.y + 2 * b.y) / 3)} ${f(b.x)},${f(b.y)}`;
  return d;
}

/** The drawing of one flow. */
export class GraphView {
  /** The scrolling box that holds the SVG. */
  readonly el: HTMLDivElement;
  #svg: SVGSVGElement | null = null;
  #signature = "";
  #nodes = new Map<string, NodeRefs>();
  #edges = new Map<string, EdgeRefs>();
  #selected: Element | null = null;
  readonly #onSelect: (sel: Selection) => void;
  readonly #observer: ResizeObserver;
  #natural = { w: 0, h: 0 };

  constructor(onSelect: (sel: Selection) => void) {
    this.#onSelect = onSelect;
    this.el = document.createElement("div");
    this.el.className = "graph-wrap";
    this.#observer = new ResizeObserver(() => this.#fit());
    this.#observer.observe(this.el);
    this.el.addEventListener("click", (e) => {
      const t = e.target as Element | null;
      const box = t?.closest("[data-testid=process-box]");
      const edge = t?.closest("[data-testid=edge]");
      if (box) {
        this.#onSelect({
          kind: "process",
          name: box.getAttribute("data-process")!,
        });
      } else if (edge) {
        this.#onSelect({
          kind: "connection",
          from: edge.getAttribute("data-from")!,
          to: edge.getAttribute("data-to")!,
        });
      } else {
        this.#onSelect({ kind: "flow" });
      }
    });
  }

  /** The model drawn now (its signature). */
  get signature(): string {
    return this.#signature;
  }

  /** Draws the model, unless it draws the same as now. */
  setModel(model: GraphModel): void {
    if (model.signature === this.#signature && this.#svg !== null) return;
    this.#signature = model.signature;
    this.#nodes.clear();
    this.#edges.clear();
    this.#selected = null;
    this.#svg?.remove();
    this.#svg = this.#draw(model);
    this.el.append(this.#svg);
    this.#fit();
  }

  /** Scales a graph larger than its box down to fit (to 60 %; then it scrolls). */
  #fit(): void {
    const svg = this.#svg;
    if (svg === null || this.#natural.w === 0) return;
    const aw = this.el.clientWidth - 8;
    const ah = this.el.clientHeight - 8;
    if (aw <= 0 || ah <= 0) return;
    const k = Math.max(
      0.6,
      Math.min(1, aw / this.#natural.w, ah / this.#natural.h),
    );
    setAttr(svg, "width", (this.#natural.w * k).toFixed(0));
    setAttr(svg, "height", (this.#natural.h * k).toFixed(0));
  }

  #draw(model: GraphModel): SVGSVGElement {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({
      rankdir: "LR",
      nodesep: 24,
      ranksep: 24,
      edgesep: 24,
      marginx: 24,
      marginy: 24,
    });
    g.setDefaultEdgeLabel(() => ({}));
    const size = new Map<string, { w: number; h: number }>();
    for (const n of model.nodes) {
      const longest = (l: PortModel[]) =>
        Math.max(0, ...l.map((p) => _textWidth(p.name, 11)));
      // 180: room for "99,999 taken" and "99,999 errors" side by side.
      const w = Math.max(
        180,
        _textWidth(n.name, 13) + 84,
        _textWidth(n.component, 11) + 70,
        longest(n.ins) + longest(n.outs) + 48,
      );
      const rows = Math.max(1, n.ins.length, n.outs.length);
      const hgt = HEADER + rows * ROW + 6 + FOOTER;
      size.set(n.name, { w, h: hgt });
      g.setNode(n.name, { width: w, height: hgt });
    }
    for (const e of model.edges) {
      g.setEdge(splitEnd(e.from)[0], splitEnd(e.to)[0], {
        width: LABEL_W,
        height: LABEL_H,
        labelpos: "c",
      }, e.key);
    }
    dagre.layout(g);
    const gl = g.graph();
    // dagre sizes a graph of no nodes -Infinity.
    const dim = (v: number | undefined, d: number) =>
      v !== undefined && Number.isFinite(v) && v > 0 ? Math.ceil(v) : d;
    const W = dim(gl.width, 400);
    const H = dim(gl.height, 300);
    this.#natural = { w: W, h: H };
    const svg = s("svg", {
      class: "graph",
      "data-testid": "graph",
      width: W,
      height: H,
      viewBox: `0 0 ${W} ${H}`,
    });
    svg.append(
      s(
        "defs",
        {},
        s(
          "marker",
          {
            id: "arrow",
            viewBox: "0 0 10 10",
            refX: 9,
            refY: 5,
            markerWidth: 9,
            markerHeight: 9,
            markerUnits: "userSpaceOnUse",
            orient: "auto-start-reverse",
          },
          s("path", { d: "M0,1L9,5L0,9z", class: "arrow-head" }),
        ),
      ),
    );
    const edgeLayer = s("g", { class: "edges" });
    const nodeLayer = s("g", { class: "nodes" });
    svg.append(edgeLayer, nodeLayer);
    const byName = new Map(model.nodes.map((n) => [n.name, n]));
    const portPos = (end: string, out: boolean) => {
      const [proc, port] = splitEnd(end);
      const n = byName.get(proc)!;
      const box = g.node(proc);
      const sz = size.get(proc)!;
      const list = out ? n.outs : n.ins;
      const i = Math.max(0, list.findIndex((p) => p.name === port));
      return {
        x: (box.x ?? 0) + (out ? sz.w / 2 : -sz.w / 2),
        y: (box.y ?? 0) - sz.h / 2 + HEADER + i * ROW + ROW / 2,
      };
    };
    for (const e of model.edges) {
      const [fp] = splitEnd(e.from);
      const [tp] = splitEnd(e.to);
      const lab = g.edge(fp, tp, e.key);
      const a = portPos(e.from, true);
      const b = portPos(e.to, false);
      const mid = (lab.points ?? []).slice(1, -1);
      const pts = [
        a,
        { x: a.x + 18, y: a.y },
        ...mid,
        { x: b.x - 18, y: b.y },
        b,
      ];
      const d = basisPath(pts);
      const lx = (lab.x ?? (a.x + b.x) / 2) - LABEL_W / 2;
      const ly = (lab.y ?? (a.y + b.y) / 2) - LABEL_H / 2;
      this.#edgeEl(e, d, lx, ly, edgeLayer);
    }
    for (const n of model.nodes) {
      const box = g.node(n.name);
      const sz = size.get(n.name)!;
      nodeLayer.append(
        this.#nodeEl(
          n,
          (box.x ?? 0) - sz.w / 2,
          (box.y ?? 0) - sz.h / 2,
          sz.w,
          sz.h,
        ),
      );
    }
    return svg;
  }

  #edgeEl(
    e: EdgeModel,
    d: string,
    lx: number,
    ly: number,
    layer: SVGGElement,
  ): void {
    const rate = s("text", {
      x: 8,
      y: 15,
      class: "lbl-rate",
      "data-testid": "conn-rate",
    }, "–");
    const delivered = s("text", {
      x: LABEL_W - 8,
      y: 15,
      class: "lbl-count",
      "text-anchor": "end",
      "data-testid": "conn-delivered",
    }, "0");
    const bar = s("rect", {
      x: 8,
      y: 23,
      width: 0,
      height: 7,
      rx: 2,
      class: "bar-fill",
    });
    const depth = s(
      "text",
      { x: BAR_W + 14, y: 30, class: "lbl-small" },
      "0/0",
    );
    const drops = s("text", {
      x: LABEL_W - 8,
      y: 30,
      class: "lbl-drops",
      "text-anchor": "end",
      "data-testid": "conn-drops",
    }, "");
    const label = s(
      "g",
      {
        class: "edge-label",
        transform: `translate(${lx.toFixed(1)},${ly.toFixed(1)})`,
      },
      s("rect", {
        width: LABEL_W,
        height: LABEL_H - 4,
        rx: 6,
        class: "label-bg",
      }),
      rate,
      delivered,
      s("rect", {
        x: 8,
        y: 23,
        width: BAR_W,
        height: 7,
        rx: 2,
        class: "bar-bg",
      }),
      bar,
      depth,
      drops,
    );
    const g = s(
      "g",
      {
        class: "edge",
        "data-testid": "edge",
        "data-from": e.from,
        "data-to": e.to,
      },
      s("title", {}, `${e.from} → ${e.to}`),
      s("path", { d, class: "edge-hit" }),
      s("path", { d, class: "edge-line", "marker-end": "url(#arrow)" }),
      label,
    );
    layer.append(g);
    this.#edges.set(e.key, { g, rate, delivered, bar, depth, drops });
  }

  #nodeEl(
    n: NodeModel,
    x: number,
    y: number,
    w: number,
    hgt: number,
  ): SVGGElement {
    const phase = s("text", {
      x: w - 38,
      y: 19.5,
      class: "phase-text",
      "text-anchor": "middle",
    }, "");
    const pill = s("rect", {
      x: w - 66,
      y: 8,
      width: 56,
      height: 16,
      rx: 8,
      class: "phase-pill",
    });
    const breaker = s("text", {
      x: w - 12,
      y: 38,
      class: "breaker",
      "text-anchor": "end",
    }, "");
    const fy = HEADER + Math.max(1, n.ins.length, n.outs.length) * ROW + 6;
    const rateIn = s("text", {
      x: 12,
      y: fy + 15,
      class: "num",
      "data-testid": "proc-rate-in",
    }, "–");
    const rateOut = s("text", {
      x: w - 12,
      y: fy + 15,
      class: "num",
      "text-anchor": "end",
      "data-testid": "proc-rate-out",
    }, "–");
    const delivered = s("text", {
      x: 12,
      y: fy + 31,
      class: "num muted",
      "data-testid": "proc-delivered",
    }, "0");
    const errors = s("text", {
      x: w - 12,
      y: fy + 31,
      class: "num muted",
      "text-anchor": "end",
      "data-testid": "proc-errors",
    }, "");
    const g = s(
      "g",
      {
        class: "node",
        "data-testid": "process-box",
        "data-process": n.name,
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
      },
      s("title", {}, `${n.name} (${n.component})`),
      s("rect", { width: w, height: hgt, rx: 8, class: "node-bg" }),
      s("text", { x: 12, y: 21, class: "node-name" }, n.name),
      s("text", { x: 12, y: 38, class: "node-comp" }, n.component),
      pill,
      phase,
      breaker,
      s("line", { x1: 0, x2: w, y1: fy, y2: fy, class: "node-sep" }),
      rateIn,
      rateOut,
      delivered,
      errors,
    );
    n.ins.forEach((p, i) => {
      const py = HEADER + i * ROW + ROW / 2;
      g.append(
        s("circle", {
          cx: 0,
          cy: py,
          r: 4,
          class: p.iip === undefined ? "port" : "port iip",
        }),
        s("text", { x: 10, y: py + 4, class: "port-name" }, p.name),
      );
      if (p.iip !== undefined) {
        g.append(
          s(
            "path",
            { d: `M-14,${py}l4,-4l4,4l-4,4z`, class: "iip-mark" },
            s("title", {}, `initial packet: ${p.iip}`),
          ),
        );
      }
    });
    n.outs.forEach((p, i) => {
      const py = HEADER + i * ROW + ROW / 2;
      g.append(
        s("circle", { cx: w, cy: py, r: 4, class: "port" }),
        s("text", {
          x: w - 10,
          y: py + 4,
          class: "port-name",
          "text-anchor": "end",
        }, p.name),
      );
    });
    this.#nodes.set(n.name, {
      g,
      phase,
      pill,
      breaker,
      rateIn,
      rateOut,
      delivered,
      errors,
      source: n.source,
    });
    return g;
  }

  /** Shows a snapshot's numbers and the rates since the one before. */
  update(stats: NetworkStats, rates: RateTracker): void {
    for (const p of stats.processes) {
      const r = this.#nodes.get(p.name);
      if (r === undefined) continue;
      const pr = rates.processes.get(p.name);
      setText(r.phase, p.phase);
      setAttr(r.g, "data-phase", p.phase);
      const b = breakerState(p.breaker);
      setText(r.breaker, b === null ? "" : `⚡${b}`);
      setAttr(r.g, "data-breaker", b);
      setText(r.rateIn, `in ${fmtRate(pr?.in ?? 0)}`);
      setText(r.rateOut, `out ${fmtRate(pr?.out ?? 0)}`);
      const n = r.source ? total(p.messagesOut) : total(p.messagesIn);
      setText(r.delivered, `${_short(n)} ${r.source ? "sent" : "taken"}`);
      const errs = total(p.errors);
      setText(r.errors, errs === 0 ? "no errors" : `${_short(errs)} errors`);
      toggle(r.errors, "bad", errs > 0);
      toggle(r.g, "erring", (pr?.errors ?? 0) > 0);
      toggle(r.g, "busy", (pr?.in ?? 0) + (pr?.out ?? 0) > 0);
    }
    for (const c of stats.connections) {
      if (c.from === null) continue;
      const key = connKey(c.from, c.to);
      const r = this.#edges.get(key);
      if (r === undefined) continue;
      const cr = rates.connections.get(key);
      const rate = cr?.delivered ?? 0;
      setText(r.rate, fmtRate(rate));
      setText(r.delivered, fmtCount(c.delivered));
      const fill = c.capacity > 0 ? Math.min(1, c.depth / c.capacity) : 0;
      setAttr(r.bar, "width", (fill * BAR_W).toFixed(1));
      setText(r.depth, `${fmtCount(c.depth)}/${fmtCount(c.capacity)}`);
      const drops = total(c.drops);
      setText(r.drops, drops === 0 ? "" : `✕${fmtCount(drops)}`);
      toggle(r.g, "flowing", rate > 0);
      toggle(r.g, "filling", fill >= 0.5 && fill < 0.9);
      toggle(r.g, "full", fill >= 0.9);
      toggle(r.g, "dropping", (cr?.drops ?? 0) > 0);
      toggle(r.g, "closed", c.closed);
    }
  }

  /** Marks the picked process or connection; false when it is not drawn. */
  select(sel: Selection): boolean {
    let el: Element | null = null;
    if (sel.kind === "process") el = this.#nodes.get(sel.name)?.g ?? null;
    if (sel.kind === "connection") {
      el = this.#edges.get(connKey(sel.from, sel.to))?.g ?? null;
    }
    if (this.#selected !== null) this.#selected.classList.remove("selected");
    this.#selected = el;
    el?.classList.add("selected");
    return sel.kind === "flow" || el !== null;
  }

  /** Removes the drawing. */
  destroy(): void {
    this.#observer.disconnect();
    this.#nodes.clear();
    this.#edges.clear();
    this.el.remove();
  }
}
