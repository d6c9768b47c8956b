import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { compileTemplate, renderTemplate } from "../../src/components/text.ts";
import { runShaping } from "./_shaping_helpers.ts";

const render = (template: string, view: unknown, escape?: "html") =>
  renderTemplate(compileTemplate(template), view, escape);

// What mustache (4.2.0) rendered for views whose names are all their own,
// recorded before names stopped resolving through the prototype chain:
// the rule must leave every one of them as it was.
const OWN_NAMES: [template: string, view: unknown, text: string][] = [
  ["{{a}}|{{b}}|{{c}}", { a: 1, b: "x", c: null }, "1|x|"],
  ["{{a.b.c}}", { a: { b: { c: "deep" } } }, "deep"],
  ["{{a.b.c.name}}", { a: { b: {} }, c: { name: "Jim" } }, ""],
  ["{{#a}}{{b.c}}{{/a}}", { a: { b: {} }, b: { c: "outer" } }, "outer"],
  ["{{#a}}{{b}}{{/a}}", { a: { x: 1 }, b: "outer" }, "outer"],
  ["{{#a}}{{b}}{{/a}}", { a: { b: undefined }, b: "outer" }, ""],
  [
    "{{s.length}} {{s.0}} {{arr.length}} {{arr.1}} {{a.b}}",
    { s: "abc", arr: [5, 6], a: "str" },
    "3 a 2 6 ",
  ],
  ["{{length}} {{0}} {{1.n}}", [1, { n: 2 }], "2 1 2"],
  [
    "{{#arr}}<{{.}}>{{/arr}}{{^arr}}none{{/arr}}",
    { arr: ["x", "y"] },
    "<x><y>",
  ],
  ["{{#arr}}<{{.}}>{{/arr}}{{^arr}}none{{/arr}}", { arr: [] }, "none"],
  [
    "{{#arr.length}}has {{arr.length}}{{/arr.length}}",
    { arr: [1, 2] },
    "has 2",
  ],
  [
    "{{#arr}}{{length}};{{/arr}}",
    { arr: ["ab", { length: 7 }], length: "top" },
    "top;7;",
  ],
  ["{{#s}}[{{.}}:{{length}}]{{/s}}", { s: "abc" }, "[abc:]"],
  [
    "{{#n}}[{{.}}]{{/n}}{{^z}}zero{{/z}}{{^e}}empty{{/e}}{{^nu}}null{{/nu}}{{^f}}false{{/f}}{{#t}}true{{/t}}",
    { n: 3, z: 0, e: "", nu: null, f: false, t: true },
    "[3]zeroemptynullfalsetrue",
  ],
  ["{{#o}}{{x}}-{{y}}{{/o}}", { o: { x: 1 }, y: 2 }, "1-2"],
  [
    "{{#rows}}{{n}}{{top}};{{/rows}}",
    { rows: [{ n: 1 }, { n: 2, top: "own" }], top: "T" },
    "1T;2own;",
  ],
  ["{{{.}}}", { a: [1], b: "<" }, '{"a":[1],"b":"<"}'],
  ["{{x}}|{{missing}}|{{missing.deep}}", { x: undefined }, "||"],
  ["{{__proto__}}", JSON.parse('{"__proto__": "own"}'), "own"],
  ["{{a.b}}", { a: null }, ""],
  ["{{.}}", 42, "42"],
  ["{{.}}", null, ""],
  ["{{a}}", "string view", ""],
  ["{{#a}}{{{.}}}{{/a}}", { a: { k: "v" } }, '{"k":"v"}'],
  ["{{q}}", { q: 0 }, "0"],
  ["{{#a.b}}in{{/a.b}}{{^a.b}}out{{/a.b}}", { a: { b: false } }, "out"],
  ["{{#a.b}}{{c}}{{/a.b}}", { a: { b: { c: "C" } } }, "C"],
];

test("text/Template renders names the view owns as mustache does", () => {
  for (const [template, view, text] of OWN_NAMES) {
    assert.equal(render(template, view), text, template);
  }
  assert.equal(
    render("{{.}}", { a: [1], b: "<" }, "html"),
    "{&quot;a&quot;:[1],&quot;b&quot;:&quot;&lt;&quot;}",
  );
});

test("text/Template: a function the view owns is still mustache's lambda, its section rendered in the same context", () => {
  const view = {
    name: "x",
    rows: [{ n: 1 }],
    upper: () => (text: string, r: (t: string) => string) =>
      r(text).toUpperCase(),
  };
  assert.equal(
    render(
      "{{#upper}}{{name}}{{#rows}}{{n}}{{toString}}{{/rows}}{{/upper}}",
      view,
    ),
    "X1",
  );
});

const INHERITED = [
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "isPrototypeOf",
  "toLocaleString",
];

test("text/Template renders a name the message does not own (Object.prototype's) as a missing name", () => {
  for (const name of INHERITED) {
    assert.equal(render(`<{{${name}}}>`, { a: 1 }), "<>", name);
    assert.equal(render(`<{{{${name}}}}>`, { a: 1 }), "<>", name);
    assert.equal(render(`<{{&${name}}}>`, { a: 1 }), "<>", name);
    assert.equal(render(`<{{a.${name}}}>`, { a: { b: 1 } }), "<>", name);
    assert.equal(render(`<{{${name}}}>`, { a: 1 }, "html"), "<>", name);
  }
  assert.equal(render("<{{a.constructor.name}}>", { a: {} }), "<>");
  assert.equal(render("<{{__proto__.toString}}>", {}), "<>");
});

test("text/Template: sections and inverted sections follow the same rule", () => {
  for (const name of INHERITED) {
    assert.equal(
      render(`<{{#${name}}}yes{{.}}{{/${name}}}>`, { a: 1 }),
      "<>",
      name,
    );
    assert.equal(
      render(`<{{^${name}}}missing{{/${name}}}>`, { a: 1 }),
      "<missing>",
      name,
    );
    assert.equal(
      render(`<{{#rows}}{{#${name}}}yes{{/${name}}}{{/rows}}>`, {
        rows: [{}, {}],
      }),
      "<>",
      name,
    );
  }
});

test("text/Template: arrays own their indexes and length only; strings and numbers own no method", () => {
  const view = { arr: ["x", "y"], s: "abc", n: 2.5 };
  assert.equal(
    render(
      "{{arr.0}} {{arr.length}} {{s.length}} {{s.1}}|{{arr.map}}|{{arr.join}}|{{s.toUpperCase}}|{{n.toFixed}}|{{s.constructor}}",
      view,
    ),
    "x 2 3 b|||||",
  );
  assert.equal(render("{{#arr}}{{.}}{{concat}};{{/arr}}", view), "x;y;");
  assert.equal(render("{{length}}|{{push}}|{{#map}}m{{/map}}", ["a"]), "1||");
});

test("text/Template: a section's item that lacks a name finds the message's own one, not its prototype's", () => {
  assert.equal(
    render("{{#rows}}{{n}}:{{toString}} {{/rows}}", {
      rows: [{ n: 1 }, { n: 2 }],
      toString: "top",
    }),
    "1:top 2:top ",
  );
});

test("text/Template in a flow: {{constructor}} and {{__proto__}} of a message render nothing", async () => {
  const run = await runShaping(`
    '[{"sensor":"a"},{"sensor":"b","constructor":"own"}]' -> values V(test/Values)
    V out -> in T(text/Template)
    T out -> in K(test/Sink)
    '{{sensor}}[{{constructor}}][{{__proto__}}][{{#hasOwnProperty}}x{{/hasOwnProperty}}]' -> template T
  `);
  assert.deepEqual(run.errors, []);
  assert.deepEqual(run.sinks.K, ["a[][][]", "b[own][][]"]);
});

test("text/Template reads a typed array's or Buffer's length and an Error's name as mustache 4.2 does", () => {
  // mustache 4.2.0: "2|104", "2;3", "TypeError|boom", "TypeError:boom".
  // mqtt/In with format bytes sends its payload as a Buffer (a Uint8Array
  // on Deno and Bun alike).
  const payload = Buffer.from("hi");
  assert.equal(
    render("{{payload.length}}|{{payload.0}}", { payload }),
    "2|104",
  );
  assert.equal(
    render("{{#p}}{{length}}{{/p}};{{#q}}{{length}}{{/q}}", {
      p: payload,
      q: new Uint16Array(3),
    }),
    "2;3",
  );
  const e = new TypeError("boom");
  assert.equal(render("{{e.name}}|{{e.message}}", { e }), "TypeError|boom");
  assert.equal(
    render("{{#e}}{{name}}:{{message}}{{/e}}", { e }),
    "TypeError:boom",
  );
  // A DataView has no length (mustache: missing, found in the view around).
  assert.equal(
    render("{{#d}}{{length}}{{/d}}", {
      d: new DataView(new ArrayBuffer(2)),
      length: "top",
    }),
    "top",
  );
});

test("text/Template: a Buffer's and an Error's prototype names other than length and name stay missing", () => {
  const view = { p: Buffer.from("hi"), e: new RangeError("r") };
  for (const name of [...INHERITED, "toJSON", "slice", "readUInt8"]) {
    assert.equal(render(`<{{p.${name}}}>`, view), "<>", `p.${name}`);
    assert.equal(render(`<{{#p}}{{${name}}}{{/p}}>`, view), "<>", name);
  }
  for (const name of INHERITED) {
    assert.equal(render(`<{{e.${name}}}>`, view), "<>", `e.${name}`);
  }
  assert.equal(render("<{{e.constructor.name}}>", view), "<>");
  // A name that is not a string is not read through the prototype.
  class Odd extends Error {}
  Object.defineProperty(Odd.prototype, "name", { value: () => "called" });
  assert.equal(render("<{{e.name}}>", { e: new Odd("x") }), "<>");
  // On a plain object, name and length are own keys or missing.
  assert.equal(render("<{{o.name}}{{o.length}}>", { o: {} }), "<>");
});
