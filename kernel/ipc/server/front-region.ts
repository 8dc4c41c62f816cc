/**
 * @module front-region — the tenant's application region (the front's: the ipc-router's) as a service thread sees it,
 * so bulk data can pass down the service graph by reference (`pread_ref`, `pwrite_ref`): the front's own threads have
 * it mapped already; a channel host's thread maps it on the first such request and keeps one mapping.
 *
 * A reference names the region by the pid of the process serving it. A restarted front creates a new region file
 * (every new file starts at service epoch 1, so the epoch cannot tell them apart) and marks the old one CLOSED first
 * (Region.retire, or its own close at a clean stop), so a mapping whose status is CLOSED, or whose serving pid is
 * another, is never used: the thread maps the current file, checks its pid, and unmaps the old mapping, between
 * requests, when no view of it is alive in this thread (see Region.unmap).
 */
import { REGION_STATUS } from "../protocol/index.ts";
import { Region } from "../ring/index.ts";

/** The mapped front region, the pid serving it, and where its request buffers are. */
export interface FrontMapping {
  readonly front: number;
  readonly bytes: Uint8Array;
  /** Where the request buffers start and end in `bytes` (a reference must stay inside them). */
  readonly buffersStart: number;
  readonly buffersEnd: number;
}

function mappingOf(region: Region, front: number): FrontMapping {
  const { bufferCount, bufferSize } = region.layout.params;
  const start = region.layout.bufferOffset(0);
  return { front, bytes: region.bytes, buffersStart: start, buffersEnd: start + bufferCount * bufferSize };
}

/** One thread's view of the front region. */
export class FrontRegion {
  private region: Region | null = null;
  private mapping: FrontMapping | null = null;

  private constructor(private readonly path: string | null) {}

  /** The front's own thread: the region it serves (this process). */
  static own(region: Region): FrontRegion {
    const front = new FrontRegion(null);
    front.region = region;
    front.mapping = mappingOf(region, process.pid);
    return front;
  }

  /** A channel host's thread: the region file at `path`, mapped when first needed. */
  static at(path: string): FrontRegion {
    return new FrontRegion(path);
  }

  /** The mapping in use now (what this thread's channel clients refer to), or null. */
  current(): FrontMapping | null {
    return this.mapping;
  }

  /**
   * The mapping of the region served by process `front`, or null when the region file is another's (a restarted
   * front) or cannot be mapped. Call between requests of this thread only.
   */
  of(front: number): FrontMapping | null {
    if (this.mapping?.front === front && this.region!.status() !== REGION_STATUS.CLOSED) return this.mapping;
    if (this.path === null || !Number.isSafeInteger(front) || front <= 0) return null;
    let next: Region;
    try {
      next = Region.open(this.path);
    } catch {
      return null;
    }
    if (next.header().service_pid !== front || next.status() === REGION_STATUS.CLOSED) {
      next.unmap();
      return null;
    }
    this.region?.unmap();
    this.region = next;
    this.mapping = mappingOf(next, front);
    return this.mapping;
  }
}
