/* glibc-internal.c — glibc functions that reach files through glibc's own internal calls (mkstemp and kin, mkdtemp,
 * mktemp, readdir_r, scandirat, getdirentries, glob, nftw/ftw, lockf, __xstat), printed line by line so a run in a
 * danaus mount (through the preload library) can be compared with a run in a host directory. Names are relative to
 * DIR after chdir(DIR), so a call that escaped to the kernel would land in the kernel's working directory instead.
 * Usage: glibc-internal DIR; glibc-internal DIR fts prints what fts_open answers for DIR. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* readdir_r and mktemp are deprecated, but programs still call them: they are what is tested here. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);

static void show(const char *what, long value) {
  printf("%s %ld %s\n", what, value, value < 0 ? strerror(errno) : "");
  fflush(stdout);
}

static void put(const char *path, const char *bytes) {
  FILE *f = fopen(path, "w");
  if (f == NULL || fputs(bytes, f) < 0 || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

/** Whether the six X before `suffix` bytes of `name` were replaced (by anything but '/'). */
static int filled(const char *name, size_t suffix) {
  size_t n = strlen(name);
  return n >= 6 + suffix && memcmp(name + n - suffix - 6, "XXXXXX", 6) != 0 && memchr(name + n - suffix - 6, '/', 6) == NULL;
}

static void temporaries(void) {
  char t1[] = "tmp-XXXXXX";
  int fd = mkstemp(t1);
  struct stat st;
  show("mkstemp", fd < 0 ? -1 : write(fd, "abc", 3));
  show("mkstemp-filled", filled(t1, 0));
  show("mkstemp-mode", fstat(fd, &st) < 0 ? -1 : (long)(st.st_mode & 0777));
  show("mkstemp-size", stat(t1, &st) < 0 ? -1 : (long)st.st_size);
  show("mkstemp-rdwr", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  close(fd);
  show("mkstemp-unlink", unlink(t1));

  char t2[] = "sub-dir/pre-XXXXXX.txt";
  mkdir("sub-dir", 0755);
  fd = mkostemps(t2, 4, O_APPEND | O_CLOEXEC);
  show("mkostemps", fd >= 0);
  show("mkostemps-filled", filled(t2, 4) && strcmp(t2 + strlen(t2) - 4, ".txt") == 0);
  show("mkostemps-append", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
  show("mkostemps-cloexec", fcntl(fd, F_GETFD));
  close(fd);
  show("mkostemps-unlink", unlink(t2));

  char t3[] = "tmp-XXXXXX";
  fd = mkostemp(t3, O_CLOEXEC);
  show("mkostemp", fd >= 0 && filled(t3, 0));
  close(fd);
  unlink(t3);

  char t4[] = "sub-dir/d-XXXXXX";
  char *d = mkdtemp(t4);
  show("mkdtemp", d == t4 && filled(t4, 0));
  show("mkdtemp-mode", stat(t4, &st) < 0 ? -1 : (long)(st.st_mode & 07777));
  show("mkdtemp-isdir", S_ISDIR(st.st_mode));
  show("mkdtemp-rmdir", rmdir(t4));

  char bad[] = "tmp-XXXXX";
  show("mkstemp-short-template", mkstemp(bad));
  char bad2[] = "tmp-XXXXXXy";
  show("mkstemps-bad-suffix", mkstemps(bad2, 2));
  show("mkstemp-missing-dir", (errno = 0, mkstemp((char[]){"no-such-dir/XXXXXX"})));
  show("mkdtemp-missing-dir", mkdtemp((char[]){"no-such-dir/XXXXXX"}) == NULL ? -1 : 0);

  char t5[] = "tmp-XXXXXX";
  char *m = mktemp(t5);
  show("mktemp", m == t5 && filled(t5, 0) && access(t5, F_OK) < 0 && errno == ENOENT);
  unsetenv("TMPDIR"); /* else tempnam would take it before its argument */
  char *tn = tempnam("sub-dir", "pre");
  show("tempnam", tn != NULL && strncmp(tn, "sub-dir/pre", 11) == 0 && filled(tn, 0) && access(tn, F_OK) < 0);
  free(tn);
  show("rmdir-sub-dir", rmdir("sub-dir"));
}

/* ---- directories ---- */

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/** Prints `count` collected lines sorted (the order of readdir differs between filesystems), then frees them. */
static void print_sorted(const char *what, char **lines, size_t count) {
  qsort(lines, count, sizeof *lines, by_name);
  for (size_t i = 0; i < count; i++) {
    printf("%s %s\n", what, lines[i]);
    free(lines[i]);
  }
  fflush(stdout);
}

static char *lines[256];
static size_t nlines;

static void collect(const char *fmt, const char *a, long b) {
  if (nlines == sizeof lines / sizeof *lines) return;
  if (asprintf(&lines[nlines], fmt, a, b) >= 0) nlines++;
}

static void make_tree(void) {
  mkdir("tree", 0755);
  mkdir("tree/sub", 0755);
  mkdir("tree/sub/deep", 0755);
  mkdir("other", 0755);
  put("tree/a.c", "a");
  put("tree/b.c", "bb");
  put("tree/notes", "ccc");
  put("tree/sub/x.c", "xxxx");
  put("tree/sub/deep/y", "yyyyy");
  put("other/z", "zzzzzz");
  symlink("../other", "tree/outlink");   /* a directory outside the tree: walked when symlinks are followed */
  symlink("..", "tree/sub/up");           /* a loop back to the start: never walked twice */
  symlink("nowhere", "tree/dangling");
  symlink("a.c", "tree/file-link");
}

/** Not "." or "..": the service's listings leave them out (a directory need not list them), the kernel's do not. */
static int named(const char *name) { return strcmp(name, ".") != 0 && strcmp(name, "..") != 0; }
static int named_entry(const struct dirent *e) { return named(e->d_name); }

static void directories(void) {
  DIR *dir = opendir("tree");
  struct dirent entry, *result;
  int r;
  while ((r = readdir_r(dir, &entry, &result)) == 0 && result != NULL) {
    if (named(entry.d_name)) collect("%s %ld", entry.d_name, entry.d_type);
  }
  show("readdir_r-end", r);
  print_sorted("readdir_r", lines, nlines);
  nlines = 0;
  closedir(dir);

  struct dirent64 entry64, *result64;
  dir = opendir("tree/sub");
  while ((r = readdir64_r(dir, &entry64, &result64)) == 0 && result64 != NULL) {
    if (named(entry64.d_name)) collect("%s %ld", entry64.d_name, entry64.d_type);
  }
  print_sorted("readdir64_r", lines, nlines);
  nlines = 0;
  closedir(dir);

  int tree = open("tree", O_RDONLY | O_DIRECTORY);
  struct dirent **list;
  int n = scandirat(tree, "sub", &list, named_entry, alphasort);
  show("scandirat", n);
  for (int i = 0; i < n; i++) {
    printf("scandirat %s\n", list[i]->d_name);
    free(list[i]);
  }
  if (n >= 0) free(list);
  show("scandirat-missing", scandirat(tree, "missing", &list, NULL, alphasort));

  char buf[4096];
  off_t base = -1;
  int sub = openat(tree, "sub", O_RDONLY | O_DIRECTORY);
  ssize_t got, names = 0;
  while ((got = getdirentries(sub, buf, sizeof buf, &base)) > 0) {
    for (ssize_t at = 0; at < got; at += ((struct dirent *)(buf + at))->d_reclen) names += named(((struct dirent *)(buf + at))->d_name);
  }
  show("getdirentries-names", (long)names);
  show("getdirentries-end", (long)got);
  close(sub);
  close(tree);
}

static void globs(void) {
  const char *patterns[] = {"tree/*.c", "tree/*/", "tree/s*/*", "tree/[ab].c", "tree/none*", "tree/notes", "*/sub/deep/?"};
  int flags[] = {0, GLOB_MARK, 0, 0, GLOB_NOCHECK, 0, 0};
  for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
    glob_t g;
    int r = glob(patterns[i], flags[i], NULL, &g);
    printf("glob %s -> %d:", patterns[i], r);
    for (size_t j = 0; r == 0 && j < g.gl_pathc; j++) printf(" %s", g.gl_pathv[j]);
    printf("\n");
    if (r == 0) globfree(&g);
  }
  glob_t g;
  int r = glob("tree/*.c", 0, NULL, &g);
  if (r == 0) r = glob("tree/sub/*", GLOB_APPEND, NULL, &g);
  printf("glob-append %d %zu\n", r, r == 0 ? g.gl_pathc : 0);
  if (r == 0) globfree(&g);
  fflush(stdout);
}

/* ---- nftw ---- */

static const char *kind(int type) {
  switch (type) {
  case FTW_F: return "F";
  case FTW_D: return "D";
  case FTW_DNR: return "DNR";
  case FTW_NS: return "NS";
  case FTW_SL: return "SL";
  case FTW_DP: return "DP";
  case FTW_SLN: return "SLN";
  default: return "?";
  }
}

static int chdir_mode;
static const char *skip_name;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  char line[8192];
  char where[32] = "";
  if (chdir_mode) {
    /* With FTW_CHDIR the working directory is the entry's directory: its name is reachable from there. */
    struct stat here;
    snprintf(where, sizeof where, " here=%d", lstat(path + ftw->base, &here) == 0);
  }
  snprintf(line, sizeof line, "%s %s level=%d base=%s size=%ld%s", path, kind(type), ftw->level, path + ftw->base,
           type == FTW_F ? (long)st->st_size : -1L, where);
  collect("%s%.0ld", line, 0);
  if (skip_name != NULL && strcmp(path + ftw->base, skip_name) == 0) return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_SKIP_SIBLINGS;
  return 0;
}

static int stop_at_x(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st, (void)type;
  collect("%s%.0ld", path, 0);
  return strcmp(path + ftw->base, "x.c") == 0 ? 42 : 0;
}

static int old_visit(const char *path, const struct stat *st, int type) {
  char line[4096];
  snprintf(line, sizeof line, "%s %s size=%ld", path, kind(type), type == FTW_F ? (long)st->st_size : -1L);
  collect("%s%.0ld", line, 0);
  return 0;
}

static void walks(void) {
  struct { const char *name; int flags; const char *skip; } runs[] = {
    {"follow", 0, NULL},
    {"phys", FTW_PHYS, NULL},
    {"phys-depth", FTW_PHYS | FTW_DEPTH, NULL},
    {"depth", FTW_DEPTH, NULL},
    {"mount", FTW_PHYS | FTW_MOUNT, NULL},
    {"chdir", FTW_PHYS | FTW_CHDIR, NULL},
    {"chdir-follow-depth", FTW_CHDIR | FTW_DEPTH, NULL},
    {"skip-subtree", FTW_PHYS | FTW_ACTIONRETVAL, "sub"},
    {"skip-siblings", FTW_PHYS | FTW_ACTIONRETVAL, "y"},
  };
  char cwd_before[4096], cwd_after[4096];
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
    chdir_mode = (runs[i].flags & FTW_CHDIR) != 0;
    skip_name = runs[i].skip;
    getcwd(cwd_before, sizeof cwd_before);
    /* One descriptor when the walk stays put; with FTW_CHDIR enough for glibc to fchdir back (with too few it climbs
     * with "..", which leaves a followed symlink's target rather than returning to the tree). */
    int r = nftw("tree/", visit, chdir_mode ? 32 : 1, runs[i].flags);
    getcwd(cwd_after, sizeof cwd_after);
    printf("nftw-%s %d cwd-kept=%d\n", runs[i].name, r, strcmp(cwd_before, cwd_after) == 0);
    print_sorted(runs[i].name, lines, nlines);
    nlines = 0;
  }
  chdir_mode = 0;
  skip_name = NULL;
  int r = nftw("tree", stop_at_x, 2, FTW_PHYS);
  printf("nftw-stop %d\n", r);
  for (size_t i = 0; i < nlines; i++) free(lines[i]);
  nlines = 0;
  show("nftw-file", nftw("tree/a.c", visit, 4, 0));
  print_sorted("file", lines, nlines);
  nlines = 0;
  show("nftw-dangling", nftw("tree/dangling", visit, 4, 0));
  print_sorted("dangling", lines, nlines);
  nlines = 0;
  show("nftw-missing", nftw("tree/missing", visit, 4, 0));
  show("nftw-bad-flags", nftw("tree", visit, 4, 1 << 20));
  show("ftw", ftw("tree", old_visit, 3));
  print_sorted("ftw", lines, nlines);
  nlines = 0;
}

static void others(void) {
  int fd = open("tree/notes", O_RDWR);
  show("lockf-tlock", lockf(fd, F_TLOCK, 0));
  show("lockf-test", lockf(fd, F_TEST, 0));
  show("lockf-ulock", lockf(fd, F_ULOCK, 0));
  show("lockf-bad", lockf(fd, 99, 0));
  close(fd);
  struct stat st;
  show("__xstat-size", __xstat(1, "tree/b.c", &st) < 0 ? -1 : (long)st.st_size);
  show("__lxstat-link", __lxstat(1, "tree/file-link", &st) < 0 ? -1 : S_ISLNK(st.st_mode));
  show("__xstat-missing", __xstat(1, "tree/missing", &st));
  show("lchmod", lchmod("tree/notes", 0600));
  show("lchmod-mode", stat("tree/notes", &st) < 0 ? -1 : (long)(st.st_mode & 0777));
  show("fchmodat-nofollow", fchmodat(AT_FDCWD, "tree/notes", 0640, AT_SYMLINK_NOFOLLOW));
  show("fchmodat-nofollow-mode", stat("tree/notes", &st) < 0 ? -1 : (long)(st.st_mode & 0777));
  show("fchmodat-nofollow-link", fchmodat(AT_FDCWD, "tree/file-link", 0600, AT_SYMLINK_NOFOLLOW));
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) < 0) {
    fprintf(stderr, "usage: glibc-internal DIR [fts]\n");
    return 2;
  }
  if (argc > 2 && strcmp(argv[2], "fts") == 0) {
    char *paths[] = {".", NULL};
    FTS *fts = fts_open(paths, FTS_PHYSICAL, NULL);
    show("fts_open", fts == NULL ? -1 : 0);
    if (fts != NULL) fts_close(fts);
    return 0;
  }
  temporaries();
  make_tree();
  directories();
  globs();
  walks();
  others();
  return 0;
}
