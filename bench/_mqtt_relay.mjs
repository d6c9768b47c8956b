/**
 * The MQTT job of `bench/mqtt_bench.ts` written by hand on MQTT.js, the
 * floor under any engine built on it: subscribe to `in` at `qos`, parse
 * each message as JSON, publish the ones with `temp > 30` to `out` at the
 * same QoS. Plain JavaScript, so Node.js runs it as Bun and Deno do:
 *
 *   node bench/_mqtt_relay.mjs mqtt://127.0.0.1:1883 0 b/relay/q0/in b/relay/q0/out [...]
 *
 * Arguments: the broker URL, then (qos, in, out) triples, one subscription
 * each on one client. Prints `READY` once subscribed.
 *
 * @module
 */
import mqtt from "mqtt";
import process from "node:process";

const [url, ...rest] = process.argv.slice(2);
/** @type {Map<string, { out: string, qos: 0 | 1 }>} */
const routes = new Map();
for (let i = 0; i + 2 < rest.length; i += 3) {
  const qos = Number(rest[i]) === 1 ? 1 : 0;
  routes.set(rest[i + 1], { out: rest[i + 2], qos });
}
if (url === undefined || routes.size === 0) {
  throw new RangeError(
    "Cannot relay: usage _mqtt_relay.mjs URL (QOS IN OUT)..., received " +
      JSON.stringify(process.argv.slice(2)),
  );
}
const decoder = new TextDecoder();
const client = await mqtt.connectAsync(url, {
  protocolVersion: 4,
  clientId: `bench-relay-${process.pid}`,
});
client.on("message", (topic, payload) => {
  const route = routes.get(topic);
  if (route === undefined) return;
  const reading = JSON.parse(decoder.decode(payload));
  if (reading.temp > 30) client.publish(route.out, payload, { qos: route.qos });
});
for (const [topic, { qos }] of routes) {
  await client.subscribeAsync(topic, { qos });
}
console.log("READY");
process.on("SIGTERM", () => {
  client.end(true, () => process.exit(0));
});
