/* temp.c — temporary names under a mount: mkstemp and its variants, mkdtemp, mktemp and tempnam. glibc makes them through its
 * internal open, mkdir and lstat, which the library never sees; for a template under a mount the library fills the
 * XXXXXX itself and creates through its own open (O_CREAT | O_EXCL, 0600) or mkdir (0700). Other templates go to
 * glibc unchanged. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/** How many names one call tries before it answers EEXIST (glibc's count: 62 to the power 3). */
#define ATTEMPTS (62 * 62 * 62)

static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** What one attempt does with a candidate name: 0 or a descriptor when made, -1 with errno when not. */
enum make { MAKE_FILE, MAKE_DIR, MAKE_NOTHING };

/** 64 random bits: the kernel's, or (when it has none to give without blocking) a mix of the clock and the pid. */
static uint64_t random_bits(uint64_t previous) {
  uint64_t bits;
  if (getrandom(&bits, sizeof bits, GRND_NONBLOCK) == sizeof bits) return bits;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  bits = previous ^ ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^ ((uint64_t)getpid() << 40);
  return bits * 0x9e3779b97f4a7c15u + 1;
}

/**
 * Replaces the six X before the last `suffix` bytes of `template` until `kind` succeeds. Returns the descriptor
 * (MAKE_FILE) or 0; -1 with errno EINVAL for a bad template, EEXIST when every name was taken, or the call's errno.
 */
static int make_temporary(char *template, int suffix, int flags, enum make kind) {
  size_t length = strlen(template);
  if (suffix < 0 || length < 6 + (size_t)suffix || memcmp(template + length - suffix - 6, "XXXXXX", 6) != 0) {
    errno = EINVAL;
    return -1;
  }
  char *x = template + length - suffix - 6;
  int saved = errno;
  uint64_t bits = 0;
  for (unsigned attempt = 0; attempt < ATTEMPTS; attempt++) {
    bits = random_bits(bits);
    uint64_t v = bits;
    for (int i = 0; i < 6; i++, v /= 62) x[i] = letters[v % 62];
    int r;
    struct stat st;
    switch (kind) {
    case MAKE_FILE:
      r = open(template, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR);
      break;
    case MAKE_DIR:
      r = mkdir(template, S_IRWXU);
      break;
    default:
      r = lstat(template, &st) == 0 ? (errno = EEXIST, -1) : errno == ENOENT ? 0 : -1;
      break;
    }
    if (r >= 0) {
      errno = saved;
      return r;
    }
    if (errno != EEXIST) return -1;
  }
  errno = EEXIST;
  return -1;
}

int mkostemps(char *template, int suffix, int flags) {
  NEXT(mkostemps);
  if (!dn_path_is_private(AT_FDCWD, template)) return next_mkostemps(template, suffix, flags);
  if (dn_debug) dn_log("mkostemps %s through the library", template);
  return make_temporary(template, suffix, flags, MAKE_FILE);
}
int mkostemps64(char *template, int suffix, int flags) { return mkostemps(template, suffix, flags); }
int mkstemp(char *template) { return mkostemps(template, 0, 0); }
int mkstemp64(char *template) { return mkostemps(template, 0, 0); }
int mkostemp(char *template, int flags) { return mkostemps(template, 0, flags); }
int mkostemp64(char *template, int flags) { return mkostemps(template, 0, flags); }
int mkstemps(char *template, int suffix) { return mkostemps(template, suffix, 0); }
int mkstemps64(char *template, int suffix) { return mkostemps(template, suffix, 0); }

char *mkdtemp(char *template) {
  NEXT(mkdtemp);
  if (!dn_path_is_private(AT_FDCWD, template)) return next_mkdtemp(template);
  return make_temporary(template, 0, 0, MAKE_DIR) < 0 ? NULL : template;
}

char *mktemp(char *template) {
  NEXT(mktemp);
  if (!dn_path_is_private(AT_FDCWD, template)) return next_mktemp(template);
  if (make_temporary(template, 0, 0, MAKE_NOTHING) < 0) template[0] = '\0';
  return template;
}

static int is_dir(const char *path) {
  struct stat st;
  return path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/**
 * tempnam with TMPDIR or `dir` under a mount: glibc's order of directories (TMPDIR when it is a directory, then `dir`,
 * then P_tmpdir), checked with the library's stat, and a name that lstat does not find. NULL with errno when none.
 */
char *tempnam(const char *dir, const char *pfx) {
  NEXT(tempnam);
  const char *env = secure_getenv("TMPDIR");
  int saved = errno;
  if (!(env != NULL && dn_path_is_private(AT_FDCWD, env)) && !(dir != NULL && dn_path_is_private(AT_FDCWD, dir))) return next_tempnam(dir, pfx);
  const char *in = is_dir(env) ? env : is_dir(dir) ? dir : is_dir(P_tmpdir) ? P_tmpdir : NULL;
  if (in == NULL) {
    errno = EIO;
    return NULL;
  }
  errno = saved;
  size_t length = strlen(in);
  while (length > 1 && in[length - 1] == '/') length--;
  if (pfx == NULL || pfx[0] == '\0') pfx = "file";
  char *name;
  if (asprintf(&name, "%.*s/%.5sXXXXXX", (int)length, in, pfx) < 0) return NULL;
  if (make_temporary(name, 0, 0, MAKE_NOTHING) < 0) {
    free(name);
    return NULL;
  }
  return name;
}
