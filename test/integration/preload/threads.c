/* threads.c — THREADS threads of one process: each writes and reads back a file of its own with pwrite/pread, and all
 * append RECORDS records to one shared descriptor with write(); meanwhile the main thread forks CHILDREN children that
 * write CHILD_RECORDS records each to the same descriptor (one open file description, one position, as on the kernel).
 * The shared file must hold every record whole, each writer's in its order. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define RECORDS 500
#define RECORD 32
#define CHILDREN 10
#define CHILD_RECORDS 10
static const char *dir;
static int shared;
static int failures;

/** A RECORD-byte line "<who> <id> record <n>", space-padded. */
static void record_of(char *record, const char *who, int id, int n) {
  memset(record, ' ', RECORD);
  int length = snprintf(record, RECORD, "%s %d record %06d", who, id, n);
  record[length] = ' ';
  record[RECORD - 1] = '\n';
}

static void *work(void *arg) {
  int id = (int)(long)arg;
  char path[4096], block[4096], back[4096];
  snprintf(path, sizeof path, "%s/own-%d", dir, id);
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0) { perror(path); __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST); return NULL; }
  for (int i = 0; i < RECORDS; i++) {
    char record[RECORD + 1];
    record_of(record, "thread", id, i);
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
  for (int c = 0; c < CHILDREN; c++) {
    pid_t pid = fork();
    if (pid == 0) {
      char record[RECORD + 1];
      for (int i = 0; i < CHILD_RECORDS; i++) {
        record_of(record, "child", c, i);
        if (write(shared, record, RECORD) != RECORD) _exit(3);
      }
      _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  close(shared);
  FILE *f = fopen(path, "r");
  char line[256];
  int lines = 0, whole = 0, seen[THREADS] = {0}, seen_child[CHILDREN] = {0};
  while (fgets(line, sizeof line, f) != NULL) {
    int id, n;
    lines++;
    if (strlen(line) != RECORD) continue;
    if (sscanf(line, "thread %d record %d", &id, &n) == 2 && id >= 0 && id < THREADS && n == seen[id]) { whole++; seen[id]++; }
    if (sscanf(line, "child %d record %d", &id, &n) == 2 && id >= 0 && id < CHILDREN && n == seen_child[id]) { whole++; seen_child[id]++; }
  }
  fclose(f);
  printf("failures %d lines %d whole %d\n", failures, lines, whole);
  return failures != 0 || whole != THREADS * RECORDS + CHILDREN * CHILD_RECORDS;
}
