/// <reference lib="dom" />
/**
 * Small DOM helpers and number formats shared by the dashboard's views.
 *
 * @module
 */

/** Attributes of {@linkcode h}: strings set as attributes, `on*` functions as listeners. */
export type Attrs = Record<
  string,
  string | number | boolean | undefined | null | ((e: Event) => void)
>;

/** A child of {@linkcode h}: a node or text; `null`/`undefined`/`false` are skipped. */
export type Child = Node | string | number | null | undefined | false;

function _apply(el: Element, attrs: Attrs | undefined): void {
  if (attrs === undefined) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
}

function _append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
}

/**
 * An HTML element with attributes and children: `h("button", { class:
 * "btn", onclick }, "Start")`. Children are text nodes or elements, never
 * HTML: a name or a message shows as text.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  _apply(el, attrs);
  _append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  _apply(el, attrs);
  _append(el, children);
  return el;
}

/** Sets a node's text only when it changed (no layout work otherwise). */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets or removes an attribute only when it changed. */
export function setAttr(el: Element, name: string, value: string | null): void {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

/** Adds or removes a class. */
export function toggle(el: Element, cls: string, on: boolean): void {
  if (el.classList.contains(cls) !== on) el.classList.toggle(cls, on);
}

const _int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 1234 → "1,234"; past a million "1.23M". */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 1e6) return _si(n, "");
  return _int.format(n);
}

function _si(n: number, unit: string): string {
  const a = Math.abs(n);
  const [d, suffix] = a >= 1e12
    ? [1e12, "T"]
    : a >= 1e9
    ? [1e9, "G"]
    : a >= 1e6
    ? [1e6, "M"]
    : a >= 1e3
    ? [1e3, "k"]
    : [1, ""];
  const v = n / d;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${suffix}${unit}`;
}

/** A rate per second: "0/s", "0.50/s", "12.3/s", "4.5k/s". */
export function fmtRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "–";
  if (perSecond === 0) return "0/s";
  if (Math.abs(perSecond) < 1e3) {
    const a = Math.abs(perSecond);
    return `${perSecond.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2)}/s`;
  }
  return `${_si(perSecond, "")}/s`;
}

/** Seconds as "850 µs", "12.5 ms", "1.20 s". */
export function fmtSeconds(sec: number): string {
  if (!Number.isFinite(sec)) return "–";
  const a = Math.abs(sec);
  if (a === 0) return "0 s";
  if (a < 1e-3) return `${(sec * 1e6).toFixed(a < 1e-5 ? 1 : 0)} µs`;
  if (a < 1) return `${(sec * 1e3).toFixed(a < 1e-2 ? 2 : 1)} ms`;
  return `${sec.toFixed(2)} s`;
}

/** Bytes in binary units: "512 B", "1.5 MiB". */
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 || Math.abs(v) >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A duration in milliseconds as "45 s", "3 m 10 s", "2 h 5 m", "4 d 3 h". */
export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return `${hr} h ${m % 60} m`;
  return `${Math.floor(hr / 24)} d ${hr % 24} h`;
}

/** A timestamp (ms epoch) as local "HH:MM:SS.mmm". */
export function fmtClock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
    p(d.getMilliseconds(), 3)
  }`;
}
