/**
 * The dashboard in a real browser (Debian's Chromium driven by
 * `playwright-core`) against a real `weir serve`: the page loads with no
 * console error, the graph has one box per process and one edge per
 * connection, numbers move as messages flow, a chart has points, the tap
 * shows a message sent into the flow, and the page works with tokens.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  chromiumSkip,
  launchChromium,
  type PageDocument,
  type PageProblems,
  watchProblems,
} from "../_browser.ts";
import { eventually, startServeInTemp } from "../cli/_weir.ts";
import { freePort, mosquittoSkip, startMosquitto } from "../_mosquitto.ts";
import { Hono } from "hono";
import { builtins } from "../../src/components/mod.ts";
import { FlowManager, FlowStore } from "../../src/flows/mod.ts";
import { MetricsCollector } from "../../src/metrics/collector.ts";
import { serve } from "../../src/runtime/serve.ts";
import { flowApp } from "../../src/server/flow_app.ts";

/** A flow fed over HTTP (so a test sends what the tap must show) and ticking. */
const FLOW = `# @name shop
'POST' -> method In(http/In)
'/orders' -> path In
In out -> in Order(flow/Map)
'{"requestId": requestId, "status": 202, "body": {"ok": true}}' -> expr Order
Order out -> in Answer(http/Response)
In out -> in Pick(flow/Map)
'body' -> expr Pick
Pick out -> in Log(core/Output)
'200ms' -> interval Tick(core/Interval)
Tick out -> in Count(flow/Counter) out -> in Drop(core/Drop)
`;
const PROCESSES = 8;
declare const document: PageDocument;
/** Connections between processes (IIPs are not edges). */
const EDGES = 6;

/** A flow whose names, messages and errors are HTML that would run if parsed. */
const MAKER = "Make<b>r</b>";
const MESSAGE = "<img src=x onerror=alert(2)>";
const ERROR = "<img src=x onerror=alert(4)>";
const HOSTILE = {
  properties: { name: "hostile" },
  processes: {
    "<img src=x onerror=alert(1)>": { component: "core/Interval" },
    [MAKER]: { component: "flow/Map" },
    "<svg onload=alert(3)>": { component: "core/Output" },
    "Fail<i>s</i>": { component: "flow/Map" },
  },
  connections: [
    {
      data: "200ms",
      tgt: { process: "<img src=x onerror=alert(1)>", port: "interval" },
    },
    { data: `'${MESSAGE}'`, tgt: { process: MAKER, port: "expr" } },
    {
      data: `$error('${ERROR}')`,
      tgt: { process: "Fail<i>s</i>", port: "expr" },
    },
    {
      src: { process: "<img src=x onerror=alert(1)>", port: "out" },
      tgt: { process: MAKER, port: "in" },
    },
    {
      src: { process: "<img src=x onerror=alert(1)>", port: "out" },
      tgt: { process: "Fail<i>s</i>", port: "in" },
    },
    {
      src: { process: MAKER, port: "out" },
      tgt: { process: "<svg onload=alert(3)>", port: "in" },
    },
  ],
};

/** `text` as a regular expression that matches it literally. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const skip = chromiumSkip();
const TOKEN = "dashboard-test-token-0123456789";
const READ_TOKEN = "dashboard-read-token-0123456789";
const METRICS_TOKEN = "dashboard-metrics-token-0123456789";

/** Creates the flow `name`: a 200 ms tick into a drop. */
async function postTicking(url: string, name: string): Promise<void> {
  const res = await fetch(`${url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "text/vnd.fbp" },
    body:
      `# @name ${name}\n'200ms' -> interval T(core/Interval) out -> in D(core/Drop)\n`,
  });
  assert.equal(res.status, 201, await res.text());
}

/** A browser context of the dashboard tests' size. */
function newContext(browser: Browser) {
  return browser.newContext({ viewport: { width: 1280, height: 800 } });
}

async function openPage(
  browser: Browser,
  url: string,
): Promise<{ page: Page; problems: PageProblems; close(): Promise<void> }> {
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  const problems = watchProblems(page);
  await page.goto(url);
  return { page, problems, close: () => ctx.close() };
}

async function count(page: Page, testid: string): Promise<number> {
  return await page.locator(`[data-testid="${testid}"]`).count();
}

/** A number shown in the first element of `selector` (digits, `.` and `,`). */
async function numberIn(page: Page, selector: string): Promise<number> {
  const text = await page.locator(selector).first().textContent() ?? "";
  const m = /-?[\d,]+(\.\d+)?/.exec(text);
  return m === null ? NaN : Number(m[0].replaceAll(",", ""));
}

/**
 * Chromium and a `weir serve` started with `args` in a folder of its own,
 * holding FLOW (posted with `token` when given), for the tests of one
 * describe(): started before them, stopped after them.
 */
function dashboardServer(prefix: string, args: string[], token?: string) {
  const env = {} as {
    browser: Browser;
    server: Awaited<ReturnType<typeof startServeInTemp>>;
  };
  before(async () => {
    env.browser = await launchChromium();
    env.server = await startServeInTemp(prefix, args);
    const res = await fetch(`${env.server.url}/flows`, {
      method: "POST",
      headers: {
        "Content-Type": "text/vnd.fbp",
        ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      },
      body: FLOW,
    });
    assert.equal(res.status, 201, await res.text());
  });
  after(async () => {
    await env.browser?.close();
    env.server?.close();
  });
  return env;
}

describe("the dashboard in Chromium", { skip }, () => {
  const env = dashboardServer("weir-dashboard-", [
    "--history-interval",
    "1s",
  ]);

  test("the flows list shows each flow with its state, and no console error", {
    timeout: 60_000,
  }, async () => {
    const { page, problems, close } = await openPage(
      env.browser,
      `${env.server.url}/`,
    );
    try {
      const row = page.locator('[data-testid="flow-row"][data-flow="shop"]');
      await row.waitFor({ timeout: 15_000 });
      assert.match(await row.textContent() ?? "", /running/);
      // Write buttons are there: no tokens on a loopback server.
      assert.equal(await row.locator('[data-testid="stop"]').count(), 1);
      await page.waitForTimeout(1500);
      assert.deepEqual(problems.errors, []);
    } finally {
      await close();
    }
  });

  test(
    "the graph has a box per process and an edge per connection, and its numbers move",
    {
      timeout: 60_000,
    },
    async () => {
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/#/flows/shop`,
      );
      try {
        await page.waitForFunction(
          (n) =>
            document.querySelectorAll('[data-testid="process-box"]').length ===
              n,
          PROCESSES,
          { timeout: 15_000 },
        );
        const names = await page.locator('[data-testid="process-box"]')
          .evaluateAll((els) => els.map((e) => e.getAttribute("data-process")));
        assert.deepEqual(
          names.sort(),
          ["Answer", "Count", "Drop", "In", "Log", "Order", "Pick", "Tick"],
        );
        assert.equal(await count(page, "edge"), EDGES);
        // The tick's connection delivers 5 a second: its count moves.
        const sel =
          '[data-testid="edge"][data-from="Tick.out"][data-to="Count.in"] [data-testid="conn-delivered"]';
        await page.locator(sel).waitFor({ timeout: 10_000 });
        const first = await numberIn(page, sel);
        await page.waitForFunction(
          ([s, n]) => {
            const t = document.querySelector(s as string)?.textContent ?? "";
            const m = /[\d,]+/.exec(t);
            return m !== null &&
              Number(m[0].replaceAll(",", "")) > (n as number);
          },
          [sel, first],
          { timeout: 10_000 },
        );
        assert.deepEqual(problems.errors, []);
      } finally {
        await close();
      }
    },
  );

  test("a chart of a process has points read from the history", {
    timeout: 60_000,
  }, async () => {
    const { page, problems, close } = await openPage(
      env.browser,
      `${env.server.url}/#/flows/shop`,
    );
    try {
      const box = page.locator(
        '[data-testid="process-box"][data-process="Count"]',
      );
      await box.waitFor({ timeout: 15_000 });
      await box.click();
      await page.locator('[data-testid="chart"]').first().waitFor({
        timeout: 15_000,
      });
      // uPlot draws on a canvas; the series it was given are on the
      // container (data-points, set by the page) once the query answered.
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('[data-testid="chart"]')].some((c) =>
            Number(c.getAttribute("data-points") ?? 0) > 0
          ),
        undefined,
        { timeout: 20_000 },
      );
      assert.deepEqual(problems.errors, []);
    } finally {
      await close();
    }
  });

  test(
    "the tap of a connection shows a message sent into the flow, and its output lines",
    {
      timeout: 60_000,
    },
    async () => {
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/#/flows/shop`,
      );
      try {
        const edge = page.locator(
          '[data-testid="edge"][data-from="Pick.out"][data-to="Log.in"]',
        );
        await edge.waitFor({ timeout: 15_000 });
        await edge.click();
        await page.locator('[data-testid="tap"]').click();
        // The tap is open once the server said what it taps.
        await page.waitForTimeout(1000);
        const marker = `order-${Date.now()}`;
        const res = await fetch(`${env.server.url}/in/shop/orders`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ item: marker }),
        });
        assert.equal(res.status, 202);
        await res.body?.cancel();
        // The message on the connection, and core/Output's line of it.
        await page.waitForFunction(
          (m) =>
            [...document.querySelectorAll('[data-testid="tap-row"]')].filter((
              r,
            ) => (r.textContent ?? "").includes(m as string)).length >= 2,
          marker,
          { timeout: 10_000 },
        );
        assert.deepEqual(problems.errors, []);
      } finally {
        await close();
      }
    },
  );

  test("a PromQL query draws its answer; a bad one shows the API's error", {
    timeout: 60_000,
  }, async () => {
    const { page, problems, close } = await openPage(
      env.browser,
      `${env.server.url}/#/query`,
    );
    try {
      const input = page.locator('[data-testid="query-input"]');
      await input.fill('weir_process_messages_total{flow="shop"}');
      await page.locator('[data-testid="query-run"]').click();
      await page.waitForFunction(
        () =>
          Number(
            document.querySelector('[data-testid="chart"]')?.getAttribute(
              "data-points",
            ) ?? 0,
          ) > 0,
        undefined,
        { timeout: 20_000 },
      );
      await input.fill("sum(");
      await page.locator('[data-testid="query-run"]').click();
      const error = page.locator('[data-testid="query-error"]');
      await error.waitFor({ timeout: 10_000 });
      assert.match(await error.textContent() ?? "", /parse|unexpected/i);
      // The API's 400 for the bad query is the one expected failure.
      assert.deepEqual(
        problems.errors.filter((e) => !/ 400 |status of 400/.test(e)),
        [],
      );
    } finally {
      await close();
    }
  });

  test(
    "names, messages and errors that hold HTML show as text, never as markup",
    {
      timeout: 60_000,
    },
    async () => {
      const res = await fetch(`${env.server.url}/flows`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(HOSTILE),
      });
      assert.equal(res.status, 201, await res.text());
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/#/flows/hostile`,
      );
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      try {
        await page.waitForFunction(
          () =>
            document.querySelectorAll('[data-testid="process-box"]').length ===
              4,
          undefined,
          { timeout: 15_000 },
        );
        // Each name is the box's text and attribute, as given.
        for (const name of Object.keys(HOSTILE.processes)) {
          const box = page.locator(
            `[data-testid="process-box"][data-process="${
              name.replaceAll('"', '\\"')
            }"]`,
          );
          assert.match(await box.textContent() ?? "", new RegExp(escape(name)));
        }
        await page.locator(
          `[data-testid="process-box"][data-process="${MAKER}"]`,
        )
          .click();
        assert.equal(await page.locator(".side h2").textContent(), MAKER);
        await page.locator(
          `[data-testid="edge"][data-from="${MAKER}.out"]`,
        ).click();
        await page.locator('[data-testid="tap"]').click();
        // The message on the connection and core/Output's line of it.
        await page.waitForFunction(
          (text) =>
            [...document.querySelectorAll('[data-testid="tap-row"]')].filter((
              r,
            ) => (r.textContent ?? "").includes(text as string)).length >= 2,
          MESSAGE,
          { timeout: 15_000 },
        );
        // The error events, in the strip under the header.
        await page.waitForFunction(
          (text) =>
            (document.querySelector("ul.errors")?.textContent ?? "").includes(
              text as string,
            ),
          ERROR,
          { timeout: 15_000 },
        );
        // (As text: these tests are type-checked without the DOM's types.)
        const made = await page.evaluate(`({
          img: document.querySelectorAll("img").length,
          i: document.querySelectorAll("main i").length,
          svg: document.querySelectorAll("main svg:not(.graph)").length,
          // <b> is the page's own only in the error strips (process names).
          b: [...document.querySelectorAll("main b")]
            .filter((b) => b.closest("ul.errors, ul.warnings") === null)
            .length,
        })`);
        assert.deepEqual(made, { img: 0, i: 0, svg: 0, b: 0 });
        assert.deepEqual(dialogs, []);
        assert.deepEqual(problems.errors, []);
      } finally {
        await close();
        const del = await fetch(`${env.server.url}/flows/hostile`, {
          method: "DELETE",
        });
        await del.body?.cancel();
      }
    },
  );

  test(
    "a process's warning shows in an amber strip with a warning badge, apart from the red strip of failures",
    { timeout: 60_000 },
    async () => {
      // mqtt/In to a port nobody listens on warns once (it tries again);
      // Fail fails every 200 ms.
      const port = await freePort();
      const res = await fetch(`${env.server.url}/flows?start=false`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: `# @name warned
'mqtt://127.0.0.1:${port}' -> broker In(mqtt/In)
'a/#' -> topic In
In out -> in Drop(core/Drop)
'200ms' -> interval Tick(core/Interval)
'$error("it failed")' -> expr Fail(flow/Map)
Tick out -> in Fail
`,
      });
      assert.equal(res.status, 201, await res.text());
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/`,
      );
      try {
        // The warning comes once: the page listens before the flow starts.
        const listening = page.waitForResponse((r) =>
          r.url().includes("/flows/warned/events")
        );
        await page.goto(`${env.server.url}/#/flows/warned`);
        await listening;
        const started = await fetch(`${env.server.url}/flows/warned/start`, {
          method: "POST",
        });
        assert.equal(started.status, 200, await started.text());
        const warnings = page.locator("ul.warnings li");
        const errors = page.locator("ul.errors li");
        await warnings.first().waitFor({ timeout: 15_000 });
        await errors.first().waitFor({ timeout: 15_000 });
        assert.equal(await warnings.count(), 1);
        const warning = warnings.first();
        assert.equal(await warning.getAttribute("data-level"), "warning");
        assert.equal(await warning.locator(".badge").textContent(), "warning");
        assert.match(
          await warning.textContent() ?? "",
          new RegExp(
            `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}warningIn process "In" \\(mqtt/In\\): retrying in 1 s \\(backing off up to 30 s\\): cannot connect to broker mqtt://127\\.0\\.0\\.1:${port}: `,
          ),
        );
        // Failures stay as they were: red strip, no badge, "failed".
        const failures = await errors.allTextContents();
        assert.ok(failures.length >= 1);
        for (const text of failures) {
          assert.match(text, /Fail process "Fail" failed on in-port "in": /);
        }
        assert.equal(await page.locator("ul.errors .badge").count(), 0);
        const colours = await page.evaluate(`[
          getComputedStyle(document.querySelector("ul.errors")).backgroundColor,
          getComputedStyle(document.querySelector("ul.warnings")).backgroundColor,
          getComputedStyle(document.querySelector("ul.warnings .badge")).backgroundColor,
        ]`) as string[];
        assert.notEqual(colours[0], colours[1]);
        // Amber: --warn (#c27c0e) and --warn-soft, not --bad (#d93036).
        assert.match(colours[1], /^rgba\(194, 124, 14, 0\.14\)$/);
        assert.equal(colours[2], "rgb(194, 124, 14)");
        assert.deepEqual(problems.errors, []);
      } finally {
        await close();
        const del = await fetch(`${env.server.url}/flows/warned`, {
          method: "DELETE",
        });
        await del.body?.cancel();
      }
    },
  );

  test(
    "a broker reached again after a warning shows as an info in the amber strip, with an info badge, never among the failures",
    { timeout: 60_000, skip: mosquittoSkip() },
    async () => {
      // A broker started and stopped: its port is known and nobody
      // listens there until it starts again.
      const broker = await startMosquitto();
      await broker.stop();
      const res = await fetch(`${env.server.url}/flows?start=false`, {
        method: "POST",
        headers: { "Content-Type": "text/vnd.fbp" },
        body: `# @name regained
'${broker.url}' -> broker In(mqtt/In)
'a/#' -> topic In
'200ms' -> reconnect In
In out -> in Drop(core/Drop)
`,
      });
      assert.equal(res.status, 201, await res.text());
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/`,
      );
      try {
        const listening = page.waitForResponse((r) =>
          r.url().includes("/flows/regained/events")
        );
        await page.goto(`${env.server.url}/#/flows/regained`);
        await listening;
        const started = await fetch(
          `${env.server.url}/flows/regained/start`,
          { method: "POST" },
        );
        assert.equal(started.status, 200, await started.text());
        const items = page.locator("ul.warnings li");
        await items.first().waitFor({ timeout: 15_000 });
        assert.equal(await items.first().getAttribute("data-level"), "warning");
        await broker.start();
        const info = page.locator('ul.warnings li[data-level="info"]');
        await info.first().waitFor({ timeout: 15_000 });
        assert.equal(await info.count(), 1);
        assert.equal(await info.locator(".badge").textContent(), "info");
        assert.match(
          await info.textContent() ?? "",
          new RegExp(
            `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}infoIn process "In" \\(mqtt/In\\): connected to broker mqtt://127\\.0\\.0\\.1:${broker.port} after \\d+ attempts? \\(down \\d`,
          ),
        );
        // Not "again": the flow had never reached it. The info is news, not
        // a failure: the red strip stays empty.
        assert.equal(await page.locator("ul.errors li").count(), 0);
        assert.deepEqual(problems.errors, []);
      } finally {
        await close();
        const del = await fetch(`${env.server.url}/flows/regained`, {
          method: "DELETE",
        });
        await del.body?.cancel();
        await broker.close();
      }
    },
  );

  test(
    "a flow deleted while its page is open: the page says so, stops counting its uptime and offers no start, stop or delete",
    { timeout: 60_000 },
    async () => {
      await postTicking(env.server.url, "gone");
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/`,
      );
      try {
        // Deleted once its live stream is open (a deletion before it opens
        // is the next test's case: the stream's request answers 404).
        const listening = page.waitForResponse((r) =>
          r.url().includes("/flows/gone/events")
        );
        await page.goto(`${env.server.url}/#/flows/gone`);
        assert.equal((await listening).status(), 200);
        const meta = page.locator(".flow-head .meta");
        await page.waitForFunction(
          () =>
            / up /.test(
              document.querySelector(".flow-head .meta")?.textContent ?? "",
            ),
          undefined,
          { timeout: 15_000 },
        );
        await page.locator('.flow-head [data-testid="stop"]').waitFor({
          timeout: 15_000,
        });
        assert.deepEqual(problems.errors, []);
        const del = await fetch(`${env.server.url}/flows/gone`, {
          method: "DELETE",
        });
        assert.equal(del.status, 204);
        await page.locator('[data-testid="flow-state"]', { hasText: "deleted" })
          .waitFor({ timeout: 15_000 });
        await page.locator(".flow-head .notice, .notice", {
          hasText: "This flow was deleted.",
        }).first().waitFor({ timeout: 5_000 });
        // The meta line is redrawn every second: long enough to see it.
        await page.waitForTimeout(1500);
        assert.doesNotMatch(await meta.textContent() ?? "", /\bup\b/);
        for (const b of ["start", "stop", "delete"]) {
          assert.equal(
            await page.locator(`.flow-head [data-testid="${b}"]`).isVisible(),
            false,
            `${b} offered for a deleted flow`,
          );
        }
        // The flow stops before it is gone: the page asks for the stopped
        // flow's info and the server, busy, may answer after the flow has
        // gone (404, which the page takes as the deletion it is). Nothing
        // else goes wrong.
        assert.deepEqual(
          problems.errors.filter((e) =>
            !/^response: 404 \S+\/flows\/gone$/.test(e) &&
            !/^console: Failed to load resource: the server responded with a status of 404/
              .test(e)
          ),
          [],
        );
      } finally {
        await close();
      }
    },
  );

  test(
    "a flow deleted after its page showed it and before its event stream opened: the page says deleted, not an error",
    { timeout: 60_000 },
    async () => {
      await postTicking(env.server.url, "gone2");
      const ctx = await newContext(env.browser);
      try {
        const page = await ctx.newPage();
        // The stream's request waits until the flow is gone: the page has
        // shown the flow, and its stream answers 404.
        await page.route("**/flows/gone2/events**", async (route) => {
          const del = await fetch(`${env.server.url}/flows/gone2`, {
            method: "DELETE",
          });
          await del.body?.cancel();
          await route.continue();
        });
        await page.goto(`${env.server.url}/#/flows/gone2`);
        await page.locator('[data-testid="flow-state"]', { hasText: "deleted" })
          .waitFor({ timeout: 15_000 });
        await page.locator(".notice", { hasText: "This flow was deleted." })
          .first().waitFor({ timeout: 5_000 });
        for (const b of ["start", "stop", "delete"]) {
          assert.equal(
            await page.locator(`.flow-head [data-testid="${b}"]`).isVisible(),
            false,
            `${b} offered for a deleted flow`,
          );
        }
      } finally {
        await ctx.close();
      }
    },
  );

  test(
    "a flow whose info answers 404 after the page showed it (a deletion under way): the page says deleted, not an error",
    { timeout: 60_000 },
    async () => {
      await postTicking(env.server.url, "gone3");
      const ctx = await newContext(env.browser);
      try {
        const page = await ctx.newPage();
        const listening = page.waitForResponse((r) =>
          r.url().includes("/flows/gone3/events")
        );
        await page.goto(`${env.server.url}/#/flows/gone3`);
        await listening;
        await page.locator('.flow-head [data-testid="stop"]').waitFor({
          timeout: 15_000,
        });
        // A deletion stops the flow before its "deleted" event: the page
        // asks for the stopped flow's info, which is gone by then.
        await page.route(
          "**/flows/gone3",
          (route) =>
            route.request().method() === "GET"
              ? route.fulfill({
                status: 404,
                json: { error: 'flow "gone3" not found' },
              })
              : route.continue(),
        );
        const stop = await fetch(`${env.server.url}/flows/gone3/stop`, {
          method: "POST",
        });
        assert.equal(stop.status, 200, await stop.text());
        await page.locator('[data-testid="flow-state"]', { hasText: "deleted" })
          .waitFor({ timeout: 15_000 });
        await page.locator(".notice", { hasText: "This flow was deleted." })
          .first().waitFor({ timeout: 5_000 });
        assert.equal(
          await page.locator(".notice", { hasText: "not found" }).count(),
          0,
        );
      } finally {
        await ctx.close();
        const del = await fetch(`${env.server.url}/flows/gone3`, {
          method: "DELETE",
        });
        await del.body?.cancel();
      }
    },
  );

  test(
    "a replace redraws the flow; a picked process it removed gives way to the flow's panel",
    {
      timeout: 60_000,
    },
    async () => {
      const put = async (sink: string) => {
        const res = await fetch(`${env.server.url}/flows/swap`, {
          method: "PUT",
          headers: { "Content-Type": "text/vnd.fbp" },
          body:
            `'200ms' -> interval T(core/Interval) out -> in ${sink}(core/Drop)\n`,
        });
        assert.ok(res.ok, await res.text());
      };
      await put("Old");
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/#/flows/swap`,
      );
      try {
        const old = page.locator(
          '[data-testid="process-box"][data-process="Old"]',
        );
        await old.click({ timeout: 15_000 });
        await page.locator(".side h2", { hasText: "Old" }).waitFor();
        await put("New");
        await page.locator('[data-testid="process-box"][data-process="New"]')
          .waitFor({ timeout: 15_000 });
        assert.equal(await old.count(), 0);
        await page.locator(".side h2", { hasText: "swap" }).waitFor({
          timeout: 5_000,
        });
        // The new network's numbers, from the next snapshots on.
        const sel =
          '[data-testid="edge"][data-to="New.in"] [data-testid="conn-delivered"]';
        await page.waitForFunction(
          (s) =>
            Number(document.querySelector(s as string)?.textContent ?? 0) > 0,
          sel,
          { timeout: 10_000 },
        );
        assert.doesNotMatch(
          (await page.locator('[data-testid="conn-rate"]').allTextContents())
            .join(" "),
          /-/,
        );
        assert.deepEqual(problems.errors, []);
      } finally {
        await close();
        const del = await fetch(`${env.server.url}/flows/swap`, {
          method: "DELETE",
        });
        await del.body?.cancel();
      }
    },
  );

  test("the flows list refreshes in place: a focused button keeps the focus", {
    timeout: 60_000,
  }, async () => {
    const { page, problems, close } = await openPage(
      env.browser,
      `${env.server.url}/`,
    );
    try {
      const del = page.locator(
        '[data-testid="flow-row"][data-flow="shop"] [data-testid="delete"]',
      );
      await del.waitFor({ timeout: 15_000 });
      await del.focus();
      // Two refreshes of the list later (every 3 s): the second is asked
      // once the page has drawn the first.
      for (let i = 0; i < 2; i++) {
        await page.waitForRequest((r) =>
          new URL(r.url()).pathname === "/flows"
        );
      }
      assert.equal(
        await page.evaluate(
          `document.activeElement?.getAttribute("data-testid") ?? null`,
        ),
        "delete",
      );
      assert.deepEqual(problems.errors, []);
    } finally {
      await close();
    }
  });

  test("a failed flow shows why in the list, and Start to try again", {
    timeout: 60_000,
  }, async () => {
    const ctx = await env.browser.newContext();
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    // The server's list, with one flow that failed to start.
    await page.route(`${env.server.url}/flows`, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      body.flows.push({
        ...body.flows[0],
        id: "broken",
        running: true,
        state: "failed",
        startedAt: undefined,
        error: "it did not start: <b>cannot open</b> /dev/ttyUSB0",
      });
      await route.fulfill({ response: res, json: body });
    });
    try {
      await page.goto(`${env.server.url}/`);
      const row = page.locator('[data-testid="flow-row"][data-flow="broken"]');
      await row.waitFor({ timeout: 15_000 });
      assert.equal(
        await row.locator('[data-testid="flow-error"]').textContent(),
        "it did not start: <b>cannot open</b> /dev/ttyUSB0",
      );
      assert.ok(await row.locator('[data-testid="flow-error"]').isVisible());
      assert.ok(await row.locator('[data-testid="start"]').isVisible());
      assert.ok(await row.locator('[data-testid="stop"]').isVisible());
      // A running flow offers Stop only.
      const shop = page.locator('[data-testid="flow-row"][data-flow="shop"]');
      assert.ok(!await shop.locator('[data-testid="start"]').isVisible());
      assert.ok(!await shop.locator('[data-testid="flow-error"]').isVisible());
      assert.deepEqual(problems.errors, []);
    } finally {
      await ctx.close();
    }
  });
});

describe("the dashboard without a history", { skip }, () => {
  const env = dashboardServer("weir-dashboard-no-history-", ["--no-history"]);

  test(
    "the charts say the history is off without asking the query API (GET /ui/access says so): no console error",
    {
      timeout: 60_000,
    },
    async () => {
      const { page, problems, close } = await openPage(
        env.browser,
        `${env.server.url}/#/flows/shop`,
      );
      try {
        const off = () =>
          page.waitForFunction(
            () => {
              const charts = document.querySelectorAll('[data-testid="chart"]');
              return charts.length > 0 &&
                [...charts].every((c) =>
                  /history is off/.test(c.textContent ?? "")
                );
            },
            undefined,
            { timeout: 15_000 },
          );
        await off();
        await page.locator('[data-testid="process-box"][data-process="Count"]')
          .click();
        await off();
        await page.evaluate(() => location.hash = "#/resources");
        await off();
        await page.evaluate(() => location.hash = "#/");
        const note = page.getByText("History is off on this server");
        await note.waitFor({ timeout: 15_000 });
        // It stays while the list refreshes (every 3 s).
        await page.evaluate(`{
          const el = [...document.querySelectorAll(".notice")]
            .find((n) => /History is off/.test(n.textContent));
          new MutationObserver(() => {
            if (el.hidden) globalThis.noteHid = true;
          }).observe(el, { attributes: true });
        }`);
        // The second reload is asked once the page has drawn the first.
        for (let i = 0; i < 2; i++) {
          await page.waitForRequest((r) =>
            new URL(r.url()).pathname === "/flows"
          );
        }
        assert.equal(await page.evaluate("globalThis.noteHid ?? false"), false);
        // /ui/access said there is no history: the query API is never asked.
        assert.deepEqual(problems.errors, []);
      } finally {
        await close();
      }
    },
  );
});

describe("the dashboard with tokens", { skip }, () => {
  const env = dashboardServer("weir-dashboard-tokens-", [
    "--token",
    TOKEN,
    "--token",
    `read:${READ_TOKEN}`,
    "--token",
    `metrics:${METRICS_TOKEN}`,
  ], TOKEN);

  /** 401s before the token is given are the page asking: expected. */
  const unexpected = (p: PageProblems) =>
    p.errors.filter((e) => !/ 401 |status of 401/.test(e));

  test(
    "the page asks for a token, sends it as a bearer header, never in a URL, and can then stop a flow",
    {
      timeout: 60_000,
    },
    async () => {
      const ctx = await env.browser.newContext();
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      const urls: string[] = [];
      const bearer: string[] = [];
      page.on("request", (r) => {
        urls.push(r.url());
        const auth = r.headers()["authorization"];
        if (auth !== undefined) bearer.push(auth);
      });
      try {
        await page.goto(`${env.server.url}/`);
        const input = page.locator('[data-testid="token-input"]');
        await input.waitFor({ timeout: 15_000 });
        await input.fill(TOKEN);
        await page.locator('[data-testid="token-submit"]').click();
        const row = page.locator('[data-testid="flow-row"][data-flow="shop"]');
        await row.waitFor({ timeout: 15_000 });
        await row.locator('[data-testid="stop"]').click();
        await page.waitForFunction(
          () =>
            /stopped|finished/.test(
              document.querySelector(
                '[data-testid="flow-row"][data-flow="shop"]',
              )
                ?.textContent ?? "",
            ),
          undefined,
          { timeout: 15_000 },
        );
        const info = await (await fetch(`${env.server.url}/flows/shop`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
        })).json();
        assert.equal(info.running, false);
        assert.ok(bearer.includes(`Bearer ${TOKEN}`));
        assert.deepEqual(urls.filter((u) => u.includes(TOKEN)), []);
        assert.deepEqual(unexpected(problems), []);
      } finally {
        await ctx.close();
      }
    },
  );

  test(
    "a token refused mid-session shows the form again and closes the streams; the token given brings the page back",
    {
      timeout: 60_000,
    },
    async () => {
      const ctx = await env.browser.newContext();
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      const streams = new Set<string>();
      page.on("request", (r) => {
        if (/\/(events|tap)\b/.test(r.url())) streams.add(r.url());
      });
      const ended = (r: { url(): string }) => streams.delete(r.url());
      page.on("requestfinished", ended);
      page.on("requestfailed", ended);
      try {
        await page.goto(`${env.server.url}/#/flows/shop`);
        const input = page.locator('[data-testid="token-input"]');
        await input.fill(TOKEN, { timeout: 15_000 });
        await page.locator('[data-testid="token-submit"]').click();
        await page.locator('[data-testid="tap-output"]').click({
          timeout: 15_000,
        });
        await page.waitForFunction(
          () =>
            /live/.test(
              document.querySelector(".tap-status")?.textContent ?? "",
            ),
          undefined,
          { timeout: 10_000 },
        );
        // The flow's event stream may open after the tap says live (or
        // be reopened meanwhile on a loaded machine): wait for both.
        await eventually(
          () => Promise.resolve(streams.size === 2),
          "the page's two streams (/events and /tap) open",
          15_000,
        );
        // The server no longer takes the tab's token (as after a restart
        // with other tokens): the next request is refused.
        await page.evaluate(
          `sessionStorage.setItem("weir.token", "revoked-token-0123456789")`,
        );
        await page.locator('[data-testid="token-error"]').waitFor({
          timeout: 15_000,
        });
        assert.match(
          await page.locator('[data-testid="token-error"]').textContent() ?? "",
          /refused/,
        );
        assert.equal(
          await page.evaluate(`sessionStorage.getItem("weir.token")`),
          null,
        );
        await page.waitForFunction(
          () => document.querySelector('[data-testid="flow-view"]') === null,
        );
        assert.deepEqual([...streams], []);
        await input.fill(TOKEN);
        await page.locator('[data-testid="token-submit"]').click();
        await page.locator('[data-testid="process-box"]').first().waitFor({
          timeout: 15_000,
        });
        assert.deepEqual(unexpected(problems), []);
      } finally {
        await ctx.close();
      }
    },
  );

  test(
    "a token without the read scope is not taken: the form says the scope it lacks",
    {
      timeout: 60_000,
    },
    async () => {
      const ctx = await env.browser.newContext();
      const page = await ctx.newPage();
      try {
        await page.goto(`${env.server.url}/`);
        const input = page.locator('[data-testid="token-input"]');
        await input.waitFor({ timeout: 15_000 });
        await input.fill(METRICS_TOKEN);
        await page.locator('[data-testid="token-submit"]').click();
        const error = page.locator('[data-testid="token-error"]');
        await error.waitFor({ timeout: 15_000 });
        assert.match(await error.textContent() ?? "", /lacks the "read" scope/);
        assert.equal(
          await page.evaluate(`sessionStorage.getItem("weir.token")`),
          null,
        );
        assert.equal(await page.locator('[data-testid="flows"]').count(), 0);
        // Kept in the tab from before, it is dropped at load, saying why.
        await page.evaluate(
          `sessionStorage.setItem("weir.token", ${
            JSON.stringify(METRICS_TOKEN)
          })`,
        );
        await page.reload();
        await error.waitFor({ timeout: 15_000 });
        assert.match(await error.textContent() ?? "", /lacks the "read" scope/);
        assert.doesNotMatch(
          await page.locator("#session").textContent() ?? "",
          /read only/,
        );
        assert.equal(
          await page.evaluate(`sessionStorage.getItem("weir.token")`),
          null,
        );
      } finally {
        await ctx.close();
      }
    },
  );

  test("with a read-only token the page shows the flows and offers no change", {
    timeout: 60_000,
  }, async () => {
    const ctx = await env.browser.newContext();
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    try {
      await page.goto(`${env.server.url}/`);
      const input = page.locator('[data-testid="token-input"]');
      await input.waitFor({ timeout: 15_000 });
      await input.fill(READ_TOKEN);
      await page.locator('[data-testid="token-submit"]').click();
      const row = page.locator('[data-testid="flow-row"][data-flow="shop"]');
      await row.waitFor({ timeout: 15_000 });
      for (const b of ["start", "stop", "delete"]) {
        const buttons = row.locator(`[data-testid="${b}"]`);
        for (let i = 0; i < await buttons.count(); i++) {
          const button = buttons.nth(i);
          assert.ok(
            !await button.isVisible() || await button.isDisabled(),
            `${b} offered to a read-only token`,
          );
        }
      }
      // And the server agrees: the token cannot stop the flow.
      const res = await fetch(`${env.server.url}/flows/shop/stop`, {
        method: "POST",
        headers: { Authorization: `Bearer ${READ_TOKEN}` },
      });
      assert.equal(res.status, 403);
      await res.body?.cancel();
      assert.deepEqual(unexpected(problems), []);
    } finally {
      await ctx.close();
    }
  });
});

/** A flow of built-ins that needs no server of weir's (no http/In). */
const TICKER = `# @name ticker
'200ms' -> interval Tick(core/Interval)
Tick out -> in Count(flow/Counter) out -> in Drop(core/Drop)
`;

describe(
  "the dashboard of flowApp mounted under a path in an app",
  { skip },
  () => {
    test(
      "opens at the path, lists the flows and draws the graph from the API under it",
      { timeout: 60_000 },
      async () => {
        const metrics = new MetricsCollector();
        const components = builtins();
        const flows = new FlowManager({
          store: FlowStore.open(":memory:"),
          registry: components,
          collector: metrics,
          log: () => {},
        });
        const closing = new AbortController();
        const app = new Hono();
        app.get("/", (c) => c.text("the app's own page"));
        app.route(
          "/weir",
          flowApp({ flows, metrics, components, signal: closing.signal }),
        );
        const server = await serve(app.fetch, {
          hostname: "127.0.0.1",
          port: 0,
        });
        const browser = await launchChromium();
        try {
          await flows.create({ text: TICKER, format: "fbp" });
          const { page, problems, close } = await openPage(
            browser,
            `${server.url}/weir`,
          );
          try {
            const row = page.locator(
              '[data-testid="flow-row"][data-flow="ticker"]',
            );
            await row.waitFor({ timeout: 15_000 });
            assert.match(await row.textContent() ?? "", /running/);
            await row.locator("a.flow-link").click();
            // The graph and its live numbers come from the flow's stats and
            // event stream under /weir.
            await page.waitForFunction(
              (n) =>
                document.querySelectorAll('[data-testid="process-box"]')
                  .length === n,
              3,
              { timeout: 15_000 },
            );
            assert.equal(await count(page, "edge"), 2);
            const sel =
              '[data-testid="edge"][data-from="Tick.out"][data-to="Count.in"] [data-testid="conn-delivered"]';
            await page.waitForFunction(
              (s) => /[1-9]/.test(document.querySelector(s)?.textContent ?? ""),
              sel,
              { timeout: 15_000 },
            );
            assert.deepEqual(problems.errors, []);
          } finally {
            await close();
          }
        } finally {
          await browser.close();
          closing.abort();
          await server.close();
          await flows.close();
        }
      },
    );
  },
);
