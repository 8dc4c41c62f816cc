/* walk.c — the tree walkers of glibc that reach directories through its internal calls: nftw/ftw walk a tree under a
 * mount here, over the library's opendir/readdir/stat/lstat/chdir; glob of a pattern under a mount runs glibc's own
 * glob with the library's directory calls (GLOB_ALTDIRFUNC); fts_open refuses a path under a mount. Trees and patterns
 * elsewhere go to glibc unchanged. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

typedef int (*nftw_fn)(const char *, const struct stat *, int, struct FTW *);
typedef int (*ftw_fn)(const char *, const struct stat *, int);

/** One walk: the path being visited (grown as needed) and what the caller asked for. */
struct walk {
  int flags;
  nftw_fn fn;      /* nftw's callback, or NULL for ftw's */
  ftw_fn old;
  char *path;
  size_t capacity;
  struct FTW ftw;
  dev_t dev;       /* the start directory's device (FTW_MOUNT) */
  void *seen;      /* directories already walked (a tsearch tree of struct stat), when symlinks are followed */
  int cwd_fd;      /* FTW_CHDIR: the program's working directory at the start */
};

static int call(struct walk *w, int type, const struct stat *st) {
  if (w->fn != NULL) return w->fn(w->path, st, type, &w->ftw);
  /* ftw knows neither symlinks nor depth-first order; glibc maps them so: a symlink is a file, a dangling one FTW_NS. */
  return w->old(w->path, st, type == FTW_SL ? FTW_F : type == FTW_SLN ? FTW_NS : type == FTW_DP ? FTW_D : type);
}

static int same_object(const void *a, const void *b) {
  const struct stat *x = a, *y = b;
  if (x->st_dev != y->st_dev) return x->st_dev < y->st_dev ? -1 : 1;
  return x->st_ino == y->st_ino ? 0 : x->st_ino < y->st_ino ? -1 : 1;
}

/** 1 when directory `st` was walked already (a symlink followed back into the tree), 0 after remembering it. */
static int seen_before(struct walk *w, const struct stat *st) {
  if (tfind(st, &w->seen, same_object) != NULL) return 1;
  struct stat *copy = malloc(sizeof *copy);
  if (copy == NULL) return -1;
  *copy = *st;
  if (tsearch(copy, &w->seen, same_object) == NULL) {
    free(copy);
    return -1;
  }
  return 0;
}

/** Makes room for `more` bytes after the first `used` of the path. */
static int grow(struct walk *w, size_t used, size_t more) {
  if (used + more <= w->capacity) return 0;
  size_t capacity = (used + more) * 2;
  char *path = realloc(w->path, capacity);
  if (path == NULL) return -1;
  w->path = path;
  w->capacity = capacity;
  return 0;
}

/** FTW_CHDIR: back to the program's working directory, then into the directory of the name at `base` in the path. */
static int enter_dir_of(struct walk *w, size_t base) {
  if (fchdir(w->cwd_fd) < 0) return -1;
  if (base == 0) return 0;
  if (base == 1) return chdir("/");
  char saved = w->path[base - 1];
  w->path[base - 1] = '\0';
  int r = chdir(w->path);
  w->path[base - 1] = saved;
  return r;
}

/**
 * The names of directory `name`, NUL-separated and ended by an empty name, read whole before any of them is visited:
 * the walk keeps one directory stream open at a time, whatever the depth (so within any descriptor limit).
 */
static char *read_names(const char *name) {
  DIR *dir = opendir(name);
  if (dir == NULL) return NULL;
  size_t used = 0, capacity = 256;
  char *names = malloc(capacity);
  struct dirent64 *e;
  while (names != NULL && (e = readdir64(dir)) != NULL) {
    size_t n = strlen(e->d_name) + 1;
    if (used + n + 1 > capacity) {
      char *grown = realloc(names, capacity = (used + n + 1) * 2);
      if (grown == NULL) free(names);
      names = grown;
      if (names == NULL) break;
    }
    memcpy(names + used, e->d_name, n);
    used += n;
  }
  int saved = errno;
  closedir(dir);
  if (names == NULL) {
    errno = saved == 0 ? ENOMEM : saved;
    return NULL;
  }
  names[used] = '\0';
  return names;
}

static int walk_entry(struct walk *w, const char *name);

/** Walks directory `st`, whose path is w->path (opened as `name`: relative to the working directory with FTW_CHDIR). */
static int walk_dir(struct walk *w, const struct stat *st, const char *name, int top) {
  char *names = read_names(name);
  if (names == NULL) return errno == EACCES ? call(w, FTW_DNR, st) : -1;
  int r = 0;
  if (!(w->flags & FTW_DEPTH)) r = call(w, FTW_D, st);
  if (r == 0 && (w->flags & FTW_CHDIR) && chdir(name) < 0) r = -1;
  if (r != 0) {
    free(names);
    return r;
  }
  int previous_base = w->ftw.base;
  size_t length = strlen(w->path);
  if (grow(w, length, 2) < 0) {
    free(names);
    return -1;
  }
  size_t base = length;
  if (base == 0 || w->path[base - 1] != '/') w->path[base++] = '/';
  w->path[base] = '\0';
  w->ftw.level++;
  w->ftw.base = (int)base;
  for (const char *at = names; r == 0 && *at != '\0'; at += strlen(at) + 1) r = walk_entry(w, at);
  free(names);
  if ((w->flags & FTW_ACTIONRETVAL) && r == FTW_SKIP_SIBLINGS) r = 0;
  w->path[length] = '\0';
  w->ftw.level--;
  w->ftw.base = previous_base;
  if (r == 0 && (w->flags & FTW_DEPTH)) r = call(w, FTW_DP, st);
  if (!top && (w->flags & FTW_CHDIR) && (r == 0 || ((w->flags & FTW_ACTIONRETVAL) && r != -1 && r != FTW_STOP))) {
    int saved = errno;
    if (enter_dir_of(w, (size_t)previous_base) < 0) r = -1;
    else errno = saved;
  }
  return r;
}

/** Visits `name` of the directory at w->ftw.base, as glibc's nftw does: stat, then the callback or a walk below. */
static int walk_entry(struct walk *w, const char *name) {
  if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) return 0;
  size_t n = strlen(name);
  if (grow(w, (size_t)w->ftw.base, n + 1) < 0) return -1;
  memcpy(w->path + w->ftw.base, name, n + 1);
  const char *at = (w->flags & FTW_CHDIR) ? name : w->path;
  struct stat st;
  int type, r = 0;
  if (((w->flags & FTW_PHYS) ? lstat(at, &st) : stat(at, &st)) < 0) {
    if (errno != EACCES && errno != ENOENT) return -1;
    if (!(w->flags & FTW_PHYS) && lstat(at, &st) == 0 && S_ISLNK(st.st_mode)) type = FTW_SLN;
    else {
      memset(&st, 0, sizeof st);
      type = FTW_NS;
    }
  } else {
    type = S_ISDIR(st.st_mode) ? FTW_D : S_ISLNK(st.st_mode) ? FTW_SL : FTW_F;
  }
  if (type == FTW_NS || !(w->flags & FTW_MOUNT) || st.st_dev == w->dev) {
    if (type != FTW_D) r = call(w, type, &st);
    else if (w->flags & FTW_PHYS) r = walk_dir(w, &st, at, 0);
    else if ((r = seen_before(w, &st)) == 0) r = walk_dir(w, &st, at, 0);
    else if (r == 1) r = 0;
  }
  if ((w->flags & FTW_ACTIONRETVAL) && r == FTW_SKIP_SUBTREE) r = 0;
  return r;
}

/** nftw (fn) or ftw (old) of `dir` under a mount. */
static int walk(const char *dir, nftw_fn fn, ftw_fn old, int flags) {
  if (flags & ~(FTW_PHYS | FTW_MOUNT | FTW_CHDIR | FTW_DEPTH | FTW_ACTIONRETVAL)) {
    errno = EINVAL;
    return -1;
  }
  if (dir[0] == '\0') {
    errno = ENOENT;
    return -1;
  }
  if (dn_debug) dn_log("nftw %s through the library (flags %#x)", dir, (unsigned)flags);
  struct walk w = {.flags = flags, .fn = fn, .old = old, .cwd_fd = -1};
  size_t length = strlen(dir);
  if (grow(&w, 0, length + 2) < 0) return -1;
  memcpy(w.path, dir, length + 1);
  while (length > 1 && w.path[length - 1] == '/') w.path[--length] = '\0';
  size_t base = length;
  while (base > 0 && w.path[base - 1] != '/') base--;
  w.ftw.base = (int)base;
  int r = 0;
  if (flags & FTW_CHDIR) {
    w.cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w.cwd_fd < 0 || enter_dir_of(&w, base) < 0) r = -1;
  }
  if (r == 0) {
    const char *at = !(flags & FTW_CHDIR) ? w.path : w.path[base] != '\0' ? w.path + base : ".";
    struct stat st;
    if (((flags & FTW_PHYS) ? lstat(at, &st) : stat(at, &st)) < 0) {
      r = !(flags & FTW_PHYS) && errno == ENOENT && lstat(at, &st) == 0 && S_ISLNK(st.st_mode) ? call(&w, FTW_SLN, &st) : -1;
    } else if (S_ISDIR(st.st_mode)) {
      w.dev = st.st_dev;
      if (!(flags & FTW_PHYS) && seen_before(&w, &st) < 0) r = -1;
      if (r == 0) r = walk_dir(&w, &st, at, 1);
    } else {
      r = call(&w, S_ISLNK(st.st_mode) ? FTW_SL : FTW_F, &st);
    }
    if ((flags & FTW_ACTIONRETVAL) && (r == FTW_SKIP_SUBTREE || r == FTW_SKIP_SIBLINGS)) r = 0;
  }
  int saved = errno;
  if (w.cwd_fd >= 0) {
    fchdir(w.cwd_fd);
    close(w.cwd_fd);
  }
  tdestroy(w.seen, free);
  free(w.path);
  errno = saved;
  return r;
}

int nftw(const char *dir, nftw_fn fn, int nopenfd, int flags) {
  NEXT(nftw);
  if (!dn_path_is_private(AT_FDCWD, dir)) return next_nftw(dir, fn, nopenfd, flags);
  return walk(dir, fn, NULL, flags);
}
int nftw64(const char *dir, int (*fn)(const char *, const struct stat64 *, int, struct FTW *), int nopenfd, int flags) {
  return nftw(dir, (nftw_fn)fn, nopenfd, flags);
}

int ftw(const char *dir, ftw_fn fn, int nopenfd) {
  NEXT(ftw);
  if (!dn_path_is_private(AT_FDCWD, dir)) return next_ftw(dir, fn, nopenfd);
  return walk(dir, NULL, fn, 0);
}
int ftw64(const char *dir, int (*fn)(const char *, const struct stat64 *, int), int nopenfd) {
  return ftw(dir, (ftw_fn)fn, nopenfd);
}

/* ---- glob ---- */

static void *glob_opendir(const char *path) { return opendir(path); }
static struct dirent *glob_readdir(void *dir) { return readdir(dir); }
static void glob_closedir(void *dir) { closedir(dir); }
static int glob_stat(const char *path, struct stat *st) { return stat(path, st); }
static int glob_lstat(const char *path, struct stat *st) { return lstat(path, st); }

/** Whether the directory a pattern starts in (its part before the first wildcard's component) is under a mount. */
static int pattern_is_private(const char *pattern) {
  size_t wild = strcspn(pattern, "*?[\\");
  size_t slash = wild;
  while (slash > 0 && pattern[slash - 1] != '/') slash--;
  if (slash == 0) return dn_path_is_private(AT_FDCWD, pattern[wild] == '\0' ? pattern : ".");
  char *dir = strndup(pattern, slash);
  if (dir == NULL) return 1; /* the walk through the library reports ENOMEM as glibc would (GLOB_NOSPACE) */
  int r = dn_path_is_private(AT_FDCWD, dir);
  free(dir);
  return r;
}

int glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *pglob) {
  NEXT(glob);
  if ((flags & GLOB_ALTDIRFUNC) || !pattern_is_private(pattern)) return next_glob(pattern, flags, errfunc, pglob);
  if (dn_debug) dn_log("glob %s through the library's directory calls", pattern);
  pglob->gl_opendir = glob_opendir;
  pglob->gl_readdir = glob_readdir;
  pglob->gl_closedir = glob_closedir;
  pglob->gl_stat = glob_stat;
  pglob->gl_lstat = glob_lstat;
  return next_glob(pattern, flags | GLOB_ALTDIRFUNC, errfunc, pglob);
}
/* glob64_t is glob_t and dirent64 is dirent on x86-64: glibc itself makes glob64 the same function. */
int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob64_t *pglob) {
  return glob(pattern, flags, errfunc, (glob_t *)pglob);
}

/* ---- fts ---- */

/**
 * fts_open with a path under a mount: ENOTSUP and a log line. glibc's fts would walk the kernel's side of the name
 * (nothing, or the wrong files); the library does not implement fts.
 */
static int refuse_fts(char *const *paths) {
  for (char *const *p = paths; p != NULL && *p != NULL; p++) {
    if (dn_path_is_private(AT_FDCWD, *p)) {
      dn_log("fts_open %s: fts is not implemented for paths under a mount (ENOTSUP); nftw and readdir are", *p);
      errno = ENOTSUP;
      return 1;
    }
  }
  return 0;
}

FTS *fts_open(char *const *paths, int options, int (*compar)(const FTSENT **, const FTSENT **)) {
  NEXT(fts_open);
  return refuse_fts(paths) ? NULL : next_fts_open(paths, options, compar);
}
FTS64 *fts64_open(char *const *paths, int options, int (*compar)(const FTSENT64 **, const FTSENT64 **)) {
  NEXT(fts64_open);
  return refuse_fts(paths) ? NULL : next_fts64_open(paths, options, compar);
}
