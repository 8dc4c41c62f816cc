/**
 * @module scripts/rootfs/host-copy — copying one host path into a root tree as the host has it: every symlink on the
 * way (`/bin` → `usr/bin`, `/lib64/ld-linux-x86-64.so.2` → …) is recreated with its target and then followed, so
 * the same path resolves the same way inside the tree; directories keep their modes, files their bytes and mode.
 */
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, type Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { RootfsError } from "./rootfs-error.ts";

/** Symlinks followed for one path before it counts as a loop (the kernel's limit). */
const MAX_SYMLINKS = 40;

/** What a tree copy has written so far (tree paths, absolute inside the tree) and how many file bytes. */
export interface CopyState {
  readonly root: string;
  readonly written: Set<string>;
  bytes: number;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * Copies host path `path` (absolute) into `state.root`, with every symlink on its way, and returns the host path it
 * finally names (symlinks resolved). A directory is created (with its mode), not copied recursively. Throws
 * RootfsError "not-found" when the host has no such path, "loop" after {@link MAX_SYMLINKS} symlinks.
 */
export function copyHostPath(state: CopyState, path: string, hops = 0): string {
  if (hops > MAX_SYMLINKS) throw new RootfsError("loop", path, `more than ${MAX_SYMLINKS} symlinks`);
  const parts = resolve(path).split("/").filter((p) => p !== "");
  let current = "/";
  for (const [i, part] of parts.entries()) {
    const host = join(current, part);
    const st = lstatOrNull(host);
    if (st === null) throw new RootfsError("not-found", path, `${host} does not exist on this host`);
    const inTree = join(state.root, host);
    const last = i === parts.length - 1;
    if (st.isSymbolicLink()) {
      const target = readlinkSync(host);
      if (!state.written.has(host)) {
        if (lstatOrNull(inTree) === null) symlinkSync(target, inTree);
        state.written.add(host);
      }
      const rest = parts.slice(i + 1).join("/");
      return copyHostPath(state, join(resolve(dirname(host), target), rest), hops + 1);
    }
    if (st.isDirectory()) {
      if (lstatOrNull(inTree) === null) {
        mkdirSync(inTree);
        chmodSync(inTree, st.mode & 0o7777);
      }
    } else if (!last) {
      throw new RootfsError("not-found", path, `${host} is not a directory`);
    } else if (st.isFile()) {
      if (!state.written.has(host)) {
        mkdirSync(dirname(inTree), { recursive: true });
        copyFileSync(host, inTree);
        chmodSync(inTree, st.mode & 0o7777);
        state.written.add(host);
        state.bytes += st.size;
      }
    }
    // Devices, FIFOs and sockets are left out: an image import skips them anyway.
    current = host;
  }
  return current;
}
