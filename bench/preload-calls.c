/*
 * preload-calls — part of `bun run bench preload`: the time per stat(2) and per 4 KiB pread(2) of a host file, for
 * running with and without the LD_PRELOAD library (the calls go to the kernel either way; the difference is what the
 * library adds to a call it passes on). Usage: preload-calls FILE BATCHES CALLS [MOUNT_PATH]. With MOUNT_PATH, the
 * program first stats that path (so the library has registered with the tenant and holds its mount table, as in a
 * program that uses both). It times BATCHES batches of CALLS stat calls, each followed by a batch of CALLS preads, and
 * prints one line: "stat_ns pread_ns", the median over the batches of the nanoseconds per call (a batch that another
 * process preempted does not move the median). With --stat-only first, FILE may be anywhere (a file in a mount the
 * library serves, on a FUSE mount, on the host): only the stat batches run, and the line is "stat_ns".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *values, long n) {
  qsort(values, (size_t)n, sizeof *values, by_value);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* `calls` stats of `file`: 0, or 1 after saying why one failed. */
static int stats(const char *file, long calls) {
  struct stat st;
  for (long i = 0; i < calls; i++) {
    if (stat(file, &st) != 0) {
      perror(file);
      return 1;
    }
  }
  return 0;
}

/* --stat-only: BATCHES batches of CALLS stats of `file` after a warm-up; prints the median ns per call. */
static int stat_loop(const char *file, long batches, long calls) {
  double *ns = calloc((size_t)batches, sizeof(double));
  if (ns == NULL) {
    perror("calloc");
    return 1;
  }
  if (stats(file, 1000) != 0) return 1;
  for (long b = 0; b < batches; b++) {
    double t0 = now_ns();
    if (stats(file, calls) != 0) return 1;
    ns[b] = (now_ns() - t0) / (double)calls;
  }
  printf("%.1f\n", median(ns, batches));
  free(ns);
  return 0;
}

int main(int argc, char **argv) {
  int stat_only = argc > 1 && strcmp(argv[1], "--stat-only") == 0;
  if (stat_only) {
    argv++;
    argc--;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: %s [--stat-only] FILE BATCHES CALLS [MOUNT_PATH]\n", argv[0]);
    return 2;
  }
  const char *file = argv[1];
  long batches = strtol(argv[2], NULL, 10);
  long calls = strtol(argv[3], NULL, 10);
  if (batches < 1 || calls < 1) {
    fprintf(stderr, "BATCHES and CALLS must be positive\n");
    return 2;
  }
  struct stat st;
  if (argc > 4 && stat(argv[4], &st) != 0) {
    perror(argv[4]);
    return 1;
  }
  if (stat_only) return stat_loop(file, batches, calls);
  int fd = open(file, O_RDONLY);
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 4096) {
    perror(file);
    return 1;
  }
  long blocks = st.st_size / 4096;
  static char buf[4096];
  double *stat_ns = calloc((size_t)batches, sizeof(double));
  double *pread_ns = calloc((size_t)batches, sizeof(double));
  if (stat_ns == NULL || pread_ns == NULL) {
    perror("calloc");
    return 1;
  }
  /* Warm both paths (page cache, dentry cache, the library's first-call set-up). */
  for (long i = 0; i < 1000; i++) {
    if (stat(file, &st) != 0 || pread(fd, buf, sizeof buf, (off_t)(i % blocks) * 4096) != (ssize_t)sizeof buf) {
      perror("warm-up");
      return 1;
    }
  }
  for (long b = 0; b < batches; b++) {
    double t0 = now_ns();
    if (stats(file, calls) != 0) return 1;
    double t1 = now_ns();
    for (long i = 0; i < calls; i++) {
      if (pread(fd, buf, sizeof buf, (off_t)(i % blocks) * 4096) != (ssize_t)sizeof buf) {
        perror("pread");
        return 1;
      }
    }
    double t2 = now_ns();
    stat_ns[b] = (t1 - t0) / (double)calls;
    pread_ns[b] = (t2 - t1) / (double)calls;
  }
  close(fd);
  printf("%.1f %.1f\n", median(stat_ns, batches), median(pread_ns, batches));
  free(stat_ns);
  free(pread_ns);
  return 0;
}
