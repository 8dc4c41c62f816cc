/* attrs.c — the attribute cache: answers of path stat/lstat (and their absences) kept in a fixed table, each valid only
 * while the tenant's mutation generation has not moved since the service was asked and for at most the tenant's
 * attribute timeout. The service bumps the generation after every request that may change a file or a name, whoever
 * sent it, so a change made inside the tenant is seen by the next stat of every process; a change made behind the
 * service (another host, the backend directory) within the timeout, as through the kernel's attribute cache. */
#include "preload.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* 4096 entries in sets of 4: about 1.5 MiB of address space, touched only as entries are filled. */
#define SETS 1024
#define WAYS 4
/* Paths inside a mount longer than this are not kept (their answers are asked every time). */
#define KEY_MAX 192

struct entry {
  uint32_t table;      /* the table's epoch it was filled in; another value: empty */
  uint32_t generation; /* the mutation generation read before the service was asked */
  int64_t asked_ns;    /* CLOCK_MONOTONIC when the service was asked */
  uint64_t hash;
  int32_t mount;
  int16_t nofollow;
  int16_t error;       /* 0, or ENOENT for a name that was absent */
  uint32_t len;
  struct stat st;
  char path[KEY_MAX];
};

#ifdef DANAUS_NO_ATTR_CACHE
/* A build that keeps nothing, so every stat asks the service: what `bun run bench preload` compares the cache with. */
enum { KEEPS = 0 };
#else
enum { KEEPS = 1 };
#endif

static struct entry table[SETS][WAYS];
/* Bumped to empty the whole table at once (0 is never used, so a zeroed entry is empty). */
static uint32_t table_epoch = 1;

void dn_attrs_clear(void) {
  if (++table_epoch == 0) {
    memset(table, 0, sizeof table);
    table_epoch = 1;
  }
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* FNV-1a over the path, mixed with the mount and the follow flag. */
static uint64_t key_hash(int mount, const char *path, size_t len, int nofollow) {
  uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)(uint32_t)mount << 1) ^ (uint64_t)(nofollow != 0);
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)path[i];
    h *= 0x100000001b3ull;
  }
  return h ^ (h >> 29);
}

static int same_key(const struct entry *e, uint64_t hash, int mount, const char *path, size_t len, int nofollow) {
  return e->table == table_epoch && e->hash == hash && e->mount == mount && e->nofollow == (nofollow != 0) && e->len == len &&
         memcmp(e->path, path, len) == 0;
}

/* The entry kept for the key, or NULL. */
static struct entry *find(int mount, const char *inner, int nofollow) {
  size_t len = strlen(inner);
  if (len >= KEY_MAX) return NULL;
  uint64_t hash = key_hash(mount, inner, len, nofollow);
  struct entry *set = table[hash % SETS];
  for (int i = 0; i < WAYS; i++) {
    if (same_key(&set[i], hash, mount, inner, len, nofollow)) return &set[i];
  }
  return NULL;
}

int dn_attrs_get(int mount, const char *inner, int nofollow, struct stat *st) {
  uint32_t generation;
  int64_t timeout = dn_mutations(&generation);
  if (!KEEPS || timeout <= 0) return 0;
  struct entry *e = find(mount, inner, nofollow);
  if (e == NULL) return 0;
  if (e->generation != generation || now_ns() - e->asked_ns >= timeout) {
    e->table = 0;
    return 0;
  }
  if (e->error != 0) return -e->error;
  *st = e->st;
  return 1;
}

void dn_attrs_forget(int mount, const char *inner, int nofollow) {
  struct entry *e = find(mount, inner, nofollow);
  if (e != NULL) e->table = 0;
}

void dn_attrs_begin(struct dn_attrs_ticket *ticket) {
  ticket->timeout_ns = dn_mutations(&ticket->generation);
  ticket->asked_ns = ticket->timeout_ns > 0 ? now_ns() : 0;
}

void dn_attrs_put(const struct dn_attrs_ticket *ticket, int mount, const char *inner, int nofollow, int64_t result, const struct stat *st) {
  if (!KEEPS || ticket->timeout_ns <= 0 || (result != 0 && result != -ENOENT)) return;
  size_t len = strlen(inner);
  if (len >= KEY_MAX) return;
  uint64_t hash = key_hash(mount, inner, len, nofollow);
  struct entry *set = table[hash % SETS];
  /* The same key, else an empty or unusable way, else the one asked longest ago. */
  struct entry *slot = find(mount, inner, nofollow);
  for (int i = 0; i < WAYS && slot == NULL; i++) {
    if (set[i].table != table_epoch || set[i].generation != ticket->generation) slot = &set[i];
  }
  if (slot == NULL) {
    slot = &set[0];
    for (int i = 1; i < WAYS; i++) {
      if (set[i].asked_ns < slot->asked_ns) slot = &set[i];
    }
  }
  slot->table = table_epoch;
  slot->generation = ticket->generation;
  slot->asked_ns = ticket->asked_ns;
  slot->hash = hash;
  slot->mount = mount;
  slot->nofollow = nofollow != 0;
  slot->error = result == 0 ? 0 : ENOENT;
  slot->len = (uint32_t)len;
  if (result == 0) slot->st = *st;
  memcpy(slot->path, inner, len);
}
