/**
 * Validation of weir's settings in a graph: the default capacity, each
 * process's `timeoutMs`, `concurrency`, `retry` and `circuitBreaker`, and
 * each connection's `capacity` and `policy`.
 *
 * @module
 */
import { quote } from "../engine/excerpt.ts";
import { describeValue } from "../engine/component.ts";
import { LIMITS } from "../engine/limits.ts";
import { OVERFLOW_POLICIES } from "../engine/spec.ts";
import { joinKey } from "./_path.ts";
import { closestName } from "../engine/registry.ts";
import {
  didYouMean,
  isDuration,
  isPositiveInteger,
  isRecord,
  listNames,
  type Report,
} from "./_validation.ts";
import { _checkAllow } from "./_allow.ts";

/** How a problem names the longest timer. */
const TIMER = `${LIMITS.maxTimerMs} (about 24.8 days, the longest timer)`;

/** An integer from `min` to `max`. */
function _intIn(value: unknown, min: number, max: number): boolean {
  return isPositiveInteger(value) && value >= min && value <= max;
}

/** A number of milliseconds from 0 to the longest timer. */
function _timer(value: unknown): boolean {
  return isDuration(value) && value <= LIMITS.maxTimerMs;
}

/** The process settings, which a subgraph process does not take. */
export const PROCESS_SETTINGS: readonly string[] = [
  "timeoutMs",
  "retry",
  "circuitBreaker",
  "concurrency",
];

/** The connection settings of an edge. */
const CONNECTION_SETTINGS: readonly string[] = ["capacity", "policy"];

/**
 * weir's graph properties: `defaultCapacity`, `allow` and the
 * supervision settings (checked by `_readSupervision()`).
 */
const PROPERTIES: readonly string[] = [
  "defaultCapacity",
  "allow",
  "restart",
  "restartDelayMs",
  "restartMaxDelayMs",
  "restartLimit",
  "required",
];

/**
 * Reports each key of `record` that is not one of weir's `settings` but
 * close to one (`timeoutMS`, `timeout`, `capcity`, `@defaultcapacity`):
 * weir would ignore it, and the setting the author meant would silently
 * not apply. Other keys stay allowed, as NoFlo's tools keep their own
 * (`label`, `x`, `y`, `route`, `description`, ...).
 */
function _checkNearMisses(
  record: Record<string, unknown>,
  settings: readonly string[],
  path: string,
  what: string,
  report: Report,
): void {
  for (const key of Object.keys(record)) {
    if (settings.includes(key)) continue;
    const close = closestName(key, settings);
    if (close === undefined) continue;
    report(
      joinKey(path, key),
      `${what} has no setting "${key}", so it would be ignored; did you mean "${close}"? (${what}'s settings are ${
        listNames([...settings])
      })`,
    );
  }
}

/** Checks the graph's `properties` (`defaultCapacity`). */
export function checkProperties(
  properties: unknown,
  report: Report,
  maxCapacity: number = LIMITS.maxCapacity,
): void {
  if (properties === undefined) return;
  if (!isRecord(properties)) {
    report(
      "properties",
      `properties must be an object, received ${describeValue(properties)}`,
    );
    return;
  }
  _checkNearMisses(properties, PROPERTIES, "properties", "the graph", report);
  _checkAllow(properties.allow, report);
  const capacity = properties.defaultCapacity;
  if (capacity !== undefined && !_intIn(capacity, 1, maxCapacity)) {
    report(
      "properties.defaultCapacity",
      `defaultCapacity must be a positive integer up to ${maxCapacity} (messages a connection buffers), received ${
        describeValue(capacity)
      }`,
    );
  }
}

/** Checks the settings in the `metadata` of process `name`. */
export function checkProcessSettings(
  name: string,
  metadata: Record<string, unknown>,
  path: string,
  report: Report,
): void {
  _checkNearMisses(
    metadata,
    PROCESS_SETTINGS,
    path,
    `process ${quote(name)}`,
    report,
  );
  const { timeoutMs, retry, circuitBreaker, concurrency } = metadata;
  if (
    timeoutMs !== undefined &&
    !(isDuration(timeoutMs) && timeoutMs > 0 && timeoutMs <= LIMITS.maxTimerMs)
  ) {
    report(
      joinKey(path, "timeoutMs"),
      `timeoutMs of process ${
        quote(name)
      } must be a positive number of milliseconds up to ${TIMER}, received ${
        describeValue(timeoutMs)
      }`,
    );
  }
  if (
    concurrency !== undefined &&
    !_intIn(concurrency, 1, LIMITS.maxConcurrency)
  ) {
    report(
      joinKey(path, "concurrency"),
      `concurrency of process ${
        quote(name)
      } must be a positive integer up to ${LIMITS.maxConcurrency} (activations in flight at once), received ${
        describeValue(concurrency)
      }`,
    );
  }
  if (retry !== undefined) {
    _checkObject(name, "retry", retry, joinKey(path, "retry"), report, {
      attempts: [
        (v) => _intIn(v, 1, LIMITS.maxRetryAttempts),
        `a positive integer up to ${LIMITS.maxRetryAttempts} (attempts in all, the first included)`,
      ],
      backoffMs: [
        _timer,
        `a non-negative number of milliseconds up to ${TIMER}`,
      ],
    });
  }
  if (circuitBreaker !== undefined) {
    _checkObject(
      name,
      "circuitBreaker",
      circuitBreaker,
      joinKey(path, "circuitBreaker"),
      report,
      {
        failureThreshold: [
          (v) => _intIn(v, 1, LIMITS.maxFailureThreshold),
          `a positive integer up to ${LIMITS.maxFailureThreshold} (consecutive failures that open the breaker)`,
        ],
        resetTimeoutMs: [
          _timer,
          `a non-negative number of milliseconds up to ${TIMER}`,
        ],
      },
    );
  }
}

/** Checks a settings object whose fields are all required. */
function _checkObject(
  name: string,
  setting: string,
  value: unknown,
  path: string,
  report: Report,
  fields: Record<string, [(v: unknown) => boolean, string]>,
): void {
  const example = `{ ${
    Object.keys(fields).map((f) => `"${f}": ...`).join(", ")
  } }`;
  if (!isRecord(value)) {
    report(
      path,
      `${setting} of process ${
        quote(name)
      } must be an object ${example}, received ${describeValue(value)}`,
    );
    return;
  }
  for (const [field, [ok, what]] of Object.entries(fields)) {
    const v = value[field];
    if (v === undefined) {
      report(
        joinKey(path, field),
        `${setting} of process ${quote(name)} needs "${field}", ${what}`,
      );
    } else if (!ok(v)) {
      report(
        joinKey(path, field),
        `${setting}.${field} of process ${
          quote(name)
        } must be ${what}, received ${describeValue(v)}`,
      );
    }
  }
  for (const field of Object.keys(value)) {
    if (!Object.hasOwn(fields, field)) {
      report(
        joinKey(path, field),
        `${setting} of process ${
          quote(name)
        } has an unknown setting "${field}"${
          didYouMean(field, Object.keys(fields))
        } (it takes ${listNames(Object.keys(fields))})`,
      );
    }
  }
}

/**
 * Checks a connection's `metadata`: `capacity` and `policy` on an edge,
 * neither on an IIP (delivered directly, with no buffer).
 */
export function checkConnectionMetadata(
  metadata: unknown,
  path: string,
  iip: boolean,
  report: Report,
  maxCapacity: number = LIMITS.maxCapacity,
): void {
  if (metadata === undefined) return;
  if (!isRecord(metadata)) {
    report(
      path,
      `connection metadata must be an object, received ${
        describeValue(metadata)
      }`,
    );
    return;
  }
  if (!iip) {
    _checkNearMisses(
      metadata,
      CONNECTION_SETTINGS,
      path,
      "a connection",
      report,
    );
  }
  const { capacity, policy } = metadata;
  if (iip) {
    for (const [key, value] of [["capacity", capacity], ["policy", policy]]) {
      if (value !== undefined) {
        report(
          joinKey(path, key as string),
          `an IIP is delivered directly, with no buffer, so it takes no ${key}; remove it`,
        );
      }
    }
    return;
  }
  if (capacity !== undefined && !_intIn(capacity, 1, maxCapacity)) {
    report(
      joinKey(path, "capacity"),
      `capacity must be a positive integer up to ${maxCapacity} (messages the connection buffers), received ${
        describeValue(capacity)
      }`,
    );
  }
  if (
    policy !== undefined &&
    !(OVERFLOW_POLICIES as readonly unknown[]).includes(policy)
  ) {
    report(
      joinKey(path, "policy"),
      `policy must be one of ${
        OVERFLOW_POLICIES.map((p) => `"${p}"`).join(", ")
      }, received ${describeValue(policy)}${
        typeof policy === "string" ? didYouMean(policy, OVERFLOW_POLICIES) : ""
      }`,
    );
  }
}
