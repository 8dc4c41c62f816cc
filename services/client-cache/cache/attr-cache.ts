/**
 * @module attr-cache — one thread's cache of stat/lstat answers by path, with negative entries (ENOENT, ENOTDIR) as
 * a directory-entry cache. An entry is used only while (1) the shared generation has not moved since the backend
 * call that produced it began — every namespace or attribute change through any thread of the process bumps it —
 * and (2) its lifetime (default 1 s, like FUSE's attr/entry timeouts) has not run out, which bounds how long a
 * change made by another host or process goes unseen.
 */
import { ERRNO, FsError, PATH_MAX, type Stat } from "../../../kernel/ipc/protocol/index.ts";

/** Which call an entry answers. */
export type AttrKind = "stat" | "lstat";

interface Entry {
  readonly generation: number;
  readonly expires: number;
  readonly stat?: Stat;
  readonly errno?: number;
}

/** Errors worth remembering: they say a name is absent, and only a namespace change (which bumps the generation) or the lifetime ends that. */
const NEGATIVE: ReadonlySet<number> = new Set([ERRNO.ENOENT, ERRNO.ENOTDIR]);

/** A per-thread attribute and name cache. */
export class AttributeCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param lifetimeMs how long an entry may be used at most (0 disables the cache)
   * @param maxEntries entries kept; the oldest go first
   */
  constructor(
    private readonly generation: () => number,
    private readonly now: () => number,
    readonly lifetimeMs: number,
    private readonly maxEntries = 4096,
  ) {}

  /**
   * The cached answer of `kind` for `path`: a copy of the Stat with the generation it is valid for, undefined when
   * there is no usable entry; throws the cached FsError for a negative entry.
   */
  get(kind: AttrKind, path: string): { stat: Stat; generation: number } | undefined {
    if (this.lifetimeMs <= 0) return undefined;
    const key = kind === "stat" ? `s${path}` : `l${path}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.generation !== this.generation() || entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    if (entry.errno !== undefined) throw new FsError(entry.errno, kind, path);
    return { stat: { ...entry.stat! }, generation: entry.generation };
  }

  /** Remembers an answer obtained by a backend call that began at `generation` (not for a path of PATH_MAX bytes or more). */
  set(kind: AttrKind, path: string, generation: number, answer: Stat | FsError): void {
    if (this.lifetimeMs <= 0) return;
    if (answer instanceof FsError && !NEGATIVE.has(answer.errno)) return;
    // A path longer than one syscall argument is rare, and keys that long would let the entries take 16 times the
    // memory they are bounded to (maxEntries × PATH_MAX of keys): such answers are not kept.
    if (path.length >= PATH_MAX) return;
    const key = kind === "stat" ? `s${path}` : `l${path}`;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const expires = this.now() + this.lifetimeMs;
    this.entries.set(key, answer instanceof FsError ? { generation, expires, errno: answer.errno } : { generation, expires, stat: { ...answer } });
  }

  /** Forgets every entry. */
  clear(): void {
    this.entries.clear();
  }
}
