/* paths.c — routing: a path under one of the tenant's mount points (absolute, or relative to a working directory or a
 * directory descriptor inside one) goes to the tenant service, as a path inside that mount; every other path goes to
 * the kernel unchanged. Which mount a path is in is decided lexically (".", "..", repeated slashes), as the TypeScript
 * client does; the service gets the path inside the mount as spelled, and resolves its "." and ".." itself. */
#include "preload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int dn_cwd_mount = -1;
char dn_cwd_inner[DN_PATH_MAX];

/** Applies one component (p, n bytes) to the normalised absolute path out[0..*len). Returns 0 or -ENAMETOOLONG. */
static int step(char *out, size_t *len, const char *p, size_t n) {
  if (n == 1 && p[0] == '.') return 0;
  if (n == 2 && p[0] == '.' && p[1] == '.') {
    while (*len > 1 && out[*len - 1] != '/') (*len)--;
    if (*len > 1) (*len)--;
    out[*len] = '\0';
    return 0;
  }
  if (*len + 1 + n + 1 > DN_PATH_MAX) return -ENAMETOOLONG;
  if (*len > 1) out[(*len)++] = '/';
  memcpy(out + *len, p, n);
  *len += n;
  out[*len] = '\0';
  return 0;
}

/** The length of the component at p (up to the next '/' or the end). */
static size_t component(const char *p) {
  const char *end = strchr(p, '/');
  return end ? (size_t)(end - p) : strlen(p);
}

/** Appends the components of `path` to the normalised absolute path in out[0..*len). Returns 0 or -ENAMETOOLONG. */
static int append_normalised(char *out, size_t *len, const char *path) {
  for (const char *p = path;;) {
    while (*p == '/') p++;
    if (!*p) return 0;
    size_t n = component(p);
    if (step(out, len, p, n) < 0) return -ENAMETOOLONG;
    p += n;
  }
}

void dn_normalise(const char *inner, char *out) {
  size_t len = 1;
  out[0] = '/';
  out[1] = '\0';
  append_normalised(out, &len, inner);
}

/**
 * The path inside mount point `point` that absolute path `abs` (which lies in it once normalised) names, as the
 * program spelled it: what follows the component that last entered the mount point from above ("/" when nothing
 * does). So ".", ".." and a trailing slash inside the mount reach the service, which answers for them as the kernel
 * does (ENOTDIR for "file/" and "file/../x", EINVAL for rmdir of "dir/."), while ".." above the mount point was
 * resolved here, lexically, to decide that the path is in this mount at all.
 */
static void spelled_inside(const char *abs, const char *point, char *inner) {
  char so_far[DN_PATH_MAX];
  size_t len = 1;
  so_far[0] = '/';
  so_far[1] = '\0';
  const char *rest = abs;
  for (const char *p = abs;;) {
    while (*p == '/') p++;
    if (!*p) break;
    size_t n = component(p);
    int name = !(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.');
    step(so_far, &len, p, n); /* cannot fail: the whole path normalised within DN_PATH_MAX */
    p += n;
    if (name && strcmp(so_far, point) == 0) rest = p;
  }
  strcpy(inner, rest[0] ? rest : "/");
}

/**
 * The mount holding the normalised absolute path `abs`, writing into `inner` the path inside it as `spelled` (the
 * same path before normalisation) spells it; -1 when none.
 */
static int find_mount(const char *abs, const char *spelled, char *inner) {
  const struct dn_mount *best = NULL;
  for (int i = 0; i < dn_mount_count; i++) {
    const struct dn_mount *m = &dn_mounts[i];
    int inside = m->len == 1 || (strncmp(abs, m->path, m->len) == 0 && (abs[m->len] == '\0' || abs[m->len] == '/'));
    if (inside && (best == NULL || m->len > best->len)) best = m;
  }
  if (best == NULL) return -1;
  spelled_inside(spelled, best->len == 1 ? "/" : best->path, inner);
  return best->id;
}

/** The kernel's working directory, when a mount point lies under it (relative paths may then enter a mount). */
static char kernel_cwd[DN_PATH_MAX];
/** 0: not looked up since the last chdir or mount table; 1: no mount point under it; 2: mount points below it. */
static int kernel_cwd_state;

void dn_kernel_cwd_changed(void) { __atomic_store_n(&kernel_cwd_state, 0, __ATOMIC_RELEASE); }

/** Whether relative paths from the kernel's working directory can reach a mount (then kernel_cwd holds it). */
static int kernel_cwd_reaches_mount(void) {
  if (kernel_cwd_state == 0) {
    int reaches = 0;
    char here[DN_PATH_MAX];
    if (syscall(SYS_getcwd, here, sizeof here) > 0 && here[0] == '/') {
      size_t n = strlen(here);
      for (int i = 0; i < dn_mount_count; i++) {
        const struct dn_mount *m = &dn_mounts[i];
        if (n == 1 || (strncmp(m->path, here, n) == 0 && (m->path[n] == '/' || m->path[n] == '\0'))) reaches = 1;
      }
      /* A path climbing out with ".." needs the directory even when no mount lies below it. */
      strcpy(kernel_cwd, here);
    } else {
      kernel_cwd[0] = '\0';
    }
    __atomic_store_n(&kernel_cwd_state, reaches ? 2 : 1, __ATOMIC_RELEASE);
  }
  return kernel_cwd_state == 2;
}

/** Whether `path` has a ".." component (which can climb from outside every mount into one). */
static int climbs(const char *path) {
  for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
    if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0')) return 1;
  return 0;
}

/* ---- the fast answer for kernel-bound paths ----
 * Most calls of a preloaded program name host files. Those are answered before the library's lock is taken and
 * without copying the path: an absolute path already in normal form (no ".", "..", or repeated slash) under none of
 * the mount points cannot be in a mount, nor can a relative one without ".." from a working directory with no mount
 * below it. The mount points seen by this process are kept in a list that only grows (a restarted service may
 * announce new ones; a point no longer served only costs the slow path), so a reader never sees one being freed. */
#define KNOWN_POINTS 64
static const char *known_points[KNOWN_POINTS];
static size_t known_lengths[KNOWN_POINTS];
/** Points in the list; KNOWN_POINTS + 1 when one did not fit (every path then takes the slow path). */
static int known_count;

void dn_note_mount_point(const char *point) {
  dn_kernel_cwd_changed();
  int n = __atomic_load_n(&known_count, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n && n <= KNOWN_POINTS; i++)
    if (strcmp(known_points[i], point) == 0) return;
  if (n >= KNOWN_POINTS) {
    __atomic_store_n(&known_count, KNOWN_POINTS + 1, __ATOMIC_RELEASE);
    return;
  }
  char *copy = strdup(point);
  if (copy == NULL) n = KNOWN_POINTS; /* then nothing is decided fast */
  else {
    known_points[n] = copy;
    known_lengths[n] = strlen(copy);
  }
  __atomic_store_n(&known_count, n + 1, __ATOMIC_RELEASE);
}

/** Whether absolute `path` has a "." or ".." component or a repeated slash (then only normalising can tell). */
static int unusual(const char *path) {
  for (const char *p = path; *p; p++)
    if (p[0] == '/' && (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))))
      return 1;
  return 0;
}

int dn_surely_kernel(int dirfd, const char *path) {
  if (!dn_enabled()) return 1;
  if (path == NULL || path[0] == '\0' || !dn_registered()) return 0; /* "" may be AT_EMPTY_PATH */
  if (path[0] == '/') {
    int n = __atomic_load_n(&known_count, __ATOMIC_ACQUIRE);
    if (n > KNOWN_POINTS || unusual(path)) return 0;
    for (int i = 0; i < n; i++) {
      size_t len = known_lengths[i];
      if (len == 1 || (strncmp(path, known_points[i], len) == 0 && (path[len] == '/' || path[len] == '\0'))) return 0;
    }
    return 1;
  }
  if (climbs(path)) return 0;
  if (dirfd != AT_FDCWD) return dn_get(dirfd) == NULL; /* relative to a kernel directory: the kernel's */
  return __atomic_load_n(&dn_cwd_mount, __ATOMIC_ACQUIRE) < 0 && __atomic_load_n(&kernel_cwd_state, __ATOMIC_ACQUIRE) == 1;
}

int dn_route(int dirfd, const char *path, char *inner) {
  if (path == NULL || path[0] == '\0' || !dn_enabled()) return -1; /* "" is ENOENT from the kernel */
  char abs[DN_PATH_MAX];
  size_t len = 1;
  abs[0] = '/';
  abs[1] = '\0';
  if (path[0] == '/') {
    /* A service that went away keeps its mount table: calls on its mounts answer ENOTCONN, not the kernel's ENOENT. */
    if (dn_connect() < 0 && dn_mount_count == 0) return -1;
    if (strlen(path) >= DN_PATH_MAX || append_normalised(abs, &len, path) < 0) { errno = ENAMETOOLONG; return -2; }
    return find_mount(abs, path, inner);
  }
  int mount;
  const char *base;
  struct dn_file *dir = dirfd == AT_FDCWD ? NULL : dn_get(dirfd);
  if (dirfd == AT_FDCWD && dn_cwd_mount < 0) {
    if (path[0] == '\0' || (dn_connect() < 0 && dn_mount_count == 0)) return -1;
    if (!kernel_cwd_reaches_mount() && (!climbs(path) || kernel_cwd[0] == '\0')) return -1;
    char spelled[DN_PATH_MAX];
    if (snprintf(spelled, sizeof spelled, "%s/%s", kernel_cwd, path) >= (int)sizeof spelled || append_normalised(abs, &len, spelled) < 0) {
      errno = ENAMETOOLONG;
      return -2;
    }
    return find_mount(abs, spelled, inner);
  }
  if (dirfd == AT_FDCWD) {
    mount = dn_cwd_mount;
    base = dn_cwd_inner;
  } else if (dir != NULL) {
    mount = dir->mount;
    base = dir->path;
  } else {
    return -1;
  }
  if (strlen(path) >= DN_PATH_MAX) { errno = ENAMETOOLONG; return -2; }
  /* A working directory or descriptor inherited over fork: this process registers before its first request. */
  if (dn_connect() < 0 && dn_mount_count == 0) return -2;
  /* Inside the mount, ".." never climbs above its root: the service resolves the path under the mount's root as a
   * chroot does, so it gets the path as spelled after the (normalised) directory. */
  if (snprintf(inner, DN_PATH_MAX, "%s/%s", strcmp(base, "/") == 0 ? "" : base, path) >= DN_PATH_MAX) { errno = ENAMETOOLONG; return -2; }
  return mount;
}

int dn_absolute(int mount, const char *inner, char *out, size_t size) {
  const struct dn_mount *m = NULL;
  for (int i = 0; i < dn_mount_count && m == NULL; i++)
    if (dn_mounts[i].id == mount) m = &dn_mounts[i];
  if (m == NULL) return -ENOENT;
  /* The mount point, then the inner path: "/" inside a mount at "/m" is "/m"; anything inside "/" is itself. */
  const char *point = m->len == 1 ? "" : m->path;
  const char *rest = point[0] != '\0' && strcmp(inner, "/") == 0 ? "" : inner;
  if (snprintf(out, size, "%s%s", point, rest) >= (int)size) return -ERANGE;
  return 0;
}

int dn_put_paths(const char *a, const char *b) {
  size_t la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
  if (la > DN_PATH_MAX || lb > DN_PATH_MAX || la + lb > dn_bufsize) return -ENAMETOOLONG;
  memcpy(dn_buf, a, la);
  if (b) memcpy(dn_buf + la, b, lb);
  return (int)(la + lb);
}

int dn_path_is_private(int dirfd, const char *path) {
  if (dn_surely_kernel(dirfd, path)) return 0;
  char inner[DN_PATH_MAX];
  int saved = errno;
  pthread_mutex_lock(&dn_lock);
  int mount = dn_route(dirfd, path, inner);
  pthread_mutex_unlock(&dn_lock);
  errno = saved;
  return mount != -1;
}
