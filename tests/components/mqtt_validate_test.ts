/**
 * What validation says of mqtt/In and mqtt/Out settings, before anything
 * runs: each problem with its place in the graph (line:col for .fbp), and
 * never a password.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtins } from "../../src/components/mod.ts";
import { loadGraph } from "../../src/graph/load_graph.ts";
import { validateGraph } from "../../src/graph/validate.ts";
import { formatProblem } from "../../src/graph/problem.ts";
import { createNetwork } from "../../src/embed.ts";
import type { SecretPolicyOptions } from "../../src/components/_secret.ts";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { cli } from "../cli/_weir.ts";

/** A secrets folder for the tests: nothing is read from it at validation. */
const SECRETS = realpathSync(mkdtempSync(join(tmpdir(), "weir-mqtt-secrets-")));
process.on("exit", () => rmSync(SECRETS, { recursive: true, force: true }));

/** As `weir validate --secrets-dir SECRETS --secret-env MQTT_PASSWORD`. */
const OPERATOR = { dir: SECRETS, env: ["MQTT_PASSWORD"] };

function problems(
  text: string,
  secrets: SecretPolicyOptions = OPERATOR,
): string[] {
  return validateGraph(
    loadGraph(text, { file: "flow.fbp" }),
    builtins({ secrets }),
  ).map((p) => formatProblem(p, "flow.fbp"));
}

test("a broker URL that does not parse is a validation problem with its line:col", () => {
  const found = problems([
    "# @name sensors",
    "'mqtt//broker:1883' -> broker In(mqtt/In)",
    "'a/#' -> topic In",
    "In out -> in D(core/Drop)",
  ].join("\n"));
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:2:\d+: IIP for in-port "broker" of "In" \(mqtt\/In\).*expected a broker URL such as "mqtt:\/\/host:1883".*received "mqtt\/\/broker:1883"/,
  );
});

test("a broker URL with an unknown scheme, no host, or credentials in it is refused; the credentials are not shown", () => {
  const found = problems([
    "'http://broker' -> broker A(mqtt/In)",
    "'x' -> topic A",
    "'mqtt://' -> broker B(mqtt/Out)",
    "'mqtt://weir:S3cr3t-pw@broker' -> broker C(mqtt/Out)",
  ].join("\n"));
  assert.equal(found.length, 3, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:1:\d+: .*scheme "http:" is not one of them/,
  );
  assert.match(
    found[1],
    /^flow\.fbp:3:\d+: .*(names no host|expected a broker URL)/,
  );
  assert.match(found[2], /^flow\.fbp:4:\d+: .*must not hold credentials/);
  assert.ok(!found.join("\n").includes("S3cr3t"), found[2]);
});

test("a password written out is a validation problem that does not echo it", () => {
  const found = problems([
    "'mqtt://127.0.0.1:1883' -> broker Out(mqtt/Out)",
    "'weir' -> username Out",
    "'correct horse battery staple' -> password Out",
  ].join("\n"));
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:3:\d+: IIP for in-port "password" of "Out" \(mqtt\/Out\).*expected a secret reference, "env:NAME" \(an environment variable\) or "file:NAME" \(a file in the secrets folder\), never the secret itself; received a plain string of 28 characters \(not shown\)/,
  );
  assert.ok(!found[0].includes("horse"), found[0]);
});

test("a broker URL with port 0 is a validation problem (MQTT.js connected to 1883 instead)", () => {
  const found = problems(
    "'mqtt://127.0.0.1:0' -> broker In(mqtt/In)\n'a/#' -> topic In",
  );
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /^flow\.fbp:1:\d+: .*port 0 names no broker's port/);
});

test("a number, true or an object given as a password or token in a JSON graph is refused without showing it", () => {
  for (
    const [component, port, value] of [
      ["mqtt/In", "password", 73190482],
      ["mqtt/Out", "password", true],
      ["http/Request", "token", { pw: 91827364 }],
    ] as const
  ) {
    const graph = JSON.stringify({
      processes: { P: { component } },
      connections: [
        {
          data: "mqtt://127.0.0.1:1883",
          tgt: { process: "P", port: "broker" },
        },
        { data: value, tgt: { process: "P", port } },
      ].filter((c) => component !== "http/Request" || c.tgt.port !== "broker"),
    });
    const found = validateGraph(
      loadGraph(graph, { file: "flow.json" }),
      builtins({ secrets: OPERATOR }),
    ).map((p) => formatProblem(p, "flow.json"));
    const shown = found.find((f) => f.includes(`"${port}"`));
    assert.ok(shown !== undefined, found.join("\n"));
    assert.match(shown, /\(a secret reference\), received \w+ \(not shown\)/);
    assert.ok(!/73190482|true|91827364/.test(shown), shown);
  }
});

test("secret references, and a JSON graph's problem path", () => {
  const ok = problems([
    "'mqtt://127.0.0.1:1883' -> broker Out(mqtt/Out)",
    "'env:MQTT_PASSWORD' -> password Out",
    "'file:mqtt' -> password In(mqtt/In)",
    `'file:${SECRETS}/other' -> password In3(mqtt/In)`,
    "'mqtt://127.0.0.1' -> broker In3",
    "'a' -> topic In3",
    "'ca.pem' -> ca In3",
    "'client.pem' -> cert In3",
    "'client.key' -> key In3",
    "'mqtt://127.0.0.1' -> broker In",
    "'a/+/c' -> topic In",
  ].join("\n"));
  assert.deepEqual(ok, []);
  const json = {
    processes: { Out: { component: "mqtt/Out" } },
    connections: [
      { data: "mqtt://127.0.0.1", tgt: { process: "Out", port: "broker" } },
      { data: "pw", tgt: { process: "Out", port: "password" } },
    ],
  };
  const found = validateGraph(
    loadGraph(JSON.stringify(json)),
    builtins({ secrets: OPERATOR }),
  );
  assert.equal(found.length, 1);
  assert.equal(found[0].path, "connections[1].data");
  assert.ok(!found[0].message.includes('"pw"'), found[0].message);
});

test("maxPayloadBytes that is not a size from 1 byte to MQTT's largest packet (268435455) is a validation problem with its line:col, or its path in a JSON graph", () => {
  const bad = ["0", "-1", "1.5", "16MiB", "268435456", "true"];
  const found = problems([
    ...bad.map((v, i) =>
      `'mqtt://127.0.0.1' -> broker P${i}(mqtt/In)\n'a' -> topic P${i}\n'${v}' -> maxPayloadBytes P${i}`
    ),
    "'mqtt://127.0.0.1' -> broker Big(mqtt/In)",
    "'a' -> topic Big",
    "'268435455' -> maxPayloadBytes Big",
  ].join("\n"));
  assert.equal(found.length, bad.length, found.join("\n"));
  bad.forEach((_v, i) =>
    assert.match(
      found[i],
      new RegExp(
        `^flow\\.fbp:${
          3 * i + 3
        }:\\d+: IIP for in-port "maxPayloadBytes" of "P${i}" \\(mqtt/In\\)(:| is not valid:) expected (an integer|a payload size from 1 to 268435455 \\(bytes\\)), received`,
      ),
    )
  );
  const json = {
    processes: { In: { component: "mqtt/In" } },
    connections: [
      { data: "mqtt://127.0.0.1", tgt: { process: "In", port: "broker" } },
      { data: "a", tgt: { process: "In", port: "topic" } },
      { data: 0, tgt: { process: "In", port: "maxPayloadBytes" } },
    ],
  };
  const inJson = validateGraph(
    loadGraph(JSON.stringify(json)),
    builtins({ secrets: OPERATOR }),
  );
  assert.equal(inJson.length, 1);
  assert.equal(inJson[0].path, "connections[2].data");
  assert.match(inJson[0].message, /received number 0/);
});

test("topic filters and topics are checked: + and # in their places, no wildcard to publish to, QoS 0 to 2", () => {
  const found = problems([
    "'mqtt://h' -> broker In(mqtt/In)",
    "'a/b#' -> topic In",
    "'mqtt://h' -> broker In2(mqtt/In)",
    `'["ok/+", "x+/y"]' -> topic In2`,
    "'3' -> qos In2",
    "'mqtt://h' -> broker Out(mqtt/Out)",
    "'alerts/+' -> topic Out",
    '\'{"payload":"gone"}\' -> will Out',
    "'6' -> protocolVersion Out",
  ].join("\n"));
  assert.equal(found.length, 6, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:2:\d+: .*"#" must be the whole last level/,
  );
  assert.match(found[1], /^flow\.fbp:4:\d+: .*"\+" must be a whole level/);
  assert.match(
    found[2],
    /^flow\.fbp:5:\d+: .*QoS of 0, 1 or 2, received number 3/,
  );
  assert.match(
    found[3],
    /^flow\.fbp:7:\d+: .*a topic to publish to must not hold wildcards \(\+ or #\), received "/,
  );
  assert.match(found[4], /^flow\.fbp:8:\d+: .*a last will is an object/);
  assert.match(
    found[5],
    /^flow\.fbp:9:\d+: .*4 \(MQTT 3\.1\.1\) or 5 \(MQTT 5\)/,
  );
});

test("with properties.allow.hosts, a broker on another host is a validation problem, one on the list is not", () => {
  const found = problems([
    "# @allow hosts broker.local 127.0.0.1:1883",
    "'mqtt://elsewhere.example:1883' -> broker A(mqtt/In)",
    "'a' -> topic A",
    "'mqtt://127.0.0.1:1884' -> broker B(mqtt/Out)",
    "'mqtts://Broker.Local' -> broker C(mqtt/Out)",
    "'mqtt://127.0.0.1:1883' -> broker D(mqtt/Out)",
  ].join("\n"));
  assert.equal(found.length, 2, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:2:\d+: .*cannot use broker "mqtt:\/\/elsewhere\.example:1883": its host is not in this flow's allow list \(allow\.hosts: "broker\.local", "127\.0\.0\.1:1883"\)/,
  );
  assert.match(found[1], /^flow\.fbp:4:\d+: .*127\.0\.0\.1:1884.*allow list/);
});

test("a broker URL's query (a WebSocket token) and user info are never shown in a validation problem: refused by the allow list, or not parsing", async () => {
  const graph = [
    "# @allow hosts broker.local",
    "'ws://evil.example/mqtt?token=S3CRET-TOKEN' -> broker A(mqtt/In)",
    "'a' -> topic A",
    "'ws://bro ker/mqtt?token=S3CRET-TOKEN' -> broker B(mqtt/Out)",
    "'ws://u:S3CRET-PW@bro ker/mqtt#S3CRET-FRAGMENT' -> broker C(mqtt/Out)",
  ].join("\n");
  const found = problems(graph);
  assert.equal(found.length, 3, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:2:\d+: .*cannot use broker "ws:\/\/evil\.example\/mqtt": its host is not in this flow's allow list \(allow\.hosts: "broker\.local"\)/,
  );
  assert.match(
    found[1],
    /^flow\.fbp:4:\d+: .*expected a broker URL .*, received "ws:\/\/bro ker\/mqtt"$/,
  );
  assert.match(
    found[2],
    /^flow\.fbp:5:\d+: .*expected a broker URL .*, received "ws:\/\/bro ker\/mqtt"$/,
  );
  const dir = mkdtempSync(join(tmpdir(), "weir-mqtt-token-"));
  try {
    const file = join(dir, "flow.fbp");
    writeFileSync(file, graph + "\n");
    const r = await cli(["validate", file]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /cannot use broker "ws:\/\/evil\.example\/mqtt"/);
    for (const text of [...found, r.out, r.err]) {
      assert.doesNotMatch(text, /S3CRET/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a flow with allow but no hosts reaches no broker", () => {
  const found = problems([
    "# @allow files in/",
    "'mqtt://127.0.0.1' -> broker Out(mqtt/Out)",
  ].join("\n"));
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /allow\.hosts: none/);
});

test("secrets the operator did not allow are validation problems with their line:col, saying how to allow them", () => {
  const graph = [
    "'mqtt://127.0.0.1' -> broker In(mqtt/In)",
    "'a' -> topic In",
    "'env:AWS_SECRET_ACCESS_KEY' -> password In",
    "'mqtt://127.0.0.1' -> broker Out(mqtt/Out)",
    "'file:/tmp/r-exp/tokens' -> password Out",
    "'/etc/ssl/certs/ca-certificates.crt' -> ca Out",
    "'../escape.pem' -> key Out",
  ].join("\n");
  const found = problems(graph);
  assert.equal(found.length, 4, found.join("\n"));
  assert.match(
    found[0],
    /^flow\.fbp:3:\d+: .*"env:AWS_SECRET_ACCESS_KEY": the operator has not allowed this variable; start weir with --secret-env AWS_SECRET_ACCESS_KEY/,
  );
  assert.match(
    found[1],
    /^flow\.fbp:5:\d+: .*it is outside the secrets folder/,
  );
  assert.match(
    found[2],
    /^flow\.fbp:6:\d+: .*TLS file .*outside the secrets folder/,
  );
  assert.match(
    found[3],
    /^flow\.fbp:7:\d+: .*TLS file .*outside the secrets folder/,
  );
  // No secrets folder, no variable (weir's default): each says how to allow it.
  const none = problems(graph, {});
  assert.equal(none.length, 4, none.join("\n"));
  assert.match(
    none[0],
    /--secret-env AWS_SECRET_ACCESS_KEY \(or WEIR_SECRET_ENV/,
  );
  for (const p of none.slice(1)) {
    assert.match(p, /no secrets folder is set.*--secrets-dir DIR/);
  }
});

test("a secret reference that cannot be read stops the start, naming the reference only", async () => {
  const net = createNetwork(
    [
      "'mqtt://127.0.0.1:1' -> broker Out(mqtt/Out)",
      "'env:MQTT_TEST_SURELY_UNSET_7' -> password Out",
    ].join("\n"),
    {
      registry: builtins({ secrets: { env: ["MQTT_TEST_SURELY_UNSET_7"] } }),
    },
  );
  await assert.rejects(
    net.start(),
    /^Error: Cannot start network ".*": process "Out" \(mqtt\/Out\), setup: Cannot read secret env:MQTT_TEST_SURELY_UNSET_7: the environment variable is not set$/,
  );
});

test("the README's MQTT example graph validates", async () => {
  const { readFileSync } = await import("node:fs");
  const readme = readFileSync(
    new URL("../../README.md", import.meta.url),
    "utf8",
  );
  const block = [...readme.matchAll(/```fbp\n([\s\S]*?)```/g)]
    .map((m) => m[1]).find((b) =>
      b.includes("mqtt/In") && b.includes("-> password")
    );
  assert.ok(block !== undefined, "the README has an MQTT .fbp example");
  assert.deepEqual(problems(block), []);
  assert.match(block, /'env:MQTT_PASSWORD' -> password/);
});
