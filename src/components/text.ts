/**
 * Text components: `text/Template` renders each message through a
 * mustache template (the `mustache` package).
 *
 * @module
 */
import MustacheModule from "mustache";
import {
  type Component,
  defineComponent,
  describeValue,
} from "../engine/component.ts";
import { _errorPort } from "./_error_port.ts";
import { _jsonWriteProblem } from "./_to_json.ts";
import { _oneOf } from "./_shaping.ts";
import { _lineCol } from "../engine/_json_depth.ts";

/** A mustache template, parsed once by {@linkcode compileTemplate}. */
export interface Template {
  /** The template text. */
  readonly source: string;
  /** mustache's tokens of it. */
  readonly tokens: unknown[];
}

/** The partials a template names (`{{> name}}`), which weir has none of. */
function _partials(tokens: unknown[], found: string[]): string[] {
  for (const t of tokens as unknown[][]) {
    if (t[0] === ">") found.push(String(t[1]));
    if (Array.isArray(t[4])) _partials(t[4] as unknown[], found);
  }
  return found;
}

/**
 * Parses a mustache template, once: a template that does not compile is a
 * `SyntaxError` saying what is wrong and where, as a line and a column of
 * the template (mustache says a character offset). Partials (`{{> x}}`)
 * are refused: there is nowhere to give them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTemplate } from "./text.ts";
 *
 * assert.equal(compileTemplate("Hi {{name}}").source, "Hi {{name}}");
 * assert.throws(
 *   () => compileTemplate("a\n{{#rows}}\n{{/row}}"),
 *   /^SyntaxError: Cannot compile the template: unclosed section "rows" at line 3, column 1$/,
 * );
 * ```
 */
export function compileTemplate(source: unknown): Template {
  if (typeof source !== "string") {
    throw new TypeError(
      `Cannot compile the template: expected a string, received ${
        describeValue(source)
      }`,
    );
  }
  let tokens: unknown[];
  try {
    tokens = new Mustache.Writer().parse(source) as unknown[];
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const m = / at (\d+)$/.exec(message);
    let what = message;
    if (m) {
      const { line, col } = _lineCol(source, Number(m[1]));
      what = `${message.slice(0, m.index)} at line ${line}, column ${col}`;
    }
    throw new SyntaxError(
      `Cannot compile the template: ${
        what.charAt(0).toLowerCase() + what.slice(1)
      }`,
      { cause: e },
    );
  }
  const partials = _partials(tokens, []);
  if (partials.length > 0) {
    throw new SyntaxError(
      `Cannot compile the template: partials are not supported, found {{> ${
        partials[0]
      }}}`,
    );
  }
  return { source, tokens };
}

/**
 * The part of mustache's API weir uses, typed here: mustache ships no
 * types of its own, and an app that embeds weir does not have the
 * `@types/mustache` dev dependency (its `deno check` of weir failed on a
 * class extending an untyped one).
 */
interface _MustacheContext {
  readonly view: unknown;
  lookup(name: string): unknown;
  push(view: unknown): _MustacheContext;
}
interface _MustacheWriter {
  parse(template: string): unknown[];
  unescapedValue(token: string[], context: _MustacheContext): string;
  renderTokens(
    tokens: unknown[],
    context: _MustacheContext,
    partials: undefined,
    source: string,
    config: { escape: (value: unknown) => string },
  ): string;
}
const Mustache = MustacheModule as unknown as {
  Writer: new () => _MustacheWriter;
  Context: new (view: unknown, parent?: _MustacheContext) => _MustacheContext;
  escape(value: string): string;
};

/** What {@linkcode _ownValue} answers for a name the view does not own. */
const _MISSING: unique symbol = Symbol("missing");

/**
 * The value `name` (`a` or dotted `a.b.c`) names in `view` when each step is
 * an own property, else `_MISSING`. mustache looks names up with `in` and
 * plain property reads, so `{{constructor}}`, `{{toString}}` or
 * `{{a.__proto__}}` reached Object.prototype; a message's own keys (an
 * array's indexes and `length`, a string's in a dotted name) are all a
 * template may name, and two data its prototype holds (see
 * {@linkcode _names}). The rest is mustache's rule as it was: a plain name
 * resolves in objects only, a dotted one also in a primitive it reaches.
 */
function _ownValue(view: unknown, name: string): unknown {
  if (name.indexOf(".") > 0) {
    let value = view;
    for (const key of name.split(".")) {
      if (value == null || !_names(Object(value), key)) return _MISSING;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  }
  return typeof view === "object" && view !== null && _names(view, name)
    ? (view as Record<string, unknown>)[name]
    : _MISSING;
}

/**
 * Whether a template may name `key` of `object`: an own property, or one
 * of two a message's prototype holds that are data, not methods: a typed
 * array's or Buffer's `length` (mqtt/In's payload with `format` `bytes`),
 * an Error's `name` when it is a string (its `message` is its own).
 */
function _names(object: object, key: string): boolean {
  if (Object.hasOwn(object, key)) return true;
  if (key === "length") return ArrayBuffer.isView(object) && key in object;
  return key === "name" && object instanceof Error &&
    typeof object.name === "string";
}

/**
 * mustache's context (a view and the views of the sections around it) with
 * names resolved by {@linkcode _ownValue}: a name a view does not own is
 * looked up in the view around it, and is missing when none owns it.
 * Extends mustache's own class because a higher-order section (a function in
 * a view) renders through `Writer.render`, which only keeps a context that
 * is `instanceof` it.
 */
class _OwnContext extends Mustache.Context {
  readonly #parent: _OwnContext | undefined;

  constructor(view: unknown, parent?: _OwnContext) {
    super(view, parent);
    this.#parent = parent;
  }

  override push(view: unknown): _OwnContext {
    return new _OwnContext(view, this);
  }

  /** The value of `name` in the nearest view that owns it. */
  #find(name: string): unknown {
    const found = _ownValue(this.view, name);
    if (found !== _MISSING) return found;
    return this.#parent === undefined ? undefined : this.#parent.#find(name);
  }

  // No cache of names, unlike mustache's context: a message does not
  // change while it is rendered, so each lookup gives the same answer.
  override lookup(name: string): unknown {
    const value = name === "." ? this.view : this.#find(name);
    // mustache calls a function it finds, with the view as `this`.
    return typeof value === "function" ? value.call(this.view) : value;
  }
}

/** A value as text: strings as they are, objects and arrays as JSON. */
function _asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) {
    const problem = _jsonWriteProblem(value);
    if (problem !== undefined) {
      throw new TypeError(
        `cannot write ${describeValue(value)} into the template: ${problem}`,
      );
    }
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * A mustache writer that writes objects as JSON (mustache writes
 * `[object Object]`) in `{{x}}` and `{{{x}}}` alike.
 */
const _WRITER = new Mustache.Writer();
_WRITER.unescapedValue = (token, context) => {
  const value = context.lookup(token[1]);
  // mustache leaves a missing value out: undefined writes nothing.
  return (value == null ? undefined : _asText(value)) as string;
};
/**
 * The most steps one rendering takes: each run through a list of tokens
 * (the template, and a section once for each item it renders) counts one,
 * and one for each of its tokens. Sections nested over the same list
 * multiply: `{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}` over 1,000 items is a
 * billion runs, which kept Deno and Bun busy past 60 s, every other flow
 * and the server waiting.
 */
export const MAX_TEMPLATE_STEPS = 1_000_000;
/** The longest text one rendering makes, in UTF-16 units: 64 Mi. */
export const MAX_TEMPLATE_LENGTH = 64 * 1024 * 1024;

/** Steps of the rendering under way (see {@linkcode MAX_TEMPLATE_STEPS}). */
let _steps = 0;
/**
 * For each run through tokens under way, outermost first, the length of
 * the text its sections' runs made so far: its own text holds them all,
 * so it is too long as soon as they are (a section over many items is
 * caught at the item that takes it past, not once it made them all).
 */
const _made: number[] = [];
const _renderTokens = _WRITER.renderTokens;
_WRITER.renderTokens = function (tokens, context, partials, source, config) {
  _steps += 1 + tokens.length;
  if (_steps > MAX_TEMPLATE_STEPS) {
    throw new RangeError(
      `Cannot render the template: it takes more than ${MAX_TEMPLATE_STEPS} steps (a section once for each item, and each token in it), as sections nested over long lists do`,
    );
  }
  _made.push(0);
  let text: string;
  try {
    text = _renderTokens.call(this, tokens, context, partials, source, config);
  } finally {
    _made.pop();
  }
  const outer = _made.length - 1;
  const length = outer < 0 ? text.length : (_made[outer] += text.length);
  if (text.length > MAX_TEMPLATE_LENGTH || length > MAX_TEMPLATE_LENGTH) {
    throw new RangeError(
      `Cannot render the template: its text grows past the ${MAX_TEMPLATE_LENGTH} characters a rendering may make`,
    );
  }
  return text;
};
const _HTML = { escape: (v: unknown) => Mustache.escape(_asText(v)) };
const _NONE = { escape: _asText };

/**
 * Renders a compiled template with `view` as its view; `escape: "html"`
 * escapes `{{x}}` for HTML, `"none"` (default) writes values as they are.
 * A name resolves only through the view's own properties (an object's own
 * keys, an array's indexes and `length`; in a dotted name, a string's too)
 * and a typed array's or Buffer's `length` and an Error's `name`, never
 * otherwise through the prototype chain: `{{constructor}}` or
 * `{{toString}}` is a missing name, written as nothing, false for a
 * section.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTemplate, renderTemplate } from "./text.ts";
 *
 * const t = compileTemplate("{{name}}: {{tags}}");
 * assert.equal(renderTemplate(t, { name: "a<b", tags: ["x"] }), 'a<b: ["x"]');
 * assert.equal(renderTemplate(t, { name: "a<b" }, "html"), "a&lt;b: ");
 * const own = compileTemplate("{{n.length}}{{#constructor}}!{{/constructor}}");
 * assert.equal(renderTemplate(own, { n: [1, 2] }), "2");
 * ```
 */
export function renderTemplate(
  template: Template,
  view: unknown,
  escape: "html" | "none" = "none",
): string {
  _steps = 0;
  _made.length = 0;
  return _WRITER.renderTokens(
    template.tokens,
    new _OwnContext(view),
    undefined,
    template.source,
    escape === "html" ? _HTML : _NONE,
  );
}

/**
 * `text/Template`: renders each message through a mustache template given
 * on `template` (parsed when the graph is validated: a template that does
 * not compile is a validation problem with its line and column in the
 * template), with the message as the view (`{{temp}}` of `{ temp: 21 }`;
 * `{{.}}` of a string). Names resolve only through the message's own
 * properties, never its prototype (but for a typed array's or Buffer's
 * `length` and an Error's `name`): `{{constructor}}` or `{{toString}}`
 * renders nothing, like any missing name, and opens no section.
 * Values are written as they are (`escape: "none"`,
 * default, for text that is not HTML), or escaped for HTML (`"html"`);
 * objects and arrays are written as JSON. Sends the text on `out`. A
 * rendering that takes more than {@linkcode MAX_TEMPLATE_STEPS} steps or
 * makes more than {@linkcode MAX_TEMPLATE_LENGTH} characters fails its
 * message (to `error`), as sections nested over long lists would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TextTemplate } from "./text.ts";
 *
 * assert.throws(() => TextTemplate.inPorts.template.parse?.("{{#a}}"), /unclosed section "a" at line 1, column 7/);
 * ```
 */
export const TextTemplate: Component = defineComponent({
  name: "text/Template",
  description: "Renders each message through a mustache template.",
  inPorts: {
    in: {
      description:
        "Messages, each the view of one rendering; a name is one of its own keys (an array's indexes and length), never its prototype's ({{constructor}} renders as a missing name) but for a typed array's or Buffer's length and an Error's name.",
    },
    template: {
      type: "string",
      control: true,
      required: true,
      parse: compileTemplate,
      description:
        'The mustache template, e.g. "{{sensor}} is {{temp}} C"; checked when the graph is validated.',
    },
    escape: {
      type: "string",
      control: true,
      default: "none",
      parse: _oneOf(["none", "html"]),
      description:
        "none (default): values written as they are; html: {{x}} escaped for HTML ({{{x}}} never is).",
    },
  },
  outPorts: {
    out: { type: "string", description: "The rendered text of each message." },
    error: _errorPort,
  },
  process(value, ctx) {
    return ctx.send(
      "out",
      renderTemplate(
        ctx.control<Template>("template"),
        value,
        ctx.control<"html" | "none">("escape"),
      ),
    );
  },
});
