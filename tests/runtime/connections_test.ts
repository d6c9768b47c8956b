/**
 * Connection tracking over real sockets: keep-alive clients open and close
 * connections to a served app, and `server.connections` must see them come
 * and go, with ages consistent with how long they were held. Counts are
 * cross-checked against a read of /proc/net/tcp made here.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import process from "node:process";
import { ConnectionTracker } from "../../src/runtime/connections.ts";
import { serve } from "../../src/runtime/serve.ts";
import type { TcpSocket } from "../../src/runtime/sockets.ts";
import { sleep, until } from "../engine/_helpers.ts";

const onLinux = process.platform === "linux";
const LINUX = { skip: !onLinux && "needs Linux /proc", timeout: 60_000 };

/** A keep-alive client connection that has had one response. */
interface Client {
  socket: Socket;
  /** When the connection was made (ms, performance.now()). */
  openedAt: number;
}

/** Opens a connection to `port` and has one request answered on it. */
async function keepAlive(port: number): Promise<Client> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  const openedAt = performance.now();
  let got = "";
  socket.setEncoding("utf8").on("data", (chunk) => got += chunk);
  socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  await until(() => got.endsWith("\r\n\r\nok"), 20_000);
  assert.match(got, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(got, /connection: close/i);
  return { socket, openedAt };
}

/** Closes the client side; resolves once the socket is closed. */
async function hangUp(client: Client): Promise<number> {
  client.socket.end();
  client.socket.destroy();
  if (!client.socket.closed) await once(client.socket, "close");
  return performance.now();
}

/**
 * The established connections to local port `port` in the whole network
 * namespace, read from /proc/net/tcp{,6} by this test's own parsing (no
 * file-descriptor join): the server is the only listener on the port, so
 * these are its connections.
 */
function establishedOnPort(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let n = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const lines = readFileSync(file, "latin1").split("\n").slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && f[1].endsWith(`:${hexPort}`) && f[3] === "01") n++;
    }
  }
  return n;
}

test(
  "server.connections.open() counts keep-alive connections as they open and close",
  LINUX,
  async () => {
    await using server = await serve(() => new Response("ok"));
    const connections = server.connections;
    assert.equal(connections.open(), 0);
    const clients: Client[] = [];
    for (let i = 0; i < 5; i++) clients.push(await keepAlive(server.port));
    // Each client is answered, so its connection has been accepted.
    assert.equal(connections.open(), 5);
    assert.equal(establishedOnPort(server.port), 5);

    await hangUp(clients[0]);
    await hangUp(clients[1]);
    await until(() => connections.open() === 3, 20_000);
    assert.equal(establishedOnPort(server.port), 3);

    for (const c of clients.slice(2)) await hangUp(c);
    await until(() => connections.open() === 0, 20_000);
    assert.equal(establishedOnPort(server.port), 0);
  },
);

test(
  "server.connections reports each closed connection's age, consistent with how long it was held",
  LINUX,
  async () => {
    await using server = await serve(() => new Response("ok"));
    const ages: number[] = [];
    const stop = server.connections.onClose((age) => ages.push(age));
    try {
      const clients: Client[] = [];
      for (let i = 0; i < 4; i++) clients.push(await keepAlive(server.port));
      const held: number[] = [];
      // Held for different times: about 0.2 s, 0.6 s, 1.0 s and 1.4 s.
      for (let i = 0; i < clients.length; i++) {
        await sleep(i === 0 ? 200 : 400);
        const closedAt = await hangUp(clients[i]);
        held.push((closedAt - clients[i].openedAt) / 1000);
      }
      // Seen by the tracker's own interval: nobody reads open() here.
      await until(() => ages.length === 4, 20_000);
      ages.sort((a, b) => a - b);
      for (let i = 0; i < 4; i++) {
        // Dated from the first request (just after the connect), closed
        // at the first read after the hang-up: the tracker reads every
        // 500 ms; the slack on top is for a loaded machine.
        assert.ok(
          ages[i] >= held[i] - 0.1 && ages[i] <= held[i] + 0.5 + 2,
          `connection ${i}: age ${ages[i]} s, held ${held[i]} s`,
        );
      }
      const sum = ages.reduce((a, b) => a + b, 0);
      const heldSum = held.reduce((a, b) => a + b, 0);
      assert.ok(sum >= heldSum - 0.4, `ages ${sum} s, held ${heldSum} s`);
      assert.equal(server.connections.open(), 0);
      assert.equal(ages.length, 4, "each close is reported once");
    } finally {
      stop();
    }
  },
);

test(
  "server.connections counts a connection that opened and closed between two reads, through its request",
  LINUX,
  async () => {
    await using server = await serve(() => new Response("ok"));
    const ages: number[] = [];
    const stop = server.connections.onClose((age) => ages.push(age));
    try {
      for (let i = 0; i < 3; i++) await hangUp(await keepAlive(server.port));
      await until(() => ages.length === 3, 20_000);
      assert.ok(ages.every((a) => a >= 0 && a < 5), String(ages));
    } finally {
      stop();
    }
  },
);

test(
  "ConnectionTracker dates connections open before the first listener from the first read",
  LINUX,
  async () => {
    await using server = await serve(() => new Response("ok"));
    // The real socket table and a clock of the test's own: the times are
    // exact, and nothing waits for time to pass.
    let clock = 0;
    const tracker = new ConnectionTracker(server.port, { now: () => clock });
    const client = await keepAlive(server.port);
    clock = 1000; // held for a second before anyone listens
    const ages: number[] = [];
    const stop = tracker.onClose((age) => ages.push(age));
    try {
      clock = 1200;
      await hangUp(client);
      // Read until the close is seen.
      await until(() => tracker.open() === 0, 20_000);
      // 0.2 s, from the first listener on; not the 1.2 s held.
      assert.deepEqual(ages, [0.2]);
    } finally {
      stop();
      tracker.stop();
    }
  },
);

// The bookkeeping, with a fake socket table and clock.

function row(remotePort: number, inode: number, state = "established") {
  return {
    state,
    localAddress: "127.0.0.1",
    localPort: 8080,
    remoteAddress: "127.0.0.1",
    remotePort,
    inode,
  } as TcpSocket;
}

function fake(initial: TcpSocket[] | null = []) {
  const state = { table: initial, at: 0 };
  const tracker = new ConnectionTracker(8080, {
    read: () => state.table,
    now: () => state.at,
    pollMs: 1_000_000,
  });
  return { state, tracker };
}

test("ConnectionTracker counts only established sockets on its port", () => {
  const { tracker } = fake([
    row(1, 11),
    row(2, 12, "close_wait"),
    { ...row(0, 10, "listen"), remoteAddress: "0.0.0.0" },
    { ...row(3, 13), localPort: 9090 },
  ]);
  assert.equal(tracker.open(), 1);
  tracker.stop();
  assert.equal(tracker.open(), null);
});

test("ConnectionTracker dates a connection from its first request and ends it at the read that misses it", () => {
  const { state, tracker } = fake();
  const ages: number[] = [];
  tracker.onClose((a) => ages.push(a));
  state.at = 1000;
  tracker.noteRequest("127.0.0.1", 40000);
  tracker.noteRequest("127.0.0.1", 40000); // same connection, later request
  state.at = 1500;
  state.table = [row(40000, 7)];
  assert.equal(tracker.open(), 1);
  state.at = 4000;
  state.table = [row(40000, 7, "close_wait")]; // the peer hung up
  assert.equal(tracker.open(), 0);
  assert.deepEqual(ages, [3]);
  tracker.open();
  assert.deepEqual(ages, [3], "reported once");
  tracker.stop();
});

test("ConnectionTracker tells a reused peer port from the connection before it by the inode", () => {
  const { state, tracker } = fake([row(40000, 7)]);
  const ages: number[] = [];
  tracker.onClose((a) => ages.push(a));
  state.at = 2000;
  state.table = [row(40000, 8)];
  tracker.open();
  assert.deepEqual(ages, [2]);
  state.at = 2500;
  state.table = [];
  tracker.open();
  assert.deepEqual(ages, [2, 0.5]);
  tracker.stop();
});

test("ConnectionTracker matches an IPv4-mapped peer to its IPv4 address", () => {
  const { state, tracker } = fake();
  const ages: number[] = [];
  tracker.onClose((a) => ages.push(a));
  tracker.noteRequest("::ffff:127.0.0.1", 40000);
  state.at = 1000;
  state.table = [row(40000, 7)];
  tracker.open();
  state.table = [];
  tracker.open();
  assert.deepEqual(ages, [1]);
  tracker.stop();
});

test("ConnectionTracker notes nothing where the sockets cannot be read", () => {
  const { state, tracker } = fake(null);
  const ages: number[] = [];
  tracker.onClose((a) => ages.push(a));
  tracker.noteRequest("127.0.0.1", 40000);
  assert.equal(tracker.open(), null);
  state.table = [];
  assert.equal(tracker.open(), 0);
  assert.deepEqual(ages, []);
  tracker.stop();
});

test("ConnectionTracker refuses a bad port, poll interval or listener", () => {
  assert.throws(
    () => new ConnectionTracker(0),
    /^RangeError: Cannot track connections: port must be an integer from 1 to 65535, received 0$/,
  );
  assert.throws(
    () => new ConnectionTracker(80, { pollMs: 0 }),
    /^RangeError: Cannot track connections: pollMs must be a number of milliseconds from 1 to 2147483647, received 0$/,
  );
  const tracker = new ConnectionTracker(80, { read: () => [] });
  assert.throws(
    () => tracker.onClose("no" as unknown as () => void),
    /^TypeError: Cannot watch connection closes: the listener must be a function, received string$/,
  );
});

test("ConnectionTracker's interval reads only the process's socket inodes while nothing new appears", async () => {
  const state = { table: [row(40000, 7)], inodes: new Set([7, 99]) };
  let fullReads = 0;
  let inodeReads = 0;
  const tracker = new ConnectionTracker(8080, {
    read: () => {
      fullReads++;
      return state.table;
    },
    readInodes: () => {
      inodeReads++;
      return new Set(state.inodes);
    },
    pollMs: 5,
    fullReadMs: 0,
  });
  try {
    const ages: number[] = [];
    tracker.onClose((a) => ages.push(a));
    assert.equal(tracker.open(), 1);
    const after = fullReads;
    // Ticks come and go: with no new socket, no full read.
    const ticked = inodeReads;
    await until(() => inodeReads >= ticked + 3, 5000);
    assert.equal(fullReads, after, "no full read while nothing changed");
    // The connection's socket is gone from the descriptors: a close,
    // seen without reading the socket table.
    state.inodes.delete(7);
    state.table = [];
    await until(() => ages.length === 1, 5000);
    assert.equal(fullReads, after, "the close was seen without a full read");
    // A new connection sends a request: a full read (on a tick) finds it.
    state.table = [row(40001, 8)];
    state.inodes.add(8);
    tracker.noteRequest("127.0.0.1", 40001);
    await until(() => fullReads > after, 5000);
    assert.equal(tracker.open(), 1);
  } finally {
    tracker.stop();
  }
});

test("ConnectionTracker dates a new connection on a peer port that a closed one used from its own first request", () => {
  const { state, tracker } = fake();
  const ages: number[] = [];
  tracker.onClose((a) => ages.push(a));
  tracker.noteRequest("127.0.0.1", 40000);
  state.table = [row(40000, 7)];
  tracker.open();
  state.at = 1000;
  state.table = [];
  tracker.open();
  assert.deepEqual(ages, [1]);
  // The peer reuses its port: the request names the new connection.
  state.at = 2000;
  tracker.noteRequest("127.0.0.1", 40000);
  tracker.noteRequest("127.0.0.1", 40000);
  state.at = 2500;
  state.table = [row(40000, 8)];
  tracker.open();
  state.at = 3000;
  state.table = [];
  tracker.open();
  assert.deepEqual(ages, [1, 1]);
  tracker.stop();
});

test("ConnectionTracker with reuseMs answers open() from the last full read while the process's sockets stay the same", () => {
  const state = { table: [row(40000, 7)], inodes: new Set([7, 99]), at: 0 };
  let fullReads = 0;
  const tracker = new ConnectionTracker(8080, {
    read: () => {
      fullReads++;
      return state.table;
    },
    readInodes: () => new Set(state.inodes),
    now: () => state.at,
    pollMs: 1_000_000,
    reuseMs: 5000,
  });
  const ages: number[] = [];
  tracker.onClose((a) => ages.push(a));
  assert.equal(tracker.open(), 1);
  const after = fullReads;
  state.at = 1000;
  assert.equal(tracker.open(), 1);
  assert.equal(fullReads, after, "nothing came or went: no full read");
  // A new connection: its socket is a new inode.
  state.table = [row(40000, 7), row(40001, 8)];
  state.inodes.add(8);
  assert.equal(tracker.open(), 2);
  assert.equal(fullReads, after + 1);
  // One closes: its inode goes, the close is reported at once.
  state.at = 2000;
  state.table = [row(40001, 8)];
  state.inodes.delete(7);
  assert.equal(tracker.open(), 1);
  assert.deepEqual(ages, [2]);
  // Past reuseMs, a full read even with the same sockets.
  state.at = 8000;
  assert.equal(tracker.open(), 1);
  assert.equal(fullReads, after + 3);
  tracker.stop();
  assert.equal(tracker.open(), null);
  assert.throws(
    () => new ConnectionTracker(80, { reuseMs: -1 }),
    /^RangeError: Cannot track connections: reuseMs must be a number of milliseconds from 0 to 2147483647, received -1$/,
  );
});

test("ConnectionTracker.samplePeer() lets every request report its peer up to its budget, then peerRate a second", () => {
  const state = { at: 0 };
  const tracker = new ConnectionTracker(8080, {
    read: () => [],
    readInodes: () => new Set(),
    now: () => state.at,
    pollMs: 1_000_000,
    peerRate: 100,
    peerBurst: 4,
  });
  // Nobody watches closes: no request needs to report its peer.
  assert.equal(tracker.samplePeer(), false);
  const stop = tracker.onClose(() => {});
  const sampled = (n: number) => {
    let yes = 0;
    for (let i = 0; i < n; i++) if (tracker.samplePeer()) yes++;
    return yes;
  };
  // A burst: every request of it.
  assert.equal(sampled(4), 4);
  // Then the budget: 100 a second, so one in each 10 ms.
  assert.equal(sampled(50), 0);
  state.at = 10;
  assert.equal(sampled(50), 1);
  state.at = 35;
  assert.equal(sampled(50), 2);
  // Idle for long: a full burst again, not more.
  state.at = 10_000;
  assert.equal(sampled(50), 4);
  stop();
  assert.equal(tracker.samplePeer(), false);
  tracker.stop();
});

test("ConnectionTracker refuses a bad peerRate or peerBurst", () => {
  assert.throws(
    () => new ConnectionTracker(8080, { peerRate: 0 }),
    /^RangeError: Cannot track connections: peerRate must be a positive number of requests a second, received 0$/,
  );
  assert.throws(
    () => new ConnectionTracker(8080, { peerBurst: 1.5 }),
    /^RangeError: Cannot track connections: peerBurst must be a positive integer, received 1.5$/,
  );
});
