/**
 * @module clone-mounts — `danaus clone`: union mounts of an image for a tenant, one per clone, each with its own
 * writable upper (`containers/<image>-<i>/upper`) over the image's layers, as `[[mounts]]` TOML to append to the
 * tenant's file, checked by the config loader (alone and against the other tenants) before anything is written.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError, crossCheck, hostFacts, loadTenants, tenantFromToml, type ConfigIssue, type MountConfig, type TenantConfig } from "../config/index.ts";
import { S_IFDIR, S_IFMT, type FileSystem } from "../ipc/protocol/index.ts";
import { lstatOrNull, mkdirs } from "./fs-tree.ts";
import { ImageError } from "./image-error.ts";
import type { ImageManifest } from "./manifest.ts";
import type { TenantRef } from "./tenant-backend.ts";

/** One clone's union mount. */
export interface CloneMount {
  readonly path: string;
  /** The clone's writable branch on the tenant's backend. */
  readonly upper: string;
  /** The image's layers, top first. */
  readonly lowers: readonly string[];
}

/** The default directory of a tenant's clone mount points. */
export function defaultClonePrefix(tenant: string): string {
  return `/mnt/danaus/${tenant}/clones`;
}

/**
 * The mounts of `count` new clones of `manifest` for a tenant that already has `existing` mounts: mount points
 * `<prefix>/<image>-<i>` and uppers `containers/<image>-<i>/upper`, numbered after the highest clone of this image
 * the tenant already has (from 0 when none), so repeated clones never reuse an upper.
 */
export function cloneMounts(manifest: ImageManifest, count: number, existing: readonly MountConfig[], prefix: string): CloneMount[] {
  const image = manifest.name;
  const pattern = new RegExp(`^containers/${image.replace(/[.]/g, "\\.")}-(\\d+)/upper$`);
  let next = 0;
  for (const mount of existing) {
    const index = mount.kind === "union" ? pattern.exec(mount.upper)?.[1] : undefined;
    const fromPath = basename(mount.path).startsWith(`${image}-`) ? /^\d+$/.exec(basename(mount.path).slice(image.length + 1))?.[0] : undefined;
    for (const found of [index, fromPath]) if (found !== undefined) next = Math.max(next, Number(found) + 1);
  }
  const lowers = manifest.layers.map((layer) => layer.path);
  return Array.from({ length: count }, (_, k) => ({ path: `${prefix}/${image}-${next + k}`, upper: `containers/${image}-${next + k}/upper`, lowers }));
}

/** The mounts as `[[mounts]]` tables, after a comment naming the image; with `legacy`, each also gets `legacy = true`. */
export function mountsToml(image: string, mounts: readonly CloneMount[], legacy = false): string {
  const tables = mounts.map(
    (m) => `[[mounts]]\npath = ${JSON.stringify(m.path)}\nupper = ${JSON.stringify(m.upper)}\nlowers = [${m.lowers.map((l) => JSON.stringify(l)).join(", ")}]\n${legacy ? "legacy = true\n" : ""}`,
  );
  return `# clones of image "${image}" (danaus clone, ${new Date().toISOString()})\n${tables.join("\n")}`;
}

function issueLines(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `  ${i.message}`).join("\n");
}

/**
 * The tenant's file with `fragment` appended, validated: the result must load as a tenant (the same loader the
 * supervisor uses) and must not add a conflict with the host's other tenants. Returns the new text and config.
 * Throws ImageError "invalid" with the loader's issues; refuses a tenant without `[[mounts]]` (its default mount of
 * the whole backend would silently disappear).
 */
export function appendedTenant(ref: TenantRef, fragment: string): { text: string; tenant: TenantConfig } {
  const old = readFileSync(ref.file, "utf8");
  const table = Bun.TOML.parse(old) as Record<string, unknown>;
  if (table.mounts === undefined) {
    throw new ImageError("invalid", `${ref.file} has no [[mounts]]: its default mount (the whole backend at ${ref.tenant.mounts[0]?.path}) would be replaced by the clones; add it as an explicit [[mounts]] (path and source = "") first`);
  }
  const text = `${old}${old.endsWith("\n") ? "" : "\n"}\n${fragment}`;
  let tenant: TenantConfig;
  try {
    tenant = tenantFromToml(Bun.TOML.parse(text) as Record<string, unknown>, ref.file, ref.host, ref.defaults);
  } catch (error) {
    if (error instanceof ConfigError) throw new ImageError("invalid", `the clones would make ${ref.file} invalid:\n${issueLines(error.issues)}`);
    throw error;
  }
  const facts = hostFacts();
  const others = loadTenants(ref.host, ref.defaults, facts).accepted.filter((t) => t.name !== ref.tenant.name);
  // The other tenants hold their resources whatever the names' order: the new file is checked against them as incumbents.
  const issuesWith = (t: TenantConfig) => crossCheck([t], facts, others).rejected.find((r) => r.tenant.name === t.name)?.issues ?? [];
  const before = new Set(issuesWith(ref.tenant).map((i) => i.message));
  const added = issuesWith(tenant).filter((i) => !before.has(i.message));
  if (added.length > 0) throw new ImageError("invalid", `the clones would conflict with other tenants:\n${issueLines(added)}`);
  return { text, tenant };
}

/** Replaces the tenant's file with `text` (written beside it, then renamed: the supervisor never reads half a file). */
export function writeTenantFile(file: string, text: string): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temp, text, { mode: 0o644 });
  renameSync(temp, file);
}

/**
 * Checks on the tenant's backend `fs` that every lower of `mounts` is a directory, and creates each upper (mode
 * 0700) unless `create` is false. Throws ImageError "not-found" for a missing layer.
 */
export function prepareCloneBranches(fs: FileSystem, mounts: readonly CloneMount[], create: boolean): void {
  for (const lower of new Set(mounts.flatMap((m) => m.lowers))) {
    const stat = lstatOrNull(fs, `/${lower}`);
    if (stat === null || (stat.st_mode & S_IFMT) !== S_IFDIR) throw new ImageError("not-found", `layer ${lower} of the image is missing on the backend; re-import the image`);
  }
  if (create) for (const m of mounts) mkdirs(fs, `/${m.upper}`, 0o700);
}
