/** @module main — `bun run bench <name>`: runs one benchmark, prints its table and writes bench/results/<name>.json. */
const BENCHMARKS: Record<string, { what: string; load: () => Promise<{ run(): Promise<void> }> }> = {
  backend: { what: "danaus on Ceph vs ceph-fuse: sequential 1 MiB write/read (cold, warm), 4 KiB random read/write, create/stat/unlink", load: () => import("./backend.ts") },
  fuse: { what: "danaus's FUSE mount (fuse-legacy → tenant service → libcephfs) vs ceph-fuse and unionfs-fuse/ceph-fuse: fio 1 MiB seq write/read, 4 KiB randrw, create/stat/unlink; start-up of 1/4/16 lighttpd chroot'd into unions over an image; node identity: lstat/open of 10,000 names with and without hard links", load: () => import("./fuse.ts") },
  ipc: { what: "data-path transports: null round trip, 4 KiB / 1 MiB read-write, create+stat+unlink — ring vs Unix socket vs node:fs", load: () => import("./ipc.ts") },
  preload: { what: "unmodified fio through the LD_PRELOAD library (danaus run) vs the same tenant's FUSE mount, ceph-fuse and the host's ext4/tmpfs: 1 MiB seq write/read, 4 KiB randrw, create/stat/unlink, on the local and cephfs backends; the ns the library adds to stat and pread of a host file", load: () => import("./preload.ts") },
  restart: { what: "fault containment: recovery time after kill/hang, and alpha's latency while beta is killed repeatedly", load: () => import("./restart.ts") },
  soak: { what: "[--minutes N] alpha under fio 4 KiB randrw with verify plus a verifying client loop while beta gets a fault every 30 s: RSS per service over time, p50/p99 per minute, errors, restarts", load: () => import("./soak.ts") },
  union: { what: "danaus union vs unionfs-fuse over ceph-fuse: copy-up on append, cold/warm lower read, 1/4/16 clones reading one lower file (time, memory)", load: () => import("./union.ts") },
};

const name = process.argv[2];
const bench = name ? BENCHMARKS[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: bun run bench <name>\n\n${Object.entries(BENCHMARKS).map(([n, b]) => `  ${n.padEnd(10)} ${b.what}`).join("\n")}\n`);
  process.exit(name ? 2 : 0);
}
await (await bench.load()).run();

export {};
