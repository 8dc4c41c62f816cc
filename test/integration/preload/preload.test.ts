/**
 * The LD_PRELOAD library (shims/preload) with unmodified Debian binaries, started through `danaus run` against a real
 * supervisor with tenants alpha and beta on the local backend. Their mounts are not legacy: no kernel process can see
 * them (the mount points do not exist), so whatever works here went over the shared-memory ring. Each script runs
 * once under a mount and once under a host directory, and the results must match; the data must be in the tenant's
 * backing directory.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { alive, Harness, LAST_CPU, tenantToml, waitFor } from "../harness.ts";

setDefaultTimeout(60_000);
const ROOT = resolve(import.meta.dir, "../../..");
const ALPHA = "/mnt/test/alpha";
const BETA = "/mnt/test/beta";
let h: Harness;
let host: string;
let scratch: string;

beforeAll(async () => {
  const build = Bun.spawnSync(["bash", join(ROOT, "shims/preload/build.sh")], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`building the preload library failed: ${build.stderr.toString()}`);
  h = new Harness({ tenants: { alpha: tenantToml("alpha", 0, "", ""), beta: tenantToml("beta", LAST_CPU, "", "") } });
  await h.start(["alpha", "beta"]);
  host = mkdtempSync(join(tmpdir(), "danaus-preload-host-"));
  scratch = mkdtempSync(join(tmpdir(), "danaus-preload-scratch-"));
}, 60_000);
afterAll(async () => {
  await h?.stop();
  if (host) rmSync(host, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 60_000);

/** The backing directory of a tenant's data mount. */
const backing = (tenant: string) => join(h.dir, "state/backends", tenant, "data");

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `danaus run --tenant T [--asan] -- bash -c SCRIPT`, with R set to `root`. */
async function run(tenant: string, root: string, script: string, options: { asan?: boolean; env?: Record<string, string> } = {}): Promise<Ran> {
  const argv = [process.execPath, join(ROOT, "kernel/cli/main.ts"), "run", "--tenant", tenant, "--config", h.hostFile, ...(options.asan ? ["--asan"] : []), "--", "bash", "-c", script];
  const proc = Bun.spawn(argv, { cwd: scratch, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, R: root, ...options.env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Runs `script` under a fresh directory in alpha's mount and under one on the host; both must succeed. */
async function both(name: string, script: string, asan = false): Promise<{ mount: Ran; kernel: Ran }> {
  const mount = await run("alpha", `${ALPHA}/${name}`, `mkdir "$R" && ${script}`, { asan });
  const kernel = await run("alpha", `${host}/${name}`, `mkdir "$R" && ${script}`, { asan });
  expect({ code: mount.code, stderr: mount.stderr }).toEqual({ code: 0, stderr: "" });
  expect({ code: kernel.code, stderr: kernel.stderr }).toEqual({ code: 0, stderr: "" });
  return { mount, kernel };
}

/** Every file under `dir` with its bytes (directories as "dir", symlinks as "-> target"). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string, rel: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) out[key] = `-> ${require("node:fs").readlinkSync(path)}`;
      else if (entry.isDirectory()) {
        out[key] = "dir";
        walk(path, key);
      } else out[key] = readFileSync(path, "latin1");
    }
  };
  walk(dir, "");
  return out;
}

describe("unmodified programs through danaus run, on a mount no kernel process can see", () => {
  test("the mount points do not exist for the kernel", () => {
    expect(existsSync(ALPHA)).toBe(false);
    expect(existsSync(BETA)).toBe(false);
  });

  test("a relative path climbing with '..' from a host working directory into the mount, and absolute paths not in normal form, reach the mount", async () => {
    // The run starts in `scratch` (on the host, no mount below it): only the '..' climb can lead into alpha's mount.
    const up = relative(scratch, ALPHA);
    expect(up.startsWith("../")).toBe(true);
    // Spellings that are not in normal form take the library's slow path; each must still reach the mount.
    const spellings = [`${up}/climb`, ALPHA.replace("/test/", "//test/") + "/climb", ALPHA.replace("/test/", "/test/./") + "/climb", `${ALPHA}/../alpha/climb`, `/tmp/../${ALPHA}/climb`];
    const ran = await run("alpha", "", `printf climbed > ${ALPHA}/climb && for p in ${spellings.join(" ")}; do cat $p; stat -c ' %s' $p; done && ls ${up} | grep -x climb && rm ${up}/climb`);
    expect({ code: ran.code, stdout: ran.stdout, stderr: ran.stderr }).toEqual({ code: 0, stdout: "climbed 7\n".repeat(spellings.length) + "climb\n", stderr: "" });
    expect(existsSync(join(backing("alpha"), "climb"))).toBe(false);
  });

  test("getcwd and realpath inside the mount (/bin/pwd -P, realpath, readlink -f, python3 os.getcwd): as on the host", async () => {
    const script = `mkdir -p "$R/d/e" && ln -s d/e "$R/l" && cd "$R/l" && /bin/pwd -P && realpath . .. "$R/l" && readlink -f "$R/l/../e" ` +
      `; python3 -c 'import os; print(os.getcwd()); print(os.path.realpath("."))'`;
    const { mount, kernel } = await both("cwd", script);
    expect(mount.stdout.replaceAll(`${ALPHA}/cwd`, "R")).toBe(kernel.stdout.replaceAll(`${host}/cwd`, "R"));
    expect(mount.stdout.split("\n")[0]).toBe(`${ALPHA}/cwd/d/e`);
  });

  test("make builds a target, then finds it up to date (it calls glibc's pre-2.33 __xstat family and reads errno after calls that succeed)", async () => {
    const script = `cd "$R" && printf 'all: out\\nout: in\\n\\tcp in out\\n' > Makefile && echo data > in && make -s && cat out && make && touch in && make -s && echo again`;
    const { mount, kernel } = await both("make", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toContain("Nothing to be done for 'all'");
    expect(readFileSync(join(backing("alpha"), "make/out"), "utf8")).toBe("data\n");
  });

  test("pathconf and fpathconf of a file in the mount (python3 os.pathconf/os.fpathconf): as on the host, ENOENT for a missing file", async () => {
    const script = `cd "$R" && echo x > f && python3 -c '
import os
fd = os.open("f", os.O_RDONLY)
print(os.pathconf("f", "PC_NAME_MAX"), os.fpathconf(fd, "PC_NAME_MAX"), os.pathconf(".", "PC_PATH_MAX"), os.pathconf("f", "PC_PIPE_BUF"))
try:
    os.pathconf("missing", "PC_NAME_MAX")
except OSError as e:
    print(e.strerror)
'`;
    const { mount, kernel } = await both("pathconf", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toContain("No such file or directory");
  });

  test("cp, cat and sha256sum: the bytes land in alpha's backing directory and read back the same", async () => {
    const { mount, kernel } = await both("copy", `cp /etc/services "$R/services" && cat "$R/services" | sha256sum && sha256sum < "$R/services" && cd "$R" && sha256sum services`);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout.split("\n")[0]).toContain(new Bun.CryptoHasher("sha256").update(readFileSync("/etc/services")).digest("hex"));
    expect(readFileSync(join(backing("alpha"), "copy/services"))).toEqual(readFileSync("/etc/services"));
  });

  test("mkdir -p, ls -l of a tree with a symlink, rm -r: the same listing as on the host, removed from the backend", async () => {
    const script = `mkdir -p "$R/a/b/c" && printf hello > "$R/a/b/c/f" && printf 'x%.0s' $(seq 5000) > "$R/a/big" && ln -s b/c/f "$R/a/link" && chmod 600 "$R/a/big" ` +
      `&& ls -l --time-style=+ "$R/a" "$R/a/b/c" | sed "s|$R|R|" && cd "$R/a" && ls -lR --time-style=+ && cat link && echo && rm -r "$R/a/b" && ls "$R/a"`;
    const { mount, kernel } = await both("tree", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toContain("link -> b/c/f");
    expect(tree(join(backing("alpha"), "tree"))).toEqual(tree(join(host, "tree")));
    expect(existsSync(join(backing("alpha"), "tree/a/b"))).toBe(false);
    expect(existsSync(join(backing("alpha"), "tree/a/big"))).toBe(true);
  });

  test("bash redirections >, >>, <, 2>&1 and a pipeline into a file, with builtins and external programs", async () => {
    const script = `cd "$R" && echo one > f && echo two >> f && printf '%s\\n' three >> f && cat < f > g && cat /etc/hostname >> g ` +
      `&& { echo out; ls missing; } > h 2>&1; read first < f && echo "$first" > i && sort < g | uniq -c > j && wc -l < g >> j && cat f g h i j`;
    const { mount, kernel } = await both("redirect", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(readFileSync(join(backing("alpha"), "redirect/f"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(tree(join(backing("alpha"), "redirect"))).toEqual(tree(join(host, "redirect")));
  });

  test("a shell and the commands it starts share a descriptor's position, as with a kernel file (also through system())", async () => {
    const script = `cd "$R" && { ls -d .; echo after; cat /etc/hostname; echo end; } > a && (echo one; /bin/echo two; echo three) > b ` +
      `&& exec 3> c && echo x >&3 && /bin/echo y >&3 && echo z >&3 && exec 3>&- ` +
      `&& { read first; read second; echo "$first/$second"; head -1; read rest; echo "rest=$rest"; } < b ` +
      `&& /usr/bin/python3 -c 'import os; fd = os.open("d", os.O_CREAT | os.O_WRONLY); os.dup2(fd, 1); os.system("echo one; /bin/echo two"); os.write(1, b"three\\n")' ` +
      `&& cat a b c d`;
    const { mount, kernel } = await both("positions", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(readFileSync(join(backing("alpha"), "positions/d"), "utf8")).toBe("one\ntwo\nthree\n");
  });

  test("positions stay shared through dup'ed numbers across exec, a failed exec, stdio's last flush at exit, vfork'ed subprocesses and families running at once", async () => {
    // `late` leaves its line to glibc's flush at exit, which comes after every library's destructor.
    const late = join(scratch, "late");
    writeFileSync(`${late}.c`, '#include <stdio.h>\nint main(int argc, char **argv) { printf("late %s\\n", argc > 1 ? argv[1] : ""); return 0; }\n');
    const built = Bun.spawnSync(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", late, `${late}.c`], { stderr: "pipe" });
    expect({ code: built.exitCode, stderr: built.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    writeFileSync(join(scratch, "noexec"), "#!/bin/sh\necho never\n");
    const subprocess = [
      "import subprocess",
      "f = open('p', 'w'); f.write('1\\n'); f.flush()",
      "subprocess.run(['/bin/echo', '2'], stdout=f); subprocess.run(['/bin/echo', '3'], stdout=f, stderr=f)",
      "open('q', 'w').write('other\\n'); f.write('4\\n'); f.close()",
    ].join("\n");
    // The family's page of positions (a memfd every process inherits): 16-byte slots, users in bytes 8..11.
    const inUse = [
      "import os, struct",
      "def link(n):\n  try:\n    return os.readlink(f'/proc/self/fd/{n}')\n  except OSError:\n    return ''",
      "pages = [f'/proc/self/fd/{n}' for n in os.listdir('/proc/self/fd') if 'danaus-positions' in link(n)]",
      "data = open(pages[0], 'rb').read() if pages else b''",
      "print('slots in use:', sum(1 for at in range(0, len(data), 16) if struct.unpack_from('<i', data, at + 8)[0] != 0))",
    ].join("\n");
    const script = `cd "$R" && { /bin/echo 1111; echo x > other; /bin/echo 2222; echo y > other2; /bin/echo 3333; } > g 2>&1 ` +
      `&& { /bin/echo a; ${late} 1; echo b; ${late} 2 2>&1; /bin/echo c; } > k && { /bin/echo before; ${scratch}/noexec 2> /dev/null; echo z > other3; /bin/echo after; } > e ` +
      `; for i in 1 2 3 4 5 6; do { /bin/echo a$i; echo t > t$i; ${late} $i; /bin/echo b$i; } > c$i 2>&1 & done; wait ` +
      // Two processes writing one descriptor at once (make -j's log): every line whole, none over another.
      `&& { for i in $(seq 1 40); do /bin/echo aaaa$i; done & for i in $(seq 1 40); do /bin/echo bbbb$i; done & wait; } > par && sort par | md5sum && wc -c < par ` +
      `&& /usr/bin/python3 -c "${subprocess}" && cat g k e c1 c2 c3 c4 c5 c6 p q && /usr/bin/python3 -c "${inUse}"`;
    const { mount, kernel } = await both("positions-exec", script);
    expect(mount.stdout).toBe(kernel.stdout);
    // The two writers' 80 lines, sorted (md5sum) and counted (542 bytes), then the files in order.
    expect(mount.stdout).toStartWith("be760e2e4a7fd4b754b06d9c232506ad  -\n542\n1111\n2222\n3333\na\nlate 1\nb\nlate 2\nc\nbefore\nafter\na1\nlate 1\nb1\n");
    expect(readFileSync(join(backing("alpha"), "positions-exec/p"), "utf8")).toBe("1\n2\n3\n4\n");
    // Every file is closed and every process but the shell has exited: no slot is left counted as in use.
    expect(mount.stdout).toEndWith("other\nslots in use: 0\n");
  });

  test("threads of one process and its forked children write one shared descriptor at once: every record whole, each writer's in order (C driver, both builds)", async () => {
    const driver = join(scratch, "threads");
    const built = Bun.spawnSync(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", driver, join(import.meta.dir, "threads.c")], { stderr: "pipe" });
    expect({ code: built.exitCode, stderr: built.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    const kernel = await run("alpha", `${host}/threads`, `mkdir "$R" && ${driver} "$R"`);
    expect({ code: kernel.code, stdout: kernel.stdout }).toEqual({ code: 0, stdout: "failures 0 lines 2100 whole 2100\n" });
    for (const asan of [false, true]) {
      const mount = await run("alpha", `${ALPHA}/threads-${asan ? "asan" : "plain"}`, `mkdir "$R" && ${driver} "$R"`, { asan });
      expect({ asan, code: mount.code, stdout: mount.stdout, stderr: mount.stderr }).toEqual({ asan, code: 0, stdout: kernel.stdout, stderr: "" });
    }
    expect(readFileSync(join(backing("alpha"), "threads-plain/shared")).length).toBe((4 * 500 + 10 * 10) * 32);
  });

  test("mkfifo, and a FIFO in the mount between two programs", async () => {
    const { mount, kernel } = await both("fifo", `cd "$R" && mkfifo p && stat -c '%F %a' p && { cat p > out & } && /bin/echo through-fifo > p && wait && cat out`);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toBe("fifo 644\nthrough-fifo\n");
  });

  test.skipIf(process.getuid?.() !== 0)("mknod of character and block devices as root: stored with their numbers, as on the host", async () => {
    const { mount, kernel } = await both("devices", `cd "$R" && mknod c c 1 3 && mknod b b 7 300 && umask 077 && mknod u c 4 5 && stat -c '%n %F %t:%T %a' c b u`);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toBe("c character special file 1:3 644\nb block special file 7:12c 644\nu character special file 4:5 600\n");
    const stored = lstatSync(join(backing("alpha"), "devices/b"));
    expect(stored.isBlockDevice()).toBe(true);
    expect(stored.rdev).toBe(lstatSync(join(host, "devices/b")).rdev);
  });

  test("cp -a, mv, stat, du, find, tar c/x of a tree with symlinks and hard links: the same as on the host", async () => {
    const script = `cd "$R" && mkdir -p src/sub && echo a > src/sub/a && printf 'b%.0s' $(seq 3000) > src/b && ln -s sub/a src/l && ln src/sub/a src/hard ` +
      `&& cp -a src dst && mv dst moved && stat -c '%n %s %h %F %a' moved/sub/a moved/l moved/hard moved/b && du -s moved | cut -f1 ` +
      `&& find . | sort && tar cf t.tar src && mkdir x && tar xf t.tar -C x && find x -printf '%p %y %s %n\\n' | sort && cmp src/b x/src/b && readlink x/src/l && rm t.tar`; // the archive holds mtimes: compared through what it extracts
    const { mount, kernel } = await both("tools", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toContain("moved/hard 2 2 regular file");
    expect(tree(join(backing("alpha"), "tools"))).toEqual(tree(join(host, "tools")));
  });

  test("the AddressSanitizer build runs cp, ls, sha256sum, mkdir -p and rm -r without a report", async () => {
    const script = `cp /etc/services "$R/s" && sha256sum "$R/s" | cut -c1-64 && mkdir -p "$R/d/e" && echo x > "$R/d/e/f" && ls -l --time-style=+ "$R/d/e" && rm -r "$R/d" && ls "$R"`;
    const { mount, kernel } = await both("asan", script, true);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stderr).not.toContain("AddressSanitizer");
  });

  test("the program's exit status is danaus run's", async () => {
    expect((await run("alpha", ALPHA, "exit 7")).code).toBe(7);
    expect((await run("alpha", ALPHA, "cat \"$R/no-such-file\"")).code).toBe(1);
  });

  test("danaus run refuses an unknown tenant (1) and a missing command (2); preload-path prints the built library", async () => {
    const cli = (...argv: string[]) => Bun.spawnSync([process.execPath, join(ROOT, "kernel/cli/main.ts"), ...argv], { stdout: "pipe", stderr: "pipe" });
    const unknown = cli("run", "--tenant", "gamma", "--config", h.hostFile, "--", "true");
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr.toString()).toContain('no tenant "gamma"');
    const missing = cli("run", "--tenant", "alpha", "--config", h.hostFile);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.toString()).toContain("run needs a command after --");
    const path = cli("preload-path");
    expect(path.exitCode).toBe(0);
    expect(path.stdout.toString()).toBe(join(ROOT, ".danaus/build/libdanaus-preload.so") + "\n");
  });

  test("the program runs in the tenant's pool", async () => {
    const ran = await run("beta", BETA, "grep -E ':(cpuset|memory):' /proc/self/cgroup | sort");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain(`:cpuset:/danaus.${h.instance}/beta`);
    expect(ran.stdout).toContain(`:memory:/danaus.${h.instance}/beta`);
  });
});

describe("descriptors and other programs", () => {
  test("dup, dup2 past 1024, dup3, fcntl flags, close_range, fork, directory positions (lseek, exec) and errno values behave as on a kernel file (C driver)", async () => {
    const driver = join(scratch, "fd-semantics");
    const built = Bun.spawnSync(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", driver, join(import.meta.dir, "fd-semantics.c")], { stderr: "pipe" });
    expect(built.stderr.toString()).toBe("");
    const { mount, kernel } = await both("fds", `${driver} "$R"`);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toContain("content hello world!HELLOWchild\n");
    expect(mount.stdout).toContain("lseek-dir-cookie 1 \ngetdents-rest-again 1 \n");
    expect(mount.stdout).toContain("dir-handover-names 40 \n");
    expect(readFileSync(join(backing("alpha"), "fds/after-closefrom"), "utf8")).toBe("ok");
    const bypass = await run("alpha", `${ALPHA}/fds`, `${driver} "$R" bypass | grep bypass`);
    expect(bypass.stdout).toBe("bypass-write -1 Bad file descriptor\nbypass-read -1 Bad file descriptor\n");
    const asan = await run("alpha", `${ALPHA}/fds-asan`, `mkdir "$R" && ${driver} "$R"`, { asan: true });
    expect({ code: asan.code, stderr: asan.stderr, stdout: asan.stdout }).toEqual({ code: 0, stderr: "", stdout: kernel.stdout });
  });

  test("copy_file_range and sendfile between private and kernel descriptors, to a pipe, and their errno values: as on the host (C driver)", async () => {
    const program = join(scratch, "copy-semantics");
    const built = Bun.spawnSync(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", program, join(import.meta.dir, "copy-semantics.c")], { stderr: "pipe" });
    expect(built.stderr.toString()).toBe("");
    // The second directory is the kernel's (in the scratch directory, on the host directory's filesystem).
    const script = `K=$(mktemp -d -p ${scratch}) && ${program} "$R" "$K"`;
    const { mount, kernel } = await both("copy-range", script);
    expect(mount.stdout).toBe(kernel.stdout);
    for (const line of ["cfr-dir-kernel size 300107 fnv", "sendfile-kernel-dir offset 201000 positions 7003 207000", "sendfile-to-pipe read 4000", "cfr-flags -1 EINVAL", "sendfile-out-append -1 EINVAL"]) {
      expect(mount.stdout).toContain(line);
    }
    const asan = await run("alpha", `${ALPHA}/copy-range-asan`, `mkdir "$R" && ${script}`, { asan: true });
    expect({ code: asan.code, stderr: asan.stderr, stdout: asan.stdout }).toEqual({ code: 0, stderr: "", stdout: kernel.stdout });
  });

  test("cp copies through copy_file_range between the mount and the host, both ways and within the mount", async () => {
    const script = `K=$(mktemp -d -p ${scratch}) && head -c 3000000 /dev/urandom > "$K/big" && cp "$K/big" "$R/in" && cp "$R/in" "$R/within" && cp "$R/within" "$K/out" ` +
      `&& cmp "$K/big" "$R/in" && cmp "$K/big" "$R/within" && cmp "$K/big" "$K/out" && stat -c %s "$R/within"`;
    const ran = await run("alpha", `${ALPHA}/cp-range`, `mkdir "$R" && ${script}`, { env: { DANAUS_PRELOAD_DEBUG: "1" } });
    expect({ code: ran.code, stdout: ran.stdout }).toEqual({ code: 0, stdout: "3000000\n" });
    // Each of the three copies went through the library's copy_file_range (cp falls back to read/write on an error).
    const copies = ran.stderr.split("\n").filter((line) => /copy_file_range \d+ -> \d+: \d+ through the library/.test(line));
    expect(copies.length).toBeGreaterThanOrEqual(3);
    expect(ran.stderr).not.toContain(": -");
    expect(readFileSync(join(backing("alpha"), "cp-range/within")).length).toBe(3_000_000);
  });

  test("python3: os.sendfile and os.copy_file_range with and without offsets, shutil.copyfile (sendfile): as on the host", async () => {
    const program = [
      "import os, shutil, sys",
      "R = os.environ['R']",
      "data = bytes(range(256)) * 400",
      "open(R + '/src', 'wb').write(data)",
      "src = os.open(R + '/src', os.O_RDONLY); dst = os.open(R + '/dst', os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)",
      "print(os.sendfile(dst, src, 1000, 5000), os.lseek(src, 0, os.SEEK_CUR), os.lseek(dst, 0, os.SEEK_CUR))",
      "print(os.sendfile(dst, src, None, 300), os.lseek(src, 0, os.SEEK_CUR), os.lseek(dst, 0, os.SEEK_CUR))",
      "print(os.copy_file_range(src, dst, 4096, 50000, 20000), os.lseek(src, 0, os.SEEK_CUR), os.lseek(dst, 0, os.SEEK_CUR))",
      "print(os.copy_file_range(src, dst, 777), os.lseek(src, 0, os.SEEK_CUR), os.lseek(dst, 0, os.SEEK_CUR))",
      "print(os.copy_file_range(src, dst, 10, len(data) + 5), os.sendfile(dst, src, len(data), 10))",
      "os.close(dst)",
      "got = open(R + '/dst', 'rb').read(); print(len(got), got[:5300] == data[1000:6000] + data[0:300], got[20000:24096] == data[50000:54096])",
      "for call in (lambda: os.sendfile(src, src, 0, 10), lambda: os.copy_file_range(src, src, 10, 0, 5)):",
      "  try:\n    call(); print('no error')\n  except OSError as e:\n    print(os.strerror(e.errno))",
      "shutil.copyfile(R + '/src', R + '/copied'); print(open(R + '/copied', 'rb').read() == data)",
    ].join("\n");
    writeFileSync(join(scratch, "copy.py"), program);
    const { mount, kernel } = await both("python-copy", `/usr/bin/python3 ${join(scratch, "copy.py")}`);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toContain("5000 0 5000\n300 300 5300\n4096 300 5300\n777 1077 6077\n");
    expect(readFileSync(join(backing("alpha"), "python-copy/copied")).length).toBe(102400);
  });

  test("python3: open, os.scandir, os.walk, shutil.copytree, tempfile and shutil.rmtree", async () => {
    const program = [
      "import os, shutil, sys, tempfile",
      "R = os.environ['R']",
      "os.makedirs(R + '/a/b')",
      "open(R + '/a/b/f.txt', 'w').write('hello\\n' * 1000)",
      "print(sorted(e.name for e in os.scandir(R + '/a')))",
      "print([(os.path.relpath(d, R), sorted(s), sorted(f)) for d, s, f in os.walk(R)])",
      "shutil.copytree(R + '/a', R + '/c')",
      "print(len(open(R + '/c/b/f.txt').read()))",
      "t = tempfile.NamedTemporaryFile(dir=R, delete=False); t.write(b'x' * 10); t.close(); print(os.path.getsize(t.name)); os.unlink(t.name)",
      "shutil.rmtree(R + '/a'); print(sorted(os.listdir(R)))",
    ].join("\n");
    writeFileSync(join(scratch, "walk.py"), program);
    const { mount, kernel } = await both("python", `/usr/bin/python3 ${join(scratch, "walk.py")}`);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(readFileSync(join(backing("alpha"), "python/c/b/f.txt"), "utf8").length).toBe(6000);
  });

  test("sqlite3: 10,000 rows in transactions, a rollback, integrity_check, reopened by another process; WAL in exclusive locking mode", async () => {
    const sql = [
      "create table t(id integer primary key, v text);",
      "begin; with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000) insert into t(v) select printf('%08d', i) from n; commit;",
      "begin; with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000) insert into t(v) select printf('x%07d', i) from n; commit;",
      "begin; delete from t where id > 9000; rollback;",
      "select count(*), max(v) from t;",
      "pragma integrity_check;",
    ].join("\n");
    writeFileSync(join(scratch, "rows.sql"), sql);
    const script = `sqlite3 "$R/db" < ${join(scratch, "rows.sql")} && sqlite3 "$R/db" "select count(*) from t where v like 'x%'; pragma integrity_check;" ` +
      `&& sqlite3 "$R/wal" "pragma locking_mode=exclusive; pragma journal_mode=wal; create table w(x); insert into w values (1), (2); select sum(x) from w; pragma integrity_check;" ` +
      `&& sqlite3 "$R/wal" "pragma locking_mode=exclusive; select count(*) from w;"`;
    const { mount, kernel } = await both("sqlite", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toBe("10000|x0005000\nok\n5000\nok\nexclusive\nwal\n3\nok\nexclusive\n2\n");
  });

  test("fio psync and pvsync2 (and 4 threads of one process), 4 KiB random read/write with crc32c verification: no errors", async () => {
    const script = `for engine in psync pvsync2; do fio --name=$engine --filename="$R/fio-$engine" --size=2m --bs=4k --rw=randrw ` +
      `--ioengine=$engine --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 --minimal | cut -d';' -f3,5; done ` +
      `&& fio --name=threads --directory="$R" --thread --numjobs=4 --size=1m --bs=4k --rw=randrw --ioengine=psync --verify=crc32c --verify_state_save=0 ` +
      `--do_verify=1 --verify_fatal=1 --minimal --group_reporting | cut -d';' -f3,5`;
    const ran = await run("alpha", `${ALPHA}/fio`, `mkdir "$R" && ${script}`);
    expect({ code: ran.code, stdout: ran.stdout, stderr: ran.stderr }).toEqual({ code: 0, stdout: "psync;0\npvsync2;0\nthreads;0\n", stderr: "" });
    for (const engine of ["psync", "pvsync2"]) expect(readFileSync(join(backing("alpha"), `fio/fio-${engine}`)).length).toBe(2 * 1024 * 1024);
  });

  // Debian's rocksdb-tools (apt-get install rocksdb-tools) provides db_bench and ldb.
  test.skipIf(!Bun.which("db_bench"))("RocksDB db_bench fillrandom + readrandom, ldb scan and a reopen by another process: the same as on the host", async () => {
    const script = `db_bench --db="$R/db" --benchmarks=fillrandom,readrandom --num=20000 --value_size=100 --seed=7 --compression_type=none 2>&1 | grep -o "([0-9]* of [0-9]* found)" ` +
      `&& ldb --db="$R/db" scan | wc -l && db_bench --db="$R/db" --use_existing_db=1 --benchmarks=readrandom --num=20000 --seed=7 2>&1 | grep -o "([0-9]* of [0-9]* found)"`;
    const { mount, kernel } = await both("rocksdb", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toMatch(/^\(\d+ of 20000 found\)\n\d+\n\(20000 of 20000 found\)\n$/);
    expect(readdirSync(join(backing("alpha"), "rocksdb/db"))).toContain("CURRENT");
  });

  test("mmap of a private file: MAP_PRIVATE and read-only MAP_SHARED hold its bytes; a writable shared mapping is ENODEV", async () => {
    const program = [
      "import mmap, os, sys",
      "p = os.environ['R'] + '/m'",
      "open(p, 'wb').write(b'abcdef' * 2000)",
      "f = open(p, 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ); print(m[:6], m[-6:], len(m)); m.close(); f.close()",
      "f = open(p, 'r+b'); m = mmap.mmap(f.fileno(), 4096, offset=4096, access=mmap.ACCESS_COPY); m[0:3] = b'XYZ'; print(m[:6]); m.close()",
      "try:\n  mmap.mmap(f.fileno(), 0); print('shared-writable ok')\nexcept OSError as e:\n  print('shared-writable', e.errno)",
      "print(open(p, 'rb').read(6))",
    ].join("\n");
    writeFileSync(join(scratch, "map.py"), program);
    const mount = await run("alpha", `${ALPHA}/mmap`, `mkdir "$R" && /usr/bin/python3 ${join(scratch, "map.py")}`);
    const kernel = await run("alpha", `${host}/mmap`, `mkdir "$R" && /usr/bin/python3 ${join(scratch, "map.py")}`);
    expect(kernel.stdout).toBe("b'abcdef' b'abcdef' 12000\nb'XYZbcd'\nshared-writable ok\nb'abcdef'\n");
    expect(mount.stdout).toBe(kernel.stdout.replace("shared-writable ok", "shared-writable 19"));
    expect(mount.stderr).toContain("writable shared mapping");
  });
});

describe("glibc functions that reach files through glibc's internal calls", () => {
  /** The names in the run's kernel working directory (`scratch`): a call that escaped the library would add some. */
  const kernelCwd = () => readdirSync(scratch).sort();

  test("git init, add, commit, log, status and diff in the mount: as on the host, nothing created in the kernel's working directory", async () => {
    const before = kernelCwd();
    const git = "git -c user.name=T -c user.email=t@example.org -c init.defaultBranch=main";
    const script = `cd "$R" && ${git} init -q && printf 'one\\n' > f && mkdir d && printf 'two\\n' > d/g && ${git} add f d && ${git} commit -q -m first ` +
      `&& printf 'three\\n' >> f && ${git} commit -q -am second && ${git} log --format=%s && ${git} status --porcelain && printf x > new ` +
      `&& ${git} status --porcelain && ${git} diff --stat HEAD~1 | tail -1 && ${git} ls-files && ${git} fsck --no-progress 2>&1 && ${git} count-objects -v | grep '^count:'`;
    const { mount, kernel } = await both("git", script);
    expect(mount.stdout).toBe(kernel.stdout);
    // Commit ids hash the commit time, so a count of .git/objects' fan-out directories (not objects) differed between
    // the two runs when a commit's first byte matched another object's (about one run in ten on a loaded machine).
    expect(mount.stdout).toContain("second\nfirst\n?? new\n");
    expect(mount.stdout).toEndWith("count: 8\n");
    expect(existsSync(join(backing("alpha"), "git/.git/HEAD"))).toBe(true);
    expect(kernelCwd()).toEqual(before);
  });

  test("sed -i and sed -i.bak, coreutils mktemp -p and -d -p, make (which stats through __xstat): as on the host, nothing created in the kernel's working directory", async () => {
    const before = kernelCwd();
    const script = `cd "$R" && printf 'a\\nb\\n' > f && sed -i s/a/A/ f && cat f && sed -i.bak s/b/B/ f && cat f f.bak ` +
      `&& t=$(mktemp -p . tmp.XXXXXX) && d=$(mktemp -d -p . dir.XXXXXX) && stat -c '%F %a' "$t" "$d" && rm "$t" && rmdir "$d" && ls ` +
      `&& printf 'out: f\\n\\tcp f out\\n' > Makefile && make && make && rm Makefile out`;
    const { mount, kernel } = await both("sed", script);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toBe("A\nb\nA\nB\nA\nb\nregular empty file 600\ndirectory 700\nf\nf.bak\ncp f out\nmake: 'out' is up to date.\n");
    expect(readFileSync(join(backing("alpha"), "sed/f"), "utf8")).toBe("A\nB\n");
    expect(kernelCwd()).toEqual(before);
  });

  test("python3 tempfile.mkstemp, mkdtemp, TemporaryDirectory with a relative dir in the mount: as on the host", async () => {
    const program = [
      "import os, stat, tempfile",
      "os.chdir(os.environ['R'])",
      "fd, name = tempfile.mkstemp(dir='.', suffix='.txt'); os.write(fd, b'abc'); os.close(fd)",
      "print(oct(stat.S_IMODE(os.stat(name).st_mode)), os.path.getsize(name), name.endswith('.txt'))",
      "d = tempfile.mkdtemp(dir='.'); print(oct(stat.S_IMODE(os.stat(d).st_mode)), os.path.isdir(d))",
      "with tempfile.TemporaryDirectory(dir='.') as t: open(os.path.join(t, 'x'), 'w').write('x'); print(os.listdir(t))",
      "os.unlink(name); os.rmdir(d); print(os.listdir('.'))",
    ].join("\n");
    writeFileSync(join(scratch, "temp.py"), program);
    const before = kernelCwd();
    const { mount, kernel } = await both("python-temp", `/usr/bin/python3 ${join(scratch, "temp.py")}`);
    expect(mount.stdout).toBe(kernel.stdout);
    expect(mount.stdout).toBe("0o600 3 True\n0o700 True\n['x']\n[]\n");
    expect(kernelCwd()).toEqual(before);
  });

  test("mkstemp/mkostemps/mkdtemp/mktemp/tempnam, readdir_r, scandirat, getdirentries, glob, nftw/ftw with symlinks, lockf, __xstat (C driver, both builds): as on the host; fts_open is ENOTSUP", async () => {
    const driver = join(scratch, "glibc-internal");
    // The linker warns about mktemp on stderr; the compiler's warnings are errors.
    const built = Bun.spawnSync(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", driver, join(import.meta.dir, "glibc-internal.c")], { stderr: "pipe" });
    expect({ code: built.exitCode, errors: built.stderr.toString().split("\n").filter((line) => line.includes("error")) }).toEqual({ code: 0, errors: [] });
    const before = kernelCwd();
    const { mount, kernel } = await both("glibc", `${driver} "$R"`);
    expect(mount.stdout).toBe(kernel.stdout);
    for (const line of ["mkstemp-mode 384 ", "mkdtemp-mode 448 ", "tempnam 1 ", "scandirat 3 ", "glob tree/s*/* -> 0: tree/sub/deep tree/sub/up tree/sub/x.c", "follow tree/outlink/z F level=2 base=z size=6", "phys tree/sub/up SL level=2 base=up size=-1", "nftw-stop 42", "chdir tree/sub/deep/y F level=3 base=y size=5 here=1"]) {
      expect(mount.stdout).toContain(line);
    }
    expect(tree(join(backing("alpha"), "glibc"))).toEqual(tree(join(host, "glibc")));
    const asan = await run("alpha", `${ALPHA}/glibc-asan`, `mkdir "$R" && ${driver} "$R"`, { asan: true });
    expect({ code: asan.code, stderr: asan.stderr, stdout: asan.stdout }).toEqual({ code: 0, stderr: "", stdout: kernel.stdout });
    const fts = await run("alpha", `${ALPHA}/glibc`, `${driver} "$R" fts`);
    expect({ code: fts.code, stdout: fts.stdout }).toEqual({ code: 0, stdout: "fts_open -1 Operation not supported\n" });
    expect(fts.stderr).toContain("fts is not implemented for paths under a mount");
    expect((await run("alpha", `${host}/glibc`, `${driver} "$R" fts`)).stdout).toBe("fts_open 0 \n");
    expect(kernelCwd()).toEqual(before);
  });
});

describe("without a tenant", () => {
  test("preloaded without DANAUS_SOCKET, or with a socket nobody serves, programs work on the kernel path", () => {
    const library = join(ROOT, ".danaus/build/libdanaus-preload.so");
    const script = `cp /etc/services "${scratch}/copied" && sha256sum < "${scratch}/copied" && ls "${scratch}" | grep -c copied && rm "${scratch}/copied"`;
    const plain = Bun.spawnSync(["bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const env = { ...process.env } as Record<string, string>;
    delete env.DANAUS_SOCKET;
    const without = Bun.spawnSync(["bash", "-c", script], { env: { ...env, LD_PRELOAD: library }, stdout: "pipe", stderr: "pipe" });
    const nobody = Bun.spawnSync(["bash", "-c", script], { env: { ...env, LD_PRELOAD: library, DANAUS_SOCKET: join(scratch, "no.sock") }, stdout: "pipe", stderr: "pipe" });
    expect({ code: without.exitCode, out: without.stdout.toString(), err: without.stderr.toString() }).toEqual({ code: 0, out: plain.stdout.toString(), err: "" });
    expect({ code: nobody.exitCode, out: nobody.stdout.toString() }).toEqual({ code: 0, out: plain.stdout.toString() });
    expect(nobody.stderr.toString()).toContain("cannot register with the tenant service");
  });
});

describe("two tenants", () => {
  test("a program of beta reaches beta's files only: alpha's mount is not in its table, climbing out of beta's stays out", async () => {
    const seeded = await run("alpha", ALPHA, `echo alpha-secret > "$R/secret"`);
    expect(seeded.code).toBe(0);
    const ran = await run("beta", BETA, `cat ${ALPHA}/secret; echo "rc=$?"; cat ${BETA}/../alpha/secret; echo "rc=$?"; echo mine > ${BETA}/mine; cat ${BETA}/mine`);
    expect(ran.stdout).toBe("rc=1\nrc=1\nmine\n");
    expect(ran.stderr).toContain(`${ALPHA}/secret: No such file or directory`);
    expect(readFileSync(join(backing("beta"), "mine"), "utf8")).toBe("mine\n");
    expect(existsSync(join(backing("alpha"), "mine"))).toBe(false);
  });

  test("a process of another uid pointed at alpha's socket cannot register: the library leaves it on the kernel path", () => {
    const library = join(ROOT, ".danaus/build/libdanaus-preload.so");
    const socket = join(h.dir, "state/run/alpha/router.sock");
    const proc = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", `${ALPHA}/secret`], {
      env: { ...process.env, LD_PRELOAD: library, DANAUS_SOCKET: socket },
      stderr: "pipe",
      stdout: "pipe",
    });
    expect(proc.exitCode).toBe(1);
    expect(proc.stdout.toString()).toBe("");
    expect(proc.stderr.toString()).toContain("cannot register with the tenant service");
    expect(proc.stderr.toString()).toContain(`${ALPHA}/secret: No such file or directory`);
  });
});

test("a program whose tenant service dies gets ENOTCONN, never a hang; after the restart its old file is ESTALE, new opens work", async () => {
  const program = [
    "import os, sys",
    "fd = os.open(os.environ['R'] + '/held', os.O_CREAT | os.O_RDWR)",
    "def attempt(what):",
    "  try:\n    what()\n    print('ok', flush=True)\n  except OSError as e:\n    print(os.strerror(e.errno), flush=True)",
    "print('ready', flush=True)",
    "sys.stdin.readline()",
    "attempt(lambda: os.write(fd, b'x'))",
    "sys.stdin.readline()",
    "attempt(lambda: os.write(fd, b'x'))",
    "def fresh():\n  n = os.open(os.environ['R'] + '/after-restart', os.O_CREAT | os.O_WRONLY)\n  os.write(n, b'new')\n  os.close(n)",
    "attempt(fresh)",
  ].join("\n");
  writeFileSync(join(scratch, "held.py"), program);
  const argv = [process.execPath, join(ROOT, "kernel/cli/main.ts"), "run", "--tenant", "alpha", "--config", h.hostFile, "--", "/usr/bin/python3", join(scratch, "held.py")];
  const proc = Bun.spawn(argv, { cwd: scratch, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, R: ALPHA } });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  expect(out).toBe("ready\n");
  const services = (await h.tenant("alpha")).services;
  const router = services.find((s) => s.name.includes("ipc-router"))!;
  process.kill(router.pid!, "SIGKILL");
  await waitFor("the service to be gone", () => !alive(router.pid!));
  proc.stdin!.write("go\n");
  await proc.stdin!.flush();
  while (!out.includes("connected\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  expect(out).toBe("ready\nTransport endpoint is not connected\n");
  await waitFor("alpha running again", async () => (await h.tenant("alpha")).state === "running" && (await run("alpha", ALPHA, 'ls "$R" >/dev/null')).code === 0);
  proc.stdin!.write("go\n");
  await proc.stdin!.end();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  expect(await proc.exited).toBe(0);
  expect(out).toBe("ready\nTransport endpoint is not connected\nStale file handle\nok\n");
  const stderr = await new Response(proc.stderr).text();
  expect(stderr).toContain("the tenant service went away");
  expect(stderr).toContain("registered again with the restarted tenant service");
  expect(readFileSync(join(backing("alpha"), "after-restart"), "utf8")).toBe("new");
});

test("the mount points still do not exist for the kernel afterwards", () => {
  writeFileSync(join(scratch, "done"), "");
  expect(existsSync(ALPHA)).toBe(false);
  expect(existsSync(BETA)).toBe(false);
});
