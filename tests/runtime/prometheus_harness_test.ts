// The harness behind the Prometheus integration tests, tested against the
// real promtool and prometheus binaries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { serve } from "../../src/runtime/serve.ts";
import {
  integrationSkip,
  promtoolCheck,
  startPrometheus,
} from "../_prometheus.ts";

const VALID = "# HELP x_total A thing.\n# TYPE x_total counter\nx_total 1\n";

/** Runs `body` with the environment variable `name` set to `value`. */
async function withEnv<T>(
  name: string,
  value: string | undefined,
  body: () => T | Promise<T>,
): Promise<T> {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

/** A PATH on which no tool is found. */
const EMPTY_PATH = "/nonexistent-weir-path";

test("integrationSkip() does not skip when the tool is on PATH", async () => {
  await withEnv("WEIR_REQUIRE_INTEGRATION", undefined, () => {
    assert.equal(integrationSkip("sh"), false);
  });
});

test("integrationSkip() skips with a reason when the tool is missing", async () => {
  const reason = await withEnv(
    "WEIR_REQUIRE_INTEGRATION",
    undefined,
    () => integrationSkip("weir-no-such-tool"),
  );
  assert.equal(typeof reason, "string");
  assert.match(String(reason), /weir-no-such-tool is not on PATH/);
  assert.match(String(reason), /apt-get install prometheus/);
});

test("integrationSkip() runs the test for a missing tool when WEIR_REQUIRE_INTEGRATION=1", async () => {
  await withEnv("WEIR_REQUIRE_INTEGRATION", "1", () => {
    assert.equal(integrationSkip("weir-no-such-tool"), false);
  });
});

test("promtoolCheck() rejects with how to install promtool when it is missing", async () => {
  await withEnv("PATH", EMPTY_PATH, async () => {
    await assert.rejects(promtoolCheck(VALID), {
      message:
        /^promtool is not on PATH: install it with `apt-get install prometheus`/,
    });
  });
});

test("startPrometheus() rejects with how to install prometheus when it is missing", async () => {
  await withEnv("PATH", EMPTY_PATH, async () => {
    await assert.rejects(startPrometheus({ targets: ["127.0.0.1:9"] }), {
      message:
        /^prometheus is not on PATH: install it with `apt-get install prometheus`/,
    });
  });
});

test("promtoolCheck() accepts a valid exposition", {
  skip: integrationSkip("promtool"),
}, async () => {
  assert.deepEqual(await promtoolCheck(VALID), { ok: true, output: "" });
});

test("promtoolCheck() rejects a counter without the _total suffix", {
  skip: integrationSkip("promtool"),
}, async () => {
  const { ok, output } = await promtoolCheck(
    "# HELP x A thing.\n# TYPE x counter\nx 1\n",
  );
  assert.equal(ok, false);
  assert.match(output, /^x counter metrics should have "_total" suffix$/m);
});

test("promtoolCheck() rejects text that does not parse", {
  skip: integrationSkip("promtool"),
}, async () => {
  const { ok, output } = await promtoolCheck("x_total{ 1\n");
  assert.equal(ok, false);
  assert.match(output, /parsing error/);
});

test("startPrometheus() refuses a target off this machine", async () => {
  await assert.rejects(startPrometheus({ targets: ["192.0.2.1:9090"] }), {
    name: "RangeError",
    message: /must be host:port on this machine.*"192\.0\.2\.1:9090"/,
  });
});

test("startPrometheus() scrapes a weir server until stopped", {
  skip: integrationSkip("prometheus"),
  // Bun's default is 5 s; the first scrape alone takes about 5 s.
  timeout: 20_000,
}, async () => {
  let scrapes = 0;
  let url: string;
  let dir: string;
  {
    await using server = await serve((request) => {
      if (new URL(request.url).pathname !== "/metrics") {
        return new Response("not found", { status: 404 });
      }
      scrapes++;
      return new Response(VALID, {
        headers: {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
        },
      });
    });
    await using prometheus = await startPrometheus({
      targets: [`127.0.0.1:${server.port}`],
    });
    ({ url, dir } = prometheus);
    const timeoutMs = 12_000;
    await prometheus.waitFor(async () => {
      const [up] = await prometheus.query('up{job="weir"}');
      return up?.value === 1;
    }, { timeoutMs, what: 'up{job="weir"} == 1' });
    await prometheus.waitFor(async () => {
      const [n] = await prometheus.query(
        'count_over_time(up{job="weir"}[1m])',
      );
      return n !== undefined && n.value >= 3;
    }, { timeoutMs, what: "3 scrapes" });

    const [sample] = await prometheus.query('x_total{job="weir"}');
    assert.equal(sample?.value, 1);
    assert.equal(sample?.metric.instance, `127.0.0.1:${server.port}`);
    assert.ok(scrapes >= 3, `the server saw ${scrapes} scrapes`);
  }
  // Leaving the block stopped Prometheus, then the server.
  await assert.rejects(fetch(`${url}/-/ready`), TypeError);
  assert.equal(existsSync(dir), false, "the temporary folder is removed");
});

test("PrometheusHandle.query() throws Prometheus's error for bad PromQL", {
  skip: integrationSkip("prometheus"),
  timeout: 20_000,
}, async () => {
  // Nothing listens on the discard port: no scrape is needed here.
  await using prometheus = await startPrometheus({ targets: ["127.0.0.1:9"] });
  await assert.rejects(prometheus.query("up{"), {
    message: /^Prometheus query "up\{" failed \(HTTP 400\): bad_data: /,
  });
});

test("PrometheusHandle.query() returns a scalar as one sample without labels", {
  skip: integrationSkip("prometheus"),
  timeout: 20_000,
}, async () => {
  await using prometheus = await startPrometheus({ targets: ["127.0.0.1:9"] });
  const samples = await prometheus.query("1 + 1");
  assert.equal(samples.length, 1);
  assert.deepEqual(samples[0]?.metric, {});
  assert.equal(samples[0]?.value, 2);
});
