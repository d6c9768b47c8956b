/**
 * The path patterns of `http/In` routes (`/readings/:sensor`), checked when
 * a graph is validated and matched against the path of each request.
 *
 * @module
 */

/** A compiled path pattern. */
export interface RoutePattern {
  /** The pattern as written (`/readings/:sensor`). */
  readonly source: string;
  /**
   * The pattern with its parameter names left out (`/readings/:`), so two
   * patterns that match the same paths compare equal.
   */
  readonly shape: string;
  /** The parameter names, in order (`*` for a trailing wildcard). */
  readonly params: readonly string[];
  /**
   * The parameters of `path` (raw, percent-encoded: decoded by the
   * caller), or `undefined` when it does not match.
   */
  match(path: string): string[] | undefined;
}

const _LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@%-]+$/;
const _PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Compiles a route pattern: it starts with `/`; each segment is a literal
 * (URL path characters), a parameter `:name` (one whole segment), or, as the
 * last segment only, `*` (the rest of the path, in parameter `*`). A
 * trailing `/` is ignored when matching. A bad pattern is a `RangeError`
 * (`TypeError` when it is not a string) that says what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileRoutePattern } from "./http_route_pattern.ts";
 *
 * const p = compileRoutePattern("/readings/:sensor");
 * assert.deepEqual(p.match("/readings/s1"), ["s1"]);
 * assert.equal(p.match("/readings/s1/x"), undefined);
 * assert.deepEqual(compileRoutePattern("/files/*").match("/files/a/b"), ["a/b"]);
 * assert.throws(() => compileRoutePattern("readings"), /must start with "\/"/);
 * ```
 */
export function compileRoutePattern(pattern: unknown): RoutePattern {
  if (typeof pattern !== "string") {
    throw new TypeError(
      `expected a path pattern such as "/readings/:sensor", received ${
        pattern === null ? "null" : typeof pattern
      }`,
    );
  }
  const bad = (why: string) =>
    new RangeError(
      `Cannot use path pattern ${
        JSON.stringify(pattern.slice(0, 120))
      }: ${why}`,
    );
  if (!pattern.startsWith("/")) {
    throw bad('it must start with "/" (e.g. "/readings/:sensor")');
  }
  if (pattern.length > 1024) throw bad("it is longer than 1024 characters");
  const segments = pattern === "/"
    ? []
    : pattern.slice(1).replace(/\/$/, "").split("/");
  const params: string[] = [];
  let source = "^";
  let shape = "";
  segments.forEach((segment, i) => {
    if (segment === "") throw bad("it has an empty segment (//)");
    if (segment === "*") {
      if (i !== segments.length - 1) {
        throw bad('"*" may only be the last segment');
      }
      params.push("*");
      source += "/(.+)";
      shape += "/*";
      return;
    }
    const param = _PARAM.exec(segment);
    if (param !== null) {
      if (params.includes(param[1])) {
        throw bad(`parameter ":${param[1]}" appears twice`);
      }
      params.push(param[1]);
      source += "/([^/]+)";
      shape += "/:";
      return;
    }
    if (segment.startsWith(":")) {
      throw bad(
        `${
          JSON.stringify(segment)
        } is not a parameter: a name of letters, digits and _ follows ":"`,
      );
    }
    if (!_LITERAL.test(segment)) {
      throw bad(
        `segment ${
          JSON.stringify(segment.slice(0, 60))
        } holds a character a URL path cannot (no spaces, ?, # or *)`,
      );
    }
    source += "/" + segment.replace(/[.()+$]/g, "\\$&");
    shape += "/" + segment;
  });
  const re = new RegExp(source + "/?$");
  // A pattern without parameters is a string compare, cheaper than a match.
  const literal = params.length === 0 ? (shape === "" ? "/" : shape) : null;
  const none: string[] = [];
  return Object.freeze({
    source: pattern,
    shape: shape === "" ? "/" : shape,
    params,
    match(path: string): string[] | undefined {
      if (literal !== null) {
        return path === literal || path === literal + "/" ||
            (literal === "/" && path === "")
          ? none
          : undefined;
      }
      const m = re.exec(path);
      if (m === null) return undefined;
      return m.slice(1);
    },
  });
}

/**
 * The methods two routes both serve on the same paths: those in both lists
 * when their patterns are the same up to parameter names and a trailing
 * `/` (`/a/:x` and `/a/:y/`), else none. One flow cannot serve such a pair:
 * the router refuses the second when the flow starts, and validation finds
 * it in the graph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileRoutePattern, sharedRoute } from "./http_route_pattern.ts";
 *
 * const a = compileRoutePattern("/a/:x");
 * assert.deepEqual(sharedRoute(["GET", "POST"], a, ["POST"], compileRoutePattern("/a/:y/")), ["POST"]);
 * assert.deepEqual(sharedRoute(["GET"], a, ["GET"], compileRoutePattern("/a/b")), []);
 * ```
 */
export function sharedRoute(
  methodsA: readonly string[],
  patternA: RoutePattern,
  methodsB: readonly string[],
  patternB: RoutePattern,
): string[] {
  if (patternA.shape !== patternB.shape) return [];
  return methodsA.filter((m) => methodsB.includes(m));
}
