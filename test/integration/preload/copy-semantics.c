/* copy-semantics.c — copy_file_range(2) and sendfile(2) as a program sees them, printed line by line so a run on a
 * danaus mount (through the preload library) can be compared with a run on a host directory: file positions with a
 * NULL offset, updated offsets with a given one, counts, the end of the file, every mix of a file in DIR and a kernel
 * file in KDIR (on the host run both are the kernel's; files are opened relative to the directories with openat), a pipe
 * as sendfile's output, and the errno values.
 * Usage: copy-semantics DIR KDIR */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE 300000

/** The two directories, open: files are named relative to them (openat). */
static int dir, kdir;

/** A result and, when it failed, the errno's name. */
static void show(const char *what, long value) {
  printf("%s %ld%s%s\n", what, value, value < 0 ? " " : "", value < 0 ? strerrorname_np(errno) : "");
}

/** FNV-1a of the whole file `name` in directory `at` and its size. */
static void digest(const char *what, int at, const char *name) {
  int fd = openat(at, name, O_RDONLY);
  uint64_t h = 1469598103934665603ull;
  long size = 0;
  unsigned char buf[8192];
  ssize_t n;
  while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ull;
    size += n;
  }
  if (fd >= 0) close(fd);
  printf("%s size %ld fnv %016llx\n", what, size, (unsigned long long)h);
}

static void make(int at, const char *name) {
  static char data[SIZE];
  for (int i = 0; i < SIZE; i++) data[i] = (char)(i * 7 % 251);
  int fd = openat(at, name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0 || write(fd, data, SIZE) != SIZE) perror(name);
  close(fd);
}

static long position(int fd) { return (long)lseek(fd, 0, SEEK_CUR); }

/** copy_file_range cases from `src` in `from` to a new file `dst` in `to`, with NULL and given offsets. */
static void copy_range(const char *label, int from, const char *src, int to, const char *dst) {
  char what[128];
  int a = openat(from, src, O_RDONLY), b = openat(to, dst, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  lseek(a, 10, SEEK_SET);
  snprintf(what, sizeof what, "%s null-offsets", label);
  show(what, (long)copy_file_range(a, NULL, b, NULL, 5000, 0));
  printf("%s positions %ld %ld\n", label, position(a), position(b));
  long total = 0;
  ssize_t r;
  while ((r = copy_file_range(a, NULL, b, NULL, 65536 + 3, 0)) > 0) total += r;
  printf("%s rest %ld then %ld, positions %ld %ld\n", label, total, (long)r, position(a), position(b));
  loff_t oi = 100, oo = 50;
  snprintf(what, sizeof what, "%s given-offsets", label);
  show(what, (long)copy_file_range(a, &oi, b, &oo, 1000, 0));
  printf("%s offsets %lld %lld positions %ld %ld\n", label, (long long)oi, (long long)oo, position(a), position(b));
  oi = SIZE - 7;
  oo = SIZE + 100;
  snprintf(what, sizeof what, "%s to-the-end-and-beyond", label);
  show(what, (long)copy_file_range(a, &oi, b, &oo, 1000, 0));
  snprintf(what, sizeof what, "%s past-the-end", label);
  show(what, (long)copy_file_range(a, &oi, b, &oo, 1000, 0));
  printf("%s offsets %lld %lld\n", label, (long long)oi, (long long)oo);
  close(a);
  close(b);
  digest(label, to, dst);
}

/** sendfile cases from `src` in `from` to a new file `dst` in `to`, with NULL and given offsets. */
static void send_file(const char *label, int from, const char *src, int to, const char *dst) {
  char what[128];
  int a = openat(from, src, O_RDONLY), b = openat(to, dst, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  lseek(a, 3, SEEK_SET);
  snprintf(what, sizeof what, "%s null-offset", label);
  show(what, (long)sendfile(b, a, NULL, 7000));
  printf("%s positions %ld %ld\n", label, position(a), position(b));
  off_t off = 1000;
  snprintf(what, sizeof what, "%s given-offset", label);
  show(what, (long)sendfile(b, a, &off, 200000));
  printf("%s offset %lld positions %ld %ld\n", label, (long long)off, position(a), position(b));
  off = SIZE - 5;
  snprintf(what, sizeof what, "%s at-the-end", label);
  show(what, (long)sendfile(b, a, &off, 100));
  show(what, (long)sendfile(b, a, &off, 100));
  printf("%s offset %lld\n", label, (long long)off);
  close(a);
  close(b);
  digest(label, to, dst);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  dir = open(argv[1], O_RDONLY | O_DIRECTORY);
  kdir = open(argv[2], O_RDONLY | O_DIRECTORY);
  if (dir < 0 || kdir < 0) return 2;
  make(dir, "src");
  make(kdir, "ksrc");

  copy_range("cfr-dir-dir", dir, "src", dir, "c1");
  copy_range("cfr-dir-kernel", dir, "src", kdir, "kc2");
  copy_range("cfr-kernel-dir", kdir, "ksrc", dir, "c3");
  send_file("sendfile-dir-dir", dir, "src", dir, "s1");
  send_file("sendfile-dir-kernel", dir, "src", kdir, "ks2");
  send_file("sendfile-kernel-dir", kdir, "ksrc", dir, "s3");

  /* sendfile into a pipe, from a file in DIR. */
  int pipefd[2];
  if (pipe(pipefd) < 0) return 3;
  int src = openat(dir, "src", O_RDONLY);
  off_t off = 17;
  show("sendfile-to-pipe", (long)sendfile(pipefd[1], src, &off, 4000));
  printf("sendfile-to-pipe offset %lld position %ld\n", (long long)off, position(src));
  char piped[5000];
  ssize_t got = read(pipefd[0], piped, sizeof piped);
  printf("sendfile-to-pipe read %ld first %d last %d\n", (long)got, piped[0], piped[got - 1]);
  close(pipefd[0]);
  close(pipefd[1]);

  /* The same file: overlapping ranges are EINVAL, disjoint ones copy. */
  int same = openat(dir, "c1", O_RDWR);
  loff_t oi = 0, oo = 10;
  show("cfr-same-file-overlap", (long)copy_file_range(same, &oi, same, &oo, 100, 0));
  oo = 1000;
  show("cfr-same-file-disjoint", (long)copy_file_range(same, &oi, same, &oo, 100, 0));
  printf("cfr-same-file offsets %lld %lld\n", (long long)oi, (long long)oo);
  close(same);

  /* Errors. */
  int rd = openat(dir, "src", O_RDONLY);
  int wr = openat(dir, "w", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  int app = openat(dir, "a", O_CREAT | O_WRONLY | O_APPEND, 0644);
  int closed = openat(dir, "src", O_RDONLY);
  close(closed);
  loff_t negative = -1;
  show("cfr-flags", (long)copy_file_range(rd, NULL, wr, NULL, 10, 1));
  show("cfr-in-write-only", (long)copy_file_range(wr, NULL, wr, NULL, 10, 0));
  show("cfr-out-read-only", (long)copy_file_range(rd, NULL, rd, NULL, 10, 0));
  show("cfr-out-append", (long)copy_file_range(rd, NULL, app, NULL, 10, 0));
  show("cfr-in-directory", (long)copy_file_range(dir, NULL, wr, NULL, 10, 0));
  show("cfr-in-closed", (long)copy_file_range(closed, NULL, wr, NULL, 10, 0));
  show("cfr-out-closed", (long)copy_file_range(rd, NULL, closed, NULL, 10, 0));
  show("cfr-negative-offset", (long)copy_file_range(rd, &negative, wr, NULL, 10, 0));
  show("cfr-zero-length", (long)copy_file_range(rd, NULL, wr, NULL, 0, 0));
  off_t snegative = -1;
  show("sendfile-in-write-only", (long)sendfile(wr, wr, NULL, 10));
  show("sendfile-out-read-only", (long)sendfile(rd, rd, NULL, 10));
  show("sendfile-out-append", (long)sendfile(app, rd, NULL, 10));
  show("sendfile-in-directory", (long)sendfile(wr, dir, NULL, 10));
  show("sendfile-in-closed", (long)sendfile(wr, closed, NULL, 10));
  show("sendfile-out-closed", (long)sendfile(closed, rd, NULL, 10));
  show("sendfile-negative-offset", (long)sendfile(wr, rd, &snegative, 10));
  show("sendfile-zero-count", (long)sendfile(wr, rd, NULL, 0));
  if (pipe(pipefd) < 0) return 3;
  off = 0;
  show("sendfile-from-pipe-with-offset", (long)sendfile(wr, pipefd[0], &off, 10));
  printf("positions after errors %ld %ld %ld\n", position(rd), position(wr), position(app));
  digest("after errors w", dir, "w");
  digest("after errors a", dir, "a");
  return 0;
}
