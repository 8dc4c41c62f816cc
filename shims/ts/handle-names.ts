/**
 * @module handle-names — how a {@link RenewingFileSystem} names the handles of the service it reaches to its caller,
 * so that a handle of an earlier registration (a service that died) is recognised and answers ESTALE.
 *
 * - {@link WideHandleNames}: the registration's generation times 2^32 plus the service's descriptor (a FUSE handle is
 *   64-bit: fuse-legacy uses this).
 * - {@link HandleTable}: a table shared by every thread of the calling process, whose slot index is the handle. A
 *   service stacked on another keeps handles in int32 tables (and the union in 26 bits), while the service's own
 *   descriptors take 30 bits; the slot remembers the descriptor and the generation it was opened under.
 */
import { ERRNO, FsError } from "../../kernel/ipc/protocol/index.ts";

/** A handle as the service knows it, with the registration generation it was opened under. */
export interface NamedHandle {
  readonly generation: number;
  readonly handle: number;
}

/** The naming scheme. `name` may throw FsError (EMFILE when out of names). */
export interface HandleNames {
  name(generation: number, handle: number): number;
  /** The handle named `fd`, or null when `fd` names none. */
  resolve(fd: number): NamedHandle | null;
  /** Forgets `fd` (after its close). */
  release(fd: number): void;
}

const SPAN = 2 ** 32;

/** generation * 2^32 + handle: nothing to remember. */
export const WideHandleNames: HandleNames = {
  name: (generation, handle) => generation * SPAN + handle,
  resolve: (fd) => (Number.isSafeInteger(fd) && fd >= 0 ? { generation: Math.floor(fd / SPAN), handle: fd % SPAN } : null),
  release: () => undefined,
};

/** Words per slot: the generation (0: free; posted generations are even and ≥ 2), the service's descriptor. */
const WORDS = 2;
/** Word 0 is a hint: where the next search for a free slot starts (after the one handed out last). Slots follow. */
const FIRST = WORDS;

/** Slots by default: twice a service's open-file table (4,096), since one table serves every mount of a registration. */
export const DEFAULT_HANDLE_SLOTS = 8192;

/** A table of handles in a SharedArrayBuffer; build it once per registration and attach it in every thread. */
export class HandleTable implements HandleNames {
  private readonly words: Int32Array;

  constructor(readonly shared: SharedArrayBuffer) {
    this.words = new Int32Array(shared);
  }

  static allocate(slots = DEFAULT_HANDLE_SLOTS): SharedArrayBuffer {
    return new SharedArrayBuffer((FIRST + slots * WORDS) * 4);
  }

  private get slots(): number {
    return (this.words.length - FIRST) / WORDS;
  }

  name(generation: number, handle: number): number {
    const w = this.words;
    const slots = this.slots;
    // From the hint on, so an open does not walk past every file already open.
    const start = (Atomics.load(w, 0) >>> 0) % slots;
    for (let i = 0; i < slots; i++) {
      const slot = (start + i) % slots;
      const at = FIRST + slot * WORDS;
      if (Atomics.load(w, at) !== 0 || Atomics.compareExchange(w, at, 0, -1) !== 0) continue;
      Atomics.store(w, at + 1, handle);
      Atomics.store(w, at, generation);
      Atomics.store(w, 0, slot + 1);
      return slot;
    }
    throw new FsError(ERRNO.EMFILE, "open");
  }

  resolve(fd: number): NamedHandle | null {
    if (!Number.isInteger(fd) || fd < 0 || fd >= this.slots) return null;
    const generation = Atomics.load(this.words, FIRST + fd * WORDS);
    if (generation <= 0) return null;
    return { generation, handle: Atomics.load(this.words, FIRST + fd * WORDS + 1) };
  }

  release(fd: number): void {
    if (this.resolve(fd) !== null) Atomics.store(this.words, FIRST + fd * WORDS, 0);
  }
}
