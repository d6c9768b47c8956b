/**
 * Writing a graph as .fbp DSL text, the inverse of `parseFbp()` for all
 * that the DSL expresses.
 *
 * @module
 */
import { type Graph, GRAPH_KEYS, type GraphExport } from "./graph.ts";
import { joinIndex, joinKey } from "./_path.ts";
import { describeValue } from "../engine/component.ts";
import { OVERFLOW_POLICIES } from "../engine/spec.ts";

/** Options of {@linkcode toFbp}. */
export interface ToFbpOptions {
  /**
   * Leave out what the DSL cannot express instead of throwing. Default
   * `false`.
   */
  dropUnsupported?: boolean;
}

const _NODE_NAME = /^[a-zA-Z_][a-zA-Z0-9_-]*$/;
const _PORT_NAME = /^[a-zA-Z_][a-zA-Z.0-9_]*$/;
const _COMPONENT_NAME = /^[a-zA-Z/\-0-9_]+$/;
const _META_TOKEN = /^[a-zA-Z/_0-9]+$/;
const _ANNOTATION_KEY = /^[a-zA-Z0-9\-_]+$/;
/** Inner spaces only: parseFbp() trims an annotation's value. */
const _ANNOTATION_VALUE =
  /^[a-zA-Z0-9\-_.](?:[a-zA-Z0-9\-_ .]*[a-zA-Z0-9\-_.])?$/;

/**
 * Writes a graph as .fbp DSL text: `# @` annotations for string properties
 * (and `defaultCapacity`), `INPORT=`/`OUTPORT=` lines, one declaration line
 * per process (`Name(component:key=value,...)`), then one line per
 * connection, with `-> (N)` for a capacity (`-> (N policy)` with an
 * overflow policy, `-> (policy)` for one alone), `'...'` for string IIPs
 * and JSON for numbers, arrays and objects.
 *
 * The DSL cannot express: groups, connection metadata other than
 * `capacity` and `policy`, IIP metadata, port metadata and indexes on
 * exported ports, boolean, null and non-JSON IIPs (e.g. a function),
 * process metadata values other than names and non-negative integers (and
 * for `x` and `y`, which read back as numbers, other than non-negative
 * integers), annotation values with outer spaces, names
 * outside the DSL's character sets, and graph fields it does not know.
 * These throw a `TypeError` listing every one, unless `dropUnsupported` is
 * set, in which case they are left out. `caseSensitive` is not written: the
 * text reads back as `true`. So `parseFbp(toFbp(g))` equals `g` in all
 * that the DSL expresses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toFbp } from "./to_fbp.ts";
 *
 * const text = toFbp({
 *   processes: { A: { component: "core/Repeat" }, B: { component: "core/Output" } },
 *   connections: [{ src: { process: "A", port: "out" }, tgt: { process: "B", port: "in" }, metadata: { capacity: 5 } }],
 * });
 * assert.equal(text, "A(core/Repeat)\nB(core/Output)\nA out -> (5) in B\n");
 * ```
 */
export function toFbp(graph: Graph, options: ToFbpOptions = {}): string {
  const unsupported: string[] = [];
  const lines: string[] = [];
  const no = (path: string, what: string) =>
    unsupported.push(`${path}: ${what}`);
  if (graph === null || typeof graph !== "object" || Array.isArray(graph)) {
    throw new TypeError(
      `Cannot write the graph as .fbp: expected a graph object, received ${
        describeValue(graph)
      }`,
    );
  }

  for (const key of Object.keys(graph)) {
    if (!GRAPH_KEYS.includes(key)) {
      no(joinKey("", key), "the DSL has no field for it");
    }
  }

  for (const [key, value] of Object.entries(graph.properties ?? {})) {
    const path = joinKey("properties", key);
    if (!_ANNOTATION_KEY.test(key)) {
      no(path, "the name cannot be written as a # @ annotation");
      continue;
    }
    if (key === "environment") {
      const env = value as Record<string, unknown> | null;
      if (
        env !== null && typeof env === "object" &&
        Object.keys(env).length === 1 && typeof env.type === "string" &&
        _ANNOTATION_VALUE.test(env.type)
      ) {
        lines.push(`# @runtime ${env.type}`);
      } else no(path, "only { type } can be written (as # @runtime)");
      continue;
    }
    if (key === "runtime") {
      no(path, "# @runtime reads back as environment.type");
      continue;
    }
    if (key === "allow") {
      const lists = value as Record<string, unknown> | null;
      const writable = lists !== null && typeof lists === "object" &&
        !Array.isArray(lists) &&
        Object.entries(lists).every(([kind, list]) =>
          _ANNOTATION_KEY.test(kind) && Array.isArray(list) &&
          list.every((e) => typeof e === "string" && /^[^\s#]+$/.test(e))
        );
      if (writable) {
        for (const [kind, list] of Object.entries(lists!)) {
          lines.push(`# @allow ${[kind, ...(list as string[])].join(" ")}`);
        }
      } else {
        no(
          path,
          "only lists of entries without blanks can be written (as # @allow lines)",
        );
      }
      continue;
    }
    if (
      key === "defaultCapacity" && Number.isSafeInteger(value) &&
      (value as number) >= 0
    ) {
      lines.push(`# @${key} ${value}`);
    } else if (
      typeof value === "string" && _ANNOTATION_VALUE.test(value) &&
      !(key === "defaultCapacity" && /^[0-9]+$/.test(value))
    ) {
      lines.push(`# @${key} ${value}`);
    } else {
      no(
        path,
        `${
          describeValue(value)
        } cannot be written as a # @ annotation (letters, digits, -, _, . and inner spaces only)`,
      );
    }
  }

  if (Array.isArray(graph.groups) && graph.groups.length > 0) {
    no("groups", "the DSL has no groups");
  }

  const exportLine = (kind: "inports" | "outports") => {
    for (const [name, ref] of Object.entries(graph[kind] ?? {})) {
      const path = joinKey(kind, name);
      if (!_isExport(ref)) {
        no(path, "must be { process, port }");
        continue;
      }
      if (!_PORT_NAME.test(name)) no(path, "the name is not a DSL port name");
      else if (!_NODE_NAME.test(ref.process)) {
        no(path, `process name "${ref.process}" is not a DSL name`);
      } else if (!_PORT_NAME.test(ref.port)) {
        no(path, `port name "${ref.port}" is not a DSL port name`);
      } else {
        if (ref.index !== undefined) {
          no(joinKey(path, "index"), "exported ports take no index in the DSL");
        }
        for (const key of Object.keys(ref)) {
          if (!["process", "port", "index"].includes(key)) {
            no(joinKey(path, key), "the DSL has no field for it");
          }
        }
        lines.push(
          `${
            kind === "inports" ? "IN" : "OUT"
          }PORT=${ref.process}.${ref.port}:${name}`,
        );
      }
    }
  };
  exportLine("inports");
  exportLine("outports");

  for (const [name, p] of Object.entries(graph.processes ?? {})) {
    const path = joinKey("processes", name);
    if (!_NODE_NAME.test(name)) {
      no(
        path,
        "the name is not a DSL process name (letters, digits, _ and -, not starting with a digit or -)",
      );
      continue;
    }
    if (
      p === null || typeof p !== "object" || typeof p.component !== "string" ||
      !_COMPONENT_NAME.test(p.component)
    ) {
      no(
        joinKey(path, "component"),
        "needs a component name of letters, digits, /, - and _",
      );
      continue;
    }
    for (const key of Object.keys(p)) {
      if (key !== "component" && key !== "metadata") {
        no(joinKey(path, key), "the DSL has no field for it");
      }
    }
    const meta: string[] = [];
    for (const [key, value] of Object.entries(p.metadata ?? {})) {
      const mpath = joinKey(joinKey(path, "metadata"), key);
      if (!_META_TOKEN.test(key)) {
        no(mpath, "the key cannot be written in the DSL");
      } else if (
        typeof value === "number" && Number.isSafeInteger(value) && value >= 0
      ) {
        meta.push(`${key}=${value}`);
      } else if (key === "x" || key === "y") {
        // The parser reads x and y (editor coordinates) as numbers.
        no(
          mpath,
          `${
            describeValue(value)
          } cannot be written in the DSL, which reads ${key} as a number (non-negative integers only)`,
        );
      } else if (
        typeof value === "string" && _META_TOKEN.test(value) &&
        !/^[0-9]+$/.test(value)
      ) {
        meta.push(`${key}=${value}`);
      } else {
        no(
          mpath,
          `${
            describeValue(value)
          } cannot be written in the DSL (names and non-negative integers only)`,
        );
      }
    }
    lines.push(
      `${name}(${p.component}${meta.length > 0 ? `:${meta.join(",")}` : ""})`,
    );
  }

  (graph.connections ?? []).forEach((c, k) => {
    const path = joinIndex("connections", k);
    if (c === null || typeof c !== "object") {
      no(path, "is not a connection");
      return;
    }
    const tgt = _portText(c.tgt, "in", joinKey(path, "tgt"), no);
    if (tgt === undefined) return;
    for (const key of Object.keys(c)) {
      if (!["src", "tgt", "data", "metadata"].includes(key)) {
        no(joinKey(path, key), "the DSL has no field for it");
      }
    }
    if (Object.hasOwn(c, "data")) {
      const data = _iipText(c.data);
      if (data === undefined) {
        no(
          joinKey(path, "data"),
          `${
            describeValue(c.data)
          } cannot be written as an IIP (strings, numbers, arrays and objects only)`,
        );
        return;
      }
      for (const key of Object.keys(c.metadata ?? {})) {
        no(
          joinKey(joinKey(path, "metadata"), key),
          "an IIP takes no metadata in the DSL",
        );
      }
      lines.push(`${data} -> ${tgt}`);
      return;
    }
    const src = _portText(c.src, "out", joinKey(path, "src"), no);
    if (src === undefined) return;
    const buffer: string[] = [];
    for (const [key, value] of Object.entries(c.metadata ?? {})) {
      const mpath = joinKey(joinKey(path, "metadata"), key);
      if (
        key === "capacity" && Number.isSafeInteger(value) &&
        (value as number) >= 0
      ) {
        buffer.unshift(String(value));
      } else if (
        key === "policy" &&
        (OVERFLOW_POLICIES as readonly unknown[]).includes(value)
      ) {
        buffer.push(value as string);
      } else {
        no(
          mpath,
          `the DSL has no connection ${
            key === "capacity"
              ? "capacity other than a non-negative integer"
              : key === "policy"
              ? `policy but ${OVERFLOW_POLICIES.join(", ")}`
              : "metadata but capacity and policy"
          }`,
        );
      }
    }
    const arrow = buffer.length === 0 ? "" : `(${buffer.join(" ")}) `;
    lines.push(`${src} -> ${arrow}${tgt}`);
  });

  if (unsupported.length > 0 && !options.dropUnsupported) {
    throw new TypeError(
      `Cannot write the graph as .fbp: the DSL cannot express ${
        unsupported.length === 1 ? "this" : "these"
      } (write JSON instead, or pass { dropUnsupported: true } to leave ${
        unsupported.length === 1 ? "it" : "them"
      } out):\n${unsupported.join("\n")}`,
    );
  }
  return lines.map((l) => l + "\n").join("");
}

function _isExport(ref: unknown): ref is GraphExport {
  return ref !== null && typeof ref === "object" &&
    typeof (ref as GraphExport).process === "string" &&
    typeof (ref as GraphExport).port === "string";
}

/** `Proc port[i]` (out) or `port[i] Proc` (in), or `undefined` when it cannot be written. */
function _portText(
  ref: unknown,
  dir: "in" | "out",
  path: string,
  no: (path: string, what: string) => void,
): string | undefined {
  if (!_isExport(ref)) {
    no(path, "must be { process, port }");
    return undefined;
  }
  if (!_NODE_NAME.test(ref.process)) {
    no(joinKey(path, "process"), `"${ref.process}" is not a DSL process name`);
    return undefined;
  }
  if (!_PORT_NAME.test(ref.port)) {
    no(joinKey(path, "port"), `"${ref.port}" is not a DSL port name`);
    return undefined;
  }
  let port = ref.port;
  if (ref.index !== undefined) {
    if (!Number.isSafeInteger(ref.index) || ref.index < 0) {
      no(joinKey(path, "index"), "must be a non-negative integer");
      return undefined;
    }
    port += `[${ref.index}]`;
  }
  for (const key of Object.keys(ref)) {
    if (!["process", "port", "index"].includes(key)) {
      no(joinKey(path, key), "the DSL has no field for it");
    }
  }
  return dir === "out" ? `${ref.process} ${port}` : `${port} ${ref.process}`;
}

/** The DSL text of an IIP value, or `undefined` when the DSL cannot hold it. */
function _iipText(data: unknown): string | undefined {
  if (typeof data === "string") {
    // '...' reads \' as a quote and any other backslash as itself, so a
    // string ending in a backslash (or holding line breaks) goes as JSON.
    if (data.endsWith("\\") || _hasControl(data)) return JSON.stringify(data);
    return `'${data.replaceAll("'", "\\'")}'`;
  }
  if (typeof data === "number") {
    return Number.isFinite(data) ? JSON.stringify(data) : undefined;
  }
  if (data !== null && typeof data === "object") {
    let text: string;
    try {
      text = JSON.stringify(data);
    } catch {
      return undefined;
    }
    // Only plain JSON survives: JSON.stringify would drop a function or
    // turn NaN into null without a word.
    return _sameJson(data, JSON.parse(text)) ? text : undefined;
  }
  return undefined;
}

function _hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) < 0x20) return true;
  }
  return false;
}

function _sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    a === null || b === null || typeof a !== "object" || typeof b !== "object"
  ) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const proto = Object.getPrototypeOf(a);
  if (!Array.isArray(a) && proto !== Object.prototype && proto !== null) {
    return false;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    _sameJson(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
    )
  );
}
