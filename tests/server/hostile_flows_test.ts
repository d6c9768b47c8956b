/**
 * Issue 18's "How to check", through the flow API: a capacity of 1e9 (it
 * took a server to 2 GB) is refused by a real `weir serve` and its memory
 * does not move; a stop with a short timeout while 1,000 messages wait
 * inside a core/Delay answers `discarded` with every one of them
 * (delivered plus discarded equals sent; it answered 11).
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { killLeftovers, startServe } from "../cli/_weir.ts";
import { until } from "../engine/_helpers.ts";
import { body, fbp, setup } from "./_flow_api.ts";

const MiB = 1024 * 1024;

function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

test(
  "weir serve refuses a capacity of 1e9 and a defaultCapacity of 1e8 over 5 connections with 400, and its RSS does not grow",
  {
    timeout: 60_000,
  },
  async () => {
    const w = await startServe(["--listen", "127.0.0.1:0", "--db", ":memory:"]);
    const pid = w.child.pid!;
    try {
      const before = rss(pid);
      const arrow = await fetch(`${w.url}/flows/big`, {
        method: "PUT",
        headers: { "Content-Type": "text/vnd.fbp" },
        body:
          "'1s' -> interval Tick(core/Interval) out -> (1000000000) in Out(core/Drop)\n",
      });
      assert.equal(arrow.status, 400);
      assert.match(
        JSON.stringify(await arrow.json()),
        /capacity must be a positive integer up to 100000/,
      );
      const processes: Record<string, { component: string }> = {
        Tick: { component: "core/Interval" },
      };
      const connections: unknown[] = [{
        data: "1s",
        tgt: { process: "Tick", port: "interval" },
      }];
      let from = "Tick";
      for (let i = 0; i < 5; i++) {
        processes[`R${i}`] = { component: "core/Repeat" };
        connections.push({
          src: { process: from, port: "out" },
          tgt: { process: `R${i}`, port: "in" },
        });
        from = `R${i}`;
      }
      const graph = await fetch(`${w.url}/flows/wide`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          properties: { defaultCapacity: 1e8 },
          processes,
          connections,
        }),
      });
      assert.equal(graph.status, 400);
      assert.match(
        JSON.stringify(await graph.json()),
        /defaultCapacity must be a positive integer up to 100000/,
      );
      const list = await (await fetch(`${w.url}/flows`)).json();
      assert.deepEqual(list.flows, []);
      const after = rss(pid);
      console.log(
        `RSS of weir serve around the refused capacities: ${
          (before / MiB).toFixed(0)
        } MB -> ${(after / MiB).toFixed(0)} MB`,
      );
      // 1e9 slots would be gigabytes; a refusal is a few small allocations.
      assert.ok(
        after - before < 64 * MiB,
        `RSS grew ${((after - before) / MiB).toFixed(0)} MB`,
      );
    } finally {
      process.kill(pid, "SIGTERM");
      await w.exited;
      killLeftovers();
    }
  },
);

test(
  "POST /flows/:id/stop?timeout=100 with 1,000 messages inside a core/Delay answers discarded 1000: delivered plus discarded equals sent",
  {
    timeout: 60_000,
  },
  async () => {
    const s = setup();
    try {
      const put = await s.app.request(
        "/flows/d",
        fbp(
          "'1' -> interval Tick(core/Interval)\n'1000' -> count Tick\n'1h' -> delay D(core/Delay)\nTick out -> in D out -> in K(core/Drop)\n",
          "PUT",
        ),
      );
      assert.equal(put.status, 201, await put.text());
      type P = {
        name: string;
        activeActivations: number;
        messagesIn: Record<string, number>;
        messagesOut: Record<string, number>;
        drops: Record<string, number>;
      };
      const proc = (stats: { processes: P[] }, name: string) =>
        stats.processes.find((p) => p.name === name)!;
      let stats = s.flows.stats("d") as unknown as { processes: P[] };
      await until(() => {
        stats = s.flows.stats("d") as unknown as { processes: P[] };
        return proc(stats, "D").activeActivations === 1000;
      }, 30_000);
      const stop = await s.app.request("/flows/d/stop?timeout=100", {
        method: "POST",
      });
      assert.equal(stop.status, 200);
      const answer = await body(stop);
      assert.equal(answer.drained, false);
      assert.equal(answer.discarded, 1000);
      const after = s.flows.stats("d") as unknown as { processes: P[] };
      const sent = proc(after, "Tick").messagesOut.out;
      const delivered = proc(after, "K").messagesIn.in ?? 0;
      assert.equal(sent, 1000);
      assert.equal(delivered + Number(answer.discarded), sent);
      assert.equal(proc(after, "D").drops.stopped, 1000);
    } finally {
      await s.close();
    }
  },
);
