/**
 * CSV components: `csv/Parse` (text or lines to rows) and `csv/Stringify`
 * (rows to text or lines), on the `csv-parse` and `csv-stringify` packages.
 *
 * @module
 */
import { type CsvError, Parser } from "csv-parse";
import { Buffer } from "node:buffer";
import { stringify } from "csv-stringify/sync";
import {
  type Component,
  type Context,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import { _errorPort } from "./_error_port.ts";
import { setOwnField } from "./_own_field.ts";
import { _oneOf } from "./_shaping.ts";
import { _jsonWriteProblem } from "./_to_json.ts";

/** One malformed row of a CSV text. */
export interface CsvBadRow {
  /** Its line in the text (or, line by line, since the first line). */
  line: number;
  /** What is wrong with it. */
  reason: string;
}

/**
 * The malformed rows of one message given to `csv/Parse` (the good rows
 * of that message went out, unless it was a whole text whose header row
 * is malformed: then none did): reported on the `error` port, as the
 * `cause` of the `ProcessError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CsvRowsError } from "./csv.ts";
 *
 * const e = new CsvRowsError([{ line: 3, reason: "expected 2 fields (a, b), received 1" }]);
 * assert.equal(e.message, "Cannot parse CSV: line 3: expected 2 fields (a, b), received 1");
 * assert.equal(e.rows[0].line, 3);
 * ```
 */
export class CsvRowsError extends SyntaxError {
  /** Always `"CsvRowsError"`. */
  override name = "CsvRowsError";
  /** The malformed rows, in order. */
  readonly rows: readonly CsvBadRow[];

  /** Creates the error for `rows` (at least one). */
  constructor(rows: readonly CsvBadRow[]) {
    const each = rows.map((r) => `line ${r.line}: ${r.reason}`).join("; ");
    super(
      rows.length === 1
        ? `Cannot parse CSV: ${each}`
        : `Cannot parse CSV: ${rows.length} malformed rows: ${each}`,
    );
    this.rows = rows;
  }
}

/** How the CSV components take or give their text. */
export type CsvMode = "text" | "lines";

const _mode = _oneOf(["text", "lines"]);

function _columns(value: unknown): string[] {
  if (
    Array.isArray(value) && value.length > 0 &&
    value.every((c) => typeof c === "string" && c !== "")
  ) {
    const twice = _namedTwice(value);
    if (twice !== undefined) {
      throw new RangeError(
        `the columns name the field ${
          JSON.stringify(twice)
        } twice (a row would keep one of the two)`,
      );
    }
    return value;
  }
  throw new RangeError(
    `expected a non-empty array of column names (non-empty strings), received ${
      describeValue(value)
    }`,
  );
}

/** The first name `names` holds twice, if any. */
function _namedTwice(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

function _delimiter(value: unknown): string {
  // `.fbp` text keeps a backslash as it is: '\t' there is the two
  // characters, never a delimiter a file has; it means a tab.
  if (value === "\\t") return "\t";
  if (typeof value === "string" && value !== "" && !/[\r\n]/.test(value)) {
    return value;
  }
  throw new RangeError(
    `expected a delimiter: a non-empty string without a line break, such as ";" or "\\t", received ${
      describeValue(value)
    }`,
  );
}

function _quote(value: unknown): string {
  if (typeof value === "string" && value.length <= 1 && !/[\r\n]/.test(value)) {
    return value;
  }
  throw new RangeError(
    `expected a quote: one character, or "" for none, received ${
      describeValue(value)
    }`,
  );
}

/** `csv/Parse`'s default `maxFields`. */
const _MAX_FIELDS = 100_000;

function _maxFields(value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) {
    return value;
  }
  throw new RangeError(
    `expected the most fields a record may have: a positive integer, received ${
      describeValue(value)
    }`,
  );
}

/**
 * Why a `delimiter` and a `quote` cannot go together, or undefined: a
 * delimiter holding the quote character makes every quote also end a
 * field, so csv-parse refuses the first quoted field and csv-stringify
 * writes text no reader can split again.
 */
function _delimiterClash(delimiter: string, quote: string): string | undefined {
  if (quote === "" || !delimiter.includes(quote)) return undefined;
  return `the delimiter ${
    JSON.stringify(delimiter)
  } holds the quote character ${
    JSON.stringify(quote)
  }, so a quoted field cannot be told from the next one; set another quote (or "" for none) or another delimiter`;
}

/**
 * {@linkcode _delimiterClash} of the settings a graph gives (or the
 * defaults); a setting that comes by a connection is checked when it comes.
 */
function _checkDelimiter(
  settings: Readonly<Record<string, unknown>>,
  connected: ReadonlySet<string>,
): string | undefined {
  if (connected.has("delimiter") || connected.has("quote")) return undefined;
  return _delimiterClash(
    (settings.delimiter as string | undefined) ?? ",",
    (settings.quote as string | undefined) ?? '"',
  );
}

/** Throws when the settings the process holds now clash. */
function _assertDelimiter(
  ctx: Context<ParseState> | Context<StringifyState>,
  what: string,
): void {
  const why = _delimiterClash(
    ctx.control<string>("delimiter"),
    ctx.control<string>("quote"),
  );
  if (why !== undefined) throw new RangeError(`Cannot ${what} CSV: ${why}`);
}

const _settingPorts = {
  mode: {
    type: "string",
    control: true,
    default: "text",
    parse: _mode,
  },
  header: {
    type: "boolean",
    control: true,
    default: true,
  },
  columns: {
    type: "array",
    control: true,
    parse: _columns,
  },
  delimiter: {
    type: "string",
    control: true,
    default: ",",
    parse: _delimiter,
    description:
      'The field delimiter (default ","); "\\t" for a tab (in .fbp text, \'\\t\'). It may not hold the quote character.',
  },
  quote: {
    type: "string",
    control: true,
    default: '"',
    parse: _quote,
    description: 'The quote character (default \'"\'; "" for none).',
  },
} as const;

/** A number as CSV writes it (no hex, no blanks, no empty field as 0). */
const _NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * An unquoted field as `cast` reads it: a number, a boolean, else text. A
 * number no double holds stays text: one past its range (`1e999` was
 * Infinity, which JSON writes as null) or an integer past 2^53 (a 20-digit
 * id read as another number).
 */
function _cast(value: string): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  if (!_NUMBER.test(value)) return value;
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  if (
    Number.isInteger(n) && !Number.isSafeInteger(n) && /^[+-]?\d+$/.test(value)
  ) {
    return value;
  }
  return n;
}

/**
 * The parser object inside `csv-parse`'s `Parser` stream (its `api`
 * property), which the stream feeds chunk by chunk. Driven directly and
 * kept per process, a line costs about 10 us; `csv-parse/sync` builds a
 * whole parser per call (about 150-350 us a line here: see
 * bench/shaping_text_bench.ts).
 */
interface _ParserApi {
  parse(
    chunk: Buffer | undefined,
    end: boolean,
    push: (record: unknown[]) => void,
    close: () => void,
  ): CsvError | undefined;
  /** `bytes`: where the record just taken ends. */
  readonly info: { readonly bytes: number };
}

/**
 * The parts of the parser object `_boundFields` reaches into: the fields of
 * the record being read, the step that ends a field, and the step that
 * reports a record's error (to `on_skip`, as for any malformed row).
 */
interface _ParserInternals {
  readonly state: { readonly record: readonly unknown[] };
  __onField(): unknown;
  __error(err: Error): unknown;
}

/**
 * Makes `api` refuse a record as it ends its field `max + 1`, before the
 * field is made: csv-parse has no bound on a record's fields (a 16 MiB line
 * of commas made 16 million of them; `max_record_size` counts characters,
 * and empty fields have none), and the record reaches `push` only whole.
 */
function _boundFields(api: _ParserApi, max: number): void {
  const parser = api as unknown as _ParserInternals;
  const onField = parser.__onField;
  parser.__onField = function (this: _ParserInternals) {
    if (this.state.record.length >= max) {
      return this.__error(
        new RangeError(
          `the record has more than ${
            max.toLocaleString("en-US")
          } fields (maxFields)`,
        ),
      );
    }
    return onField.call(this);
  };
}

/** One parser and the part of a text it is parsing (for its callbacks). */
interface _Feed {
  api: _ParserApi;
  /** Records of the part, with their lines. */
  records: { record: unknown[]; line: number }[];
  /**
   * Whether the parser stopped at a malformed row (its state is then
   * unknown: the caller goes on from the next line with a new one).
   */
  broken: boolean;
  /** How many records were complete when the error came. */
  recordsAtError: number;
  /** The error's reason. */
  firstReason: string;
}

/** Where `_rows` stands in a text's rows. */
interface _RowsState {
  /** The header (or `columns`) of the rows seen so far. */
  names: string[] | undefined;
  /** Whether the first row (the header row, when `header` is on) is to come. */
  fresh: boolean;
  /**
   * The line of a header row the parser refused when no `columns` stand in
   * for it: the rows after it have no field names, and none is read.
   */
  badHeader: number | undefined;
}

interface ParseState extends _RowsState {
  /** The `header` setting the rows are read with, to tell a change from a repeat. */
  header: boolean;
  /** Lines taken so far (`lines` mode), for the line numbers of errors. */
  lines: number;
  /** The parser of `lines` mode, made at the first message. */
  feed: _Feed | undefined;
}

/** The text of a message, or a `TypeError`. */
function _text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw new TypeError(
    `Cannot parse CSV: expected a string, received ${describeValue(value)}`,
  );
}

/** The lines a chunk of text adds to a line count. */
function _lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return text.endsWith("\n") ? n : n + 1;
}

/** csv-parse's reason, without its line number (ours counts further). */
function _reason(err: CsvError): string {
  return err.message.replace(/ (?:at|on) line \d+/, "");
}

/**
 * A parser with the process's options. `headerFirst`: its first record is
 * a header row, which is not cast (it holds names).
 */
function _feed(
  ctx: Context<ParseState>,
  headerFirst: boolean,
  wholeText = false,
): _Feed {
  const quote = ctx.control<string>("quote");
  const cast = ctx.control<boolean>("cast");
  const feed = {} as _Feed;
  feed.records = [];
  feed.broken = false;
  feed.recordsAtError = -1;
  feed.firstReason = "";
  let parser: Parser;
  try {
    parser = new Parser({
      delimiter: ctx.control<string>("delimiter"),
      quote: quote === "" ? false : quote,
      // A whole text is parsed to its end at once: its records may end
      // with CRLF (RFC 4180, spreadsheets' exports) or LF. Lines come with
      // their CR taken off, and a fixed delimiter lets the parser end a
      // record at once.
      record_delimiter: wholeText ? ["\r\n", "\n"] : "\n",
      skip_empty_lines: true,
      relax_column_count: true,
      skip_records_with_error: true,
      cast: cast
        ? (value, context) =>
          context.quoting || (headerFirst && context.records === 0)
            ? value
            : _cast(value)
        : false,
      on_skip: (err: CsvError | undefined) => {
        if (err !== undefined) {
          feed.broken = true;
          feed.recordsAtError = feed.records.length;
          feed.firstReason = _reason(err);
          // Thrown out of the parse: the caller goes on from the next line.
          throw _STOP;
        }
        return undefined;
      },
    });
  } catch (e) {
    throw new RangeError(
      `Cannot parse CSV: the options do not fit together: ${
        e instanceof Error ? e.message : String(e)
      }`,
      { cause: e },
    );
  }
  feed.api = (parser as unknown as { api: _ParserApi }).api;
  _boundFields(feed.api, ctx.control<number>("maxFields"));
  return feed;
}

const _noop = () => {};
/** Thrown by a parser at its first malformed row. */
const _STOP = new Error("stop at the first malformed row");

/** The rows `_parseRows` found in a text. */
interface _Parsed {
  /**
   * The rows, or undefined for a whole text whose header row is malformed
   * (no `columns` stand in for it): `bad` then holds that row alone.
   */
  rows: unknown[] | undefined;
  /** The malformed rows, by line. */
  bad: CsvBadRow[];
  /** The parser, when it took the text to its end: the next lines go on with it. */
  feed: _Feed | undefined;
}

/**
 * The rows of `buf`, a whole text (`text` mode) or the lines of one
 * message (`lines` mode, `state` carried over from the messages before
 * it, `feed` the parser they left, `firstLine` the line of its first
 * byte). A malformed row (a quote not closed, a stray quote) is reported
 * at the line where its record starts and left out with that line: the
 * parse goes on from the next line with a new parser (csv-parse, told to
 * skip such a record, stays inside the quote and would take every row
 * after it). A quoted field may still span lines; only a record that
 * fails loses its first line. Records are placed by their bytes
 * (csv-parse counts a CR inside a quoted field as a line), the text
 * encoded once: each restart parses the rest of the same buffer. A header
 * row that fails (with `header` on and no `columns`) leaves the rows
 * after it without field names: a whole text stops there (see
 * {@linkcode _Parsed}); lines go on, each reported by `_rows`.
 */
function _parseRows(
  ctx: Context<ParseState>,
  header: boolean,
  state: _RowsState,
  buf: Buffer,
  wholeText: boolean,
  firstLine = 1,
  feed?: _Feed,
): _Parsed {
  const rows: unknown[] = [];
  const bad: CsvBadRow[] = [];
  // The line of byte `counted` of `buf`, which only goes forward.
  let line = firstLine;
  let counted = 0;
  const after = wholeText ? "the text's rows" : "the lines after it";
  let at = 0; // where the part still to parse starts in `buf`
  while (at < buf.length) {
    const f = feed ?? _feed(ctx, state.fresh && header, wholeText);
    feed = f;
    const api = f.api;
    f.records = [];
    const base = at;
    let end = at; // where the last record taken ends
    const push = (record: unknown[]) => {
      const start = _skipBlankLines(buf, end);
      // A parser is given each part to its end (`true`): `info.bytes`
      // counts from the part's start, also for one kept between messages.
      end = base + api.info.bytes;
      line += _breaks(buf, counted, start);
      counted = start;
      f.records.push({ record, line });
    };
    const err = api.parse(
      at === 0 ? buf : buf.subarray(at),
      true,
      push,
      _noop,
    );
    // An error that did not come through on_skip leaves the parser in an
    // unknown state too.
    if (err !== undefined && err !== _STOP) {
      f.broken = true;
      f.recordsAtError = f.records.length;
      f.firstReason = _reason(err as CsvError);
    }
    _rows(
      header,
      f.broken ? f.records.slice(0, f.recordsAtError) : f.records,
      state,
      rows,
      bad,
    );
    if (!f.broken) break;
    feed = undefined;
    // The record that failed starts on the first line with text after
    // the last good one: it is reported there, and the parse goes on
    // from the line after it.
    const start = _skipBlankLines(buf, end);
    line += _breaks(buf, counted, start);
    counted = start;
    const failed = { line, reason: f.firstReason };
    // With no record before it, the row that failed is the header row.
    if (
      header && state.fresh && _headerFailed(state, failed, after) &&
      wholeText
    ) {
      return { rows: undefined, bad: [failed], feed };
    }
    bad.push(failed);
    const next = buf.indexOf(0x0a, start);
    at = next < 0 ? buf.length : next + 1;
  }
  if (bad.length > 1) bad.sort((a, b) => a.line - b.line);
  return { rows, bad, feed };
}

/**
 * Marks the header row's place taken by `failed`, a row the parser refused
 * where the header row was due, and says so in its reason. With `columns`,
 * which name the fields in its stead, the rows go on; without, the rows
 * after it (`after`) have no field names and none is read (true is
 * returned): taking the next row as the header instead would key every
 * record by a data row's values.
 */
function _headerFailed(
  state: _RowsState,
  failed: CsvBadRow,
  after: string,
): boolean {
  state.fresh = false;
  if (state.names !== undefined) {
    failed.reason =
      `the header row is malformed (${failed.reason}); the columns name the fields`;
    return false;
  }
  state.badHeader = failed.line;
  failed.reason =
    `the header row is malformed (${failed.reason}), so ${after} have no field names and are not read`;
  return true;
}

/** The first byte at or after `from` that is not an empty line's (LF or CRLF). */
function _skipBlankLines(buf: Uint8Array, from: number): number {
  let i = from;
  for (;;) {
    if (buf[i] === 0x0a) i++;
    else if (buf[i] === 0x0d && buf[i + 1] === 0x0a) i += 2;
    else return i;
  }
}

/** The line breaks (LF) of `buf` from byte `from` to byte `to`. */
function _breaks(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (buf[i] === 0x0a) n++;
  return n;
}

/**
 * Adds the rows of `records` to `rows`: objects keyed by `state.names` (or
 * by the header row when `names` is unset and `header` is on), or arrays
 * of fields; a record with another number of fields than the names is a
 * malformed row, added to `bad`. Added one by one: spread into a push, a
 * text's rows overflow the stack (Deno, from about 120,000).
 */
function _rows(
  header: boolean,
  records: { record: unknown[]; line: number }[],
  state: _RowsState,
  rows: unknown[],
  bad: CsvBadRow[],
): void {
  for (const { record, line } of records) {
    if (state.fresh) {
      state.fresh = false;
      if (header) {
        if (state.names === undefined) {
          const names = record.map(String);
          const twice = _namedTwice(names);
          if (twice !== undefined) {
            // Objects would keep one of the two fields: the rows come out
            // as arrays, every field kept, and the header is reported.
            bad.push({
              line,
              reason: `the header names the field ${
                JSON.stringify(twice)
              } twice, so the rows are arrays`,
            });
            continue;
          }
          state.names = names;
        }
        continue;
      }
    }
    const names = state.names;
    if (state.badHeader !== undefined) {
      bad.push({
        line,
        reason:
          `no field names: the header row (line ${state.badHeader}) is malformed`,
      });
      continue;
    }
    if (names === undefined) {
      rows.push(record);
      continue;
    }
    if (record.length !== names.length) {
      bad.push({
        line,
        reason: `expected ${names.length} fields (${
          names.join(", ")
        }), received ${record.length}`,
      });
      continue;
    }
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) {
      setOwnField(row, names[i], record[i]);
    }
    rows.push(row);
  }
}

/**
 * `csv/Parse`: parses CSV text into rows with the `csv-parse` package.
 *
 * - `mode: "text"` (default): each message is a whole CSV text and goes
 *   out as one array of rows.
 * - `mode: "lines"`: each message is a line (or a few), as `fs/ReadLines`
 *   or `fs/Tail` send them; each row goes out as its own message, at once.
 *   A quoted field cannot span two messages (a message that ends inside
 *   one is a malformed row, and the next starts afresh). In a message of
 *   several lines, as in a whole text, a malformed row is reported at the
 *   line it starts on and the rows before and after it go out.
 *
 * A row is an object keyed by the header row (`header`, default true) or
 * by `columns` (which replace the header row when both are given), else
 * an array of fields. Fields are strings unless `cast` is on: unquoted
 * numbers become numbers (but one a double cannot hold, past its range or
 * an integer past 2^53, stays text) and `true`/`false` booleans (a quoted
 * field stays text). `delimiter` and `quote` as the file has them; empty lines are
 * skipped. A malformed row (a quote not closed, more or fewer fields than
 * the header, more than `maxFields`: 100,000 unless set) is left out: the
 * other rows go on, and a
 * {@linkcode CsvRowsError} naming each bad row's line goes to the `error`
 * port.
 *
 * The header row is the contract of the whole text: when the parser
 * refuses it (a stray or unclosed quote), its line is reported and no
 * other row takes its place, since a data row taken as field names would
 * label every record after it wrongly. A whole text is then refused:
 * nothing goes out for it (an empty array would read as a text without
 * rows), and the next text brings its own header row. Line by line, the
 * rows that follow have no field names: each is reported (`no field
 * names`) and none goes out until the process starts again, e.g. with
 * the flow for a new file, since no line can be told to be a header, or
 * until a setting below says how to read them. With `columns`, which
 * name the fields in the header row's stead, the malformed header row is
 * reported and the rows go on.
 *
 * Line by line, a setting that changes while the flow runs applies from
 * the next row on. New `columns` key the rows that follow. `header`
 * turned off sends them as arrays (or keyed by `columns`), the names of
 * the header row read before no longer applying; turned on, it says a
 * header row comes next, as at the start of a stream (a new file's lines
 * after the last file's): the next row names the rows after it, or with
 * `columns` is left out. `header` given the value it has changes nothing,
 * so a flow that repeats its settings never loses a row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CsvParse } from "./csv.ts";
 *
 * assert.deepEqual(CsvParse.inPorts.columns.parse?.(["a", "b"]), ["a", "b"]);
 * assert.throws(() => CsvParse.inPorts.mode.parse?.("rows"), RangeError);
 * ```
 */
export const CsvParse: Component = defineComponent<ParseState>({
  name: "csv/Parse",
  description:
    "Parses CSV text (a whole text or line by line) into rows; malformed rows go to error with their line.",
  inPorts: {
    in: {
      type: "string",
      description:
        "CSV text: a whole text, or lines (mode lines). A malformed header row goes to error with its line; a whole text is then refused, and line by line the rows after it are reported, never read with a data row as the header.",
    },
    ..._settingPorts,
    mode: {
      ..._settingPorts.mode,
      description:
        "text (default): each message a whole text, out as one array of rows; lines: each message a line, each row out alone.",
    },
    header: {
      ..._settingPorts.header,
      description:
        "The first row names the fields (default true); off and without columns, rows are arrays. When it is malformed, no other row takes its place (see in). Line by line, turned on while the flow runs, the next row is a header row; turned off, the rows after it are arrays (or keyed by columns); the same value again changes nothing.",
    },
    columns: {
      ..._settingPorts.columns,
      description:
        'Field names, e.g. ["time","temp"]; with header on, they replace the header row. Line by line, new columns key the rows that follow.',
    },
    cast: {
      type: "boolean",
      control: true,
      default: false,
      description:
        "Unquoted numbers to numbers (but for one no double holds: past its range, or an integer past 2^53) and true/false to booleans (default false: every field a string).",
    },
    maxFields: {
      type: "integer",
      control: true,
      default: _MAX_FIELDS,
      parse: _maxFields,
      description:
        `The most fields a record may have (default ${_MAX_FIELDS}); a record with more is a malformed row, refused as its field ${
          _MAX_FIELDS + 1
        } ends.`,
    },
  },
  outPorts: {
    out: {
      description:
        "An array of rows per text (mode text), or one row per message (mode lines).",
    },
    error: _errorPort,
  },
  setup: (ctx) => ({
    names: ctx.control<string[] | undefined>("columns"),
    fresh: true,
    badHeader: undefined,
    header: ctx.control<boolean>("header"),
    lines: 0,
    feed: undefined,
  }),
  onControl(port, value, ctx) {
    const state = ctx.state;
    if (state === undefined) return;
    // The next message gets a parser with the new options.
    state.feed = undefined;
    // The rows that follow are read by the new names (`lines` mode: a
    // whole text reads its settings afresh).
    if (port === "columns") {
      state.names = value as string[];
      // They name the fields in the stead of a malformed header row.
      state.badHeader = undefined;
    } else if (port === "header" && value !== state.header) {
      state.header = value as boolean;
      // On, the next row is a header row, as the first of a stream is;
      // off, no row is, and the names of the last one no longer apply.
      state.fresh = state.header;
      state.names = ctx.control<string[] | undefined>("columns");
      state.badHeader = undefined;
    }
  },
  checkSettings: _checkDelimiter,
  process(value, ctx) {
    _assertDelimiter(ctx, "parse");
    let text = _text(value);
    const header = ctx.control<boolean>("header");
    if (ctx.control<CsvMode>("mode") === "text") {
      const { rows, bad } = _parseRows(
        ctx,
        header,
        {
          names: ctx.control<string[] | undefined>("columns"),
          fresh: true,
          badHeader: undefined,
        },
        Buffer.from(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text),
        true,
      );
      if (rows === undefined) throw new CsvRowsError(bad);
      return _then(ctx.send("out", rows), bad);
    }
    const state = ctx.state;
    if (state.lines === 0 && text.charCodeAt(0) === 0xfeff) {
      text = text.slice(1);
    }
    // Lines from a file with CRLF line ends, which the parser does not
    // expect here (its record delimiter is fixed so it can end a record
    // at once).
    if (text.includes("\r")) {
      text = text.replace(/\r\n/g, "\n").replace(/\r$/, "");
    }
    const firstLine = state.lines + 1;
    state.lines += _lineCount(text);
    // The parser goes on from message to message until a malformed row,
    // after which its state is unknown: a new one goes on.
    const { rows, bad, feed } = _parseRows(
      ctx,
      header,
      state,
      Buffer.from(text),
      false,
      firstLine,
      state.feed,
    );
    state.feed = feed;
    // Only a whole text is refused for its header row: lines have rows.
    return _sendEach(ctx, rows!, 0, bad);
  },
});

/** Raises the bad rows once `sent` went. */
function _then(
  sent: void | Promise<void>,
  bad: CsvBadRow[],
): void | Promise<void> {
  if (bad.length === 0) return sent;
  if (sent === undefined) throw new CsvRowsError(bad);
  return sent.then(() => {
    throw new CsvRowsError(bad);
  });
}

function _sendEach(
  ctx: Context<ParseState>,
  rows: unknown[],
  from: number,
  bad: CsvBadRow[],
): void | Promise<void> {
  for (let i = from; i < rows.length; i++) {
    const sent = ctx.send("out", rows[i]);
    if (sent !== undefined) {
      return sent.then(() => _sendEach(ctx, rows, i + 1, bad));
    }
  }
  return _then(undefined, bad);
}

interface StringifyState {
  /** The columns of the lines sent so far (`lines` mode). */
  names: string[] | undefined;
  /** Whether the header line is still to go (`lines` mode). */
  fresh: boolean;
}

function _checkRow(
  row: unknown,
  where: string,
): Record<string, unknown> | unknown[] {
  if (row !== null && typeof row === "object") {
    return row as Record<string, unknown>;
  }
  throw new TypeError(
    `Cannot write CSV: ${where} must be an object or an array, received ${
      describeValue(row)
    }`,
  );
}

/** Values as text the way `csv/Parse`'s `cast` reads them back. */
const _CAST = {
  boolean: (value: boolean) => String(value),
  date: (value: Date) => value.toISOString(),
};

/** CSV text of `rows` with `names` as columns (`header`: a header row). */
function _csv(
  ctx: Context<StringifyState>,
  rows: unknown[],
  names: string[] | undefined,
  header: boolean,
): string {
  const quote = ctx.control<string>("quote");
  // A field that is an object is written as JSON (csv-stringify): one
  // that shares parts in many places could be billions of characters.
  const problem = _jsonWriteProblem(rows, true);
  if (problem !== undefined) {
    throw new TypeError(
      `Cannot write CSV: the rows' fields as JSON: ${problem}`,
    );
  }
  // quote "" writes every field as it is, as csv-stringify does.
  return stringify(names === undefined ? rows : _fields(rows, names), {
    columns: names,
    header: header && names !== undefined,
    delimiter: ctx.control<string>("delimiter"),
    quote,
    record_delimiter: "unix",
    cast: _CAST,
  });
}

/**
 * Each object row as the array of its own fields `names`: csv-stringify
 * reads a column as a lodash path, so one a row lacks but every object
 * inherits (`constructor`, `toString`) failed the message ("Invalid
 * Casting Value") and `__proto__` was written as "{}".
 */
function _fields(rows: unknown[], names: string[]): unknown[] {
  return rows.map((row) =>
    Array.isArray(row)
      ? row
      : names.map((name) =>
        Object.hasOwn(row as object, name)
          ? (row as Record<string, unknown>)[name]
          : undefined
      )
  );
}

/** The columns: `columns`, else the keys of the first object row. */
function _namesOf(
  ctx: Context<StringifyState>,
  first: unknown,
): string[] | undefined {
  const columns = ctx.control<string[] | undefined>("columns");
  if (columns !== undefined) return columns;
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    return Object.keys(first);
  }
  return undefined;
}

/**
 * `csv/Stringify`: writes rows as CSV text with the `csv-stringify`
 * package.
 *
 * - `mode: "text"` (default): each message is an array of rows and goes
 *   out as one text, each row ending with a line break, after a header
 *   row (`header`, default true).
 * - `mode: "lines"`: each message is one row and goes out as one line
 *   without its line break (as `fs/WriteLines` takes lines), after a
 *   header line before the first.
 *
 * Rows are objects (their own fields in the order of `columns`, default
 * the keys of the first row; one a row lacks is written empty) or arrays
 * (a header only when `columns` is given). Booleans are written `true`/`false` and dates in ISO 8601, so
 * `csv/Parse` with `cast` reads them back; nested objects as JSON. A
 * field with the delimiter, a quote or a line break is quoted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CsvStringify } from "./csv.ts";
 *
 * assert.equal(CsvStringify.inPorts.delimiter.parse?.(";"), ";");
 * assert.throws(() => CsvStringify.inPorts.delimiter.parse?.(""), RangeError);
 * ```
 */
export const CsvStringify: Component = defineComponent<StringifyState>({
  name: "csv/Stringify",
  description: "Writes rows (objects or arrays) as CSV text or lines.",
  inPorts: {
    in: {
      description:
        "An array of rows (mode text) or one row (mode lines); a row is an object or an array.",
    },
    ..._settingPorts,
    mode: {
      ..._settingPorts.mode,
      description:
        "text (default): each message an array of rows, out as one text; lines: each message a row, out as one line.",
    },
    header: {
      ..._settingPorts.header,
      description:
        "Write a header row first (default true; arrays get one only with columns).",
    },
    columns: {
      ..._settingPorts.columns,
      description:
        'The fields written and their order, e.g. ["time","temp"] (default the keys of the first row).',
    },
  },
  outPorts: {
    out: {
      type: "string",
      description:
        "CSV text (mode text) or lines without line breaks (mode lines).",
    },
    error: _errorPort,
  },
  setup: () => ({ names: undefined, fresh: true }),
  checkSettings: _checkDelimiter,
  process(value, ctx) {
    _assertDelimiter(ctx, "write");
    const header = ctx.control<boolean>("header");
    if (ctx.control<CsvMode>("mode") === "text") {
      if (!Array.isArray(value)) {
        throw new TypeError(
          `Cannot write CSV: expected an array of rows (mode text), received ${
            describeValue(value)
          }`,
        );
      }
      value.forEach((row, i) => _checkRow(row, `row ${i}`));
      return ctx.send("out", _csv(ctx, value, _namesOf(ctx, value[0]), header));
    }
    const row = _checkRow(value, "a row");
    const state = ctx.state;
    if (state.fresh) {
      state.fresh = false;
      state.names = _namesOf(ctx, row);
      if (header && state.names !== undefined) {
        const line = _csv(ctx, [], state.names, true).slice(0, -1);
        const sent = ctx.send("out", line);
        const rest = () =>
          ctx.send("out", _csv(ctx, [row], state.names, false).slice(0, -1));
        return sent === undefined ? rest() : sent.then(rest);
      }
    }
    return ctx.send("out", _csv(ctx, [row], state.names, false).slice(0, -1));
  },
});
