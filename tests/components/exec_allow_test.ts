/**
 * `ExecAllowList`: the operator's programs resolved once (names on PATH,
 * absolute paths that must be executable files), matched by name or by
 * real path, and narrowed by a flow's list.
 *
 * @module
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExecAllowList } from "../../src/components/exec_allow.ts";
import { inTempDir } from "./_helpers.ts";

test("ExecAllowList.resolve() looks a name up on the PATH given, first folder first", async () => {
  await inTempDir((dir) => {
    for (const folder of ["a", "b"]) {
      mkdirSync(join(dir, folder));
      writeFileSync(join(dir, folder, "tool"), "#!/bin/sh\n");
      chmodSync(join(dir, folder, "tool"), 0o755);
    }
    const allow = ExecAllowList.resolve(["tool"], `${dir}/a:${dir}/b`);
    assert.deepEqual(allow.paths, [join(dir, "a", "tool")]);
    // What runs is the path found at start, whatever the flow's PATH.
    assert.equal(allow.check("tool"), join(dir, "a", "tool"));
  });
});

test("ExecAllowList.resolve() refuses a name not on PATH, a relative path and a file that cannot run", async () => {
  await inTempDir((dir) => {
    writeFileSync(join(dir, "data.txt"), "x");
    assert.throws(
      () => ExecAllowList.resolve(["no-such-tool"], dir),
      /Cannot allow command "no-such-tool": no executable of that name on PATH/,
    );
    assert.throws(
      () => ExecAllowList.resolve(["bin/tool"], dir),
      /"bin\/tool": give a name found on PATH or an absolute path, not a relative one/,
    );
    assert.throws(
      () => ExecAllowList.resolve([join(dir, "data.txt")], dir),
      /it is not an executable file/,
    );
    assert.throws(
      () => ExecAllowList.resolve([dir], dir),
      /it is not an executable file/,
    );
  });
});

test("ExecAllowList.check() matches a name by file name and a path by the real file", () => {
  const allow = ExecAllowList.resolve(["/bin/echo"]);
  assert.equal(allow.check("echo"), "/bin/echo");
  assert.equal(allow.check(realpathSync("/bin/echo")), "/bin/echo");
  assert.throws(
    () => allow.check("/bin/cat"),
    /command "\/bin\/cat" is not allowed; the server allows: "\/bin\/echo"/,
  );
  assert.throws(() => allow.check("ech"), /not allowed/);
});

test("ExecAllowList.narrow() keeps the intersection of every list", () => {
  const server = ExecAllowList.resolve(["/bin/echo", "/bin/cat", "/bin/sleep"]);
  const flow = server.narrow(["echo", "/bin/cat"]);
  assert.equal(flow.check("echo"), "/bin/echo");
  assert.equal(flow.check("cat"), "/bin/cat");
  assert.throws(
    () => flow.check("sleep"),
    /not in this flow's allow list \(allow.exec: "echo", "\/bin\/cat"\)/,
  );
  const inner = flow.narrow(["cat"]);
  assert.throws(() => inner.check("echo"), /allow.exec: "cat"/);
  assert.equal(inner.check("cat"), "/bin/cat");
  assert.throws(() => server.narrow([]).check("echo"), /allow.exec: none/);
});

test("an empty ExecAllowList refuses everything, saying how to allow a command", () => {
  assert.throws(
    () => new ExecAllowList().check("echo"),
    /running commands is off on this server; the operator allows commands with --allow-exec/,
  );
  assert.throws(() => new ExecAllowList(["echo"]), /must be an absolute path/);
});
