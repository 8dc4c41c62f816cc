/* process.c — private descriptors across fork and exec. After fork the child registers as a client of its own and
 * reopens each inherited private file by path on first use, at the position it had at the fork (positions are not
 * shared with the parent from then on). At exec, private descriptors that are not close-on-exec are handed over in
 * DANAUS_INHERIT ("fd,mount,open_flags,flags,offset,hexpath;..."); the new program's library reopens them the same
 * way, and turns a handed-over 0, 1 or 2 into stdin/stdout/stderr streams. The placeholder keeps the number meanwhile.
 * A working directory inside a mount (which the kernel cannot hold) is handed over in DANAUS_CWD ("mount,hexpath"). */
#include "preload.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

extern char **environ;

/* ---- fork ---- */

static void record_offset(int fd, struct dn_file *f, void *arg) {
  (void)fd;
  (void)arg;
  if (f->handle < 0 || f->is_dir || f->slot != 0) return;
  int64_t args[3] = {f->handle, 0, SEEK_CUR};
  int64_t at = dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
  if (at >= 0) f->stale_offset = at;
}

/** The child's copy of an open file is one more user of its position's slot; it reopens on first use. */
static void make_stale(int fd, struct dn_file *f, void *arg) {
  (void)fd;
  (void)arg;
  dn_position_use(f->slot);
  f->handle = -1;
}

static void before_fork(void) {
  pthread_mutex_lock(&dn_lock);
  dn_each_file(record_offset, NULL);
}
static void after_fork_parent(void) { pthread_mutex_unlock(&dn_lock); }
static void after_fork_child(void) {
  dn_pid = getpid();
  pthread_mutex_init(&dn_lock, NULL);
  dn_connection_forked();
  dn_each_file(make_stale, NULL);
}

void dn_fork_handlers(void) { pthread_atfork(before_fork, after_fork_parent, after_fork_child); }

/* ---- exec hand-over ---- */

struct inherit_text {
  char *text;
  size_t length, capacity;
  int count;
  struct dn_handover *handover; /* takes the new image's uses of slots */
};

static void append(struct inherit_text *t, const char *s) {
  size_t n = strlen(s);
  if (t->text == NULL) return;
  if (t->length + n + 1 > t->capacity) {
    size_t capacity = (t->length + n + 1) * 2;
    char *grown = realloc(t->text, capacity);
    if (grown == NULL) {
      free(t->text);
      t->text = NULL;
      return;
    }
    t->text = grown;
    t->capacity = capacity;
  }
  memcpy(t->text + t->length, s, n + 1);
  t->length += n;
}

/** Appends the bytes of `path` in hex (names are bytes: hex keeps any of them in an environment string). */
static void append_hex(struct inherit_text *t, const char *path) {
  char hex[3];
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    snprintf(hex, sizeof hex, "%02x", *p);
    append(t, hex);
  }
}

/** Whether `fd` is a placeholder (an O_PATH descriptor of /dev/null) that stays open across exec. */
static int inheritable_placeholder(int fd) {
  int fdflags = REAL(fcntl)(fd, F_GETFD);
  if (fdflags < 0 || (fdflags & FD_CLOEXEC)) return 0;
  struct stat st;
  int flags = REAL(fcntl)(fd, F_GETFL);
  return flags >= 0 && (flags & O_PATH) && syscall(SYS_fstat, fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

/** Whether this process's `fd` and the library process's `other` are one open file description (kcmp(2)). */
static int same_description(int fd, int other) {
  return syscall(SYS_kcmp, getpid(), dn_pid, KCMP_FILE, fd, other) == 0;
}

static void highest(int fd, struct dn_file *f, void *arg) {
  (void)f;
  if (fd >= *(int *)arg) *(int *)arg = fd + 1;
}

/**
 * The private file that placeholder `fd` stands for. The table says, except in a child sharing its parent's memory
 * (vfork): the table is the parent's, and the child may have moved placeholders since (subprocess dup2's a private
 * file onto 0, 1 or 2 there), so the file is the one whose placeholder in the parent is the same open description.
 */
static struct dn_file *file_of(int fd) {
  struct dn_file *f = dn_get(fd);
  if (!dn_shared_memory_child() || (f != NULL && same_description(fd, fd))) return f;
  int end = 0;
  dn_each(highest, &end);
  for (int other = 0; other < end; other++) {
    if (dn_get(other) != NULL && same_description(fd, other)) return dn_get(other);
  }
  return NULL;
}

/** The position of private file `f` (for a directory, where its listing continues). Caller holds dn_lock. */
static int64_t position_of(struct dn_file *f) {
  if (f->is_dir) return f->dir_cookie;
  if (f->slot != 0) return dn_position_get(f->slot);
  if (f->handle >= 0) {
    int64_t args[3] = {f->handle, 0, SEEK_CUR};
    int64_t at = dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
    if (at >= 0) return at;
  }
  return f->stale_offset;
}

/**
 * Calls `fn` for every descriptor exec hands over (a placeholder that is not close-on-exec) with the private file it
 * stands for, until `fn` returns nonzero; returns that. Caller holds dn_lock.
 */
static int each_handed(int (*fn)(int fd, struct dn_file *f, void *arg), void *arg) {
  int end = 3;
  dn_each(highest, &end);
  for (int fd = 0; fd < end; fd++) {
    if (!inheritable_placeholder(fd)) continue;
    struct dn_file *f = file_of(fd);
    int r = 0;
    if (f != NULL) r = fn(fd, f, arg);
    else dn_log("descriptor %d stands for a private file the library cannot name here: the new program gets EBADF on it", fd);
    if (r != 0) return r;
  }
  return 0;
}

/** One use of `slot` for the new image, once per open file (dup'ed numbers share one; a slot names one open file). */
static void take_use(struct dn_handover *h, int slot) {
  if (slot == 0) return;
  for (int i = 0; i < h->slot_count; i++) {
    if (h->slots[i] == slot) return;
  }
  int *grown = realloc(h->slots, (size_t)(h->slot_count + 1) * sizeof *grown);
  if (grown == NULL) return; /* out of memory: the new image's file will give up a use nobody took for it */
  h->slots = grown;
  h->slots[h->slot_count++] = slot;
  dn_position_use(slot);
}

static int describe(int fd, struct dn_file *f, void *arg) {
  struct inherit_text *t = arg;
  take_use(t->handover, f->slot);
  int64_t offset = position_of(f);
  char head[128];
  snprintf(head, sizeof head, "%s%d,%d,%d,%d,%lld,%d,", t->count ? ";" : "", fd, f->mount, f->open_flags, f->flags, (long long)offset, f->slot);
  append(t, head);
  append_hex(t, f->path);
  t->count++;
  return 0;
}

/** "DANAUS_CWD=mount,hexpath" for a working directory inside a mount, or NULL. Caller holds dn_lock. */
static char *cwd_entry(void) {
  if (dn_cwd_mount < 0) return NULL;
  struct inherit_text t = {malloc(64), 0, 64, 0, NULL};
  if (t.text == NULL) return NULL;
  t.text[0] = '\0';
  char head[64];
  snprintf(head, sizeof head, DN_ENV_CWD "=%d,", dn_cwd_mount);
  append(&t, head);
  append_hex(&t, dn_cwd_inner);
  return t.text;
}

static int is_ours(const char *entry) {
  return strncmp(entry, DN_ENV_INHERIT "=", sizeof DN_ENV_INHERIT) == 0 || strncmp(entry, DN_ENV_CWD "=", sizeof DN_ENV_CWD) == 0 ||
         strncmp(entry, DN_ENV_POSITIONS "=", sizeof DN_ENV_POSITIONS) == 0;
}

void dn_handover_begin(struct dn_handover *h, char *const envp[]) {
  *h = (struct dn_handover){(char **)envp, NULL, 0, NULL, 0};
  struct inherit_text t = {malloc(256), 0, 256, 0, h};
  if (t.text == NULL) return;
  t.text[0] = '\0';
  append(&t, DN_ENV_INHERIT "=");
  pthread_mutex_lock(&dn_lock);
  each_handed(describe, &t);
  char *cwd = cwd_entry();
  pthread_mutex_unlock(&dn_lock);
  h->handed = t.text != NULL ? t.count : 0;
  size_t n = 0;
  while (envp != NULL && envp[n] != NULL) n++;
  if (t.text == NULL || t.count == 0) {
    free(t.text);
    t.text = NULL;
    /* Still drop a stale DANAUS_INHERIT or DANAUS_CWD the program may have kept. */
    int stale = 0;
    for (size_t i = 0; i < n; i++) stale |= is_ours(envp[i]);
    if (!stale && cwd == NULL) return;
  }
  char **env = calloc(n + 6, sizeof *env);
  if (env == NULL) {
    free(t.text);
    free(cwd);
    return;
  }
  size_t k = 0;
  int has_preload = 0, has_socket = 0;
  for (size_t i = 0; i < n; i++) {
    if (is_ours(envp[i])) continue;
    has_preload |= strncmp(envp[i], "LD_PRELOAD=", 11) == 0;
    has_socket |= strncmp(envp[i], DN_ENV_SOCKET "=", sizeof DN_ENV_SOCKET) == 0;
    env[k++] = envp[i];
  }
  if (cwd != NULL) env[k++] = cwd;
  if (t.text != NULL && dn_positions_fd() >= 0) {
    char *positions = malloc(64);
    if (positions != NULL) {
      snprintf(positions, 64, DN_ENV_POSITIONS "=%d", dn_positions_fd());
      env[k++] = positions;
    }
  }
  if (t.text != NULL || cwd != NULL) {
    if (t.text != NULL) env[k++] = t.text;
    /* The new program must load the library to use what it inherits: restore what the program's env dropped. */
    if (!has_preload && dn_saved_preload != NULL) env[k++] = dn_saved_preload;
    if (!has_socket && dn_saved_socket != NULL) env[k++] = dn_saved_socket;
  }
  env[k] = NULL;
  h->env = h->owned = env;
}

void dn_handover_drop_uses(struct dn_handover *h) {
  for (int i = 0; i < h->slot_count; i++) dn_position_release(h->slots[i]);
  h->slot_count = 0;
}

void dn_handover_end(struct dn_handover *h, int started) {
  if (!started) dn_handover_drop_uses(h);
  free(h->slots);
  if (h->owned != NULL) {
    for (char **e = h->owned; *e != NULL; e++) {
      if (is_ours(*e)) free(*e);
    }
    free(h->owned);
  }
  *h = (struct dn_handover){NULL, NULL, 0, NULL, 0};
}

/**
 * Why the program open as `fd` will run without this library, or NULL when it loads it: a setuid or setgid program
 * that changes the ids (the dynamic loader then ignores LD_PRELOAD), a statically linked ELF file (no PT_INTERP), or a
 * 32-bit one (which cannot load a 64-bit library). A script is taken to load it (its interpreter usually does).
 */
static const char *without_library(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return NULL;
  if ((st.st_mode & S_ISUID) && st.st_uid != geteuid()) return "a setuid program ignores LD_PRELOAD";
  if ((st.st_mode & S_ISGID) && st.st_gid != getegid()) return "a setgid program ignores LD_PRELOAD";
  Elf64_Ehdr header;
  if (pread(fd, &header, sizeof header, 0) != (ssize_t)sizeof header || memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) return NULL;
  if (header.e_ident[EI_CLASS] != ELFCLASS64) return "a 32-bit program cannot load the library";
  for (unsigned i = 0; i < header.e_phnum; i++) {
    uint32_t type; /* p_type leads every program header */
    if (pread(fd, &type, sizeof type, (off_t)(header.e_phoff + (uint64_t)i * header.e_phentsize)) != (ssize_t)sizeof type) return NULL;
    if (type == PT_INTERP) return NULL;
  }
  return "a statically linked program does not load the library";
}

/** The file execvpe would run for `file`: itself when it names a path, else the first executable one on PATH. */
static const char *search_path(const char *file, char *out, size_t size) {
  if (strchr(file, '/') != NULL) return file;
  const char *path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";
  while (*path) {
    size_t n = strcspn(path, ":");
    if (snprintf(out, size, "%.*s%s%s", (int)n, path, n ? "/" : "", file) < (int)size && access(out, X_OK) == 0) return out;
    path += n;
    if (*path == ':') path++;
  }
  return file;
}

/** A descriptor handed to a program without the library as a kernel descriptor, and its placeholder kept aside. */
struct swap {
  int fd, placeholder;
};
struct swaps {
  struct swap *list;
  int count;
};

/**
 * Puts in place of placeholder `fd` a kernel descriptor of the same file, opened through its mount's FUSE mount
 * (legacy = true) with its flags and at its position; the placeholder goes aside in `arg` (struct swaps). Returns 0,
 * or the errno why not (ENOTSUP for a mount the kernel cannot see), with a log line. Caller holds dn_lock.
 */
static int swap_to_kernel(int fd, struct dn_file *f, void *arg) {
  struct swaps *s = arg;
  const struct dn_mount *m = NULL;
  for (int i = 0; i < dn_mount_count && m == NULL; i++) {
    if (dn_mounts[i].id == f->mount) m = &dn_mounts[i];
  }
  char path[DN_PATH_MAX];
  if (m == NULL || !m->legacy || dn_absolute(f->mount, f->path, path, sizeof path) < 0) {
    dn_log("descriptor %d (%s) is on a mount the kernel cannot see (no legacy = true): it cannot be handed over as a kernel descriptor", fd, f->path);
    return ENOTSUP;
  }
  int flags = (f->open_flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC)) | (f->flags & (O_APPEND | O_NONBLOCK));
  int kernel = REAL(open)(path, flags);
  if (kernel < 0) {
    int e = errno;
    dn_log("descriptor %d: cannot open %s through the legacy mount: %s", fd, path, strerror(e));
    return e;
  }
  /* A directory's listing starts again: the kernel's cookies are not the service's. */
  if (!f->is_dir && !(flags & O_APPEND) && syscall(SYS_lseek, kernel, (long)position_of(f), SEEK_SET) < 0) {
    int e = errno;
    REAL(close)(kernel);
    return e;
  }
  int placeholder = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
  if (placeholder < 0 || REAL(dup2)(kernel, fd) < 0) {
    int e = errno;
    if (placeholder >= 0) REAL(close)(placeholder);
    REAL(close)(kernel);
    return e;
  }
  REAL(close)(kernel);
  s->list[s->count++] = (struct swap){fd, placeholder};
  return 0;
}

/** Puts the placeholders back (the exec did not happen). */
static void put_back(struct swaps *s) {
  for (int i = 0; i < s->count; i++) {
    REAL(dup2)(s->list[i].placeholder, s->list[i].fd);
    REAL(close)(s->list[i].placeholder);
  }
  free(s->list);
  s->list = NULL;
  s->count = 0;
}

enum exec_kind { EXEC_PATH, EXEC_SEARCH, EXEC_FD };

/**
 * One of libc's exec calls with the hand-over in its environment. A program that will not load the library gets
 * kernel descriptors of the tenant's legacy (FUSE) mounts in place of the placeholders; when a descriptor is on a
 * mount the kernel cannot see, the program would find a placeholder where its file should be: the exec fails with
 * ENOTSUP and a log line instead.
 */
static int exec_handing_over(enum exec_kind kind, const char *file, int fd, char *const argv[], char *const envp[]) {
  struct dn_handover h;
  dn_handover_begin(&h, envp);
  const char *why = NULL;
  char found[DN_PATH_MAX];
  const char *program = kind == EXEC_SEARCH ? search_path(file, found, sizeof found) : file;
  if (h.handed > 0) {
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int probe = REAL(open)(kind == EXEC_FD ? self : program, O_RDONLY | O_CLOEXEC);
    if (probe >= 0) {
      why = without_library(probe);
      REAL(close)(probe);
    }
  }
  struct swaps swaps = {NULL, 0};
  int refused = 0;
  if (why != NULL) {
    swaps.list = malloc((size_t)h.handed * sizeof *swaps.list);
    pthread_mutex_lock(&dn_lock);
    dn_connect(); /* a forked child reads the mount table (which mounts are legacy) at its registration */
    refused = swaps.list == NULL ? ENOMEM : each_handed(swap_to_kernel, &swaps);
    pthread_mutex_unlock(&dn_lock);
    const char *name = kind == EXEC_FD ? "a program by descriptor" : program;
    if (refused != 0) dn_log("not running %s: %d private descriptor(s) would be handed over, but %s (%s)", name, h.handed, why, refused == ENOTSUP ? "ENOTSUP" : strerrorname_np(refused));
    else if (dn_debug) dn_log("%s: %s; %d private descriptor(s) handed over as kernel descriptors of legacy mounts", name, why, swaps.count);
    /* Its kernel descriptors have positions of their own: the new program uses no slot. */
    if (refused == 0) dn_handover_drop_uses(&h);
  }
  /* A process with memory of its own gives up its files' uses at the exec (the new image holds what it was handed); a
   * vfork child's files are its parent's. */
  int own = refused == 0 && !dn_shared_memory_child();
  if (own) {
    pthread_mutex_lock(&dn_lock);
    dn_positions_leave();
    pthread_mutex_unlock(&dn_lock);
  }
  int r = -1;
  if (refused != 0) {
    errno = refused;
  } else if (kind == EXEC_FD) {
    r = REAL(fexecve)(fd, argv, h.env);
  } else {
    r = kind == EXEC_SEARCH ? REAL(execvpe)(file, argv, h.env) : REAL(execve)(file, argv, h.env);
  }
  int saved = errno;
  put_back(&swaps);
  if (own) {
    /* The exec failed: the uses taken for the new image are this image's again. */
    pthread_mutex_lock(&dn_lock);
    dn_positions_back(h.slots, h.slot_count);
    pthread_mutex_unlock(&dn_lock);
  }
  dn_handover_end(&h, own);
  errno = saved;
  return r;
}

int execve(const char *path, char *const argv[], char *const envp[]) { return exec_handing_over(EXEC_PATH, path, -1, argv, envp); }
int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }
int execvpe(const char *file, char *const argv[], char *const envp[]) { return exec_handing_over(EXEC_SEARCH, file, -1, argv, envp); }
int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }
int fexecve(int fd, char *const argv[], char *const envp[]) { return exec_handing_over(EXEC_FD, NULL, fd, argv, envp); }

/** Collects execl-style arguments (argv[0] = arg, up to NULL), and for execle the envp after the NULL. */
#define COLLECT_ARGS(arg, argv, envp_out) \
  size_t count_ = 1; \
  va_list ap_; \
  va_start(ap_, arg); \
  while (va_arg(ap_, char *) != NULL) count_++; \
  va_end(ap_); \
  char **argv = malloc((count_ + 1) * sizeof *argv); \
  if (argv == NULL) { errno = ENOMEM; return -1; } \
  va_start(ap_, arg); \
  argv[0] = (char *)arg; \
  for (size_t i_ = 1; i_ <= count_; i_++) argv[i_] = va_arg(ap_, char *); \
  envp_out; \
  va_end(ap_)

int execl(const char *path, const char *arg, ...) {
  COLLECT_ARGS(arg, argv, (void)0);
  int r = execve(path, argv, environ);
  free(argv);
  return r;
}
int execlp(const char *file, const char *arg, ...) {
  COLLECT_ARGS(arg, argv, (void)0);
  int r = execvpe(file, argv, environ);
  free(argv);
  return r;
}
int execle(const char *path, const char *arg, ...) {
  char **envp;
  COLLECT_ARGS(arg, argv, envp = va_arg(ap_, char **));
  int r = execve(path, argv, envp);
  free(argv);
  return r;
}

/* ---- the receiving side ---- */

/** Decodes hex `p` (up to ';' or the end) into out; returns where it stopped. */
static const char *unhex(const char *p, char *out, size_t size) {
  size_t n = 0;
  while (p[0] && p[1] && p[0] != ';' && n + 1 < size) {
    unsigned byte;
    if (sscanf(p, "%2x", &byte) != 1) break;
    out[n++] = (char)byte;
    p += 2;
  }
  out[n] = '\0';
  return p;
}

/** What one hand-over brought in: the open files adopted (by a descriptor and slot) and slots no file here took. */
struct adoption {
  struct {
    int fd, slot;
  } *files;
  int *unused;
  int file_count, unused_count;
};

/** The open file adopted earlier in this hand-over that `fd` shares (same slot, or the same placeholder), or NULL. */
static struct dn_file *adopted_as(const struct adoption *a, int fd, int slot) {
  for (int i = 0; i < a->file_count; i++) {
    if ((slot != 0 && a->files[i].slot == slot) || syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, a->files[i].fd) == 0) return dn_get(a->files[i].fd);
  }
  return NULL;
}

static void adopted_file(struct adoption *a, int fd, int slot) {
  __typeof__(a->files) grown = realloc(a->files, (size_t)(a->file_count + 1) * sizeof *grown);
  if (grown == NULL) return;
  a->files = grown;
  a->files[a->file_count].fd = fd;
  a->files[a->file_count++].slot = slot;
}

static void unused_slot(struct adoption *a, int slot) {
  if (slot <= 0) return;
  int *grown = realloc(a->unused, (size_t)(a->unused_count + 1) * sizeof *grown);
  if (grown == NULL) return;
  a->unused = grown;
  a->unused[a->unused_count++] = slot;
}

/** The old image took a use of every slot it handed over: those no file here uses are given up. */
static void settle(struct adoption *a) {
  for (int i = 0; i < a->unused_count; i++) {
    int slot = a->unused[i], taken = 0;
    for (int j = 0; j < a->file_count && !taken; j++) taken = a->files[j].slot == slot;
    for (int j = 0; j < i && !taken; j++) taken = a->unused[j] == slot;
    if (!taken) dn_position_release(slot);
  }
  free(a->files);
  free(a->unused);
}

void dn_inherit(void) {
  const char *cwd = getenv(DN_ENV_CWD);
  if (cwd != NULL && dn_enabled()) {
    int mount, used = 0;
    if (sscanf(cwd, "%d,%n", &mount, &used) == 1 && used > 0 && mount >= 0) {
      unhex(cwd + used, dn_cwd_inner, sizeof dn_cwd_inner);
      if (dn_cwd_inner[0] == '/') dn_cwd_mount = mount;
    }
  }
  unsetenv(DN_ENV_CWD);
  const char *positions = getenv(DN_ENV_POSITIONS);
  if (positions != NULL && dn_enabled()) {
    int fd = atoi(positions);
    if (fd > 2 && REAL(fcntl)(fd, F_GETFD) >= 0) dn_positions_adopt(fd);
  }
  unsetenv(DN_ENV_POSITIONS);
  const char *text = getenv(DN_ENV_INHERIT);
  if (text == NULL || !dn_enabled()) return;
  const char *p = text;
  struct adoption adoption = {NULL, NULL, 0, 0};
  while (*p) {
    int fd, mount, open_flags, flags, slot;
    long long offset;
    int used = 0;
    if (sscanf(p, "%d,%d,%d,%d,%lld,%d,%n", &fd, &mount, &open_flags, &flags, &offset, &slot, &used) != 6 || used == 0) break;
    p += used;
    char path[DN_PATH_MAX];
    p = unhex(p, path, sizeof path);
    while (*p && *p != ';') p++;
    if (*p == ';') p++;
    if (fd < 0 || path[0] != '/' || REAL(fcntl)(fd, F_GETFD) < 0) {
      unused_slot(&adoption, slot);
      continue;
    }
    /* Numbers dup'ed in the old image are one open file here too (and hold one use of its slot). */
    struct dn_file *same = adopted_as(&adoption, fd, slot);
    if (same != NULL) {
      dn_bind(fd, same);
      continue;
    }
    struct dn_file *f = calloc(1, sizeof *f);
    char *copy = strdup(path);
    if (f == NULL || copy == NULL) {
      free(f);
      free(copy);
      unused_slot(&adoption, slot);
      continue;
    }
    f->mount = mount;
    f->handle = -1;
    f->open_flags = open_flags;
    f->flags = flags;
    f->is_dir = (open_flags & O_DIRECTORY) != 0;
    if (f->is_dir) f->dir_cookie = offset;
    else f->stale_offset = offset;
    f->slot = slot > 0 && slot <= 4096 && dn_positions_fd() >= 0 ? slot : 0;
    f->path = copy;
    if (dn_bind(fd, f) < 0) {
      free(copy);
      free(f);
      unused_slot(&adoption, slot);
    } else {
      adopted_file(&adoption, fd, f->slot);
    }
  }
  settle(&adoption);
  unsetenv(DN_ENV_INHERIT);
}

/* system and popen start their child with glibc's internal spawn, which reads environ: it carries the hand-over for
 * the call (environ is swapped back afterwards; a thread reading environ meanwhile sees the hand-over too). */

int system(const char *command) {
  NEXT(system);
  if (command == NULL) return next_system(command);
  struct dn_handover h;
  char **saved = environ;
  dn_handover_begin(&h, saved);
  environ = h.env;
  int r = next_system(command);
  int e = errno;
  environ = saved;
  dn_handover_end(&h, r != -1);
  errno = e;
  return r;
}

FILE *popen(const char *command, const char *type) {
  NEXT(popen);
  struct dn_handover h;
  char **saved = environ;
  dn_handover_begin(&h, saved);
  environ = h.env;
  FILE *fp = next_popen(command, type);
  int e = errno;
  environ = saved;
  dn_handover_end(&h, fp != NULL);
  errno = e;
  return fp;
}
