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
 * | `flow/Switch`, `flow/Change`, `flow/Window`, `flow/Join` | |
 * | `json/Parse`, `json/Stringify` | |
 * | `strings/Split` | `strings/SplitStr` |
 * | `fs/ReadLines`, `fs/WriteLines` | |
 * | `fs/ReadFile` | `filesystem/ReadFile` |
 * | `flow/Dedupe`, `flow/Trigger` (Node-RED's rbe and trigger) | |
 * | `csv/Parse`, `csv/Stringify` | |
 * | `text/Template` | |
 * | `core/Schedule` | |
 * | `exec/Run` | |
 * | `fs/Tail` | |
 * | `http/In`, `http/Response`, `http/Request` | |
 * | `mqtt/In`, `mqtt/Out` | |
 *
 * `compileExpression` (re-exported from `src/expr/`) compiles the JSONata
 * expressions that `flow/Map` and `flow/Filter` take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtins } from "./mod.ts";
 *
 * const registry = builtins();
 * assert.equal(registry.get("strings/SplitStr")?.name, "strings/Split");
 * ```
 *
 * @module
 */
export { builtins, type BuiltinsOptions } from "./builtins.ts";
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
  type ExpressionComponentOptions,
  FlowBatch,
  FlowCounter,
  FlowFilter,
  flowFilter,
  FlowMap,
  flowMap,
  FlowThrottle,
  type MapFunction,
} from "./flow.ts";
export {
  compileExpression,
  DEFAULT_EXPRESSION_BUDGET,
  type Expression,
  type ExpressionBudget,
} from "../expr/mod.ts";
export {
  type ChangeOperation,
  type ChangeOperator,
  type ChangeRules,
  FlowChange,
  flowChange,
  parseChangeRules,
} from "./flow_change.ts";
export {
  FlowSwitch,
  flowSwitch,
  parseSwitchRules,
  SWITCH_OPERATORS,
  SWITCH_TYPES,
  type SwitchOperator,
  type SwitchRule,
  type SwitchRules,
} from "./flow_switch.ts";
export {
  FlowWindow,
  flowWindow,
  parseWindow,
  type WindowOptions,
  type WindowResult,
  type WindowSpec,
} from "./flow_window.ts";
export {
  FlowJoin,
  flowJoin,
  type JoinedParts,
  type JoinOptions,
  type JoinParts,
  parseJoinParts,
} from "./flow_join.ts";
export {
  FsReadFile,
  fsReadFile,
  FsReadLines,
  fsReadLines,
  FsWriteLines,
  fsWriteLines,
} from "./fs.ts";
export {
  FileSandbox,
  type FileSandboxOptions,
  SandboxError,
  storagePaths,
} from "./file_sandbox.ts";
export { JsonParse, JsonStringify } from "./json.ts";
export {
  HttpIn,
  httpIn,
  HttpResponse,
  httpResponse,
  toHttpResponse,
} from "./http_in.ts";
export {
  type HttpInMessage,
  HttpInRouter,
  type HttpInRouteSpec,
} from "./http_in_router.ts";
export {
  HttpRequest,
  httpRequest,
  type HttpRequestOptions,
  type HttpResponseMessage,
} from "./http_request.ts";
export { HostAllowList } from "./http_hosts.ts";
export {
  type MqttComponentOptions,
  MqttIn,
  mqttIn,
  type MqttMessage,
  MqttOut,
  mqttOut,
} from "./mqtt.ts";
export { StringsSplit } from "./strings.ts";
export {
  type DeadBand,
  type DedupeMode,
  FlowDedupe,
  flowDedupe,
  parseDeadBand,
} from "./flow_dedupe.ts";
export {
  FlowTrigger,
  flowTrigger,
  type TriggerFirst,
  type TriggerSecond,
} from "./flow_trigger.ts";
export {
  type CsvBadRow,
  type CsvMode,
  CsvParse,
  CsvRowsError,
  CsvStringify,
} from "./csv.ts";
export {
  compileTemplate,
  renderTemplate,
  type Template,
  TextTemplate,
} from "./text.ts";
export {
  CoreSchedule,
  coreSchedule,
  type Firing,
  type ScheduleClock,
  WALL_CLOCK,
} from "./schedule.ts";
export { ExecError, type ExecResult, ExecRun, execRun } from "./exec.ts";
export { ExecAllowList } from "./exec_allow.ts";
export { FsTail, fsTail } from "./fs_tail.ts";
