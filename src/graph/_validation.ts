/**
 * The vocabulary the validation files share: how a problem is reported,
 * what counts as an object, a count or a duration, and how lists and
 * suggestions are worded.
 *
 * @module
 */
import type { Component, InPortSpec } from "../engine/component.ts";
import { closestName } from "../engine/registry.ts";

/** Records one problem at a path (`""` for the graph itself). */
export type Report = (path: string, message: string) => void;

/** A plain object (not `null`, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A safe integer above 0 (a capacity, a count of attempts). */
export function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/** A finite number of milliseconds, 0 included. */
export function isDuration(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** `; did you mean "close"?` when a candidate is close to `name`, else `""`. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const close = closestName(name, candidates);
  return close === undefined ? "" : `; did you mean "${close}"?`;
}

/** `a, b and c`, or `none` for an empty list. */
export function listNames(names: string[]): string {
  if (names.length === 0) return "none";
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  // A port's parse function may come from a library that throws plain
  // objects with a message (jsonata does; src/expr words those itself).
  if (e !== null && typeof e === "object") {
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  return String(e);
}

/**
 * One end of a connection (or an export) that validation found: the port's
 * real name, and its spec and component when they are known.
 */
export interface ResolvedEnd {
  process: string;
  port: string;
  index?: number;
  spec?: InPortSpec;
  component?: Component;
}
