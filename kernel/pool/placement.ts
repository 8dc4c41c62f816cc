/** @module pool/placement — the shell prelude that moves a process into its groups before it execs the real command. */

/** Exit code of a `wrap()`ped process whose placement into its pool failed; the command itself never ran. */
export const PLACEMENT_FAILED_EXIT = 97;

/** Quote `text` as one word for a POSIX shell: single quotes, with each ' written as '\''. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The argv that writes the shell's own pid into every file of `procsFiles` (each a cgroup.procs) and then execs `argv`,
 * so the command starts already placed under the same pid. If any write fails the shell reports it on stderr and exits
 * with `PLACEMENT_FAILED_EXIT` without running `argv`. Throws RangeError when `argv` is empty.
 */
export function buildPlacementArgv(procsFiles: readonly string[], argv: readonly string[]): string[] {
  if (argv.length === 0) throw new RangeError("wrap() needs a command: argv is empty");
  const joins = procsFiles.map((file) => `echo $$ > ${shellQuote(file)}`).join(" && ");
  const failed = `{ echo "danaus-pool: could not join the pool's cgroups" >&2; exit ${PLACEMENT_FAILED_EXIT}; }`;
  const script = procsFiles.length === 0 ? `exec "$@"` : `${joins} || ${failed}; exec "$@"`;
  return ["/bin/sh", "-c", script, "danaus-pool", ...argv];
}
