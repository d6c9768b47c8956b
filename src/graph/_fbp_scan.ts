/**
 * A pre-scan of .fbp text, before the `fbp` parser sees it: takes out
 * Morrison's `-> (N)` capacities and weir's overflow policies beside them
 * (`-> (50 drop-oldest)`, `-> (drop-oldest)`; the parser would read either
 * as an anonymous process of that component), turns tabs into spaces (the parser
 * only knows spaces), hides names the parser would look up on
 * `Object.prototype`, reads `# @` annotations, and records where arrows,
 * process declarations and exported ports are written.
 *
 * Every change keeps the text's length and line breaks, so the parser's
 * line:col (of a syntax error) are those of the text as written.
 *
 * @module
 */
import type { Position } from "./problem.ts";
import { OVERFLOW_POLICIES, type OverflowPolicy } from "../engine/spec.ts";

/** A process declaration `Name(component...)` in the text. */
export interface FbpDeclaration {
  name: string;
  component: string;
  /** Whether it writes metadata: `Name(component:key=value)`. */
  metadata: boolean;
  at: Position;
}

/** An `INPORT=` or `OUTPORT=` line. */
export interface FbpExportLine {
  kind: "inports" | "outports";
  /** The public name. */
  name: string;
  process: string;
  port: string;
  at: Position;
}

/** A `# @key value` line, its value trimmed. */
export interface FbpAnnotation {
  key: string;
  value: string;
  at: Position;
}

/** What the pre-scan found. */
export interface FbpScan {
  /** The text for the parser: same length and line breaks as the input. */
  text: string;
  /**
   * Capacity by arrow number (0-based, text order), as written: any number
   * (`-1` and `1.5` too, for validation to report).
   */
  capacities: Map<number, number>;
  /** Overflow policy by arrow number, where one is written. */
  policies: Map<number, OverflowPolicy>;
  /** Position of each `->`, in text order: arrow k is the parser's connection k. */
  arrows: Position[];
  /** Named declarations, in text order. */
  declarations: FbpDeclaration[];
  /** Anonymous processes `(component)`, named the way the parser names them. */
  anonymous: { name: string; at: Position }[];
  /** `INPORT=` and `OUTPORT=` lines, in text order. */
  exports: FbpExportLine[];
  /**
   * Names written alone as a statement (`hello` on its own line, or between
   * commas), which the parser reads as a process with no component and
   * drops when no other statement names it.
   */
  bare: { name: string; at: Position }[];
  /** `# @` annotations, in text order. */
  annotations: FbpAnnotation[];
  /**
   * Names hidden from the parser, by the placeholder (of the same length)
   * that stands for them in `text`; see {@linkcode restoreNames}.
   */
  placeholders: Map<string, string>;
  /** An unclosed string, which the parser would report at the end of the text. */
  error?: { at: Position; message: string };
}

const _NUMBER = String
  .raw`[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?`;
const _POLICY = OVERFLOW_POLICIES.join("|");
/**
 * `(N)`, `(N policy)`, `(N, policy)`, `(policy)` or `(policy N)` after an
 * arrow.
 */
const _CAPACITY = new RegExp(
  String
    .raw`[ \t]*\([ \t]*(?:(${_NUMBER})(?:[ \t]*,?[ \t]*(${_POLICY}))?|(${_POLICY})(?:[ \t]*,?[ \t]*(${_NUMBER}))?)[ \t]*\)`,
  "y",
);
/**
 * A capacity followed by something else: a misspelt policy (with `d`, the
 * indices say where that is: the word may repeat the capacity, `(5 5)`).
 */
const _BAD_POLICY = new RegExp(
  String.raw`[ \t]*\([ \t]*${_NUMBER}[ \t]*,?[ \t]*([^)\r\n]*?)[ \t]*\)`,
  "yd",
);
const _COMPONENT = /[a-zA-Z/\-0-9_]*/y;
const _EXPORT =
  /(IN|OUT)PORT=([A-Za-z_][A-Za-z0-9_-]*)(?:\([^)\n\r\u2028\u2029]*\))?\.([A-Za-z_][A-Za-z0-9_.]*)(?:\[[0-9]+\])?:([A-Za-z_][A-Za-z0-9_.]*)/y;
/**
 * The parser's annotation (`"#" " "+ "@" key " "+ value` up to the line's
 * end), with tabs as spaces and trailing blanks allowed (and trimmed). Any
 * value is read, not only the parser's letters, digits, `-`, `_`, `.` and
 * spaces: the parser drops `# @name my flow!` as a comment, and a name
 * dropped silently gives the flow a random id; read, it is refused with
 * the reason (the id rule) where it is used.
 */
const _ANNOTATION = /^#[ \t]+@([a-zA-Z0-9\-_]+)[ \t]+(\S(?:.*\S)?)[ \t]*$/;
/** A run of the characters names are made of, in every part of the grammar. */
const _RUN = /[A-Za-z0-9_]+/g;

function _isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function _isIdentChar(c: string | undefined): boolean {
  return c !== undefined &&
    (_isIdentStart(c) || (c >= "0" && c <= "9") || c === "-");
}

/** The parser's line breaks (its `newline` rule, and how it counts lines). */
function _isNewline(c: string | undefined): boolean {
  return c === "\n" || c === "\r" || c === "\u2028" || c === "\u2029";
}

/**
 * Whether the parser, which keeps processes (and reads JSON objects) in
 * plain `{}` objects, would find `name` on `Object.prototype` or set a
 * prototype with it: `__proto__`, `constructor`, `toString`, ...
 */
function _isPrototypeKey(name: string): boolean {
  return name === "__proto__" || name in Object.prototype;
}

/** Scans .fbp text (without a byte order mark); see {@linkcode FbpScan}. */
export function scanFbp(text: string): FbpScan {
  // Lines as the parser counts them: \r\n, \n, \r, U+2028 and U+2029 each
  // end one, wherever they are (inside an IIP string too).
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c === 10 || c === 0x2028 || c === 0x2029 ||
      (c === 13 && text.charCodeAt(i + 1) !== 10)
    ) lineStarts.push(i + 1);
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
    policies: new Map(),
    arrows: [],
    declarations: [],
    anonymous: [],
    exports: [],
    bare: [],
    annotations: [],
    placeholders: new Map(),
  };
  /** Replacements of the same length: [start, end, text], in text order. */
  const edits: [number, number, string][] = [];
  /** Strings and comments: [start, end], in text order. */
  const skipped: [number, number][] = [];
  const byRaw = new Map<string, string>();
  let counter = 0;
  const hide = (start: number, end: number, value: string) => {
    const raw = text.slice(start, end);
    let placeholder = byRaw.get(raw);
    if (placeholder === undefined) {
      // "Q", a base-36 counter, then "X"s: none is part of another, and
      // none is already in the text, so each can be restored exactly.
      do {
        placeholder = `Q${(counter++).toString(36)}`.padEnd(raw.length, "X");
      } while (
        placeholder.length !== raw.length || text.includes(placeholder) ||
        scan.placeholders.has(placeholder)
      );
      byRaw.set(raw, placeholder);
      scan.placeholders.set(placeholder, value);
    }
    edits.push([start, end, placeholder]);
  };

  const anonymousCounts = new Map<string, number>();
  const n = text.length;
  let lineStart = true;
  let lineOffset = 0;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (_isNewline(c)) {
      lineStart = true;
      i++;
      lineOffset = i;
      continue;
    }
    if (c === "\t") edits.push([i, i + 1, " "]);
    if (lineStart) {
      if (c === " " || c === "\t") {
        i++;
        continue;
      }
      lineStart = false;
      if (c === "#" && i === lineOffset) {
        const m = _ANNOTATION.exec(text.slice(i, _lineEnd(text, i)));
        if (m) {
          scan.annotations.push({ key: m[1], value: m[2], at: at(i) });
        }
      }
      _EXPORT.lastIndex = i;
      const m = _EXPORT.exec(text);
      if (m) {
        scan.exports.push({
          kind: m[1] === "IN" ? "inports" : "outports",
          name: m[4],
          process: m[2],
          port: m[3],
          at: at(i),
        });
      }
    }
    if (c === "#") {
      const end = _lineEnd(text, i);
      skipped.push([i, end]);
      i = end;
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
      skipped.push([start, i]);
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
      skipped.push([start, i]);
      // A JSON key "__proto__" would set the prototype of the parser's object.
      let value: unknown;
      try {
        value = JSON.parse(text.slice(start, i));
      } catch {
        value = undefined;
      }
      if (typeof value === "string" && _isPrototypeKey(value)) {
        hide(start + 1, i - 1, value);
      }
      continue;
    }
    if (c === "-" && text[i + 1] === ">") {
      scan.arrows.push(at(i));
      i += 2;
      _CAPACITY.lastIndex = i;
      const m = _CAPACITY.exec(text);
      if (m) {
        const k = scan.arrows.length - 1;
        const capacity = m[1] ?? m[4];
        if (capacity !== undefined) scan.capacities.set(k, Number(capacity));
        const policy = m[2] ?? m[3];
        if (policy !== undefined) {
          scan.policies.set(k, policy as OverflowPolicy);
        }
        edits.push([i, i + m[0].length, " ".repeat(m[0].length)]);
        i += m[0].length;
      } else {
        _BAD_POLICY.lastIndex = i;
        const bad = _BAD_POLICY.exec(text);
        if (bad) {
          scan.error = {
            at: at(bad.indices![1]![0]),
            message: `${
              bad[1] === ""
                ? "the comma has no overflow policy after it"
                : `${JSON.stringify(bad[1].slice(0, 40))} is no overflow policy`
            }: after the capacity, write one of ${
              OVERFLOW_POLICIES.join(", ")
            } (e.g. -> (50 drop-oldest) in B)`,
          };
          return scan;
        }
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
          metadata: text[j + 1 + component.length] === ":",
          at: at(i),
        });
        i = j + 1 + component.length;
      } else {
        if (
          _statementStartsAt(text, lineOffset, i) &&
          _statementEndsAt(text, j)
        ) scan.bare.push({ name: text.slice(i, j), at: at(i) });
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

  // Names outside strings and comments that the parser would look up on
  // Object.prototype (its processes are a plain {}): hidden behind
  // placeholders, restored in the parsed graph.
  let from = 0;
  for (const [start, end] of [...skipped, [n, n] as [number, number]]) {
    // A run cannot cross `start`: strings and comments open with ' " or #.
    _RUN.lastIndex = from;
    for (let m = _RUN.exec(text); m && m.index < start; m = _RUN.exec(text)) {
      if (_isPrototypeKey(m[0])) hide(m.index, m.index + m[0].length, m[0]);
    }
    from = end;
  }

  if (edits.length > 0) {
    edits.sort((a, b) => a[0] - b[0]);
    let out = "";
    let last = 0;
    for (const [start, end, replacement] of edits) {
      out += text.slice(last, start) + replacement;
      last = end;
    }
    scan.text = out + text.slice(last);
  }
  return scan;
}

/** Whether only blanks, or a `,` then blanks, come before `i` on its line. */
function _statementStartsAt(text: string, lineOffset: number, i: number) {
  let k = i - 1;
  while (k >= lineOffset && (text[k] === " " || text[k] === "\t")) k--;
  return k < lineOffset || text[k] === ",";
}

/** Whether only blanks come after `j` up to a `,`, a comment or the line's end. */
function _statementEndsAt(text: string, j: number) {
  let k = j;
  while (k < text.length && (text[k] === " " || text[k] === "\t")) k++;
  return k >= text.length || _isNewline(text[k]) || text[k] === "#" ||
    text[k] === ",";
}

/** The offset of the line break that ends the line holding `offset`. */
function _lineEnd(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && !_isNewline(text[i])) i++;
  return i;
}

/**
 * A function that gives back, in a string from the parser, the names that
 * {@linkcode scanFbp} hid behind placeholders.
 */
export function restoreNames(
  placeholders: ReadonlyMap<string, string>,
): (text: string) => string {
  if (placeholders.size === 0) return (text) => text;
  const pattern = new RegExp([...placeholders.keys()].join("|"), "g");
  return (text) =>
    text.replace(pattern, (placeholder) => placeholders.get(placeholder)!);
}
