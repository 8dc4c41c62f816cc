/** @module errno — the errno table of the wire format (Linux x86-64 numbers), declared once, with name ↔ number lookups. */

/**
 * Every errno the channel can carry, by name, with its Linux x86-64 number. A reply's result is
 * `-number`. Aliases (EWOULDBLOCK, ENOTSUP, EDEADLOCK) are in {@link ERRNO_ALIASES}, not here.
 */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9, ECHILD: 10,
  EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19,
  ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28,
  ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37,
  ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EIDRM: 43, ENOSTR: 60, ENODATA: 61, ETIME: 62, ENOSR: 63,
  ENOLINK: 67, EPROTO: 71, EMULTIHOP: 72, EBADMSG: 74, EOVERFLOW: 75, EBADFD: 77, EILSEQ: 84, EUSERS: 87,
  ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95, EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101,
  ENETRESET: 102, ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108,
  ETIMEDOUT: 110, ECONNREFUSED: 111, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115, ESTALE: 116,
  EDQUOT: 122, ECANCELED: 125, EOWNERDEAD: 130, ENOTRECOVERABLE: 131,
} as const;

/** An errno name of the table. */
export type ErrnoName = keyof typeof ERRNO;

/** Other names Linux gives to the same numbers; {@link errnoNumber} accepts them, {@link errnoName} never returns them. */
export const ERRNO_ALIASES = { EWOULDBLOCK: "EAGAIN", ENOTSUP: "EOPNOTSUPP", EDEADLOCK: "EDEADLK" } as const satisfies Record<string, ErrnoName>;

const BY_NUMBER = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** The canonical name of an errno number (sign ignored, so a -errno result works too); undefined if unknown. */
export function errnoName(value: number): ErrnoName | undefined {
  return BY_NUMBER.get(Math.abs(value));
}

/** The number of an errno name or alias; undefined for a name the table does not know. */
export function errnoNumber(name: string): number | undefined {
  if (Object.hasOwn(ERRNO, name)) return ERRNO[name as ErrnoName];
  if (Object.hasOwn(ERRNO_ALIASES, name)) return ERRNO[ERRNO_ALIASES[name as keyof typeof ERRNO_ALIASES]];
  return undefined;
}

/** A readable label for a result: `"ENOENT"` for -2, `"errno 999"` for an unknown negative, `"ok 5"` otherwise. */
export function describeResult(result: number): string {
  if (result >= 0) return `ok ${result}`;
  return errnoName(result) ?? `errno ${-result}`;
}
