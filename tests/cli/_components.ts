/**
 * The operator's component modules the `--components` tests load (from the
 * source and from the single executable): a TypeScript module with a
 * control port and an out port, a JavaScript module with a default export,
 * a helper and a relative import, and a graph that uses both.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A component with a control port and an out port, in TypeScript. */
export const SCALE_TS = `import { defineComponent } from "weir";

export const Scale = defineComponent({
  name: "ops/Scale",
  description: "Multiplies each number by a factor.",
  inPorts: {
    in: { type: "number" },
    factor: { type: "number", control: true, default: 1 },
  },
  outPorts: { out: { type: "number" } },
  process(value: number, ctx) {
    ctx.send("out", value * ctx.control<number>("factor"));
  },
});
`;

/**
 * A JavaScript module: a default export, a helper that is no component, a
 * relative import, and a subpath of weir's (`END`, which must be weir's own
 * instance or the loop never ends).
 */
export const TAG_JS = `import { defineComponent } from "weir";
import { END } from "weir/engine";
import { wrap } from "./lib/wrap.js";

export const helper = 3;
export default defineComponent({
  name: "ops/Tag",
  description: "Wraps each value in {value}.",
  inPorts: { in: {} },
  outPorts: { out: { type: "object" } },
  async run(ctx) {
    // END from "weir/engine" is weir's own: the loop ends with its input.
    for (let v; (v = await ctx.receive("in")) !== END;) {
      await ctx.send("out", wrap(v));
    }
  },
});
`;

/** Ticks 0, 1, 2 scaled by 10, tagged, printed. */
export const GRAPH = `# @name scaled
'5ms' -> interval Tick(core/Interval)
3 -> count Tick
10 -> factor S(ops/Scale)
Tick out -> in S out -> in T(ops/Tag) out -> in Out(core/Output)
`;

/** Writes the two good modules (and a helper in a subfolder) into a new temp folder. */
export function componentsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "weir-ops-"));
  writeFileSync(join(dir, "scale.ts"), SCALE_TS);
  writeFileSync(join(dir, "tag.js"), TAG_JS);
  mkdirSync(join(dir, "lib"));
  writeFileSync(
    join(dir, "lib", "wrap.js"),
    "export const wrap = (value) => ({ value });\n",
  );
  // Left alone: notes, type declarations, helpers named _*.
  writeFileSync(join(dir, "README.md"), "not a module\n");
  writeFileSync(join(dir, "_shared.ts"), "export const shared = 1;\n");
  writeFileSync(join(dir, "types.d.ts"), "export type X = number;\n");
  return dir;
}
