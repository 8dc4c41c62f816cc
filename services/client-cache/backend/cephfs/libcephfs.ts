/**
 * @module libcephfs — every libcephfs symbol the cephfs backend calls, declared once for bun:ffi and loaded on first
 * use (importing this module on a machine without libcephfs never throws; the first call does, with
 * {@link CephLibraryMissingError}). Declarations follow /usr/include/cephfs/libcephfs.h of Ceph 16.2 (Pacific),
 * present since Luminous; symbols that may be missing in other versions live in `optional-symbols.ts`.
 *
 * Conventions of the C API: results are 0 / a count, or a negative errno; `Inode *`, `Fh *`, `UserPerm *`,
 * `struct ceph_dir_result *` and `struct ceph_mount_info *` are opaque addresses (numbers here); out-parameters
 * (`Inode **`, `Fh **`) are a one-element BigUint64Array; strings are NUL-terminated Buffers.
 */
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { CephLibraryMissingError } from "./errors.ts";

/** The soname of libcephfs (Debian package libcephfs2). */
export const LIBCEPHFS_SONAME = "libcephfs.so.2";

const { ptr, i32, u32, i64, i64_fast, u64, void: none, cstring } = FFIType;

/** The symbol table handed to dlopen: C prototype → bun:ffi types. */
const SYMBOLS = {
  // const char *ceph_version(int *major, int *minor, int *patch)
  ceph_version: { args: [ptr, ptr, ptr], returns: cstring },
  // int ceph_create(struct ceph_mount_info **cmount, const char *id)
  ceph_create: { args: [ptr, ptr], returns: i32 },
  // int ceph_conf_read_file(struct ceph_mount_info *cmount, const char *path_list)
  ceph_conf_read_file: { args: [ptr, ptr], returns: i32 },
  // int ceph_conf_set(struct ceph_mount_info *cmount, const char *option, const char *value)
  ceph_conf_set: { args: [ptr, ptr, ptr], returns: i32 },
  // int ceph_conf_get(struct ceph_mount_info *cmount, const char *option, char *buf, size_t len)
  ceph_conf_get: { args: [ptr, ptr, ptr, u64], returns: i32 },
  // int ceph_mount(struct ceph_mount_info *cmount, const char *root)
  ceph_mount: { args: [ptr, ptr], returns: i32 },
  // int ceph_unmount(struct ceph_mount_info *cmount)
  ceph_unmount: { args: [ptr], returns: i32 },
  // int ceph_release(struct ceph_mount_info *cmount)
  ceph_release: { args: [ptr], returns: i32 },
  // struct UserPerm *ceph_mount_perms(struct ceph_mount_info *cmount)
  ceph_mount_perms: { args: [ptr], returns: ptr },
  // uint64_t ceph_get_instance_id(struct ceph_mount_info *cmount)
  ceph_get_instance_id: { args: [ptr], returns: u64 },

  // int ceph_ll_lookup_root(struct ceph_mount_info *cmount, Inode **parent)
  ceph_ll_lookup_root: { args: [ptr, ptr], returns: i32 },
  // int ceph_ll_lookup(cmount, Inode *parent, const char *name, Inode **out, struct ceph_statx *stx,
  //                    unsigned want, unsigned flags, const UserPerm *perms)
  ceph_ll_lookup: { args: [ptr, ptr, ptr, ptr, ptr, u32, u32, ptr], returns: i32 },
  // int ceph_ll_put(struct ceph_mount_info *cmount, struct Inode *in)
  ceph_ll_put: { args: [ptr, ptr], returns: i32 },
  // int ceph_ll_getattr(cmount, Inode *in, struct ceph_statx *stx, unsigned want, unsigned flags, const UserPerm *perms)
  ceph_ll_getattr: { args: [ptr, ptr, ptr, u32, u32, ptr], returns: i32 },
  // int ceph_ll_setattr(cmount, Inode *in, struct ceph_statx *stx, int mask, const UserPerm *perms)
  ceph_ll_setattr: { args: [ptr, ptr, ptr, i32, ptr], returns: i32 },
  // int ceph_ll_open(cmount, Inode *in, int flags, Fh **fh, const UserPerm *perms)
  ceph_ll_open: { args: [ptr, ptr, i32, ptr, ptr], returns: i32 },
  // int ceph_ll_create(cmount, Inode *parent, const char *name, mode_t mode, int oflags, Inode **outp, Fh **fhp,
  //                    struct ceph_statx *stx, unsigned want, unsigned lflags, const UserPerm *perms)
  ceph_ll_create: { args: [ptr, ptr, ptr, u32, i32, ptr, ptr, ptr, u32, u32, ptr], returns: i32 },
  // int ceph_ll_mkdir(cmount, Inode *parent, const char *name, mode_t mode, Inode **out, struct ceph_statx *stx,
  //                   unsigned want, unsigned flags, const UserPerm *perms)
  ceph_ll_mkdir: { args: [ptr, ptr, ptr, u32, ptr, ptr, u32, u32, ptr], returns: i32 },
  // int ceph_ll_mknod(cmount, Inode *parent, const char *name, mode_t mode, dev_t rdev, Inode **out,
  //                   struct ceph_statx *stx, unsigned want, unsigned flags, const UserPerm *perms)
  ceph_ll_mknod: { args: [ptr, ptr, ptr, u32, u64, ptr, ptr, u32, u32, ptr], returns: i32 },
  // int ceph_ll_symlink(cmount, Inode *in, const char *name, const char *value, Inode **out, struct ceph_statx *stx,
  //                     unsigned want, unsigned flags, const UserPerm *perms)
  ceph_ll_symlink: { args: [ptr, ptr, ptr, ptr, ptr, ptr, u32, u32, ptr], returns: i32 },
  // int ceph_ll_readlink(cmount, Inode *in, char *buf, size_t bufsize, const UserPerm *perms)
  ceph_ll_readlink: { args: [ptr, ptr, ptr, u64, ptr], returns: i32 },
  // int ceph_ll_link(cmount, Inode *in, Inode *newparent, const char *name, const UserPerm *perms)
  ceph_ll_link: { args: [ptr, ptr, ptr, ptr, ptr], returns: i32 },
  // int ceph_ll_unlink(cmount, Inode *in, const char *name, const UserPerm *perms)
  ceph_ll_unlink: { args: [ptr, ptr, ptr, ptr], returns: i32 },
  // int ceph_ll_rmdir(cmount, Inode *in, const char *name, const UserPerm *perms)
  ceph_ll_rmdir: { args: [ptr, ptr, ptr, ptr], returns: i32 },
  // int ceph_ll_rename(cmount, Inode *parent, const char *name, Inode *newparent, const char *newname,
  //                    const UserPerm *perms)
  ceph_ll_rename: { args: [ptr, ptr, ptr, ptr, ptr, ptr], returns: i32 },
  // int ceph_ll_opendir(cmount, Inode *in, struct ceph_dir_result **dirpp, const UserPerm *perms)
  ceph_ll_opendir: { args: [ptr, ptr, ptr, ptr], returns: i32 },
  // int ceph_ll_releasedir(cmount, struct ceph_dir_result *dir)
  ceph_ll_releasedir: { args: [ptr, ptr], returns: i32 },
  // int ceph_getdents(cmount, struct ceph_dir_result *dirp, char *name, int buflen): whole `struct dirent` records
  ceph_getdents: { args: [ptr, ptr, ptr, i32], returns: i32 },
  // int64_t ceph_telldir(cmount, struct ceph_dir_result *dirp)
  ceph_telldir: { args: [ptr, ptr], returns: i64 },
  // void ceph_seekdir(cmount, struct ceph_dir_result *dirp, int64_t offset)
  ceph_seekdir: { args: [ptr, ptr, i64], returns: none },
  // int ceph_ll_read(cmount, Fh *fh, int64_t off, uint64_t len, char *buf): off < 0 reads at the handle's position
  ceph_ll_read: { args: [ptr, ptr, i64, u64, ptr], returns: i32 },
  // int ceph_ll_write(cmount, Fh *fh, int64_t off, uint64_t len, const char *data): off < 0 writes at the position
  ceph_ll_write: { args: [ptr, ptr, i64, u64, ptr], returns: i32 },
  // off_t ceph_ll_lseek(cmount, Fh *fh, off_t offset, int whence)
  ceph_ll_lseek: { args: [ptr, ptr, i64, i32], returns: i64_fast },
  // int ceph_ll_close(cmount, Fh *fh)
  ceph_ll_close: { args: [ptr, ptr], returns: i32 },
  // int ceph_ll_fsync(cmount, Fh *fh, int syncdataonly)
  ceph_ll_fsync: { args: [ptr, ptr, i32], returns: i32 },
  // int ceph_ll_sync_inode(cmount, Inode *in, int syncdataonly): also waits until the MDS has journaled the
  // metadata requests made on `in` (a directory's creates, renames...)
  ceph_ll_sync_inode: { args: [ptr, ptr, i32], returns: i32 },
  // int ceph_ll_statfs(cmount, Inode *in, struct statvfs *stbuf)
  ceph_ll_statfs: { args: [ptr, ptr, ptr], returns: i32 },
} as const;

function openLibrary() {
  return dlopen(LIBCEPHFS_SONAME, SYMBOLS);
}

/** The bound functions of libcephfs, by C name. */
export type CephFsCalls = ReturnType<typeof openLibrary>["symbols"];

let calls: CephFsCalls | undefined;

/**
 * The libcephfs functions, loaded on the first call in this thread (each Worker loads its own binding of the same
 * process-wide library). Throws {@link CephLibraryMissingError} when libcephfs.so.2 cannot be loaded.
 */
export function libcephfs(): CephFsCalls {
  if (calls !== undefined) return calls;
  try {
    calls = openLibrary().symbols;
  } catch (error) {
    throw new CephLibraryMissingError(LIBCEPHFS_SONAME, error);
  }
  return calls;
}

/** An opaque C address (`Inode *`, `Fh *`, `struct ceph_mount_info *`...) as bun:ffi passes it: a number. */
export type Address = Pointer;

/** The address held by an out-parameter slot or a stored number (0 stays the null address). */
export function address(value: number | bigint): Address {
  return Number(value) as Address;
}

/** The version of the loaded libcephfs ("16.2.15"). Throws CephLibraryMissingError when it cannot be loaded. */
export function cephVersion(): string {
  return String(libcephfs().ceph_version(null, null, null));
}
