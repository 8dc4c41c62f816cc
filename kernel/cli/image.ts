/** @module image — `danaus image import|show`: container images on a tenant's backend (see kernel/images). */
import { findTenant, importImage, openTenantBackend, readManifest, checkImageName, type ManifestLayer } from "../images/index.ts";
import { type Args, UsageError } from "./args.ts";

/** The usage lines of the image commands, for the CLI's help. */
export const IMAGE_USAGE = `  image import <tenant> <name> <rootfs-dir | layer.tar[.gz] ...> [--force]
                                        write an image's layers to images/<name>/layer<i> on the tenant's backend
                                        (the first source is layer0, the bottom) with images/<name>/manifest.json
  image show <tenant> <name>            print an image's manifest (layers top first)`;

function describe(layer: ManifestLayer): string {
  const skipped = layer.skipped.length > 0 ? `, skipped ${layer.skipped.length} (${layer.skipped.slice(0, 3).join(", ")}${layer.skipped.length > 3 ? ", ..." : ""})` : "";
  return `  ${layer.path}  ${layer.format} ${layer.source}\n    ${layer.files} files, ${layer.directories} directories, ${layer.symlinks} symlinks, ${layer.hardlinks} hard links, ${layer.bytes} bytes${skipped}\n    ${layer.digest}`;
}

/** Runs `image <sub>` against the host config `hostFile`; prints through `print`; returns the exit code. Throws ImageError, ConfigError, UsageError. */
export async function imageCommand(args: Args, hostFile: string, print: (text: string) => void): Promise<number> {
  const [sub, tenant, name, ...sources] = args.positionals;
  if (sub !== "import" && sub !== "show") throw new UsageError(`image needs a subcommand: import or show`);
  if (tenant === undefined || name === undefined) throw new UsageError(`image ${sub} needs a tenant and an image name`);
  if (sub === "import") {
    if (sources.length === 0) throw new UsageError("image import needs a root file system directory or layer tars");
    const ref = findTenant(hostFile, tenant);
    const started = performance.now();
    const { manifest, replaced } = await importImage(ref, name, sources, { force: args.flags.has("force") });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    print(`${replaced ? "replaced" : "imported"} image "${name}" of tenant "${tenant}" (${ref.tenant.backend.kind} backend) in ${seconds} s; layers top first:\n${manifest.layers.map(describe).join("\n")}\n  manifest: images/${name}/manifest.json`);
    return 0;
  }
  if (sources.length > 0) throw new UsageError(`image show takes a tenant and an image name only`);
  checkImageName(name);
  const backend = await openTenantBackend(findTenant(hostFile, tenant), "image-show");
  try {
    print(JSON.stringify(readManifest(backend.fs, name, tenant), null, 2));
  } finally {
    await backend.close();
  }
  return 0;
}
