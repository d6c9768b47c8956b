/**
 * A small registry for the graph tests, independent of src/components.
 *
 * @module
 */
import jsonata from "jsonata";
import { defineComponent, parseDuration } from "../../src/engine/component.ts";
import { Registry } from "../../src/engine/registry.ts";

/** A registry with a few components shaped like weir's built-ins. */
export function testRegistry(): Registry {
  const registry = new Registry();
  registry.register(defineComponent({
    name: "core/Interval",
    description: "Sends a bang every interval.",
    inPorts: {
      interval: {
        type: "duration",
        control: true,
        required: true,
        parse: parseDuration,
      },
    },
    outPorts: { out: { type: "bang" } },
    async run() {},
  }));
  registry.register(defineComponent({
    name: "core/Repeat",
    description: "Sends what it receives.",
    inPorts: { in: {} },
    outPorts: { out: {} },
    process(value, ctx) {
      ctx.send("out", value);
    },
  }));
  registry.register(
    defineComponent({
      name: "core/Output",
      description: "Logs what it receives.",
      inPorts: { in: {} },
      outPorts: { out: {} },
      process() {},
    }),
    "core/Log",
  );
  registry.register(defineComponent({
    name: "core/Kick",
    description: "Sends its data when banged.",
    inPorts: { in: { type: "bang" }, data: { control: true } },
    outPorts: { out: {} },
    process() {},
  }));
  registry.register(defineComponent({
    name: "flow/Map",
    description:
      "Transforms each message with a function or a JSONata expression.",
    inPorts: {
      in: {},
      fn: { type: "function", control: true },
      expr: {
        type: "string",
        control: true,
        parse(value) {
          try {
            return jsonata(value as string);
          } catch (e) {
            throw new TypeError(
              `invalid JSONata expression: ${
                (e as { message: string }).message
              }`,
            );
          }
        },
      },
    },
    outPorts: { out: {}, error: {} },
    process() {},
  }));
  registry.register(defineComponent({
    name: "flow/Switch",
    description: "Routes each message to one of its outputs.",
    inPorts: { in: {}, cases: { type: "array", control: true } },
    outPorts: { out: { addressable: true } },
    process() {},
  }));
  registry.register(defineComponent({
    name: "flow/Merge",
    description: "Merges its addressable inputs.",
    inPorts: { in: { addressable: true, multiple: false } },
    outPorts: { out: {} },
    process() {},
  }));
  registry.register(defineComponent({
    name: "math/Scale",
    description: "Multiplies by a factor.",
    inPorts: {
      in: { type: "number" },
      factor: { type: "number", control: true },
    },
    outPorts: { out: { type: "number" } },
    concurrency: 1,
    process() {},
  }));
  registry.register(defineComponent({
    name: "test/Typed",
    description: "Has an in-port of each type that IIP strings convert to.",
    inPorts: {
      in: {},
      text: { type: "string", control: true },
      ratio: { type: "number", control: true },
      size: { type: "integer", control: true },
      on: { type: "boolean", control: true },
      options: { type: "object", control: true },
      cases: { type: "array", control: true },
    },
    outPorts: { out: {} },
    process() {},
  }));
  return registry;
}
