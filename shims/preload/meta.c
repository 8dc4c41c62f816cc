/* meta.c — the path calls: stat family and statx, access, mkdir, rmdir, unlink, rename, link, symlink, readlink,
 * chmod, chown, utimes, truncate, statfs/statvfs, mknod/mkfifo, xattrs, chdir/fchdir/getcwd and realpath. A path that
 * is not under a mount of the tenant goes to the next definition (libc) unchanged. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)
#define LOCK() pthread_mutex_lock(&dn_lock)
#define UNLOCK() pthread_mutex_unlock(&dn_lock)

extern mode_t dn_umask;

/** One path operation: paths `a` (and `b`) in the buffer, args = [mount, extra...]. Holds dn_lock. */
static int64_t path_call(uint32_t op, int mount, const char *a, const char *b, int nextra, const int64_t *extra, uint32_t *reply) {
  int written = dn_put_paths(a, b);
  if (written < 0) return written;
  int64_t args[DANAUS_ARG_COUNT] = {mount};
  for (int i = 0; i < nextra && i + 1 < DANAUS_ARG_COUNT; i++) args[i + 1] = extra[i];
  return dn_call(op, args, 1 + nextra, dn_bufsize, reply);
}

/*
 * ROUTED(dirfd, path, expr, kernel): under dn_lock, routes the path; `expr` (with `mount` and `inner` in scope)
 * answers a private path (a negative errno or the result), `kernel` is returned for a kernel path.
 */
#define ROUTED(dirfd, path, expr, kernel) \
  do { \
    if (dn_surely_kernel((dirfd), (path))) return (kernel); \
    char inner[DN_PATH_MAX]; \
    LOCK(); \
    int mount = dn_route((dirfd), (path), inner); \
    if (mount == -1) { \
      UNLOCK(); \
      return (kernel); \
    } \
    int64_t r_ = mount == -2 ? -errno : (int64_t)(expr); \
    UNLOCK(); \
    return dn_ret(r_); \
  } while (0)

/* ---- stat ---- */

/** stat (nofollow 0) or lstat of `inner` in `mount`: from the attribute cache (attrs.c) while valid, else the service's. */
static int64_t stat_into(int mount, const char *inner, int nofollow, struct stat *st) {
  int cached = dn_attrs_get(mount, inner, nofollow, st);
  if (cached != 0) return cached < 0 ? cached : 0;
  struct dn_attrs_ticket ticket;
  dn_attrs_begin(&ticket);
  uint32_t reply;
  int64_t r = path_call(nofollow ? DANAUS_OP_LSTAT : DANAUS_OP_STAT, mount, inner, NULL, 0, NULL, &reply);
  if (r == 0 && reply < sizeof(struct danaus_stat)) return -EIO;
  if (r == 0) memcpy(st, dn_buf, sizeof *st);
  dn_attrs_put(&ticket, mount, inner, nofollow, r, st);
  return r < 0 ? r : 0;
}

int stat(const char *path, struct stat *st) {
  NEXT(stat);
  ROUTED(AT_FDCWD, path, stat_into(mount, inner, 0, st), next_stat(path, st));
}
int stat64(const char *path, struct stat64 *st) {
  NEXT(stat64);
  ROUTED(AT_FDCWD, path, stat_into(mount, inner, 0, (struct stat *)st), next_stat64(path, st));
}
int lstat(const char *path, struct stat *st) {
  NEXT(lstat);
  ROUTED(AT_FDCWD, path, stat_into(mount, inner, 1, st), next_lstat(path, st));
}
int lstat64(const char *path, struct stat64 *st) {
  NEXT(lstat64);
  ROUTED(AT_FDCWD, path, stat_into(mount, inner, 1, (struct stat *)st), next_lstat64(path, st));
}

static int empty_path_fstat(int dirfd, const char *path, int flags, struct stat *st, int *handled) {
  *handled = 0;
  if (!(flags & AT_EMPTY_PATH) || path == NULL || path[0] != '\0') return 0;
  if (dirfd == AT_FDCWD) {
    if (dn_cwd_mount < 0) return 0;
    *handled = 1;
    return (int)stat_into(dn_cwd_mount, dn_cwd_inner, 0, st);
  }
  if (dn_get(dirfd) == NULL) return 0;
  *handled = 1;
  return dn_fstat_locked(dirfd, st);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  NEXT(fstatat);
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) return next_fstatat(dirfd, path, st, flags);
  if (dn_surely_kernel(dirfd, path)) return next_fstatat(dirfd, path, st, flags);
  LOCK();
  int handled;
  int r = empty_path_fstat(dirfd, path, flags, st, &handled);
  UNLOCK();
  if (handled) return (int)dn_ret(r);
  ROUTED(dirfd, path, stat_into(mount, inner, flags & AT_SYMLINK_NOFOLLOW, st), next_fstatat(dirfd, path, st, flags));
}
int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
  return fstatat(dirfd, path, (struct stat *)st, flags);
}
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
  (void)ver;
  return fstatat(dirfd, path, st, flags);
}

static void to_statx(const struct stat *st, struct statx *sx) {
  memset(sx, 0, sizeof *sx);
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_blksize = (uint32_t)st->st_blksize;
  sx->stx_nlink = (uint32_t)st->st_nlink;
  sx->stx_uid = st->st_uid;
  sx->stx_gid = st->st_gid;
  sx->stx_mode = (uint16_t)st->st_mode;
  sx->stx_ino = st->st_ino;
  sx->stx_size = (uint64_t)st->st_size;
  sx->stx_blocks = (uint64_t)st->st_blocks;
  sx->stx_atime.tv_sec = st->st_atim.tv_sec;
  sx->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
  sx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
  sx->stx_mtime.tv_nsec = (uint32_t)st->st_mtim.tv_nsec;
  sx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
  sx->stx_ctime.tv_nsec = (uint32_t)st->st_ctim.tv_nsec;
  sx->stx_rdev_major = major(st->st_rdev);
  sx->stx_rdev_minor = minor(st->st_rdev);
  sx->stx_dev_major = major(st->st_dev);
  sx->stx_dev_minor = minor(st->st_dev);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *sx) {
  NEXT(statx);
  if (dn_surely_kernel(dirfd, path)) return next_statx(dirfd, path, flags, mask, sx);
  struct stat st;
  LOCK();
  int handled;
  int r = empty_path_fstat(dirfd, path, flags, &st, &handled);
  UNLOCK();
  if (handled) {
    if (r == 0) to_statx(&st, sx);
    return (int)dn_ret(r);
  }
  char inner[DN_PATH_MAX];
  LOCK();
  int mount = dn_route(dirfd, path, inner);
  if (mount == -1) {
    UNLOCK();
    return next_statx(dirfd, path, flags, mask, sx);
  }
  /* AT_STATX_FORCE_SYNC asks the service, as it makes the kernel ask a FUSE server. */
  if (mount >= 0 && (flags & AT_STATX_SYNC_TYPE) == AT_STATX_FORCE_SYNC) dn_attrs_forget(mount, inner, flags & AT_SYMLINK_NOFOLLOW);
  int64_t res = mount == -2 ? -errno : stat_into(mount, inner, flags & AT_SYMLINK_NOFOLLOW, &st);
  UNLOCK();
  if (res == 0) to_statx(&st, sx);
  return (int)dn_ret(res);
}

/* ---- access ---- */

static int64_t access_call(int mount, const char *inner, int mode) {
  if (mode & ~(R_OK | W_OK | X_OK)) return -EINVAL;
  int64_t extra[1] = {mode};
  return path_call(DANAUS_OP_ACCESS, mount, inner, NULL, 1, extra, NULL);
}
int access(const char *path, int mode) {
  NEXT(access);
  ROUTED(AT_FDCWD, path, access_call(mount, inner, mode), next_access(path, mode));
}
int faccessat(int dirfd, const char *path, int mode, int flags) {
  NEXT(faccessat);
  ROUTED(dirfd, path, access_call(mount, inner, mode), next_faccessat(dirfd, path, mode, flags));
}
int eaccess(const char *path, int mode) {
  NEXT(eaccess);
  ROUTED(AT_FDCWD, path, access_call(mount, inner, mode), next_eaccess(path, mode));
}
int euidaccess(const char *path, int mode) {
  NEXT(euidaccess);
  ROUTED(AT_FDCWD, path, access_call(mount, inner, mode), next_euidaccess(path, mode));
}

/* ---- names ---- */

static int64_t mkdir_call(int mount, const char *inner, mode_t mode) {
  int64_t extra[1] = {mode & 07777 & ~dn_umask};
  return path_call(DANAUS_OP_MKDIR, mount, inner, NULL, 1, extra, NULL);
}
int mkdir(const char *path, mode_t mode) {
  NEXT(mkdir);
  ROUTED(AT_FDCWD, path, mkdir_call(mount, inner, mode), next_mkdir(path, mode));
}
int mkdirat(int dirfd, const char *path, mode_t mode) {
  NEXT(mkdirat);
  ROUTED(dirfd, path, mkdir_call(mount, inner, mode), next_mkdirat(dirfd, path, mode));
}
int rmdir(const char *path) {
  NEXT(rmdir);
  ROUTED(AT_FDCWD, path, path_call(DANAUS_OP_RMDIR, mount, inner, NULL, 0, NULL, NULL), next_rmdir(path));
}
int unlink(const char *path) {
  NEXT(unlink);
  ROUTED(AT_FDCWD, path, path_call(DANAUS_OP_UNLINK, mount, inner, NULL, 0, NULL, NULL), next_unlink(path));
}
int unlinkat(int dirfd, const char *path, int flags) {
  NEXT(unlinkat);
  ROUTED(dirfd, path,
         (flags & ~AT_REMOVEDIR) ? -EINVAL : path_call(flags & AT_REMOVEDIR ? DANAUS_OP_RMDIR : DANAUS_OP_UNLINK, mount, inner, NULL, 0, NULL, NULL),
         next_unlinkat(dirfd, path, flags));
}
int remove(const char *path) {
  NEXT(remove);
  char inner[DN_PATH_MAX];
  LOCK();
  int mount = dn_route(AT_FDCWD, path, inner);
  if (mount == -1) {
    UNLOCK();
    return next_remove(path);
  }
  int64_t r = mount == -2 ? -errno : path_call(DANAUS_OP_UNLINK, mount, inner, NULL, 0, NULL, NULL);
  if (r == -EISDIR) r = path_call(DANAUS_OP_RMDIR, mount, inner, NULL, 0, NULL, NULL);
  UNLOCK();
  return (int)dn_ret(r);
}

/** Two-path operations: both under the same mount go to the service; one private and one not is EXDEV. */
static int two_paths(uint32_t op, int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int64_t flag, int nflag, int *kernel) {
  *kernel = dn_surely_kernel(olddirfd, oldpath) && dn_surely_kernel(newdirfd, newpath);
  if (*kernel) return 0;
  char a[DN_PATH_MAX], b[DN_PATH_MAX];
  LOCK();
  int ma = dn_route(olddirfd, oldpath, a);
  int mb = ma == -2 ? -2 : dn_route(newdirfd, newpath, b);
  int64_t r;
  if (ma == -1 && mb == -1) {
    *kernel = 1;
    r = 0;
  } else if (ma == -2 || mb == -2) {
    r = -errno;
  } else if (ma != mb) {
    r = -EXDEV;
  } else {
    r = path_call(op, ma, a, b, nflag, &flag, NULL);
  }
  UNLOCK();
  return (int)r;
}

int rename(const char *oldpath, const char *newpath) {
  NEXT(rename);
  int kernel;
  int r = two_paths(DANAUS_OP_RENAME, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0, 1, &kernel);
  return kernel ? next_rename(oldpath, newpath) : (int)dn_ret(r);
}
int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
  NEXT(renameat);
  int kernel;
  int r = two_paths(DANAUS_OP_RENAME, olddirfd, oldpath, newdirfd, newpath, 0, 1, &kernel);
  return kernel ? next_renameat(olddirfd, oldpath, newdirfd, newpath) : (int)dn_ret(r);
}
int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
  NEXT(renameat2);
  int kernel;
  int r = two_paths(DANAUS_OP_RENAME, olddirfd, oldpath, newdirfd, newpath, flags, 1, &kernel);
  return kernel ? next_renameat2(olddirfd, oldpath, newdirfd, newpath, flags) : (int)dn_ret(r);
}
int link(const char *oldpath, const char *newpath) {
  NEXT(link);
  int kernel;
  int r = two_paths(DANAUS_OP_LINK, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0, 0, &kernel);
  return kernel ? next_link(oldpath, newpath) : (int)dn_ret(r);
}
int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags) {
  NEXT(linkat);
  int kernel;
  int r = two_paths(DANAUS_OP_LINK, olddirfd, oldpath, newdirfd, newpath, 0, 0, &kernel);
  return kernel ? next_linkat(olddirfd, oldpath, newdirfd, newpath, flags) : (int)dn_ret(r);
}

/* The target of a symlink is stored as given; only the link's own path is routed. */
int symlink(const char *target, const char *linkpath) {
  NEXT(symlink);
  ROUTED(AT_FDCWD, linkpath, path_call(DANAUS_OP_SYMLINK, mount, target, inner, 0, NULL, NULL), next_symlink(target, linkpath));
}
int symlinkat(const char *target, int dirfd, const char *linkpath) {
  NEXT(symlinkat);
  ROUTED(dirfd, linkpath, path_call(DANAUS_OP_SYMLINK, mount, target, inner, 0, NULL, NULL), next_symlinkat(target, dirfd, linkpath));
}

static int64_t readlink_call(int mount, const char *inner, char *buf, size_t size) {
  if ((ssize_t)size <= 0) return -EINVAL;
  int64_t r = path_call(DANAUS_OP_READLINK, mount, inner, NULL, 0, NULL, NULL);
  if (r < 0) return r;
  size_t n = (size_t)r < size ? (size_t)r : size;
  memcpy(buf, dn_buf, n);
  return (int64_t)n;
}
ssize_t readlink(const char *path, char *buf, size_t size) {
  NEXT(readlink);
  ROUTED(AT_FDCWD, path, readlink_call(mount, inner, buf, size), next_readlink(path, buf, size));
}
ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size) {
  NEXT(readlinkat);
  ROUTED(dirfd, path, readlink_call(mount, inner, buf, size), next_readlinkat(dirfd, path, buf, size));
}

/* ---- attributes ---- */

static int64_t chmod_call(int mount, const char *inner, mode_t mode) {
  int64_t extra[1] = {mode & 07777};
  return path_call(DANAUS_OP_CHMOD, mount, inner, NULL, 1, extra, NULL);
}
int chmod(const char *path, mode_t mode) {
  NEXT(chmod);
  ROUTED(AT_FDCWD, path, chmod_call(mount, inner, mode), next_chmod(path, mode));
}
/** chmod that does not follow a final symlink: EOPNOTSUPP for a symlink (Linux cannot change its mode), else chmod. */
static int64_t lchmod_call(int mount, const char *inner, mode_t mode) {
  struct stat st;
  int64_t r = stat_into(mount, inner, 1, &st);
  if (r < 0) return r;
  return S_ISLNK(st.st_mode) ? -EOPNOTSUPP : chmod_call(mount, inner, mode);
}
int fchmodat(int dirfd, const char *path, mode_t mode, int flags) {
  NEXT(fchmodat);
  ROUTED(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? lchmod_call(mount, inner, mode) : chmod_call(mount, inner, mode), next_fchmodat(dirfd, path, mode, flags));
}

/** The path of private descriptor `fd` (mount and inner path), for calls the protocol only has by path. */
static int fd_path(int fd, int *mount, char *inner) {
  struct dn_file *f = dn_get(fd);
  if (f == NULL) return -1;
  *mount = f->mount;
  strcpy(inner, f->path);
  return 0;
}

#define BY_FD(fd, expr, kernel) \
  do { \
    char inner[DN_PATH_MAX]; \
    int mount; \
    LOCK(); \
    if (fd_path((fd), &mount, inner) < 0) { \
      UNLOCK(); \
      return (kernel); \
    } \
    int64_t r_ = dn_connect() < 0 ? -errno : (int64_t)(expr); \
    UNLOCK(); \
    return dn_ret(r_); \
  } while (0)

int fchmod(int fd, mode_t mode) {
  NEXT(fchmod);
  BY_FD(fd, chmod_call(mount, inner, mode), next_fchmod(fd, mode));
}

static int64_t chown_call(int mount, const char *inner, uid_t uid, gid_t gid, int nofollow) {
  int64_t extra[3] = {uid == (uid_t)-1 ? -1 : (int64_t)uid, gid == (gid_t)-1 ? -1 : (int64_t)gid, nofollow ? AT_SYMLINK_NOFOLLOW : 0};
  return path_call(DANAUS_OP_CHOWN, mount, inner, NULL, 3, extra, NULL);
}
int chown(const char *path, uid_t uid, gid_t gid) {
  NEXT(chown);
  ROUTED(AT_FDCWD, path, chown_call(mount, inner, uid, gid, 0), next_chown(path, uid, gid));
}
int lchown(const char *path, uid_t uid, gid_t gid) {
  NEXT(lchown);
  ROUTED(AT_FDCWD, path, chown_call(mount, inner, uid, gid, 1), next_lchown(path, uid, gid));
}
int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags) {
  NEXT(fchownat);
  ROUTED(dirfd, path, chown_call(mount, inner, uid, gid, flags & AT_SYMLINK_NOFOLLOW), next_fchownat(dirfd, path, uid, gid, flags));
}
int fchown(int fd, uid_t uid, gid_t gid) {
  NEXT(fchown);
  BY_FD(fd, chown_call(mount, inner, uid, gid, 0), next_fchown(fd, uid, gid));
}

static int64_t utimens_call(int mount, const char *inner, const struct timespec *times, int flags) {
  struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  const struct timespec *t = times ? times : now;
  int64_t extra[5] = {t[0].tv_sec, t[0].tv_nsec, t[1].tv_sec, t[1].tv_nsec, flags & AT_SYMLINK_NOFOLLOW};
  for (int i = 0; i < 2; i++) {
    long ns = t[i].tv_nsec;
    if (ns != UTIME_NOW && ns != UTIME_OMIT && (ns < 0 || ns >= 1000000000L)) return -EINVAL;
  }
  return path_call(DANAUS_OP_UTIMENS, mount, inner, NULL, 5, extra, NULL);
}
int utimensat(int dirfd, const char *path, const struct timespec times[2], int flags) {
  NEXT(utimensat);
  const char *volatile given = path; /* glibc declares path nonnull, yet utimensat(fd, NULL, ...) is futimens */
  if (given == NULL) return futimens(dirfd, times);
  ROUTED(dirfd, path, utimens_call(mount, inner, times, flags), next_utimensat(dirfd, path, times, flags));
}
int futimens(int fd, const struct timespec times[2]) {
  NEXT(futimens);
  BY_FD(fd, utimens_call(mount, inner, times, 0), next_futimens(fd, times));
}
static const struct timespec *from_timevals(const struct timeval *tv, struct timespec *ts) {
  if (tv == NULL) return NULL;
  for (int i = 0; i < 2; i++) {
    ts[i].tv_sec = tv[i].tv_sec;
    ts[i].tv_nsec = tv[i].tv_usec * 1000;
  }
  return ts;
}
int utimes(const char *path, const struct timeval tv[2]) {
  NEXT(utimes);
  struct timespec ts[2];
  ROUTED(AT_FDCWD, path, utimens_call(mount, inner, from_timevals(tv, ts), 0), next_utimes(path, tv));
}
int lutimes(const char *path, const struct timeval tv[2]) {
  NEXT(lutimes);
  struct timespec ts[2];
  ROUTED(AT_FDCWD, path, utimens_call(mount, inner, from_timevals(tv, ts), AT_SYMLINK_NOFOLLOW), next_lutimes(path, tv));
}
int futimes(int fd, const struct timeval tv[2]) {
  NEXT(futimes);
  struct timespec ts[2];
  BY_FD(fd, utimens_call(mount, inner, from_timevals(tv, ts), 0), next_futimes(fd, tv));
}
int utime(const char *path, const struct utimbuf *times) {
  NEXT(utime);
  struct timespec ts[2];
  if (times) {
    ts[0] = (struct timespec){times->actime, 0};
    ts[1] = (struct timespec){times->modtime, 0};
  }
  ROUTED(AT_FDCWD, path, utimens_call(mount, inner, times ? ts : NULL, 0), next_utime(path, times));
}

static int64_t truncate_call(int mount, const char *inner, off_t length) {
  if (length < 0) return -EINVAL;
  int64_t extra[1] = {length};
  return path_call(DANAUS_OP_TRUNCATE, mount, inner, NULL, 1, extra, NULL);
}
int truncate(const char *path, off_t length) {
  NEXT(truncate);
  ROUTED(AT_FDCWD, path, truncate_call(mount, inner, length), next_truncate(path, length));
}
int truncate64(const char *path, off64_t length) {
  NEXT(truncate64);
  ROUTED(AT_FDCWD, path, truncate_call(mount, inner, length), next_truncate64(path, length));
}

/* ---- filesystem statistics ---- */

static int64_t statfs_call(int mount, const char *inner, struct statfs *out) {
  uint32_t reply;
  int64_t r = path_call(DANAUS_OP_STATFS, mount, inner, NULL, 0, NULL, &reply);
  if (r < 0) return r;
  if (reply < sizeof(struct danaus_statfs)) return -EIO;
  memcpy(out, dn_buf, sizeof *out);
  return 0;
}
_Static_assert(sizeof(struct statfs) == sizeof(struct danaus_statfs), "struct statfs is the wire statfs");

static void to_statvfs(const struct statfs *s, struct statvfs *v) {
  memset(v, 0, sizeof *v);
  v->f_bsize = (unsigned long)s->f_bsize;
  v->f_frsize = (unsigned long)(s->f_frsize ? s->f_frsize : s->f_bsize);
  v->f_blocks = s->f_blocks;
  v->f_bfree = s->f_bfree;
  v->f_bavail = s->f_bavail;
  v->f_files = s->f_files;
  v->f_ffree = s->f_ffree;
  v->f_favail = s->f_ffree;
  memcpy(&v->f_fsid, &s->f_fsid, sizeof v->f_fsid < sizeof s->f_fsid ? sizeof v->f_fsid : sizeof s->f_fsid);
  v->f_flag = (unsigned long)s->f_flags;
  v->f_namemax = (unsigned long)s->f_namelen;
}

int statfs(const char *path, struct statfs *out) {
  NEXT(statfs);
  ROUTED(AT_FDCWD, path, statfs_call(mount, inner, out), next_statfs(path, out));
}
int statfs64(const char *path, struct statfs64 *out) {
  NEXT(statfs64);
  ROUTED(AT_FDCWD, path, statfs_call(mount, inner, (struct statfs *)out), next_statfs64(path, out));
}
int fstatfs(int fd, struct statfs *out) {
  NEXT(fstatfs);
  BY_FD(fd, statfs_call(mount, inner, out), next_fstatfs(fd, out));
}
int fstatfs64(int fd, struct statfs64 *out) {
  NEXT(fstatfs64);
  BY_FD(fd, statfs_call(mount, inner, (struct statfs *)out), next_fstatfs64(fd, out));
}
static int64_t statvfs_call(int mount, const char *inner, struct statvfs *out) {
  struct statfs s;
  int64_t r = statfs_call(mount, inner, &s);
  if (r == 0) to_statvfs(&s, out);
  return r;
}
int statvfs(const char *path, struct statvfs *out) {
  NEXT(statvfs);
  ROUTED(AT_FDCWD, path, statvfs_call(mount, inner, out), next_statvfs(path, out));
}
int statvfs64(const char *path, struct statvfs64 *out) {
  NEXT(statvfs64);
  ROUTED(AT_FDCWD, path, statvfs_call(mount, inner, (struct statvfs *)out), next_statvfs64(path, out));
}
int fstatvfs(int fd, struct statvfs *out) {
  NEXT(fstatvfs);
  BY_FD(fd, statvfs_call(mount, inner, out), next_fstatvfs(fd, out));
}
int fstatvfs64(int fd, struct statvfs64 *out) {
  NEXT(fstatvfs64);
  BY_FD(fd, statvfs_call(mount, inner, (struct statvfs *)out), next_fstatvfs64(fd, out));
}

/* ---- special files ---- */

static int64_t mknod_call(int mount, const char *inner, mode_t mode, dev_t dev) {
  /* The device number goes as makedev(3) gives it; the service makes a device only for a caller allowed to. */
  int64_t extra[2] = {(mode & S_IFMT) | (mode & 07777 & ~dn_umask), (int64_t)dev};
  return path_call(DANAUS_OP_MKNOD, mount, inner, NULL, 2, extra, NULL);
}
int mknod(const char *path, mode_t mode, dev_t dev) {
  NEXT(mknod);
  ROUTED(AT_FDCWD, path, mknod_call(mount, inner, mode, dev), next_mknod(path, mode, dev));
}
int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev) {
  NEXT(mknodat);
  ROUTED(dirfd, path, mknod_call(mount, inner, mode, dev), next_mknodat(dirfd, path, mode, dev));
}
int mkfifo(const char *path, mode_t mode) {
  NEXT(mkfifo);
  ROUTED(AT_FDCWD, path, mknod_call(mount, inner, S_IFIFO | (mode & 07777), 0), next_mkfifo(path, mode));
}
int mkfifoat(int dirfd, const char *path, mode_t mode) {
  NEXT(mkfifoat);
  ROUTED(dirfd, path, mknod_call(mount, inner, S_IFIFO | (mode & 07777), 0), next_mkfifoat(dirfd, path, mode));
}

/* ---- extended attributes: the answers of a filesystem without xattr support ---- */

#define NO_XATTR_PATH(call, kernel) \
  do { \
    NEXT(call); \
    if (dn_surely_kernel(AT_FDCWD, path)) return kernel; \
    char inner[DN_PATH_MAX]; \
    LOCK(); \
    int mount = dn_route(AT_FDCWD, path, inner); \
    UNLOCK(); \
    if (mount == -1) return kernel; \
    errno = mount == -2 ? errno : ENOTSUP; \
    return -1; \
  } while (0)
#define NO_XATTR_FD(call, kernel) \
  do { \
    NEXT(call); \
    if (dn_get(fd) == NULL) return kernel; \
    errno = ENOTSUP; \
    return -1; \
  } while (0)

ssize_t getxattr(const char *path, const char *name, void *value, size_t size) { NO_XATTR_PATH(getxattr, next_getxattr(path, name, value, size)); }
ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size) { NO_XATTR_PATH(lgetxattr, next_lgetxattr(path, name, value, size)); }
ssize_t fgetxattr(int fd, const char *name, void *value, size_t size) { NO_XATTR_FD(fgetxattr, next_fgetxattr(fd, name, value, size)); }
int setxattr(const char *path, const char *name, const void *value, size_t size, int flags) { NO_XATTR_PATH(setxattr, next_setxattr(path, name, value, size, flags)); }
int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags) { NO_XATTR_PATH(lsetxattr, next_lsetxattr(path, name, value, size, flags)); }
int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) { NO_XATTR_FD(fsetxattr, next_fsetxattr(fd, name, value, size, flags)); }
ssize_t listxattr(const char *path, char *list, size_t size) { NO_XATTR_PATH(listxattr, next_listxattr(path, list, size)); }
ssize_t llistxattr(const char *path, char *list, size_t size) { NO_XATTR_PATH(llistxattr, next_llistxattr(path, list, size)); }
ssize_t flistxattr(int fd, char *list, size_t size) { NO_XATTR_FD(flistxattr, next_flistxattr(fd, list, size)); }
int removexattr(const char *path, const char *name) { NO_XATTR_PATH(removexattr, next_removexattr(path, name)); }
int lremovexattr(const char *path, const char *name) { NO_XATTR_PATH(lremovexattr, next_lremovexattr(path, name)); }
int fremovexattr(int fd, const char *name) { NO_XATTR_FD(fremovexattr, next_fremovexattr(fd, name)); }

/* ---- working directory ---- */

/**
 * Walks inner path `inner` of `mount` as the kernel walks a path: "." stays, ".." leaves the last directory actually
 * entered, each name is looked up (lstat) before the next. Returns 0 with the physical path inside the mount in
 * `done` ("/" for its root); 1 when a symlink was met, with `work` (DN_PATH_MAX) rewritten to the absolute path to
 * walk instead (the target in place of the link, the rest after it); or -errno. Holds dn_lock.
 */
static int64_t walk(int mount, const char *inner, char *done, char *work) {
  size_t len = 0;
  done[0] = '\0';
  for (const char *p = inner; *p;) {
    if (*p == '/') {
      p++;
      continue;
    }
    size_t n = strcspn(p, "/");
    const char *name = p;
    p += n;
    if (n == 1 && name[0] == '.') continue;
    if (n == 2 && name[0] == '.' && name[1] == '.') {
      while (len > 0 && done[len - 1] != '/') len--;
      if (len > 0) len--;
      done[len] = '\0';
      continue;
    }
    if (len + 1 + n >= DN_PATH_MAX) return -ENAMETOOLONG;
    done[len++] = '/';
    memcpy(done + len, name, n);
    len += n;
    done[len] = '\0';
    struct stat st;
    int64_t r = stat_into(mount, done, 1, &st);
    if (r < 0) return r;
    if (S_ISLNK(st.st_mode)) {
      r = path_call(DANAUS_OP_READLINK, mount, done, NULL, 0, NULL, NULL);
      if (r < 0) return r;
      if (r >= DN_PATH_MAX) return -ENAMETOOLONG;
      char target[DN_PATH_MAX], dir[DN_PATH_MAX];
      memcpy(target, dn_buf, (size_t)r);
      target[r] = '\0';
      len -= n + 1;
      done[len] = '\0';
      if (target[0] == '/') dir[0] = '\0';
      else if ((r = dn_absolute(mount, len > 0 ? done : "/", dir, sizeof dir)) < 0) return r;
      if (snprintf(work, DN_PATH_MAX, "%s%s%s%s", dir, dir[0] ? "/" : "", target, p) >= DN_PATH_MAX) return -ENAMETOOLONG;
      return 1;
    }
    if (*p && !S_ISDIR(st.st_mode)) return -ENOTDIR;
  }
  if (len == 0) strcpy(done, "/");
  return 0;
}

/**
 * Resolves absolute path `work` (DN_PATH_MAX, rewritten as links are followed) through the mounts: the mount, with
 * the physical path inside it in `done`; -1 when the path leaves every mount (`work` then holds the path left for the
 * kernel); -2 with errno set (ELOOP past 40 links). Holds dn_lock.
 */
static int resolve_locked(char *work, char *done) {
  char inner[DN_PATH_MAX];
  for (int links = 0; links <= 40; links++) {
    int mount = dn_route(AT_FDCWD, work, inner);
    if (mount < 0) return mount;
    int64_t r = walk(mount, inner, done, work);
    if (r == 0) return mount;
    if (r < 0) {
      errno = (int)-r;
      return -2;
    }
  }
  errno = ELOOP;
  return -2;
}

/**
 * Makes (mount, inner) the working directory, as the kernel would: the directory the path resolves to, named by its
 * physical path (so getcwd after a chdir through a symlink names the target); a symlink leading out of the mounts
 * makes the kernel's directory the working directory. Holds dn_lock.
 */
static int64_t enter(int mount, const char *inner) {
  char done[DN_PATH_MAX], work[DN_PATH_MAX];
  int64_t r = walk(mount, inner, done, work);
  if (r == 1) {
    mount = resolve_locked(work, done);
    if (mount == -2) return -errno;
    if (mount == -1) {
      if (syscall(SYS_chdir, work) < 0) return -errno;
      dn_cwd_mount = -1;
      dn_kernel_cwd_changed();
      return 0;
    }
    r = 0;
  }
  if (r < 0) return r;
  struct stat st;
  r = stat_into(mount, done, 0, &st);
  if (r < 0) return r;
  if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
  dn_cwd_mount = mount;
  strcpy(dn_cwd_inner, done);
  return 0;
}

int chdir(const char *path) {
  NEXT(chdir);
  char inner[DN_PATH_MAX];
  LOCK();
  int mount = dn_route(AT_FDCWD, path, inner);
  if (mount == -1) {
    UNLOCK();
    int r = next_chdir(path);
    if (r == 0) {
      LOCK();
      dn_cwd_mount = -1;
      dn_kernel_cwd_changed();
      UNLOCK();
    }
    return r;
  }
  int64_t r = mount == -2 ? -errno : enter(mount, inner);
  UNLOCK();
  return (int)dn_ret(r);
}

int fchdir(int fd) {
  NEXT(fchdir);
  char inner[DN_PATH_MAX];
  int mount;
  LOCK();
  if (fd_path(fd, &mount, inner) < 0) {
    UNLOCK();
    int r = next_fchdir(fd);
    if (r == 0) {
      LOCK();
      dn_cwd_mount = -1;
      dn_kernel_cwd_changed();
      UNLOCK();
    }
    return r;
  }
  int64_t r = dn_connect() < 0 ? -errno : enter(mount, inner);
  UNLOCK();
  return (int)dn_ret(r);
}

char *getcwd(char *buf, size_t size) {
  NEXT(getcwd);
  LOCK();
  if (dn_cwd_mount < 0) {
    UNLOCK();
    return next_getcwd(buf, size);
  }
  char abs[DN_PATH_MAX];
  int r = dn_connect() < 0 ? -errno : dn_absolute(dn_cwd_mount, dn_cwd_inner, abs, sizeof abs);
  UNLOCK();
  if (r < 0) {
    errno = -r;
    return NULL;
  }
  size_t need = strlen(abs) + 1;
  if (buf == NULL) {
    buf = malloc(size > need ? size : need);
    if (buf == NULL) return NULL;
    size = size > need ? size : need;
  }
  if (size == 0) {
    errno = EINVAL;
    return NULL;
  }
  if (need > size) {
    errno = ERANGE;
    return NULL;
  }
  memcpy(buf, abs, need);
  return buf;
}
char *get_current_dir_name(void) { return getcwd(NULL, 0); }

/* ---- realpath ---- */

/**
 * realpath of a private path: resolved as the kernel resolves one, a component at a time (symlinks first, so a ".."
 * after a link leaves the link's target), with relative targets against the link's directory and absolute ones from
 * the root: one that leaves the mounts continues on the kernel's side (*kernel set, the path left in `work`).
 */
static char *private_realpath(const char *path, char *resolved, int *kernel, char *work) {
  *kernel = 0;
  if (strlen(path) >= DN_PATH_MAX) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  strcpy(work, path);
  char done[DN_PATH_MAX], abs[DN_PATH_MAX];
  LOCK();
  int mount = resolve_locked(work, done);
  int r = mount < 0 ? 0 : dn_absolute(mount, done, abs, sizeof abs);
  UNLOCK();
  if (mount == -1) *kernel = 1;
  if (mount < 0) return NULL;
  if (r < 0 || (resolved != NULL && strlen(abs) >= PATH_MAX)) {
    errno = r < 0 ? -r : ENAMETOOLONG;
    return NULL;
  }
  if (resolved == NULL) return strdup(abs);
  return strcpy(resolved, abs);
}

char *realpath(const char *path, char *resolved) {
  NEXT(realpath);
  if (path == NULL) {
    errno = EINVAL;
    return NULL;
  }
  char absolute[DN_PATH_MAX];
  const char *start = path;
  if (path[0] != '/') {
    LOCK();
    int in_mount = dn_cwd_mount >= 0;
    int r = !in_mount ? 0 : dn_connect() < 0 ? -errno : dn_absolute(dn_cwd_mount, dn_cwd_inner, absolute, sizeof absolute);
    UNLOCK();
    if (!in_mount) return next_realpath(path, resolved);
    if (r < 0 || strlen(absolute) + 1 + strlen(path) >= sizeof absolute) {
      errno = ENAMETOOLONG;
      return NULL;
    }
    strcat(absolute, "/");
    strcat(absolute, path);
    start = absolute;
  }
  int kernel;
  char work[DN_PATH_MAX];
  char *out = private_realpath(start, resolved, &kernel, work);
  return kernel ? next_realpath(work, resolved) : out;
}
char *canonicalize_file_name(const char *path) { return realpath(path, NULL); }
