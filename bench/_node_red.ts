/**
 * The Node-RED 4 side of the MQTT benchmark (`bench/mqtt_bench.ts`): a
 * `flows.json` doing the benchmark's job with Node-RED's core nodes, and
 * Node-RED started on Node.js with it (`node node_modules/node-red/red.js
 * --userDir <temp> --settings <temp>/settings.js --port <free> flows.json`),
 * pinned to a core. Node-RED (npm `node-red` 4.1.8) is a dev dependency
 * of the benchmark only.
 *
 * Each job is a tab: `mqtt in` (its QoS, payload parsed as JSON) ->
 * [`delay` as a rate limit, for the slow-consumer job] -> `switch`
 * (`msg.payload.temp` > 30) -> `mqtt out` (same QoS), every node on one
 * `mqtt-broker` configuration node, as a Node-RED user wires it. The
 * editor, diagnostics, telemetry and module installs are off.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ServerProcess, startListening } from "./_serve.ts";

/** One job of the Node-RED side. */
export interface NodeRedJob {
  /** Its tab's name. */
  name: string;
  qos: 0 | 1;
  inTopic: string;
  outTopic: string;
  /** Messages per second of a rate-limiting `delay` before the filter. */
  rate?: number;
}

/** The `flows.json` of `jobs` on the broker at 127.0.0.1:`port`. */
export function nodeRedFlows(port: number, jobs: readonly NodeRedJob[]) {
  const nodes: Record<string, unknown>[] = [{
    id: "broker",
    type: "mqtt-broker",
    name: "bench",
    broker: "127.0.0.1",
    port: String(port),
    clientid: "",
    autoConnect: true,
    usetls: false,
    protocolVersion: "4",
    keepalive: "60",
    cleansession: true,
    autoUnsubscribe: true,
    birthTopic: "",
    closeTopic: "",
    willTopic: "",
  }];
  for (const job of jobs) {
    const tab = `tab-${job.name}`;
    const id = (what: string) => `${job.name}-${what}`;
    nodes.push({ id: tab, type: "tab", label: job.name });
    nodes.push({
      id: id("in"),
      type: "mqtt in",
      z: tab,
      topic: job.inTopic,
      qos: String(job.qos),
      datatype: "json",
      broker: "broker",
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      wires: [[job.rate === undefined ? id("switch") : id("delay")]],
    });
    if (job.rate !== undefined) {
      nodes.push({
        id: id("delay"),
        type: "delay",
        z: tab,
        pauseType: "rate",
        timeout: "1",
        timeoutUnits: "seconds",
        rate: String(job.rate),
        nbRateUnits: "1",
        rateUnits: "second",
        randomFirst: "1",
        randomLast: "5",
        randomUnits: "seconds",
        drop: false,
        allowrate: false,
        outputs: 1,
        wires: [[id("switch")]],
      });
    }
    nodes.push({
      id: id("switch"),
      type: "switch",
      z: tab,
      property: "payload.temp",
      propertyType: "msg",
      rules: [{ t: "gt", v: "30", vt: "num" }],
      checkall: "true",
      repair: false,
      outputs: 1,
      wires: [[id("out")]],
    });
    nodes.push({
      id: id("out"),
      type: "mqtt out",
      z: tab,
      topic: job.outTopic,
      qos: String(job.qos),
      retain: "false",
      broker: "broker",
      wires: [],
    });
  }
  return nodes;
}

const SETTINGS = `module.exports = {
  uiHost: "127.0.0.1",
  flowFile: "flows.json",
  credentialSecret: false,
  disableEditor: true,
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false },
  logging: { console: { level: "info", metrics: false, audit: false } },
};
`;

/**
 * Writes the user folder `dir` (settings.js, flows.json of `jobs`) and
 * starts Node-RED on Node.js (`node` on the PATH), pinned to `core`;
 * resolves once its HTTP server runs (the flows may still be connecting:
 * wait for their output before measuring).
 */
export async function startNodeRed(options: {
  root: string;
  dir: string;
  brokerPort: number;
  jobs: readonly NodeRedJob[];
  core: number;
}): Promise<ServerProcess> {
  writeFileSync(join(options.dir, "settings.js"), SETTINGS);
  writeFileSync(
    join(options.dir, "flows.json"),
    JSON.stringify(nodeRedFlows(options.brokerPort, options.jobs), null, 1),
  );
  return await startListening([
    "node",
    join(options.root, "node_modules", "node-red", "red.js"),
    "--userDir",
    options.dir,
    "--settings",
    join(options.dir, "settings.js"),
    "--port",
    "0",
    "flows.json",
  ], {
    core: options.core,
    cwd: options.dir,
    from: "stdout",
    pattern: /Server now running at http:\/\/127\.0\.0\.1:(\d+)/,
  });
}
