/**
 * @module test/ceph — how tests find the project's Ceph cluster: `DANAUS_CEPH_CONF` (set by scripts/test.sh after
 * `bun run ceph up`). Without it the Ceph tests skip and say why — except under CI, where the cluster must be there.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";

/** The ceph.conf of the test cluster, or null (after printing why) when there is none and this is not CI. */
export function testCephConf(file: string): string | null {
  const conf = process.env.DANAUS_CEPH_CONF;
  if (conf && existsSync(conf)) return conf;
  const why = conf ? `DANAUS_CEPH_CONF=${conf} does not exist` : "DANAUS_CEPH_CONF is not set";
  if (process.env.CI === "true") throw new Error(`${file}: the Ceph tests must run in CI, but ${why} (scripts/test.sh starts the cluster)`);
  process.stderr.write(`SKIP ${file}: no Ceph cluster (${why}; run \`bun run ceph up\` and set DANAUS_CEPH_CONF=.danaus/ceph/ceph.conf)\n`);
  return null;
}

/** The cluster directory of a conf written by `bun run ceph up`. */
export function clusterDirOf(conf: string): string {
  return dirname(conf);
}
