/**
 * @module cephfs-backend — the `cephfs` backend: a directory of a libcephfs mount served as a FileSystem, every
 * lookup walked by hand on the low-level inode API and confined to that directory (see `walk.ts`).
 */
import {
  ERRNO,
  FsError,
  isByteString,
  isDeviceMode,
  mknodNode,
  UTIME_NOW,
  UTIME_OMIT,
  writeInt64,
  type Dirent,
  type FileSystem,
  type Stat,
  type Statfs,
  type Timespec,
} from "../../../../kernel/ipc/protocol/index.ts";
import { statvfsToStatfs, statxToStat } from "./attributes.ts";
import { HandleKind, HandleTable } from "./handle-table.ts";
import { address, libcephfs, type Address, type CephFsCalls } from "./libcephfs.ts";
import { ACCESS, AT_SYMLINK_NOFOLLOW, CEPH_OPEN_FLAGS, isDirectory, isSymlink, O, PATH_MAX, S, SEEK } from "./linux.ts";
import type { CephShared } from "./mount.ts";
import { mayAccess, mayMakeDevice, processCredentials, type Credentials } from "./permission.ts";
import { readDirectoryBatch } from "./readdir.ts";
import { CEPH_SETATTR, CEPH_STATX, CEPH_STATX_MASK, STATVFS } from "./structs.ts";
import { MAX_IO_BYTES, transferInPieces } from "./transfer.ts";
import { cName, Walker, type Held, type Missing, type ParentOf } from "./walk.ts";

/** Tuning of one backend instance. */
export interface CephBackendOptions {
  /**
   * The most bytes one ceph_ll_read / ceph_ll_write call moves; larger transfers are split (default
   * {@link MAX_IO_BYTES}, 1 GiB; at most 2^31 - 1).
   */
  readonly ioChunkBytes?: number;
  /**
   * A umask applied to the mode of created nodes (default 0: none). The caller's umask is its front end's to apply
   * (the kernel before a FUSE request, the client library before a ring request), so a service applies none.
   */
  readonly umask?: number;
}

// Per-thread scratch space: every call is synchronous, so one of each is enough.
const statx = new Uint8Array(CEPH_STATX.size);
const statxView = new DataView(statx.buffer);
const statvfs = new Uint8Array(STATVFS.size);
const statvfsView = new DataView(statvfs.buffer);
const inodeOut = new BigUint64Array(1);
const objectOut = new BigUint64Array(1);

const X = CEPH_STATX.offsets;
const ALL_ATTRIBUTES = CEPH_STATX_MASK.BASIC_STATS;
/** A retry bound for O_CREAT losing a race against a concurrent create of the same name. */
const CREATE_RETRIES = 16;
const MAX_CHUNK = 2 ** 31 - 1;

/** Throws FsError(-result) for a negative libcephfs result; returns the result otherwise. */
function check(result: number, syscall: string, path?: string): number {
  if (result < 0) throw new FsError(-result, syscall, path);
  return result;
}

/** Throws EINVAL for a utimens time that is neither UTIME_NOW, UTIME_OMIT nor a timespec with nsec in [0, 1e9). */
function validTime(time: Timespec, syscall: string, path: string): void {
  if (time.nsec === UTIME_NOW || time.nsec === UTIME_OMIT) return;
  if (!Number.isSafeInteger(time.sec) || !Number.isInteger(time.nsec) || time.nsec < 0 || time.nsec >= 1e9) {
    throw new FsError(ERRNO.EINVAL, syscall, path);
  }
}

/**
 * A directory of a CephFS mount as a filesystem instance. Build one in any thread from the mount's
 * {@link CephShared}; every path is resolved by `walk.ts` under the confinement rule, so no "..", absolute or
 * escaping symlink reaches anything outside `subRoot`. Handles are slots of the mount's shared handle table, valid
 * in every thread of the process (a handle opened by one backend may be used through another backend of the same
 * mount); they are not checked for ownership: the caller must only pass handles this backend returned. Methods are
 * synchronous (they block the calling thread for the MDS/OSD round trips: call them from Workers) and throw
 * {@link FsError} with Linux's errno. rename() supports no flags (EINVAL).
 */
export class CephBackend implements FileSystem {
  private readonly lib: CephFsCalls;
  private readonly mount: Address;
  private readonly perms: Address;
  private readonly dev: number;
  private readonly table: HandleTable;
  private readonly walker: Walker;
  /** The renamer client of the mount ({@link CephShared.renamer}), or null. */
  private readonly renamer: CephShared["renamer"];
  /** A walker of the same sub-root on the renamer, opened at the first rename that needs it. */
  private renamerWalker: Walker | null = null;
  private readonly chunk: number;
  private readonly umask: number;
  private readonly credentials: Credentials;
  private disposed = false;

  /**
   * Serves the directory `subRoot` of the mount (a path inside the mount's root, "" for the root itself; resolved
   * under the mount root with symlinks followed). Throws FsError (ENOENT, ENOTDIR, ENOTCONN once the mount is
   * closed), TypeError for a CephShared of another process, CephLibraryMissingError.
   */
  constructor(shared: CephShared, readonly subRoot: string, options: CephBackendOptions = {}) {
    if (shared.pid !== process.pid) {
      throw new TypeError(`this CephShared belongs to process ${shared.pid}; open a CephMount in process ${process.pid} itself`);
    }
    const chunk = options.ioChunkBytes ?? MAX_IO_BYTES;
    if (!Number.isInteger(chunk) || chunk < 1 || chunk > MAX_CHUNK) throw new RangeError(`ioChunkBytes ${chunk} must be in [1, 2^31 - 1]`);
    this.chunk = chunk;
    this.umask = options.umask ?? 0;
    this.credentials = processCredentials();
    this.lib = libcephfs();
    this.mount = shared.mount;
    this.perms = shared.perms;
    this.dev = shared.dev;
    this.table = new HandleTable(shared.table);
    this.renamer = shared.renamer;
    this.table.enter("open");
    try {
      this.walker = new Walker(this.lib, this.mount, this.perms, this.openSubRoot(this.mount, this.perms, subRoot));
    } finally {
      this.table.leave();
    }
  }

  /** Puts the sub-root's reference; every later call fails with EBADF. Handles stay valid until closed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.table.closed) return;
    this.table.enter("close");
    try {
      this.lib.ceph_ll_put(this.mount, this.walker.root);
      if (this.renamerWalker !== null) this.lib.ceph_ll_put(this.renamer!.mount, this.renamerWalker.root);
    } finally {
      this.table.leave();
    }
  }

  /** Disposes the backend (for `using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * open(2) under the sub-root. O_CREAT creates with `mode` less the `umask` option (through a dangling final
   * symlink: its target); O_PATH is refused with EINVAL, O_TMPFILE with EOPNOTSUPP. EEXIST, ENOENT, ENOTDIR, EISDIR,
   * ELOOP (O_NOFOLLOW on a symlink, symlink loops), EACCES, ENAMETOOLONG, EMFILE (handle table full).
   */
  open(path: string, flags: number, mode: number): number {
    return this.call("open", () => {
      if ((flags & O.TMPFILE) === O.TMPFILE) throw new FsError(ERRNO.EOPNOTSUPP, "open", path);
      if (flags & O.PATH) throw new FsError(ERRNO.EINVAL, "open", path);
      if ((flags & O.ACCMODE) === O.ACCMODE) throw new FsError(ERRNO.EINVAL, "open", path);
      const creating = (flags & O.CREAT) !== 0;
      const exclusive = creating && (flags & O.EXCL) !== 0;
      const follow = !exclusive && (flags & O.NOFOLLOW) === 0;
      if (creating && path.endsWith("/")) {
        // Linux refuses O_CREAT on a name with a trailing slash before looking it up.
        this.walker.put(this.walker.parentOf(path, "open").parent);
        throw new FsError(ERRNO.EISDIR, "open", path);
      }
      if (creating) {
        const created = this.createNamed(path, flags, mode, exclusive);
        if (created !== null) return created;
      }
      for (let attempt = 0; ; attempt++) {
        const found = creating ? this.walker.resolveOrMissing(path, follow, "open") : this.walker.resolve(path, follow, "open");
        if (!("name" in found)) return this.openFound(found, flags, path);
        try {
          return this.createFile(found, flags, mode, path);
        } catch (error) {
          // Someone created the name between the lookup and the create: open what is there now.
          if (!(error instanceof FsError) || error.errno !== ERRNO.EEXIST || exclusive || attempt >= CREATE_RETRIES) throw error;
        }
      }
    });
  }

  /**
   * -1: libcephfs stores FIFOs but has no pipes, so this backend never hands out a FIFO node (an open of a FIFO gives a
   * plain handle without pipe semantics and never waits; through a legacy mount the kernel serves the pipe).
   */
  fifoNode(_fd: number): number {
    return -1;
  }

  /** Releases a handle: flushes and closes the file (ceph_ll_close) or the directory. EBADF. */
  close(fd: number): void {
    this.call("close", () => {
      this.table.beginClose(fd, "close");
      try {
        const object = this.table.object(fd);
        const closed = this.table.kind(fd) === HandleKind.FILE ? this.lib.ceph_ll_close(this.mount, object) : this.lib.ceph_ll_releasedir(this.mount, object);
        this.lib.ceph_ll_put(this.mount, this.table.inode(fd));
        check(closed, "close");
      } finally {
        this.table.finishClose(fd);
      }
    });
  }

  /** pread(2), split into pieces of at most `ioChunkBytes`. EBADF (closed, write-only), EISDIR, EINVAL (negative offset). */
  pread(fd: number, into: Uint8Array, offset: number): number {
    return this.onFile(fd, "pread", O.WRONLY, (fh) => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new FsError(ERRNO.EINVAL, "pread");
      return this.readPieces(fh, into, offset, "pread");
    });
  }

  /** pwrite(2); for O_APPEND handles at the end whatever the offset (as Linux), leaving the position. EBADF, EFBIG, ENOSPC, EINVAL. */
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    return this.onFile(fd, "pwrite", O.RDONLY, (fh) => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new FsError(ERRNO.EINVAL, "pwrite");
      if ((this.table.flags(fd) & O.APPEND) === 0) return this.writePieces(fh, data, offset, "pwrite");
      return this.table.withCursor(fd, () => {
        const position = this.seek(fh, 0, SEEK.CUR, "pwrite");
        try {
          return this.writePieces(fh, data, -1, "pwrite");
        } finally {
          this.seek(fh, position, SEEK.SET, "pwrite");
        }
      });
    });
  }

  /** read(2) at the handle's position, advancing it. EBADF, EISDIR. */
  read(fd: number, into: Uint8Array): number {
    return this.onFile(fd, "read", O.WRONLY, (fh) => this.table.withCursor(fd, () => this.readPieces(fh, into, -1, "read")));
  }

  /** write(2) at the handle's position (the end for O_APPEND), advancing it. EBADF, EFBIG, ENOSPC. */
  write(fd: number, data: Uint8Array): number {
    return this.onFile(fd, "write", O.RDONLY, (fh) => this.table.withCursor(fd, () => this.writePieces(fh, data, -1, "write")));
  }

  /**
   * lseek(2): SEEK_SET, SEEK_CUR, SEEK_END (and SEEK_DATA / SEEK_HOLE) on files; on a directory only a rewind
   * (offset 0, SEEK_SET). EINVAL (negative result, bad whence), EBADF.
   */
  lseek(fd: number, offset: number, whence: number): number {
    return this.withHandle(fd, "lseek", () => {
      if (!Number.isSafeInteger(offset)) throw new FsError(ERRNO.EINVAL, "lseek");
      const object = this.table.object(fd);
      if (this.table.kind(fd) === HandleKind.DIRECTORY) {
        if (offset !== 0 || whence !== SEEK.SET) throw new FsError(ERRNO.EINVAL, "lseek");
        this.table.withCursor(fd, () => this.lib.ceph_seekdir(this.mount, object, 0));
        return 0;
      }
      return this.table.withCursor(fd, () => this.seek(object, offset, whence, "lseek"));
    });
  }

  /** fstat(2). EBADF. */
  fstat(fd: number): Stat {
    return this.withHandle(fd, "fstat", () => this.getattr(this.table.inode(fd), "fstat"));
  }

  /** stat(2), following symlinks inside the sub-root. ENOENT, ENOTDIR, ELOOP, EACCES. */
  stat(path: string): Stat {
    return this.call("stat", () => this.onResolved(path, true, "stat", (held) => this.getattr(held.inode, "stat", path)));
  }

  /** lstat(2): a final symlink itself. ENOENT, ENOTDIR, ELOOP, EACCES. */
  lstat(path: string): Stat {
    return this.call("lstat", () => this.onResolved(path, false, "lstat", (held) => this.getattr(held.inode, "lstat", path)));
  }

  /** ftruncate(2). EINVAL (negative length, handle not open for writing, a directory), EBADF, EFBIG. */
  ftruncate(fd: number, length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw new FsError(ERRNO.EINVAL, "ftruncate");
    this.withHandle(fd, "ftruncate", () => {
      if (this.table.kind(fd) !== HandleKind.FILE || (this.table.flags(fd) & O.ACCMODE) === O.RDONLY) {
        throw new FsError(ERRNO.EINVAL, "ftruncate");
      }
      this.setSize(this.table.inode(fd), length, "ftruncate");
    });
  }

  /** truncate(2), following symlinks. EISDIR, ENOENT, EACCES, EINVAL (negative length, not a regular file), EFBIG. */
  truncate(path: string, length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw new FsError(ERRNO.EINVAL, "truncate", path);
    this.call("truncate", () =>
      this.onResolved(path, true, "truncate", (held) => {
        if (isDirectory(held.type)) throw new FsError(ERRNO.EISDIR, "truncate", path);
        if (held.type !== S.IFREG) throw new FsError(ERRNO.EINVAL, "truncate", path);
        this.requireAccess(held, ACCESS.W_OK, "truncate", path);
        this.setSize(held.inode, length, "truncate", path);
      }),
    );
  }

  /** fsync(2): flushes the file's data and metadata to the OSDs and MDS (a no-op for directories). EBADF, EIO. */
  fsync(fd: number): void {
    this.withHandle(fd, "fsync", () => {
      if (this.table.kind(fd) === HandleKind.FILE) check(this.lib.ceph_ll_fsync(this.mount, this.table.object(fd), 0), "fsync");
    });
  }

  /** fdatasync(2): flushes the file's data (a no-op for directories). EBADF, EIO. */
  fdatasync(fd: number): void {
    this.withHandle(fd, "fdatasync", () => {
      if (this.table.kind(fd) === HandleKind.FILE) check(this.lib.ceph_ll_fsync(this.mount, this.table.object(fd), 1), "fdatasync");
    });
  }

  /**
   * mkdir(2) with the permission and sticky bits of `mode` (less the `umask` option; set-user-ID and set-group-ID are
   * ignored, as Linux's mkdir does: a directory is set-group-ID when its parent is). EEXIST (also for the root, "."
   * and ".."), ENOENT, ENOTDIR, ENAMETOOLONG.
   */
  mkdir(path: string, mode: number): void {
    this.call("mkdir", () =>
      this.onParent(path, "mkdir", (at) => {
        if (at.kind !== "name") throw new FsError(ERRNO.EEXIST, "mkdir", path);
        const created = this.lib.ceph_ll_mkdir(this.mount, at.parent.inode, cName(at.name), this.creationMode(mode & 0o1777), inodeOut, statx, 0, 0, this.perms);
        check(created, "mkdir", path);
        this.lib.ceph_ll_put(this.mount, address(inodeOut[0]!));
      }),
    );
  }

  /**
   * mknod(2) of a FIFO, socket, empty regular file or device numbered `rdev`, with `mode` less the `umask` option
   * (ceph_ll_mknod; the MDS stores the type and number, and a FIFO, socket or device is only a name to libcephfs: a
   * host mounting the tree with the kernel client uses it). Neither libcephfs nor the MDS asks for CAP_MKNOD, so this
   * backend does, as Linux: a device from a service that is not root answers EPERM (see `mayMakeDevice`). EINVAL
   * (other types, see `mknodNode`), EPERM (S_IFDIR), EEXIST (also for the root, "." and ".."), ENOENT, ENOTDIR,
   * ENAMETOOLONG.
   */
  mknod(path: string, mode: number, rdev: number): void {
    this.call("mknod", () => {
      const node = mknodNode(mode, rdev, path);
      this.onParent(path, "mknod", (at) => {
        if (at.kind !== "name") throw new FsError(ERRNO.EEXIST, "mknod", path);
        if (isDeviceMode(node.type) && !mayMakeDevice(this.credentials, node.type, node.rdev)) throw new FsError(ERRNO.EPERM, "mknod", path);
        const made = this.lib.ceph_ll_mknod(this.mount, at.parent.inode, cName(at.name), node.type | this.creationMode(mode), node.rdev, inodeOut, statx, 0, 0, this.perms);
        check(made, "mknod", path);
        this.lib.ceph_ll_put(this.mount, address(inodeOut[0]!));
      });
    });
  }

  /** rmdir(2). ENOTEMPTY (also ".."), ENOTDIR, ENOENT, EINVAL ("."), EBUSY (the sub-root). */
  rmdir(path: string): void {
    this.call("rmdir", () =>
      this.onParent(path, "rmdir", (at) => {
        if (at.kind === "root") throw new FsError(ERRNO.EBUSY, "rmdir", path);
        if (at.kind === "dot") throw new FsError(ERRNO.EINVAL, "rmdir", path);
        if (at.kind === "dotdot") throw new FsError(ERRNO.ENOTEMPTY, "rmdir", path);
        check(this.lib.ceph_ll_rmdir(this.mount, at.parent.inode, cName(at.name), this.perms), "rmdir", path);
      }),
    );
  }

  /** unlink(2); a final symlink is removed, not its target. EISDIR, ENOENT, ENOTDIR. */
  unlink(path: string): void {
    this.call("unlink", () =>
      this.onParent(path, "unlink", (at) => {
        if (at.kind !== "name") throw new FsError(ERRNO.EISDIR, "unlink", path);
        if (at.trailingSlash) {
          const type = this.typeOfName(at, "unlink", path);
          throw new FsError(isDirectory(type) ? ERRNO.EISDIR : ERRNO.ENOTDIR, "unlink", path);
        }
        check(this.lib.ceph_ll_unlink(this.mount, at.parent.inode, cName(at.name), this.perms), "unlink", path);
      }),
    );
  }

  /**
   * rename(2) within the sub-root. libcephfs has no renameat2 flags: any flag fails with EINVAL. EEXIST, ENOTEMPTY,
   * EISDIR, ENOTDIR, EINVAL (into its own subdirectory), EBUSY (the sub-root, "." or ".."), ENOENT, EXDEV.
   */
  rename(from: string, to: string, flags: number): void {
    this.call("rename", () => {
      if (flags !== 0) throw new FsError(ERRNO.EINVAL, "rename", from);
      this.onParent(from, "rename", (source) =>
        this.onParent(to, "rename", (target) => {
          if (source.kind !== "name" || target.kind !== "name") throw new FsError(ERRNO.EBUSY, "rename", from);
          const moving = this.walker.lookupName(source.parent, source.name, "rename", from);
          if (moving === null) throw new FsError(ERRNO.ENOENT, "rename", from);
          const replaced = this.walker.lookupName(target.parent, target.name, "rename", to);
          let replacesLinkedFile = false;
          try {
            replacesLinkedFile = replaced !== null && !isDirectory(replaced.type) && this.linkCount(replaced.inode, "rename", to) > 1;
          } finally {
            this.walker.put(moving);
            if (replaced !== null) this.walker.put(replaced);
          }
          // A trailing slash on either side requires the source to be a directory.
          if ((source.trailingSlash || target.trailingSlash) && !isDirectory(moving.type)) throw new FsError(ERRNO.ENOTDIR, "rename", from);
          // Two names of one inode: Linux does nothing; libcephfs would remove the source name.
          if (replaced !== null && replaced.inode === moving.inode) return;
          if (replacesLinkedFile && this.renamer !== null) return this.renameOnRenamer(from, to);
          const renamed = this.lib.ceph_ll_rename(this.mount, source.parent.inode, cName(source.name), target.parent.inode, cName(target.name), this.perms);
          check(renamed, "rename", from);
        }),
      );
    });
  }

  /**
   * One batch of entries of the open directory `fd` after `cookie` (see `readdir.ts`), of about `maxBytes` (at most
   * 64 KiB of records); empty at the end. EBADF, ENOTDIR (a file handle), EINVAL (bad cookie).
   */
  readdir(fd: number, cookie: number, maxBytes?: number): Dirent[] {
    return this.withHandle(fd, "readdir", () => {
      if (this.table.kind(fd) !== HandleKind.DIRECTORY) throw new FsError(ERRNO.ENOTDIR, "readdir");
      const dirp = this.table.object(fd);
      return this.table.withCursor(fd, () => readDirectoryBatch(this.lib, this.mount, dirp, cookie, maxBytes));
    });
  }

  /** symlink(2): `path` holds `target` verbatim (never resolved here). EEXIST, ENOENT, ENOTDIR, ENAMETOOLONG, EINVAL (NUL). */
  symlink(target: string, path: string): void {
    this.call("symlink", () => {
      if (target.includes("\0") || !isByteString(target)) throw new FsError(ERRNO.EINVAL, "symlink", path);
      if (target === "") throw new FsError(ERRNO.ENOENT, "symlink", path);
      if (target.length >= PATH_MAX) throw new FsError(ERRNO.ENAMETOOLONG, "symlink", path);
      this.onParent(path, "symlink", (at) => {
        if (at.kind !== "name") throw new FsError(ERRNO.EEXIST, "symlink", path);
        const made = this.lib.ceph_ll_symlink(this.mount, at.parent.inode, cName(at.name), cName(target), inodeOut, statx, 0, 0, this.perms);
        check(made, "symlink", path);
        this.lib.ceph_ll_put(this.mount, address(inodeOut[0]!));
      });
    });
  }

  /** readlink(2): the stored target. EINVAL (not a symlink), ENOENT, ENOTDIR. */
  readlink(path: string): string {
    return this.call("readlink", () =>
      this.onResolved(path, false, "readlink", (held) => {
        if (!isSymlink(held.type)) throw new FsError(ERRNO.EINVAL, "readlink", path);
        return this.walker.readTarget(held, "readlink", path);
      }),
    );
  }

  /** link(2): `path` becomes another name of `existing` (a symlink is linked itself). EEXIST, EPERM (directories), ENOENT. */
  link(existing: string, path: string): void {
    this.call("link", () =>
      this.onResolved(existing, false, "link", (source) => {
        if (isDirectory(source.type)) throw new FsError(ERRNO.EPERM, "link", existing);
        this.onParent(path, "link", (at) => {
          if (at.kind !== "name") throw new FsError(ERRNO.EEXIST, "link", path);
          check(this.lib.ceph_ll_link(this.mount, source.inode, at.parent.inode, cName(at.name), this.perms), "link", path);
        });
      }),
    );
  }

  /** chmod(2), following symlinks inside the sub-root. ENOENT, EPERM, ELOOP. */
  chmod(path: string, mode: number): void {
    this.call("chmod", () =>
      this.onResolved(path, true, "chmod", (held) => {
        statxView.setUint16(X.stx_mode, mode & 0o7777, true);
        this.setattr(held.inode, CEPH_SETATTR.MODE, "chmod", path);
      }),
    );
  }

  /** chown; uid/gid -1 keep; flags AT_SYMLINK_NOFOLLOW changes a final symlink itself. EPERM, ENOENT, EINVAL (flags). */
  chown(path: string, uid: number, gid: number, flags: number): void {
    this.call("chown", () => {
      if ((flags & ~AT_SYMLINK_NOFOLLOW) !== 0) throw new FsError(ERRNO.EINVAL, "chown", path);
      this.onResolved(path, (flags & AT_SYMLINK_NOFOLLOW) === 0, "chown", (held) => {
        let mask = 0;
        if (uid !== -1 && uid >>> 0 !== 0xffffffff) {
          mask |= CEPH_SETATTR.UID;
          statxView.setUint32(X.stx_uid, uid >>> 0, true);
        }
        if (gid !== -1 && gid >>> 0 !== 0xffffffff) {
          mask |= CEPH_SETATTR.GID;
          statxView.setUint32(X.stx_gid, gid >>> 0, true);
        }
        if (mask !== 0) this.setattr(held.inode, mask, "chown", path);
      });
    });
  }

  /**
   * utimensat(2) with explicit times or the UTIME_NOW / UTIME_OMIT nsec values; flags AT_SYMLINK_NOFOLLOW.
   * EPERM/EACCES (not the owner), ENOENT, EINVAL (nsec out of range, flags).
   */
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    this.call("utimens", () => {
      if ((flags & ~AT_SYMLINK_NOFOLLOW) !== 0) throw new FsError(ERRNO.EINVAL, "utimens", path);
      validTime(atime, "utimens", path);
      validTime(mtime, "utimens", path);
      this.onResolved(path, (flags & AT_SYMLINK_NOFOLLOW) === 0, "utimens", (held) => {
        const mask = this.timeMask(atime, X.stx_atime_sec, CEPH_SETATTR.ATIME, CEPH_SETATTR.ATIME_NOW) |
          this.timeMask(mtime, X.stx_mtime_sec, CEPH_SETATTR.MTIME, CEPH_SETATTR.MTIME_NOW);
        if (mask !== 0) this.setattr(held.inode, mask, "utimens", path);
      });
    });
  }

  /** access(2) for the service's uid/gid, following symlinks. ENOENT, EACCES, ENOTDIR, EINVAL (mode). */
  access(path: string, mode: number): void {
    this.call("access", () => {
      if ((mode & ~7) !== 0) throw new FsError(ERRNO.EINVAL, "access", path);
      this.onResolved(path, true, "access", (held) => {
        if (mode !== ACCESS.F_OK) this.requireAccess(held, mode, "access", path);
      });
    });
  }

  /** statfs(2) of the filesystem holding `path` (following symlinks): the whole cluster's space. ENOENT, ENOTDIR. */
  statfs(path: string): Statfs {
    return this.call("statfs", () =>
      this.onResolved(path, true, "statfs", (held) => {
        check(this.lib.ceph_ll_statfs(this.mount, held.inode, statvfs), "statfs", path);
        return statvfsToStatfs(statvfsView);
      }),
    );
  }

  // ---- helpers ----

  /** Runs `body` as one call on the mount: refused with EBADF after dispose and ENOTCONN once the mount is closed. */
  private call<T>(syscall: string, body: () => T): T {
    if (this.disposed) throw new FsError(ERRNO.EBADF, syscall);
    this.table.enter(syscall);
    try {
      return body();
    } finally {
      this.table.leave();
    }
  }

  /** Runs `body` holding a use of the open handle `fd` (EBADF if it is not open). */
  private withHandle<T>(fd: number, syscall: string, body: () => T): T {
    return this.call(syscall, () => {
      this.table.acquire(fd, syscall);
      try {
        return body();
      } finally {
        this.table.release(fd);
      }
    });
  }

  /** Runs `body` with the `Fh *` of the file handle `fd`: EISDIR for a directory, EBADF if opened `forbidden` (O_RDONLY/O_WRONLY). */
  private onFile<T>(fd: number, syscall: string, forbidden: number, body: (fh: Address) => T): T {
    return this.withHandle(fd, syscall, () => {
      if (this.table.kind(fd) !== HandleKind.FILE) throw new FsError(ERRNO.EISDIR, syscall);
      if ((this.table.flags(fd) & O.ACCMODE) === forbidden) throw new FsError(ERRNO.EBADF, syscall);
      return body(this.table.object(fd));
    });
  }

  /** Runs `body` on what `path` resolves to and puts it afterwards. */
  private onResolved<T>(path: string, follow: boolean, syscall: string, body: (held: Held) => T): T {
    const held = this.walker.resolve(path, follow, syscall);
    try {
      return body(held);
    } finally {
      this.walker.put(held);
    }
  }

  /** Runs `body` on the parent of `path`'s last component and puts it afterwards. */
  private onParent<T>(path: string, syscall: string, body: (at: ParentOf) => T): T {
    const at = this.walker.parentOf(path, syscall);
    try {
      return body(at);
    } finally {
      this.walker.put(at.parent);
    }
  }

  /** The file type of the existing name `at` (ENOENT if missing), without following it. */
  private typeOfName(at: ParentOf, syscall: string, path: string): number {
    const held = this.walker.lookupName(at.parent, at.name, syscall, path);
    if (held === null) throw new FsError(ERRNO.ENOENT, syscall, path);
    this.walker.put(held);
    return held.type;
  }

  /** `st_nlink` of `inode` (ceph_ll_getattr; answered from the client's cache while it holds the link capability). */
  private linkCount(inode: Address, syscall: string, path: string): number {
    check(this.lib.ceph_ll_getattr(this.mount, inode, statx, CEPH_STATX_MASK.NLINK, 0, this.perms), syscall, path);
    return statxView.getUint32(X.stx_nlink, true);
  }

  /**
   * rename(2) of `from` over `to` made by the renamer client (see {@link CephShared.renamer} for why), on a walk of
   * its own under the same sub-root. The checks before it (types, trailing slashes, two names of one inode) are the
   * caller's; the MDS makes the rest.
   */
  private renameOnRenamer(from: string, to: string): void {
    const { mount, perms } = this.renamer!;
    this.renamerWalker ??= new Walker(this.lib, mount, perms, this.openSubRoot(mount, perms, this.subRoot));
    const walker = this.renamerWalker;
    const source = walker.parentOf(from, "rename");
    try {
      const target = walker.parentOf(to, "rename");
      try {
        if (source.kind !== "name" || target.kind !== "name") throw new FsError(ERRNO.EBUSY, "rename", from);
        check(this.lib.ceph_ll_rename(mount, source.parent.inode, cName(source.name), target.parent.inode, cName(target.name), perms), "rename", from);
        // Until the MDS has journaled it the rename holds the renamer's unmount, which then waits for the MDS's next
        // periodic journal flush (up to 5 s): longer than a service is given to stop. Flushing now takes a few ms.
        // The rename has happened whatever this answers, so its result is not the caller's.
        this.lib.ceph_ll_sync_inode(mount, target.parent.inode, 0);
      } finally {
        walker.put(target.parent);
      }
    } finally {
      walker.put(source.parent);
    }
  }

  /** Resolves the sub-root under the root of the client `mount`; returns an owned reference to its inode. */
  private openSubRoot(mount: Address, perms: Address, subRoot: string): Address {
    check(this.lib.ceph_ll_lookup_root(mount, inodeOut), "open", subRoot);
    const mountRoot = address(inodeOut[0]!);
    const top = new Walker(this.lib, mount, perms, mountRoot);
    let held: Held;
    try {
      held = top.resolve(subRoot, true, "open");
    } catch (error) {
      this.lib.ceph_ll_put(mount, mountRoot);
      throw error;
    }
    if (!held.owned) return mountRoot;
    this.lib.ceph_ll_put(mount, mountRoot);
    if (!isDirectory(held.type)) {
      top.put(held);
      throw new FsError(ERRNO.ENOTDIR, "open", subRoot);
    }
    return held.inode;
  }

  /** Opens what a walk found (its reference passes to the handle, or is put on failure). */
  private openFound(held: Held, flags: number, path: string): number {
    let inode: Address | null = null;
    let handle = -1;
    try {
      if (flags & O.CREAT && flags & O.EXCL) throw new FsError(ERRNO.EEXIST, "open", path);
      if (isSymlink(held.type)) throw new FsError(ERRNO.ELOOP, "open", path);
      // Every danaus mount is `nodev`: a device is a name here, never something to open.
      if (isDeviceMode(held.type)) throw new FsError(ERRNO.EACCES, "open", path);
      const directory = isDirectory(held.type);
      if (directory && ((flags & O.ACCMODE) !== O.RDONLY || flags & (O.CREAT | O.TRUNC))) throw new FsError(ERRNO.EISDIR, "open", path);
      if (!directory && flags & O.DIRECTORY) throw new FsError(ERRNO.ENOTDIR, "open", path);
      handle = this.table.reserve("open");
      inode = this.walker.ownedReference(held, "open");
      if (directory) {
        check(this.lib.ceph_ll_opendir(this.mount, inode, objectOut, this.perms), "open", path);
        this.table.publish(handle, HandleKind.DIRECTORY, flags, address(objectOut[0]!), inode);
      } else {
        check(this.lib.ceph_ll_open(this.mount, inode, flags & CEPH_OPEN_FLAGS, objectOut, this.perms), "open", path);
        this.table.publish(handle, HandleKind.FILE, flags, address(objectOut[0]!), inode);
      }
      return handle;
    } catch (error) {
      if (handle >= 0) this.table.abandon(handle);
      if (inode !== null) this.lib.ceph_ll_put(this.mount, inode);
      else this.walker.put(held);
      throw error;
    }
  }

  /**
   * The first try of an O_CREAT open: creates the last component of `path` in its parent, without looking the name
   * up first. ceph_ll_create looks the name up itself (from the client's cache when the client holds the directory's
   * shared capability and has it all, else from the MDS), so a lookup of ours before it would be a second MDS round
   * trip whenever the directory is not cached that way. Returns null when the path does not end in a name, or (without
   * O_EXCL) when the name exists: the caller then resolves it as any open does (a symlink followed, a dangling one's
   * target created, a directory refused). EEXIST with O_EXCL; the errors of ceph_ll_create and of the parent's walk.
   */
  private createNamed(path: string, flags: number, mode: number, exclusive: boolean): number | null {
    const at = this.walker.parentOf(path, "open");
    if (at.kind !== "name") {
      this.walker.put(at.parent);
      return null;
    }
    try {
      return this.createFile(at, flags, mode, path);
    } catch (error) {
      if (!exclusive && error instanceof FsError && error.errno === ERRNO.EEXIST) return null;
      throw error;
    }
  }

  /** Creates and opens the missing last component of an O_CREAT open (puts the parent). EEXIST if it appeared meanwhile. */
  private createFile(missing: Missing, flags: number, mode: number, path: string): number {
    try {
      const handle = this.table.reserve("open");
      const created = this.lib.ceph_ll_create(
        this.mount, missing.parent.inode, cName(missing.name), this.creationMode(mode),
        (flags & CEPH_OPEN_FLAGS) | O.CREAT | O.EXCL, inodeOut, objectOut, statx, 0, 0, this.perms,
      );
      if (created < 0) {
        this.table.abandon(handle);
        throw new FsError(-created, "open", path);
      }
      this.table.publish(handle, HandleKind.FILE, flags, address(objectOut[0]!), address(inodeOut[0]!));
      return handle;
    } finally {
      this.walker.put(missing.parent);
    }
  }

  /** Permission bits of a created node: `mode` less the `umask` option. */
  private creationMode(mode: number): number {
    return mode & 0o7777 & ~this.umask;
  }

  /** Reads into `into` at `offset` (-1: the handle's position) in pieces. */
  private readPieces(fh: Address, into: Uint8Array, offset: number, syscall: string): number {
    return transferInPieces(into.length, this.chunk, syscall, (done, size) =>
      this.lib.ceph_ll_read(this.mount, fh, offset < 0 ? -1 : offset + done, size, into.subarray(done, done + size)),
    );
  }

  /** Writes `data` at `offset` (-1: the handle's position, or the end for O_APPEND) in pieces. */
  private writePieces(fh: Address, data: Uint8Array, offset: number, syscall: string): number {
    return transferInPieces(data.length, this.chunk, syscall, (done, size) =>
      this.lib.ceph_ll_write(this.mount, fh, offset < 0 ? -1 : offset + done, size, data.subarray(done, done + size)),
    );
  }

  /** ceph_ll_lseek with the errno check. */
  private seek(fh: Address, offset: number, whence: number, syscall: string): number {
    const position = Number(this.lib.ceph_ll_lseek(this.mount, fh, offset, whence));
    return check(position, syscall);
  }

  /** ceph_ll_getattr of every basic attribute, as a Stat. */
  private getattr(inode: Address, syscall: string, path?: string): Stat {
    check(this.lib.ceph_ll_getattr(this.mount, inode, statx, ALL_ATTRIBUTES, 0, this.perms), syscall, path);
    return statxToStat(statxView, this.dev);
  }

  /** ceph_ll_setattr of the fields of the scratch statx that `mask` selects. */
  private setattr(inode: Address, mask: number, syscall: string, path?: string): void {
    check(this.lib.ceph_ll_setattr(this.mount, inode, statx, mask, this.perms), syscall, path);
  }

  /** Sets a file's size. */
  private setSize(inode: Address, length: number, syscall: string, path?: string): void {
    writeInt64(statxView, X.stx_size, length);
    this.setattr(inode, CEPH_SETATTR.SIZE, syscall, path);
  }

  /** Writes one utimens time into the scratch statx at `at`; returns the setattr mask bits it needs. */
  private timeMask(time: Timespec, at: number, set: number, now: number): number {
    if (time.nsec === UTIME_OMIT) return 0;
    if (time.nsec === UTIME_NOW) {
      // libcephfs takes the time from the struct even with *_NOW (which only relaxes the permission check).
      const ms = Date.now();
      writeInt64(statxView, at, Math.floor(ms / 1000));
      writeInt64(statxView, at + 8, (ms % 1000) * 1_000_000);
      return set | now;
    }
    writeInt64(statxView, at, time.sec);
    writeInt64(statxView, at + 8, time.nsec);
    return set;
  }

  /** Throws EACCES unless the service may access `held` for `want`. */
  private requireAccess(held: Held, want: number, syscall: string, path: string): void {
    check(this.lib.ceph_ll_getattr(this.mount, held.inode, statx, ALL_ATTRIBUTES, 0, this.perms), syscall, path);
    const mode = statxView.getUint16(X.stx_mode, true);
    const uid = statxView.getUint32(X.stx_uid, true);
    const gid = statxView.getUint32(X.stx_gid, true);
    if (!mayAccess(this.credentials, mode, uid, gid, want)) throw new FsError(ERRNO.EACCES, syscall, path);
  }
}
