/**
 * Internal helpers of the graph layer: JSON paths and source positions.
 *
 * @module
 */
import { EXCERPT_LENGTH, quote } from "../engine/excerpt.ts";
import type { Position, Problem, SourceMap } from "./problem.ts";

/** Source maps of parsed graphs, kept beside the graph objects. */
export const sourceMaps: WeakMap<object, SourceMap> = new WeakMap();

/**
 * The position of a path in a source map: its own, or that of the nearest
 * enclosing path that has one.
 */
export function locate(
  sourceMap: SourceMap | undefined,
  path: string,
): Position | undefined {
  if (!sourceMap) return undefined;
  for (let p: string | undefined = path; p !== undefined; p = parentPath(p)) {
    const found = sourceMap.positions.get(p);
    if (found) return found;
  }
  return undefined;
}

const _IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `base.key`, or `base["key"]` when the key is not a plain name. */
export function joinKey(base: string, key: string): string {
  if (_IDENT.test(key)) return base === "" ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/** `base[index]`. */
export function joinIndex(base: string, index: number): string {
  return `${base}[${index}]`;
}

const _LAST_SEGMENT =
  /(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])$/;

/** The path without its last segment; `undefined` for the root. */
export function parentPath(path: string): string | undefined {
  if (path === "" || path === "$") return undefined;
  const m = _LAST_SEGMENT.exec(path);
  if (!m) return "";
  return path.slice(0, m.index);
}

const _SEGMENT = /\.([A-Za-z_$][A-Za-z0-9_$-]*)|\["((?:[^"\\]|\\.)*)"\]/g;

/**
 * The path as a problem shows it: a key of more than `EXCERPT_LENGTH`
 * characters quoted as an excerpt with its length (`processes["xxx...
 * (900,000 characters)"]`). Only for showing: the source map and the
 * checks for repeated keys need the whole key.
 */
export function shownPath(path: string): string {
  if (path.length <= EXCERPT_LENGTH) return path;
  return `.${path}`.replace(_SEGMENT, (whole, name?: string, json?: string) => {
    const key = name ?? JSON.parse(`"${json}"`) as string;
    return key.length > EXCERPT_LENGTH ? `[${quote(key)}]` : whole;
  }).replace(/^\./, "");
}

/**
 * Fills in a problem's line and column from a source map, and cuts its path
 * for showing ({@linkcode shownPath}).
 */
export function withPosition(
  problem: Problem,
  sourceMap: SourceMap | undefined,
): Problem {
  const path = shownPath(problem.path);
  if (problem.line !== undefined) {
    return path === problem.path ? problem : { ...problem, path };
  }
  const at = locate(sourceMap, problem.path);
  if (at) return { ...problem, path, line: at.line, col: at.col };
  return path === problem.path ? problem : { ...problem, path };
}
