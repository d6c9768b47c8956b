/**
 * A pre-scan of .fbp text, before the `fbp` parser sees it: takes out
 * Morrison's `-> (N)` capacities (which the parser would read as an
 * anonymous process of component "N") and records where arrows, process
 * declarations and exported ports are written.
 *
 * @module
 */
import type { Position } from "./problem.ts";

/** A process declaration `Name(component...)` in the text. */
export interface FbpDeclaration {
  name: string;
  component: string;
  at: Position;
}

/** What the pre-scan found. */
export interface FbpScan {
  /** The text with each `(N)` capacity replaced by spaces of the same length. */
  text: string;
  /** Capacity by arrow number (0-based, text order). */
  capacities: Map<number, number>;
  /** Position of each `->`, in text order: arrow k is the parser's connection k. */
  arrows: Position[];
  /** Named declarations, in text order. */
  declarations: FbpDeclaration[];
  /** Anonymous processes `(component)`, named the way the parser names them. */
  anonymous: { name: string; at: Position }[];
  /** `INPORT=` and `OUTPORT=` lines. */
  exports: { kind: "inports" | "outports"; name: string; at: Position }[];
  /** An unclosed string, which the parser would report at the end of the text. */
  error?: { at: Position; message: string };
}

const _CAPACITY = /[ \t]*\([ \t]*([0-9]+)[ \t]*\)/y;
const _COMPONENT = /[a-zA-Z/\-0-9_]*/y;
const _EXPORT =
  /(IN|OUT)PORT=[A-Za-z_][A-Za-z0-9_-]*(?:\([^)\n]*\))?\.[A-Za-z_][A-Za-z0-9_.]*(?:\[[0-9]+\])?:([A-Za-z_][A-Za-z0-9_.]*)/y;

function _isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function _isIdentChar(c: string | undefined): boolean {
  return c !== undefined &&
    (_isIdentStart(c) || (c >= "0" && c <= "9") || c === "-");
}

/** Scans .fbp text; see {@linkcode FbpScan}. */
export function scanFbp(text: string): FbpScan {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  }
  const at = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - lineStarts[lo] + 1 };
  };

  const scan: FbpScan = {
    text,
    capacities: new Map(),
    arrows: [],
    declarations: [],
    anonymous: [],
    exports: [],
  };
  const blanks: [number, number][] = [];
  const anonymousCounts = new Map<string, number>();
  const n = text.length;
  let lineStart = true;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === "\n" || c === "\r") {
      lineStart = true;
      i++;
      continue;
    }
    if (lineStart) {
      if (c === " " || c === "\t") {
        i++;
        continue;
      }
      lineStart = false;
      _EXPORT.lastIndex = i;
      const m = _EXPORT.exec(text);
      if (m) {
        scan.exports.push({
          kind: m[1] === "IN" ? "inports" : "outports",
          name: m[2],
          at: at(i),
        });
      }
    }
    if (c === "#") {
      while (i < n && text[i] !== "\n" && text[i] !== "\r") i++;
      continue;
    }
    if (c === "'") {
      // The parser's IIP string: \' is a quote, any other backslash is itself.
      const start = i++;
      for (;;) {
        if (i >= n) {
          scan.error = {
            at: at(start),
            message:
              "this IIP string is not closed: add the closing ' (write \\' for a quote inside it)",
          };
          return scan;
        }
        if (text[i] === "\\" && text[i + 1] === "'") i += 2;
        else if (text[i++] === "'") break;
      }
      continue;
    }
    if (c === '"') {
      const start = i++;
      for (;;) {
        if (i >= n) {
          scan.error = {
            at: at(start),
            message: 'this JSON string is not closed: add the closing "',
          };
          return scan;
        }
        if (text[i] === "\\") i += 2;
        else if (text[i++] === '"') break;
      }
      continue;
    }
    if (c === "-" && text[i + 1] === ">") {
      scan.arrows.push(at(i));
      i += 2;
      _CAPACITY.lastIndex = i;
      const m = _CAPACITY.exec(text);
      if (m) {
        scan.capacities.set(scan.arrows.length - 1, Number(m[1]));
        const open = text.indexOf("(", i);
        blanks.push([open, i + m[0].length]);
        i += m[0].length;
      }
      continue;
    }
    if (_isIdentStart(c) && !_isIdentChar(text[i - 1])) {
      let j = i;
      while (
        j < n && _isIdentChar(text[j]) &&
        !(text[j] === "-" && text[j + 1] === ">")
      ) j++;
      if (text[j] === "(") {
        _COMPONENT.lastIndex = j + 1;
        const component = _COMPONENT.exec(text)![0];
        scan.declarations.push({
          name: text.slice(i, j),
          component,
          at: at(i),
        });
        i = j + 1 + component.length;
      } else {
        i = j;
      }
      continue;
    }
    if (c === "(") {
      _COMPONENT.lastIndex = i + 1;
      const component = _COMPONENT.exec(text)![0];
      // The parser's naming of anonymous processes: _<component>_<count>.
      const base = component.replace(/[^a-zA-Z0-9]+/, "_");
      const count = (anonymousCounts.get(base) ?? 0) + 1;
      anonymousCounts.set(base, count);
      scan.anonymous.push({ name: `_${base}_${count}`, at: at(i) });
      i += 1 + component.length;
      continue;
    }
    i++;
  }
  if (blanks.length > 0) {
    let out = "";
    let from = 0;
    for (const [start, end] of blanks) {
      out += text.slice(from, start) + " ".repeat(end - start);
      from = end;
    }
    scan.text = out + text.slice(from);
  }
  return scan;
}
