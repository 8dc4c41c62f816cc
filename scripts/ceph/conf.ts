/**
 * @module conf — the ceph.conf of the project's single-node cluster: loopback only, no auth, every file under one
 * private directory, pool size 1, and the two intervals that cut start-up from ~7 s to ~2 s.
 */
import { join } from "node:path";

/** The objectstores the script can use (see README "A Ceph cluster for tests and benchmarks"). */
export const OBJECTSTORES = ["bluestore", "memstore"] as const;
/** An objectstore the OSD keeps its data in. */
export type Objectstore = (typeof OBJECTSTORES)[number];

/** What the cluster's config is made from. */
export interface ClusterLayout {
  /** The private directory holding the conf, data, logs, pid files and sockets. */
  readonly dir: string;
  readonly fsid: string;
  /** The monitor's msgr2 port; msgr1 listens on `monPort + 1`… unless it is 3300, then on 6789 (Ceph's defaults). */
  readonly monPort: number;
  readonly objectstore: Objectstore;
  /** Size of the bluestore block file (sparse). */
  readonly bluestoreBytes: number;
  /** The OSD's memory target (bluestore caches shrink to stay near it). */
  readonly osdMemoryBytes: number;
}

/** The legacy (msgr1) port paired with `monPort`. */
export function legacyPort(monPort: number): number {
  return monPort === 3300 ? 6789 : monPort + 1;
}

/** Paths inside the cluster directory. */
export function clusterPaths(dir: string) {
  return {
    conf: join(dir, "ceph.conf"),
    state: join(dir, "cluster.json"),
    run: join(dir, "run"),
    log: join(dir, "log"),
    crash: join(dir, "crash"),
    mon: join(dir, "mon"),
    osd: join(dir, "osd"),
    mds: join(dir, "mds"),
    mgr: join(dir, "mgr"),
    monmap: join(dir, "monmap"),
  };
}

/** The text of ceph.conf. Daemon-only settings (pid file, admin socket) stay out of [global]: clients would share them. */
export function renderConf(layout: ClusterLayout): string {
  const p = clusterPaths(layout.dir);
  const store =
    layout.objectstore === "bluestore"
      ? ["osd objectstore = bluestore", "bluestore block create = true", `bluestore block size = ${layout.bluestoreBytes}`]
      : ["osd objectstore = memstore", `memstore device bytes = ${layout.bluestoreBytes}`];
  const daemon = [`pid file = ${p.run}/$name.pid`, `admin socket = ${p.run}/$name.asok`];
  return [
    "# Written by `bun run ceph up` (scripts/ceph): a single-node test cluster on 127.0.0.1. Do not edit; `ceph down --purge` removes it.",
    "[global]",
    `fsid = ${layout.fsid}`,
    `mon host = [v2:127.0.0.1:${layout.monPort},v1:127.0.0.1:${legacyPort(layout.monPort)}]`,
    "public addr = 127.0.0.1",
    "cluster addr = 127.0.0.1",
    "ms bind ipv6 = false",
    "auth cluster required = none",
    "auth service required = none",
    "auth client required = none",
    "keyring = /dev/null",
    `run dir = ${p.run}`,
    `crash dir = ${p.crash}`,
    `log file = ${p.log}/$name.log`,
    "osd pool default size = 1",
    "osd pool default min size = 1",
    "osd pool default pg num = 8",
    "osd pool default pg autoscale mode = off",
    "osd crush chooseleaf type = 0",
    "mon allow pool size one = true",
    "mon warn on pool no redundancy = false",
    "paxos propose interval = 0.1",
    "mds beacon interval = 1",
    "",
    "[mon]",
    `mon data = ${p.mon}/$id`,
    ...daemon,
    "",
    "[mgr]",
    `mgr data = ${p.mgr}/$id`,
    ...daemon,
    "",
    "[osd]",
    `osd data = ${p.osd}/$id`,
    `osd memory target = ${layout.osdMemoryBytes}`,
    ...store,
    ...daemon,
    "",
    "[mds]",
    `mds data = ${p.mds}/$id`,
    // After a restart, wait 5 s (not 45) for clients of the previous run to reconnect: a test cluster's clients are gone.
    "mds reconnect timeout = 5",
    ...daemon,
    "",
  ].join("\n");
}
