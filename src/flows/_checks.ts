/**
 * The flow manager's argument checks and the words of its messages.
 *
 * @module
 */
import {
  FlowConflictError,
  GraphTooDeepError,
  InvalidFlowArgumentError,
} from "./errors.ts";
import type { Graph } from "../graph/graph.ts";
import { MAX_TIMER_MS } from "../engine/limits.ts";
import { quote, thrownText } from "../engine/excerpt.ts";
import type { FlowInput } from "./flow_info.ts";
import { isPlainObject } from "./merge_patch.ts";

/** Ids: what fits a URL path segment and a metric label unescaped. */
export const _ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const _ID_RULE =
  'an id is 1 to 128 letters, digits, "_", "." or "-", starting with a letter or digit';

/**
 * An id as a message quotes it: a string in quotes, cut to an excerpt (an
 * id asked for may be a megabyte long), else its kind.
 */
export function _q(id: unknown): string {
  return typeof id === "string" ? quote(id) : `(${_kind(id)})`;
}

export function _kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}

export function _message(e: unknown): string {
  return thrownText(e);
}

export function _input(input: unknown, what: string): FlowInput {
  if (!isPlainObject(input)) {
    throw new TypeError(
      `Cannot ${what}: expected { text, format }, received ${_kind(input)}`,
    );
  }
  if (typeof input.text !== "string") {
    throw new TypeError(
      `Cannot ${what}: text must be the graph as a string, received ${
        _kind(input.text)
      }`,
    );
  }
  if (input.format !== "json" && input.format !== "fbp") {
    throw new RangeError(
      `Cannot ${what}: format must be "json" or "fbp", received ${
        typeof input.format === "string"
          ? JSON.stringify(input.format)
          : _kind(input.format)
      }`,
    );
  }
  return { text: input.text, format: input.format };
}

export function _checkRev(
  id: string,
  storedRev: number,
  rev: unknown,
  what: string,
): void {
  if (rev === undefined) return;
  if (!Number.isInteger(rev) || (rev as number) < 1) {
    throw new InvalidFlowArgumentError(
      "rev",
      rev,
      `Cannot ${what} flow ${
        _q(id)
      }: rev must be a positive integer, received ${
        typeof rev === "number" ? rev : _kind(rev)
      }`,
    );
  }
  if (rev !== storedRev) {
    throw new FlowConflictError(
      id,
      `Cannot ${what} flow ${
        _q(id)
      }: rev ${rev} is stale, the stored rev is ${storedRev}; read the flow again and retry`,
      { expectedRev: rev as number, actualRev: storedRev },
    );
  }
}

export function _checkTimeout(ms: unknown, where: string): void {
  // A drain past the longest timer would time out at once.
  if (typeof ms !== "number" || !(ms >= 0 && ms <= MAX_TIMER_MS)) {
    throw new RangeError(
      `${where} must be a non-negative number of milliseconds up to ${MAX_TIMER_MS} (about 24.8 days, the longest timer), received ${
        typeof ms === "number" ? ms : _kind(ms)
      }`,
    );
  }
}

/**
 * A stack overflow while reading a graph or merging a patch, said as what
 * it is; any other error as it is.
 */
export function _tooDeep(e: unknown, op: string): unknown {
  if (
    !(e instanceof RangeError) ||
    !/call stack|too much recursion/i.test(e.message)
  ) {
    return e;
  }
  return new GraphTooDeepError(
    `Cannot ${op} flow: the graph is nested too deeply to read (JSON objects and arrays within each other thousands of levels deep); flatten it`,
    { cause: e },
  );
}

/** Throws an {@linkcode InvalidFlowArgumentError} unless `id` follows the id rule. */
export function _checkId(id: unknown, what: string): string {
  if (typeof id !== "string" || !_ID.test(id)) {
    throw new InvalidFlowArgumentError(
      "id",
      id,
      `Cannot ${what}: ${_ID_RULE}, received ${
        typeof id === "string" ? _q(id) : _kind(id)
      }`,
    );
  }
  return id;
}

/**
 * A new flow's id: `given`, else the graph's `properties.name`, else a new
 * one that `taken` does not know; a malformed one is an
 * {@linkcode InvalidFlowArgumentError}.
 */
export function _newId(
  given: unknown,
  graph: Graph,
  taken: (id: string) => boolean,
): string {
  if (given !== undefined) {
    return _checkId(given, "create flow");
  }
  const name = graph.properties?.name;
  if (name !== undefined) {
    if (typeof name !== "string" || !_ID.test(name)) {
      throw new InvalidFlowArgumentError(
        "id",
        name,
        `Cannot create flow: its id would be the graph's properties.name, but ${_ID_RULE}, received ${
          typeof name === "string" ? _q(name) : _kind(name)
        }; give an id`,
      );
    }
    return name;
  }
  let id: string;
  do {
    id = `flow-${crypto.randomUUID().slice(0, 8)}`;
  } while (taken(id));
  return id;
}
