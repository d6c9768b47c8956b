/**
 * The weir command line: split into the command, its arguments and its
 * flags, with a usage error that names the bad part.
 *
 * @module
 */
import { closestName } from "../engine/registry.ts";
import { CliError, fail } from "./cli_error.ts";
import {
  COMMAND_BY_NAME,
  type CommandDef,
  COMMANDS,
  FLAGS,
  takes,
} from "./commands.ts";

/** The command line, split into the command, its arguments and flags. */
export interface ParsedArgs {
  command: CommandDef | undefined;
  positional: string[];
  /** Raw values by flag; switches get `""`. */
  flags: Record<string, string[]>;
  help: boolean;
  version: boolean;
}

const _NUMBER = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/;
/** Words that name a unit of time, as a user might write one after a number. */
const _TIME_UNIT =
  /^(?:ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$/i;

/** Splits the command line; throws a usage error naming the bad part. */
export function parseArgs(args: string[]): ParsedArgs {
  const out: ParsedArgs = {
    command: undefined,
    positional: [],
    flags: {},
    help: false,
    version: false,
  };
  const given: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    if (onlyPositional || !a.startsWith("-") || a === "-") {
      if (out.command === undefined && out.positional.length === 0) {
        const c = COMMAND_BY_NAME.get(a);
        if (c === undefined) {
          if (a === "help") {
            out.help = true;
            const next = args[i + 1];
            if (next !== undefined && !next.startsWith("-")) {
              out.command = COMMAND_BY_NAME.get(next);
              if (out.command === undefined) _unknownCommand(next);
              i++;
            }
            continue;
          }
          _unknownCommand(a);
        }
        out.command = c;
      } else out.positional.push(a);
      continue;
    }
    if (a === "--") {
      onlyPositional = true;
      continue;
    }
    if (a === "-h" || a === "--help") {
      out.help = true;
      continue;
    }
    if (a === "--version" || a === "-V") {
      out.version = true;
      continue;
    }
    let value: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 2) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const def = FLAGS.get(a);
    if (def === undefined) {
      const near = closestName(a, FLAGS.keys());
      throw new CliError(
        `unknown option ${JSON.stringify(a)}${
          near ? `; did you mean ${near}?` : ""
        }`,
        2,
        out.command?.name,
      );
    }
    if (def.arg !== undefined) {
      if (value === undefined) {
        value = args[++i];
        if (value === undefined) {
          throw new CliError(
            `${a} needs a value, e.g. ${a} ${def.example}`,
            2,
            out.command?.name,
          );
        }
      }
      // `--drain-timeout 5 min` is a duration written with a space: read
      // the unit as part of the value, so that the duration's own error
      // answers, not a missing file named "min".
      const unit = args[i + 1];
      if (
        def.arg === "<duration>" && _NUMBER.test(value) &&
        unit !== undefined && _TIME_UNIT.test(unit)
      ) {
        value = `${value} ${unit}`;
        i++;
      }
    } else if (value !== undefined) {
      throw new CliError(
        `${a} takes no value, received ${JSON.stringify(value)}`,
        2,
        out.command?.name,
      );
    } else value = "";
    (out.flags[a] ??= []).push(value);
    given.push(a);
  }
  const c = out.command;
  if (c !== undefined && !out.help) {
    for (const flag of given) {
      if (!takes(c, flag)) {
        const takers = COMMANDS.filter((o) => takes(o, flag)).map((o) =>
          `weir ${o.name}`
        );
        throw new CliError(
          `weir ${c.name} does not take ${flag} (${takers.join(" and ")} ${
            takers.length === 1 ? "does" : "do"
          })`,
          2,
          c.name,
        );
      }
    }
  }
  return out;
}

function _unknownCommand(name: string): never {
  const near = closestName(name, COMMAND_BY_NAME.keys());
  throw new CliError(
    `unknown command ${JSON.stringify(name)}${
      near ? `; did you mean "${near}"?` : ""
    } (commands: ${COMMANDS.map((c) => c.name).join(", ")})`,
    2,
  );
}

/**
 * Folds `--listen host:port` into `--host` and `--port`, so that the
 * settings see one value each, from a flag (and beat `WEIR_HOST`,
 * `WEIR_PORT` and the config file as any flag does). A `--host` or `--port`
 * that says otherwise than `--listen` is refused, naming both: weir does not
 * guess which one was meant. So is `--metrics` beside `--no-metrics`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldAddressFlags } from "./parse_args.ts";
 *
 * assert.deepEqual(foldAddressFlags({ "--listen": ["0.0.0.0:9000"] }), {
 *   "--host": ["0.0.0.0"],
 *   "--port": ["9000"],
 * });
 * assert.throws(
 *   () => foldAddressFlags({ "--listen": ["127.0.0.1:0"], "--port": ["5"] }),
 *   /--listen 127.0.0.1:0 and --port 5 disagree on the port/,
 * );
 * ```
 */
export function foldAddressFlags(
  flags: Readonly<Record<string, string[]>>,
): Record<string, string[]> {
  const metrics = flags["--metrics"]?.at(-1);
  if (metrics !== undefined && flags["--no-metrics"] !== undefined) {
    fail(
      `--metrics ${metrics} and --no-metrics contradict each other; give one`,
    );
  }
  const listen = flags["--listen"]?.at(-1);
  if (listen === undefined) return { ...flags };
  const { hostname, port } = parseAddress(listen, "--listen");
  const host = flags["--host"]?.at(-1);
  if (host !== undefined && host !== hostname) {
    fail(
      `--listen ${listen} and --host ${host} disagree on the address (${hostname} and ${host}); give one of them`,
    );
  }
  const given = flags["--port"]?.at(-1);
  if (
    given !== undefined &&
    !(/^\s*\d{1,5}\s*$/.test(given) && Number(given) === port)
  ) {
    fail(
      `--listen ${listen} and --port ${given} disagree on the port (${port} and ${given.trim()}); give one of them`,
    );
  }
  const out: Record<string, string[]> = { ...flags };
  delete out["--listen"];
  out["--host"] = [hostname];
  out["--port"] = [String(port)];
  return out;
}

/** Where to serve metrics: `null` for nowhere. */
export type MetricsAddress = { hostname: string; port: number } | null;

/** Parses `host:port` (`[v6]:port` too) for `flag`. */
export function parseAddress(
  value: string,
  flag: string,
): NonNullable<MetricsAddress> {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    fail(
      `${flag} needs host:port, e.g. 127.0.0.1:9464 (port 0 picks a free one), received ${
        JSON.stringify(value)
      }`,
    );
  }
  return { hostname: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}
