/**
 * @module registration — the router's registration socket messages (JSON lines, validated with valibot on both sides).
 * A client process connects, registers, and keeps the connection open for its whole life: when it closes (the process
 * exits or dies), the router releases every descriptor, buffer and queue entry the client held.
 */
import * as v from "valibot";

/** Largest registration message, in bytes. */
export const MAX_REGISTRATION_BYTES = 16 * 1024;

/** Client → router. */
export const RegistrationRequestSchema = v.variant("op", [
  /** Register this process; the reply gives its client id, the region, its queue and its first request buffer. */
  v.strictObject({ op: v.literal("register"), pid: v.pipe(v.number(), v.integer(), v.minValue(1)), cpu: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))) }),
  /** One more request buffer, for another thread of the process. */
  v.strictObject({ op: v.literal("attach_thread") }),
  /** Give a thread's buffer back. */
  v.strictObject({ op: v.literal("detach_thread"), buffer: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
  /**
   * On a connection of its own (not registered): hear which files other processes' clients write, and with `mount` (a
   * mount point of the mount table) which names they change in that mount, as lines {@link ChangedLine}, from the `ok`
   * reply on until the connection closes. Changes by clients of process `pid` (the watcher's own) are left out.
   */
  v.strictObject({ op: v.literal("watch"), pid: v.pipe(v.number(), v.integer(), v.minValue(1)), mount: v.optional(v.string()) }),
]);
/** A registration request. */
export type RegistrationRequest = v.InferOutput<typeof RegistrationRequestSchema>;

/** One mount of the tenant as a client sees it. */
export const MountEntrySchema = v.object({
  /** Mount point in the client's namespace, e.g. "/mnt/danaus/alpha/data". */
  path: v.string(),
  /** Id to put in `args[0]` of path operations. */
  id: v.number(),
  /** "direct" (a backend path) or "union". */
  kind: v.string(),
  /** Also served through FUSE at `path` (`legacy = true`): the kernel opens the same files there. */
  legacy: v.optional(v.boolean()),
});
/** A mount table entry. */
export type MountEntry = v.InferOutput<typeof MountEntrySchema>;

/** Router → client. */
export const RegistrationReplySchema = v.union([
  v.object({
    ok: v.literal(true),
    /** Client id to put in every request descriptor. */
    client: v.number(),
    region: v.string(),
    /** The queue this client should use (chosen from its CPU), and how many there are. */
    queue: v.number(),
    queueCount: v.number(),
    /** Cores the service threads of that queue run on (a client on one of them should not spin long). */
    queueCpus: v.array(v.number()),
    buffer: v.number(),
    bufferSize: v.number(),
    servicePid: v.number(),
    /** Region epoch: changes every time the service is restarted. */
    epoch: v.number(),
    /**
     * How long a client may answer a stat from its own cache (the tenant's `[fuse] attrTimeoutMs`; 0: never), and only
     * while the region's mutation generation (`mutations` in its header) has not moved since it asked the service.
     */
    attrTimeoutMs: v.number(),
    mounts: v.array(MountEntrySchema),
  }),
  v.object({ ok: v.literal(true), buffer: v.number() }),
  v.object({ ok: v.literal(true) }),
  v.object({ ok: v.literal(false), errno: v.string(), message: v.string() }),
]);
/** A registration reply. */
export type RegistrationReply = v.InferOutput<typeof RegistrationReplySchema>;

/** A path on the watch connection: its bytes in base64 (a name is bytes, not text). */
const PathBytesSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/));

/**
 * A name change a watcher hears (see NameChangeKind in change-log.ts): `path` (and `to` of a "moved" name) inside the
 * mount, as {@link PathBytesSchema}; the file the name named (0, 0 for "added").
 */
export const NameChangedSchema = v.object({
  kind: v.picklist(["added", "removed", "moved"]),
  path: PathBytesSchema,
  to: v.optional(PathBytesSchema),
  st_dev: v.number(),
  st_ino: v.number(),
});
/** A name change as sent on the watch connection. */
export type NameChanged = v.InferOutput<typeof NameChangedSchema>;

/** A name change with its paths as byte strings (one char per byte), the form both ends of the wire work with. */
export interface NameChangedPaths {
  readonly kind: NameChanged["kind"];
  readonly path: string;
  readonly to?: string;
  readonly st_dev: number;
  readonly st_ino: number;
}

/** The wire form of `change`: its paths' bytes in base64, never encoded as text. */
export function nameChangedToWire(change: NameChangedPaths): NameChanged {
  const wire = (path: string) => Buffer.from(path, "latin1").toString("base64");
  const { kind, st_dev, st_ino } = change;
  return { kind, path: wire(change.path), ...(change.to === undefined ? {} : { to: wire(change.to) }), st_dev, st_ino };
}

/** The change a {@link nameChangedToWire} line carries, its paths' bytes as byte strings, never decoded as text. */
export function nameChangedFromWire(name: NameChanged): NameChangedPaths {
  const bytes = (base64: string) => Buffer.from(base64, "base64").toString("latin1");
  const { kind, st_dev, st_ino } = name;
  return { kind, path: bytes(name.path), ...(name.to === undefined ? {} : { to: bytes(name.to) }), st_dev, st_ino };
}

/**
 * What a watcher hears (see the "watch" request): files written, as [st_dev, st_ino] pairs; the name changes in its
 * mount; `lost` when some changes were dropped.
 */
export const ChangedLineSchema = v.object({
  changed: v.array(v.tuple([v.number(), v.number()])),
  names: v.optional(v.array(NameChangedSchema)),
  lost: v.optional(v.number()),
});
/** A line a watcher hears. */
export type ChangedLine = v.InferOutput<typeof ChangedLineSchema>;

export { routerSocketPath } from "../sockets.ts";
