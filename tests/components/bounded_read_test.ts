import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { _readBounded } from "../../src/components/_bounded_read.ts";

test("_readBounded() of a FIFO with no writer returns at once with an error", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-bounded-"));
  try {
    const fifo = join(dir, "f");
    execFileSync("mkfifo", [fifo]);
    // readFileSync here waited for a writer forever, with the loop blocked.
    assert.throws(
      () => _readBounded(fifo, { cap: 1024, what: "secret file:f" }),
      /^Error: Cannot read secret file:f: it is a FIFO, not a regular file$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("_readBounded() of /dev/zero is refused (it grew until memory ran out)", () => {
  assert.throws(
    () =>
      _readBounded("/dev/zero", {
        cap: 1024 * 1024,
        what: "the TLS CA file /dev/zero",
      }),
    /^Error: Cannot read the TLS CA file \/dev\/zero: it is a character device, not a regular file$/,
  );
});

test("_readBounded() reads a file up to its cap, refuses one over it, and a link as its last part", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-bounded-"));
  try {
    const file = join(dir, "pem");
    writeFileSync(file, "a".repeat(100));
    assert.equal(_readBounded(file, { cap: 100, what: "x" }).length, 100);
    assert.throws(
      () => _readBounded(file, { cap: 99, what: "key file" }),
      (e: Error) =>
        /^Cannot read key file: it is larger than 99 bytes \(100 bytes\)$/
          .test(e.message) &&
        !e.message.includes("aaaa"),
    );
    symlinkSync(file, join(dir, "link"));
    assert.throws(
      () => _readBounded(join(dir, "link"), { cap: 100, what: "x" }),
      /symbolic link/,
    );
    assert.throws(
      () => _readBounded(join(dir, "none"), { cap: 100, what: "x" }),
      /: ENOENT$/,
    );
    // verify() sees the descriptor's real path and can refuse it.
    assert.throws(
      () =>
        _readBounded(file, {
          cap: 100,
          what: "x",
          verify: (real) => {
            assert.equal(real, file);
            throw new RangeError("it is not allowed");
          },
        }),
      /^Error: Cannot read x: it is not allowed$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
