/* preload.h — shared declarations of the danaus LD_PRELOAD library (libdanaus-preload.so): the connection to the
 * tenant service over the shared-memory ring, the private descriptor table, path routing and the real libc calls. */
#ifndef DANAUS_PRELOAD_H
#define DANAUS_PRELOAD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../include/danaus_proto.h"

/* Everything declared below is the library's own: hidden, so a program's symbol of the same name can neither take
 * its place nor be taken by it. Only the libc entry points the library defines are exported. */
#pragma GCC visibility push(hidden)

/** The environment variable naming the tenant's registration socket (the same one the TypeScript client reads). */
#define DN_ENV_SOCKET "DANAUS_SOCKET"
/** Private descriptors handed over across exec: "fd,mount,flags,offset,hexpath;..." (see process.c). */
#define DN_ENV_INHERIT "DANAUS_INHERIT"
/** The working directory inside a mount, handed over across exec: "mount,hexpath". */
#define DN_ENV_CWD "DANAUS_CWD"
/** Set to 1 to log the library's decisions on stderr. */
#define DN_ENV_DEBUG "DANAUS_PRELOAD_DEBUG"

#define DN_MAX_MOUNTS 64
/* Longest path inside a mount this library builds: one syscall argument's (PATH_MAX). The service takes up to
 * DANAUS_PATH_MAX, but the buffers here live on the caller's stack, which a thread may have made small; a deeper path
 * answers ENAMETOOLONG on the preload path (the kernel path and the TypeScript client go deeper). */
#define DN_PATH_MAX DANAUS_ARG_PATH_MAX

/** One mount of the tenant, as the registration reply lists it. */
struct dn_mount {
  char *path; /* mount point, absolute, without a trailing slash ("/" stays "/") */
  size_t len;
  int id;
  int legacy; /* also a FUSE mount at `path` (legacy = true): the kernel opens the same files there */
};

/** One open file description of the service (shared by dup'ed descriptors, as a kernel file is). */
struct dn_file {
  int refs;
  int mount;
  int64_t handle;  /* service descriptor; -1 while stale (inherited over fork or exec, not reopened yet) */
  int flags;       /* O_ACCMODE | O_APPEND | O_NONBLOCK ... as the program sees them (F_GETFL) */
  int open_flags;  /* flags the service handle was opened with */
  int is_dir;      /* a directory (opened with O_DIRECTORY, or listed): lseek moves dir_cookie */
  int64_t stale_offset; /* position to restore when a stale file is reopened */
  char *path;      /* path inside the mount ("/" = the mount point) */
  int lock_fd;     /* 1 + the kernel descriptor of this file's lock file (locks.c), 0 while none */
  int lost;        /* opened on a service that went away: calls answer ESTALE */
  int64_t dir_cookie; /* where getdents64 continues (dirs.c) */
  unsigned pass;   /* the last dn_each_file pass that visited this file */
  int slot;        /* 1 + its position's slot in the shared page (positions.c), 0: the service's own position */
};

/* ---- real libc entry points (dlsym RTLD_NEXT), resolved once at load ---- */
struct dn_real {
  int (*open)(const char *, int, ...);
  int (*openat)(int, const char *, int, ...);
  int (*close)(int);
  ssize_t (*read)(int, void *, size_t);
  ssize_t (*write)(int, const void *, size_t);
  int (*fcntl)(int, int, ...);
  int (*dup)(int);
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  int (*close_range)(unsigned, unsigned, int);
  int (*execve)(const char *, char *const[], char *const[]);
  int (*execvpe)(const char *, char *const[], char *const[]);
  int (*fexecve)(int, char *const[], char *const[]);
};
extern struct dn_real dn_real;
/** Resolves dn_real (idempotent): other libraries' constructors may call in before this library's own runs. */
void dn_resolve(void);
#define REAL(name) (dn_real.name != NULL ? dn_real.name : (dn_resolve(), dn_real.name))

/* ---- state (all under dn_lock) ---- */
/** This process's pid as the library last saw it (start-up, fork). */
extern pid_t dn_pid;
/**
 * Whether this is a child made by vfork (or clone without fork handlers) that shares the parent's memory: such a child
 * must not change the library's tables, which are the parent's. One getpid(2); call it only on private descriptors.
 */
int dn_shared_memory_child(void);
extern pthread_mutex_t dn_lock;
extern int dn_debug;

/** Connects on first use; returns 0 when the library serves a tenant, -1 (errno set) when not. Caller holds dn_lock. */
int dn_connect(void);
/** Whether DANAUS_SOCKET is set at all (the library has nothing to route otherwise). */
int dn_enabled(void);
/** Whether this process is registered with a live service now (read without dn_lock). */
int dn_registered(void);
/** From now on the library routes nothing (a setuid program). */
void dn_disable(void);
/** The mount table (valid after dn_connect). */
extern struct dn_mount dn_mounts[DN_MAX_MOUNTS];
extern int dn_mount_count;
/** The request buffer of this process and its size. */
extern uint8_t *dn_buf;
extern uint32_t dn_bufsize;
/** The library's own descriptor (the registration socket), or -1. */
extern int dn_socket_fd;

/**
 * One request: args[0..n), a window of `length` bytes of the request buffer (payload already in it). Returns the
 * result (>= 0, or -errno; -ENOTCONN when the service is gone) and stores the reply length. Caller holds dn_lock.
 */
int64_t dn_call(uint32_t opcode, const int64_t *args, int nargs, uint32_t length, uint32_t *reply_length);
/** Moves `fd` to the top of the descriptor table, close-on-exec; returns the new number (or fd when it cannot). */
int dn_move_high(int fd);
/** Before using an open file's handle: when the service went away, registers with its successor if one answers
 * (the files of the old service become lost, so an old handle never reaches the new service). Holds dn_lock. */
void dn_revive(void);
/** After fork, in the child: forget the parent's registration (the next call registers anew). */
void dn_connection_forked(void);
/**
 * For the attribute cache: the tenant's mutation generation now (in *generation) and how long an answer may be kept, in
 * nanoseconds; 0 when none may be used now (not registered, the service gone or stopping, the tenant's timeout is 0).
 */
int64_t dn_mutations(uint32_t *generation);

/* ---- attribute cache (attrs.c), all under dn_lock ---- */
/** Taken before asking the service for attributes: what the answer will be valid for. */
struct dn_attrs_ticket {
  uint32_t generation;
  int64_t timeout_ns; /* 0: the answer is not kept */
  int64_t asked_ns;
};
/** The stat (nofollow 0) or lstat answer for `inner` in `mount`: 1 with *st filled, -ENOENT, or 0 when none is valid. */
int dn_attrs_get(int mount, const char *inner, int nofollow, struct stat *st);
/** Before asking the service. */
void dn_attrs_begin(struct dn_attrs_ticket *ticket);
/** Keeps the service's answer (`result` 0 with *st, or -ENOENT; others are not kept) under `ticket`. */
void dn_attrs_put(const struct dn_attrs_ticket *ticket, int mount, const char *inner, int nofollow, int64_t result, const struct stat *st);
/** Forgets the answer for one key (statx with AT_STATX_FORCE_SYNC). */
void dn_attrs_forget(int mount, const char *inner, int nofollow);
/** Forgets every answer (a new registration: another service, or a forked child's own). */
void dn_attrs_clear(void);

/* ---- descriptors (files.c) ---- */
/** The file behind private descriptor `fd`, or NULL when `fd` is not private. Caller holds dn_lock. */
struct dn_file *dn_get(int fd);
/** Makes `fd` (a kernel placeholder) name `file`, taking a reference. */
int dn_bind(int fd, struct dn_file *file);
/** Forgets `fd`; drops its reference (closing the service handle on the last one). */
void dn_unbind(int fd);
/** A new placeholder kernel descriptor (O_PATH on /dev/null), close-on-exec when asked. */
int dn_placeholder(int cloexec);
/** Reopens a stale file (after fork/exec) on this process's connection. Returns 0 or -errno. */
int dn_refresh(struct dn_file *file);
/** Calls `fn` for every private descriptor. */
void dn_each(void (*fn)(int fd, struct dn_file *file, void *arg), void *arg);
/** Calls `fn` once for every open file (dup'ed numbers share one), with the lowest descriptor naming it. */
void dn_each_file(void (*fn)(int fd, struct dn_file *file, void *arg), void *arg);
/** Drops a reference to `file`, closing the service handle with the last one. */
void dn_file_release(struct dn_file *file);

/* ---- locks (locks.c) ---- */
/** fcntl lock commands (F_GETLK, F_SETLK(W), F_OFD_*) on private descriptor `fd`: the result, or -1 with errno. */
int dn_fcntl_lock(int fd, int cmd, struct flock *lock);
/** flock(2) on private descriptor `fd`. */
int dn_flock(int fd, int operation);

/* ---- shared positions (positions.c) ---- */
/** A free slot for a new open file's position (1-based), or 0 when none is left. */
int dn_position_new(void);
/** One more open file uses `slot` (a forked child's copy). */
void dn_position_use(int slot);
/** An open file stops using `slot`. */
void dn_position_release(int slot);
int64_t dn_position_get(int slot);
void dn_position_set(int slot, int64_t position);
/** Moves the position past `count` bytes at once; returns where it was (the caller's range starts there). */
int64_t dn_position_reserve(int slot, int64_t count);
/** After a reserved range was used only up to `used_end`: the position goes back there unless another reservation
 * came after (then what was not used stays a gap, as the file's end or a hole). */
void dn_position_settle(int slot, int64_t reserved_end, int64_t used_end);
/** The most one call reserves (1 TiB: no read or write moves more in one call). */
#define DN_RESERVE_MAX ((size_t)1 << 40)
/** The descriptor of the shared page (-1 when none), and adopting one inherited over exec. */
int dn_positions_fd(void);
void dn_positions_adopt(int fd);
/** This image gives up its open files' uses of their slots (before an exec of its own; caller holds dn_lock). */
void dn_positions_leave(void);
/**
 * After a failed exec: the files whose slots are in `kept` (uses taken for the new image) use them again; the others
 * keep the position they had as their own, since their slots may belong to other files by now. Caller holds dn_lock.
 */
void dn_positions_back(const int *kept, int count);
/** At exit: gives them up for good; positions still move for writes after it (stdio's last flush). */
void dn_positions_exit(void);
/** Positions handed over across exec: the descriptor of the shared page. */
#define DN_ENV_POSITIONS "DANAUS_POSITIONS"

/* ---- paths (paths.c) ---- */
/**
 * Where `path` (relative to `dirfd`) falls: the mount id, with the path inside the mount written to `inner`
 * (DN_PATH_MAX bytes), or -1 when it goes to the kernel. -2 with errno set when it is ours but bad
 * (ENAMETOOLONG, a stale dirfd that cannot be reopened, ENOTCONN). Caller holds dn_lock.
 */
int dn_route(int dirfd, const char *path, char *inner);
/**
 * 1 when `path` (relative to `dirfd`) surely goes to the kernel: decided without dn_lock and without normalising, so
 * kernel-bound calls stay cheap; 0 when dn_route must decide.
 */
int dn_surely_kernel(int dirfd, const char *path);
/**
 * 1 when `path` (relative to `dirfd`) is the library's (under a mount, or ours but bad: the library's own call then
 * answers the errno), 0 when it goes to the kernel. Takes dn_lock when the quick answer is not enough; call it unlocked.
 */
int dn_path_is_private(int dirfd, const char *path);
/** Records a mount point of a registration (for dn_surely_kernel). Caller holds dn_lock. */
void dn_note_mount_point(const char *point);
/** Writes inner path `inner` normalised lexically to `out` (strlen(inner) + 2 bytes): what an open file or the working
 * directory keeps (dn_route hands out paths as the program spelled them). */
void dn_normalise(const char *inner, char *out);
/** Writes one or two NUL-terminated paths at the start of the request buffer; returns the bytes or -ENAMETOOLONG. */
int dn_put_paths(const char *a, const char *b);
/** The absolute path of mount `mount` + `inner` into `out` (size bytes). Returns 0 or -ERANGE. */
int dn_absolute(int mount, const char *inner, char *out, size_t size);
/** The virtual working directory inside a mount (mount id, inner path) or mount -1 when the kernel's cwd applies. */
extern int dn_cwd_mount;
extern char dn_cwd_inner[DN_PATH_MAX];
/** The kernel's working directory changed (chdir/fchdir to a kernel directory). */
void dn_kernel_cwd_changed(void);

/* ---- helpers ---- */
void dn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Sets errno from a negative result and returns -1; or returns the result. */
static inline long dn_ret(int64_t result) {
  if (result < 0) {
    errno = (int)-result;
    return -1;
  }
  return (long)result;
}

/* ---- stdio (stdio.c) ---- */
/** Replaces stdin/stdout/stderr by streams over private descriptors 0/1/2 when those are private (after exec). */
void dn_stdio_adopt(void);
/** Flushes the library's streams at exit (main.c), before the open files give up their shared positions. */
void dn_stdio_flush_at_exit(void);
/** Before descriptor 0/1/2 is replaced or closed: flushes the library's stream standing in for it. */
void dn_stdio_before(int fd);
/** After descriptor 0/1/2 changed (dup2/dup3/close): a private one gets the library's stream, a kernel one glibc's back. */
void dn_stdio_follow(int fd);
/** Whether `fp` is one of the library's streams; its descriptor in *fd. */
int dn_stream_fd(FILE *fp, int *fd);

/* ---- start-up (main.c) ---- */
/** The program's umask as of load (umask() keeps it current): applied to the modes of files the library creates. */
extern mode_t dn_umask;
/** LD_PRELOAD and DANAUS_SOCKET as of load ("NAME=value"), put back into an exec's environment that dropped them. */
extern char *dn_saved_preload;
extern char *dn_saved_socket;

/* ---- open files (io.c) ---- */
/** Opens inner path `inner` of `mount` for the program; returns the new private descriptor or -errno. Holds dn_lock. */
int dn_open_private(int mount, const char *inner, int flags, mode_t mode);
/** fstat of private descriptor `fd`: 0 or -errno. Caller holds dn_lock. */
int dn_fstat_locked(int fd, struct stat *st);

/* ---- process (process.c) ---- */
/** Registers the library's fork handlers (called once at load). */
void dn_fork_handlers(void);
/** Adopts the descriptors a parent handed over in DANAUS_INHERIT (called once at load, with dn_lock held). */
void dn_inherit(void);
/** What a new program is started with (process.c). */
struct dn_handover {
  char **env;      /* envp with DANAUS_INHERIT, DANAUS_CWD, DANAUS_POSITIONS and the variables that load the library */
  char **owned;    /* what env allocated (NULL: env is the caller's envp, nothing to hand over) */
  int handed;      /* descriptors described in DANAUS_INHERIT */
  int *slots;      /* position slots the new image is handed: one use of each was taken for it */
  int slot_count;
};
/** Builds the hand-over of the private descriptors that survive exec and of a working directory in a mount. */
void dn_handover_begin(struct dn_handover *h, char *const envp[]);
/** Gives back the uses taken for a new image that will not use them (it does not load the library). */
void dn_handover_drop_uses(struct dn_handover *h);
/** After the start (`started` 0: no new image took the hand-over, so its uses are given back); frees h's memory. */
void dn_handover_end(struct dn_handover *h, int started);

#pragma GCC visibility pop

#endif /* DANAUS_PRELOAD_H */
