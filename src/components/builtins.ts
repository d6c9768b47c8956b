/**
 * The registry of every built-in component, with NoFlo's names as aliases.
 *
 * @module
 */
import { checkOptionKeys, optionKeys } from "../engine/option_keys.ts";
import { Registry } from "../engine/registry.ts";
import {
  CoreDelay,
  CoreDrop,
  CoreInterval,
  CoreKick,
  CoreMerge,
  CoreOutput,
  coreOutput,
  CoreRepeat,
  type OutputWriter,
} from "./core.ts";
import {
  type ExpressionComponentOptions,
  FlowBatch,
  FlowCounter,
  FlowFilter,
  flowFilter,
  FlowMap,
  flowMap,
  FlowThrottle,
} from "./flow.ts";
import { FlowSwitch, flowSwitch } from "./flow_switch.ts";
import { FlowChange, flowChange } from "./flow_change.ts";
import { FlowWindow, flowWindow } from "./flow_window.ts";
import { FlowJoin, flowJoin } from "./flow_join.ts";
import { fsReadFile, fsReadLines, fsWriteLines } from "./fs.ts";
import { fsTail } from "./fs_tail.ts";
import { execRun } from "./exec.ts";
import { ExecAllowList } from "./exec_allow.ts";
import { CoreSchedule } from "./schedule.ts";
import {
  FileSandbox,
  type FileSandboxOptions,
  sandboxedComponent,
} from "./file_sandbox.ts";
import { JsonParse, JsonStringify } from "./json.ts";
import { httpIn, httpResponse } from "./http_in.ts";
import type { HttpInRouter } from "./http_in_router.ts";
import { httpRequest } from "./http_request.ts";
import { MqttIn, mqttInFor, MqttOut, mqttOutFor } from "./mqtt.ts";
import { SecretPolicy, type SecretPolicyOptions } from "./_secret.ts";
import { StringsSplit } from "./strings.ts";
import { FlowDedupe, flowDedupe } from "./flow_dedupe.ts";
import { FlowTrigger, flowTrigger } from "./flow_trigger.ts";
import { CsvParse, CsvStringify } from "./csv.ts";
import { TextTemplate } from "./text.ts";

/** Options of {@linkcode builtins}. */
export interface BuiltinsOptions extends ExpressionComponentOptions {
  /**
   * Where the file components (`fs/*`) may read and write: a
   * {@linkcode FileSandbox} or its options. Default a sandbox rooted at
   * `./data` (from the current folder) with nothing denied: a flow never
   * reaches the whole disk unless the host says so.
   */
  files?: FileSandbox | FileSandboxOptions;
  /**
   * Where `core/Output` writes its lines (with the flow and process they
   * come from). Default `console.log` of the line alone.
   */
  output?: OutputWriter;
  /**
   * The programs `exec/Run` may start: an {@linkcode ExecAllowList}, or
   * names (looked up on `PATH` now) and absolute paths. Default none:
   * `exec/Run` refuses every command at validation.
   */
  exec?: ExecAllowList | readonly string[];
  /**
   * The routes `http/In` serves and `http/Response` answers (the server
   * hands the same router to `flowApp`). Default none: a flow with
   * `http/In` then fails to start, saying this host serves no routes.
   */
  httpIn?: HttpInRouter;
  /**
   * The hosts `http/Request` may reach in every flow (the server's allow
   * list, e.g. `["api.example.com", "*.corp.example"]`); a flow's
   * `properties.allow.hosts` narrows it further. Default every host.
   */
  httpHosts?: readonly string[];
  /**
   * Where secrets (`mqtt/*`'s password and TLS files, `http/Request`'s
   * token and secretHeaders, `exec/Run`'s secretEnv) may come from: a {@linkcode SecretPolicy} or its options (a
   * secrets folder, the variables allowed). Default nothing: every `env:`
   * and `file:` reference is refused at validation.
   */
  secrets?: SecretPolicy | SecretPolicyOptions;
}

const BUILTINS_OPTIONS = optionKeys<BuiltinsOptions>()([
  "files",
  "output",
  "exec",
  "httpIn",
  "httpHosts",
  "secrets",
  "expressionBudget",
]);

/**
 * A new registry holding every built-in component under its weir name
 * (`family/Name`) and, where NoFlo has a component with the same meaning,
 * under NoFlo's name too. Each call returns a fresh registry, so a host may
 * add its own components without touching anyone else's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtins } from "./builtins.ts";
 *
 * const registry = builtins();
 * assert.equal(registry.has("core/Output"), true);
 * assert.equal(registry.get("strings/SplitStr")?.name, "strings/Split");
 * // A host's own budget for the JSONata expressions of flow/Map and flow/Filter:
 * const strict = builtins({ expressionBudget: { timeoutMs: 100, maxDepth: 200 } });
 * assert.equal(strict.has("flow/Map"), true);
 * // Files only under /srv/weir, never its database:
 * const files = builtins({ files: { root: "/srv/weir", deny: ["/srv/weir/weir.db"] } });
 * assert.throws(() => files.get("fs/ReadFile") && files.get("fs/WriteLines")?.inPorts.path.parse?.("/etc/x"));
 * ```
 */
export function builtins(options: BuiltinsOptions = {}): Registry {
  checkOptionKeys(
    "Cannot build the built-in components",
    options,
    BUILTINS_OPTIONS,
  );
  const custom = options.expressionBudget !== undefined;
  const files = options.files instanceof FileSandbox
    ? options.files
    : new FileSandbox(options.files);
  const secrets = options.secrets === undefined
    ? undefined
    : options.secrets instanceof SecretPolicy
    ? options.secrets
    : new SecretPolicy(options.secrets);
  const exec = options.exec instanceof ExecAllowList
    ? options.exec
    : ExecAllowList.resolve(options.exec ?? []);
  return new Registry()
    .register(CoreRepeat)
    .register(CoreDrop)
    .register(options.output ? coreOutput(options.output) : CoreOutput)
    .register(CoreKick)
    .register(CoreMerge)
    .register(CoreDelay, "core/RepeatDelayed")
    .register(CoreInterval)
    .register(custom ? flowMap(options) : FlowMap)
    .register(custom ? flowFilter(options) : FlowFilter)
    .register(custom ? flowSwitch(options) : FlowSwitch)
    .register(custom ? flowChange(options) : FlowChange)
    .register(custom ? flowWindow(options) : FlowWindow)
    .register(custom ? flowJoin(options) : FlowJoin)
    .register(FlowBatch)
    .register(FlowThrottle)
    .register(FlowCounter, "packets/Counter")
    .register(JsonParse)
    .register(JsonStringify)
    .register(StringsSplit, "strings/SplitStr")
    .register(custom ? flowDedupe(options) : FlowDedupe)
    .register(custom ? flowTrigger(options) : FlowTrigger)
    .register(CsvParse)
    .register(CsvStringify)
    .register(TextTemplate)
    // Each narrows to a flow's allow list when its graph has one.
    .register(sandboxedComponent(fsReadLines, files))
    .register(sandboxedComponent(fsWriteLines, files))
    .register(sandboxedComponent(fsReadFile, files), "filesystem/ReadFile")
    .register(CoreSchedule)
    .register(execRun(exec, { secrets }))
    .register(sandboxedComponent(fsTail, files))
    .register(httpIn(options.httpIn))
    .register(httpResponse(options.httpIn))
    .register(httpRequest({ hosts: options.httpHosts, secrets }))
    // Each narrows to a flow's allow.hosts when its graph has one.
    .register(secrets ? mqttInFor(secrets) : MqttIn)
    .register(secrets ? mqttOutFor(secrets) : MqttOut);
}
