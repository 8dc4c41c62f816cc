/** `danaus image import|show` as a real process: output, exit codes and messages. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeSourceTree, makeTestHost } from "./fixture.ts";

const CLI = resolve(import.meta.dir, "../../../kernel/cli/main.ts");
const host = makeTestHost();
afterAll(() => host.cleanup());
const src = join(host.dir, "rootfs");
mkdirSync(src);
makeSourceTree(src);

async function cli(...args: string[]) {
  const proc = Bun.spawn([process.execPath, CLI, ...args, "--config", host.hostFile], { stdio: ["ignore", "pipe", "pipe"] });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe("danaus image", () => {
  test("import prints the layers top first; show prints the manifest; a second import needs --force", async () => {
    const first = await cli("image", "import", "t1", "base", src);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("images/base/layer0  directory");
    const shown = await cli("image", "show", "t1", "base");
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).layers[0].path).toBe("images/base/layer0");
    const again = await cli("image", "import", "t1", "base", src);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("pass --force to replace it");
    const forced = await cli("image", "import", "t1", "base", src, "--force");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('replaced image "base"');
  });
  test("a bad tar, a missing source and a missing subcommand", async () => {
    writeFileSync(join(host.dir, "bad.tar"), "x".repeat(1024));
    const bad = await cli("image", "import", "t1", "bad", join(host.dir, "bad.tar"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad.tar: at byte 0: bad header checksum");
    const missing = await cli("image", "import", "t1", "m", join(host.dir, "nope"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nope: no such file or directory");
    expect((await cli("image")).code).toBe(2);
    expect((await cli("image", "show", "t1", "nothing")).stderr).toContain('tenant "t1" has no image "nothing"');
  });
});
