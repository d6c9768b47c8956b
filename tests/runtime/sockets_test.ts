import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { endianness, tmpdir } from "node:os";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import {
  parseProcNetTcp,
  readOwnTcpSockets,
  TCP_STATES,
  type TcpSocket,
} from "../../src/runtime/sockets.ts";
import { until } from "../engine/_helpers.ts";

const onLinux = process.platform === "linux";
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const SOCKETS = join(
  import.meta.dirname!,
  "..",
  "..",
  "src",
  "runtime",
  "sockets.ts",
);

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

test(
  "parseProcNetTcp() reads IPv4 rows: state, addresses, ports, inode",
  { skip: endianness() !== "LE" && "the rows below are little-endian" },
  () => {
    const text = HEADER +
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n" +
      "   1: 0100007F:1F90 0101A8C0:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 0 20 4 30 10 -1\n" +
      "   2: 0100007F:1F90 0101A8C0:D432 06 00000000:00000000 03:00000F2A 00000000     0        0 0 3 0\n";
    assert.deepEqual(parseProcNetTcp(text, 4), [
      {
        state: "listen",
        localAddress: "127.0.0.1",
        localPort: 8080,
        remoteAddress: "0.0.0.0",
        remotePort: 0,
        inode: 4242,
      },
      {
        state: "established",
        localAddress: "127.0.0.1",
        localPort: 8080,
        remoteAddress: "192.168.1.1",
        remotePort: 54321,
        inode: 4243,
      },
      {
        state: "time_wait",
        localAddress: "127.0.0.1",
        localPort: 8080,
        remoteAddress: "192.168.1.1",
        remotePort: 54322,
        inode: 0,
      },
    ]);
  },
);

test(
  "parseProcNetTcp() reads IPv6 rows, IPv4-mapped ones too, as compressed text",
  { skip: endianness() !== "LE" && "the rows below are little-endian" },
  () => {
    const text = HEADER +
      "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 7 1 0\n" +
      "   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:9C40 08 00000000:00000000 00:00000000 00000000  1000        0 8 1 0\n" +
      "   2: 000080FE000000002AFEFF02A4C0E9FE:0016 B80D0120000000000000000001000000:C350 0B 00000000:00000000 00:00000000 00000000  1000        0 9 1 0\n";
    const rows = parseProcNetTcp(text, 6);
    assert.deepEqual(
      rows.map((
        s,
      ) => [
        s.state,
        s.localAddress,
        s.localPort,
        s.remoteAddress,
        s.remotePort,
        s.inode,
      ]),
      [
        ["listen", "::1", 8080, "::", 0, 7],
        ["close_wait", "::ffff:127.0.0.1", 8080, "::ffff:127.0.0.1", 40000, 8],
        ["closing", "fe80::2ff:fe2a:fee9:c0a4", 22, "2001:db8::1", 50000, 9],
      ],
    );
  },
);

test("parseProcNetTcp() skips rows it cannot read and refuses a bad family", () => {
  assert.deepEqual(parseProcNetTcp("", 4), []);
  assert.deepEqual(parseProcNetTcp(HEADER + "garbage\n   0: x y\n", 4), []);
  assert.throws(
    () => parseProcNetTcp(HEADER, 5 as 4),
    /^RangeError: Cannot parse \/proc\/net\/tcp: family must be 4 or 6, received 5$/,
  );
});

test("TCP_STATES lists the kernel's states in the order of their numbers", () => {
  assert.equal(TCP_STATES.length, 12);
  assert.equal(TCP_STATES[0x01 - 1], "established");
  assert.equal(TCP_STATES[0x06 - 1], "time_wait");
  assert.equal(TCP_STATES[0x0A - 1], "listen");
});

/** Listens on 127.0.0.1 with node:net; keeps the accepted sockets. */
async function listen(): Promise<{ server: Server; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => accepted.push(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, accepted };
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

function mine(port: number): TcpSocket[] {
  const sockets = readOwnTcpSockets();
  assert.ok(sockets !== null, "/proc is readable here");
  return sockets.filter((s) => s.localPort === port || s.remotePort === port);
}

test(
  "readOwnTcpSockets() lists this process's listening socket and both ends of a connection, and drops them once closed",
  { skip: !onLinux && "needs Linux /proc", timeout: 30_000 },
  async () => {
    const { server, accepted } = await listen();
    const port = portOf(server);
    try {
      const listening = mine(port).filter((s) => s.state === "listen");
      assert.equal(listening.length, 1);
      assert.equal(listening[0].localAddress, "127.0.0.1");
      assert.ok(listening[0].inode > 0);

      const client = connect(port, "127.0.0.1");
      await once(client, "connect");
      await until(() => accepted.length === 1, 10_000);
      const clientPort = client.localPort!;
      const ends = mine(port).filter((s) => s.state === "established");
      // The server's end (local port = the server's) and the client's.
      assert.deepEqual(
        ends.map((s) => [s.localPort, s.remotePort]).sort((a, b) =>
          a[0] - b[0]
        ),
        [[port, clientPort], [clientPort, port]].sort((a, b) => a[0] - b[0]),
      );
      assert.ok(ends.every((s) => s.remoteAddress === "127.0.0.1"));
      assert.notEqual(ends[0].inode, ends[1].inode);

      client.destroy();
      accepted[0].destroy();
      await until(
        () => mine(port).every((s) => s.state === "listen"),
        10_000,
      );
    } finally {
      for (const s of accepted) s.destroy();
      server.close();
    }
    assert.deepEqual(mine(port), []);
  },
);

test(
  "readOwnTcpSockets() leaves out sockets of other processes",
  { skip: !onLinux && "needs Linux /proc", timeout: 30_000 },
  async () => {
    // A child process listens; its socket is in /proc/net/tcp but not ours.
    const script =
      `import { createServer } from "node:net"; const s = createServer().listen(0, "127.0.0.1", () => console.log(s.address().port));`;
    const child = spawn(
      process.execPath,
      isDeno ? ["eval", script] : ["-e", script],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (c) => out += c);
      await until(() => /\d+\n/.test(out), 20_000);
      const port = Number(out.trim());
      const everyone = parseProcNetTcp(
        readFileSync("/proc/net/tcp", "latin1"),
        4,
      );
      assert.ok(
        everyone.some((s) => s.localPort === port && s.state === "listen"),
        "the child's socket is in /proc/net/tcp",
      );
      assert.deepEqual(mine(port), []);
    } finally {
      child.kill();
    }
  },
);

test(
  "readOwnTcpSockets() is null on Deno without permission to read /proc",
  { skip: (!isDeno || !onLinux) && "Deno's permissions", timeout: 30_000 },
  async () => {
    // A script of its own: `deno eval` would grant every permission.
    const dir = mkdtempSync(join(tmpdir(), "weir-sockets-"));
    const script = join(dir, "read.ts");
    writeFileSync(
      script,
      `import { readOwnTcpSockets } from ${
        JSON.stringify(pathToFileURL(SOCKETS).href)
      };\nconsole.log(JSON.stringify(readOwnTcpSockets()));\n`,
    );
    // Deno's node:child_process adds -A to a Deno child given no permission
    // flag at all (as Node.js has no permissions): give it one harmless one.
    const child = spawn(process.execPath, [
      "run",
      "--no-prompt",
      "--allow-env",
      script,
    ], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.on("close", () => rmSync(dir, { recursive: true, force: true }));
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (c) => out += c);
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (c) => err += c);
    const [code] = await once(child, "close");
    assert.equal(code, 0, err);
    assert.equal(out.trim(), "null");
  },
);
