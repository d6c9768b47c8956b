import assert from "node:assert/strict";
import { test } from "node:test";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CursorFile } from "../../src/history/cursor_file.ts";

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "weir-cursor-"));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("CursorFile keeps the last text written, across opens, in two slots written in turn", () => {
  withDir((dir) => {
    const path = join(dir, "c.cursor");
    const a = CursorFile.open(path, 256);
    assert.equal(a.read(), undefined);
    for (let i = 1; i <= 5; i++) a.write(`text ${i}`);
    a.close();
    // Two slots, no more: the file does not grow with the writes.
    assert.ok(statSync(path).size <= 2 * 256);
    const b = CursorFile.open(path, 256);
    assert.equal(b.read(), "text 5");
    b.write("text 6"); // after a read, into the older slot
    b.close();
    const c = CursorFile.open(path, 256);
    assert.equal(c.read(), "text 6");
    c.close();
  });
});

test("CursorFile: a torn write (a bad checksum in the newest slot) leaves the text before it", () => {
  withDir((dir) => {
    const path = join(dir, "c.cursor");
    const f = CursorFile.open(path, 128);
    f.write("first");
    f.write("second"); // slot 1
    f.close();
    const bytes = readFileSync(path);
    bytes[128 + 16] ^= 0xff; // a byte of slot 1's text
    writeFileSync(path, bytes);
    const g = CursorFile.open(path, 128);
    assert.equal(g.read(), "first");
    g.write("third"); // over the torn slot
    g.close();
    const h = CursorFile.open(path, 128);
    assert.equal(h.read(), "third");
    h.close();
  });
});

test("CursorFile refuses a file of another format, and text longer than a slot", () => {
  withDir((dir) => {
    const path = join(dir, "c.cursor");
    writeFileSync(path, '{"sent": 1000}');
    const f = CursorFile.open(path, 64);
    assert.throws(() => f.read(), /is not a cursor file/);
    f.clear();
    assert.equal(f.read(), undefined);
    assert.throws(() => f.write("x".repeat(64)), /over 48 bytes/);
    f.write("é".repeat(24)); // 48 bytes of UTF-8
    assert.equal(f.read(), "é".repeat(24));
    f.close();
  });
});
