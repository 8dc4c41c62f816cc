/* spawn.c — posix_spawn and posix_spawnp with the library's semantics. glibc runs a spawn's file actions and its exec
 * inside itself, past this library's wrappers, so the library keeps its own copy of every action list (the
 * posix_spawn_file_actions_* builders are wrapped and record beside glibc's object, keyed by its address). A spawn
 * that involves the library (a private descriptor the child inherits or an action names, a path in a mount, a working
 * directory in a mount) is carried out here: fork, glibc's attribute steps in glibc's order, the actions in order
 * through the library's own calls, then the library's execve, which hands private descriptors over. A failure in the
 * child comes back to the parent as posix_spawn's return value through a close-on-exec pipe. Any other spawn is
 * glibc's own, unchanged but for the hand-over variables in its environment. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

extern char **environ;

/* ---- the recorded action lists ---- */

enum action_kind { DO_OPEN, DO_CLOSE, DO_DUP2, DO_CHDIR, DO_FCHDIR, DO_CLOSEFROM, DO_TCSETPGRP };

struct action {
  enum action_kind kind;
  int fd;      /* the descriptor acted on (open's target, close's, dup2's source, closefrom's lowest) */
  int newfd;   /* dup2's target */
  int oflag;
  mode_t mode;
  char *path;  /* open's and chdir's */
};

struct record {
  const posix_spawn_file_actions_t *key; /* NULL: a free slot */
  struct action *actions;
  int count, capacity;
  int broken; /* an action could not be recorded: the list is not known */
};

/** Action lists alive at once that the library can follow; a spawn with a list beyond them that involves the library
 * fails with ENOMEM. Programs build one list per spawn and destroy it after. */
#define RECORDS 256
static struct record records[RECORDS];
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;

/** The record of `key`. Caller holds records_lock. */
static struct record *find(const posix_spawn_file_actions_t *key) {
  for (int i = 0; i < RECORDS; i++) {
    if (records[i].key == key) return &records[i];
  }
  return NULL;
}

static void forget(struct record *r) {
  for (int i = 0; i < r->count; i++) free(r->actions[i].path);
  free(r->actions);
  memset(r, 0, sizeof *r);
}

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *actions) {
  NEXT(posix_spawn_file_actions_init);
  int r = next_posix_spawn_file_actions_init(actions);
  if (r != 0) return r;
  pthread_mutex_lock(&records_lock);
  struct record *old = find(actions); /* an object at this address that was never destroyed */
  if (old != NULL) forget(old);
  struct record *slot = find(NULL);
  if (slot != NULL) slot->key = actions;
  pthread_mutex_unlock(&records_lock);
  if (slot == NULL) dn_log("more than %d posix_spawn action lists at once: a spawn with this one that involves a tenant mount fails (ENOMEM)", RECORDS);
  return 0;
}

int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *actions) {
  NEXT(posix_spawn_file_actions_destroy);
  pthread_mutex_lock(&records_lock);
  struct record *r = find(actions);
  if (r != NULL) forget(r);
  pthread_mutex_unlock(&records_lock);
  return next_posix_spawn_file_actions_destroy(actions);
}

/** Appends `a` (its path copied) to the record of `key` after glibc accepted it; returns glibc's result `accepted`. */
static int record(const posix_spawn_file_actions_t *key, struct action a, int accepted) {
  if (accepted != 0) return accepted;
  pthread_mutex_lock(&records_lock);
  struct record *r = find(key);
  if (r != NULL && !r->broken) {
    if (a.path != NULL) a.path = strdup(a.path);
    if (r->count == r->capacity) {
      int capacity = r->capacity ? r->capacity * 2 : 8;
      struct action *grown = realloc(r->actions, (size_t)capacity * sizeof *grown);
      if (grown != NULL) {
        r->actions = grown;
        r->capacity = capacity;
      }
    }
    if (r->count < r->capacity && (a.path != NULL || (a.kind != DO_OPEN && a.kind != DO_CHDIR))) {
      r->actions[r->count++] = a;
    } else {
      free(a.path);
      r->broken = 1;
    }
  }
  pthread_mutex_unlock(&records_lock);
  return accepted;
}

int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *actions, int fd, const char *path, int oflag, mode_t mode) {
  NEXT(posix_spawn_file_actions_addopen);
  struct action a = {.kind = DO_OPEN, .fd = fd, .oflag = oflag, .mode = mode, .path = (char *)path};
  return record(actions, a, next_posix_spawn_file_actions_addopen(actions, fd, path, oflag, mode));
}
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *actions, int fd) {
  NEXT(posix_spawn_file_actions_addclose);
  struct action a = {.kind = DO_CLOSE, .fd = fd};
  return record(actions, a, next_posix_spawn_file_actions_addclose(actions, fd));
}
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *actions, int fd, int newfd) {
  NEXT(posix_spawn_file_actions_adddup2);
  struct action a = {.kind = DO_DUP2, .fd = fd, .newfd = newfd};
  return record(actions, a, next_posix_spawn_file_actions_adddup2(actions, fd, newfd));
}
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path) {
  NEXT(posix_spawn_file_actions_addchdir_np);
  struct action a = {.kind = DO_CHDIR, .path = (char *)path};
  return record(actions, a, next_posix_spawn_file_actions_addchdir_np(actions, path));
}
int posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *actions, int fd) {
  NEXT(posix_spawn_file_actions_addfchdir_np);
  struct action a = {.kind = DO_FCHDIR, .fd = fd};
  return record(actions, a, next_posix_spawn_file_actions_addfchdir_np(actions, fd));
}
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from) {
  NEXT(posix_spawn_file_actions_addclosefrom_np);
  struct action a = {.kind = DO_CLOSEFROM, .fd = from};
  return record(actions, a, next_posix_spawn_file_actions_addclosefrom_np(actions, from));
}
int posix_spawn_file_actions_addtcsetpgrp_np(posix_spawn_file_actions_t *actions, int fd) {
  NEXT(posix_spawn_file_actions_addtcsetpgrp_np);
  struct action a = {.kind = DO_TCSETPGRP, .fd = fd};
  return record(actions, a, next_posix_spawn_file_actions_addtcsetpgrp_np(actions, fd));
}

/** A copy of the action list of `key` (paths still the record's) in *out, with its length; -1 when it is not known. */
static int snapshot(const posix_spawn_file_actions_t *key, struct action **out) {
  *out = NULL;
  if (key == NULL) return 0;
  pthread_mutex_lock(&records_lock);
  struct record *r = find(key);
  int n = r == NULL || r->broken ? -1 : r->count;
  if (n > 0) {
    *out = malloc((size_t)n * sizeof **out);
    if (*out != NULL) memcpy(*out, r->actions, (size_t)n * sizeof **out);
    else n = -1;
  }
  pthread_mutex_unlock(&records_lock);
  return n;
}

/* ---- does the spawn involve the library? ---- */

static void find_inheritable(int fd, struct dn_file *f, void *arg) {
  (void)f;
  int flags = REAL(fcntl)(fd, F_GETFD);
  if (flags >= 0 && !(flags & FD_CLOEXEC)) *(int *)arg = 1;
}

/** Whether `path` is under a mount (or is ours but bad, which the child reports). Caller holds dn_lock. */
static int in_mount(const char *path) {
  char inner[DN_PATH_MAX];
  return dn_route(AT_FDCWD, path, inner) != -1;
}

/** Whether the child must be made here rather than by glibc. Caller holds dn_lock. */
static int involves_library(const struct action *a, int n) {
  int found = dn_cwd_mount >= 0;
  dn_each(find_inheritable, &found);
  int moved = 0; /* a chdir action came first: a relative path is not judged from here */
  for (int i = 0; i < n && !found; i++) {
    switch (a[i].kind) {
      case DO_OPEN:
        found = dn_get(a[i].fd) != NULL || (moved && a[i].path[0] != '/') || in_mount(a[i].path);
        break;
      case DO_CHDIR:
        found = in_mount(a[i].path);
        moved = 1;
        break;
      case DO_FCHDIR:
        found = dn_get(a[i].fd) != NULL;
        moved = 1;
        break;
      case DO_DUP2:
        found = dn_get(a[i].fd) != NULL || dn_get(a[i].newfd) != NULL;
        break;
      case DO_CLOSE:
      case DO_TCSETPGRP:
        found = dn_get(a[i].fd) != NULL;
        break;
      case DO_CLOSEFROM:
        break; /* closes only what glibc's child would; the library's own descriptors are not handed over */
    }
  }
  return found;
}

/* ---- the child ---- */

/** glibc's attribute steps before the file actions: signal dispositions, scheduler, session, group, ids. 0 or errno. */
static int apply_attributes(const posix_spawnattr_t *attr) {
  short flags = 0;
  if (attr != NULL) posix_spawnattr_getflags(attr, &flags);
  sigset_t defaults;
  sigemptyset(&defaults);
  if (flags & POSIX_SPAWN_SETSIGDEF) posix_spawnattr_getsigdefault(attr, &defaults);
  /* The parent's handlers must not run in the child: a caught signal goes back to its default, as exec would do. */
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction now;
    if (sigaction(sig, NULL, &now) < 0) continue; /* glibc's internal signals */
    int caught = now.sa_handler != SIG_DFL && now.sa_handler != SIG_IGN;
    if (sigismember(&defaults, sig) == 1 || caught) {
      struct sigaction dfl;
      memset(&dfl, 0, sizeof dfl);
      dfl.sa_handler = SIG_DFL;
      sigaction(sig, &dfl, NULL);
    }
  }
  if ((flags & (POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER)) == POSIX_SPAWN_SETSCHEDPARAM) {
    struct sched_param param;
    posix_spawnattr_getschedparam(attr, &param);
    if (sched_setparam(0, &param) < 0) return errno;
  } else if (flags & POSIX_SPAWN_SETSCHEDULER) {
    int policy;
    struct sched_param param;
    posix_spawnattr_getschedpolicy(attr, &policy);
    posix_spawnattr_getschedparam(attr, &param);
    if (sched_setscheduler(0, policy, &param) < 0) return errno;
  }
  if ((flags & POSIX_SPAWN_SETSID) && setsid() < 0) return errno;
  if (flags & POSIX_SPAWN_SETPGROUP) {
    pid_t group;
    posix_spawnattr_getpgroup(attr, &group);
    if (setpgid(0, group) < 0) return errno;
  }
  if ((flags & POSIX_SPAWN_RESETIDS) && (seteuid(getuid()) < 0 || setegid(getgid()) < 0)) return errno;
  return 0;
}

/** Moves the report pipe `*report` out of the way of descriptor `fd`. 0 or errno. */
static int clear_of(int *report, int fd) {
  if (fd != *report) return 0;
  int moved = REAL(fcntl)(*report, F_DUPFD_CLOEXEC, fd + 1);
  if (moved < 0) return errno;
  REAL(close)(*report);
  *report = moved;
  return 0;
}

/** One file action through the library's own calls, as glibc's child carries it out. 0 or errno. */
static int apply_action(const struct action *a, int *report) {
  switch (a->kind) {
    case DO_OPEN: {
      int err = clear_of(report, a->fd);
      if (err != 0) return err;
      close(a->fd); /* POSIX: an open target descriptor is closed first */
      int fd = open(a->path, a->oflag, a->mode);
      if (fd < 0) return errno;
      if (fd != a->fd) {
        if (dup2(fd, a->fd) < 0) return errno;
        close(fd);
      }
      return 0;
    }
    case DO_CLOSE:
      if (a->fd == *report) return 0; /* not open for the program */
      close(a->fd); /* like glibc: closing a descriptor that is not open is no error */
      return 0;
    case DO_DUP2: {
      if (a->fd == *report) return EBADF;
      int err = clear_of(report, a->newfd);
      if (err != 0) return err;
      if (a->fd == a->newfd) {
        /* dup2 onto itself keeps the descriptor open across exec (POSIX 2024, as glibc does). */
        int flags = fcntl(a->fd, F_GETFD);
        return flags < 0 || fcntl(a->fd, F_SETFD, flags & ~FD_CLOEXEC) < 0 ? errno : 0;
      }
      return dup2(a->fd, a->newfd) < 0 ? errno : 0;
    }
    case DO_CHDIR:
      return chdir(a->path) < 0 ? errno : 0;
    case DO_FCHDIR:
      return fchdir(a->fd) < 0 ? errno : 0;
    case DO_CLOSEFROM: {
      /* The report pipe stays open (close-on-exec) around the range. */
      int low = a->fd, pipe_fd = *report;
      if (low < pipe_fd && close_range((unsigned)low, (unsigned)pipe_fd - 1, 0) < 0) return errno;
      if (close_range((unsigned)(low > pipe_fd ? low : pipe_fd + 1), ~0u, 0) < 0) return errno;
      return 0;
    }
    case DO_TCSETPGRP:
      return tcsetpgrp(a->fd, getpgrp()) < 0 ? errno : 0;
  }
  return EINVAL;
}

/** posix_spawnp's search: `file` on PATH (or /bin:/usr/bin), without falling back to /bin/sh. Returns errno. */
static int exec_search(const char *file, char *const argv[], char *const envp[]) {
  if (strchr(file, '/') != NULL) {
    execve(file, argv, envp);
    return errno;
  }
  const char *path = getenv("PATH");
  if (path == NULL) path = "/bin:/usr/bin";
  int denied = 0, last = ENOENT;
  char candidate[DN_PATH_MAX];
  for (;;) {
    size_t n = strcspn(path, ":");
    if (snprintf(candidate, sizeof candidate, "%.*s%s%s", (int)n, path, n ? "/" : "", file) < (int)sizeof candidate) {
      execve(candidate, argv, envp);
      last = errno;
      if (last == EACCES) denied = 1;
      else if (last != ENOENT && last != ENOTDIR && last != ESTALE && last != ENODEV && last != ETIMEDOUT) return last;
    }
    if (path[n] == '\0') break;
    path += n + 1;
  }
  return denied ? EACCES : last;
}

/** The child's life up to exec; on failure its errno goes to the parent through `report`. Never returns. */
static void child(int report, const char *file, int search, const struct action *a, int n, const posix_spawnattr_t *attr,
                  const sigset_t *parent_mask, char *const argv[], char *const envp[]) {
  int err = apply_attributes(attr);
  for (int i = 0; i < n && err == 0; i++) err = apply_action(&a[i], &report);
  short flags = 0;
  sigset_t mask = *parent_mask;
  if (attr != NULL) posix_spawnattr_getflags(attr, &flags);
  if (flags & POSIX_SPAWN_SETSIGMASK) posix_spawnattr_getsigmask(attr, &mask);
  sigprocmask(SIG_SETMASK, &mask, NULL);
  if (err == 0) {
    if (search) err = exec_search(file, argv, envp);
    else err = execve(file, argv, envp) < 0 ? errno : 0;
  }
  ssize_t ignored = REAL(write)(report, &err, sizeof err);
  (void)ignored;
  _exit(127);
}

/** The spawn made here. Returns 0 with *pid set, or the errno of the step that failed (the child reaped). */
static int spawn_here(pid_t *pid, const char *file, int search, const struct action *a, int n, const posix_spawnattr_t *attr,
                      char *const argv[], char *const envp[]) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) < 0) return errno;
  /* Signals wait until the child has put its dispositions right (glibc does the same). */
  sigset_t all, parent_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &parent_mask);
  pid_t made = fork();
  if (made == 0) {
    REAL(close)(ends[0]);
    child(dn_move_high(ends[1]), file, search, a, n, attr, &parent_mask, argv, envp);
  }
  int err = made < 0 ? errno : 0;
  pthread_sigmask(SIG_SETMASK, &parent_mask, NULL);
  REAL(close)(ends[1]);
  if (made > 0) {
    int reported;
    ssize_t got;
    do got = REAL(read)(ends[0], &reported, sizeof reported);
    while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof reported) {
      err = reported;
      while (waitpid(made, NULL, 0) < 0 && errno == EINTR) continue;
    } else if (pid != NULL) {
      *pid = made;
    }
  }
  REAL(close)(ends[0]);
  return err;
}

static int spawn(pid_t *pid, const char *file, int search, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[]) {
  NEXT(posix_spawn);
  NEXT(posix_spawnp);
  struct action *a;
  int n = snapshot(actions, &a);
  int here = 0;
  if (dn_enabled()) {
    pthread_mutex_lock(&dn_lock);
    here = involves_library(a, n < 0 ? 0 : n) || (n < 0 && dn_mount_count > 0);
    pthread_mutex_unlock(&dn_lock);
  }
  int r;
  if (here && n < 0) {
    dn_log("posix_spawn of %s: its file actions were not recorded (too many lists at once, or out of memory) (ENOMEM)", file);
    r = ENOMEM;
  } else if (here) {
    r = spawn_here(pid, file, search, a, n, attr, argv, envp != NULL ? envp : environ);
  } else {
    struct dn_handover h;
    dn_handover_begin(&h, envp);
    r = search ? next_posix_spawnp(pid, file, actions, attr, argv, h.env) : next_posix_spawn(pid, file, actions, attr, argv, h.env);
    dn_handover_end(&h, r == 0);
  }
  free(a);
  return r;
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[]) {
  return spawn(pid, path, 0, actions, attr, argv, envp);
}
int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[]) {
  return spawn(pid, file, 1, actions, attr, argv, envp);
}
