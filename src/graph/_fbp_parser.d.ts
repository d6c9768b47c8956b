/**
 * Types of the npm `fbp` package (1.8.0), which ships none.
 *
 * @module
 */

/** A port reference as the parser emits it. */
export interface FbpPortRef {
  process: string;
  port: string;
  index?: number;
}

/** The parser's result: an fbp-graph JSON object. */
export interface FbpResult {
  caseSensitive: boolean;
  properties?: Record<string, unknown>;
  inports: Record<string, { process: string; port: string }>;
  outports: Record<string, { process: string; port: string }>;
  groups: unknown[];
  processes: Record<
    string,
    { component?: string; metadata?: Record<string, string | number> }
  >;
  connections: Array<{ src?: FbpPortRef; data?: unknown; tgt: FbpPortRef }>;
}

/** One alternative the parser expected at a syntax error. */
export interface FbpExpectation {
  type: string;
  description: string;
  value?: string;
}

/** The parser's (peggy) syntax error. */
export interface FbpSyntaxError extends Error {
  location: {
    start: { offset: number; line: number; column: number };
    end: { offset: number; line: number; column: number };
  };
  expected: FbpExpectation[] | null;
  found: string | null;
}

/** Options of `parse`. */
export interface FbpParseOptions {
  caseSensitive?: boolean;
  validateContents?: boolean;
  validateSchema?: boolean;
}

declare const fbp: {
  parse(text: string, options?: FbpParseOptions): FbpResult;
  SyntaxError: abstract new (...args: never[]) => FbpSyntaxError;
  serialize(graph: unknown): string;
};
export default fbp;
