/**
 * weir's built-in components, one family per file, registered at build
 * time (no file-system scan at start-up). {@linkcode builtins} returns a
 * registry holding all of them under their weir names (`family/Name`) and,
 * where NoFlo has a component with the same meaning, under NoFlo's name as
 * an alias too, so classic `.fbp` graphs run unchanged.
 *
 * | weir name | NoFlo alias |
 * |---|---|
 * | `core/Repeat`, `core/Drop`, `core/Output`, `core/Kick`, `core/Merge` | (same names) |
 * | `core/Delay` | `core/RepeatDelayed` |
 * | `core/Interval` | |
 * | `flow/Map`, `flow/Filter`, `flow/Batch`, `flow/Throttle` | |
 * | `flow/Counter` | `packets/Counter` |
 * | `json/Parse`, `json/Stringify` | |
 * | `strings/Split` | `strings/SplitStr` |
 * | `fs/ReadLines`, `fs/WriteLines` | |
 * | `fs/ReadFile` | `filesystem/ReadFile` |
 *
 * @example
 * ```ts
 * import { builtins } from "./mod.ts";
 *
 * const registry = builtins();
 * registry.get("strings/SplitStr")?.name; // "strings/Split"
 * ```
 *
 * @module
 */
import { Registry } from "../engine/registry.ts";
import {
  CoreDelay,
  CoreDrop,
  CoreInterval,
  CoreKick,
  CoreMerge,
  CoreOutput,
  CoreRepeat,
} from "./core.ts";
import {
  FlowBatch,
  FlowCounter,
  FlowFilter,
  FlowMap,
  FlowThrottle,
} from "./flow.ts";
import { FsReadFile, FsReadLines, FsWriteLines } from "./fs.ts";
import { JsonParse, JsonStringify } from "./json.ts";
import { StringsSplit } from "./strings.ts";

export {
  CoreDelay,
  CoreDrop,
  CoreInterval,
  CoreKick,
  CoreMerge,
  CoreOutput,
  CoreRepeat,
} from "./core.ts";
export {
  compileExpression,
  type Expression,
  FlowBatch,
  FlowCounter,
  FlowFilter,
  FlowMap,
  FlowThrottle,
  type MapFunction,
} from "./flow.ts";
export { FsReadFile, FsReadLines, FsWriteLines } from "./fs.ts";
export { JsonParse, JsonStringify } from "./json.ts";
export { StringsSplit } from "./strings.ts";

/**
 * A new registry holding every built-in component, with NoFlo aliases.
 * Each call returns a fresh registry, so a host may add its own
 * components without touching anyone else's.
 *
 * @example
 * ```ts
 * import { builtins } from "./mod.ts";
 *
 * builtins().has("core/Output"); // true
 * ```
 */
export function builtins(): Registry {
  return new Registry()
    .register(CoreRepeat)
    .register(CoreDrop)
    .register(CoreOutput)
    .register(CoreKick)
    .register(CoreMerge)
    .register(CoreDelay, "core/RepeatDelayed")
    .register(CoreInterval)
    .register(FlowMap)
    .register(FlowFilter)
    .register(FlowBatch)
    .register(FlowThrottle)
    .register(FlowCounter, "packets/Counter")
    .register(JsonParse)
    .register(JsonStringify)
    .register(StringsSplit, "strings/SplitStr")
    .register(FsReadLines)
    .register(FsWriteLines)
    .register(FsReadFile, "filesystem/ReadFile");
}
