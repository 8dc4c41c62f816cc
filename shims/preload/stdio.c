/* stdio.c — stdio streams over private files: fopen/fdopen of a private file return a fopencookie stream whose
 * callbacks are the library's read/write/lseek/close, so glibc's internal (unwrapped) calls never touch the
 * placeholder; fileno answers the private descriptor; standard streams handed over at exec are replaced likewise. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

struct cookie {
  struct cookie *next;
  FILE *fp;
  int fd;
  int owns; /* fclose closes fd (fopen/fdopen); a standard stream only borrows 0, 1 or 2 */
};

static struct cookie *cookies;
/** The library's stream standing in for stdin/stdout/stderr while 0/1/2 is private, and the stream it replaced. */
static struct cookie *standard[3];
static FILE *replaced[3];
static pthread_mutex_t cookies_lock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t cookie_read(void *c, char *buf, size_t size) { return read(((struct cookie *)c)->fd, buf, size); }
static ssize_t cookie_write(void *c, const char *buf, size_t size) {
  ssize_t r = write(((struct cookie *)c)->fd, buf, size);
  return r < 0 ? 0 : r; /* fopencookie: a write error is reported as 0 bytes written */
}
static int cookie_seek(void *c, off64_t *position, int whence) {
  off64_t at = lseek(((struct cookie *)c)->fd, *position, whence);
  if (at < 0) return -1;
  *position = at;
  return 0;
}
static int cookie_close(void *c) {
  struct cookie *k = c;
  pthread_mutex_lock(&cookies_lock);
  for (struct cookie **p = &cookies; *p != NULL; p = &(*p)->next) {
    if (*p == k) {
      *p = k->next;
      break;
    }
  }
  for (int i = 0; i < 3; i++) if (standard[i] == k) standard[i] = NULL;
  pthread_mutex_unlock(&cookies_lock);
  int r = k->owns ? close(k->fd) : 0;
  free(k);
  return r;
}

/** Parses an fopen mode into open flags; -1 with EINVAL for a bad one. */
static int mode_flags(const char *mode) {
  int flags;
  switch (mode[0]) {
    case 'r': flags = O_RDONLY; break;
    case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
    default: errno = EINVAL; return -1;
  }
  for (const char *m = mode + 1; *m && *m != ','; m++) {
    if (*m == '+') flags = (flags & ~O_ACCMODE) | O_RDWR;
    else if (*m == 'e') flags |= O_CLOEXEC;
    else if (*m == 'x') flags |= O_EXCL;
  }
  return flags;
}

/** A stream over private descriptor `fd`; NULL with errno. The stream owns fd (fclose closes it). */
static FILE *stream_of(int fd, const char *mode, int owns) {
  struct cookie *k = calloc(1, sizeof *k);
  if (k == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  k->fd = fd;
  k->owns = owns;
  cookie_io_functions_t io = {cookie_read, cookie_write, cookie_seek, cookie_close};
  FILE *fp = fopencookie(k, mode, io);
  if (fp == NULL) {
    free(k);
    return NULL;
  }
  k->fp = fp;
  pthread_mutex_lock(&cookies_lock);
  k->next = cookies;
  cookies = k;
  pthread_mutex_unlock(&cookies_lock);
  return fp;
}

int dn_stream_fd(FILE *fp, int *fd) {
  pthread_mutex_lock(&cookies_lock);
  for (struct cookie *k = cookies; k != NULL; k = k->next) {
    if (k->fp == fp) {
      *fd = k->fd;
      pthread_mutex_unlock(&cookies_lock);
      return 1;
    }
  }
  pthread_mutex_unlock(&cookies_lock);
  return 0;
}

static FILE *open_stream(const char *path, const char *mode, FILE *(*kernel)(const char *, const char *)) {
  if (dn_surely_kernel(AT_FDCWD, path)) return kernel(path, mode);
  char inner[DN_PATH_MAX];
  pthread_mutex_lock(&dn_lock);
  int mount = dn_route(AT_FDCWD, path, inner);
  pthread_mutex_unlock(&dn_lock);
  if (mount == -1) return kernel(path, mode);
  if (mount == -2) return NULL;
  int flags = mode_flags(mode);
  if (flags < 0) return NULL;
  int fd = open(path, flags, 0666);
  if (fd < 0) return NULL;
  FILE *fp = stream_of(fd, mode, 1);
  if (fp == NULL) {
    int saved = errno;
    close(fd);
    errno = saved;
  }
  return fp;
}

FILE *fopen(const char *path, const char *mode) {
  NEXT(fopen);
  return open_stream(path, mode, next_fopen);
}
FILE *fopen64(const char *path, const char *mode) {
  NEXT(fopen64);
  return open_stream(path, mode, next_fopen64);
}

FILE *fdopen(int fd, const char *mode) {
  NEXT(fdopen);
  if (dn_get(fd) == NULL) return next_fdopen(fd, mode);
  int flags = mode_flags(mode);
  if (flags < 0) return NULL;
  int have = fcntl(fd, F_GETFL);
  if (have < 0) return NULL;
  int want = flags & O_ACCMODE, mode_have = have & O_ACCMODE;
  if ((want == O_RDONLY && mode_have == O_WRONLY) || (want == O_WRONLY && mode_have == O_RDONLY) || (want == O_RDWR && mode_have != O_RDWR)) {
    errno = EINVAL;
    return NULL;
  }
  return stream_of(fd, mode, 1);
}

int fileno(FILE *fp) {
  NEXT(fileno);
  int fd;
  if (dn_stream_fd(fp, &fd)) return fd;
  return next_fileno(fp);
}
int fileno_unlocked(FILE *fp) {
  NEXT(fileno_unlocked);
  int fd;
  if (dn_stream_fd(fp, &fd)) return fd;
  return next_fileno_unlocked(fp);
}

static FILE **slot_of(int fd) { return fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr; }

void dn_stdio_before(int fd) {
  if (fd < 0 || fd > 2) return;
  pthread_mutex_lock(&cookies_lock);
  FILE *fp = standard[fd] != NULL ? standard[fd]->fp : NULL;
  pthread_mutex_unlock(&cookies_lock);
  if (fp != NULL && fd != 0) fflush(fp);
}

void dn_stdio_follow(int fd) {
  if (fd < 0 || fd > 2) return;
  int private = dn_get(fd) != NULL;
  pthread_mutex_lock(&cookies_lock);
  struct cookie *k = standard[fd];
  pthread_mutex_unlock(&cookies_lock);
  FILE **slot = slot_of(fd);
  if (private && k == NULL) {
    /* glibc's own stream would write through its internal, unwrapped write(2) into the placeholder. */
    if (fd != 0) fflush(*slot);
    struct dn_file *f = dn_get(fd);
    const char *mode = fd == 0 ? "r" : (f->flags & O_ACCMODE) == O_RDWR ? "r+" : "w";
    FILE *fp = stream_of(fd, mode, 0);
    if (fp == NULL) return;
    if (fd == 2) setvbuf(fp, NULL, _IONBF, 0);
    pthread_mutex_lock(&cookies_lock);
    for (struct cookie *c = cookies; c != NULL; c = c->next) if (c->fp == fp) standard[fd] = c;
    pthread_mutex_unlock(&cookies_lock);
    replaced[fd] = *slot;
    *slot = fp;
  } else if (!private && k != NULL) {
    FILE *fp = k->fp;
    if (*slot == fp) *slot = replaced[fd];
    fclose(fp); /* borrowed: does not close the descriptor */
  }
}

void dn_stdio_flush_at_exit(void) {
  /* Unlocked, as glibc's own flush at exit: a thread that holds a stream's lock must not stop the exit. The writes
   * go to the library's write, which never takes cookies_lock. */
  pthread_mutex_lock(&cookies_lock);
  for (struct cookie *c = cookies; c != NULL; c = c->next) fflush_unlocked(c->fp);
  pthread_mutex_unlock(&cookies_lock);
}

void dn_stdio_adopt(void) {
  for (int fd = 0; fd < 3; fd++) dn_stdio_follow(fd);
}

/**
 * freopen of a standard stream onto a private file: the file is opened and dup2'ed onto the stream's descriptor, so
 * the library's stream takes the standard stream's place (the returned stream is the new stdin/stdout/stderr).
 * Other streams cannot be turned into library streams in place: ENOTSUP, with a log line, the stream left as it was.
 */
FILE *freopen(const char *path, const char *mode, FILE *stream) {
  NEXT(freopen);
  char inner[DN_PATH_MAX];
  int mount = -1;
  if (path != NULL) {
    pthread_mutex_lock(&dn_lock);
    mount = dn_route(AT_FDCWD, path, inner);
    pthread_mutex_unlock(&dn_lock);
  }
  if (mount == -1) return next_freopen(path, mode, stream);
  if (mount == -2) return NULL;
  int target = stream == stdin ? 0 : stream == stdout ? 1 : stream == stderr ? 2 : -1;
  if (target < 0) {
    dn_log("freopen of %s onto a stream other than stdin/stdout/stderr is not supported on the user-level path (ENOTSUP)", path);
    errno = ENOTSUP;
    return NULL;
  }
  int flags = mode_flags(mode);
  if (flags < 0) return NULL;
  int fd = open(path, flags, 0666);
  if (fd < 0) return NULL;
  fflush(stream);
  int r = fd == target ? 0 : dup2(fd, target);
  if (fd == target) dn_stdio_follow(target);
  int saved = errno;
  if (fd != target) close(fd);
  if (r < 0) {
    errno = saved;
    return NULL;
  }
  return *slot_of(target);
}
FILE *freopen64(const char *path, const char *mode, FILE *stream) { return freopen(path, mode, stream); }
