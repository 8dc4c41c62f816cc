/* compat.c — glibc entry points that do their work through glibc's internal calls, so the library never sees it: the
 * stat/mknod entry points of programs linked before glibc 2.33 (__xstat and kin, still called by make, patch,
 * ctags), the _FORTIFY_SOURCE variants of readlink, realpath, getcwd and getwd, lchmod, futimesat and lockf.
 * Each routes as the plain call does: a path under a mount (or a private descriptor) through the library, anything
 * else to glibc unchanged. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* glibc 2.36's headers no longer declare these; programs linked before 2.33 still call them. The version argument is
 * the struct's layout, which is struct stat on x86-64 whatever it says; glibc's own answer is kept for kernel paths. */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev);
/* The _FORTIFY_SOURCE entry points: a buffer smaller than the length the program claims ends the program, as in glibc. */
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
char *__getcwd_chk(char *buf, size_t size, size_t buflen);
char *__getwd_chk(char *buf, size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len, size_t buflen);
void __chk_fail(void) __attribute__((noreturn));

int __xstat(int ver, const char *path, struct stat *st) {
  NEXT(__xstat);
  return dn_path_is_private(AT_FDCWD, path) ? stat(path, st) : next___xstat(ver, path, st);
}
int __xstat64(int ver, const char *path, struct stat64 *st) { return __xstat(ver, path, (struct stat *)st); }
int __lxstat(int ver, const char *path, struct stat *st) {
  NEXT(__lxstat);
  return dn_path_is_private(AT_FDCWD, path) ? lstat(path, st) : next___lxstat(ver, path, st);
}
int __lxstat64(int ver, const char *path, struct stat64 *st) { return __lxstat(ver, path, (struct stat *)st); }
int __fxstat(int ver, int fd, struct stat *st) {
  NEXT(__fxstat);
  return dn_get(fd) != NULL ? fstat(fd, st) : next___fxstat(ver, fd, st);
}
int __fxstat64(int ver, int fd, struct stat64 *st) { return __fxstat(ver, fd, (struct stat *)st); }
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags) {
  NEXT(__fxstatat64);
  return dn_path_is_private(dirfd, path) ? fstatat(dirfd, path, (struct stat *)st, flags) : next___fxstatat64(ver, dirfd, path, st, flags);
}
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev) {
  NEXT(__xmknod);
  return dn_path_is_private(AT_FDCWD, path) ? mknod(path, mode, *dev) : next___xmknod(ver, path, mode, dev);
}
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev) {
  NEXT(__xmknodat);
  return dn_path_is_private(dirfd, path) ? mknodat(dirfd, path, mode, *dev) : next___xmknodat(ver, dirfd, path, mode, dev);
}

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen) {
  NEXT(__realpath_chk);
  if (!dn_path_is_private(AT_FDCWD, path)) return next___realpath_chk(path, resolved, resolvedlen);
  if (resolved != NULL && resolvedlen < PATH_MAX) __chk_fail();
  return realpath(path, resolved);
}
char *__getcwd_chk(char *buf, size_t size, size_t buflen) {
  if (size > buflen) __chk_fail();
  return getcwd(buf, size);
}
/** getwd: getcwd into a buffer of PATH_MAX bytes; a failure is reported as a message in the buffer. */
static char *cwd_or_message(char *buf) {
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL) {
    snprintf(buf, PATH_MAX, "%s", strerror(errno));
    return NULL;
  }
  return strcpy(buf, cwd);
}
char *__getwd_chk(char *buf, size_t buflen) {
  if (buflen < PATH_MAX) __chk_fail();
  return cwd_or_message(buf);
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* getwd is deprecated, but programs still call it */
char *getwd(char *buf) { return cwd_or_message(buf); }
#pragma GCC diagnostic pop
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen) {
  if (len > buflen) __chk_fail();
  return readlink(path, buf, len);
}
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len, size_t buflen) {
  if (len > buflen) __chk_fail();
  return readlinkat(dirfd, path, buf, len);
}

/** lchmod under a mount: a symlink's mode cannot change (EOPNOTSUPP, as on Linux); anything else is chmod'ed. */
int lchmod(const char *path, mode_t mode) {
  NEXT(lchmod);
  if (!dn_path_is_private(AT_FDCWD, path)) return next_lchmod(path, mode);
  struct stat st;
  if (lstat(path, &st) < 0) return -1;
  if (S_ISLNK(st.st_mode)) {
    errno = EOPNOTSUPP;
    return -1;
  }
  return chmod(path, mode);
}

int futimesat(int dirfd, const char *path, const struct timeval tv[2]) {
  NEXT(futimesat);
  if (path == NULL ? dn_get(dirfd) == NULL : !dn_path_is_private(dirfd, path)) return next_futimesat(dirfd, path, tv);
  struct timespec ts[2];
  if (tv != NULL) {
    for (int i = 0; i < 2; i++) {
      if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) {
        errno = EINVAL;
        return -1;
      }
      ts[i].tv_sec = tv[i].tv_sec;
      ts[i].tv_nsec = tv[i].tv_usec * 1000;
    }
  }
  return path == NULL ? futimens(dirfd, tv != NULL ? ts : NULL) : utimensat(dirfd, path, tv != NULL ? ts : NULL, 0);
}

/** lockf on a private descriptor, through the library's fcntl locks (glibc's goes to the placeholder's fcntl). */
int lockf(int fd, int cmd, off_t len) {
  NEXT(lockf);
  if (dn_get(fd) == NULL) return next_lockf(fd, cmd, len);
  struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 0, .l_len = len};
  switch (cmd) {
  case F_TEST:
    lock.l_type = F_RDLCK;
    if (fcntl(fd, F_GETLK, &lock) < 0) return -1;
    if (lock.l_type == F_UNLCK || lock.l_pid == getpid()) return 0;
    errno = EACCES;
    return -1;
  case F_ULOCK:
    lock.l_type = F_UNLCK;
    return fcntl(fd, F_SETLK, &lock);
  case F_LOCK:
    return fcntl(fd, F_SETLKW, &lock);
  case F_TLOCK:
    return fcntl(fd, F_SETLK, &lock);
  default:
    errno = EINVAL;
    return -1;
  }
}
int lockf64(int fd, int cmd, off64_t len) { return lockf(fd, cmd, len); }

/* pathconf/fpathconf: glibc asks its internal statfs, which answers ENOENT (or the placeholder's filesystem) for a
 * private file. The library's statfs says whether the file is there and its longest name; every other limit is the
 * one the service's host answers for its root, as on any Linux filesystem without limits of its own. */
static long private_conf(const struct statfs *fs, int name) {
  NEXT(pathconf);
  if (name == _PC_NAME_MAX) return fs->f_namelen;
  return next_pathconf("/", name);
}
long pathconf(const char *path, int name) {
  NEXT(pathconf);
  if (!dn_path_is_private(AT_FDCWD, path)) return next_pathconf(path, name);
  struct statfs fs;
  return statfs(path, &fs) < 0 ? -1 : private_conf(&fs, name);
}
long fpathconf(int fd, int name) {
  NEXT(fpathconf);
  if (dn_get(fd) == NULL) return next_fpathconf(fd, name);
  struct statfs fs;
  return fstatfs(fd, &fs) < 0 ? -1 : private_conf(&fs, name);
}
