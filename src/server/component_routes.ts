/**
 * `GET /components`: the component catalogue.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Registry } from "../engine/registry.ts";
import { _methodNotAllowed } from "./_method_not_allowed.ts";
import { _json } from "./_response.ts";

/**
 * The catalogue of `registry`, at the root of the returned app (mount it
 * at `/components`): every component with its aliases, description,
 * origin (`"built-in"`, or the file of an operator's module) and
 * ports (name, type, and for in-ports whether required or control).
 * `middleware` (the access guard) runs first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { builtins } from "../components/mod.ts";
 * import { componentRoutes } from "./component_routes.ts";
 *
 * const app = new Hono().route("/components", componentRoutes(builtins()));
 * const { components } = await (await app.request("/components")).json();
 * const drop = components.find((k: { name: string }) => k.name === "core/Drop");
 * assert.equal(drop.inPorts[0].name, "in");
 * assert.equal(drop.origin, "built-in");
 * ```
 */
export function componentRoutes(
  registry: Registry,
  ...middleware: MiddlewareHandler[]
): Hono {
  const app = new Hono();
  for (const m of middleware) app.use("/", m);
  app.get("/", (c) =>
    _json(c, {
      components: registry.components().map((k) => ({
        name: k.name,
        aliases: registry.aliasesOf(k.name),
        description: k.description,
        origin: registry.originOf(k.name),
        inPorts: Object.entries(k.inPorts).map(([name, p]) => ({
          name,
          type: p.type,
          required: p.required ?? false,
          control: p.control ?? false,
          description: p.description ?? "",
        })),
        outPorts: Object.entries(k.outPorts).map(([name, p]) => ({
          name,
          type: p.type,
          description: p.description ?? "",
        })),
      })),
    }));
  _methodNotAllowed(app, "/", "GET, HEAD");
  return app;
}
