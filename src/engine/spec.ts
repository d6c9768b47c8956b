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
  /** Its name in the graph (metric label `process`). */
  name: string;
  /** What it runs. */
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
  /** Tries a failed message again. */
  retry?: RetrySpec;
  /** Stops calling a failing process for a while. */
  circuitBreaker?: CircuitBreakerSpec;
  /** Overrides the component's concurrency. */
  concurrency?: number;
}

/** One end of a connection. */
export interface PortRef {
  /** The process's name. */
  process: string;
  /** The port's name. */
  port: string;
  /** Index on an addressable port. */
  index?: number;
}

/** A connection between two processes. */
export interface ConnectionSpec {
  /** The sender's out-port. */
  from: PortRef;
  /** The receiver's in-port. */
  to: PortRef;
  /** Buffer size; default the network's `defaultCapacity`. */
  capacity?: number;
  /** Default `"block"`. */
  policy?: OverflowPolicy;
}

/** An initial information packet, delivered before the first message. */
export interface InitialSpec {
  /** The packet. */
  data: unknown;
  /** The in-port it goes to. */
  to: PortRef;
}

/** An exported port of the network (graph in/out port). */
export interface ExportSpec {
  /** The process behind the exported port. */
  process: string;
  /** Its port. */
  port: string;
  /** Index on an addressable port. */
  index?: number;
}

/** Everything a network needs to run. */
export interface NetworkSpec {
  /** The flow's name (metric label `flow`). */
  name: string;
  /** The processes. */
  processes: ProcessSpec[];
  /** The connections between them. */
  connections: ConnectionSpec[];
  /** Initial packets, delivered before anything else. */
  initials?: InitialSpec[];
  /** Exported in-ports (`Network.send`). */
  inports?: Record<string, ExportSpec>;
  /** Exported out-ports (`Network.output`). */
  outports?: Record<string, ExportSpec>;
  /** Capacity of connections that set none. Default 10. */
  defaultCapacity?: number;
}
