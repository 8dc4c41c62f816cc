/** @module ensure-directory — creating a tenant's root directory in CephFS before a mount of it (ceph_mount needs it to exist). */
import { ERRNO, FsError } from "../../../../kernel/ipc/protocol/index.ts";
import { address, libcephfs } from "./libcephfs.ts";
import { isDirectory, S } from "./linux.ts";
import { CephMount, type CephMountOptions } from "./mount.ts";
import { CEPH_STATX, CEPH_STATX_MASK } from "./structs.ts";
import { cName } from "./walk.ts";

/**
 * Mounts the filesystem's "/" with `options` for the duration of the call and creates every missing directory of
 * `path` (absolute or relative to "/", like `mkdir -p`) with `mode` (default 0700), then unmounts. Symlinks in
 * `path` are not followed. Throws FsError (ENOTDIR: a component is not a directory; EINVAL: "." or ".." in `path`;
 * EACCES...) or CephMountError.
 */
export function ensureCephDirectory(options: Omit<CephMountOptions, "root">, path: string, mode = 0o700): void {
  const names = path.split("/").filter((part) => part !== "");
  if (names.some((name) => name === "." || name === ".." || name.includes("\0"))) throw new FsError(ERRNO.EINVAL, "mkdir", path);
  const mount = CephMount.open({ ...options, root: "/", renamer: false });
  try {
    const lib = libcephfs();
    const { mount: cmount, perms } = mount.shared;
    const out = new BigUint64Array(1);
    const statx = new Uint8Array(CEPH_STATX.size);
    const view = new DataView(statx.buffer);
    const fail = (result: number): never => {
      throw new FsError(-result, "mkdir", path);
    };
    let result = lib.ceph_ll_lookup_root(cmount, out);
    if (result < 0) fail(result);
    let current = address(out[0]!);
    try {
      for (const name of names) {
        result = lib.ceph_ll_lookup(cmount, current, cName(name), out, statx, CEPH_STATX_MASK.INO, 0, perms);
        if (result === -ERRNO.ENOENT) {
          result = lib.ceph_ll_mkdir(cmount, current, cName(name), mode & 0o7777, out, statx, 0, 0, perms);
          // Created meanwhile by someone else: look again.
          if (result === -ERRNO.EEXIST) result = lib.ceph_ll_lookup(cmount, current, cName(name), out, statx, CEPH_STATX_MASK.INO, 0, perms);
        }
        if (result < 0) fail(result);
        const child = address(out[0]!);
        const type = view.getUint16(CEPH_STATX.offsets.stx_mode, true) & S.IFMT;
        lib.ceph_ll_put(cmount, current);
        current = child;
        if (!isDirectory(type)) throw new FsError(ERRNO.ENOTDIR, "mkdir", path);
      }
    } finally {
      lib.ceph_ll_put(cmount, current);
    }
  } finally {
    mount.close();
  }
}
