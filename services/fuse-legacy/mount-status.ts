/**
 * @module mount-status — which legacy mounts fuse-legacy serves and why the others are not, published through the
 * service stats for `danaus status`: counters `mountsServed` and `mountsUnserved`, one entry per unserved mount,
 * "<path> unserved (<why>), errno" with the errno as its value, and the FUSE requests its serving Workers answered
 * (`requests`) with the time from reading each to writing its reply (`busyMicros`).
 */
import { ServerCounters } from "../../kernel/ipc/server/index.ts";
import { publishStats, type ServiceStats } from "../../kernel/service-host/index.ts";
import type { Logger } from "../../kernel/log/index.ts";

/** How often the request counts are republished while they change. */
const PUBLISH_EVERY_MS = 1000;

/** The state of a tenant's legacy mounts, republished on every change, and its request counts every second. */
export class MountStatus {
  private readonly served = new Set<string>();
  private readonly unserved = new Map<string, { errno: number; why: string }>();
  /** What every mount's serving Workers add to (FuseServerOptions.counters). */
  readonly counters = new ServerCounters();
  private publishedRequests = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly runDir: string, private readonly log: Logger) {
    this.publish();
    this.timer = setInterval(() => {
      if (this.counters.read("requests") !== this.publishedRequests) this.publish();
    }, PUBLISH_EVERY_MS);
    this.timer.unref?.();
  }

  /** Stops republishing the request counts. */
  close(): void {
    clearInterval(this.timer);
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
    const stats: ServiceStats = {
      mountsServed: this.served.size,
      mountsUnserved: this.unserved.size,
      requests: this.counters.read("requests"),
      busyMicros: this.counters.read("busyMicros"),
    };
    for (const [path, { errno, why }] of this.unserved) stats[`${path} unserved (${why}), errno`] = errno;
    return stats;
  }

  private publish(): void {
    try {
      const stats = this.stats();
      this.publishedRequests = stats.requests!;
      publishStats(this.runDir, "fuse-legacy", stats);
    } catch (error) {
      this.log.warn("could not publish the legacy mounts' status", { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
