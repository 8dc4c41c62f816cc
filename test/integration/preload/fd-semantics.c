/* fd-semantics.c — descriptor behaviour a program relies on, printed line by line so a run on a danaus mount (through
 * the preload library) can be compared with a run on a host directory: shared offsets of dup'ed descriptors, fcntl
 * flags, dup2/dup3 past 1024, close/close_range, fork, errno values, directory positions (lseek, exec).
 * Usage: fd-semantics DIR [bypass]; fd-semantics DIR dir-child FD is the exec'ed half of the directory hand-over. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[4096];

/** DIR/name, in one of four rotating buffers (a call may take two paths). */
static const char *at(const char *name) {
  static char paths[4][8192];
  static int next;
  char *path = paths[next++ % 4];
  snprintf(path, sizeof paths[0], "%s/%s", dir, name);
  return path;
}

static void show(const char *what, long value) {
  printf("%s %ld %s\n", what, value, value < 0 ? strerror(errno) : "");
  fflush(stdout);
}

/** Reads directory `fd` to its end with getdents64 in 256-byte batches; returns the names other than "." and "..". */
static long names_to_end(int fd) {
  char dents[256];
  long names = 0;
  ssize_t got;
  while ((got = getdents64(fd, dents, sizeof dents)) > 0) {
    for (ssize_t off = 0; off < got;) {
      struct dirent64 *e = (struct dirent64 *)(dents + off);
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names++;
      off += e->d_reclen;
    }
  }
  return got < 0 ? -1 : names;
}

/** The first 256-byte batch of directory `fd`: its names other than "." and "..", and the d_off of its last entry. */
static long first_batch(int fd, long long *last_off) {
  char dents[256];
  ssize_t got = getdents64(fd, dents, sizeof dents);
  long names = 0;
  for (ssize_t off = 0; off < got;) {
    struct dirent64 *e = (struct dirent64 *)(dents + off);
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names++;
    *last_off = e->d_off;
    off += e->d_reclen;
  }
  return got < 0 ? -1 : names;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  snprintf(dir, sizeof dir, "%s", argv[1]);
  if (argc > 3 && strcmp(argv[2], "dir-child") == 0) {
    return (int)names_to_end(atoi(argv[3])); /* the parent adds it to its own count */
  }
  struct rlimit limit = {4096, 4096};
  setrlimit(RLIMIT_NOFILE, &limit);
  char buf[64] = {0};

  int fd = open(at("f"), O_CREAT | O_RDWR | O_TRUNC, 0644);
  show("open>=3", fd >= 3);
  show("write", write(fd, "hello", 5));
  int d = dup(fd);
  show("dup-differs", d != fd && d >= 0);
  show("dup-shares-offset", lseek(d, 0, SEEK_CUR));
  show("write-dup", write(d, " world", 6));
  show("pread", pread(fd, buf, 11, 0));
  printf("content %s\n", buf);
  show("getfl-rdwr", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  show("setfl-append", fcntl(fd, F_SETFL, O_APPEND));
  show("getfl-append", (fcntl(d, F_GETFL) & O_APPEND) != 0);
  lseek(fd, 0, SEEK_SET);
  show("append-write", write(fd, "!", 1));
  struct stat st;
  show("fstat", fstat(fd, &st));
  show("size", (long)st.st_size);
  show("getfd", fcntl(fd, F_GETFD));
  show("setfd", fcntl(fd, F_SETFD, FD_CLOEXEC));
  show("getfd-cloexec", fcntl(fd, F_GETFD));
  show("getfd-dup-unchanged", fcntl(d, F_GETFD));
  show("dup3", dup3(fd, 100, O_CLOEXEC));
  show("dup3-cloexec", fcntl(100, F_GETFD));
  show("dup2-past-1024", dup2(fd, 1030));
  show("write-1030", pwrite(1030, "HELLO", 5, 0));
  int low = fcntl(1030, F_DUPFD, 2000);
  show("dupfd>=2000", low >= 2000);
  show("close", close(fd));
  show("write-closed", write(fd, "x", 1));
  show("write-dup-after-close", pwrite(d, "W", 1, 1));
  show("close_range", close_range(100, 100, 0));
  show("write-range-closed", write(100, "x", 1));
  show("close-twice", close(100));
  show("dup2-bad", dup2(12345, 12346));

  pid_t child = fork();
  if (child == 0) {
    int ok = write(1030, "child", 5) == 5;
    int fresh = open(at("from-child"), O_CREAT | O_WRONLY, 0600);
    ok &= fresh >= 0 && write(fresh, "c", 1) == 1 && close(fresh) == 0;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  show("child-exit", WIFEXITED(status) ? WEXITSTATUS(status) : 100);
  memset(buf, 0, sizeof buf);
  show("read-back", pread(d, buf, sizeof buf - 1, 0));
  printf("content %s\n", buf);
  show("child-file", stat(at("from-child"), &st));

  int ro = open(at("f"), O_RDONLY);
  show("write-rdonly", write(ro, "x", 1));
  int wo = open(at("f"), O_WRONLY);
  show("read-wronly", read(wo, buf, 1));
  show("lseek-bad-whence", lseek(ro, 0, 99));
  show("lseek-negative", lseek(ro, -10, SEEK_SET));
  show("pread-negative", pread(ro, buf, 1, -1));
  show("ftruncate-rdonly", ftruncate(ro, 0));
  show("open-missing", open(at("missing/x"), O_RDONLY));
  show("open-excl", open(at("f"), O_CREAT | O_EXCL | O_WRONLY, 0600));
  show("mkdir", mkdir(at("d"), 0755));
  show("mkdir-again", mkdir(at("d"), 0755));
  show("open-dir-write", open(at("d"), O_WRONLY));
  show("creat-in-file", open(at("f/x"), O_CREAT | O_WRONLY, 0600));
  int inner = open(at("d/g"), O_CREAT | O_WRONLY, 0600);
  show("rmdir-nonempty", rmdir(at("d")));
  show("unlink-dir", unlink(at("d")));
  int dirfd = open(at("d"), O_RDONLY | O_DIRECTORY);
  show("openat-dirfd", openat(dirfd, "g", O_RDONLY) >= 0);
  show("fstatat-dirfd", fstatat(dirfd, "g", &st, 0));
  show("unlinkat-dirfd", unlinkat(dirfd, "g", 0));
  show("unlinkat-gone", unlinkat(dirfd, "g", 0));
  close(inner);
  show("access-f", access(at("f"), R_OK | W_OK));
  show("access-missing", access(at("missing"), F_OK));
  show("rename", rename(at("f"), at("f2")));
  show("stat-old", stat(at("f"), &st));
  show("stat-new-size", stat(at("f2"), &st) == 0 ? (long)st.st_size : -1);
  show("truncate", truncate(at("f2"), 3));
  show("size-after-truncate", stat(at("f2"), &st) == 0 ? (long)st.st_size : -1);
  show("symlink", symlink("f2", at("l")));
  char target[64] = {0};
  show("readlink", readlink(at("l"), target, sizeof target - 1));
  printf("target %s\n", target);
  show("lstat-is-link", lstat(at("l"), &st) == 0 && S_ISLNK(st.st_mode));
  show("stat-follows", stat(at("l"), &st) == 0 && S_ISREG(st.st_mode));
  show("chmod", chmod(at("f2"), 0600));
  show("mode", stat(at("f2"), &st) == 0 ? (long)(st.st_mode & 0777) : -1);

  /* Record locks between processes: the parent's write lock stops the child's; F_GETLK names the parent. */
  int lk = open(at("locked"), O_CREAT | O_RDWR, 0600);
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  show("setlk", fcntl(lk, F_SETLK, &fl));
  int pipefd[2], back[2];
  if (pipe(pipefd) < 0 || pipe(back) < 0) return 3;
  pid_t locker = fork();
  if (locker == 0) {
    int mine = open(at("locked"), O_RDWR);
    struct flock want = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
    int busy = fcntl(mine, F_SETLK, &want) < 0 && (errno == EAGAIN || errno == EACCES);
    struct flock probe = want;
    int owner = fcntl(mine, F_GETLK, &probe) == 0 && probe.l_type == F_WRLCK && probe.l_pid == getppid();
    struct flock after = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 1};
    int free_range = fcntl(mine, F_SETLK, &after) == 0;
    char go;
    if (write(back[1], "c", 1) != 1 || read(pipefd[0], &go, 1) != 1) _exit(9);
    int taken = fcntl(mine, F_SETLKW, &want) == 0;
    _exit((busy ? 0 : 1) | (owner ? 0 : 2) | (free_range ? 0 : 4) | (taken ? 0 : 8));
  }
  char checked;
  show("child-checked", read(back[0], &checked, 1));
  fl.l_type = F_UNLCK;
  show("unlock", fcntl(lk, F_SETLK, &fl));
  show("go", write(pipefd[1], "g", 1));
  waitpid(locker, &status, 0);
  show("locker-exit", WIFEXITED(status) ? WEXITSTATUS(status) : 100);
  show("flock", flock(lk, LOCK_EX | LOCK_NB));
  int other = open(at("locked"), O_RDWR);
  show("flock-other-ofd", flock(other, LOCK_EX | LOCK_NB));
  show("flock-unlock", flock(lk, LOCK_UN));
  show("flock-other-now", flock(other, LOCK_EX | LOCK_NB));
  /* lockf: a record lock from the position on (glibc builds it on its internal fcntl, which the library cannot see). */
  show("lockf-seek", lseek(lk, 0, SEEK_SET));
  show("lockf-tlock", lockf(lk, F_TLOCK, 10));
  pid_t tester = fork();
  if (tester == 0) {
    int mine = open(at("locked"), O_RDWR);
    int test_busy = lockf(mine, F_TEST, 10) < 0 && errno == EACCES;
    int tlock_busy = lockf(mine, F_TLOCK, 10) < 0 && (errno == EACCES || errno == EAGAIN);
    int beyond = lseek(mine, 10, SEEK_SET) == 10 && lockf(mine, F_TLOCK, 5) == 0;
    _exit((test_busy ? 0 : 1) | (tlock_busy ? 0 : 2) | (beyond ? 0 : 4));
  }
  waitpid(tester, &status, 0);
  show("lockf-tester-exit", WIFEXITED(status) ? WEXITSTATUS(status) : 100);
  show("lockf-ulock", lockf(lk, F_ULOCK, 10));
  struct flock rd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  int rdonly = open(at("locked"), O_RDONLY);
  show("wrlck-on-rdonly", fcntl(rdonly, F_SETLK, &rd));

  /* freopen of stdin onto a file. */
  FILE *in = freopen(at("f2"), "r", stdin);
  show("freopen", in != NULL);
  char line[16] = {0};
  if (in != NULL && fgets(line, sizeof line, stdin) != NULL) printf("stdin %s\n", line);

  /* getdents64 in small batches, and a buffer too small for one entry. */
  mkdir(at("many"), 0755);
  for (int i = 0; i < 40; i++) {
    char name[64];
    snprintf(name, sizeof name, "many/entry-with-a-longer-name-%02d", i);
    close(open(at(name), O_CREAT | O_WRONLY, 0600));
  }
  int many = open(at("many"), O_RDONLY | O_DIRECTORY);
  char dents[256];
  long names = 0, batches = 0;
  ssize_t got;
  while ((got = getdents64(many, dents, sizeof dents)) > 0) {
    batches++;
    for (ssize_t off = 0; off < got;) {
      struct dirent64 *e = (struct dirent64 *)(dents + off);
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names++;
      off += e->d_reclen;
    }
  }
  show("getdents-end", got);
  show("getdents-names", names);
  show("getdents-batched", batches > 1);
  int again_dir = open(at("many"), O_RDONLY | O_DIRECTORY);
  show("getdents-tiny", getdents64(again_dir, dents, 8));

  /* lseek to an entry's d_off lists what follows it again; across exec, a directory keeps its position. */
  int listing = open(at("many"), O_RDONLY | O_DIRECTORY);
  long long cookie = 0;
  long first = first_batch(listing, &cookie);
  long rest = names_to_end(listing);
  show("getdents-first-and-rest", first + rest);
  show("lseek-dir-cookie", lseek(listing, cookie, SEEK_SET) == cookie);
  show("getdents-rest-again", names_to_end(listing) == rest);
  int handed = open(at("many"), O_RDONLY | O_DIRECTORY);
  first = first_batch(handed, &cookie);
  pid_t reader = fork();
  if (reader == 0) {
    char number[16];
    snprintf(number, sizeof number, "%d", handed);
    execl(argv[0], argv[0], dir, "dir-child", number, (char *)NULL);
    _exit(127);
  }
  int reader_status = 0;
  waitpid(reader, &reader_status, 0);
  show("dir-handover-names", WIFEXITED(reader_status) ? first + WEXITSTATUS(reader_status) : -1000);

  /* A program that closes every descriptor keeps the library working. */
  show("closefrom", close_range(3, ~0U, 0));
  int again = open(at("after-closefrom"), O_CREAT | O_WRONLY, 0600);
  show("open-after-closefrom", again >= 3);
  show("write-after-closefrom", write(again, "ok", 2));
  close(again);
  if (argc > 2 && strcmp(argv[2], "bypass") == 0) {
    /* Bypassing the library (a raw system call) on a private descriptor fails; it never lands in a placeholder. */
    int p = open(at("bypass"), O_CREAT | O_WRONLY, 0600);
    long r = syscall(SYS_write, p, "x", 1);
    printf("bypass-write %ld %s\n", r, r < 0 ? strerror(errno) : "");
    r = syscall(SYS_read, p, buf, 1);
    printf("bypass-read %ld %s\n", r, r < 0 ? strerror(errno) : "");
  }
  return 0;
}
