import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { runShaping } from "./_shaping_helpers.ts";

async function render(values: unknown[], settings: string) {
  const run = await runShaping(`
    '${
    JSON.stringify(values)
  }' -> values V(test/Values) out -> in T(text/Template)
    T out -> in K(test/Sink)
    ${settings}
  `);
  assert.deepEqual(run.errors, []);
  return run.sinks.K ?? [];
}

test("text/Template renders each message through the template, the message as the view", async () => {
  const out = await render(
    [{ sensor: "a", temp: 21.5 }, { sensor: "b", temp: 30, hot: true }],
    `'{{sensor}} is {{temp}} C{{#hot}} (hot){{/hot}}' -> template T`,
  );
  assert.deepEqual(out, ["a is 21.5 C", "b is 30 C (hot)"]);
});

test("text/Template renders a string message with {{.}}, sections over arrays, and objects as JSON", async () => {
  const strings = await render(["x", "y"], `'<{{.}}>' -> template T`);
  assert.deepEqual(strings, ["<x>", "<y>"]);
  const out = await render(
    [{ rows: [{ n: 1 }, { n: 2 }], meta: { a: [1] } }],
    `'{{#rows}}{{n}};{{/rows}} {{meta}} {{{meta}}}' -> template T`,
  );
  assert.deepEqual(out, ['1;2; {"a":[1]} {"a":[1]}']);
});

test("text/Template writes values as they are by default, and escapes them for HTML with escape html", async () => {
  const view = [{ q: `<a href="x">&</a>` }];
  const none = await render(view, `'{{q}}' -> template T`);
  assert.deepEqual(none, [`<a href="x">&</a>`]);
  const html = await render(
    view,
    `'{{q}} {{{q}}}' -> template T\n'html' -> escape T`,
  );
  assert.deepEqual(html, [
    `&lt;a href&#x3D;&quot;x&quot;&gt;&amp;&lt;&#x2F;a&gt; <a href="x">&</a>`,
  ]);
});

test("text/Template: a template that does not compile is a validation problem with the graph's line:col and the template's line and column", () => {
  const text = [
    "'x' -> in T(text/Template)",
    "T out -> in O(core/Drop)",
    `'Rows:\\n{{#rows}}\\n{{n}}\\n{{/row}}' -> template T`,
  ].join("\n");
  const graph = loadGraph(text);
  const problems = validateGraph(graph, builtins());
  assert.equal(problems.length, 1);
  const [p] = problems;
  assert.equal(p.line, 3);
  assert.equal(typeof p.col, "number");
  // The .fbp IIP keeps \n as written (two characters): one line, and
  // {{/row}} starts at its 26th character.
  assert.equal(
    p.message,
    'IIP for in-port "template" of "T" (text/Template) is not valid: Cannot compile the template: unclosed section "rows" at line 1, column 26',
  );
});

test("text/Template names the template's line and column across real line breaks", () => {
  // In fbp-graph JSON, an IIP holds real line breaks.
  const graph = {
    processes: { T: { component: "text/Template" } },
    connections: [
      {
        data: "Rows:\n{{#rows}}\n  {{n}}\n{{/row}}",
        tgt: { process: "T", port: "template" },
      },
    ],
  };
  const problems = validateGraph(graph, builtins());
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, "connections[0].data");
  assert.match(
    problems[0].message,
    /Cannot compile the template: unclosed section "rows" at line 4, column 1$/,
  );
});

test("text/Template needs a template, and refuses partials and an unknown escape", () => {
  const problems = (text: string) =>
    validateGraph(loadGraph(text), builtins()).map((p) => p.message);
  assert.deepEqual(problems("'x' -> in T(text/Template)"), [
    'in-port "template" of "T" (text/Template) is required: connect it or give it an IIP',
  ]);
  assert.deepEqual(problems("'{{> header}}' -> template T(text/Template)"), [
    'IIP for in-port "template" of "T" (text/Template) is not valid: Cannot compile the template: partials are not supported, found {{> header}}',
  ]);
  assert.deepEqual(
    problems("'x' -> template T(text/Template)\n'xml' -> escape T"),
    [
      'IIP for in-port "escape" of "T" (text/Template) is not valid: expected one of "none", "html", received string "xml"',
    ],
  );
});

test("text/Template fails a message whose rendering takes more than its steps or makes more than its text, and renders the next", async () => {
  const {
    compileTemplate,
    MAX_TEMPLATE_LENGTH,
    MAX_TEMPLATE_STEPS,
    renderTemplate,
  } = await import("../../src/components/text.ts");
  const list = Array.from({ length: 200 }, (_, i) => i);
  // 200 x 200 x 200 = 8 million runs of the innermost section.
  const nested = compileTemplate("{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}");
  assert.throws(
    () => renderTemplate(nested, { a: list }),
    new RangeError(
      `Cannot render the template: it takes more than ${MAX_TEMPLATE_STEPS} steps (a section once for each item, and each token in it), as sections nested over long lists do`,
    ),
  );
  // 100 copies of a million characters.
  const copies = compileTemplate("{{#a}}{{s}}{{/a}}");
  const s = "y".repeat(1_000_000);
  assert.throws(
    () => renderTemplate(copies, { a: list.slice(0, 100), s }),
    new RangeError(
      `Cannot render the template: its text grows past the ${MAX_TEMPLATE_LENGTH} characters a rendering may make`,
    ),
  );
  // A table of 10,000 rows is well within both; the count starts afresh.
  const rows = Array.from({ length: 10_000 }, (_, i) => ({ n: i, t: "ok" }));
  const table = compileTemplate("{{#rows}}{{n}},{{t}};{{/rows}}");
  assert.equal(renderTemplate(table, { rows }).split(";").length, 10_001);
  assert.equal(renderTemplate(nested, { a: [1, 2] }), "xxxxxxxx");
  // In a flow: the message fails to error, the next one is rendered.
  const run = await runShaping(`
    '[{"a": ${JSON.stringify(list)}}, {"a": [1]}]' -> values V(test/Values)
    V out -> in T(text/Template) out -> in K(test/Sink)
    '{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}' -> template T
  `);
  assert.equal(run.errors.length, 1);
  assert.match(String(run.errors[0]), /more than 1000000 steps/);
  assert.deepEqual(run.sinks.K, ["x"]);
});
