/**
 * @module run — `danaus run --tenant T -- CMD ARGS…`: runs an unmodified program in the tenant's pool (its cgroups:
 * cores and memory) with the LD_PRELOAD library loaded and connected to the tenant's service, so its file calls on
 * the tenant's mounts take the user-level path; and `danaus preload-path`, the library for people who preload it
 * themselves.
 */
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { join, resolve } from "node:path";
import { loadHost } from "../config/index.ts";
import { request } from "../control/index.ts";
import { buildPlacementArgv, detectPoolSupport, poolProcsFiles } from "../pool/index.ts";
import type { TenantStatus } from "../supervisor/index.ts";
import { routerSocketPath } from "../ipc/index.ts";
import { type Args, requiredFlag, UsageError } from "./args.ts";

/** Where scripts/setup.sh (shims/preload/build.sh) puts the libraries. */
export const PRELOAD_BUILD_DIR = resolve(import.meta.dir, "../../.danaus/build");
/** The environment variable naming the tenant's registration socket, read by the library (and the TS client). */
export const PRELOAD_SOCKET_ENV = "DANAUS_SOCKET";

/** The usage lines of run and preload-path, for the CLI's help. */
export const RUN_USAGE = `  run --tenant T [--asan] -- CMD [ARGS…]
                                        run CMD in the tenant's pool (cpuset + memory cgroups) with the preload
                                        library connected to the tenant's service (LD_PRELOAD, DANAUS_SOCKET):
                                        its file calls on the tenant's mounts bypass the kernel; exits with CMD's
                                        status; --asan loads the AddressSanitizer build of the library
  preload-path [--asan]                 print the preload library's path (build it with scripts/setup.sh)`;

/** The preload library's path (the AddressSanitizer build with `asan`). */
export function preloadLibrary(asan = false): string {
  return join(PRELOAD_BUILD_DIR, asan ? "libdanaus-preload-asan.so" : "libdanaus-preload.so");
}

function requireLibrary(asan: boolean): string {
  const library = preloadLibrary(asan);
  if (!existsSync(library)) throw new RunError(`the preload library ${library} is not built: run scripts/setup.sh (it needs Debian's cc)`);
  return library;
}

/** A refusal of `run` (no such tenant, tenant not running, library not built); the CLI prints it and exits 1. */
export class RunError extends Error {
  override readonly name = "RunError";
}

/** `preload-path`: prints the library's path; fails when it is not built. */
export function preloadPathCommand(args: Args, print: (text: string) => void): number {
  print(requireLibrary(args.flags.has("asan")));
  return 0;
}

/** The AddressSanitizer runtime a binary not built with ASan needs ahead of the ASan build of the library. */
function asanRuntime(): string {
  const found = Bun.spawnSync(["cc", "-print-file-name=libasan.so"]).stdout.toString().trim();
  if (!found.startsWith("/")) throw new RunError("cannot find libasan.so (cc -print-file-name=libasan.so): install Debian's gcc");
  return found;
}

/**
 * `run`: checks the tenant is running, then spawns `command` placed in its pool with the library preloaded and
 * connected; resolves to the command's exit status (128 + signal number when it was killed).
 */
export async function runCommand(args: Args, hostFile: string, command: readonly string[]): Promise<number> {
  const tenant = requiredFlag(args, "tenant");
  if (command.length === 0) throw new UsageError("run needs a command after --: danaus run --tenant T -- CMD [ARGS…]");
  const asan = args.flags.has("asan");
  const library = requireLibrary(asan);
  const { host } = loadHost(hostFile);
  const reply = await request(host.controlSocket, { cmd: "status" });
  if (!reply.ok) throw new RunError(`status: ${reply.error.code}: ${reply.error.message}`);
  const status = (reply.result as TenantStatus[]).find((t) => t.name === tenant);
  if (status === undefined) throw new RunError(`no tenant "${tenant}" in this supervisor (see: danaus status)`);
  if (status.state !== "running") throw new RunError(`tenant "${tenant}" is ${status.state}, not running: its service cannot serve the program`);
  const socket = routerSocketPath(join(host.stateDir, "run", tenant));
  const preload = [...(asan ? [asanRuntime()] : []), library, ...(process.env.LD_PRELOAD ? [process.env.LD_PRELOAD] : [])].join(" ");
  const env: Record<string, string | undefined> = { ...process.env, LD_PRELOAD: preload, [PRELOAD_SOCKET_ENV]: socket };
  if (asan) env.ASAN_OPTIONS = process.env.ASAN_OPTIONS ?? "detect_leaks=0:abort_on_error=1";
  const argv = buildPlacementArgv(poolProcsFiles(detectPoolSupport(), host.instance, tenant), [...command]);
  const child = Bun.spawn(argv, { env, stdio: ["inherit", "inherit", "inherit"] });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  const code = await child.exited;
  for (const [signal, handler] of handlers) process.off(signal, handler);
  const signal = child.signalCode;
  if (signal !== null) return 128 + (typeof signal === "number" ? signal : constants.signals[signal]);
  return code;
}
