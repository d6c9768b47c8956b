/**
 * Internal helpers of the graph layer: JSON paths and source positions.
 *
 * @module
 */
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

/** Fills in a problem's line and column from a source map. */
export function withPosition(
  problem: Problem,
  sourceMap: SourceMap | undefined,
): Problem {
  if (problem.line !== undefined) return problem;
  const at = locate(sourceMap, problem.path);
  return at ? { ...problem, line: at.line, col: at.col } : problem;
}
