/* conformance-driver.c — executes filesystem calls read from standard input with plain libc calls and answers each on
 * standard output, so that a program preloaded with the danaus library (`danaus run -- conformance-driver`) can be
 * driven call by call from TypeScript: test/integration/preload/driver-fs.ts turns it into a FileSystem for the
 * conformance suite. Nothing here knows about danaus; under the preload library every call on a path in a mount goes
 * through it, and without it every call is the kernel's.
 *
 * Protocol (little-endian, one request at a time):
 *   request: u32 length of what follows, u8 opcode, then the opcode's arguments in order, each an i64 ("i") or a byte
 *            string ("s": u32 length, bytes; a path never holds NUL). The argument kinds of each opcode are in
 *            `OPS` below and in driver-fs.ts.
 *   reply:   i64 result (the call's result, or -errno), u32 payload length, payload: the bytes read, or the
 *            struct stat / struct statfs / linux_dirent64 records the call filled, byte for byte (x86-64 layouts).
 * End of input ends the program with status 0; a malformed request ends it with status 2.
 * Usage: conformance-driver   (umask is set to 0: the FileSystem contract applies no umask) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

enum {
  OP_OPEN = 1,   /* s path, i flags, i mode -> fd */
  OP_CLOSE,      /* i fd */
  OP_READ,       /* i fd, i count -> n, the bytes */
  OP_WRITE,      /* i fd, s data -> n */
  OP_PREAD,      /* i fd, i count, i offset -> n, the bytes */
  OP_PWRITE,     /* i fd, s data, i offset -> n */
  OP_LSEEK,      /* i fd, i offset, i whence -> position */
  OP_FSTAT,      /* i fd -> 0, struct stat */
  OP_STAT,       /* s path -> 0, stat */
  OP_LSTAT,      /* s path -> 0, stat */
  OP_FTRUNCATE,  /* i fd, i length */
  OP_TRUNCATE,   /* s path, i length */
  OP_FSYNC,      /* i fd */
  OP_FDATASYNC,  /* i fd */
  OP_MKDIR,      /* s path, i mode */
  OP_MKNOD,      /* s path, i mode, i rdev */
  OP_RMDIR,      /* s path */
  OP_UNLINK,     /* s path */
  OP_RENAME,     /* s from, s to, i flags (0: rename, else renameat2) */
  OP_READDIR,    /* i fd, i cookie -> entries, their linux_dirent64 records without . and .. (d_off: the next cookie) */
  OP_SYMLINK,    /* s target, s path */
  OP_READLINK,   /* s path -> length, the target */
  OP_LINK,       /* s existing, s path */
  OP_CHMOD,      /* s path, i mode */
  OP_CHOWN,      /* s path, i uid, i gid, i flags (AT_SYMLINK_NOFOLLOW: lchown) */
  OP_UTIMENS,    /* s path, i atime, i atime_ns, i mtime, i mtime_ns, i flags (utimensat) */
  OP_ACCESS,     /* s path, i mode */
  OP_STATFS,     /* s path -> 0, struct statfs */
  OP_COUNT
};

/** The argument kinds of each opcode, in order. */
static const char *const OPS[OP_COUNT] = {
    [OP_OPEN] = "sii", [OP_CLOSE] = "i", [OP_READ] = "ii", [OP_WRITE] = "is", [OP_PREAD] = "iii", [OP_PWRITE] = "isi",
    [OP_LSEEK] = "iii", [OP_FSTAT] = "i", [OP_STAT] = "s", [OP_LSTAT] = "s", [OP_FTRUNCATE] = "ii", [OP_TRUNCATE] = "si",
    [OP_FSYNC] = "i", [OP_FDATASYNC] = "i", [OP_MKDIR] = "si", [OP_MKNOD] = "sii", [OP_RMDIR] = "s", [OP_UNLINK] = "s",
    [OP_RENAME] = "ssi", [OP_READDIR] = "ii", [OP_SYMLINK] = "ss", [OP_READLINK] = "s", [OP_LINK] = "ss",
    [OP_CHMOD] = "si", [OP_CHOWN] = "siii", [OP_UTIMENS] = "siiiii", [OP_ACCESS] = "si", [OP_STATFS] = "s",
};

#define MAX_ARGS 6

/** The decoded arguments of one request: integers and NUL-terminated byte strings, in their order of kind. */
struct request {
  int op;
  int64_t i[MAX_ARGS];
  char *s[MAX_ARGS];
  size_t slen[MAX_ARGS];
};

/** The reply under construction: a growable payload. */
static uint8_t *payload;
static size_t payload_len, payload_cap;

static void put(const void *data, size_t length) {
  if (payload_len + length > payload_cap) {
    size_t cap = payload_cap ? payload_cap : 4096;
    while (cap < payload_len + length) cap *= 2;
    payload = realloc(payload, cap);
    if (payload == NULL) exit(3);
    payload_cap = cap;
  }
  memcpy(payload + payload_len, data, length);
  payload_len += length;
}

/** Reads exactly `length` bytes of standard input; 0 at a clean end of input before the first byte, -1 otherwise. */
static int read_exact(void *into, size_t length) {
  size_t done = 0;
  while (done < length) {
    ssize_t r = read(0, (char *)into + done, length - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return done == 0 && r == 0 ? 0 : -1;
    done += (size_t)r;
  }
  return 1;
}

static void write_exact(const void *data, size_t length) {
  size_t done = 0;
  while (done < length) {
    ssize_t r = write(1, (const char *)data + done, length - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) exit(4);
    done += (size_t)r;
  }
}

/** Splits `frame` (the bytes after the length) into `req` by the opcode's argument kinds; -1 when malformed. */
static int decode(uint8_t *frame, size_t length, struct request *req) {
  if (length < 1 || frame[0] == 0 || frame[0] >= OP_COUNT) return -1;
  req->op = frame[0];
  size_t at = 1;
  int ni = 0, ns = 0;
  for (const char *kind = OPS[req->op]; *kind != '\0'; kind++) {
    if (*kind == 'i') {
      if (at + 8 > length) return -1;
      memcpy(&req->i[ni++], frame + at, 8);
      at += 8;
    } else {
      uint32_t n;
      if (at + 4 > length) return -1;
      memcpy(&n, frame + at, 4);
      at += 4;
      if (n > length - at) return -1;
      req->s[ns] = malloc(n + 1);
      if (req->s[ns] == NULL) return -1;
      memcpy(req->s[ns], frame + at, n);
      req->s[ns][n] = '\0';
      req->slen[ns++] = n;
      at += n;
    }
  }
  return at == length ? 0 : -1;
}

static int64_t result(long r) { return r < 0 ? -(int64_t)errno : (int64_t)r; }

static int64_t stat_reply(int r, const struct stat *st) {
  if (r < 0) return -(int64_t)errno;
  put(st, sizeof *st);
  return 0;
}

/** One batch of the directory `fd` from `cookie`: lseek to the cookie, then getdents64 until a batch holds an entry
 * other than "." and ".." or the directory ends. Returns the count of entries put, or -errno. */
static int64_t read_directory(int fd, int64_t cookie) {
  if (lseek(fd, cookie, SEEK_SET) < 0) return -(int64_t)errno;
  char records[8192];
  int64_t entries = 0;
  while (entries == 0) {
    ssize_t n = getdents64(fd, records, sizeof records);
    if (n < 0) return -(int64_t)errno;
    if (n == 0) break;
    for (ssize_t at = 0; at < n;) {
      struct dirent64 *d = (struct dirent64 *)(records + at);
      at += d->d_reclen;
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      put(d, d->d_reclen);
      entries++;
    }
  }
  return entries;
}

/** Runs one request; returns its result, with its payload in `payload`. */
static int64_t run(const struct request *q) {
  const int64_t *i = q->i;
  char *const *s = q->s;
  struct stat st;
  switch (q->op) {
    case OP_OPEN:
      return result(open(s[0], (int)i[0], (mode_t)i[1]));
    case OP_CLOSE:
      return result(close((int)i[0]));
    case OP_READ:
    case OP_PREAD: {
      if (i[1] < 0) return -EINVAL;
      char *data = malloc((size_t)i[1] + 1);
      if (data == NULL) return -ENOMEM;
      ssize_t n = q->op == OP_READ ? read((int)i[0], data, (size_t)i[1]) : pread((int)i[0], data, (size_t)i[1], (off_t)i[2]);
      int64_t r = result(n);
      if (n > 0) put(data, (size_t)n);
      free(data);
      return r;
    }
    case OP_WRITE:
      return result(write((int)i[0], s[0], q->slen[0]));
    case OP_PWRITE:
      return result(pwrite((int)i[0], s[0], q->slen[0], (off_t)i[1]));
    case OP_LSEEK:
      return result(lseek((int)i[0], (off_t)i[1], (int)i[2]));
    case OP_FSTAT:
      return stat_reply(fstat((int)i[0], &st), &st);
    case OP_STAT:
      return stat_reply(stat(s[0], &st), &st);
    case OP_LSTAT:
      return stat_reply(lstat(s[0], &st), &st);
    case OP_FTRUNCATE:
      return result(ftruncate((int)i[0], (off_t)i[1]));
    case OP_TRUNCATE:
      return result(truncate(s[0], (off_t)i[0]));
    case OP_FSYNC:
      return result(fsync((int)i[0]));
    case OP_FDATASYNC:
      return result(fdatasync((int)i[0]));
    case OP_MKDIR:
      return result(mkdir(s[0], (mode_t)i[0]));
    case OP_MKNOD:
      return result(mknod(s[0], (mode_t)i[0], (dev_t)i[1]));
    case OP_RMDIR:
      return result(rmdir(s[0]));
    case OP_UNLINK:
      return result(unlink(s[0]));
    case OP_RENAME:
      return result(i[0] == 0 ? rename(s[0], s[1]) : renameat2(AT_FDCWD, s[0], AT_FDCWD, s[1], (unsigned)i[0]));
    case OP_READDIR:
      return read_directory((int)i[0], i[1]);
    case OP_SYMLINK:
      return result(symlink(s[0], s[1]));
    case OP_READLINK: {
      char target[8192];
      ssize_t n = readlink(s[0], target, sizeof target);
      if (n > 0) put(target, (size_t)n);
      return result(n);
    }
    case OP_LINK:
      return result(link(s[0], s[1]));
    case OP_CHMOD:
      return result(chmod(s[0], (mode_t)i[0]));
    case OP_CHOWN:
      return result(i[2] & AT_SYMLINK_NOFOLLOW ? lchown(s[0], (uid_t)i[0], (gid_t)i[1]) : chown(s[0], (uid_t)i[0], (gid_t)i[1]));
    case OP_UTIMENS: {
      struct timespec times[2] = {{(time_t)i[0], (long)i[1]}, {(time_t)i[2], (long)i[3]}};
      return result(utimensat(AT_FDCWD, s[0], times, (int)i[4]));
    }
    case OP_ACCESS:
      return result(access(s[0], (int)i[0]));
    case OP_STATFS: {
      struct statfs fs;
      if (statfs(s[0], &fs) < 0) return -(int64_t)errno;
      put(&fs, sizeof fs);
      return 0;
    }
    default:
      return -ENOSYS;
  }
}

int main(void) {
  umask(0);
  for (;;) {
    uint32_t length;
    int got = read_exact(&length, sizeof length);
    if (got == 0) return 0;
    if (got < 0) return 2;
    uint8_t *frame = malloc(length ? length : 1);
    if (frame == NULL || read_exact(frame, length) != 1) return 2;
    struct request req = {0};
    if (decode(frame, length, &req) < 0) return 2;
    free(frame);
    payload_len = 0;
    int64_t r = run(&req);
    for (int k = 0; k < MAX_ARGS; k++) free(req.s[k]);
    uint32_t n = (uint32_t)payload_len;
    write_exact(&r, sizeof r);
    write_exact(&n, sizeof n);
    if (n > 0) write_exact(payload, n);
  }
}
