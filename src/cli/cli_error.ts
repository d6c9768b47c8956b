/**
 * The weir command's failure: one sentence for the operator and an exit
 * code, never a stack trace.
 *
 * @module
 */

/** A command-line failure: printed as one sentence, exit code attached. */
export class CliError extends Error {
  override name = "CliError";
  /** 1: the flow or graph failed; 2: bad usage. */
  readonly code: number;
  /** The command whose help the hint points to, if any. */
  readonly command?: string;
  /**
   * Whether a usage failure is followed by the hint to read the command's
   * help: not when the help would not help (a bad component module).
   */
  readonly hint: boolean;

  /** Creates the error. */
  constructor(
    message: string,
    code: number,
    command?: string,
    options: { hint?: boolean } = {},
  ) {
    super(message);
    this.code = code;
    if (command !== undefined) this.command = command;
    this.hint = options.hint ?? true;
  }
}

/**
 * Throws a {@linkcode CliError}: exit code 1 when the flow or graph failed,
 * 2 (the default) for bad usage.
 */
export function fail(message: string, code = 2): never {
  throw new CliError(message, code);
}
