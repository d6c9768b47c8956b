import assert from "node:assert/strict";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  countOpenFds,
  countOwnTcpSockets,
  parseNetDev,
  procResourceReads,
  readMaxFds,
  readNetDev,
  readProcText,
  readStartTime,
  readThreads,
} from "../../src/runtime/proc.ts";

const notLinux = process.platform !== "linux" && "needs Linux's /proc";

/** The open descriptors, read independently of proc.ts. */
function fdsNow(): number {
  return readdirSync("/proc/self/fd").length - 1;
}

test("parseNetDev sums received and sent bytes over every interface", () => {
  const text =
    "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
    "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n" +
    "  eth0: 987654321  12345    0    0    0     0          0         0 12345678    1234    0    0    0     0       0          0\n" +
    "  bad: 1 2\n";
  assert.deepEqual(parseNetDev(text), {
    receiveBytes: 987655321,
    transmitBytes: 12346678,
  });
  assert.deepEqual(parseNetDev(""), { receiveBytes: 0, transmitBytes: 0 });
});

test("readProcText reads a /proc/net/tcp of many pages whole", {
  skip: notLinux,
}, async () => {
  // 100 listening sockets: about 15 KiB of rows, so several reads.
  const servers = await Promise.all(
    Array.from(
      { length: 100 },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const server = createServer();
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  try {
    const ports = servers.map((s) =>
      (s.address() as { port: number }).port.toString(16).toUpperCase()
        .padStart(4, "0")
    );
    const text = readProcText("/proc/net/tcp");
    assert.ok(text !== null && text.length > 3 * 4096, `${text?.length}`);
    const listening = new Set(
      text.split("\n").filter((l) => / 0A /.test(l)).map((l) =>
        l.trim().split(/\s+/)[1].split(":")[1]
      ),
    );
    for (const port of ports) assert.ok(listening.has(port), port);
  } finally {
    for (const s of servers) s.close();
  }
});

test("readProcText reads a file larger than its buffer, and gives null for a missing one", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-proc-"));
  try {
    const big = "0123456789abcdef\n".repeat(10_000); // 170,000 bytes
    writeFileSync(join(dir, "big"), big);
    assert.equal(readProcText(join(dir, "big")), big);
    assert.equal(readProcText(join(dir, "missing")), null);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("procResourceReads is empty off Linux, so those metrics are left out", () => {
  assert.deepEqual(procResourceReads("darwin"), {});
  assert.deepEqual(procResourceReads("win32"), {});
});

test("readThreads agrees with Threads: of /proc/self/status", {
  skip: notLinux,
}, () => {
  const text = readFileSync("/proc/self/status", "utf8");
  const threads = Number(/^Threads:\s+(\d+)/m.exec(text)![1]);
  assert.equal(readThreads(), threads);
});

test("countOpenFds rises by 50 when 50 files are opened, and falls back", {
  skip: notLinux,
}, () => {
  const before = countOpenFds();
  assert.equal(before, fdsNow());
  const fds: number[] = [];
  try {
    for (let i = 0; i < 50; i++) fds.push(openSync("/dev/null", "r"));
    const during = countOpenFds();
    assert.ok(during !== null && before !== null);
    assert.equal(during, fdsNow());
    assert.ok(during - before >= 50, `${before} -> ${during}`);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  assert.ok(countOpenFds()! < before! + 50);
});

test("readMaxFds is the soft limit of /proc/self/limits", {
  skip: notLinux,
}, () => {
  const text = readFileSync("/proc/self/limits", "utf8");
  const soft = Number(/^Max open files\s+(\d+)/m.exec(text)![1]);
  assert.equal(readMaxFds(), soft);
});

test("readNetDev counts the loopback bytes of /proc/self/net/dev", {
  skip: notLinux,
}, () => {
  const net = readNetDev();
  assert.ok(net !== null);
  const lo = /^\s*lo:\s*(\d+)(?:\s+\d+){7}\s+(\d+)/m.exec(
    readFileSync("/proc/self/net/dev", "utf8"),
  );
  if (lo !== null) {
    // Every interface is summed, loopback included.
    assert.ok(net.receiveBytes >= Number(lo[1]));
    assert.ok(net.transmitBytes >= Number(lo[2]));
  }
});

test("readStartTime is when this process started", { skip: notLinux }, () => {
  const started = readStartTime();
  assert.ok(started !== null);
  // Independently: now, less the time since boot, plus the process's start
  // in ticks since boot. (Not the runtime's timeOrigin: a paused VM moves
  // the wall clock against the boot clock.)
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const stat = readFileSync("/proc/self/stat", "utf8");
  const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const expected = Date.now() / 1000 - uptime + ticks / 100;
  assert.ok(
    Math.abs(started - expected) < 5,
    `start ${started}, from /proc/uptime ${expected}`,
  );
});

test("countOwnTcpSockets counts this process's listening socket", {
  skip: notLinux,
}, async () => {
  const before = countOwnTcpSockets();
  assert.ok(before !== null);
  assert.equal(before.established >= 0, true);
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const during = countOwnTcpSockets()!;
    assert.equal(during.listen, before.listen + 1);
  } finally {
    await new Promise((r) => server.close(r));
  }
  assert.equal(countOwnTcpSockets()!.listen, before.listen);
});
