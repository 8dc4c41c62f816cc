/* process.c — private descriptors across fork and exec. After fork the child registers as a client of its own and
 * reopens each inherited private file by path on first use, at the position it had at the fork (positions are not
 * shared with the parent from then on). At exec, private descriptors that are not close-on-exec are handed over in
 * DANAUS_INHERIT ("fd,mount,open_flags,flags,offset,hexpath;..."); the new program's library reopens them the same
 * way, and turns a handed-over 0, 1 or 2 into stdin/stdout/stderr streams. The placeholder keeps the number meanwhile.
 * A working directory inside a mount (which the kernel cannot hold) is handed over in DANAUS_CWD ("mount,hexpath"). */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static unsigned fork_generation;

static void make_stale(int fd, struct dn_file *f, void *arg) {
  (void)fd;
  (void)arg;
  if (f->forks != fork_generation) { /* once per open file: dup'ed numbers share it */
    f->forks = fork_generation;
    dn_position_use(f->slot);
  }
  f->handle = -1;
}

static void before_fork(void) {
  pthread_mutex_lock(&dn_lock);
  dn_each(record_offset, NULL);
}
static void after_fork_parent(void) { pthread_mutex_unlock(&dn_lock); }
static void after_fork_child(void) {
  dn_pid = getpid();
  pthread_mutex_init(&dn_lock, NULL);
  dn_connection_forked();
  fork_generation++;
  dn_each(make_stale, NULL);
}

void dn_fork_handlers(void) { pthread_atfork(before_fork, after_fork_parent, after_fork_child); }

/* ---- exec hand-over ---- */

struct inherit_text {
  char *text;
  size_t length, capacity;
  int count;
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

static void describe(int fd, struct dn_file *f, void *arg) {
  struct inherit_text *t = arg;
  int fdflags = REAL(fcntl)(fd, F_GETFD);
  if (fdflags < 0 || (fdflags & FD_CLOEXEC)) return;
  /* Still the placeholder? A vfork child (sharing the table of its parent) may have dup2'ed a pipe over it. */
  struct stat st;
  int flags = REAL(fcntl)(fd, F_GETFL);
  if (flags < 0 || !(flags & O_PATH) || syscall(SYS_fstat, fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) return;
  int64_t offset = f->stale_offset;
  if (f->is_dir) {
    offset = f->dir_cookie; /* a directory's position is where its listing continues */
  } else if (f->slot != 0) {
    offset = dn_position_get(f->slot);
  } else if (f->handle >= 0) {
    int64_t args[3] = {f->handle, 0, SEEK_CUR};
    int64_t at = dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
    if (at >= 0) offset = at;
  }
  char head[128];
  snprintf(head, sizeof head, "%s%d,%d,%d,%d,%lld,%d,", t->count ? ";" : "", fd, f->mount, f->open_flags, f->flags, (long long)offset, f->slot);
  append(t, head);
  char hex[3];
  for (const unsigned char *p = (const unsigned char *)f->path; *p; p++) {
    snprintf(hex, sizeof hex, "%02x", *p);
    append(t, hex);
  }
  t->count++;
}

/** envp with DANAUS_INHERIT describing the private descriptors that survive exec (and the variables that load the
 * library again), or envp itself when there are none. *owned gets what to free if exec fails. */
/** "DANAUS_CWD=mount,hexpath" for a working directory inside a mount, or NULL. Caller holds dn_lock. */
static char *cwd_entry(void) {
  if (dn_cwd_mount < 0) return NULL;
  struct inherit_text t = {malloc(64), 0, 64, 0};
  if (t.text == NULL) return NULL;
  t.text[0] = '\0';
  char head[64];
  snprintf(head, sizeof head, DN_ENV_CWD "=%d,", dn_cwd_mount);
  append(&t, head);
  char hex[3];
  for (const unsigned char *p = (const unsigned char *)dn_cwd_inner; *p; p++) {
    snprintf(hex, sizeof hex, "%02x", *p);
    append(&t, hex);
  }
  return t.text;
}

static int is_ours(const char *entry) {
  return strncmp(entry, DN_ENV_INHERIT "=", sizeof DN_ENV_INHERIT) == 0 || strncmp(entry, DN_ENV_CWD "=", sizeof DN_ENV_CWD) == 0 ||
         strncmp(entry, DN_ENV_POSITIONS "=", sizeof DN_ENV_POSITIONS) == 0;
}

static char **handover_env(char *const envp[], char ***owned) {
  *owned = NULL;
  struct inherit_text t = {malloc(256), 0, 256, 0};
  if (t.text == NULL) return (char **)envp;
  t.text[0] = '\0';
  append(&t, DN_ENV_INHERIT "=");
  pthread_mutex_lock(&dn_lock);
  dn_each(describe, &t);
  char *cwd = cwd_entry();
  pthread_mutex_unlock(&dn_lock);
  size_t n = 0;
  while (envp != NULL && envp[n] != NULL) n++;
  if (t.text == NULL || t.count == 0) {
    free(t.text);
    t.text = NULL;
    /* Still drop a stale DANAUS_INHERIT or DANAUS_CWD the program may have kept. */
    int stale = 0;
    for (size_t i = 0; i < n; i++) stale |= is_ours(envp[i]);
    if (!stale && cwd == NULL) return (char **)envp;
  }
  char **env = calloc(n + 6, sizeof *env);
  if (env == NULL) {
    free(t.text);
    free(cwd);
    return (char **)envp;
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
  owned[0] = env;
  return env;
}

static void release_env(char **owned) {
  if (owned == NULL) return;
  for (char **e = owned; *e != NULL; e++) {
    if (is_ours(*e)) free(*e);
  }
  free(owned);
}

int execve(const char *path, char *const argv[], char *const envp[]) {
  char **owned;
  char **env = handover_env(envp, &owned);
  int r = REAL(execve)(path, argv, env);
  int saved = errno;
  release_env(owned);
  errno = saved;
  return r;
}
int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }
int execvpe(const char *file, char *const argv[], char *const envp[]) {
  char **owned;
  char **env = handover_env(envp, &owned);
  int r = REAL(execvpe)(file, argv, env);
  int saved = errno;
  release_env(owned);
  errno = saved;
  return r;
}
int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }
int fexecve(int fd, char *const argv[], char *const envp[]) {
  char **owned;
  char **env = handover_env(envp, &owned);
  int r = REAL(fexecve)(fd, argv, env);
  int saved = errno;
  release_env(owned);
  errno = saved;
  return r;
}

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

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[]) {
  NEXT(posix_spawn);
  char **owned;
  char **env = handover_env(envp, &owned);
  int r = next_posix_spawn(pid, path, actions, attr, argv, env);
  release_env(owned);
  return r;
}
int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[]) {
  NEXT(posix_spawnp);
  char **owned;
  char **env = handover_env(envp, &owned);
  int r = next_posix_spawnp(pid, file, actions, attr, argv, env);
  release_env(owned);
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
    if (fd < 0 || path[0] != '/' || REAL(fcntl)(fd, F_GETFD) < 0) continue;
    struct dn_file *f = calloc(1, sizeof *f);
    char *copy = strdup(path);
    if (f == NULL || copy == NULL) {
      free(f);
      free(copy);
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
    }
  }
  unsetenv(DN_ENV_INHERIT);
}

/* system and popen start their child with glibc's internal spawn, which reads environ: it carries the hand-over for
 * the call (environ is swapped back afterwards; a thread reading environ meanwhile sees the hand-over too). */

int system(const char *command) {
  NEXT(system);
  if (command == NULL) return next_system(command);
  char **owned;
  char **saved = environ;
  char **env = handover_env(saved, &owned);
  environ = env;
  int r = next_system(command);
  int e = errno;
  environ = saved;
  release_env(owned);
  errno = e;
  return r;
}

FILE *popen(const char *command, const char *type) {
  NEXT(popen);
  char **owned;
  char **saved = environ;
  char **env = handover_env(saved, &owned);
  environ = env;
  FILE *fp = next_popen(command, type);
  int e = errno;
  environ = saved;
  release_env(owned);
  errno = e;
  return fp;
}
