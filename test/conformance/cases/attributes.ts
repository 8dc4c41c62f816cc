/** @module test/conformance/cases/attributes — chmod, chown, utimens, access and statfs. */
import { describe, expect } from "bun:test";
import { UTIME_NOW, UTIME_OMIT } from "../../../kernel/ipc/protocol/index.ts";
import {
  AT_SYMLINK_NOFOLLOW, expectErrno, F_OK, R_OK, W_OK, writeFile, X_OK, type Suite,
} from "../harness.ts";

const runningAsRoot = process.getuid?.() === 0;

/** Registers the attribute cases. */
export function attributeCases({ it }: Suite): void {
  describe("chmod", () => {
    it("sets the permission bits of files and directories", (fs) => {
      writeFile(fs, "f", "");
      fs.mkdir("d", 0o755);
      for (const mode of [0o600, 0o755, 0o400, 0o777, 0o000]) {
        fs.chmod("f", mode);
        expect(fs.stat("f").st_mode & 0o7777).toBe(mode);
      }
      fs.chmod("d", 0o700);
      expect(fs.stat("d").st_mode & 0o7777).toBe(0o700);
    });

    it("follows a symlink to change its target", (fs) => {
      writeFile(fs, "f", "");
      fs.chmod("f", 0o600);
      fs.symlink("f", "l");
      const linkMode = fs.lstat("l").st_mode;
      fs.chmod("l", 0o640);
      expect(fs.stat("f").st_mode & 0o7777).toBe(0o640);
      expect(fs.lstat("l").st_mode).toBe(linkMode);
    }, ["symlinks"]);

    it("a missing name: ENOENT; through a file: ENOTDIR", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOENT", () => fs.chmod("missing", 0o644));
      expectErrno("ENOTDIR", () => fs.chmod("f/x", 0o644));
    });
  });

  describe("chown", () => {
    it("to its own owner, and -1/-1, changes nothing", (fs) => {
      writeFile(fs, "f", "");
      const before = fs.stat("f");
      fs.chown("f", before.st_uid, before.st_gid, 0);
      fs.chown("f", -1, -1, 0);
      const after = fs.stat("f");
      expect([after.st_uid, after.st_gid]).toEqual([before.st_uid, before.st_gid]);
    }, ["chown"]);

    it("a missing name: ENOENT", (fs) => {
      expectErrno("ENOENT", () => fs.chown("missing", -1, -1, 0));
    }, ["chown"]);

    if (runningAsRoot) {
      it("as root, to 1234:1234 and back; one side only with -1", (fs) => {
        writeFile(fs, "f", "");
        fs.chown("f", 1234, 1234, 0);
        expect([fs.stat("f").st_uid, fs.stat("f").st_gid]).toEqual([1234, 1234]);
        fs.chown("f", -1, 4321, 0);
        expect([fs.stat("f").st_uid, fs.stat("f").st_gid]).toEqual([1234, 4321]);
      }, ["chown"]);

      it("as root, AT_SYMLINK_NOFOLLOW changes the link, not its target", (fs) => {
        writeFile(fs, "f", "");
        fs.symlink("f", "l");
        const target = fs.stat("f");
        fs.chown("l", 1234, 1234, AT_SYMLINK_NOFOLLOW);
        expect([fs.lstat("l").st_uid, fs.lstat("l").st_gid]).toEqual([1234, 1234]);
        expect([fs.stat("f").st_uid, fs.stat("f").st_gid]).toEqual([target.st_uid, target.st_gid]);
        fs.chown("l", 2345, 2345, 0);
        expect(fs.stat("f").st_uid).toBe(2345);
        expect(fs.lstat("l").st_uid).toBe(1234);
      }, ["chown", "symlinks"]);
    }
  });

  describe("utimens", () => {
    it("explicit times read back exactly through stat", (fs) => {
      writeFile(fs, "f", "");
      fs.utimens("f", { sec: 1_000_000_000, nsec: 500_000_000 }, { sec: 1_500_000_000, nsec: 250_000_000 }, 0);
      const st = fs.stat("f");
      expect([st.st_atime_sec, st.st_atime_nsec]).toEqual([1_000_000_000, 500_000_000]);
      expect([st.st_mtime_sec, st.st_mtime_nsec]).toEqual([1_500_000_000, 250_000_000]);
    });

    it("UTIME_OMIT keeps a time, UTIME_NOW sets the current one", (fs) => {
      writeFile(fs, "f", "");
      fs.utimens("f", { sec: 1_000_000_000, nsec: 0 }, { sec: 1_200_000_000, nsec: 0 }, 0);
      fs.utimens("f", { sec: 1_100_000_000, nsec: 0 }, { sec: 0, nsec: UTIME_OMIT }, 0);
      let st = fs.stat("f");
      expect([st.st_atime_sec, st.st_mtime_sec, st.st_mtime_nsec]).toEqual([1_100_000_000, 1_200_000_000, 0]);
      fs.utimens("f", { sec: 0, nsec: UTIME_OMIT }, { sec: 0, nsec: UTIME_NOW }, 0);
      st = fs.stat("f");
      expect(st.st_atime_sec).toBe(1_100_000_000);
      expect(st.st_mtime_sec).toBeGreaterThan(1_200_000_000);
    });

    it("follows a symlink, or changes the link itself with AT_SYMLINK_NOFOLLOW", (fs) => {
      writeFile(fs, "f", "");
      fs.symlink("f", "l");
      fs.utimens("l", { sec: 1_000_000_000, nsec: 0 }, { sec: 1_000_000_000, nsec: 0 }, 0);
      expect(fs.stat("f").st_mtime_sec).toBe(1_000_000_000);
      fs.utimens("l", { sec: 1_300_000_000, nsec: 0 }, { sec: 1_300_000_000, nsec: 0 }, AT_SYMLINK_NOFOLLOW);
      expect(fs.lstat("l").st_mtime_sec).toBe(1_300_000_000);
      expect(fs.stat("f").st_mtime_sec).toBe(1_000_000_000);
    }, ["symlinks"]);

    it("a missing name: ENOENT", (fs) => {
      expectErrno("ENOENT", () => fs.utimens("missing", { sec: 0, nsec: 0 }, { sec: 0, nsec: 0 }, 0));
    });
  });

  describe("access", () => {
    it("F_OK, R_OK and W_OK on an own file succeed; X_OK without any x bit: EACCES", (fs) => {
      writeFile(fs, "f", "");
      fs.chmod("f", 0o644);
      fs.access("f", F_OK);
      fs.access("f", R_OK | W_OK);
      expectErrno("EACCES", () => fs.access("f", X_OK));
      fs.chmod("f", 0o755);
      fs.access("f", X_OK);
      fs.access("/", F_OK);
      fs.access("", R_OK | X_OK);
    });

    it("a missing name: ENOENT; through a file: ENOTDIR", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOENT", () => fs.access("missing", F_OK));
      expectErrno("ENOTDIR", () => fs.access("f/x", F_OK));
    });
  });

  describe("statfs", () => {
    it("reports a block size and consistent block counts, for the root and a file", (fs) => {
      writeFile(fs, "f", "");
      for (const path of ["", "/", "f"]) {
        const st = fs.statfs(path);
        expect(st.f_bsize).toBeGreaterThan(0);
        expect(st.f_bfree).toBeLessThanOrEqual(st.f_blocks);
        expect(st.f_bavail).toBeLessThanOrEqual(st.f_bfree);
      }
    });

    it("a missing name: ENOENT", (fs) => {
      expectErrno("ENOENT", () => fs.statfs("missing"));
    });
  });
}
