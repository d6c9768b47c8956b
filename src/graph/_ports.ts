/**
 * Port lookup shared by validation and build.
 *
 * @module
 */

/**
 * The port named `name`: an exact match, else the only port whose name
 * matches ignoring case (NoFlo graphs with `caseSensitive: false` lowercase
 * port names, and the .fbp DSL's default ports are `IN` and `OUT`).
 */
export function findPort<T>(
  ports: Readonly<Record<string, T>>,
  name: string,
): [string, T] | undefined {
  if (Object.hasOwn(ports, name)) return [name, ports[name]];
  const lower = name.toLowerCase();
  const matches = Object.keys(ports).filter((p) => p.toLowerCase() === lower);
  return matches.length === 1 ? [matches[0], ports[matches[0]]] : undefined;
}
