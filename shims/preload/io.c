/* io.c — the descriptor calls: the open family, close/close_range, dup/dup2/dup3, fcntl, read/write and their
 * positioned and vectored forms, lseek, fstat, ftruncate, fsync, and the calls that only need a kernel-like answer on
 * a private descriptor (ioctl, flock, fallocate, fadvise). copy_file_range and sendfile are in copy.c. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

_Static_assert(sizeof(struct stat) == sizeof(struct danaus_stat), "struct stat is the wire stat");

#define LOCK() pthread_mutex_lock(&dn_lock)
#define UNLOCK() pthread_mutex_unlock(&dn_lock)

/** The private file of `fd`, reopened first if it was inherited; NULL when `fd` is not private. *err gets -errno. */
static struct dn_file *fresh(int fd, int *err) {
  struct dn_file *f = dn_get(fd);
  *err = 0;
  if (f != NULL) dn_revive();
  if (f != NULL && f->handle < 0) *err = dn_refresh(f);
  return f;
}

/** A kernel call returned descriptor `fd`: a stale private entry under that number (closed behind our back) goes. */
static int kernel_fd(int fd) {
  if (fd >= 0 && dn_get(fd) != NULL) {
    LOCK();
    dn_unbind(fd);
    UNLOCK();
  }
  return fd;
}

/* ---- open ---- */

/** Opens inner path `inner` of `mount` for the program; returns the new private descriptor or -errno. Holds dn_lock. */
int dn_open_private(int mount, const char *inner, int flags, mode_t mode) {
  if (dn_shared_memory_child()) {
    dn_log("a vfork child cannot open %s on the user-level path before exec (ENOTSUP)", inner);
    return -ENOTSUP;
  }
  int written = dn_put_paths(inner, NULL);
  if (written < 0) return written;
  int creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
  int64_t args[3] = {mount, flags & ~O_CLOEXEC, creates ? (mode & 07777 & ~dn_umask) : 0};
  uint32_t reply;
  int64_t handle = dn_call(DANAUS_OP_OPEN, args, 3, dn_bufsize, &reply);
  if (handle < 0) return (int)handle;
  int64_t close_args[1] = {handle};
  if (reply == sizeof(struct danaus_fifo_node)) {
    /* A FIFO: the service names a kernel pipe node; the program gets a real kernel descriptor of it. */
    struct danaus_fifo_node node;
    memcpy(&node, dn_buf, sizeof node);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%u/fd/%d", node.pid, node.fd);
    int kfd = REAL(open)(proc, flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_DIRECTORY));
    int saved = errno;
    dn_call(DANAUS_OP_CLOSE, close_args, 1, 0, NULL);
    return kfd < 0 ? -saved : kfd;
  }
  int kfd = dn_placeholder(flags & O_CLOEXEC);
  if (kfd < 0) {
    int saved = errno;
    dn_call(DANAUS_OP_CLOSE, close_args, 1, 0, NULL);
    return -saved;
  }
  struct dn_file *f = calloc(1, sizeof *f);
  char *path = malloc(strlen(inner) + 2);
  if (path != NULL) dn_normalise(inner, path);
  if (f == NULL || path == NULL || dn_bind(kfd, f) < 0) {
    free(f);
    free(path);
    REAL(close)(kfd);
    dn_call(DANAUS_OP_CLOSE, close_args, 1, 0, NULL);
    return -ENOMEM;
  }
  f->mount = mount;
  f->handle = handle;
  f->is_dir = (flags & O_DIRECTORY) != 0;
  if (!(flags & (O_DIRECTORY | O_PATH))) f->slot = dn_position_new();
  f->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
  f->open_flags = flags;
  f->path = path;
  return kfd;
}

static int open_at(int dirfd, const char *path, int flags, mode_t mode) {
  if (dn_surely_kernel(dirfd, path)) return kernel_fd(REAL(openat)(dirfd, path, flags, mode));
  char inner[DN_PATH_MAX];
  LOCK();
  int mount = dn_route(dirfd, path, inner);
  if (mount == -1) {
    UNLOCK();
    return kernel_fd(REAL(openat)(dirfd, path, flags, mode));
  }
  int r = mount == -2 ? -errno : dn_open_private(mount, inner, flags, mode);
  UNLOCK();
  return (int)dn_ret(r);
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_at(AT_FDCWD, path, flags, mode);
}
int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_at(AT_FDCWD, path, flags, mode);
}
int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_at(dirfd, path, flags, mode);
}
int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_at(dirfd, path, flags, mode);
}
int __open_2(const char *path, int flags) { return open_at(AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags) { return open_at(AT_FDCWD, path, flags, 0); }
int __openat_2(int dirfd, const char *path, int flags) { return open_at(dirfd, path, flags, 0); }
int __openat64_2(int dirfd, const char *path, int flags) { return open_at(dirfd, path, flags, 0); }
int creat(const char *path, mode_t mode) { return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

/* ---- close and dup ---- */

int close(int fd) {
  /* The library's own descriptors survive a program closing them all. */
  if (fd >= 0 && (fd == dn_socket_fd || fd == dn_positions_fd())) return 0;
  if (dn_get(fd) == NULL || dn_shared_memory_child()) return REAL(close)(fd);
  dn_stdio_before(fd);
  LOCK();
  int r = REAL(close)(fd);
  dn_unbind(fd);
  UNLOCK();
  dn_stdio_follow(fd);
  return r;
}

static void unbind_range(int fd, struct dn_file *f, void *arg) {
  unsigned *range = arg;
  (void)f;
  if ((unsigned)fd >= range[0] && (unsigned)fd <= range[1]) dn_unbind(fd);
}

int close_range(unsigned first, unsigned last, int flags) {
  if (first > last) {
    errno = EINVAL;
    return -1;
  }
  int r = 0;
  int keep_tables = dn_shared_memory_child();
  LOCK();
  /* Close around the library's own descriptors (the socket and the positions page), lowest first. */
  int own[2] = {dn_socket_fd, dn_positions_fd()};
  if (own[0] > own[1]) {
    int t = own[0];
    own[0] = own[1];
    own[1] = t;
  }
  unsigned from = first;
  for (int i = 0; i < 2 && r == 0; i++) {
    if (own[i] < 0 || (unsigned)own[i] < from || (unsigned)own[i] > last) continue;
    if ((unsigned)own[i] > from) r = REAL(close_range)(from, (unsigned)own[i] - 1, flags);
    from = (unsigned)own[i] + 1;
  }
  if (r == 0 && from <= last && from != 0) r = REAL(close_range)(from, last, flags);
  else if (r == 0 && from == 0) r = REAL(close_range)(first, last, flags);
  int saved = errno;
  if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC) && !keep_tables) {
    unsigned range[2] = {first, last};
    dn_each(unbind_range, range);
  }
  UNLOCK();
  errno = saved;
  return r;
}

void closefrom(int lowfd) {
  if (lowfd < 0) lowfd = 0;
  close_range((unsigned)lowfd, ~0u, 0);
}

/** After a kernel dup of `oldfd` gave `newfd`: makes newfd name the same private file. */
static int dup_bind(int oldfd, int newfd) {
  if (newfd < 0) return newfd;
  if ((dn_get(oldfd) != NULL || dn_get(newfd) != NULL) && dn_shared_memory_child()) return newfd;
  LOCK();
  struct dn_file *f = dn_get(oldfd);
  if (f != NULL) {
    if (newfd != oldfd) dn_bind(newfd, f);
  } else if (dn_get(newfd) != NULL) {
    dn_unbind(newfd);
  }
  UNLOCK();
  return newfd;
}

int dup(int fd) { return dup_bind(fd, REAL(dup)(fd)); }

/** dup2/dup3 onto `newfd`: the library's socket is never replaced; a standard stream follows its descriptor. */
static int dup_onto(int oldfd, int newfd, int flags, int three) {
  if (newfd >= 0 && (newfd == dn_socket_fd || newfd == dn_positions_fd())) {
    errno = EBUSY;
    return -1;
  }
  int stdio = newfd >= 0 && newfd <= 2 && (dn_get(oldfd) != NULL || dn_get(newfd) != NULL) && !dn_shared_memory_child();
  if (stdio && oldfd != newfd) dn_stdio_before(newfd);
  int r = dup_bind(oldfd, three ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd));
  if (r >= 0 && stdio) dn_stdio_follow(newfd);
  return r;
}

int dup2(int oldfd, int newfd) { return dup_onto(oldfd, newfd, 0, 0); }
int dup3(int oldfd, int newfd, int flags) { return dup_onto(oldfd, newfd, flags, 1); }

/* ---- fcntl ---- */

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

static int do_fcntl(int fd, int cmd, void *arg) {
  struct dn_file *f = dn_get(fd);
  if (f == NULL) {
    int r = REAL(fcntl)(fd, cmd, arg);
    if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0) kernel_fd(r);
    return r;
  }
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return dup_bind(fd, REAL(fcntl)(fd, cmd, arg));
    case F_GETFD:
    case F_SETFD:
      return REAL(fcntl)(fd, cmd, arg);
    case F_GETFL:
      return f->flags;
    case F_SETFL: {
      LOCK();
      f->flags = (f->flags & ~SETFL_MASK) | ((int)(intptr_t)arg & SETFL_MASK);
      UNLOCK();
      return 0;
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return dn_fcntl_lock(fd, cmd, arg);
    default:
      errno = EINVAL;
      return -1;
  }
}

int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return do_fcntl(fd, cmd, arg);
}
int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return do_fcntl(fd, cmd, arg);
}

/* ---- read and write ---- */

static int private_fstat(struct dn_file *f, struct stat *st);

/** Reads up to `count` bytes at `offset` (-1: at the file position). Holds dn_lock. */
static ssize_t private_read(struct dn_file *f, void *out, size_t count, int64_t offset) {
  if ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH)) return -EBADF;
  if (offset < -1) return -EINVAL;
  if (count > SSIZE_MAX) count = SSIZE_MAX;
  size_t done = 0;
  do {
    uint32_t want = count - done > dn_bufsize ? dn_bufsize : (uint32_t)(count - done);
    int64_t args[3] = {f->handle, want, offset < 0 ? 0 : offset + (int64_t)done};
    int64_t r = offset < 0 ? dn_call(DANAUS_OP_READ, args, 2, want, NULL) : dn_call(DANAUS_OP_PREAD, args, 3, want, NULL);
    if (r < 0) return done > 0 ? (ssize_t)done : r;
    if ((uint64_t)r > want) return -EIO;
    memcpy((char *)out + done, dn_buf, (size_t)r);
    done += (size_t)r;
    if ((uint32_t)r < want) break;
  } while (done < count);
  return (ssize_t)done;
}

/** Writes `count` bytes at `offset` (-1: at the file position, or the end for O_APPEND). Holds dn_lock. */
static ssize_t private_write(struct dn_file *f, const void *data, size_t count, int64_t offset) {
  if ((f->flags & O_ACCMODE) == O_RDONLY || (f->flags & O_PATH)) return -EBADF;
  if (offset < -1) return -EINVAL;
  if (count > SSIZE_MAX) count = SSIZE_MAX;
  size_t done = 0;
  do {
    uint32_t size = count - done > dn_bufsize ? dn_bufsize : (uint32_t)(count - done);
    if (offset < 0 && (f->flags & O_APPEND) && !(f->open_flags & O_APPEND)) {
      /* O_APPEND set later with F_SETFL: the service handle does not append by itself. */
      int64_t seek[3] = {f->handle, 0, SEEK_END};
      int64_t at = dn_call(DANAUS_OP_LSEEK, seek, 3, 0, NULL);
      if (at < 0) return done > 0 ? (ssize_t)done : at;
    }
    int64_t at = offset < 0 ? 0 : offset + (int64_t)done;
    if (offset >= 0 && (f->flags & O_APPEND) && !(f->open_flags & O_APPEND)) {
      /* Linux's pwrite on an O_APPEND file appends, whatever the offset. */
      struct stat st;
      int r = private_fstat(f, &st);
      if (r < 0) return done > 0 ? (ssize_t)done : r;
      at = st.st_size;
    }
    memcpy(dn_buf, (const char *)data + done, size);
    int64_t args[2] = {f->handle, at};
    int64_t r = offset < 0 ? dn_call(DANAUS_OP_WRITE, args, 1, size, NULL) : dn_call(DANAUS_OP_PWRITE, args, 2, size, NULL);
    if (r < 0) return done > 0 ? (ssize_t)done : r;
    done += (size_t)r;
    if ((uint32_t)r < size) break;
  } while (done < count);
  return (ssize_t)done;
}

#define PRIVATE_IO(fd, call) \
  do { \
    if (dn_get(fd) != NULL) { \
      LOCK(); \
      int err_; \
      struct dn_file *f = fresh(fd, &err_); \
      ssize_t r_ = f == NULL ? -EBADF : err_ < 0 ? err_ : (call); \
      UNLOCK(); \
      return (ssize_t)dn_ret(r_); \
    } \
  } while (0)

/** Reads or writes (`writing`) a vector (one buffer when `single`) at the file position, which moves by what was
 * transferred. */
static ssize_t at_position(struct dn_file *f, const struct iovec *iov, int iovcnt, int writing, int single);

ssize_t read(int fd, void *buf, size_t count) {
  struct iovec one = {buf, count};
  PRIVATE_IO(fd, at_position(f, &one, 1, 0, 1));
  return REAL(read)(fd, buf, count);
}
ssize_t write(int fd, const void *buf, size_t count) {
  struct iovec one = {(void *)buf, count};
  PRIVATE_IO(fd, at_position(f, &one, 1, 1, 1));
  return REAL(write)(fd, buf, count);
}
ssize_t pread(int fd, void *buf, size_t count, off_t offset) {
  PRIVATE_IO(fd, private_read(f, buf, count, offset < 0 ? -2 : offset));
  NEXT(pread);
  return next_pread(fd, buf, count, offset);
}
ssize_t pread64(int fd, void *buf, size_t count, off64_t offset) {
  PRIVATE_IO(fd, private_read(f, buf, count, offset < 0 ? -2 : offset));
  NEXT(pread64);
  return next_pread64(fd, buf, count, offset);
}
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
  PRIVATE_IO(fd, private_write(f, buf, count, offset < 0 ? -2 : offset));
  NEXT(pwrite);
  return next_pwrite(fd, buf, count, offset);
}
ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
  PRIVATE_IO(fd, private_write(f, buf, count, offset < 0 ? -2 : offset));
  NEXT(pwrite64);
  return next_pwrite64(fd, buf, count, offset);
}
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen) {
  if (count > buflen) abort();
  return read(fd, buf, count);
}
ssize_t __pread_chk(int fd, void *buf, size_t count, off_t offset, size_t buflen) {
  if (count > buflen) abort();
  return pread(fd, buf, count, offset);
}
ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t offset, size_t buflen) {
  if (count > buflen) abort();
  return pread64(fd, buf, count, offset);
}

/** readv/preadv: one read into the request buffer when it fits, scattered afterwards. Holds dn_lock. */
static ssize_t private_readv(struct dn_file *f, const struct iovec *iov, int iovcnt, int64_t offset) {
  if (iovcnt < 0 || iovcnt > IOV_MAX) return -EINVAL;
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++) {
    if (iov[i].iov_len > SSIZE_MAX - total) return -EINVAL;
    total += iov[i].iov_len;
  }
  ssize_t done = 0;
  for (int i = 0; i < iovcnt; i++) {
    if (iov[i].iov_len == 0) continue;
    ssize_t r = private_read(f, iov[i].iov_base, iov[i].iov_len, offset < 0 ? offset : offset + done);
    if (r < 0) return done > 0 ? done : r;
    done += r;
    if ((size_t)r < iov[i].iov_len) break;
  }
  if (total == 0) return private_read(f, NULL, 0, offset);
  return done;
}

/** writev/pwritev: gathered into the request buffer, so a vector that fits is written by one request. Holds dn_lock. */
static ssize_t private_writev(struct dn_file *f, const struct iovec *iov, int iovcnt, int64_t offset) {
  if (iovcnt < 0 || iovcnt > IOV_MAX) return -EINVAL;
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++) {
    if (iov[i].iov_len > SSIZE_MAX - total) return -EINVAL;
    total += iov[i].iov_len;
  }
  if (total <= dn_bufsize) {
    char *gathered = malloc(total ? total : 1);
    if (gathered == NULL) return -ENOMEM;
    size_t at = 0;
    for (int i = 0; i < iovcnt; i++) {
      memcpy(gathered + at, iov[i].iov_base, iov[i].iov_len);
      at += iov[i].iov_len;
    }
    ssize_t r = private_write(f, gathered, total, offset);
    free(gathered);
    return r;
  }
  ssize_t done = 0;
  for (int i = 0; i < iovcnt; i++) {
    ssize_t r = private_write(f, iov[i].iov_base, iov[i].iov_len, offset < 0 ? offset : offset + done);
    if (r < 0) return done > 0 ? done : r;
    done += r;
    if ((size_t)r < iov[i].iov_len) break;
  }
  return done;
}

static ssize_t at_position(struct dn_file *f, const struct iovec *iov, int iovcnt, int writing, int single) {
  if (f->slot == 0) {
    if (single) return writing ? private_write(f, iov->iov_base, iov->iov_len, -1) : private_read(f, iov->iov_base, iov->iov_len, -1);
    return writing ? private_writev(f, iov, iovcnt, -1) : private_readv(f, iov, iovcnt, -1);
  }
  if (writing && (f->flags & O_APPEND)) {
    /* Appends go to the service, which knows the end; the position follows them there. */
    ssize_t r = single ? private_write(f, iov->iov_base, iov->iov_len, -1) : private_writev(f, iov, iovcnt, -1);
    int64_t args[3] = {f->handle, 0, SEEK_END};
    int64_t end = dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
    if (end >= 0) dn_position_set(f->slot, end);
    return r;
  }
  /* The range is reserved before the call, so processes of the family that share the position (a shell's commands
   * writing one log at once, a forked child beside its parent's threads) never get the same offset; what a short or
   * failed call did not use goes back when nobody reserved after it. */
  if ((f->flags & O_PATH) || (f->flags & O_ACCMODE) == (writing ? O_RDONLY : O_WRONLY)) return -EBADF;
  size_t want = 0;
  if (single) want = iov->iov_len;
  else if (iovcnt > 0 && iovcnt <= IOV_MAX) {
    for (int i = 0; i < iovcnt && want <= DN_RESERVE_MAX; i++) want += iov[i].iov_len > DN_RESERVE_MAX ? DN_RESERVE_MAX : iov[i].iov_len;
  }
  if (want > DN_RESERVE_MAX) want = DN_RESERVE_MAX;
  int64_t position = dn_position_reserve(f->slot, (int64_t)want);
  ssize_t r;
  if (single) r = writing ? private_write(f, iov->iov_base, iov->iov_len, position) : private_read(f, iov->iov_base, iov->iov_len, position);
  else r = writing ? private_writev(f, iov, iovcnt, position) : private_readv(f, iov, iovcnt, position);
  int64_t used = r > 0 ? (int64_t)r : 0;
  if (used < (int64_t)want) dn_position_settle(f->slot, position + (int64_t)want, position + used);
  return r;
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt) {
  PRIVATE_IO(fd, at_position(f, iov, iovcnt, 0, 0));
  NEXT(readv);
  return next_readv(fd, iov, iovcnt);
}
ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
  PRIVATE_IO(fd, at_position(f, iov, iovcnt, 1, 0));
  NEXT(writev);
  return next_writev(fd, iov, iovcnt);
}
ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
  PRIVATE_IO(fd, private_readv(f, iov, iovcnt, offset < 0 ? -2 : offset));
  NEXT(preadv);
  return next_preadv(fd, iov, iovcnt, offset);
}
ssize_t preadv64(int fd, const struct iovec *iov, int iovcnt, off64_t offset) {
  PRIVATE_IO(fd, private_readv(f, iov, iovcnt, offset < 0 ? -2 : offset));
  NEXT(preadv64);
  return next_preadv64(fd, iov, iovcnt, offset);
}
ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
  PRIVATE_IO(fd, private_writev(f, iov, iovcnt, offset < 0 ? -2 : offset));
  NEXT(pwritev);
  return next_pwritev(fd, iov, iovcnt, offset);
}
ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t offset) {
  PRIVATE_IO(fd, private_writev(f, iov, iovcnt, offset < 0 ? -2 : offset));
  NEXT(pwritev64);
  return next_pwritev64(fd, iov, iovcnt, offset);
}
/* preadv2/pwritev2: offset -1 means the file position; RWF_* flags are hints the service does not take. */
ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags) {
  PRIVATE_IO(fd, offset == -1 ? at_position(f, iov, iovcnt, 0, 0) : private_readv(f, iov, iovcnt, offset < 0 ? -2 : offset));
  NEXT(preadv2);
  return next_preadv2(fd, iov, iovcnt, offset, flags);
}
ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags) {
  PRIVATE_IO(fd, offset == -1 ? at_position(f, iov, iovcnt, 1, 0) : private_writev(f, iov, iovcnt, offset < 0 ? -2 : offset));
  NEXT(pwritev2);
  return next_pwritev2(fd, iov, iovcnt, offset, flags);
}
ssize_t preadv64v2(int fd, const struct iovec *iov, int iovcnt, off64_t offset, int flags) { return preadv2(fd, iov, iovcnt, offset, flags); }
ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off64_t offset, int flags) { return pwritev2(fd, iov, iovcnt, offset, flags); }

/* ---- positions and attributes of open files ---- */

/** fstat into `st`. Holds dn_lock. */
static int private_fstat(struct dn_file *f, struct stat *st) {
  int64_t args[1] = {f->handle};
  uint32_t reply;
  int64_t r = dn_call(DANAUS_OP_FSTAT, args, 1, sizeof(struct danaus_stat), &reply);
  if (r < 0) return (int)r;
  if (reply < sizeof(struct danaus_stat)) return -EIO;
  memcpy(st, dn_buf, sizeof *st);
  return 0;
}

int dn_fstat_locked(int fd, struct stat *st) {
  int err;
  struct dn_file *f = fresh(fd, &err);
  if (f == NULL) return -EBADF;
  if (err < 0) return err;
  return private_fstat(f, st);
}

/** lseek on a file whose position is in the shared page. */
static off_t slot_lseek(struct dn_file *f, off_t offset, int whence) {
  int64_t base = 0;
  struct stat st;
  if (whence == SEEK_CUR) {
    base = dn_position_get(f->slot);
  } else if (whence == SEEK_END || whence == SEEK_DATA || whence == SEEK_HOLE) {
    int r = private_fstat(f, &st);
    if (r < 0) return r;
    base = st.st_size;
  } else if (whence != SEEK_SET) {
    return -EINVAL;
  }
  int64_t at;
  if (whence == SEEK_DATA || whence == SEEK_HOLE) {
    /* The service keeps no holes map: data runs from offset to the end, and the only hole is the end. */
    if (offset < 0 || offset >= st.st_size) return -ENXIO;
    at = whence == SEEK_DATA ? offset : st.st_size;
  } else {
    if (__builtin_add_overflow(base, (int64_t)offset, &at)) return -EOVERFLOW;
    if (at < 0) return -EINVAL;
  }
  dn_position_set(f->slot, at);
  return (off_t)at;
}

/**
 * lseek on a directory: its position is the cookie where getdents64 continues (dirs.c), as a kernel directory's is the
 * d_off of the last entry read. SEEK_SET and SEEK_CUR move it; other whences answer EINVAL, as tmpfs does.
 */
static off_t dir_lseek(struct dn_file *f, off_t offset, int whence) {
  int64_t at = offset;
  if (whence == SEEK_CUR) {
    if (__builtin_add_overflow(f->dir_cookie, (int64_t)offset, &at)) return -EOVERFLOW;
  } else if (whence != SEEK_SET) {
    return -EINVAL;
  }
  if (at < 0) return -EINVAL;
  f->dir_cookie = at;
  return (off_t)at;
}

static off_t private_lseek(struct dn_file *f, off_t offset, int whence) {
  if (f->is_dir) return dir_lseek(f, offset, whence);
  if (f->slot != 0) return slot_lseek(f, offset, whence);
  if (whence == SEEK_DATA || whence == SEEK_HOLE) {
    /* The service keeps no holes map: data runs from offset to the end, and the only hole is the end. */
    struct stat st;
    int r = private_fstat(f, &st);
    if (r < 0) return r;
    if (offset < 0 || offset >= st.st_size) return -ENXIO;
    int64_t args[3] = {f->handle, whence == SEEK_DATA ? offset : st.st_size, SEEK_SET};
    return (off_t)dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
  }
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return -EINVAL;
  int64_t args[3] = {f->handle, offset, whence};
  return (off_t)dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
}

off_t lseek(int fd, off_t offset, int whence) {
  PRIVATE_IO(fd, private_lseek(f, offset, whence));
  NEXT(lseek);
  return next_lseek(fd, offset, whence);
}
off64_t lseek64(int fd, off64_t offset, int whence) {
  PRIVATE_IO(fd, private_lseek(f, offset, whence));
  NEXT(lseek64);
  return next_lseek64(fd, offset, whence);
}

int fstat(int fd, struct stat *st) {
  PRIVATE_IO(fd, private_fstat(f, st));
  NEXT(fstat);
  return next_fstat(fd, st);
}
int fstat64(int fd, struct stat64 *st) {
  PRIVATE_IO(fd, private_fstat(f, (struct stat *)st));
  NEXT(fstat64);
  return next_fstat64(fd, st);
}

static int private_fd_op(struct dn_file *f, uint32_t op, int64_t arg, int nargs) {
  int64_t args[2] = {f->handle, arg};
  return (int)dn_call(op, args, nargs, 0, NULL);
}

int ftruncate(int fd, off_t length) {
  PRIVATE_IO(fd, length < 0 ? -EINVAL : (f->flags & O_ACCMODE) == O_RDONLY ? -EINVAL : private_fd_op(f, DANAUS_OP_FTRUNCATE, length, 2));
  NEXT(ftruncate);
  return next_ftruncate(fd, length);
}
int ftruncate64(int fd, off64_t length) { return ftruncate(fd, length); }
int fsync(int fd) {
  PRIVATE_IO(fd, private_fd_op(f, DANAUS_OP_FSYNC, 0, 1));
  NEXT(fsync);
  return next_fsync(fd);
}
int fdatasync(int fd) {
  PRIVATE_IO(fd, private_fd_op(f, DANAUS_OP_FDATASYNC, 0, 1));
  NEXT(fdatasync);
  return next_fdatasync(fd);
}
int syncfs(int fd) {
  PRIVATE_IO(fd, private_fd_op(f, DANAUS_OP_FSYNC, 0, 1));
  NEXT(syncfs);
  return next_syncfs(fd);
}

/* ---- calls that only need the kernel's answer for a file of this kind ---- */

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (dn_get(fd) != NULL) {
    errno = ENOTTY;
    return -1;
  }
  NEXT(ioctl);
  return next_ioctl(fd, request, arg);
}

int isatty(int fd) {
  if (dn_get(fd) != NULL) {
    errno = ENOTTY;
    return 0;
  }
  NEXT(isatty);
  return next_isatty(fd);
}

int flock(int fd, int operation) {
  if (dn_get(fd) != NULL) return dn_flock(fd, operation);
  NEXT(flock);
  return next_flock(fd, operation);
}

int posix_fadvise(int fd, off_t offset, off_t len, int advice) {
  if (dn_get(fd) != NULL) return advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE || len < 0 ? EINVAL : 0;
  NEXT(posix_fadvise);
  return next_posix_fadvise(fd, offset, len, advice);
}
int posix_fadvise64(int fd, off64_t offset, off64_t len, int advice) { return posix_fadvise(fd, offset, len, advice); }

int fallocate(int fd, int mode, off_t offset, off_t len) {
  if (dn_get(fd) != NULL) {
    errno = offset < 0 || len <= 0 ? EINVAL : EOPNOTSUPP;
    return -1;
  }
  NEXT(fallocate);
  return next_fallocate(fd, mode, offset, len);
}
int fallocate64(int fd, int mode, off64_t offset, off64_t len) { return fallocate(fd, mode, offset, len); }

/** posix_fallocate on a private file: grows it to offset + len (the service reserves no blocks ahead). */
int posix_fallocate(int fd, off_t offset, off_t len) {
  if (dn_get(fd) == NULL) {
    NEXT(posix_fallocate);
    return next_posix_fallocate(fd, offset, len);
  }
  if (offset < 0 || len <= 0) return EINVAL;
  LOCK();
  int err;
  struct dn_file *f = fresh(fd, &err);
  struct stat st;
  int r = f == NULL ? -EBADF : err < 0 ? err : (f->flags & O_ACCMODE) == O_RDONLY ? -EBADF : private_fstat(f, &st);
  if (r == 0 && st.st_size < offset + len) r = private_fd_op(f, DANAUS_OP_FTRUNCATE, offset + len, 2);
  UNLOCK();
  return -r;
}
int posix_fallocate64(int fd, off64_t offset, off64_t len) { return posix_fallocate(fd, offset, len); }

/* ---- mmap ---- */

/**
 * mmap of a private file: a private mapping (or a read-only shared one) is an anonymous mapping filled from the file
 * at the time of the call; later writes to the file do not show in it. A writable shared mapping needs the kernel to
 * write pages back, which the user-level path cannot do: ENODEV, the answer of a filesystem without mmap support.
 */
static void *private_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  NEXT(mmap);
  int shared = (flags & MAP_TYPE) == MAP_SHARED || (flags & MAP_TYPE) == MAP_SHARED_VALIDATE;
  long page = sysconf(_SC_PAGESIZE);
  if (length == 0 || offset < 0 || offset % page != 0) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  if (shared && (prot & PROT_WRITE)) {
    dn_log("mmap of %d: a writable shared mapping of a file on the user-level path is not supported (ENODEV)", fd);
    errno = ENODEV;
    return MAP_FAILED;
  }
  int keep = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_POPULATE | MAP_LOCKED);
  void *at = next_mmap(addr, length, PROT_READ | PROT_WRITE, keep | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (at == MAP_FAILED) return MAP_FAILED;
  LOCK();
  int err;
  struct dn_file *f = fresh(fd, &err);
  ssize_t r = f == NULL ? -EBADF : err < 0 ? err : (f->flags & O_ACCMODE) == O_WRONLY ? -EACCES : private_read(f, at, length, offset);
  UNLOCK();
  if (r < 0 || mprotect(at, length, prot) < 0) {
    int saved = r < 0 ? (int)-r : errno;
    munmap(at, length);
    errno = saved;
    return MAP_FAILED;
  }
  return at;
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (!(flags & MAP_ANONYMOUS) && dn_get(fd) != NULL) return private_mmap(addr, length, prot, flags, fd, offset);
  NEXT(mmap);
  return next_mmap(addr, length, prot, flags, fd, offset);
}
void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off64_t offset) { return mmap(addr, length, prot, flags, fd, offset); }

/** sync_file_range on a private file: the service has no ranged flush, so the whole file's data is flushed. */
int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  if (dn_get(fd) != NULL && (offset < 0 || nbytes < 0 || (flags & ~(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)))) {
    errno = EINVAL;
    return -1;
  }
  PRIVATE_IO(fd, private_fd_op(f, DANAUS_OP_FDATASYNC, 0, 1));
  NEXT(sync_file_range);
  return next_sync_file_range(fd, offset, nbytes, flags);
}
