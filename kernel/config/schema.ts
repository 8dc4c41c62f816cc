/** @module schema — the valibot schemas of the host config and of one tenant file: the single source of their shape. */
import * as v from "valibot";
import { parseSize } from "./size.ts";

// Every message below is written as the *expectation* ("a directory", "at least one core"): ConfigIssue puts it
// after "expected" and the field path in front of it, so messages never repeat the field name.

/** The services a tenant can run, in dependency (start) order: each one only calls those before it. */
export const SERVICE_NAMES = ["client-cache", "union", "ipc-router", "fuse-legacy"] as const;
/** A service name. */
export type ServiceName = (typeof SERVICE_NAMES)[number];

const TENANT_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** The text form of a size, as `parseSize` reads it (JSON Schema patterns have no flags, hence the classes). */
const SIZE_TEXT = /^\s*\d+(?:\.\d+)?\s*(?:[KkMmGgTt](?:[Ii]?[Bb])?|[Bb])?\s*$/;
const SIZE_EXPECTED = 'a size such as "512MiB", "2GiB" or a whole number of bytes';

const size = () =>
  v.pipe(
    v.union(
      [
        v.pipe(v.string(SIZE_EXPECTED), v.regex(SIZE_TEXT, SIZE_EXPECTED)),
        v.pipe(v.number(SIZE_EXPECTED), v.integer(SIZE_EXPECTED), v.minValue(0, SIZE_EXPECTED)),
      ],
      SIZE_EXPECTED,
    ),
    v.check((input) => parseSize(input) !== null, SIZE_EXPECTED),
    v.transform((input) => parseSize(input)!),
  );

const millis = (min = 1) => {
  const expected = `a whole number of milliseconds ≥ ${min}`;
  return v.pipe(v.number(expected), v.integer(expected), v.minValue(min, expected));
};

const noDotDot = (p: string) => !p.split("/").includes("..");

const absolutePath = v.pipe(
  v.string("an absolute path"),
  v.startsWith("/", "an absolute path (starting with /)"),
  v.check(noDotDot, "a path without '..' components"),
);

/** A path inside the tenant's backend root: relative, no `..`. */
const backendPath = v.pipe(
  v.string("a path inside the backend root"),
  v.check(noDotDot, "a path inside the backend root (no '..' components)"),
);

/** The `local` backend: a host directory (the embedded default). `root` is relative to the host state dir unless absolute. */
export const LocalBackendSchema = v.strictObject({
  kind: v.literal("local"),
  root: v.pipe(v.string("a directory"), v.minLength(1, "a non-empty directory"), v.check(noDotDot, "a directory without '..' components")),
});

/** The `cephfs` backend: libcephfs against a Ceph cluster. `conf` and `keyring` are relative to the tenant file unless absolute. */
export const CephBackendSchema = v.strictObject({
  kind: v.literal("cephfs"),
  conf: v.pipe(v.string("the path of a ceph.conf"), v.minLength(1, "the path of a ceph.conf")),
  fs: v.optional(v.string("a CephFS file system name"), "cephfs"),
  root: v.optional(absolutePath, "/"),
  clientId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+$/, 'a Ceph client id such as "admin"')), "admin"),
  keyring: v.optional(v.string("the path of a keyring")),
  options: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]*$/, "a libcephfs client option name such as client_oc")),
      v.union([v.string(), v.number(), v.boolean()], "a string, number or boolean"),
      "a table of libcephfs client options",
    ),
  ),
});

const BackendSchema = v.variant("kind", [LocalBackendSchema, CephBackendSchema], 'a backend with kind = "local" or "cephfs"');

/** Per-tenant client cache settings (paper §3.3–3.4 defaults when omitted). */
export const CacheSchema = v.strictObject({
  size: v.optional(size()),
  maxDirty: v.optional(size()),
  blockSize: v.optional(size()),
  writebackMs: v.optional(millis()),
  expireMs: v.optional(millis()),
  writeback: v.optional(v.picklist(["async", "sync"], '"async" or "sync"')),
});

/** One mount point of the tenant: either a backend path, or union branches (one rw upper, ordered ro lowers, top first). */
export const MountSchema = v.pipe(
  v.strictObject({
    path: absolutePath,
    source: v.optional(backendPath),
    upper: v.optional(backendPath),
    lowers: v.optional(v.array(backendPath, "a list of backend paths, top first")),
    legacy: v.optional(v.boolean("true or false"), false),
    renameDir: v.optional(v.pipe(
      v.picklist(["copy-up", "exdev"], '"copy-up" or "exdev"'),
      v.description('Union mounts: rename(2) of a directory with a lower part copies its whole tree into the upper and renames it there ("copy-up", the default, as overlayfs with redirect_dir), or answers EXDEV ("exdev").'),
    )),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const m = dataset.value;
    const union = m.upper !== undefined || m.lowers !== undefined;
    const expected = "either `source` (a backend path) or union branches (`upper` and optional `lowers`), not both";
    if (m.source !== undefined && union) {
      addIssue({ message: expected, received: `both source = ${JSON.stringify(m.source)} and ${m.upper !== undefined ? `upper = ${JSON.stringify(m.upper)}` : "lowers"}` });
    } else if (m.source === undefined && !union) {
      addIssue({ message: expected, received: "neither" });
    } else if (m.source !== undefined && m.renameDir !== undefined) {
      addIssue({ message: "`renameDir` only on a union mount (`upper` and `lowers`)", received: `renameDir = ${JSON.stringify(m.renameDir)} with source` });
    } else if (m.lowers !== undefined && m.upper === undefined) {
      addIssue({ message: "a writable `upper` branch with the `lowers`", received: "lowers without upper" });
    }
  }),
);

/** How FUSE mounts of the legacy path use the kernel page cache (built-in defaults: directIo, 1 s timeouts). */
export const FuseSchema = v.strictObject({
  directIo: v.optional(v.boolean("true or false")),
  attrTimeoutMs: v.optional(millis(0)),
  entryTimeoutMs: v.optional(millis(0)),
  negativeTimeoutMs: v.optional(millis(0)),
  threads: v.optional(v.pipe(v.number("a thread count from 1 to 16"), v.integer("a thread count from 1 to 16"), v.minValue(1, "a thread count from 1 to 16"), v.maxValue(16, "a thread count from 1 to 16"))),
  maxNodes: v.optional(v.pipe(
    v.number("a power of two from 1024 to 4194304"),
    v.check((n) => Number.isInteger(n) && n >= 1024 && n <= 4194304 && (n & (n - 1)) === 0, "a power of two from 1024 to 4194304"),
    v.description("Nodes the kernel may hold at once per legacy mount (the node table, ~330 bytes each); past it, LOOKUP answers ENFILE. Default 131072."),
  )),
});

const RestartType = v.picklist(["permanent", "transient", "temporary"], '"permanent", "transient" or "temporary"');

/** OTP-style restart policy of a tenant's services. */
export const RestartSchema = v.strictObject({
  strategy: v.optional(v.picklist(["one_for_one", "one_for_all", "rest_for_one"], '"one_for_one", "one_for_all" or "rest_for_one"')),
  intensity: v.optional(v.pipe(v.number("a restart count ≥ 0"), v.integer("a restart count ≥ 0"), v.minValue(0, "a restart count ≥ 0"))),
  periodMs: v.optional(millis()),
  backoffBaseMs: v.optional(millis(0)),
  backoffCapMs: v.optional(millis(0)),
  shutdownMs: v.optional(millis()),
  services: v.optional(
    v.strictObject(
      Object.fromEntries(SERVICE_NAMES.map((n) => [n, v.optional(RestartType)])) as Record<ServiceName, v.OptionalSchema<typeof RestartType, undefined>>,
    ),
  ),
});

/**
 * Which services share a process: a list of process groups, each a list of service names. The supervisor starts them
 * from the storage up (client-cache's group, union's, ipc-router's, then the others), each after the previous is ready.
 */
export const TopologySchema = v.pipe(
  v.array(
    v.pipe(
      v.array(v.picklist(SERVICE_NAMES, `a service name (${SERVICE_NAMES.join(", ")})`), "a process group: a list of service names"),
      v.minLength(1, "a non-empty process group"),
    ),
    "a list of process groups such as [[\"client-cache\", \"union\"], [\"ipc-router\"]]",
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Set<string>();
    for (const name of dataset.value.flat()) {
      if (seen.has(name)) {
        addIssue({ message: "each service in at most one process group", received: `${JSON.stringify(name)} twice` });
        return;
      }
      seen.add(name);
    }
  }),
);

const cpuId = "a core id (a whole number ≥ 0)";

/** The fields a tenant file may set, all of which but `name`, `cpus`, `backend` and `mounts` may also come from the host's `[defaults]`. */
const tenantFields = {
  cpus: v.pipe(
    v.array(v.pipe(v.number(cpuId), v.integer(cpuId), v.minValue(0, cpuId)), "a list of core ids such as [0, 1]"),
    v.minLength(1, "at least one core"),
    v.description("The cores reserved for the tenant's services (a cgroup cpuset)."),
  ),
  shareCpus: v.optional(v.pipe(v.boolean("true or false"), v.description("Allow other tenants that also set shareCpus to use the same cores."))),
  uid: v.optional(v.pipe(v.number("a user id"), v.integer("a whole user id"), v.minValue(1, "a user id other than root (0)"), v.maxValue(2 ** 31 - 1), v.description("Run the tenant's services as this user; its region, sockets and files are then private to it. Default: the supervisor's user."))),
  gid: v.optional(v.pipe(v.number("a group id"), v.integer("a whole group id"), v.minValue(1, "a group id other than root (0)"), v.maxValue(2 ** 31 - 1), v.description("Group of the tenant's services (default: the same number as uid)."))),
  memory: v.optional(v.pipe(size(), v.description("The tenant pool's memory limit; default 1GiB."))),
  backend: v.pipe(BackendSchema, v.description("Where the tenant's files live: a local directory or a CephFS file system.")),
  cache: v.optional(CacheSchema),
  mounts: v.optional(
    v.pipe(
      v.array(MountSchema, "a list of mounts ([[mounts]] tables)"),
      v.minLength(1, "at least one mount (omit `mounts` for the default /mnt/danaus/<name>)"),
      v.description("Mount points; default: the backend root at /mnt/danaus/<name>."),
    ),
  ),
  fuse: v.optional(FuseSchema),
  maxDirStreams: v.optional(v.pipe(v.number("a stream count from 1 to 65536"), v.integer("a stream count from 1 to 65536"), v.minValue(1, "a stream count from 1 to 65536"), v.maxValue(65536, "a stream count from 1 to 65536"), v.description("Most directory streams one client (a process of the tenant; one per legacy mount for the kernel path) may hold open at once; past it, opendir answers EMFILE. Default 1024."))),
  heldRequestMs: v.optional(v.pipe(v.number("milliseconds from 100 to 600000"), v.integer("milliseconds from 100 to 600000"), v.minValue(100, "milliseconds from 100 to 600000"), v.maxValue(600_000, "milliseconds from 100 to 600000"), v.description("A request in service this long holds its service thread (a backend that stopped answering): the router lists it in status and, when every thread of its queue is held, adds one. Default 1000."))),
  topology: v.optional(v.pipe(TopologySchema, v.description("Which services share a process; default: client-cache, union and ipc-router in one process, fuse-legacy in another."))),
  restart: v.optional(RestartSchema),
};

/** One tenant file (TOML), as written. */
export const TenantFileSchema = v.strictObject({
  name: v.pipe(
    v.string("a tenant name"),
    v.regex(TENANT_NAME, "a tenant name: lower-case letter, then letters, digits or '-', at most 31 characters"),
    v.description("The tenant's name; must equal the file's base name (alpha.toml ↔ alpha)."),
  ),
  ...tenantFields,
});

/** `[defaults]` of the host config: tenant fields that apply to every tenant that does not set them. */
export const TenantDefaultsSchema = v.strictObject({
  shareCpus: tenantFields.shareCpus,
  memory: tenantFields.memory,
  cache: tenantFields.cache,
  fuse: tenantFields.fuse,
  maxDirStreams: tenantFields.maxDirStreams,
  heldRequestMs: tenantFields.heldRequestMs,
  topology: tenantFields.topology,
  restart: tenantFields.restart,
});

/** The host config (TOML). Relative paths are relative to the directory of the host config file. */
export const HostFileSchema = v.strictObject({
  instance: v.optional(v.pipe(v.string("an instance name"), v.regex(/^[a-z0-9][a-z0-9-]{0,40}$/, "an instance name: lower-case letters, digits and '-'")), "default"),
  stateDir: v.pipe(v.string("a directory"), v.minLength(1, "a non-empty directory"), v.description("The supervisor's state directory.")),
  tenantsDir: v.pipe(v.string("a directory"), v.minLength(1, "a non-empty directory"), v.description("The directory of tenant files (*.toml).")),
  controlSocket: v.optional(v.pipe(v.string("the path of a Unix socket"), v.minLength(1, "the path of a Unix socket"), v.description("Default: <stateDir>/control.sock."))),
  heartbeatMs: v.optional(millis(10), 250),
  hungAfterMs: v.optional(millis(20), 2000),
  startTimeoutMs: v.optional(millis(100), 15000),
  defaults: v.optional(TenantDefaultsSchema),
});

/** A tenant file as parsed (sizes already in bytes, optional fields still missing). */
export type TenantFile = v.InferOutput<typeof TenantFileSchema>;
/** The host config's `[defaults]` as parsed. */
export type TenantDefaults = v.InferOutput<typeof TenantDefaultsSchema>;
/** The host config as parsed. */
export type HostFile = v.InferOutput<typeof HostFileSchema>;
/** A mount as parsed. */
export type MountFile = v.InferOutput<typeof MountSchema>;
/** A restart type: permanent (always restarted), transient (restarted after an abnormal exit), temporary (never). */
export type RestartType = v.InferOutput<typeof RestartType>;
