/**
 * @module fusermount — mounting FUSE without CAP_SYS_ADMIN through the setuid helper `fusermount3`, the way libfuse
 * does (lib/mount.c): a Unix socketpair, `fusermount3 -o <opts> -- <mount point>` with `_FUSE_COMMFD` naming its end,
 * and the /dev/fuse fd received back over the socket as SCM_RIGHTS. Unmounting is `fusermount3 -u -z` (lazy).
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { errno, fileCalls, SOCKET, unixStreamPair } from "../../../kernel/sys/libc.ts";
import { defineStruct, ERRNO, errnoName } from "../../../kernel/ipc/protocol/index.ts";

const socketLib = dlopen("libc.so.6", {
  recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64_fast },
});

/** Socket constants (Linux x86-64). */
const { SOL_SOCKET } = SOCKET;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;

/** `struct iovec` (x86-64): one buffer of a scatter/gather list. */
const iovec = defineStruct("iovec", "one buffer for recvmsg", [
  { name: "iov_base", type: "u64", offset: 0, doc: "void *: the buffer" },
  { name: "iov_len", type: "u64", offset: 8, doc: "size_t: its length" },
]);

/** `struct msghdr` (x86-64, 56 bytes): what recvmsg fills; pointers are addresses from `ptr()`. */
const msghdr = defineStruct("msghdr", "recvmsg arguments and results", [
  { name: "msg_name", type: "u64", offset: 0, doc: "void *: peer address (unused: NULL)" },
  { name: "msg_namelen", type: "u32", offset: 8 },
  { name: "__pad0", type: "u32", offset: 12 },
  { name: "msg_iov", type: "u64", offset: 16, doc: "struct iovec *: the data buffers" },
  { name: "msg_iovlen", type: "u64", offset: 24, doc: "size_t: how many iovecs" },
  { name: "msg_control", type: "u64", offset: 32, doc: "void *: ancillary data buffer (cmsghdrs)" },
  { name: "msg_controllen", type: "u64", offset: 40, doc: "size_t: its size in; bytes used out" },
  { name: "msg_flags", type: "i32", offset: 48, doc: "MSG_CTRUNC when the ancillary buffer was too small" },
  { name: "__pad1", type: "u32", offset: 52 },
]);

/**
 * `struct cmsghdr` (x86-64, 16 bytes) heading one ancillary message; its data follows at CMSG_DATA = +16. For one
 * SCM_RIGHTS fd: CMSG_LEN(4) = 20 and CMSG_SPACE(4) = 24 (data rounded up to 8).
 */
const cmsghdr = defineStruct("cmsghdr", "one ancillary message header", [
  { name: "cmsg_len", type: "u64", offset: 0, doc: "size_t: header plus data, unpadded (CMSG_LEN)" },
  { name: "cmsg_level", type: "i32", offset: 8, doc: "SOL_SOCKET" },
  { name: "cmsg_type", type: "i32", offset: 12, doc: "SCM_RIGHTS: the data is an int fd array" },
]);
const CMSG_LEN_ONE_FD = cmsghdr.size + 4;
const CMSG_SPACE_ONE_FD = cmsghdr.size + 8;

/** A fusermount3 run that did not mount or unmount; `stderr` is the helper's own explanation. */
export class FusermountError extends Error {
  override readonly name = "FusermountError";
  constructor(
    readonly mountPoint: string,
    readonly operation: "mount" | "unmount",
    /** The helper's exit code (null: it never ran or was killed). */
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly problem: string,
  ) {
    super(`fusermount3 ${operation} of ${mountPoint} failed: ${problem}${stderr.trim() ? ` (fusermount3 said: ${stderr.trim()})` : ""}`);
  }
}

/** Absolute path of fusermount3 on $PATH or in the usual places, or undefined when it is not installed. */
export function findFusermount(): string | undefined {
  return Bun.which("fusermount3") ?? Bun.which("fusermount3", { PATH: "/usr/bin:/bin:/usr/local/bin" }) ?? undefined;
}

/** Whether `/etc/fuse.conf` (or `confText`) lets non-root users mount with allow_other (`user_allow_other` line). */
export function userAllowOther(confText?: string): boolean {
  let text = confText;
  if (text === undefined) {
    try {
      text = readFileSync("/etc/fuse.conf", "utf8");
    } catch {
      return false;
    }
  }
  // fusermount3 compares each line, trailing blanks stripped, with the bare word.
  return text.split("\n").some((line) => line.trimEnd() === "user_allow_other");
}

/** What to ask fusermount3 for. */
export interface FusermountOptions {
  /** Source (`fsname`) and type suffix (`subtype`): the mount appears as `<name>` of type `fuse.<name>`. */
  readonly name: string;
  readonly allowOther: boolean;
  readonly defaultPermissions: boolean;
}

/** An fsname/subtype value escaped the way fusermount3 parses it (backslash before `,` and `\`). */
const escapeValue = (value: string): string => value.replace(/[\\,]/g, (c) => `\\${c}`);

/**
 * The `-o` string for fusermount3: nosuid,nodev (forced for users anyway), fsname, subtype and the wanted kernel
 * options. fd, rootmode, user_id and group_id are added by fusermount3 itself. Returns the string and the options
 * left out: `allow_other` when not root and /etc/fuse.conf lacks `user_allow_other` (fusermount3 would refuse the
 * whole mount); the mount is then usable by the mounting user only.
 */
export function fusermountOptions(options: FusermountOptions, asRoot: boolean, allowOtherPermitted: boolean): { opts: string; dropped: string[] } {
  const parts = ["nosuid", "nodev", `fsname=${escapeValue(options.name)}`, `subtype=${escapeValue(options.name)}`];
  const dropped: string[] = [];
  if (options.defaultPermissions) parts.push("default_permissions");
  if (options.allowOther) {
    if (asRoot || allowOtherPermitted) parts.push("allow_other");
    else dropped.push("allow_other");
  }
  return { opts: parts.join(","), dropped };
}

/** A mount made by fusermount3: the /dev/fuse fd it handed over (close-on-exec) and the options it left out. */
export interface FusermountMount {
  readonly fd: number;
  readonly dropped: readonly string[];
}

/**
 * Mounts `mountPoint` through fusermount3 and returns the /dev/fuse fd it opened (the kernel has queued FUSE_INIT on
 * it: the caller must answer). Kills the helper (by pid) after `timeoutMs`. Throws {@link FusermountError}: not
 * installed, refused (its stderr says why: mount point not owned, /dev/fuse not accessible, allow_other, ...).
 */
export async function mountWithFusermount(mountPoint: string, options: FusermountOptions, timeoutMs = 10_000): Promise<FusermountMount> {
  const helper = findFusermount();
  if (helper === undefined) throw new FusermountError(mountPoint, "mount", null, "", "fusermount3 is not installed (Debian: apt-get install fuse3)");
  const asRoot = process.getuid?.() === 0;
  const { opts, dropped } = fusermountOptions(options, asRoot, userAllowOther());
  const pair = unixStreamPair();
  if (pair === null) throw new FusermountError(mountPoint, "mount", null, "", `socketpair failed: ${errnoName(errno()) ?? errno()}`);
  const [helperEnd, ourEnd] = pair;
  try {
    // The helper's end becomes its fd 3 (dup2 clears close-on-exec), named by _FUSE_COMMFD.
    const child = Bun.spawn([helper, "-o", opts, "--", mountPoint], {
      stdio: ["ignore", "ignore", "pipe", helperEnd],
      env: { _FUSE_COMMFD: "3", PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    fileCalls.close(helperEnd);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const stderrText = new Response(child.stderr).text();
    const outcome = await Promise.race([child.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      child.kill("SIGKILL");
      await child.exited;
      throw new FusermountError(mountPoint, "mount", null, await stderrText, `no answer within ${timeoutMs} ms`);
    }
    const stderr = await stderrText;
    // fusermount3 sends the fd before it exits, so it waits in the socket now (or never comes: the mount failed).
    const fd = receiveFd(ourEnd);
    if (outcome !== 0 || fd < 0) {
      if (fd >= 0) fileCalls.close(fd);
      const problem = fd >= 0 ? `exit status ${outcome}` : outcome === 0 ? "no fd came back" : `exit status ${outcome}, no fd came back`;
      throw new FusermountError(mountPoint, "mount", outcome, stderr, problem);
    }
    return { fd, dropped };
  } finally {
    fileCalls.close(ourEnd);
  }
}

/**
 * Receives one fd sent as SCM_RIGHTS on `socket` without blocking (recvmsg with MSG_DONTWAIT, close-on-exec set on
 * the new fd). Returns it, or -1 when nothing (or something else) arrived.
 */
function receiveFd(socket: number): number {
  const data = new Uint8Array(1); // "at least one byte" must travel with the fd (unix(7))
  const iov = new Uint8Array(iovec.size);
  const control = new Uint8Array(CMSG_SPACE_ONE_FD);
  const message = new Uint8Array(msghdr.size);
  iovec.write(new DataView(iov.buffer), 0, { iov_base: ptr(data), iov_len: data.length });
  const messageView = new DataView(message.buffer);
  msghdr.write(messageView, 0, { msg_iov: ptr(iov), msg_iovlen: 1, msg_control: ptr(control), msg_controllen: control.length });
  let received: number;
  do received = socketLib.symbols.recvmsg(socket, ptr(message), MSG_DONTWAIT | MSG_CMSG_CLOEXEC) as number;
  while (received < 0 && errno() === ERRNO.EINTR);
  if (received <= 0) return -1;
  const result = msghdr.read(messageView, 0);
  if (result.msg_controllen < CMSG_LEN_ONE_FD || (result.msg_flags & MSG_CTRUNC) !== 0) return -1;
  const controlView = new DataView(control.buffer);
  const header = cmsghdr.read(controlView, 0);
  if (header.cmsg_level !== SOL_SOCKET || header.cmsg_type !== SCM_RIGHTS || header.cmsg_len < CMSG_LEN_ONE_FD) return -1;
  return controlView.getInt32(cmsghdr.size, true);
}

/**
 * Unmounts a fusermount3 mount lazily (`fusermount3 -u -z`: it disappears now, the connection ends with its last
 * user). Returns 0, EINVAL when `mountPoint` is no longer a mount point, or EPERM when fusermount3 refused
 * (another user's mount) or is missing.
 */
export function unmountWithFusermount(mountPoint: string): number {
  const helper = findFusermount();
  if (helper !== undefined) {
    const run = Bun.spawnSync([helper, "-u", "-z", "--", mountPoint], { stdio: ["ignore", "ignore", "pipe"] });
    if (run.exitCode === 0) return 0;
  }
  return isMountPoint(mountPoint) ? ERRNO.EPERM : ERRNO.EINVAL;
}
