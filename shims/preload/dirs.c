/* dirs.c — directory streams over private directories: opendir/fdopendir return a stream of the library (never handed
 * to glibc), read in batches of the service's readdir; the other stream calls recognise it and pass glibc's own on. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)
#define LOCK() pthread_mutex_lock(&dn_lock)
#define UNLOCK() pthread_mutex_unlock(&dn_lock)

/** Bytes of entries one readdir asks the service for (as the TypeScript client's window). */
#define WINDOW (32 * 1024)

struct dn_dir {
  struct dn_dir *next;
  int fd;
  int64_t cookie;      /* cookie of the next batch */
  int64_t position;    /* cookie of the entry readdir returns next (telldir) */
  int eof;
  char *batch;
  size_t length, at;
  struct dirent64 entry;
};
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent and dirent64 are one layout on x86-64");

static struct dn_dir *streams;

static struct dn_dir *ours(void *dir) {
  for (struct dn_dir *d = streams; d != NULL; d = d->next) if ((void *)d == dir) return d;
  return NULL;
}

/** A stream over private descriptor `fd`, which must be a directory. Holds dn_lock. */
static struct dn_dir *new_stream(int fd) {
  struct dn_dir *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->fd = fd;
  d->next = streams;
  streams = d;
  return d;
}

DIR *opendir(const char *path) {
  NEXT(opendir);
  if (dn_surely_kernel(AT_FDCWD, path)) return next_opendir(path);
  char inner[DN_PATH_MAX];
  LOCK();
  int mount = dn_route(AT_FDCWD, path, inner);
  if (mount == -1) {
    UNLOCK();
    return next_opendir(path);
  }
  int fd = mount == -2 ? -errno : dn_open_private(mount, inner, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  struct dn_dir *d = NULL;
  if (fd >= 0) {
    d = new_stream(fd);
    if (d == NULL) {
      REAL(close)(fd);
      dn_unbind(fd);
      fd = -ENOMEM;
    }
  }
  UNLOCK();
  if (fd < 0) errno = -fd;
  return (DIR *)d;
}

DIR *fdopendir(int fd) {
  NEXT(fdopendir);
  if (dn_get(fd) == NULL) return next_fdopendir(fd);
  struct stat st;
  if (fstat(fd, &st) < 0) return NULL;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return NULL;
  }
  LOCK();
  struct dn_dir *d = new_stream(fd);
  UNLOCK();
  if (d == NULL) errno = ENOMEM;
  REAL(fcntl)(fd, F_SETFD, FD_CLOEXEC);
  return (DIR *)d;
}

/** The next batch of entries; 0, or -errno. Holds dn_lock. */
static int fill(struct dn_dir *d) {
  int err = 0;
  struct dn_file *f = dn_get(d->fd);
  if (f == NULL) return -EBADF;
  dn_revive();
  if (f->handle < 0 && (err = dn_refresh(f)) < 0) return err;
  uint32_t window = dn_bufsize < WINDOW ? dn_bufsize : WINDOW;
  int64_t args[2] = {f->handle, d->cookie};
  uint32_t reply;
  int64_t r = dn_call(DANAUS_OP_READDIR, args, 2, window, &reply);
  if (r < 0) return (int)r;
  free(d->batch);
  d->batch = NULL;
  d->length = d->at = 0;
  if (r == 0 || reply == 0) {
    d->eof = 1;
    return 0;
  }
  d->batch = malloc(reply);
  if (d->batch == NULL) return -ENOMEM;
  memcpy(d->batch, dn_buf, reply);
  d->length = reply;
  return 0;
}

static struct dirent64 *next_entry(struct dn_dir *d) {
  for (;;) {
    if (d->at + DANAUS_DIRENT_NAME_OFFSET < d->length) {
      struct danaus_dirent head;
      memcpy(&head, d->batch + d->at, DANAUS_DIRENT_NAME_OFFSET);
      size_t reclen = head.d_reclen;
      if (reclen <= DANAUS_DIRENT_NAME_OFFSET || d->at + reclen > d->length) {
        errno = EIO;
        return NULL;
      }
      const char *name = d->batch + d->at + DANAUS_DIRENT_NAME_OFFSET;
      size_t n = strnlen(name, reclen - DANAUS_DIRENT_NAME_OFFSET);
      if (n >= sizeof d->entry.d_name) n = sizeof d->entry.d_name - 1;
      d->entry.d_ino = head.d_ino;
      d->entry.d_off = head.d_off;
      d->entry.d_reclen = sizeof d->entry;
      d->entry.d_type = head.d_type;
      memcpy(d->entry.d_name, name, n);
      d->entry.d_name[n] = '\0';
      d->at += reclen;
      d->cookie = head.d_off;
      d->position = head.d_off;
      return &d->entry;
    }
    if (d->eof) return NULL;
    int r = fill(d);
    if (r < 0) {
      errno = -r;
      return NULL;
    }
  }
}

struct dirent *readdir(DIR *dir) {
  NEXT(readdir);
  LOCK();
  struct dn_dir *d = ours(dir);
  if (d == NULL) {
    UNLOCK();
    return next_readdir(dir);
  }
  struct dirent64 *e = next_entry(d);
  UNLOCK();
  return (struct dirent *)e;
}

struct dirent64 *readdir64(DIR *dir) {
  NEXT(readdir64);
  LOCK();
  struct dn_dir *d = ours(dir);
  if (d == NULL) {
    UNLOCK();
    return next_readdir64(dir);
  }
  struct dirent64 *e = next_entry(d);
  UNLOCK();
  return e;
}

int closedir(DIR *dir) {
  NEXT(closedir);
  LOCK();
  struct dn_dir *d = ours(dir);
  if (d == NULL) {
    UNLOCK();
    return next_closedir(dir);
  }
  for (struct dn_dir **p = &streams; *p != NULL; p = &(*p)->next) {
    if (*p == d) {
      *p = d->next;
      break;
    }
  }
  int fd = d->fd;
  free(d->batch);
  free(d);
  REAL(close)(fd);
  dn_unbind(fd);
  UNLOCK();
  return 0;
}

static void seek_to(struct dn_dir *d, int64_t cookie) {
  free(d->batch);
  d->batch = NULL;
  d->length = d->at = 0;
  d->eof = 0;
  d->cookie = cookie;
  d->position = cookie;
}

void rewinddir(DIR *dir) {
  NEXT(rewinddir);
  LOCK();
  struct dn_dir *d = ours(dir);
  if (d != NULL) seek_to(d, 0);
  UNLOCK();
  if (d == NULL) next_rewinddir(dir);
}

long telldir(DIR *dir) {
  NEXT(telldir);
  LOCK();
  struct dn_dir *d = ours(dir);
  long at = d != NULL ? (long)d->position : 0;
  UNLOCK();
  return d != NULL ? at : next_telldir(dir);
}

void seekdir(DIR *dir, long position) {
  NEXT(seekdir);
  LOCK();
  struct dn_dir *d = ours(dir);
  if (d != NULL) seek_to(d, position);
  UNLOCK();
  if (d == NULL) next_seekdir(dir, position);
}

int dirfd(DIR *dir) {
  NEXT(dirfd);
  LOCK();
  struct dn_dir *d = ours(dir);
  int fd = d != NULL ? d->fd : -1;
  UNLOCK();
  return d != NULL ? fd : next_dirfd(dir);
}

/** scandir over private directory `path` relative to `dirfd` (glibc's own would open it through its internal,
 * unwrapped opendir). */
static int scan(int dirfd, const char *path, struct dirent ***list, int (*filter)(const struct dirent *),
                int (*compare)(const struct dirent **, const struct dirent **)) {
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  size_t count = 0, capacity = 16;
  struct dirent **out = malloc(capacity * sizeof *out);
  if (out == NULL) {
    closedir(dir);
    errno = ENOMEM;
    return -1;
  }
  struct dirent *e;
  errno = 0;
  while ((e = readdir(dir)) != NULL) {
    if (filter != NULL && !filter(e)) continue;
    if (count == capacity) {
      struct dirent **grown = realloc(out, (capacity *= 2) * sizeof *out);
      if (grown == NULL) goto fail;
      out = grown;
    }
    out[count] = malloc(sizeof *e);
    if (out[count] == NULL) goto fail;
    memcpy(out[count++], e, sizeof *e);
  }
  if (errno != 0) goto fail;
  closedir(dir);
  if (compare != NULL) qsort(out, count, sizeof *out, (int (*)(const void *, const void *))compare);
  *list = out;
  return (int)count;
fail:;
  int saved = errno ? errno : ENOMEM;
  for (size_t i = 0; i < count; i++) free(out[i]);
  free(out);
  closedir(dir);
  errno = saved;
  return -1;
}

int scandirat(int dirfd, const char *path, struct dirent ***list, int (*filter)(const struct dirent *),
              int (*compare)(const struct dirent **, const struct dirent **)) {
  NEXT(scandirat);
  if (!dn_path_is_private(dirfd, path)) return next_scandirat(dirfd, path, list, filter, compare);
  return scan(dirfd, path, list, filter, compare);
}

int scandirat64(int dirfd, const char *path, struct dirent64 ***list, int (*filter)(const struct dirent64 *),
                int (*compare)(const struct dirent64 **, const struct dirent64 **)) {
  NEXT(scandirat64);
  if (!dn_path_is_private(dirfd, path)) return next_scandirat64(dirfd, path, list, filter, compare);
  return scan(dirfd, path, (struct dirent ***)list, (int (*)(const struct dirent *))filter,
              (int (*)(const struct dirent **, const struct dirent **))compare);
}

int scandir(const char *path, struct dirent ***list, int (*filter)(const struct dirent *),
            int (*compare)(const struct dirent **, const struct dirent **)) {
  NEXT(scandir);
  if (!dn_path_is_private(AT_FDCWD, path)) return next_scandir(path, list, filter, compare);
  return scan(AT_FDCWD, path, list, filter, compare);
}

int scandir64(const char *path, struct dirent64 ***list, int (*filter)(const struct dirent64 *),
              int (*compare)(const struct dirent64 **, const struct dirent64 **)) {
  NEXT(scandir64);
  if (!dn_path_is_private(AT_FDCWD, path)) return next_scandir64(path, list, filter, compare);
  return scan(AT_FDCWD, path, (struct dirent ***)list, (int (*)(const struct dirent *))filter,
              (int (*)(const struct dirent **, const struct dirent **))compare);
}

/**
 * readdir_r on the library's stream: the next entry copied into the caller's `entry` under dn_lock (glibc's own
 * would take the library's stream for one of its own). Returns 0 (*result NULL at the end) or the errno.
 */
static int next_entry_into(struct dn_dir *d, struct dirent64 *entry, struct dirent64 **result) {
  int saved = errno;
  errno = 0;
  struct dirent64 *e = next_entry(d);
  int err = errno;
  errno = saved;
  if (e == NULL) {
    *result = NULL;
    return err;
  }
  memcpy(entry, e, offsetof(struct dirent64, d_name) + strlen(e->d_name) + 1);
  *result = entry;
  return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* readdir_r is deprecated, but programs still call it */
int readdir_r(DIR *dir, struct dirent *entry, struct dirent **result) {
  NEXT(readdir_r);
  LOCK();
  struct dn_dir *d = ours(dir);
  int r = d == NULL ? 0 : next_entry_into(d, (struct dirent64 *)entry, (struct dirent64 **)result);
  UNLOCK();
  return d == NULL ? next_readdir_r(dir, entry, result) : r;
}

int readdir64_r(DIR *dir, struct dirent64 *entry, struct dirent64 **result) {
  NEXT(readdir64_r);
  LOCK();
  struct dn_dir *d = ours(dir);
  int r = d == NULL ? 0 : next_entry_into(d, entry, result);
  UNLOCK();
  return d == NULL ? next_readdir64_r(dir, entry, result) : r;
}

#pragma GCC diagnostic pop

/** getdirentries on a private directory: the position before the read in *base, then getdents64. */
ssize_t getdirentries(int fd, char *buf, size_t count, off_t *base) {
  NEXT(getdirentries);
  if (dn_get(fd) == NULL) return next_getdirentries(fd, buf, count, base);
  off_t at = lseek(fd, 0, SEEK_CUR);
  if (at < 0) return -1;
  ssize_t got = getdents64(fd, buf, count);
  if (got >= 0) *base = at;
  return got;
}

ssize_t getdirentries64(int fd, char *buf, size_t count, off64_t *base) {
  return getdirentries(fd, buf, count, (off_t *)base);
}

/**
 * getdents64 on a private directory: the service's records are linux_dirent64 records already. The descriptor's
 * next cookie is kept with its open file (shared by dup'ed descriptors, as a directory's position is).
 */
ssize_t getdents64(int fd, void *out, size_t count) {
  NEXT(getdents64);
  if (dn_get(fd) == NULL) return next_getdents64(fd, out, count);
  LOCK();
  struct dn_file *f = dn_get(fd);
  int64_t r = f == NULL ? -EBADF : 0;
  if (r == 0) dn_revive();
  if (r == 0 && f->handle < 0) r = dn_refresh(f);
  uint32_t reply = 0;
  if (r == 0) {
    /* Ask for at least the service's smallest window; hand back only the records that fit the caller's buffer. */
    uint32_t window = count > WINDOW ? WINDOW : count < 4096 ? 4096 : (uint32_t)count;
    if (window > dn_bufsize) window = dn_bufsize;
    int64_t args[2] = {f->handle, f->dir_cookie};
    r = dn_call(DANAUS_OP_READDIR, args, 2, window, &reply);
  }
  if (r > 0 && reply > 0) {
    size_t at = 0;
    int64_t cookie = f->dir_cookie;
    while (at + DANAUS_DIRENT_NAME_OFFSET < reply) {
      struct danaus_dirent head;
      memcpy(&head, dn_buf + at, DANAUS_DIRENT_NAME_OFFSET);
      if (head.d_reclen == 0 || at + head.d_reclen > reply || at + head.d_reclen > count) break;
      at += head.d_reclen;
      cookie = head.d_off;
    }
    if (at == 0) {
      r = -EINVAL; /* not even one entry fits the caller's buffer */
    } else {
      memcpy(out, dn_buf, at);
      f->dir_cookie = cookie;
      f->is_dir = 1; /* a directory whatever its open flags: lseek moves its cookie from now on */
      r = (int64_t)at;
    }
  } else if (r > 0) {
    r = 0;
  }
  UNLOCK();
  return (ssize_t)dn_ret(r);
}
