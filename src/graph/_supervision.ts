/**
 * A flow's supervision settings in its graph's `properties` (`restart`,
 * `restartDelayMs`, `restartMaxDelayMs`, `restartLimit`, `required`): read
 * here, beside the rest of the graph's validation, so that `validateFlow()`
 * refuses a bad value with the graph's other problems and the flow manager
 * reads the values by the same rules (`supervisionOf()` in
 * `src/flows/supervision.ts`, which re-exports the types).
 *
 * @module
 */
import { MAX_TIMER_MS } from "../engine/limits.ts";
import type { Problem } from "./problem.ts";
import { isRecord } from "./_validation.ts";

/**
 * When a flow is restarted by itself: `never`; `on-failure` when its
 * network failed to start; `always` also when it finished by itself (its
 * sources ended). A stop asked for is never undone.
 */
export type RestartPolicy = "never" | "on-failure" | "always";

/** The restart policies, in the order of how much they restart. */
export const RESTART_POLICIES: readonly RestartPolicy[] = [
  "never",
  "on-failure",
  "always",
];

/** A flow's supervision settings, defaults filled in. */
export interface Supervision {
  /** `properties.restart`. Default `"never"`. */
  restart: RestartPolicy;
  /** `properties.restartDelayMs`: wait before the first restart. Default 1000. */
  restartDelayMs: number;
  /**
   * `properties.restartMaxDelayMs`: the wait doubles per restart in a row
   * up to this. A network that ran at least this long counts as healthy
   * again: the next failure starts from `restartDelayMs` and a fresh limit.
   * Default 60000.
   */
  restartMaxDelayMs: number;
  /**
   * `properties.restartLimit`: restarts in a row before giving up (the
   * flow is then `failed`). Default 5.
   */
  restartLimit: number;
  /** `properties.required`: `/readyz` is not ready unless it runs. Default `false`. */
  required: boolean;
}

/** The settings of a graph that sets none. */
export const DEFAULT_SUPERVISION: Readonly<Supervision> = Object.freeze({
  restart: "never",
  restartDelayMs: 1000,
  restartMaxDelayMs: 60_000,
  restartLimit: 5,
  required: false,
});

/** The highest `restartLimit`. */
export const MAX_RESTART_LIMIT = 1000;

/**
 * Reads the supervision settings of a graph's `properties` (anything but an
 * object reads as none: `checkProperties()` reports that shape). The .fbp
 * DSL gives every property as text, so numbers and booleans are taken as
 * text too (`"5"`, `"true"`). Each bad value is a problem with its path
 * (`properties.restart`), the range and what was received; the settings
 * then hold the defaults for the bad ones.
 */
export function _readSupervision(
  properties: unknown,
): { supervision: Supervision; problems: Problem[] } {
  const p = isRecord(properties) ? properties : {};
  const problems: Problem[] = [];
  const s: Supervision = { ...DEFAULT_SUPERVISION };
  if (p.restart !== undefined) {
    if (RESTART_POLICIES.includes(p.restart as RestartPolicy)) {
      s.restart = p.restart as RestartPolicy;
    } else {
      problems.push({
        path: "properties.restart",
        message: `restart must be one of ${
          RESTART_POLICIES.join(", ")
        }, received ${_show(p.restart)}`,
      });
    }
  }
  const int = (
    key: "restartDelayMs" | "restartMaxDelayMs" | "restartLimit",
    min: number,
    max: number,
    what: string,
  ) => {
    const v = p[key];
    if (v === undefined) return;
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (
      typeof n !== "number" || !Number.isInteger(n) || n < min || n > max
    ) {
      problems.push({
        path: `properties.${key}`,
        message:
          `${key} must be an integer from ${min} to ${max} (${what}), received ${
            _show(v)
          }`,
      });
    } else {
      s[key] = n;
    }
  };
  int("restartDelayMs", 1, MAX_TIMER_MS, "ms before the first restart");
  int(
    "restartMaxDelayMs",
    1,
    MAX_TIMER_MS,
    "the longest wait between restarts, in ms",
  );
  int(
    "restartLimit",
    0,
    MAX_RESTART_LIMIT,
    "restarts in a row before giving up",
  );
  if (
    problems.length === 0 && p.restartMaxDelayMs === undefined &&
    s.restartDelayMs > s.restartMaxDelayMs
  ) {
    s.restartMaxDelayMs = s.restartDelayMs;
  } else if (s.restartDelayMs > s.restartMaxDelayMs) {
    problems.push({
      path: "properties.restartMaxDelayMs",
      message:
        `restartMaxDelayMs must be at least restartDelayMs (${s.restartDelayMs}), received ${s.restartMaxDelayMs}`,
    });
  }
  if (p.required !== undefined) {
    if (p.required === true || p.required === "true") s.required = true;
    else if (p.required === false || p.required === "false") s.required = false;
    else {
      problems.push({
        path: "properties.required",
        message: `required must be true or false, received ${
          _show(p.required)
        }`,
      });
    }
  }
  return { supervision: s, problems };
}

function _show(v: unknown): string {
  const text = typeof v === "string" ? JSON.stringify(v) : String(v);
  return text.length <= 40 ? text : `${text.slice(0, 40)}...`;
}
