/* files.c — the private descriptor table. Each private descriptor is a real kernel descriptor (an O_PATH descriptor
 * of /dev/null, so a read or write that bypasses the library fails with EBADF instead of landing in a placeholder)
 * whose number names a shared open file description of the service; dup'ed numbers share one description. */
#include "preload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

/**
 * The table never moves: calls test `dn_get(fd)` without the lock (a kernel descriptor must not wait for another
 * thread's request), so it is one reserved mapping for every possible descriptor, touched only where used.
 */
#define TABLE_SLOTS (1u << 20)
static struct dn_file *_Atomic *table;
/** Highest descriptor ever bound + 1, so dn_each does not scan the whole reservation. */
static unsigned high_water;

static int reserve_table(void) {
  if (table != NULL) return 0;
  void *at = mmap(NULL, TABLE_SLOTS * sizeof *table, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (at == MAP_FAILED) return -ENOMEM;
  table = at;
  return 0;
}

struct dn_file *dn_get(int fd) {
  if (fd < 0 || (unsigned)fd >= TABLE_SLOTS || table == NULL) return NULL;
  return atomic_load_explicit(&table[fd], memory_order_acquire);
}

int dn_bind(int fd, struct dn_file *file) {
  if (fd < 0 || (unsigned)fd >= TABLE_SLOTS) return -EMFILE;
  int r = reserve_table();
  if (r < 0) return r;
  if (dn_get(fd) != NULL) dn_unbind(fd);
  file->refs++;
  atomic_store_explicit(&table[fd], file, memory_order_release);
  if ((unsigned)fd >= high_water) high_water = (unsigned)fd + 1;
  return 0;
}

void dn_file_release(struct dn_file *file) {
  if (--file->refs > 0) return;
  if (file->handle >= 0) {
    int64_t args[1] = {file->handle};
    dn_call(DANAUS_OP_CLOSE, args, 1, 0, NULL);
  }
  if (file->lock_fd > 0) REAL(close)(file->lock_fd - 1);
  dn_position_release(file->slot);
  free(file->path);
  free(file);
}

void dn_unbind(int fd) {
  struct dn_file *file = dn_get(fd);
  if (file == NULL) return;
  atomic_store_explicit(&table[fd], NULL, memory_order_release);
  dn_file_release(file);
}

void dn_each(void (*fn)(int fd, struct dn_file *file, void *arg), void *arg) {
  for (unsigned fd = 0; fd < high_water; fd++) {
    struct dn_file *file = dn_get((int)fd);
    if (file != NULL) fn((int)fd, file, arg);
  }
}

void dn_each_file(void (*fn)(int fd, struct dn_file *file, void *arg), void *arg) {
  static unsigned passes;
  unsigned pass = ++passes;
  for (unsigned fd = 0; fd < high_water; fd++) {
    struct dn_file *file = dn_get((int)fd);
    if (file == NULL || file->pass == pass) continue;
    file->pass = pass;
    fn((int)fd, file, arg);
  }
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
  if (file->slot == 0 && file->stale_offset > 0 && !(file->open_flags & O_APPEND)) {
    int64_t seek[3] = {handle, file->stale_offset, SEEK_SET};
    int64_t at = dn_call(DANAUS_OP_LSEEK, seek, 3, 0, NULL);
    if (at < 0) return (int)at;
  }
  return 0;
}
