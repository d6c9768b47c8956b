import assert from "node:assert/strict";
import { test } from "node:test";
import { ByteWriter } from "../../src/history/_bytes.ts";
import { indexLabels, SeriesIndex } from "../../src/history/series_index.ts";
import type { LabelMatcher } from "../../src/history/types.ts";

function fixture() {
  const ix = new SeriesIndex();
  const ids = {
    a: ix.ref({ __name__: "m", flow: "a", port: "in" }, "counter"),
    b: ix.ref({ __name__: "m", flow: "b", port: "out" }, "counter"),
    ab: ix.ref({ __name__: "m", flow: "ab" }, "counter"),
    g: ix.ref({ __name__: "g", flow: "a" }, "gauge"),
  };
  return { ix, ids };
}

const m = (name: string, type: LabelMatcher["type"], value: string) => ({
  name,
  type,
  value,
});

test("SeriesIndex.ref() gives one stable id per label set, whatever the key order", () => {
  const { ix, ids } = fixture();
  assert.equal(
    ix.ref({ port: "in", flow: "a", __name__: "m" }, "gauge"),
    ids.a,
  );
  assert.equal(ix.kind(ids.a), "counter");
  assert.equal(ix.count, 4);
  assert.equal(ix.find({ __name__: "m" }), -1);
});

test("SeriesIndex.match(): = and != with missing labels as the empty string", () => {
  const { ix, ids } = fixture();
  assert.deepEqual(ix.match([m("__name__", "=", "m")]), [ids.a, ids.b, ids.ab]);
  assert.deepEqual(ix.match([m("__name__", "=", "m"), m("flow", "!=", "a")]), [
    ids.b,
    ids.ab,
  ]);
  // port="" matches the series without a port label.
  assert.deepEqual(ix.match([m("port", "=", "")]), [ids.ab, ids.g]);
  assert.deepEqual(ix.match([m("port", "!=", "")]), [ids.a, ids.b]);
  assert.deepEqual(ix.match([m("flow", "=", "zzz")]), []);
});

test("SeriesIndex.match(): regular expressions are fully anchored", () => {
  const { ix, ids } = fixture();
  assert.deepEqual(ix.match([m("flow", "=~", "a")]), [ids.a, ids.g]);
  assert.deepEqual(ix.match([m("flow", "=~", "a.*")]), [ids.a, ids.ab, ids.g]);
  assert.deepEqual(ix.match([m("flow", "=~", "b")]), [ids.b]);
  assert.deepEqual(
    ix.match([m("__name__", "=", "m"), m("flow", "!~", "a|b")]),
    [
      ids.ab,
    ],
  );
  // A regex that matches "" also matches series without the label.
  assert.deepEqual(ix.match([m("port", "=~", "in|")]), [ids.a, ids.ab, ids.g]);
  assert.deepEqual(ix.match([m("port", "!~", ".+")]), [ids.ab, ids.g]);
});

test("SeriesIndex.match(): a bad regular expression is a clear SyntaxError", () => {
  const { ix } = fixture();
  assert.throws(
    () => ix.match([m("flow", "=~", "(")]),
    (e: Error) =>
      e instanceof SyntaxError &&
      /Cannot match label flow=~"\("/.test(e.message),
  );
});

test("SeriesIndex: label names and values of a set of ids, sorted", () => {
  const { ix, ids } = fixture();
  assert.deepEqual(ix.labelNames([ids.a, ids.ab]), [
    "__name__",
    "flow",
    "port",
  ]);
  assert.deepEqual(ix.labelValues("flow", [ids.g, ids.b, ids.a]), ["a", "b"]);
});

test("SeriesIndex: set() at a later id leaves holes that match nothing", () => {
  const ix = new SeriesIndex();
  ix.set(2, { __name__: "x" }, "gauge");
  assert.equal(ix.size, 3);
  assert.equal(ix.count, 1);
  assert.deepEqual(ix.match([]), [2]);
  assert.equal(ix.ref({ __name__: "y" }, "gauge"), 3);
  assert.throws(() => ix.set(1, { __name__: "z" }, "gauge"), RangeError);
});

test("SeriesIndex: many series with colliding-looking labels stay distinct", () => {
  const ix = new SeriesIndex();
  for (let i = 0; i < 5000; i++) {
    assert.equal(ix.ref({ __name__: "m", i: String(i) }, "gauge"), i);
  }
  for (let i = 0; i < 5000; i++) {
    assert.equal(ix.find({ __name__: "m", i: String(i) }), i);
  }
  assert.deepEqual(ix.match([m("i", "=~", "49(9|8)9")]), [4989, 4999]);
});

test("SeriesIndex finds each of 20,000 series by its labels after its table grew, whatever the key order", () => {
  const ix = new SeriesIndex();
  const labels = (i: number) => ({
    __name__: `m${i % 37}`,
    flow: `f${i % 101}`,
    process: `p${i}`,
  });
  for (let i = 0; i < 20_000; i++) assert.equal(ix.ref(labels(i), "gauge"), i);
  for (let i = 0; i < 20_000; i += 7) {
    const l = labels(i);
    assert.equal(
      ix.find({ process: l.process, flow: l.flow, __name__: l.__name__ }),
      i,
    );
  }
  assert.equal(ix.find({ __name__: "m0", flow: "f0", process: "p20000" }), -1);
  assert.equal(ix.count, 20_000);
});

test("SeriesIndex.find() tells apart label sets with swapped values, one label more or less, and the same pairs in any order; labels() keeps the names sorted", () => {
  const ix = new SeriesIndex();
  const a = ix.ref({ __name__: "m", x: "1", y: "2" }, "gauge");
  assert.equal(ix.find({ y: "2", __name__: "m", x: "1" }), a);
  assert.equal(ix.find({ __name__: "m", x: "2", y: "1" }), -1);
  assert.equal(ix.find({ __name__: "m", x: "1" }), -1);
  assert.equal(ix.find({ __name__: "m", x: "1", y: "2", z: "" }), -1);
  assert.equal(ix.find({ __name__: "m", x: "1", z: "2" }), -1);
  const b = ix.ref({ __name__: "m", x: "2", y: "1" }, "gauge");
  const c = ix.ref({ __name__: "m", x: "1" }, "gauge");
  assert.deepEqual(new Set([a, b, c]).size, 3);
  assert.deepEqual(
    Object.keys(
      ix.labels(ix.ref({ zz: "1", __name__: "m", b: "2", a: "3" }, "gauge"))!,
    ),
    ["__name__", "a", "b", "zz"],
  );
  assert.equal(ix.find({ __name__: "m", y: "2", x: "1" }), a);
});

test("indexLabels() makes each call's labels alone (no name or value of an earlier, longer call), later parts over earlier ones, names sorted", () => {
  const long = indexLabels(
    "x_bucket",
    { site: "a", zone: "z" },
    { flow: "f", process: "p", site: "b" },
    "0.5",
  );
  assert.deepEqual(Object.entries(long), [
    ["__name__", "x_bucket"],
    ["flow", "f"],
    ["le", "0.5"],
    ["process", "p"],
    ["site", "b"],
    ["zone", "z"],
  ]);
  const short = indexLabels("y", {}, { flow: "g" }, undefined);
  assert.deepEqual(Object.entries(short), [["__name__", "y"], ["flow", "g"]]);
  // The sampler's `le` wins over a label of that name, as it always has.
  assert.deepEqual(indexLabels("z", {}, { le: "1" }, "2"), {
    __name__: "z",
    le: "2",
  });
});

test("SeriesIndex keeps none of the objects it is given: labels() makes one at its first call, frozen and sorted, and gives that same object every call after", () => {
  const ix = new SeriesIndex();
  const first = indexLabels("m", {}, { flow: "a" }, undefined);
  const last = indexLabels("m", {}, { flow: "b" }, undefined);
  const a = ix.ref(first, "counter");
  const b = ix.ref(last, "counter");
  assert.notEqual(ix.labels(a), first);
  assert.notEqual(ix.labels(b), last);
  assert.equal(Object.isFrozen(last), false);
  assert.deepEqual(ix.labels(a), { __name__: "m", flow: "a" });
  assert.ok(Object.isFrozen(ix.labels(b)));
  // The same object at every call (remote write caches by it).
  assert.equal(ix.labels(b), ix.labels(b));
  assert.deepEqual(ix.labelsOnce(b), last);
  assert.equal(ix.labelsOnce(b), ix.labels(b)); // made already: that one
  // Changed by its caller after it was added: the index is not.
  (last as Record<string, string>).flow = "z";
  assert.deepEqual(ix.labels(b), { __name__: "m", flow: "b" });
  const changed = indexLabels("m", {}, { flow: "c" }, undefined) as Record<
    string,
    string
  >;
  changed.app = "x";
  const c = ix.ref(changed, "gauge");
  // labelsOnce() of a series not read yet: a new object each call.
  assert.deepEqual(ix.labelsOnce(c), { __name__: "m", app: "x", flow: "c" });
  assert.notEqual(ix.labelsOnce(c), ix.labelsOnce(c));
  assert.deepEqual(Object.keys(ix.labels(c)!), ["__name__", "app", "flow"]);
  assert.equal(ix.find({ flow: "b", __name__: "m" }), b);
  assert.equal(ix.find({ app: "x", flow: "c", __name__: "m" }), c);
  assert.deepEqual(ix.match([m("flow", "=~", "a|b")]), [a, b]);
  assert.deepEqual(ix.match([m("app", "=", "x")]), [c]);
  assert.equal(
    ix.ref(indexLabels("m", {}, { flow: "b" }, undefined), "counter"),
    b,
  );
  assert.equal(ix.size, 3);
});

test("SeriesIndex gives back label values with unusual characters exactly, and tells apart sets that differ only in them", () => {
  const odd = [
    "",
    " ",
    "a=b",
    'q"uote',
    "back\\slash",
    "new\nline",
    "nul\u0000byte",
    "tab\tand,comma}",
    "ünïcødé ☃ 😀",
    "\ud800", // a lone surrogate
    "0",
    "x".repeat(5000),
    "__name__",
  ];
  const ix = new SeriesIndex();
  const ids = odd.map((v) =>
    ix.ref({ __name__: "m", v, [`n_${odd.indexOf(v)}`]: v }, "gauge")
  );
  assert.equal(new Set(ids).size, odd.length);
  odd.forEach((v, i) => {
    assert.deepEqual(ix.labels(ids[i]), {
      __name__: "m",
      [`n_${i}`]: v,
      v,
    });
    assert.equal(ix.find({ v, [`n_${i}`]: v, __name__: "m" }), ids[i]);
    assert.deepEqual(ix.match([m("v", "=", v)]), [ids[i]]);
  });
  assert.deepEqual(ix.labelValues("v", ids), [...odd].sort());
  // A set with one of the values swapped is another series.
  assert.equal(ix.find({ __name__: "m", v: "a=b", n_3: 'q"uote' }), -1);
});

test("SeriesIndex keeps every label of a series with many labels, and a series added after others were read", () => {
  const ix = new SeriesIndex();
  const many: Record<string, string> = { __name__: "wide" };
  for (let i = 0; i < 60; i++) many[`l${String(i).padStart(2, "0")}`] = `v${i}`;
  const w = ix.ref(many, "counter");
  assert.deepEqual(ix.labels(w), many);
  assert.deepEqual(Object.keys(ix.labels(w)!), Object.keys(many).sort());
  assert.deepEqual(ix.labelNames([w]), Object.keys(many).sort());
  // Others added after w's labels were made: each keeps its own.
  const later = [];
  for (let i = 0; i < 50; i++) {
    later.push(
      ix.ref({ __name__: "wide", l00: "v0", l59: `other${i}` }, "gauge"),
    );
  }
  assert.deepEqual(ix.labels(w), many);
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(ix.labels(later[i]), {
      __name__: "wide",
      l00: "v0",
      l59: `other${i}`,
    });
  }
  assert.deepEqual(ix.match([m("l59", "=", "v59")]), [w]);
  assert.deepEqual(ix.match([m("l30", "!=", "")]), [w]);
  assert.equal(ix.match([m("l00", "=", "v0")]).length, 51);
  assert.equal(ix.kind(w), "counter");
  assert.equal(ix.kind(later[0]), "gauge");
});

test("SeriesIndex keeps every series' labels past 65,536 distinct label pairs", () => {
  const ix = new SeriesIndex();
  const n = 70_000;
  const early = ix.ref({ __name__: "a", id: "first", z: "1" }, "gauge");
  const made = ix.labels(early);
  for (let i = 0; i < n; i++) {
    ix.ref({ __name__: "m", id: String(i), z: String(i % 7) }, "gauge");
  }
  assert.equal(ix.labels(early), made);
  assert.deepEqual(ix.labels(early), { __name__: "a", id: "first", z: "1" });
  for (const i of [0, 1, 65_530, 65_536, 69_999]) {
    assert.deepEqual(ix.labels(i + 1), {
      __name__: "m",
      id: String(i),
      z: String(i % 7),
    });
    assert.equal(
      ix.find({ z: String(i % 7), id: String(i), __name__: "m" }),
      i + 1,
    );
    assert.deepEqual(ix.match([m("id", "=", String(i))]), [i + 1]);
  }
  assert.deepEqual(ix.labelValues("id", [1, n]), ["0", String(n - 1)]);
  // Posting lists across id 65,535 (16-bit, then 32-bit ids), alone and
  // in a regular expression's union.
  const want = (z: (i: number) => boolean) =>
    Array.from({ length: n }, (_, i) => i).filter(z).map((i) => i + 1);
  assert.deepEqual(ix.match([m("z", "=", "3")]), want((i) => i % 7 === 3));
  assert.deepEqual(
    ix.match([m("z", "=~", "[34]")]),
    want((i) => i % 7 === 3 || i % 7 === 4),
  );
  assert.equal(ix.match([m("__name__", "=", "m")]).length, n);
});

test("SeriesIndex.labelsJson() writes and counts a series' labels as the UTF-8 of JSON.stringify(labels(id)), for every kind of character and for names an object orders first", () => {
  const ix = new SeriesIndex();
  const values = [
    "",
    "plain value 1",
    'q"u',
    "back\\slash",
    "new\nline\ttab\rret\b\f",
    "\u0000\u001f\u007f",
    "ünï ☃ 😀",
    "lone \ud800 high",
    "lone \udc00 low",
    "pair at end \ud83d\ude00",
    "\ud83d",
    "~ and space",
  ];
  const sets: Record<string, string>[] = values.map((v, i) => ({
    __name__: "m",
    v,
    n: String(i),
  }));
  sets.push({ __name__: "m", "0": "zero", b: "x", "10": "ten", "01": "z" });
  sets.push({ __name__: "m", "é": "name not ascii", 'k"': "q" });
  sets.push(JSON.parse('{"__name__":"m","__proto__":"p","z":"1"}'));
  const utf8 = new TextEncoder();
  for (const labels of sets) {
    const id = ix.ref(labels, "gauge");
    const want = utf8.encode(JSON.stringify(ix.labels(id)));
    const w = new ByteWriter();
    w.u8(9); // something before: the writer appends
    const n = ix.labelsJson(id, w);
    assert.deepEqual(w.bytes().subarray(1), want, JSON.stringify(labels));
    assert.equal(n, want.length);
    assert.equal(ix.labelsJson(id), want.length);
  }
  ix.set(100, { __name__: "late" }, "gauge");
  assert.equal(ix.labelsJson(50), 0, "a hole");
  assert.equal(ix.labelsJson(1000), 0, "an unknown id");
});
