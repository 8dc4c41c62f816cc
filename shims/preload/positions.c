/* positions.c — file positions shared as the kernel shares them. A private open file's position lives in a slot of a
 * page shared by the process and its descendants (a memfd mapped MAP_SHARED: fork inherits the mapping, exec the
 * descriptor, named in DANAUS_POSITIONS). So a shell and the commands it starts on one descriptor (`{ a; b; } > f`)
 * write one after another, never over each other. Each slot counts its users: one per open file (dup'ed numbers share
 * it) per process image, in every process of the family. A fork counts the child's copies; an exec hands the uses of
 * the files it passes on to the new image and gives up the rest (process.c); exit gives up all of them. A full page
 * leaves new files with a position of their own. */
#include "preload.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 4096

struct slot {
  _Atomic int64_t position;
  _Atomic int32_t users; /* open files (in any process of the family) using this slot; 0 = free */
  int32_t pad;
};

static struct slot *page;
static int page_fd = -1;
/** Set at exit once this image gave up its uses: later writes (stdio's last flush) still move the shared positions. */
static int leaving;

static int map_page(int fd) {
  void *at = mmap(NULL, SLOTS * sizeof(struct slot), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (at == MAP_FAILED) return -1;
  page = at;
  page_fd = fd;
  return 0;
}

int dn_positions_fd(void) { return page_fd; }

void dn_positions_adopt(int fd) {
  if (page == NULL && fd >= 0) map_page(fd);
}

int dn_position_new(void) {
  if (leaving) return 0;
  if (page == NULL) {
    int fd = memfd_create("danaus-positions", 0); /* not close-on-exec: exec hands it over */
    if (fd < 0) return 0;
    if (ftruncate(fd, SLOTS * sizeof(struct slot)) < 0) {
      REAL(close)(fd);
      return 0;
    }
    int high = dn_move_high(fd);
    REAL(fcntl)(high, F_SETFD, 0);
    if (map_page(high) < 0) {
      REAL(close)(high);
      return 0;
    }
  }
  for (int i = 0; i < SLOTS; i++) {
    int32_t free_slot = 0;
    if (atomic_compare_exchange_strong(&page[i].users, &free_slot, 1)) {
      atomic_store(&page[i].position, 0);
      return i + 1;
    }
  }
  return 0;
}

void dn_position_use(int slot) {
  if (slot > 0 && page != NULL && !leaving) atomic_fetch_add(&page[slot - 1].users, 1);
}

void dn_position_release(int slot) {
  if (slot > 0 && page != NULL && !leaving) atomic_fetch_sub(&page[slot - 1].users, 1);
}

int64_t dn_position_get(int slot) { return atomic_load(&page[slot - 1].position); }
void dn_position_set(int slot, int64_t position) { atomic_store(&page[slot - 1].position, position); }
int64_t dn_position_reserve(int slot, int64_t count) { return atomic_fetch_add(&page[slot - 1].position, count); }
void dn_position_settle(int slot, int64_t reserved_end, int64_t used_end) {
  atomic_compare_exchange_strong(&page[slot - 1].position, &reserved_end, used_end);
}

static void give_up(int fd, struct dn_file *f, void *arg) {
  (void)fd;
  (void)arg;
  if (f->slot == 0) return;
  f->stale_offset = dn_position_get(f->slot); /* in case the exec fails: see dn_positions_back */
  dn_position_release(f->slot);
}

struct kept {
  const int *slots;
  int count;
};

static void take_back(int fd, struct dn_file *f, void *arg) {
  (void)fd;
  const struct kept *k = arg;
  if (f->slot == 0) return;
  for (int i = 0; i < k->count; i++) {
    if (k->slots[i] == f->slot) return;
  }
  /* Its slot may have been freed and taken by another file since: the file keeps the position it had, as its own. */
  f->slot = 0;
  if (f->handle >= 0 && !f->is_dir && !(f->flags & O_APPEND)) {
    int64_t args[3] = {f->handle, f->stale_offset, SEEK_SET};
    dn_call(DANAUS_OP_LSEEK, args, 3, 0, NULL);
  }
}

void dn_positions_back(const int *kept, int count) {
  struct kept k = {kept, count};
  if (page != NULL && !leaving) dn_each_file(take_back, &k);
}

void dn_positions_leave(void) {
  if (page != NULL && !leaving) dn_each_file(give_up, NULL);
}

void dn_positions_exit(void) {
  dn_positions_leave();
  leaving = 1;
}
