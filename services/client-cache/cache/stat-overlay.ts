/**
 * @module stat-overlay — what stat shows for a file whose written data has not all reached the backend: the
 * backend's answer with the cached size, and the time of the last cached write as mtime and ctime, so a write is
 * visible to every later stat through the same process, from any thread. Once the data is written back, the
 * backend's own answer is shown again (its mtime is then the write-back's time).
 */
import type { Stat } from "../../../kernel/ipc/protocol/index.ts";
import { findFile, hasPendingData } from "./files.ts";
import { F, FF, NIL } from "./layout.ts";
import { S_IFMT, S_IFREG } from "./linux.ts";
import type { CacheMemory } from "./memory.ts";

/**
 * The overlaid copy of `st` (an answer of backend `backend`) when its file has pending data in the cache, else
 * undefined.
 */
export function pendingOverlay(m: CacheMemory, backend: number, st: Stat): Stat | undefined {
  if ((st.st_mode & S_IFMT) !== S_IFREG) return undefined;
  let size: number;
  let written: number;
  let dirtyBlocks: number;
  m.lock();
  try {
    const file = findFile(m, { backend, dev: st.st_dev, ino: st.st_ino });
    if (file === NIL || !hasPendingData(m, file)) return undefined;
    size = m.f64[m.ff(file) + FF.SIZE]!;
    written = m.f64[m.ff(file) + FF.WRITE_TIME]!;
    dirtyBlocks = m.i32[m.f(file) + F.DIRTY]!;
  } finally {
    m.unlock();
  }
  const out: Stat = { ...st, st_size: size };
  // Roughly what the backend will allocate: its blocks plus the dirty ones, never more than the size needs.
  const sectors = Math.ceil(size / 512);
  out.st_blocks = Math.max(st.st_blocks, Math.min(sectors, st.st_blocks + (dirtyBlocks * m.blockSize) / 512));
  if (written > 0) {
    const sec = Math.floor(written / 1000);
    const nsec = Math.round((written - sec * 1000) * 1e6);
    if (sec > st.st_mtime_sec || (sec === st.st_mtime_sec && nsec > st.st_mtime_nsec)) {
      out.st_mtime_sec = sec;
      out.st_mtime_nsec = nsec;
    }
    if (sec > st.st_ctime_sec || (sec === st.st_ctime_sec && nsec > st.st_ctime_nsec)) {
      out.st_ctime_sec = sec;
      out.st_ctime_nsec = nsec;
    }
  }
  return out;
}

/** `st` with the pending overlay of its file applied, if any. */
export function overlayStat(m: CacheMemory, backend: number, st: Stat): Stat {
  return pendingOverlay(m, backend, st) ?? st;
}
