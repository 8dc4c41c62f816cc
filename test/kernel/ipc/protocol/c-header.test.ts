/** Tests for kernel/ipc/protocol/c-header.ts: the committed C header is exactly what the tables generate, and C agrees. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderCHeader } from "../../../../kernel/ipc/protocol/c-header.ts";
import { C_HEADER_FILE, writeCHeader } from "../../../../kernel/ipc/protocol/generate-c-header.ts";
import { OPERATIONS } from "../../../../kernel/ipc/protocol/operations.ts";

const cc = Bun.which("cc");

describe("shims/include/danaus_proto.h", () => {
  test("regenerating gives byte-identical output to the committed file", () => {
    const committed = readFileSync(C_HEADER_FILE);
    expect(Buffer.from(renderCHeader()).equals(committed)).toBe(true);
  });

  test("rendering is deterministic and the generator writes what it renders", async () => {
    const dir = mkdtempSync(join(tmpdir(), "danaus-header-"));
    try {
      const file = await writeCHeader(join(dir, "h.h"));
      expect(readFileSync(file, "utf8")).toBe(renderCHeader());
      expect(renderCHeader()).toBe(renderCHeader());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("declares every opcode", () => {
    const text = renderCHeader();
    for (const op of OPERATIONS) expect(text).toContain(`DANAUS_OP_${op.name.toUpperCase()} = ${op.opcode},`);
  });

  test.skipIf(!cc)("compiles as strict C11 and its structs match the system's struct stat, struct statfs and dirent64", () => {
    const dir = mkdtempSync(join(tmpdir(), "danaus-header-"));
    try {
      const source = join(dir, "check.c");
      const same = (a: string, b: string, field: string, other = field) =>
        `DANAUS_STATIC_ASSERT(offsetof(struct ${a}, ${field}) == offsetof(struct ${b}, ${other}), "${a}.${field}");`;
      writeFileSync(source, [
        "#define _GNU_SOURCE",
        "#include <dirent.h>",
        "#include <sys/stat.h>",
        "#include <sys/vfs.h>",
        '#include "danaus_proto.h"',
        'DANAUS_STATIC_ASSERT(sizeof(struct danaus_stat) == sizeof(struct stat), "stat size");',
        'DANAUS_STATIC_ASSERT(sizeof(struct danaus_statfs) == sizeof(struct statfs), "statfs size");',
        ...["st_dev", "st_ino", "st_nlink", "st_mode", "st_uid", "st_gid", "st_rdev", "st_size", "st_blksize", "st_blocks"]
          .map((f) => same("danaus_stat", "stat", f)),
        same("danaus_stat", "stat", "st_atime_sec", "st_atim.tv_sec"),
        same("danaus_stat", "stat", "st_mtime_nsec", "st_mtim.tv_nsec"),
        same("danaus_stat", "stat", "st_ctime_sec", "st_ctim.tv_sec"),
        ...["f_type", "f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_fsid", "f_namelen", "f_frsize", "f_flags"]
          .map((f) => same("danaus_statfs", "statfs", f)),
        ...["d_ino", "d_off", "d_reclen", "d_type", "d_name"].map((f) => same("danaus_dirent", "dirent64", f)),
        "int main(void) { return DANAUS_OP_OPEN == 16 ? 0 : 1; }",
        "",
      ].join("\n"));
      const result = Bun.spawnSync([cc!, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-I", join(C_HEADER_FILE, ".."), source]);
      expect(result.stderr.toString()).toBe("");
      expect(result.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
