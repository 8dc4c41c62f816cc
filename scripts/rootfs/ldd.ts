/** @module scripts/rootfs/ldd — the shared-library closure of a host ELF file, from `ldd`'s output. */

/** Thrown when `ldd` names a library it could not find, or fails on a file it should understand. */
export class LddError extends Error {
  override readonly name = "LddError";
  constructor(readonly file: string, readonly reason: string) {
    super(`ldd ${file}: ${reason}`);
  }
}

/**
 * The absolute paths `ldd` prints for one file: every resolved library (`libc.so.6 => /lib/.../libc.so.6 (0x…)`)
 * and the dynamic loader (`/lib64/ld-linux-x86-64.so.2 (0x…)`), in order, without the vDSO. A statically linked
 * file gives an empty list. Throws LddError for a library ldd could not find (`libx.so => not found`).
 */
export function parseLdd(file: string, output: string): string[] {
  const paths: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (line === "" || /statically linked|not a dynamic executable/.test(line)) continue;
    const arrow = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      if (arrow[2] === "not found") throw new LddError(file, `library ${arrow[1]} not found`);
      if (arrow[2]!.startsWith("/")) paths.push(arrow[2]!);
      continue;
    }
    const bare = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (bare) paths.push(bare[1]!);
    // Anything else is the vDSO (`linux-vdso.so.1 (0x…)`), which the kernel provides.
  }
  return paths;
}

/** The library closure of host file `file` (ldd already follows it transitively); empty for a static or non-ELF file. */
export function libraryClosure(file: string): string[] {
  const r = Bun.spawnSync(["ldd", file], { stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString();
  if (r.exitCode !== 0) {
    if (/not a dynamic executable/.test(out + r.stderr.toString())) return [];
    throw new LddError(file, `exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  }
  return parseLdd(file, out);
}
