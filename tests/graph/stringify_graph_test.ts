import { test } from "node:test";
import assert from "node:assert/strict";
import { parseGraphJson, stringifyGraph } from "../../src/graph/mod.ts";

/** A graph as Flowhub saves it (from the fbp package's own tests). */
const FLOWHUB_GRAPH = `{
    "caseSensitive": false,
    "properties": {
        "name": "ConfigPaths",
        "environment": {
            "type": "noflo-nodejs"
        },
        "description": "Read Ingress Table configuration files",
        "icon": "file"
    },
    "inports": {
        "envvar": {
            "process": "core/ReadEnv_2mde7",
            "port": "key",
            "metadata": {
                "x": -612,
                "y": 432,
                "width": 72,
                "height": 72
            }
        }
    },
    "outports": {
        "serverfile": {
            "process": "strings/CompileString_pjcg2",
            "port": "out",
            "metadata": {
                "x": 0,
                "y": 432.5,
                "width": 72,
                "height": 72
            }
        }
    },
    "groups": [
        {
            "name": "Read",
            "nodes": [
                "core/ReadEnv_2mde7"
            ],
            "metadata": {
                "description": "reads \\"env\\" \\u00e9"
            }
        }
    ],
    "processes": {
        "core/ReadEnv_2mde7": {
            "component": "core/ReadEnv",
            "metadata": {
                "label": "core/ReadEnv",
                "x": -468,
                "y": 432,
                "width": 72,
                "height": 72
            }
        },
        "strings/CompileString_pjcg2": {
            "component": "strings/CompileString",
            "metadata": {
                "label": "strings/CompileString",
                "x": -144,
                "y": 432,
                "width": 72,
                "height": 72
            }
        }
    },
    "connections": [
        {
            "src": {
                "process": "core/ReadEnv_2mde7",
                "port": "out"
            },
            "tgt": {
                "process": "strings/CompileString_pjcg2",
                "port": "in",
                "index": 0
            },
            "metadata": {
                "route": null
            }
        },
        {
            "data": "/",
            "tgt": {
                "process": "strings/CompileString_pjcg2",
                "port": "delimiter"
            }
        },
        {
            "data": {
                "nested": [
                    1,
                    -2.5,
                    true,
                    null,
                    "🌊"
                ]
            },
            "tgt": {
                "process": "strings/CompileString_pjcg2",
                "port": "in"
            }
        }
    ]
}`;

test("stringifyGraph() refuses a function IIP, naming its path", () => {
  assert.throws(
    () =>
      stringifyGraph({
        connections: [{
          data: (x: number) => x,
          tgt: { process: "M", port: "fn" },
        }],
      }),
    { name: "TypeError", message: /connections\[0\]\.data is a function/ },
  );
});

test("stringifyGraph() refuses NaN and Map values", () => {
  assert.throws(
    () => stringifyGraph({ properties: { defaultCapacity: NaN } }),
    /properties\.defaultCapacity is NaN/,
  );
  assert.throws(
    () => stringifyGraph({ properties: { lookup: new Map() } }),
    /properties\.lookup is a Map/,
  );
});

test("stringifyGraph(parseGraphJson(text)) gives back a Flowhub graph's text exactly", () => {
  const text = FLOWHUB_GRAPH.replace("\\u00e9", "é");
  assert.equal(stringifyGraph(parseGraphJson(text), { indent: 4 }), text);
});
