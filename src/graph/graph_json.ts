/**
 * fbp-graph JSON text: read loss-free with positions, write back checked.
 *
 * @module
 */
import type { Graph } from "./graph.ts";
import { GraphError } from "./graph_error.ts";
import type { Position, Problem, SourceMap } from "./problem.ts";
import { joinIndex, joinKey, sourceMaps } from "./_path.ts";
import { describeValue } from "../engine/component.ts";

/** Options of {@linkcode parseGraphJson}. */
export interface ParseGraphJsonOptions {
  /** The file name, for `file:line:col` in problems. */
  file?: string;
}

/**
 * Reads fbp-graph JSON text. The graph is exactly what `JSON.parse` returns
 * (every field kept, unknown ones too, a `"__proto__"` key as an own
 * property), so `JSON.stringify` of the result equals the input in
 * content. A byte order mark is skipped and takes no column. Positions of every key and array element are
 * recorded in the graph's source map ({@linkcode sourceMapOf}), and a key
 * written twice in one object (which `JSON.parse` silently collapses to the
 * last) becomes a problem there, reported by `validateGraph()`.
 *
 * Throws a {@linkcode GraphError} with the line and column of a JSON syntax
 * error, or when the text is not a JSON object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGraphJson } from "./graph_json.ts";
 *
 * const graph = parseGraphJson(`{
 *   "processes": { "Tick": { "component": "core/Interval" } },
 *   "connections": [{ "data": "1s", "tgt": { "process": "Tick", "port": "interval" } }]
 * }`);
 * assert.equal(graph.processes?.Tick.component, "core/Interval");
 * ```
 */
export function parseGraphJson(
  text: string,
  options: ParseGraphJsonOptions = {},
): Graph {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot parse graph JSON: expected a string, received ${
        describeValue(text)
      }`,
    );
  }
  // A byte order mark is no part of the text, and takes no column.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const scanner = new _JsonScanner(text);
  try {
    scanner.document();
  } catch (e) {
    if (!(e instanceof _JsonSyntaxError)) throw e;
    const at = scanner.positionAt(e.offset);
    throw new GraphError([{
      path: e.path || "$",
      line: at.line,
      col: at.col,
      message: `JSON syntax error: ${e.message}`,
    }], { file: options.file, action: "Cannot read graph JSON" });
  }
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const at = scanner.positionAt(scanner.firstValueOffset);
    throw new GraphError([{
      path: "$",
      line: at.line,
      col: at.col,
      message:
        `a graph must be a JSON object with "processes" and "connections", found ${
          describeValue(value)
        }`,
    }], { file: options.file, action: "Cannot read graph JSON" });
  }
  const graph = value as Graph;
  const sourceMap: SourceMap = {
    file: options.file,
    positions: scanner.positions,
    problems: scanner.problems,
  };
  sourceMaps.set(graph, sourceMap);
  return graph;
}

/** Options of {@linkcode stringifyGraph}. */
export interface StringifyGraphOptions {
  /** Indentation, as for `JSON.stringify`. Default `2`. */
  indent?: number | string;
}

/**
 * Writes a graph as fbp-graph JSON text. Unlike a bare `JSON.stringify`,
 * it refuses to lose data: a value JSON cannot hold (a function IIP, a
 * `Map`, `NaN`, `undefined` data, a cycle) throws a `TypeError` naming its
 * path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stringifyGraph } from "./graph_json.ts";
 *
 * assert.equal(
 *   stringifyGraph({ processes: { A: { component: "core/Repeat" } } }, { indent: 0 }),
 *   '{"processes":{"A":{"component":"core/Repeat"}}}',
 * );
 * ```
 */
export function stringifyGraph(
  graph: Graph,
  options: StringifyGraphOptions = {},
): string {
  const problem = _findNonJson(graph, "", new Set());
  if (problem) {
    throw new TypeError(
      `Cannot write the graph as JSON: ${
        problem.path || "$"
      } ${problem.message}`,
    );
  }
  return JSON.stringify(graph, null, options.indent ?? 2);
}

function _findNonJson(
  value: unknown,
  path: string,
  seen: Set<object>,
): { path: string; message: string } | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value)
        ? undefined
        : { path, message: `is ${value}, which JSON cannot hold` };
    case "undefined":
      return { path, message: "is undefined, which JSON cannot hold" };
    case "object": {
      if (value === null) return undefined;
      if (seen.has(value)) {
        return { path, message: "refers back to itself (a cycle)" };
      }
      const proto = Object.getPrototypeOf(value);
      if (
        !Array.isArray(value) && proto !== Object.prototype && proto !== null
      ) {
        const kind = (value as { constructor?: { name?: string } })
          .constructor?.name ?? "object";
        return { path, message: `is a ${kind}, which JSON cannot hold` };
      }
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const p = _findNonJson(value[i], joinIndex(path, i), seen);
            if (p) return p;
          }
        } else {
          for (const [k, v] of Object.entries(value)) {
            // JSON.stringify drops an undefined field, as if it were absent;
            // only an IIP's data must be there.
            if (v === undefined && k !== "data") continue;
            const p = _findNonJson(v, joinKey(path, k), seen);
            if (p) return p;
          }
        }
      } finally {
        seen.delete(value);
      }
      return undefined;
    }
    default:
      return {
        path,
        message: `is ${describeValue(value)}, which JSON cannot hold`,
      };
  }
}

class _JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number, readonly path: string) {
    super(message);
  }
}

const _NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const _ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

/**
 * A strict JSON (RFC 8259) scanner that checks the syntax with positions and
 * records where each key and element is; values come from `JSON.parse`.
 */
class _JsonScanner {
  readonly positions = new Map<string, Position>();
  readonly problems: Problem[] = [];
  firstValueOffset = 0;
  #text: string;
  #pos = 0;
  #lineStarts: number[] = [0];

  constructor(text: string) {
    this.#text = text;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
    }
  }

  positionAt(offset: number): Position {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.#lineStarts[lo] + 1 };
  }

  document(): void {
    this.#ws();
    this.firstValueOffset = this.#pos;
    if (this.#pos >= this.#text.length) {
      this.#fail("the text is empty; a graph is a JSON object", "");
    }
    this.#value("");
    this.#ws();
    if (this.#pos < this.#text.length) {
      this.#fail(
        `unexpected ${this.#found()} after the end of the graph object`,
        "",
      );
    }
  }

  #fail(message: string, path: string, offset = this.#pos): never {
    throw new _JsonSyntaxError(message, offset, path);
  }

  #found(): string {
    if (this.#pos >= this.#text.length) return "end of text";
    const c = this.#text[this.#pos];
    return c.trim() === ""
      ? `character U+${
        c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")
      }`
      : JSON.stringify(c);
  }

  #ws(): void {
    const t = this.#text;
    while (this.#pos < t.length) {
      const c = t.charCodeAt(this.#pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.#pos++;
      else break;
    }
  }

  #value(path: string): void {
    const t = this.#text;
    const c = t[this.#pos];
    if (c === "{") return this.#object(path);
    if (c === "[") return this.#array(path);
    if (c === '"') return void this.#string(path);
    if (c === "-" || (c >= "0" && c <= "9")) return this.#number(path);
    for (const word of ["true", "false", "null"]) {
      if (t.startsWith(word, this.#pos)) {
        this.#pos += word.length;
        return;
      }
    }
    if (c === "'") {
      this.#fail('strings must use double quotes ("), not single quotes', path);
    }
    if (c === "}" || c === "]") {
      this.#fail(`expected a value, found ${this.#found()}`, path);
    }
    this.#fail(
      `expected a value (object, array, string, number, true, false or null), found ${this.#found()}`,
      path,
    );
  }

  #object(path: string): void {
    const t = this.#text;
    this.#pos++;
    this.#ws();
    if (t[this.#pos] === "}") {
      this.#pos++;
      return;
    }
    const seen = new Map<string, number>();
    for (;;) {
      if (t[this.#pos] !== '"') {
        this.#fail(
          t[this.#pos] === "}"
            ? 'a trailing comma before "}" is not allowed in JSON'
            : `expected a key in double quotes, found ${this.#found()}`,
          path,
        );
      }
      const keyOffset = this.#pos;
      const key = this.#string(path);
      const childPath = joinKey(path, key);
      const first = seen.get(key);
      if (first !== undefined) {
        this.#duplicate(path, key, childPath, first, keyOffset);
      } else seen.set(key, keyOffset);
      // JSON.parse keeps the last of duplicate keys, so the last position wins.
      this.positions.set(childPath, this.positionAt(keyOffset));
      this.#ws();
      if (t[this.#pos] !== ":") {
        this.#fail(
          `expected ":" after the key ${
            JSON.stringify(key)
          }, found ${this.#found()}`,
          childPath,
        );
      }
      this.#pos++;
      this.#ws();
      this.#value(childPath);
      if (!this.#next("}", `the value of ${JSON.stringify(key)}`, childPath)) {
        return;
      }
    }
  }

  /**
   * After a member or element: skips a `,` and returns `true` when another
   * follows, or skips `close` and returns `false`; anything else fails.
   */
  #next(close: "}" | "]", after: string, path: string): boolean {
    this.#ws();
    const c = this.#text[this.#pos];
    if (c === ",") {
      this.#pos++;
      this.#ws();
      return true;
    }
    if (c === close) {
      this.#pos++;
      return false;
    }
    this.#fail(
      `expected "," or "${close}" after ${after}, found ${this.#found()}`,
      path,
    );
  }

  #duplicate(
    path: string,
    key: string,
    childPath: string,
    firstOffset: number,
    offset: number,
  ): void {
    const first = this.positionAt(firstOffset);
    const at = this.positionAt(offset);
    const firstAt = `line ${first.line}, col ${first.col}`;
    const message = path === "processes"
      ? `process ${
        JSON.stringify(key)
      } is declared twice (first at ${firstAt}); JSON keeps only the last one, so rename one of them`
      : `key ${
        JSON.stringify(key)
      } appears twice in this object (first at ${firstAt}); JSON keeps only the last value, so remove one`;
    this.problems.push({
      path: childPath,
      line: at.line,
      col: at.col,
      message,
    });
  }

  #array(path: string): void {
    const t = this.#text;
    this.#pos++;
    this.#ws();
    if (t[this.#pos] === "]") {
      this.#pos++;
      return;
    }
    for (let i = 0;; i++) {
      const childPath = joinIndex(path, i);
      if (t[this.#pos] === "]") {
        this.#fail('a trailing comma before "]" is not allowed in JSON', path);
      }
      this.positions.set(childPath, this.positionAt(this.#pos));
      this.#value(childPath);
      if (!this.#next("]", `element ${i}`, childPath)) return;
    }
  }

  /** Scans a string token and returns its value. */
  #string(path: string): string {
    const t = this.#text;
    const start = this.#pos;
    this.#pos++;
    for (;;) {
      if (this.#pos >= t.length) {
        this.#fail(
          "this string is not closed with a double quote",
          path,
          start,
        );
      }
      const c = t.charCodeAt(this.#pos);
      if (c === 34) {
        this.#pos++;
        return JSON.parse(t.slice(start, this.#pos)) as string;
      }
      if (c < 0x20) {
        if (c === 10 || c === 13) {
          this.#fail(
            "this string is not closed before the end of the line; close it, or write a line break as \\n",
            path,
            start,
          );
        }
        this.#fail(
          `a control character (U+${
            c.toString(16).toUpperCase().padStart(4, "0")
          }) must be escaped inside a string`,
          path,
        );
      }
      if (c === 92) {
        const e = t[this.#pos + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(this.#pos + 2, this.#pos + 6))) {
            this.#fail("\\u must be followed by four hex digits", path);
          }
          this.#pos += 6;
          continue;
        }
        if (e === undefined || !_ESCAPES.has(e)) {
          this.#fail(
            `unknown escape \\${
              e ?? ""
            } in a string; use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX`,
            path,
          );
        }
        this.#pos += 2;
        continue;
      }
      this.#pos++;
    }
  }

  #number(path: string): void {
    _NUMBER.lastIndex = this.#pos;
    const m = _NUMBER.exec(this.#text);
    if (!m) this.#fail(`expected a number, found ${this.#found()}`, path);
    this.#pos += m[0].length;
  }
}
