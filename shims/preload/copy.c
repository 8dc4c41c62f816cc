/* copy.c — copy_file_range and sendfile when either descriptor is private: the bytes go through a bounded buffer by
 * this library's own pread and write/pwrite (which serve private and kernel descriptors alike), with the kernel's rules
 * for offsets (NULL: the file position is used and advanced; given: it is used and updated, and the position is left
 * alone), counts, the end of the input and errno values. Between two kernel descriptors, libc's calls. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>

#define NEXT(name) \
  static __typeof__(&name) next_##name; \
  if (next_##name == NULL) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/** The most one call moves (Linux's MAX_RW_COUNT): a larger count is cut to it. */
#define MAX_RW ((size_t)(INT_MAX & ~4095))
/** The bytes in flight: the buffer holds at most this much. */
#define CHUNK ((size_t)128 * 1024)

/** What the checks need to know about one descriptor. */
struct end {
  int flags; /* F_GETFL */
  struct stat st;
};

/** Fills `e` for `fd`: 0, or -EBADF when `fd` is not open. */
static int look(int fd, struct end *e) {
  e->flags = fcntl(fd, F_GETFL);
  if (e->flags < 0) return -EBADF;
  return fstat(fd, &e->st) < 0 ? -errno : 0;
}

static int readable(const struct end *e) { return !(e->flags & O_PATH) && (e->flags & O_ACCMODE) != O_WRONLY; }
static int writable(const struct end *e) { return !(e->flags & O_PATH) && (e->flags & O_ACCMODE) != O_RDONLY; }

/**
 * Moves up to `count` bytes of `in` from offset `from` to `out`, at offset `to`, or at its position (write) when `to`
 * is -1. Stops at the end of the input and at a short or failed write. Returns the bytes moved, or -errno when none
 * were; the caller moves positions and offsets by what was moved, never by what was read ahead.
 */
static ssize_t pump(int in, int64_t from, int out, int64_t to, size_t count) {
  char *buf = malloc(count < CHUNK ? count : CHUNK);
  if (buf == NULL) return -ENOMEM;
  size_t done = 0;
  ssize_t failed = 0;
  while (done < count && failed == 0) {
    size_t want = count - done < CHUNK ? count - done : CHUNK;
    ssize_t got = pread(in, buf, want, from + (int64_t)done);
    if (got <= 0) {
      failed = got < 0 ? -errno : 0;
      break;
    }
    size_t put = 0;
    while (put < (size_t)got) {
      ssize_t w = to < 0 ? write(out, buf + put, (size_t)got - put) : pwrite(out, buf + put, (size_t)got - put, to + (int64_t)(done + put));
      if (w <= 0) {
        failed = w < 0 ? -errno : -EIO;
        break;
      }
      put += (size_t)w;
    }
    done += put;
    if (got < (ssize_t)want) break; /* the end of the input */
  }
  free(buf);
  return done > 0 ? (ssize_t)done : failed;
}

/** Where a NULL offset reads or writes: the file position of `fd`. */
static int64_t position(int fd) { return lseek(fd, 0, SEEK_CUR); }

/**
 * copy_file_range(2) with a private side: EBADF (a descriptor not open, the input not readable, the output not
 * writable or O_APPEND), EINVAL (flags, a file that is not regular, overlapping ranges of one file), EISDIR, EOVERFLOW
 * (a negative or wrapping offset). Copies up to the end of the input; 0 at or past it.
 */
static ssize_t private_copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t len, unsigned flags) {
  struct end a, b;
  int r = look(in, &a);
  if (r == 0) r = look(out, &b);
  if (r < 0) return r;
  if (flags != 0) return -EINVAL;
  if (S_ISDIR(a.st.st_mode) || S_ISDIR(b.st.st_mode)) return -EISDIR;
  if (!S_ISREG(a.st.st_mode) || !S_ISREG(b.st.st_mode)) return -EINVAL;
  if (!readable(&a) || !writable(&b) || (b.flags & O_APPEND)) return -EBADF;
  int64_t from = in_off != NULL ? *in_off : position(in);
  int64_t to = out_off != NULL ? *out_off : position(out);
  if (len > MAX_RW) len = MAX_RW;
  if (from < 0 || to < 0 || (int64_t)len > INT64_MAX - from || (int64_t)len > INT64_MAX - to) return -EOVERFLOW;
  size_t count = from >= a.st.st_size ? 0 : (size_t)(a.st.st_size - from) < len ? (size_t)(a.st.st_size - from) : len;
  int same = a.st.st_dev == b.st.st_dev && a.st.st_ino == b.st.st_ino;
  if (same && to + (int64_t)count > from && to < from + (int64_t)count) return -EINVAL;
  if (count == 0) return 0;
  ssize_t done = pump(in, from, out, out_off != NULL ? to : -1, count);
  if (done > 0) {
    if (in_off != NULL) *in_off = from + done;
    else lseek(in, from + done, SEEK_SET);
    if (out_off != NULL) *out_off = to + done;
  }
  if (dn_debug) dn_log("copy_file_range %d -> %d: %zd through the library", in, out, done);
  return done;
}

ssize_t copy_file_range(int in, off64_t *in_off, int out, off64_t *out_off, size_t len, unsigned flags) {
  if (dn_get(in) == NULL && dn_get(out) == NULL) {
    NEXT(copy_file_range);
    return next_copy_file_range(in, in_off, out, out_off, len, flags);
  }
  return (ssize_t)dn_ret(private_copy_file_range(in, in_off, out, out_off, len, flags));
}

/**
 * sendfile(2) with a private side: EBADF (a descriptor not open, the input not readable, the output not writable),
 * ESPIPE (an offset on a pipe or socket input), EINVAL (a negative offset, an input that is not a regular file, an
 * O_APPEND output). The output may be any kernel descriptor (a pipe, a socket: written at its position).
 */
static ssize_t private_sendfile(int out, int in, off64_t *offset, size_t count) {
  struct end a, b;
  int r = look(in, &a);
  if (r < 0) return r;
  if (!readable(&a)) return -EBADF;
  if (offset != NULL && (S_ISFIFO(a.st.st_mode) || S_ISSOCK(a.st.st_mode))) return -ESPIPE;
  int64_t from = offset != NULL ? *offset : position(in);
  if (from < 0) return -EINVAL;
  if (count > MAX_RW) count = MAX_RW;
  r = look(out, &b);
  if (r < 0) return r;
  if (!writable(&b)) return -EBADF;
  if (!S_ISREG(a.st.st_mode)) return -EINVAL;
  if (!S_ISFIFO(b.st.st_mode) && (b.flags & O_APPEND)) return -EINVAL;
  if (count == 0) return 0;
  ssize_t done = pump(in, from, out, -1, count);
  if (done > 0) {
    if (offset != NULL) *offset = from + done;
    else lseek(in, from + done, SEEK_SET);
  }
  if (dn_debug) dn_log("sendfile %d -> %d: %zd through the library", in, out, done);
  return done;
}

ssize_t sendfile(int out, int in, off_t *offset, size_t count) {
  if (dn_get(in) == NULL && dn_get(out) == NULL) {
    NEXT(sendfile);
    return next_sendfile(out, in, offset, count);
  }
  return (ssize_t)dn_ret(private_sendfile(out, in, offset, count));
}
ssize_t sendfile64(int out, int in, off64_t *offset, size_t count) { return sendfile(out, in, offset, count); }
