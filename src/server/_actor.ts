/**
 * Who a request acts for: the name of the token the access guard matched
 * (never its secret), kept beside the request so the flow routes can hand
 * it to the flow manager, which logs it with each change.
 *
 * @module
 */

const _actors = new WeakMap<Request, string>();

/** What the log calls a request that no token was asked of. */
export const _ANONYMOUS = "anonymous (no token configured)";

/** Records the token name a request was let through with. */
export function _setActor(req: Request, name: string): void {
  _actors.set(req, name);
}

/** The token name a request acts for, or {@linkcode _ANONYMOUS}. */
export function _actorOf(req: Request): string {
  return _actors.get(req) ?? _ANONYMOUS;
}
