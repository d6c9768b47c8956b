/**
 * The 405 of a route group's paths.
 *
 * @module
 */
import type { Hono } from "hono";
import { HttpError } from "./http_error.ts";

/**
 * Answers every method not routed on `path` (register it after the routes)
 * with a 405 that names the allowed ones, also in `Allow`.
 */
export function _methodNotAllowed(
  app: Hono,
  path: string,
  allow: string,
): void {
  app.all(path, (c) => {
    throw new HttpError(
      405,
      `method ${c.req.method} is not allowed on ${c.req.path}: use ${allow}`,
      { Allow: allow },
    );
  });
}
