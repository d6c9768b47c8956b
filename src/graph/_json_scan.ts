/**
 * The strict JSON scanner behind `parseGraphJson()`: it checks the syntax
 * with positions and records where each key and element is.
 *
 * @module
 */
import { quote } from "../engine/excerpt.ts";
import type { Position, Problem } from "./problem.ts";
import { joinIndex, joinKey } from "./_path.ts";

/**
 * A syntax error at `offset` of the text, inside the value at `path`;
 * `parseGraphJson()` turns it into a `GraphError` with line:col.
 */
export class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number, readonly path: string) {
    super(message);
  }
}

/**
 * How deep a graph's JSON may nest (objects and arrays within each other).
 * A graph needs about 6 levels and an initial packet's data a few more;
 * the limit keeps a hostile text from costing the reader its stack (a
 * 200 KB text nested 100,000 deep cost hundreds of MB on Bun, issue 18).
 */
export const MAX_GRAPH_JSON_DEPTH = 64;

const _NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const _ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

/**
 * A strict JSON (RFC 8259) scanner that checks the syntax with positions and
 * records where each key and element is; values come from `JSON.parse`.
 */
export class JsonScanner {
  readonly positions = new Map<string, Position>();
  readonly problems: Problem[] = [];
  firstValueOffset = 0;
  #text: string;
  #pos = 0;
  #depth = 0;
  #maxDepth: number;
  #lineStarts: number[] = [0];

  constructor(text: string, maxDepth: number = MAX_GRAPH_JSON_DEPTH) {
    this.#text = text;
    this.#maxDepth = maxDepth;
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
    throw new JsonSyntaxError(message, offset, path);
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
    if (c === "{" || c === "[") {
      if (++this.#depth > this.#maxDepth) {
        this.#fail(
          `objects and arrays are nested more than ${this.#maxDepth} levels deep here, the limit; flatten the graph`,
          path,
        );
      }
      if (c === "{") this.#object(path);
      else this.#array(path);
      this.#depth--;
      return;
    }
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
        quote(key)
      } is declared twice (first at ${firstAt}); JSON keeps only the last one, so rename one of them`
      : `key ${
        quote(key)
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
