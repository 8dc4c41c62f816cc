/* threads.c — THREADS threads of one process: each writes and reads back a file of its own with pwrite/pread, and all
 * append RECORDS records to one shared descriptor with write(): the shared file must hold every record whole. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define RECORDS 500
#define RECORD 32
static const char *dir;
static int shared;
static int failures;

static void *work(void *arg) {
  int id = (int)(long)arg;
  char path[4096], block[4096], back[4096];
  snprintf(path, sizeof path, "%s/own-%d", dir, id);
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0) { perror(path); __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST); return NULL; }
  for (int i = 0; i < RECORDS; i++) {
    char record[RECORD + 1];
    memset(record, ' ', sizeof record);
    int n = snprintf(record, sizeof record, "thread %d record %06d", id, i);
    record[n] = ' ';
    record[RECORD - 1] = '\n';
    if (write(shared, record, RECORD) != RECORD) __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
    memset(block, 'a' + id, sizeof block);
    memcpy(block, &i, sizeof i);
    if (pwrite(fd, block, sizeof block, (off_t)(i % 64) * 4096) != (ssize_t)sizeof block) __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
    if (pread(fd, back, sizeof back, (off_t)(i % 64) * 4096) != (ssize_t)sizeof back || memcmp(block, back, sizeof back) != 0) __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
  }
  fsync(fd);
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  dir = argv[1];
  char path[4096];
  snprintf(path, sizeof path, "%s/shared", dir);
  shared = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (shared < 0) { perror(path); return 1; }
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  close(shared);
  FILE *f = fopen(path, "r");
  char line[256];
  int lines = 0, whole = 0, seen[THREADS] = {0};
  while (fgets(line, sizeof line, f) != NULL) {
    int id, n;
    lines++;
    if (strlen(line) == RECORD && sscanf(line, "thread %d record %d", &id, &n) == 2 && id >= 0 && id < THREADS && n == seen[id]) { whole++; seen[id]++; }
  }
  fclose(f);
  printf("failures %d lines %d whole %d\n", failures, lines, whole);
  return failures != 0 || whole != THREADS * RECORDS;
}
