/**
 * @module sockets — where a tenant's registration sockets are, in the run directory the supervisor gives it (0700):
 * the front's (ipc-router), which applications, fuse-legacy and `danaus run` reach; the channel hosts' are named in
 * services/tenant-stack.ts.
 */

/** Path of a tenant's registration socket (the front's) under its run directory. */
export function routerSocketPath(runDir: string): string {
  return `${runDir}/router.sock`;
}
