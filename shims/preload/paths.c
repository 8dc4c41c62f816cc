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

int dn_absolute(int mount, const char *inner, char *out, size_t size) {
  const struct dn_mount *m = NULL;
  for (int i = 0; i < dn_mount_count && m == NULL; i++) {
    if (dn_mounts[i].id == mount) m = &dn_mounts[i];
  }
  if (m == NULL) return -ENOENT;
  /* The mount point "/" adds nothing before the inner path; the inner "/" adds nothing after a mount point. */
  const char *point = m->len == 1 ? "" : m->path;
  const char *rest = strcmp(inner, "/") == 0 && point[0] != '\0' ? "" : inner;
  if ((size_t)snprintf(out, size, "%s%s", point, rest) >= size) return -ERANGE;
  return 0;
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
/** 0: not looked up since the last chdir; 1: no mount point under it; 2: kernel_cwd holds it, mounts below. */
static int kernel_cwd_state;

void dn_kernel_cwd_changed(void) { kernel_cwd_state = 0; }

/** Whether relative paths from the kernel's working directory can reach a mount (then kernel_cwd holds it). */
static int kernel_cwd_reaches_mount(void) {
  if (kernel_cwd_state == 0) {
    kernel_cwd_state = 1;
    char here[DN_PATH_MAX];
    if (syscall(SYS_getcwd, here, sizeof here) > 0 && here[0] == '/') {
      size_t n = strlen(here);
      for (int i = 0; i < dn_mount_count; i++) {
        const struct dn_mount *m = &dn_mounts[i];
        if (n == 1 || (strncmp(m->path, here, n) == 0 && (m->path[n] == '/' || m->path[n] == '\0'))) {
          strcpy(kernel_cwd, here);
          kernel_cwd_state = 2;
        }
      }
    }
  }
  return kernel_cwd_state == 2;
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
    if (path[0] == '\0' || (dn_connect() < 0 && dn_mount_count == 0) || !kernel_cwd_reaches_mount()) return -1;
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

int dn_put_paths(const char *a, const char *b) {
  size_t la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
  if (la > DN_PATH_MAX || lb > DN_PATH_MAX || la + lb > dn_bufsize) return -ENAMETOOLONG;
  memcpy(dn_buf, a, la);
  if (b) memcpy(dn_buf + la, b, lb);
  return (int)(la + lb);
}
