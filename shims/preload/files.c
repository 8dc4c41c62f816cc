/* files.c — the private descriptor table. Each private descriptor is a real kernel descriptor (an O_PATH descriptor
 * of /dev/null, so a read or write that bypasses the library fails with EBADF instead of landing in a placeholder)
 * whose number names a shared open file description of the service; dup'ed numbers share one description. */
#include "preload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct dn_file **table;
static size_t table_size;

struct dn_file *dn_get(int fd) {
  if (fd < 0 || (size_t)fd >= table_size) return NULL;
  return table[fd];
}

int dn_bind(int fd, struct dn_file *file) {
  if (fd < 0) return -EBADF;
  if ((size_t)fd >= table_size) {
    size_t size = table_size ? table_size : 256;
    while (size <= (size_t)fd) size *= 2;
    struct dn_file **grown = realloc(table, size * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    memset(grown + table_size, 0, (size - table_size) * sizeof *grown);
    table = grown;
    table_size = size;
  }
  if (table[fd] != NULL) dn_unbind(fd);
  file->refs++;
  table[fd] = file;
  return 0;
}

void dn_file_release(struct dn_file *file) {
  if (--file->refs > 0) return;
  if (file->handle >= 0) {
    int64_t args[1] = {file->handle};
    dn_call(DANAUS_OP_CLOSE, args, 1, 0, NULL);
  }
  if (file->lock_fd > 0) REAL(close)(file->lock_fd - 1);
  free(file->path);
  free(file);
}

void dn_unbind(int fd) {
  struct dn_file *file = dn_get(fd);
  if (file == NULL) return;
  table[fd] = NULL;
  dn_file_release(file);
}

void dn_each(void (*fn)(int fd, struct dn_file *file, void *arg), void *arg) {
  for (size_t fd = 0; fd < table_size; fd++) if (table[fd] != NULL) fn((int)fd, table[fd], arg);
}

int dn_placeholder(int cloexec) {
  return REAL(open)("/dev/null", O_PATH | (cloexec ? O_CLOEXEC : 0));
}

int dn_refresh(struct dn_file *file) {
  if (file->handle >= 0) return 0;
  if (file->lost) return -ESTALE;
  if (dn_connect() < 0) return -errno;
  int written = dn_put_paths(file->path, NULL);
  if (written < 0) return written;
  /* Reopen what the program opened, without creating or truncating it again. */
  int flags = file->open_flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC);
  int64_t args[3] = {file->mount, flags, 0};
  uint32_t reply;
  int64_t handle = dn_call(DANAUS_OP_OPEN, args, 3, dn_bufsize, &reply);
  if (handle < 0) {
    dn_log("cannot reopen %s (inherited descriptor) on the tenant service: %s", file->path, strerror((int)-handle));
    return (int)handle;
  }
  file->handle = handle;
  if (file->stale_offset > 0 && !(file->open_flags & O_APPEND)) {
    int64_t seek[3] = {handle, file->stale_offset, SEEK_SET};
    int64_t at = dn_call(DANAUS_OP_LSEEK, seek, 3, 0, NULL);
    if (at < 0) return (int)at;
  }
  return 0;
}
