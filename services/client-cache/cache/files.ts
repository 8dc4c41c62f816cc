/**
 * @module files — the per-file table of the shared cache: one slot per backend file (backend id, st_dev, st_ino),
 * never per path, so a file reached by several names, mounts or containers is cached once. A slot lives while the
 * file has a cached block, an open cached handle or a short-lived reference. Every function here expects the caller
 * to hold the cache mutex.
 */
import { unlinkFromChain } from "./chain.ts";
import type { Stat } from "../../../kernel/ipc/protocol/index.ts";
import { F, FF, HDR, NIL, WORDS } from "./layout.ts";
import type { CacheMemory } from "./memory.ts";

const TWO_32 = 2 ** 32;

/** The identity of a backend file: the backend instance number and the backend's st_dev and st_ino. */
export interface FileIdentity {
  readonly backend: number;
  readonly dev: number;
  readonly ino: number;
}

function hashOf(m: CacheMemory, id: FileIdentity): number {
  let h = Math.imul(id.backend ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (id.dev >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ Math.floor(id.dev / TWO_32), 0xc2b2ae35);
  h = Math.imul(h ^ (id.ino >>> 0), 0x27d4eb2f);
  h = Math.imul(h ^ Math.floor(id.ino / TWO_32), 0x165667b1);
  return (h ^ (h >>> 15)) & (m.geometry.fileBuckets - 1);
}

function matches(m: CacheMemory, slot: number, id: FileIdentity): boolean {
  const w = m.i32;
  const f = m.f(slot);
  return (
    w[f + F.BACKEND] === (id.backend | 0) &&
    w[f + F.DEV_LO] === (id.dev >>> 0 | 0) &&
    w[f + F.DEV_HI] === (Math.floor(id.dev / TWO_32) | 0) &&
    w[f + F.INO_LO] === (id.ino >>> 0 | 0) &&
    w[f + F.INO_HI] === (Math.floor(id.ino / TWO_32) | 0)
  );
}

/** The slot of file `id`, or NIL when it has none. */
export function findFile(m: CacheMemory, id: FileIdentity): number {
  const w = m.i32;
  for (let slot = w[m.at.fileBuckets + hashOf(m, id)]!; slot !== NIL; slot = w[m.f(slot) + F.HASH_NEXT]!) {
    if (matches(m, slot, id)) return slot;
  }
  return NIL;
}

/**
 * The slot of file `id`, created (empty: no blocks, no handles, sizes from `size`) when missing. NIL only when the
 * table is full, which its sizing rules out (blocks + handles slots).
 */
export function findOrAddFile(m: CacheMemory, id: FileIdentity, size: number): { slot: number; created: boolean } {
  const found = findFile(m, id);
  if (found !== NIL) return { slot: found, created: false };
  const w = m.i32;
  const slot = w[HDR.FREE_FILE]!;
  if (slot === NIL) return { slot: NIL, created: false };
  const f = m.f(slot);
  w[HDR.FREE_FILE] = w[f + F.FREE_NEXT]!;
  w.fill(0, f, f + WORDS.F);
  w[f + F.USED] = 1;
  w[f + F.BACKEND] = id.backend | 0;
  w[f + F.DEV_LO] = id.dev >>> 0 | 0;
  w[f + F.DEV_HI] = Math.floor(id.dev / TWO_32) | 0;
  w[f + F.INO_LO] = id.ino >>> 0 | 0;
  w[f + F.INO_HI] = Math.floor(id.ino / TWO_32) | 0;
  w[f + F.FIRST_BLOCK] = NIL;
  w[f + F.FIRST_HANDLE] = NIL;
  w[f + F.WB_HANDLE] = NIL;
  w[f + F.FREE_NEXT] = NIL;
  const bucket = m.at.fileBuckets + hashOf(m, id);
  w[f + F.HASH_NEXT] = w[bucket]!;
  w[bucket] = slot;
  const ff = m.ff(slot);
  m.f64.fill(0, ff, ff + WORDS.FF);
  m.f64[ff + FF.SIZE] = size;
  m.f64[ff + FF.BACKEND_SIZE] = size;
  w[HDR.USED_FILES]!++;
  return { slot, created: true };
}

/** Frees file slot `slot` once nothing keeps it: no block, no open handle, no reference. */
export function releaseIfUnused(m: CacheMemory, slot: number): void {
  const w = m.i32;
  const f = m.f(slot);
  if (w[f + F.USED] !== 1 || w[f + F.OPENS] !== 0 || w[f + F.REFS] !== 0 || w[f + F.BLOCKS] !== 0) return;
  const bucket = m.at.fileBuckets + hashOf(m, identityOf(m, slot));
  unlinkFromChain(w, bucket, slot, (s) => m.f(s) + F.HASH_NEXT);
  w[f + F.USED] = 0;
  w[f + F.HASH_NEXT] = NIL;
  w[f + F.FREE_NEXT] = w[HDR.FREE_FILE]!;
  w[HDR.FREE_FILE] = slot;
  w[HDR.USED_FILES]!--;
}

/** The identity stored in file slot `slot`. */
export function identityOf(m: CacheMemory, slot: number): FileIdentity {
  const w = m.i32;
  const f = m.f(slot);
  return {
    backend: w[f + F.BACKEND]!,
    dev: (w[f + F.DEV_HI]! >>> 0) * TWO_32 + (w[f + F.DEV_LO]! >>> 0),
    ino: (w[f + F.INO_HI]! >>> 0) * TWO_32 + (w[f + F.INO_LO]! >>> 0),
  };
}

/** Takes a short-lived reference on file slot `slot` (the slot stays until {@link dropReference}). */
export function takeReference(m: CacheMemory, slot: number): void {
  m.i32[m.f(slot) + F.REFS]!++;
}

/** Drops a reference taken by {@link takeReference}, freeing the slot if nothing else keeps it. */
export function dropReference(m: CacheMemory, slot: number): void {
  m.i32[m.f(slot) + F.REFS]!--;
  releaseIfUnused(m, slot);
}

/** True while the file has data this process sees but the backend does not hold yet (stat shows the cached size). */
export function hasPendingData(m: CacheMemory, slot: number): boolean {
  const w = m.i32;
  const f = m.f(slot);
  return w[f + F.DIRTY]! + w[f + F.INFLIGHT]! + w[f + F.ACTIVE]! > 0;
}

/** Records `st` (the backend's fstat) as the attributes file slot `slot`'s blocks are valid under. */
export function setBaseline(m: CacheMemory, slot: number, st: Stat): void {
  const ff = m.ff(slot);
  m.f64[ff + FF.BASE_SIZE] = st.st_size;
  m.f64[ff + FF.BASE_MTIME_SEC] = st.st_mtime_sec;
  m.f64[ff + FF.BASE_MTIME_NSEC] = st.st_mtime_nsec;
  m.f64[ff + FF.BASE_CTIME_SEC] = st.st_ctime_sec;
  m.f64[ff + FF.BASE_CTIME_NSEC] = st.st_ctime_nsec;
}

/** True when the backend's `st` still shows the (size, mtime, ctime) file slot `slot`'s blocks were filled under. */
export function baselineMatches(m: CacheMemory, slot: number, st: Stat): boolean {
  const ff = m.ff(slot);
  const f = m.f64;
  return (
    f[ff + FF.BASE_SIZE] === st.st_size &&
    f[ff + FF.BASE_MTIME_SEC] === st.st_mtime_sec &&
    f[ff + FF.BASE_MTIME_NSEC] === st.st_mtime_nsec &&
    f[ff + FF.BASE_CTIME_SEC] === st.st_ctime_sec &&
    f[ff + FF.BASE_CTIME_NSEC] === st.st_ctime_nsec
  );
}
