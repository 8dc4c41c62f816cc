/**
 * @module clone — `danaus clone <tenant> <image> <count>`: union mounts of an image for the tenant, appended to its
 * tenant file as `[[mounts]]` (or printed with --print), then a reload of the running supervisor to serve them.
 */
import { ControlUnreachableError, request } from "../control/index.ts";
import { appendedTenant, checkImageName, cloneMounts, defaultClonePrefix, findTenant, mountsToml, openTenantBackend, prepareCloneBranches, readManifest, writeTenantFile } from "../images/index.ts";
import type { ReloadSummary } from "../supervisor/index.ts";
import { type Args, flag, UsageError } from "./args.ts";

/** The usage lines of the clone command, for the CLI's help. */
export const CLONE_USAGE = `  clone <tenant> <image> <count> [--print] [--prefix DIR] [--legacy]
                                        add <count> union mounts of the image to the tenant's file (mount points
                                        DIR/<image>-<i>, default /mnt/danaus/<tenant>/clones; uppers
                                        containers/<image>-<i>/upper), then reload; --print only prints them;
                                        --legacy also serves them through the kernel (FUSE), e.g. for chroot`;

/** Runs `clone` against the host config `hostFile`; returns the exit code. Throws ImageError, ConfigError, UsageError. */
export async function cloneCommand(args: Args, hostFile: string, print: (text: string) => void): Promise<number> {
  const [tenant, image, countText, ...rest] = args.positionals;
  if (tenant === undefined || image === undefined || countText === undefined || rest.length > 0) throw new UsageError("clone needs <tenant> <image> <count>");
  if (!/^[1-9]\d{0,3}$/.test(countText)) throw new UsageError(`clone <count> must be a whole number from 1 to 9999, found "${countText}"`);
  checkImageName(image);
  const printOnly = args.flags.has("print");
  const ref = findTenant(hostFile, tenant);
  const prefix = (flag(args, "prefix") ?? defaultClonePrefix(tenant)).replace(/\/+$/, "");
  if (!prefix.startsWith("/")) throw new UsageError(`--prefix must be an absolute directory, found "${prefix}"`);
  const backend = await openTenantBackend(ref, "clone");
  let fragment: string;
  let paths: string[];
  try {
    const manifest = readManifest(backend.fs, image, tenant);
    const mounts = cloneMounts(manifest, Number(countText), ref.tenant.mounts, prefix);
    prepareCloneBranches(backend.fs, mounts, false);
    fragment = mountsToml(image, mounts, args.flags.has("legacy"));
    paths = mounts.map((m) => m.path);
    if (printOnly) {
      print(fragment);
      return 0;
    }
    const { text } = appendedTenant(ref, fragment);
    prepareCloneBranches(backend.fs, mounts, true);
    writeTenantFile(ref.file, text);
  } finally {
    await backend.close();
  }
  print(`added ${paths.length} union mount${paths.length === 1 ? "" : "s"} of image "${image}" to ${ref.file}:\n${paths.map((p) => `  ${p}`).join("\n")}`);
  try {
    const reply = await request(ref.host.controlSocket, { cmd: "reload" });
    if (!reply.ok) {
      process.stderr.write(`danaus: the file is written, but reload failed: ${reply.error.code}: ${reply.error.message}\n`);
      return 1;
    }
    const summary = reply.result as ReloadSummary;
    if (summary.kept.includes(tenant)) {
      const errors = summary.rejected.filter((r) => r.file === ref.file).flatMap((r) => r.errors);
      process.stderr.write(`danaus: the file is written, but the supervisor refused it and tenant "${tenant}" keeps running without the new mounts:\n${errors.join("\n")}\n`);
      return 1;
    }
    print(`reloaded the supervisor: tenant "${tenant}" restarts with the new mounts`);
  } catch (error) {
    if (!(error instanceof ControlUnreachableError)) throw error;
    print(`no supervisor answers at ${ref.host.controlSocket}: the mounts are served when it starts (or run \`danaus reload\`)`);
  }
  return 0;
}
