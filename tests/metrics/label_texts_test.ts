/**
 * `LabelTexts`, and the collector's sampling pass handing an added
 * family's label text from it: the same text as `labelText()`, the same
 * string from one pass to the next, made anew when the labels change.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LabelTexts } from "../../src/metrics/label_texts.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { labelText } from "../../src/metrics/text_writer.ts";
import type { SeriesSink } from "../../src/metrics/collector.ts";

test("LabelTexts: a position's text is kept while its labels stay, by name, value and order", () => {
  const texts = new LabelTexts();
  const first = texts.text(0, { a: "1", b: 'x"y' });
  assert.equal(first, labelText({ a: "1", b: 'x"y' }));
  assert.equal(texts.text(0, { a: "1", b: 'x"y' }), first);
  assert.equal(texts.text(0, { a: "1" }), 'a="1"');
  assert.equal(texts.text(0, { a: "1", b: "2", c: "3" }), 'a="1",b="2",c="3"');
  assert.equal(texts.text(0, { b: "2", a: "1", c: "3" }), 'b="2",a="1",c="3"');
  assert.equal(texts.text(1, {}), "");
  texts.truncate(1);
  assert.equal(texts.text(1, { z: "9" }), 'z="9"');
});

test("MetricsCollector.sample: an added family's label texts are the same strings pass after pass, and follow its labels", async () => {
  const collector = new MetricsCollector();
  let route = "/a";
  collector.addFamily(
    {
      name: "test_requests_total",
      type: "counter",
      help: "Requests.",
      unit: "",
      labels: [{ name: "route", help: "the route" }],
      group: "http",
      seed: "none",
      moves: "in the test",
    },
    (out) => {
      out.sample({ route }, 1);
      out.sample({ route: "/fixed" }, 2);
    },
  );
  const pass = async () => {
    const seen: string[] = [];
    let mine = false;
    const sink: SeriesSink = {
      family: (name) => mine = name === "weir_test_requests_total",
      add: (_suffix, _labels, text) => {
        if (mine) seen.push(text);
      },
    };
    await collector.sample(sink);
    return seen;
  };
  const one = await pass();
  const two = await pass();
  assert.deepEqual(one, ['route="/a"', 'route="/fixed"']);
  assert.deepEqual(two, one);
  // The same string objects: what the history's sampler compares first.
  assert.ok(Object.is(one[0], two[0]) && Object.is(one[1], two[1]));
  route = "/b";
  assert.deepEqual(await pass(), ['route="/b"', 'route="/fixed"']);
});

test("MetricsCollector: an added histogram's le texts follow its bounds array, also when the array's numbers change", async () => {
  const collector = new MetricsCollector();
  const bounds = [0.5, 2];
  collector.addFamily(
    {
      name: "test_wait_seconds",
      type: "histogram",
      help: "Waits.",
      unit: "seconds",
      labels: [],
      group: "http",
      seed: "none",
      moves: "in the test",
    },
    (out) => out.histogram({}, { bounds, counts: [1, 2, 3], sum: 9, count: 6 }),
  );
  const les = async () => {
    const seen: (string | undefined)[] = [];
    let mine = false;
    await collector.sample({
      family: (name) => mine = name === "weir_test_wait_seconds",
      add: (suffix, _labels, _text, value, le) => {
        if (mine && suffix === "_bucket") seen.push(`${le}:${value}`);
      },
    });
    return seen;
  };
  assert.deepEqual(await les(), ["0.5:1", "2:3", "+Inf:6"]);
  assert.deepEqual(await les(), ["0.5:1", "2:3", "+Inf:6"]);
  bounds[1] = 3;
  assert.deepEqual(await les(), ["0.5:1", "3:3", "+Inf:6"]);
});
