/* locks.c — record locks (fcntl F_SETLK/F_SETLKW/F_GETLK, the OFD forms) and flock on private files, enforced by the
 * kernel between all the tenant's processes: each private open file takes a lock on a lock file named after its
 * mount and path, in the "locks" directory next to the tenant's registration socket. The lock file stands in for the
 * file's inode, so POSIX semantics follow: locks belong to the process (or the open file, for OFD locks and flock),
 * and closing a descriptor of the file releases the process's POSIX locks on it. */
#include "preload.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOCK() pthread_mutex_lock(&dn_lock)
#define UNLOCK() pthread_mutex_unlock(&dn_lock)

static uint64_t fnv1a(const char *text, uint64_t hash) {
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) hash = (hash ^ *p) * 0x100000001b3ULL;
  return hash;
}

/** The lock file descriptor of `f`, opened on first use; -errno on failure. Holds dn_lock. */
static int lock_fd_of(struct dn_file *f) {
  if (f->lock_fd > 0) return f->lock_fd - 1;
  const char *socket = getenv(DN_ENV_SOCKET);
  if (socket == NULL) return -ENOLCK;
  char dir[DN_PATH_MAX];
  snprintf(dir, sizeof dir, "%s", socket);
  char locks[DN_PATH_MAX + 16];
  snprintf(locks, sizeof locks, "%s/locks", dirname(dir));
  /* The system call itself: the wrapped mkdir would take dn_lock again. */
  if (syscall(SYS_mkdirat, AT_FDCWD, locks, 0700) < 0 && errno != EEXIST) return -ENOLCK;
  char path[DN_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%d-%016llx", locks, f->mount, (unsigned long long)fnv1a(f->path, 0xcbf29ce484222325ULL));
  int fd = REAL(open)(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -ENOLCK;
  fd = dn_move_high(fd);
  f->lock_fd = fd + 1;
  return fd;
}

int dn_fcntl_lock(int fd, int cmd, struct flock *lock) {
  LOCK();
  struct dn_file *f = dn_get(fd);
  if (f == NULL) {
    UNLOCK();
    errno = EBADF;
    return -1;
  }
  dn_revive();
  int err = f->handle < 0 ? dn_refresh(f) : 0;
  struct flock copy = *lock;
  int setting = cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
  int mode = f->flags & O_ACCMODE;
  if (err == 0 && setting && ((copy.l_type == F_RDLCK && mode == O_WRONLY) || (copy.l_type == F_WRLCK && mode == O_RDONLY))) err = -EBADF;
  if (err == 0 && copy.l_whence != SEEK_SET) {
    /* The lock file is empty and has no position: make the range absolute from the private file's. */
    int64_t args[3] = {f->handle, 0, SEEK_CUR};
    int64_t base;
    if (copy.l_whence == SEEK_CUR) {
      base = f->slot != 0 ? dn_position_get(f->slot) : dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
    } else if (copy.l_whence == SEEK_END) {
      int64_t stat_args[1] = {f->handle};
      base = dn_call(DANAUS_OP_FSTAT, stat_args, 1, sizeof(struct danaus_stat), NULL);
      if (base >= 0) base = ((struct danaus_stat *)dn_buf)->st_size;
    } else {
      base = -EINVAL;
    }
    if (base < 0) err = (int)base;
    copy.l_start += base;
    copy.l_whence = SEEK_SET;
  }
  int lfd = err < 0 ? err : lock_fd_of(f);
  UNLOCK();
  if (lfd < 0) {
    errno = -lfd;
    return -1;
  }
  /* Without dn_lock: F_SETLKW may wait for another process. */
  int r = REAL(fcntl)(lfd, cmd, &copy);
  if (r == 0 && (cmd == F_GETLK || cmd == F_OFD_GETLK)) *lock = copy;
  return r;
}

int dn_flock(int fd, int operation) {
  LOCK();
  struct dn_file *f = dn_get(fd);
  int lfd = f == NULL ? -EBADF : lock_fd_of(f);
  UNLOCK();
  if (lfd < 0) {
    errno = -lfd;
    return -1;
  }
  return flock(lfd, operation);
}
