/**
 * @module lower-names — the names of lower directories a union has looked into, so an absent name costs no lookup.
 *
 * Lowers never change under a mounted union (they are read-only by type, and image layers are not rewritten in
 * place, as overlayfs assumes of its lowers), so a directory's listing, once read, answers "not there" for good. Most
 * lookups in a lower are of names it does not hold: a create or an unlink in a merged directory asks every lower for
 * the name and its whiteout. Each such lookup is a call to the branch: in a split topology a crossing to the
 * client-cache process, and on CephFS an MDS round trip (a read-only lower's directories give the client no shared
 * capability, so it cannot know an absence by itself).
 *
 * A directory is listed the first time a lookup in it finds a name missing (a lookup that finds its name pays
 * nothing more); from then on, names not in the listing are answered absent at once, names in it are still looked
 * up (their attributes are not kept). Bounded per union instance (one per service thread and mount): directories of
 * more than {@link DIR_NAMES} names are not kept (their lookups go to the branch as before), and past
 * {@link TOTAL_NAMES} names the directory used least recently is dropped.
 */
import { ERRNO, FsError, O, type ReadOnlyFileSystem } from "../../kernel/ipc/protocol/index.ts";

/** A directory listing longer than this is not kept (its lookups go to the branch). */
export const DIR_NAMES = 2048;
/** Names kept per union instance, over all its lower directories. */
export const TOTAL_NAMES = 4096;

/** Marks a directory too big to keep (so it is not listed again on every missing name). */
const TOO_BIG = null;

/** What a lookup in a lower directory can learn from the listings. */
export class LowerNames {
  /** "branch:dir" → the directory's names (TOO_BIG when it holds more than DIR_NAMES), least recently used first. */
  private readonly listings = new Map<string, ReadonlySet<string> | typeof TOO_BIG>();
  private total = 0;

  /** `branches[b]` is lower branch b (index 0, the upper, is never asked about). */
  constructor(private readonly branches: readonly ReadOnlyFileSystem[]) {}

  /** False when lower branch `b` surely has no `path` (canonical union path, not the root); true when it may. */
  mayHold(b: number, path: string): boolean {
    const { key, name } = split(b, path);
    const names = this.listings.get(key);
    if (names === undefined || names === TOO_BIG) return true;
    // Most recently used last.
    this.listings.delete(key);
    this.listings.set(key, names);
    return names.has(name);
  }

  /** Lower branch `b` was found without `path`: list its directory, if not done, for the next lookups there. */
  missed(b: number, path: string): void {
    const { key, dir } = split(b, path);
    if (this.listings.has(key)) return;
    const names = this.list(b, dir);
    if (names === undefined) return;
    const size = names === TOO_BIG ? 1 : names.size;
    for (const [oldest, held] of this.listings) {
      if (this.total + size <= TOTAL_NAMES) break;
      this.listings.delete(oldest);
      this.total -= held === TOO_BIG ? 1 : held.size;
    }
    this.listings.set(key, names);
    this.total += size;
  }

  /**
   * The names of directory `dir` of branch `b`: an empty set when the branch has no such directory (nothing below it
   * exists there), TOO_BIG past {@link DIR_NAMES}, undefined when it could not be listed (any other error: not kept).
   */
  private list(b: number, dir: string): ReadonlySet<string> | typeof TOO_BIG | undefined {
    const fs = this.branches[b]!;
    let fd: number;
    try {
      fd = fs.open(dir, O.DIRECTORY, 0);
    } catch (error) {
      if (error instanceof FsError && (error.errno === ERRNO.ENOENT || error.errno === ERRNO.ENOTDIR)) return new Set();
      if (error instanceof FsError) return undefined;
      throw error;
    }
    const names = new Set<string>();
    try {
      for (let cookie = 0; ; ) {
        const batch = fs.readdir(fd, cookie);
        if (batch.length === 0) return names;
        for (const entry of batch) names.add(entry.name);
        if (names.size > DIR_NAMES) return TOO_BIG;
        cookie = batch[batch.length - 1]!.next;
      }
    } catch (error) {
      if (error instanceof FsError) return undefined;
      throw error;
    } finally {
      fs.close(fd);
    }
  }
}

/** The listing key and the final name of `path` in branch `b`. */
function split(b: number, path: string): { key: string; dir: string; name: string } {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "" : path.slice(0, slash);
  return { key: `${b}:${dir}`, dir, name: path.slice(slash + 1) };
}
