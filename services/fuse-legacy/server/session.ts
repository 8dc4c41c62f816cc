/**
 * @module session — answers FUSE requests from one FileSystem: decodes a request with the protocol tables, calls the
 * FileSystem, encodes the reply. Pure with respect to I/O (bytes in, bytes out), so it is tested without a mount.
 * Every request gets exactly one reply (FORGET, BATCH_FORGET and INTERRUPT none): a handler returns a body length
 * or throws; an FsError becomes its errno, anything else is logged and answered EIO; an opcode without a handler is
 * answered ENOSYS.
 */
import {
  AT_SYMLINK_NOFOLLOW, ERRNO, type FileSystem, FsError, nameToBytes, O, writeName, RENAME_EXCHANGE, S_IFDIR, S_IFLNK,
  S_IFMT, S_IFREG, S_ISGID, type Stat, UTIME_NOW, UTIME_OMIT,
} from "../../../kernel/ipc/protocol/index.ts";
import {
  decodeInHeader,
  decodeNames,
  encodeFuseDirent,
  encodeOutHeader,
  FATTR,
  FOPEN,
  FUSE_ATTR_OUT_ATTR,
  FUSE_ATTR_OUT_SIZE,
  FUSE_DIRENTPLUS_DIRENT,
  FUSE_ENTRY_OUT_ATTR,
  FUSE_ENTRY_OUT_SIZE,
  FUSE_FSYNC_FDATASYNC,
  FUSE_GETATTR_FH,
  FUSE_OP,
  fuse_access_in,
  fuse_attr,
  fuse_attr_out,
  fuse_batch_forget_in,
  fuse_create_in,
  fuse_entry_out,
  fuse_forget_in,
  fuse_forget_one,
  fuse_fsync_in,
  fuse_getattr_in,
  fuse_init_in,
  fuse_init_out,
  fuse_kstatfs,
  fuse_link_in,
  fuse_lseek_in,
  fuse_lseek_out,
  fuse_mkdir_in,
  fuse_mknod_in,
  fuse_open_in,
  fuse_open_out,
  fuse_read_in,
  fuse_release_in,
  fuse_rename2_in,
  fuse_rename_in,
  fuse_setattr_in,
  fuse_write_in,
  fuse_write_out,
  fuseOpcode,
  fuseDirentSize,
  fuseOpcodeName,
  IN_HEADER_SIZE,
  OUT_HEADER_SIZE,
  type FuseInHeader,
} from "../protocol/index.ts";
import { negotiateInit } from "./init.ts";
import { childPath, NodeTable } from "./node-table.ts";
import { REPLY_BUFFER_SIZE, type FuseLogger, type FuseSessionOptions } from "./options.ts";

/** One request as handlers see it. */
interface Request {
  readonly header: FuseInHeader;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** End of the request (header.len, bounded by what was read). */
  readonly end: number;
}

/** A handler writes its reply body at OUT_HEADER_SIZE of the reply buffer and returns its length. */
type Handler = (request: Request) => number;

/** Open flags passed on to the FileSystem; the rest (O.CREAT/O.EXCL/O_NOCTTY, FASYNC, O_DIRECT, __FMODE_EXEC...) are dropped. */
const OPEN_FLAGS_PASSED = 0x3 | 0x400 | 0x800 | 0x1000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x100000;
const NAME_MAX_DEFAULT = 255;

/** Names and symlink targets are byte strings (see names.ts in the protocol): one byte per char. */
const encoder = { encode: nameToBytes };
/** A name's bytes, written in place: an `encode` per entry leaves garbage only a full collection frees. */
const nameScratch = new Uint8Array(4 * 256);

function fail(errno: number, syscall: string, path?: string): never {
  throw new FsError(errno, syscall, path);
}

/** Splits a timeout in ms into the (seconds, nanoseconds) pair of the wire. */
function timeout(ms: number): [number, number] {
  const clamped = Math.max(0, ms);
  return [Math.floor(clamped / 1000), Math.round((clamped % 1000) * 1e6)];
}

/**
 * The FUSE request handler of one serving thread. The node table is shared by every serving thread of the mount (pass
 * the same {@link NodeTable} buffer to each); handles are the FileSystem's, valid in every thread serving it.
 */
export class FuseSession {
  /** Node id ↔ name table (exposed for tests). */
  readonly nodes: NodeTable;
  /** The negotiated protocol minor, 0 before INIT. */
  minor = 0;
  /** The negotiated INIT flags. */
  initFlags = 0;
  /** True once DESTROY arrived. */
  destroyed = false;
  /** How many FileSystem calls the last request made, about (READDIRPLUS: one per entry); paces garbage collection. */
  work = 1;
  /** The reply buffer; a reply is `reply.subarray(0, length)` after {@link handle}. */
  readonly reply: Uint8Array;
  private readonly replyView: DataView;
  private readonly handlers = new Map<number, Handler>();
  private readonly attrValid: [number, number];
  private readonly entryValid: [number, number];
  private readonly negativeValid: [number, number];
  private readonly openFlags: number;

  /** Serves `fs`; `logger` hears about handler bugs (non-FsError throws); `nodes` is the mount's shared table. */
  constructor(private readonly fs: FileSystem, options: FuseSessionOptions = {}, private readonly logger?: FuseLogger, nodes?: NodeTable) {
    this.nodes = nodes ?? new NodeTable();
    this.reply = new Uint8Array(REPLY_BUFFER_SIZE);
    this.replyView = new DataView(this.reply.buffer);
    this.attrValid = timeout(options.attrTimeoutMs ?? 1000);
    this.entryValid = timeout(options.entryTimeoutMs ?? 1000);
    this.negativeValid = timeout(options.negativeTimeoutMs ?? 0);
    this.openFlags = options.directIo ? FOPEN.FOPEN_DIRECT_IO : 0;
    this.register();
  }

  /**
   * Answers the request in `bytes[0, length)`. Returns the reply length in {@link reply} (header included), or 0
   * when the request takes no reply (FORGET, BATCH_FORGET, INTERRUPT) or is too short to carry a `unique`.
   */
  handle(bytes: Uint8Array, length: number): number {
    if (length < IN_HEADER_SIZE) return 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, length);
    const header = decodeInHeader(view);
    this.work = 1;
    const spec = fuseOpcode(header.opcode);
    const handler = this.handlers.get(header.opcode);
    let bodyLength = 0;
    let error = 0;
    try {
      if (handler === undefined) fail(ERRNO.ENOSYS, fuseOpcodeName(header.opcode));
      else bodyLength = handler({ header, bytes, view, end: Math.min(header.len, length) });
    } catch (thrown) {
      if (thrown instanceof FsError) {
        error = -thrown.errno;
      } else {
        error = -ERRNO.EIO;
        this.logger?.error("fuse handler threw; answered EIO", {
          opcode: fuseOpcodeName(header.opcode),
          nodeid: header.nodeid,
          error: thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown),
        });
      }
    }
    if (spec !== undefined && !spec.reply) return 0;
    return encodeOutHeader(this.replyView, header.unique, error, bodyLength);
  }

  private pathOf(nodeid: number, syscall: string): string {
    return this.weighed(this.nodes.path(nodeid)) ?? fail(ERRNO.ESTALE, syscall);
  }

  /** `path`, counted in {@link work}: a deep path leaves garbage in proportion to its length (one request a 4 KiB). */
  private weighed(path: string | undefined): string | undefined {
    if (path !== undefined) this.work += path.length >>> 12;
    return path;
  }

  /** lstat of a node by path, or fstat through one of its open handles once its name is gone (unlinked, open). */
  private statNode(nodeid: number, syscall: string): Stat {
    const path = this.weighed(this.nodes.path(nodeid));
    if (path !== undefined) return this.fs.lstat(path);
    const fh = this.nodes.openHandle(nodeid);
    if (fh === undefined) fail(ERRNO.ESTALE, syscall);
    return this.fs.fstat(fh);
  }

  /** The path of `name` in directory `parent`. */
  private childOf(parent: number, name: string, syscall: string): string {
    return childPath(this.pathOf(parent, syscall), name);
  }

  private names(request: Request, start: number, count: number, syscall: string): string[] {
    return decodeNames(request.bytes, start, request.end, count) ?? fail(ERRNO.EINVAL, syscall);
  }

  private writeAttr(at: number, st: Stat): void {
    fuse_attr.write(this.replyView, at, {
      ino: st.st_ino,
      size: st.st_size,
      blocks: st.st_blocks,
      atime: st.st_atime_sec,
      mtime: st.st_mtime_sec,
      ctime: st.st_ctime_sec,
      atimensec: st.st_atime_nsec,
      mtimensec: st.st_mtime_nsec,
      ctimensec: st.st_ctime_nsec,
      mode: st.st_mode,
      nlink: st.st_nlink,
      uid: st.st_uid,
      gid: st.st_gid,
      rdev: st.st_rdev,
      blksize: st.st_blksize,
      flags: 0,
    });
  }

  /** Re-keys node `nodeid` to the file its new handle `fh` opened (a failed fstat changes nothing: the open stands). */
  private followOpened(nodeid: number, fh: number): void {
    try {
      this.nodes.followed(nodeid, this.fs.fstat(fh));
    } catch {
      // The node keeps its key; its next GETATTR follows.
    }
  }

  /** Writes `fuse_attr_out` for `st`, node `nodeid`'s attributes; returns its size. */
  private attrReply(nodeid: number, st: Stat): number {
    this.nodes.followed(nodeid, st);
    fuse_attr_out.write(this.replyView, OUT_HEADER_SIZE, { attr_valid: this.attrValid[0], attr_valid_nsec: this.attrValid[1] });
    this.writeAttr(OUT_HEADER_SIZE + FUSE_ATTR_OUT_ATTR, st);
    return FUSE_ATTR_OUT_SIZE;
  }

  /**
   * lstat `name` in `parent` (at `path`), remember it (one more kernel reference) and write `fuse_entry_out` at `at`;
   * returns its size.
   */
  private entryReply(parent: number, name: string, path: string, at = OUT_HEADER_SIZE): number {
    const st = this.fs.lstat(path);
    return this.writeEntry(at, this.nodes.remember(parent, name, st), st);
  }

  /**
   * The entry of a node the request just created, first given to its creator. The FileSystem creates nodes as the
   * service's user; as with a kernel filesystem, the node goes to the calling process's uid, and to its gid unless the
   * directory is set-group-ID (then it keeps the directory's group, which the FileSystem already gave it). This costs
   * a stat of the directory and a chown only when the caller is not the service's user; a set-user-ID or set-group-ID
   * bit that the chown cleared is set again (the caller made its own file with it). If either fails, the node is
   * removed again and the request fails, so nobody gets a node owned by someone else.
   */
  private createdReply(creator: FuseInHeader, name: string, path: string, fh?: number): number {
    const parent = creator.nodeid;
    const stat = (): Stat => (fh === undefined ? this.fs.lstat(path) : this.fs.fstat(fh));
    let st = stat();
    if (st.st_uid !== creator.uid || st.st_gid !== creator.gid) {
      const gid = this.statNode(parent, "create").st_mode & S_ISGID ? -1 : creator.gid;
      if (st.st_uid !== creator.uid || (gid !== -1 && st.st_gid !== gid)) {
        try {
          this.fs.chown(path, creator.uid, gid, AT_SYMLINK_NOFOLLOW);
          const created = st.st_mode & 0o7777;
          if ((st.st_mode & S_IFMT) !== S_IFLNK && (stat().st_mode & 0o7777) !== created) this.fs.chmod(path, created);
        } catch (error) {
          if ((st.st_mode & S_IFMT) === S_IFDIR) this.fs.rmdir(path);
          else this.fs.unlink(path);
          throw error;
        }
        st = stat();
      }
    }
    return this.writeEntry(OUT_HEADER_SIZE, this.nodes.remember(parent, name, st), st);
  }

  /** Writes `fuse_entry_out` for node `nodeid` with attributes `st` at `at`; returns its size. */
  private writeEntry(at: number, nodeid: number, st: Stat): number {
    fuse_entry_out.write(this.replyView, at, {
      nodeid,
      generation: 0,
      entry_valid: this.entryValid[0],
      attr_valid: this.attrValid[0],
      entry_valid_nsec: this.entryValid[1],
      attr_valid_nsec: this.attrValid[1],
    });
    this.writeAttr(at + FUSE_ENTRY_OUT_ATTR, st);
    return FUSE_ENTRY_OUT_SIZE;
  }

  private openReply(fh: number, flags: number, at = OUT_HEADER_SIZE): number {
    fuse_open_out.write(this.replyView, at, { fh, open_flags: flags });
    return fuse_open_out.size;
  }

  private register(): void {
    const on = (name: keyof typeof FUSE_OP, handler: Handler): void => {
      const opcode = FUSE_OP[name];
      if (fuseOpcode(opcode) === undefined) throw new Error(`session registers ${name}, which the opcode table lacks`);
      this.handlers.set(opcode, handler);
    };
    const B = IN_HEADER_SIZE;
    const fs = this.fs;

    on("INIT", ({ view }) => {
      const result = negotiateInit(fuse_init_in.read(view, B));
      if (!result.ok) fail(result.errno, "init");
      this.minor = result.minor;
      this.initFlags = result.flags;
      fuse_init_out.write(this.replyView, OUT_HEADER_SIZE, result.reply);
      return fuse_init_out.size;
    });
    on("DESTROY", () => {
      this.destroyed = true;
      return 0;
    });
    on("INTERRUPT", () => 0);
    on("FORGET", ({ header, view }) => {
      this.nodes.forget(header.nodeid, fuse_forget_in.read(view, B).nlookup);
      return 0;
    });
    on("BATCH_FORGET", ({ view, end }) => {
      const { count } = fuse_batch_forget_in.read(view, B);
      let at = B + fuse_batch_forget_in.size;
      for (let i = 0; i < count && at + fuse_forget_one.size <= end; i++, at += fuse_forget_one.size) {
        const one = fuse_forget_one.read(view, at);
        this.nodes.forget(one.nodeid, one.nlookup);
      }
      return 0;
    });

    on("LOOKUP", (request) => {
      const [name = ""] = this.names(request, B, 1, "lookup");
      const parent = request.header.nodeid;
      const path = this.childOf(parent, name, "lookup");
      try {
        return this.entryReply(parent, name, path);
      } catch (error) {
        const cachesAbsence = this.negativeValid[0] !== 0 || this.negativeValid[1] !== 0;
        if (!cachesAbsence || !(error instanceof FsError) || error.errno !== ERRNO.ENOENT) throw error;
        // A negative entry (node id 0): the kernel remembers that the name is absent for the negative timeout.
        this.reply.fill(0, OUT_HEADER_SIZE, OUT_HEADER_SIZE + FUSE_ENTRY_OUT_SIZE);
        fuse_entry_out.write(this.replyView, OUT_HEADER_SIZE, { nodeid: 0, generation: 0, entry_valid: this.negativeValid[0], entry_valid_nsec: this.negativeValid[1], attr_valid: 0, attr_valid_nsec: 0 });
        return FUSE_ENTRY_OUT_SIZE;
      }
    });
    on("GETATTR", ({ header, view }) => {
      const args = fuse_getattr_in.read(view, B);
      if (args.getattr_flags & FUSE_GETATTR_FH) return this.attrReply(header.nodeid, fs.fstat(args.fh));
      return this.attrReply(header.nodeid, this.statNode(header.nodeid, "getattr"));
    });
    on("SETATTR", ({ header, view }) => this.setattr(header.nodeid, fuse_setattr_in.read(view, B)));
    on("READLINK", ({ header }) => {
      const target = encoder.encode(fs.readlink(this.pathOf(header.nodeid, "readlink")));
      this.reply.set(target, OUT_HEADER_SIZE);
      return target.length;
    });
    on("SYMLINK", (request) => {
      const [name = "", target = ""] = this.names(request, B, 2, "symlink");
      const path = this.childOf(request.header.nodeid, name, "symlink");
      fs.symlink(target, path);
      return this.createdReply(request.header, name, path);
    });
    on("MKNOD", (request) => {
      const args = fuse_mknod_in.read(request.view, B);
      const [name = ""] = this.names(request, B + fuse_mknod_in.size, 1, "mknod");
      const path = this.childOf(request.header.nodeid, name, "mknod");
      const type = args.mode & S_IFMT;
      // A regular file through open, as CREATE does; FIFOs, sockets and devices through mknod. The kernel checked
      // CAP_MKNOD before sending a device, serves a FIFO's data itself and never opens a device here (`nodev`).
      if (type === S_IFREG || type === 0) fs.close(fs.open(path, O.CREAT | O.EXCL | O.WRONLY, args.mode & 0o7777));
      else fs.mknod(path, type | (args.mode & 0o7777), args.rdev);
      return this.createdReply(request.header, name, path);
    });
    on("MKDIR", (request) => {
      const args = fuse_mkdir_in.read(request.view, B);
      const [name = ""] = this.names(request, B + fuse_mkdir_in.size, 1, "mkdir");
      const path = this.childOf(request.header.nodeid, name, "mkdir");
      fs.mkdir(path, args.mode & 0o7777);
      return this.createdReply(request.header, name, path);
    });
    on("UNLINK", (request) => {
      const [name = ""] = this.names(request, B, 1, "unlink");
      fs.unlink(this.childOf(request.header.nodeid, name, "unlink"));
      this.nodes.removed(request.header.nodeid, name);
      return 0;
    });
    on("RMDIR", (request) => {
      const [name = ""] = this.names(request, B, 1, "rmdir");
      fs.rmdir(this.childOf(request.header.nodeid, name, "rmdir"));
      this.nodes.removed(request.header.nodeid, name);
      return 0;
    });
    on("RENAME", (request) => {
      const args = fuse_rename_in.read(request.view, B);
      return this.rename(request, args.newdir, 0, B + fuse_rename_in.size);
    });
    on("RENAME2", (request) => {
      const args = fuse_rename2_in.read(request.view, B);
      return this.rename(request, args.newdir, args.flags, B + fuse_rename2_in.size);
    });
    on("LINK", (request) => {
      const args = fuse_link_in.read(request.view, B);
      const [name = ""] = this.names(request, B + fuse_link_in.size, 1, "link");
      const path = this.childOf(request.header.nodeid, name, "link");
      fs.link(this.pathOf(args.oldnodeid, "link"), path);
      // The old node's id with fresh attributes (st_nlink one more): the kernel keeps one inode for both names.
      const st = fs.lstat(path);
      return this.writeEntry(OUT_HEADER_SIZE, this.nodes.linked(args.oldnodeid, request.header.nodeid, name, st), st);
    });

    on("OPEN", ({ header, view }) => {
      const args = fuse_open_in.read(view, B);
      const fh = fs.open(this.pathOf(header.nodeid, "open"), args.flags & OPEN_FLAGS_PASSED, 0);
      this.nodes.opened(header.nodeid, fh);
      // A union copies a lower file up at its first open for writing: the node follows the copy's inode at once (see
      // NodeTable.followed), before another of its names is looked up and would find the new inode without it.
      if (args.flags & (O.ACCMODE | O.TRUNC)) this.followOpened(header.nodeid, fh);
      return this.openReply(fh, this.openFlags);
    });
    on("CREATE", (request) => {
      const args = fuse_create_in.read(request.view, B);
      const [name = ""] = this.names(request, B + fuse_create_in.size, 1, "create");
      const parent = request.header.nodeid;
      const path = this.childOf(parent, name, "create");
      const flags = (args.flags & (OPEN_FLAGS_PASSED | O.EXCL | O.TRUNC)) | O.CREAT;
      const fh = fs.open(path, flags, args.mode & 0o7777);
      let size: number;
      try {
        size = this.createdReply(request.header, name, path, fh);
      } catch (error) {
        fs.close(fh);
        throw error;
      }
      const nodeid = this.nodes.child(parent, name);
      if (nodeid !== undefined) this.nodes.opened(nodeid, fh);
      return size + this.openReply(fh, this.openFlags, OUT_HEADER_SIZE + size);
    });
    on("READ", ({ view }) => {
      const args = fuse_read_in.read(view, B);
      const size = Math.min(args.size, this.reply.length - OUT_HEADER_SIZE);
      return fs.pread(args.fh, this.reply.subarray(OUT_HEADER_SIZE, OUT_HEADER_SIZE + size), args.offset);
    });
    on("WRITE", ({ bytes, view, end }) => {
      const args = fuse_write_in.read(view, B);
      const start = B + fuse_write_in.size;
      if (start + args.size > end) fail(ERRNO.EINVAL, "write");
      const written = fs.pwrite(args.fh, bytes.subarray(start, start + args.size), args.offset);
      fuse_write_out.write(this.replyView, OUT_HEADER_SIZE, { size: written });
      return fuse_write_out.size;
    });
    on("FLUSH", () => 0);
    on("RELEASE", ({ header, view }) => {
      const { fh } = fuse_release_in.read(view, B);
      this.nodes.released(header.nodeid, fh);
      fs.close(fh);
      return 0;
    });
    on("FSYNC", ({ view }) => {
      const args = fuse_fsync_in.read(view, B);
      if (args.fsync_flags & FUSE_FSYNC_FDATASYNC) fs.fdatasync(args.fh);
      else fs.fsync(args.fh);
      return 0;
    });
    on("LSEEK", ({ view }) => {
      const args = fuse_lseek_in.read(view, B);
      fuse_lseek_out.write(this.replyView, OUT_HEADER_SIZE, { offset: fs.lseek(args.fh, args.offset, args.whence) });
      return fuse_lseek_out.size;
    });

    on("OPENDIR", ({ header, view }) => {
      const args = fuse_open_in.read(view, B);
      const flags = (args.flags & OPEN_FLAGS_PASSED & ~0x3) | O.DIRECTORY;
      return this.openReply(fs.open(this.pathOf(header.nodeid, "opendir"), flags, 0), 0);
    });
    on("READDIR", ({ view }) => this.readdir(fuse_read_in.read(view, B)));
    on("READDIRPLUS", ({ header, view }) => this.readdir(fuse_read_in.read(view, B), { dir: header.nodeid }));
    on("RELEASEDIR", ({ view }) => {
      fs.close(fuse_release_in.read(view, B).fh);
      return 0;
    });
    on("FSYNCDIR", ({ view }) => {
      fs.fsync(fuse_fsync_in.read(view, B).fh);
      return 0;
    });

    on("STATFS", ({ header }) => {
      const st = fs.statfs(this.nodes.path(header.nodeid) ?? "/");
      fuse_kstatfs.write(this.replyView, OUT_HEADER_SIZE, {
        blocks: st.f_blocks,
        bfree: st.f_bfree,
        bavail: st.f_bavail,
        files: st.f_files,
        ffree: st.f_ffree,
        bsize: st.f_bsize,
        namelen: st.f_namelen || NAME_MAX_DEFAULT,
        frsize: st.f_frsize || st.f_bsize,
      });
      return fuse_kstatfs.size;
    });
    on("ACCESS", ({ header, view }) => {
      fs.access(this.pathOf(header.nodeid, "access"), fuse_access_in.read(view, B).mask);
      return 0;
    });
  }

  private setattr(nodeid: number, args: ReturnType<typeof fuse_setattr_in.read>): number {
    const fs = this.fs;
    const valid = args.valid;
    const hasFh = (valid & FATTR.FH) !== 0;
    const path = (): string => this.pathOf(nodeid, "setattr");
    if (valid & FATTR.MODE) fs.chmod(path(), args.mode & 0o7777);
    if (valid & (FATTR.UID | FATTR.GID)) {
      fs.chown(path(), valid & FATTR.UID ? args.uid : -1, valid & FATTR.GID ? args.gid : -1, AT_SYMLINK_NOFOLLOW);
    }
    if (valid & FATTR.SIZE) {
      if (hasFh) fs.ftruncate(args.fh, args.size);
      else fs.truncate(path(), args.size);
    }
    if (valid & (FATTR.ATIME | FATTR.MTIME)) {
      const time = (set: number, now: number, sec: number, nsec: number) =>
        valid & now ? { sec: 0, nsec: UTIME_NOW } : valid & set ? { sec, nsec } : { sec: 0, nsec: UTIME_OMIT };
      fs.utimens(
        path(),
        time(FATTR.ATIME, FATTR.ATIME_NOW, args.atime, args.atimensec),
        time(FATTR.MTIME, FATTR.MTIME_NOW, args.mtime, args.mtimensec),
        AT_SYMLINK_NOFOLLOW,
      );
    }
    return this.attrReply(nodeid, hasFh ? fs.fstat(args.fh) : this.statNode(nodeid, "setattr"));
  }

  private rename(request: Request, newdir: number, flags: number, namesAt: number): number {
    const [oldName = "", newName = ""] = this.names(request, namesAt, 2, "rename");
    const parent = request.header.nodeid;
    const from = this.childOf(parent, oldName, "rename");
    const to = this.childOf(newdir, newName, "rename");
    this.fs.rename(from, to, flags);
    if (flags & RENAME_EXCHANGE) this.nodes.exchanged(parent, oldName, newdir, newName);
    else if (this.nodes.renamed(parent, oldName, newdir, newName) && this.gone(from)) this.nodes.removed(parent, oldName);
    // A union copies a lower file up to rename it, and a hard-linked one with all its names: the moved node follows
    // the copy's inode now, before another of its names is looked up and would find the new inode on no node.
    this.followRenamed(newdir, newName, to);
    if (flags & RENAME_EXCHANGE) this.followRenamed(parent, oldName, from);
    return 0;
  }

  /** Whether nothing is at `path` any more (lstat answers ENOENT). */
  private gone(path: string): boolean {
    try {
      this.fs.lstat(path);
      return false;
    } catch (error) {
      return error instanceof FsError && error.errno === ERRNO.ENOENT;
    }
  }

  /** After a rename, the regular file's node now at `name` in `dir` (at `path`) follows its inode (see NodeTable.followed). */
  private followRenamed(dir: number, name: string, path: string): void {
    const nodeid = this.nodes.child(dir, name, S_IFREG);
    if (nodeid === undefined) return;
    try {
      this.nodes.followed(nodeid, this.fs.lstat(path));
    } catch {
      // The rename stands; the node's next GETATTR follows.
    }
  }

  /**
   * READDIR and READDIRPLUS: FileSystem batches from the kernel's offset (the FileSystem's cookie) until the reply is
   * full. With `plus` (for directory node `dir`), each record starts with the entry's `fuse_entry_out`, so `ls -l` and
   * path walks need no LOOKUP per name. Each entry given a node id counts one lookup, so an entry is only remembered
   * once it is sure to fit in the reply; "." and "..", and names that vanished meanwhile, go with node id 0 (the kernel
   * then makes no dentry of them).
   */
  private readdir(args: ReturnType<typeof fuse_read_in.read>, plus?: { readonly dir: number }): number {
    const dirPath = plus === undefined ? "" : this.pathOf(plus.dir, "readdirplus");
    const head = plus === undefined ? 0 : FUSE_DIRENTPLUS_DIRENT;
    const start = OUT_HEADER_SIZE;
    const end = start + Math.min(args.size, this.reply.length - start);
    let at = start;
    let cookie = args.offset;
    for (;;) {
      // Ask for about what the reply holds: a bigger batch would be decoded only to be dropped.
      const batch = this.fs.readdir(args.fh, cookie, end - at);
      if (batch.length === 0) break;
      for (const entry of batch) {
        const written = writeName(entry.name, nameScratch);
        if (written < 0) {
          // Longer than NAME_MAX can be: no FileSystem lists one; skip it rather than send a cut name.
          cookie = entry.next;
          continue;
        }
        const name = nameScratch.subarray(0, written);
        if (at + head + fuseDirentSize(name.length) > end) return at - start;
        if (plus !== undefined) {
          this.reply.fill(0, at, at + head);
          if (entry.name !== "." && entry.name !== "..") {
            try {
              const st = this.fs.lstat(childPath(dirPath, entry.name));
              this.writeEntry(at, this.nodes.remember(plus.dir, entry.name, st), st);
            } catch (error) {
              if (!(error instanceof FsError)) throw error;
            }
          }
        }
        this.work++;
        at += head;
        at += encodeFuseDirent(this.reply, this.replyView, at, end, { ino: entry.ino, off: entry.next, type: entry.type, name });
        cookie = entry.next;
      }
    }
    return at - start;
  }
}
