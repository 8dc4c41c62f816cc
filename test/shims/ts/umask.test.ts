/** The client's view of its program's umask (shims/ts/umask.ts): what the kernel would take off a created node's mode. */
import { afterEach, expect, test } from "bun:test";
import { closeSync, readdirSync, readlinkSync } from "node:fs";
import { currentUmask, maskedMode } from "../../../shims/ts/umask.ts";

const original = process.umask();
afterEach(() => {
  process.umask(original);
});

test("reads the umask the program set, each time, without changing it", () => {
  for (const mask of [0o027, 0o000, 0o077, 0o022]) {
    process.umask(mask);
    expect(currentUmask()).toBe(mask);
    expect(currentUmask()).toBe(mask);
  }
});

test("takes the umask off the permission bits only: the file type and the set-ID and sticky bits stay", () => {
  process.umask(0o027);
  expect(maskedMode(0o100666)).toBe(0o100640);
  expect(maskedMode(0o6777)).toBe(0o6750);
  expect(maskedMode(0o1777)).toBe(0o1750);
  expect(maskedMode(0o010600)).toBe(0o010600);
});

test("a program that closes the descriptor it reads through still gets the right umask", () => {
  process.umask(0o077);
  expect(currentUmask()).toBe(0o077);
  for (const fd of readdirSync("/proc/self/fd")) {
    let target = "";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target === `/proc/${process.pid}/status`) closeSync(Number(fd));
  }
  process.umask(0o002);
  expect(currentUmask()).toBe(0o002);
});
