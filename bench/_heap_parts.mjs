// Adds up a V8 heap snapshot's bytes by the history's structures (see
// bench/history_memory_parts.ts): each object's own size goes to the
// nearest object above it, along its first strong retainer, whose class
// is one of the history's, labelled `Class.field` by the field that
// leads down to it. Run: `node bench/_heap_parts.mjs FILE [--top=N]`.
import { readFileSync } from "node:fs";

const file = process.argv[2];
const top = Number(
  process.argv.find((a) => a.startsWith("--top="))?.slice(6) ?? 40,
);
const snap = JSON.parse(readFileSync(file, "utf8"));
const meta = snap.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nTypes = meta.node_types[0];
const eTypes = meta.edge_types[0];
const nodes = snap.nodes;
const edges = snap.edges;
const strings = snap.strings;
const N = nodes.length / NF;
const iType = meta.node_fields.indexOf("type");
const iName = meta.node_fields.indexOf("name");
const iSize = meta.node_fields.indexOf("self_size");
const iEdges = meta.node_fields.indexOf("edge_count");
const eType = meta.edge_fields.indexOf("type");
const eName = meta.edge_fields.indexOf("name_or_index");
const eTo = meta.edge_fields.indexOf("to_node");

const CLASSES = new Set([
  "HistoryStore",
  "History",
  "Tier",
  "OpenChunks",
  "WindowAggregator",
  "RowAggregator",
  "SeriesIndex",
  "Sampler",
  "ChunkRing",
  "HeadLog",
  "Segments",
  "SegmentIndex",
  "DecodedChunks",
  "RowBuffer",
  "BufferWords",
  "Postings",
]);

// First strong retainer of each node, and the edge's name.
const parent = new Int32Array(N).fill(-1);
const parentEdge = new Array(N);
let e = 0;
for (let n = 0; n < N; n++) {
  const count = nodes[n * NF + iEdges];
  for (let k = 0; k < count; k++, e += EF) {
    const type = eTypes[edges[e + eType]];
    if (type === "weak" || type === "shortcut") continue;
    const to = edges[e + eTo] / NF;
    if (parent[to] !== -1) continue;
    const fromType = nTypes[nodes[n * NF + iType]];
    if (fromType === "synthetic") continue;
    parent[to] = n;
    parentEdge[to] = type === "element" || type === "hidden"
      ? `[${edges[e + eName]}]`
      : strings[edges[e + eName]];
  }
}
const name = (n) => strings[nodes[n * NF + iName]];
const type = (n) => nTypes[nodes[n * NF + iType]];
/** A tier's place in its store's list (`[0]` raw), or "". */
const tierOf = (n) => {
  const e = parentEdge[n];
  return e !== undefined && e.startsWith("[") ? e : "";
};
const sums = new Map();
let total = 0;
for (let n = 0; n < N; n++) {
  const size = nodes[n * NF + iSize];
  if (size === 0) continue;
  let label = "(outside)";
  let below = n;
  let at = parent[n];
  for (let steps = 0; at !== -1 && steps < 40; steps++) {
    if (type(at) === "object" && CLASSES.has(name(at))) {
      label = `${name(at)}.${parentEdge[below]}`;
      // The owner's owner, when it is one (a tier's open chunks): and
      // which tier, by its place in the store's list.
      let up = parent[at];
      let under = at;
      for (let s = 0; up !== -1 && s < 6; s++) {
        if (type(up) === "object" && CLASSES.has(name(up))) {
          const tier = name(up) === "Tier" ? tierOf(up) : "";
          label = `${name(up)}${tier}.${parentEdge[under]} > ${label}`;
          break;
        }
        under = up;
        up = parent[up];
      }
      break;
    }
    below = at;
    at = parent[at];
  }
  if (label === "(outside)") continue;
  total += size;
  sums.set(label, (sums.get(label) ?? 0) + size);
}
const mb = (b) => (b / 1048576).toFixed(2);
console.log(`history's structures: ${mb(total)} MB`);
for (const [k, v] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${mb(v).padStart(7)}  ${k}`);
}
