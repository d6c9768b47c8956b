/**
 * The input of a network: resolved processes and connections. The graph
 * layer (`src/graph`) turns a validated fbp-graph into this shape.
 *
 * @module
 */
import type { Component } from "./component.ts";

/** Overflow policy of a connection whose buffer is full. */
export type OverflowPolicy = "block" | "drop-oldest" | "drop-newest" | "error";

/** The overflow policies, in documentation order. */
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = [
  "block",
  "drop-oldest",
  "drop-newest",
  "error",
];

/** Default capacity of a connection. */
export const DEFAULT_CAPACITY = 10;

/** Retry settings of a process. */
export interface RetrySpec {
  /** Attempts in all, the first included (2 means one retry). */
  attempts: number;
  /** Wait before the first retry; doubles for each further one. */
  backoffMs: number;
}

/** Circuit-breaker settings of a process. */
export interface CircuitBreakerSpec {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** Time the breaker stays open before a trial message (half-open). */
  resetTimeoutMs: number;
}

/** A process of a network. */
export interface ProcessSpec {
  name: string;
  component: Component;
  /** Graph metadata (component options and weir settings). */
  metadata?: Record<string, unknown>;
  /**
   * Fails an async activation that has not settled within this many ms
   * (error kind `timeout`). The activation is abandoned, not cancelled:
   * JavaScript cannot stop it, so what it sends later is still delivered,
   * and a retry may run beside it. A synchronous activation cannot be
   * interrupted at all.
   */
  timeoutMs?: number;
  retry?: RetrySpec;
  circuitBreaker?: CircuitBreakerSpec;
  /** Overrides the component's concurrency. */
  concurrency?: number;
}

/** One end of a connection. */
export interface PortRef {
  process: string;
  port: string;
  /** Index on an addressable port. */
  index?: number;
}

/** A connection between two processes. */
export interface ConnectionSpec {
  from: PortRef;
  to: PortRef;
  /** Buffer size; default the network's `defaultCapacity`. */
  capacity?: number;
  /** Default `"block"`. */
  policy?: OverflowPolicy;
}

/** An initial information packet, delivered before the first message. */
export interface InitialSpec {
  data: unknown;
  to: PortRef;
}

/** An exported port of the network (graph in/out port). */
export interface ExportSpec {
  process: string;
  port: string;
  index?: number;
}

/** Everything a network needs to run. */
export interface NetworkSpec {
  /** The flow's name (metric label `flow`). */
  name: string;
  processes: ProcessSpec[];
  connections: ConnectionSpec[];
  initials?: InitialSpec[];
  inports?: Record<string, ExportSpec>;
  outports?: Record<string, ExportSpec>;
  /** Capacity of connections that set none. Default 10. */
  defaultCapacity?: number;
}
