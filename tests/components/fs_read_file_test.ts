import { test } from "node:test";
import assert from "node:assert/strict";
import { inTempDir, runComponent } from "./_helpers.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FsReadFile } from "../../src/components/fs.ts";
import { Buffer } from "node:buffer";

test("fs/ReadFile sends the whole text of each file named on in", async () => {
  await inTempDir(async (dir) => {
    const a = join(dir, "a.txt");
    const b = join(dir, "b.txt");
    writeFileSync(a, "alpha\nbeta\n");
    writeFileSync(b, "ünïcødé");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [a, b],
    });
    assert.deepEqual(outputs.out, ["alpha\nbeta\n", "ünïcødé"]);
    assert.deepEqual(errors, []);
  });
});

test("fs/ReadFile sends a missing file's error to its error port and reads the next", async () => {
  await inTempDir(async (dir) => {
    const missing = join(dir, "x.txt");
    const there = join(dir, "there.txt");
    writeFileSync(there, "here");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [missing, there],
      capture: ["out", "error"],
    });
    assert.deepEqual(outputs.out, ["here"]);
    assert.deepEqual(errors, []);
    assert.equal(outputs.error.length, 1);
    const e = outputs.error[0] as Error;
    assert.equal(e.name, "ProcessError");
    assert.equal(
      e.message,
      `process "T" failed on in-port "in": cannot read ${
        JSON.stringify(missing)
      }: no such file`,
    );
  });
});

test("fs/ReadFile reads with the encoding option", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bin");
    writeFileSync(path, new Uint8Array([0xde, 0xad]));
    const { outputs } = await runComponent(FsReadFile, {
      iips: { encoding: "hex" },
      input: [path],
    });
    assert.deepEqual(outputs.out, ["dead"]);
  });
});

test("fs/ReadFile rejects an unknown encoding with a sentence", () => {
  assert.throws(
    () => FsReadFile.inPorts.encoding.parse!("klingon"),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message.startsWith("expected an encoding (") &&
      e.message.endsWith('received string "klingon"'),
  );
});

test("fs/ReadFile drops a UTF-8 byte-order mark, and keeps its bytes in other encodings", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bom.txt");
    writeFileSync(path, "\uFEFFhi");
    const utf8 = await runComponent(FsReadFile, { input: [path] });
    assert.deepEqual(utf8.outputs.out, ["hi"]);
    const hex = await runComponent(FsReadFile, {
      iips: { encoding: "hex" },
      input: [path],
    });
    assert.deepEqual(hex.outputs.out, ["efbbbf6869"]);
  });
});

test("fs/ReadFile reads encoding aliases under their Node.js names", () => {
  const parse = FsReadFile.inPorts.encoding.parse!;
  assert.deepEqual(
    ["UTF-8", "utf-16le", "UCS-2", "binary", "hex"].map(parse),
    ["utf8", "utf16le", "ucs2", "latin1", "hex"],
  );
});

test("fs/ReadFile decodes a file with every encoding its port accepts", async () => {
  await inTempDir(async (dir) => {
    const path = join(dir, "bytes.bin");
    const bytes = new Uint8Array([
      ...new TextEncoder().encode("hé€😀"),
      0xff,
      0x00,
      0x80,
      0x41,
    ]);
    writeFileSync(path, bytes);
    const encodings = [
      "utf-8",
      "utf8",
      "UTF-8",
      "utf16le",
      "utf-16le",
      "ucs2",
      "ucs-2",
      "latin1",
      "binary",
      "ascii",
      "base64",
      "base64url",
      "hex",
    ];
    const failed: string[] = [];
    for (const encoding of encodings) {
      const { outputs, errors } = await runComponent(FsReadFile, {
        iips: { encoding },
        input: [path],
      });
      const canonical = encoding.toLowerCase().replace(
        /^(utf)-(16le)$|^(ucs)-2$/,
        (_, a, b, c) => c ? "ucs2" : `${a}${b}`,
      ) as BufferEncoding;
      const expected = Buffer.from(bytes).toString(canonical);
      if (errors.length > 0 || outputs.out[0] !== expected) {
        failed.push(
          `${encoding}: ${
            errors.length > 0 ? errors[0].message : JSON.stringify(outputs.out)
          }`,
        );
      }
    }
    assert.deepEqual(failed, []);
  });
});

test("fs/ReadFile reports a directory on its error port and reads the next path", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "f.txt");
    writeFileSync(file, "ok");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [dir, file],
      capture: ["out", "error"],
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(outputs.out, ["ok"]);
    assert.equal(outputs.error.length, 1);
    assert.equal(
      (outputs.error[0] as Error).message,
      `process "T" failed on in-port "in": cannot read ${
        JSON.stringify(dir)
      }: it is a directory`,
    );
  });
});

test("fs/ReadFile fails a path that is not a string and reads the next", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "f.txt");
    writeFileSync(file, "ok");
    const { outputs, errors } = await runComponent(FsReadFile, {
      input: [42, file],
    });
    assert.deepEqual(outputs.out, ["ok"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /expected a file path, received number 42/);
  });
});

test("fs/ReadFile refuses a file longer than maxBytes and reads the next (issue 18: /dev/zero grew to 2 GB)", async () => {
  await inTempDir(async (dir) => {
    const big = join(dir, "big.txt");
    const small = join(dir, "small.txt");
    writeFileSync(big, "x".repeat(1001));
    writeFileSync(small, "x".repeat(1000));
    const { outputs, errors } = await runComponent(FsReadFile, {
      iips: { maxBytes: 1000 },
      input: [big, small],
    });
    assert.deepEqual(outputs.out, ["x".repeat(1000)]);
    assert.equal(errors.length, 1);
    assert.equal(
      errors[0].message,
      `process "T" failed on in-port "in": cannot read ${
        JSON.stringify(big)
      }: it is longer than maxBytes (1000 bytes); raise maxBytes, or stream it with fs/ReadLines`,
    );
  });
});

test("fs/ReadFile stops reading a device that never ends at its default maxBytes of 16 MiB", async () => {
  const { outputs, errors } = await runComponent(FsReadFile, {
    input: ["/dev/zero"],
  });
  assert.deepEqual(outputs.out, []);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0].message,
    /cannot read "\/dev\/zero": it is longer than maxBytes \(16777216 bytes\)/,
  );
});

test("fs/ReadFile refuses a maxBytes outside 1 to 1 GiB with a sentence", () => {
  for (const bad of [0, -1, 1.5, 2 ** 30 + 1, "10"]) {
    assert.throws(
      () => FsReadFile.inPorts.maxBytes.parse!(bad),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message.startsWith("expected an integer from 1 to 1073741824, "),
    );
  }
});
