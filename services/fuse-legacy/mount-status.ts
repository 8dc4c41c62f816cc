/**
 * @module mount-status — which legacy mounts fuse-legacy serves and why the others are not, published through the
 * service stats for `danaus status`: counters `mountsServed` and `mountsUnserved`, and one entry per unserved mount,
 * "<path> unserved (<why>), errno" with the errno as its value.
 */
import { publishStats, type ServiceStats } from "../../kernel/service-host/index.ts";
import type { Logger } from "../../kernel/log/index.ts";

/** The state of a tenant's legacy mounts, republished on every change. */
export class MountStatus {
  private readonly served = new Set<string>();
  private readonly unserved = new Map<string, { errno: number; why: string }>();

  constructor(private readonly runDir: string, private readonly log: Logger) {
    this.publish();
  }

  /** `path` is served. */
  markServed(path: string): void {
    this.unserved.delete(path);
    this.served.add(path);
    this.publish();
  }

  /** `path` cannot be served now, because of `why` (errno `errno`). */
  markUnserved(path: string, errno: number, why: string): void {
    this.served.delete(path);
    this.unserved.set(path, { errno, why });
    this.publish();
  }

  /** The counters as published. */
  stats(): ServiceStats {
    const stats: ServiceStats = { mountsServed: this.served.size, mountsUnserved: this.unserved.size };
    for (const [path, { errno, why }] of this.unserved) stats[`${path} unserved (${why}), errno`] = errno;
    return stats;
  }

  private publish(): void {
    try {
      publishStats(this.runDir, "fuse-legacy", this.stats());
    } catch (error) {
      this.log.warn("could not publish the legacy mounts' status", { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
