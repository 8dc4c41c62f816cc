/* connection.c — registration with the tenant's router (JSON lines over its Unix socket), the mapped region, and one
 * synchronous request over this process's queue: spin briefly, then sleep on the entry's futex in slices, checking
 * between slices that the service is still alive (a dead service answers -ENOTCONN, never a hang). */
#include "preload.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct dn_mount dn_mounts[DN_MAX_MOUNTS];
int dn_mount_count;
uint8_t *dn_buf;
uint32_t dn_bufsize;
int dn_socket_fd = -1;

/** Registration state: 0 never tried, 1 connected, -1 failed (the errno in `failed_errno`), 2 gone (service died). */
static int state;
static int failed_errno;

/** `state` is written under dn_lock and read without it by dn_registered. */
static void set_state(int value) { __atomic_store_n(&state, value, __ATOMIC_RELEASE); }
int dn_registered(void) { return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == 1; }
static uint8_t *region;
static size_t region_size;
static struct danaus_region_header *header;
static struct danaus_queue_header *queue;
static uint8_t *entries; /* entry 0 of this process's queue */
static uint32_t capacity;
static uint32_t client_id;
static uint32_t buffer_index;
static int32_t service_pid;
static uint64_t next_request = 1;
/** The cores the service threads of this process's queue run on (from the registration). */
static cpu_set_t queue_cpus;
/** The tenant's attribute timeout from the registration reply, in nanoseconds (0: the attribute cache is off). */
static int64_t attr_timeout_ns;

#define REGISTRATION_TIMEOUT_MS 5000
#define LIVENESS_SLICE_NS 50000000L
#define SPIN 2000

void dn_log(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(line, sizeof line, "danaus-preload[%d]: ", (int)getpid());
  if (n < 0) n = 0;
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = m < 0 ? (size_t)n : (size_t)n + (size_t)m;
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  ssize_t ignored = REAL(write)(2, line, len);
  (void)ignored;
}

/** Whether DANAUS_SOCKET is set: read once (every wrapped call asks; a program does not switch tenants midway). */
static int enabled = -1;

void dn_disable(void) { enabled = 0; }

int dn_enabled(void) {
  if (enabled < 0) {
    const char *socket = getenv(DN_ENV_SOCKET);
    enabled = socket != NULL && socket[0] != '\0';
  }
  return enabled;
}

/* ---- a small JSON reader for the registration reply ---- */

struct json {
  const char *p;
  const char *end;
};

static void json_space(struct json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

static int json_expect(struct json *j, char c) {
  json_space(j);
  if (j->p >= j->end || *j->p != c) return -1;
  j->p++;
  return 0;
}

static int json_peek(struct json *j, char c) {
  json_space(j);
  return j->p < j->end && *j->p == c;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/** Reads a string into out (NUL-terminated; at most size-1 bytes) or, with out NULL, skips it. */
static int json_string(struct json *j, char *out, size_t size) {
  if (json_expect(j, '"') < 0) return -1;
  size_t n = 0;
  while (j->p < j->end && *j->p != '"') {
    unsigned code = (unsigned char)*j->p++;
    if (code == '\\') {
      if (j->p >= j->end) return -1;
      char e = *j->p++;
      switch (e) {
        case 'n': code = '\n'; break;
        case 't': code = '\t'; break;
        case 'r': code = '\r'; break;
        case 'b': code = '\b'; break;
        case 'f': code = '\f'; break;
        case 'u': {
          if (j->end - j->p < 4) return -1;
          code = 0;
          for (int i = 0; i < 4; i++) {
            int d = hex_digit(j->p[i]);
            if (d < 0) return -1;
            code = code * 16 + (unsigned)d;
          }
          j->p += 4;
          if (code >= 0xd800 && code <= 0xdfff) return -1; /* surrogates: not in a mount path we can route */
          break;
        }
        default: code = (unsigned char)e;
      }
      if (code >= 0x80) { /* re-encode as UTF-8 */
        unsigned char bytes[3];
        size_t count;
        if (code < 0x800) {
          bytes[0] = (unsigned char)(0xc0 | (code >> 6)); bytes[1] = (unsigned char)(0x80 | (code & 0x3f)); count = 2;
        } else {
          bytes[0] = (unsigned char)(0xe0 | (code >> 12)); bytes[1] = (unsigned char)(0x80 | ((code >> 6) & 0x3f));
          bytes[2] = (unsigned char)(0x80 | (code & 0x3f)); count = 3;
        }
        for (size_t i = 0; i < count; i++) {
          if (out && n + 1 >= size) return -1;
          if (out) out[n] = (char)bytes[i];
          n++;
        }
        continue;
      }
    }
    if (out && n + 1 >= size) return -1;
    if (out) out[n] = (char)code;
    n++;
  }
  if (j->p >= j->end) return -1;
  j->p++;
  if (out) out[n] = '\0';
  return 0;
}

static int json_number(struct json *j, int64_t *out) {
  json_space(j);
  char *stop;
  errno = 0;
  long long v = strtoll(j->p, &stop, 10);
  if (stop == j->p || errno != 0 || stop > j->end) return -1;
  if (*stop == '.' || *stop == 'e' || *stop == 'E') return -1;
  j->p = stop;
  *out = v;
  return 0;
}

static int json_skip(struct json *j, int depth) {
  json_space(j);
  if (j->p >= j->end || depth > 16) return -1;
  char c = *j->p;
  if (c == '"') return json_string(j, NULL, 0);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->p++;
    if (json_peek(j, close)) { j->p++; return 0; }
    for (;;) {
      if (c == '{') {
        if (json_string(j, NULL, 0) < 0 || json_expect(j, ':') < 0) return -1;
      }
      if (json_skip(j, depth + 1) < 0) return -1;
      if (json_peek(j, ',')) { j->p++; continue; }
      return json_expect(j, close);
    }
  }
  while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']' && *j->p != ' ') j->p++;
  return 0;
}

struct registration {
  int ok;
  int64_t client, queue, buffer, buffer_size, service_pid, attr_timeout_ms;
  cpu_set_t queue_cpus; /* the cores the service threads of this queue run on */
  char region[PATH_MAX];
  char err[64];
};

static int parse_mount(struct json *j) {
  char path[DN_PATH_MAX];
  int64_t id = -1;
  int legacy = 0;
  path[0] = '\0';
  if (json_expect(j, '{') < 0) return -1;
  if (json_peek(j, '}')) { j->p++; return -1; }
  for (;;) {
    char key[32];
    if (json_string(j, key, sizeof key) < 0 || json_expect(j, ':') < 0) return -1;
    if (strcmp(key, "path") == 0) {
      if (json_string(j, path, sizeof path) < 0) return -1;
    } else if (strcmp(key, "id") == 0) {
      if (json_number(j, &id) < 0) return -1;
    } else if (strcmp(key, "legacy") == 0) {
      json_space(j);
      legacy = j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0;
      if (json_skip(j, 1) < 0) return -1;
    } else if (json_skip(j, 1) < 0) {
      return -1;
    }
    if (json_peek(j, ',')) { j->p++; continue; }
    if (json_expect(j, '}') < 0) return -1;
    break;
  }
  if (path[0] != '/' || id < 0 || id > INT32_MAX || dn_mount_count >= DN_MAX_MOUNTS) return -1;
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/') path[--len] = '\0';
  struct dn_mount *m = &dn_mounts[dn_mount_count];
  m->path = strdup(path);
  if (m->path == NULL) return -1;
  m->len = len;
  m->id = (int)id;
  m->legacy = legacy;
  dn_mount_count++;
  dn_note_mount_point(m->path);
  if (dn_debug) dn_log("mount %d at %s%s", m->id, m->path, legacy ? " (legacy: also a FUSE mount)" : "");
  return 0;
}

static int parse_registration(const char *text, size_t length, struct registration *r) {
  struct json j = {text, text + length};
  memset(r, 0, sizeof *r);
  r->client = -1;
  if (json_expect(&j, '{') < 0) return -1;
  for (;;) {
    char key[32];
    if (json_string(&j, key, sizeof key) < 0 || json_expect(&j, ':') < 0) return -1;
    int64_t *number = NULL;
    if (strcmp(key, "client") == 0) number = &r->client;
    else if (strcmp(key, "queue") == 0) number = &r->queue;
    else if (strcmp(key, "buffer") == 0) number = &r->buffer;
    else if (strcmp(key, "bufferSize") == 0) number = &r->buffer_size;
    else if (strcmp(key, "servicePid") == 0) number = &r->service_pid;
    else if (strcmp(key, "attrTimeoutMs") == 0) number = &r->attr_timeout_ms;
    if (number != NULL) {
      if (json_number(&j, number) < 0) return -1;
    } else if (strcmp(key, "ok") == 0) {
      json_space(&j);
      r->ok = j.end - j.p >= 4 && memcmp(j.p, "true", 4) == 0;
      if (json_skip(&j, 1) < 0) return -1;
    } else if (strcmp(key, "region") == 0) {
      if (json_string(&j, r->region, sizeof r->region) < 0) return -1;
    } else if (strcmp(key, "errno") == 0) {
      if (json_string(&j, r->err, sizeof r->err) < 0) return -1;
    } else if (strcmp(key, "queueCpus") == 0) {
      if (json_expect(&j, '[') < 0) return -1;
      while (!json_peek(&j, ']')) {
        int64_t cpu;
        if (json_number(&j, &cpu) < 0) return -1;
        if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET((int)cpu, &r->queue_cpus);
        if (json_peek(&j, ',')) j.p++;
      }
      j.p++;
    } else if (strcmp(key, "mounts") == 0) {
      if (json_expect(&j, '[') < 0) return -1;
      if (json_peek(&j, ']')) {
        j.p++;
      } else {
        for (;;) {
          if (parse_mount(&j) < 0) return -1;
          if (json_peek(&j, ',')) { j.p++; continue; }
          if (json_expect(&j, ']') < 0) return -1;
          break;
        }
      }
    } else if (json_skip(&j, 1) < 0) {
      return -1;
    }
    if (json_peek(&j, ',')) { j.p++; continue; }
    return json_expect(&j, '}');
  }
}

/* ---- the socket ---- */

/** Moves `fd` to the top of the descriptor table, close-on-exec; returns the new number (or fd when it cannot). */
int dn_move_high(int fd) {
  /* The tries below fail with EMFILE near the limit: a call that succeeds must leave the program's errno alone (make
   * reads errno after a successful fopen and stops on EMFILE). */
  int saved = errno;
  struct rlimit limit;
  long top = 1024;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) top = (long)limit.rlim_cur;
  if (top > 1 << 20) top = 1 << 20;
  for (long at = top - 1; at >= top - 64 && at > 2; at -= 8) {
    int high = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, (int)at);
    if (high >= 0) {
      REAL(close)(fd);
      errno = saved;
      return high;
    }
  }
  REAL(fcntl)(fd, F_SETFD, FD_CLOEXEC);
  errno = saved;
  return fd;
}

static int read_line(int fd, char *out, size_t size) {
  size_t n = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (n + 1 < size) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (waited >= REGISTRATION_TIMEOUT_MS) return -ETIMEDOUT;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, (int)(REGISTRATION_TIMEOUT_MS - waited));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -ETIMEDOUT;
    ssize_t got = REAL(read)(fd, out + n, size - 1 - n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -ECONNRESET;
    for (ssize_t i = 0; i < got; i++) {
      if (out[n + (size_t)i] == '\n') {
        out[n + (size_t)i] = '\0';
        return (int)(n + (size_t)i);
      }
    }
    n += (size_t)got;
  }
  return -E2BIG;
}

static int errno_by_name(const char *name) {
  static const struct { const char *name; int code; } known[] = {
    {"EAGAIN", EAGAIN}, {"EACCES", EACCES}, {"EINVAL", EINVAL}, {"ENOTCONN", ENOTCONN}, {"EPERM", EPERM}, {"E2BIG", E2BIG},
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) if (strcmp(known[i].name, name) == 0) return known[i].code;
  return EIO;
}

static int map_region(const char *path) {
  int fd = REAL(open)(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size < DANAUS_HEADER_SLOT) {
    REAL(close)(fd);
    return -EPROTO;
  }
  void *at = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int saved = errno;
  REAL(close)(fd);
  if (at == MAP_FAILED) return -saved;
  struct danaus_region_header *h = at;
  if (h->magic != DANAUS_REGION_MAGIC || h->version != DANAUS_PROTOCOL_VERSION || __atomic_load_n(&h->status, __ATOMIC_ACQUIRE) != DANAUS_REGION_READY ||
      h->entry_slot != DANAUS_ENTRY_SLOT || h->arg_count != DANAUS_ARG_COUNT || h->size > (uint64_t)st.st_size) {
    munmap(at, (size_t)st.st_size);
    return -EPROTO;
  }
  region = at;
  region_size = (size_t)st.st_size;
  header = h;
  return 0;
}

static int do_register(void) {
  const char *path = getenv(DN_ENV_SOCKET);
  if (path == NULL || path[0] == '\0') return -ENOTCONN;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    REAL(close)(fd);
    return e == ENOENT || e == ECONNREFUSED ? -ENOTCONN : -e;
  }
  fd = dn_move_high(fd);
  char line[64 * 1024];
  int n = snprintf(line, sizeof line, "{\"op\":\"register\",\"pid\":%d,\"cpu\":%d}\n", (int)getpid(), sched_getcpu() < 0 ? 0 : sched_getcpu());
  if (REAL(write)(fd, line, (size_t)n) != n) {
    REAL(close)(fd);
    return -ENOTCONN;
  }
  int got = read_line(fd, line, sizeof line);
  struct registration r;
  dn_mount_count = 0;
  int rc = got < 0 ? -ENOTCONN : parse_registration(line, (size_t)got, &r) < 0 ? -EPROTO : 0;
  if (rc == 0 && !r.ok) rc = -errno_by_name(r.err);
  if (rc == 0 && (r.client <= 0 || r.region[0] == '\0')) rc = -EPROTO;
  if (rc == 0) rc = map_region(r.region);
  if (rc == 0) {
    struct danaus_region_header *h = header;
    if (r.queue < 0 || r.queue >= h->queue_count || r.buffer < 0 || r.buffer >= h->buffer_count || r.buffer_size != h->buffer_size) rc = -EPROTO;
  }
  if (rc < 0) {
    REAL(close)(fd);
    for (int i = 0; i < dn_mount_count; i++) free(dn_mounts[i].path);
    dn_mount_count = 0;
    return rc;
  }
  dn_socket_fd = fd;
  client_id = (uint32_t)r.client;
  buffer_index = (uint32_t)r.buffer;
  service_pid = (int32_t)r.service_pid;
  queue_cpus = r.queue_cpus;
  capacity = header->queue_capacity;
  queue = (struct danaus_queue_header *)(region + header->queues_offset + (size_t)r.queue * DANAUS_QUEUE_SLOT);
  entries = region + header->entries_offset + (size_t)r.queue * capacity * header->entry_slot;
  dn_buf = region + header->buffers_offset + (size_t)buffer_index * header->buffer_size;
  dn_bufsize = header->buffer_size;
  /* Answers kept under another registration were kept under another region's generation. */
  dn_attrs_clear();
  attr_timeout_ns = r.attr_timeout_ms <= 0 ? 0 : r.attr_timeout_ms > INT32_MAX ? (int64_t)INT32_MAX * 1000000 : r.attr_timeout_ms * 1000000;
  if (dn_debug) dn_log("registered as client %u (queue %lld, buffer %u, %d mounts)", client_id, (long long)r.queue, buffer_index, dn_mount_count);
  return 0;
}

/** Closes this process's copy of the registration socket and unmaps the region (the mount table stays). */
static void drop_registration(void) {
  if (dn_socket_fd >= 0) REAL(close)(dn_socket_fd);
  dn_socket_fd = -1;
  if (region != NULL) munmap(region, region_size);
  region = NULL;
  header = NULL;
  dn_buf = NULL;
}

static void mark_lost(int fd, struct dn_file *f, void *arg) {
  (void)fd;
  (void)arg;
  if (f->handle >= 0) f->lost = 1;
  f->handle = -1;
}

/**
 * The service went away: register with its successor if one answers. Files opened on the old service are lost (their
 * calls answer ESTALE, as the TypeScript client's do); new opens work. Until a successor answers, the mount table
 * stays, so calls on the mounts answer ENOTCONN instead of falling through to the kernel.
 */
static int reconnect(void) {
  struct dn_mount old[DN_MAX_MOUNTS];
  int old_count = dn_mount_count;
  memcpy(old, dn_mounts, sizeof old);
  dn_mount_count = 0;
  drop_registration();
  int rc = do_register();
  if (rc < 0) {
    memcpy(dn_mounts, old, sizeof old);
    dn_mount_count = old_count;
    errno = ENOTCONN;
    return -1;
  }
  for (int i = 0; i < old_count; i++) free(old[i].path);
  dn_each(mark_lost, NULL);
  set_state(1);
  dn_log("registered again with the restarted tenant service; files opened before the restart answer ESTALE");
  return 0;
}

void dn_revive(void) {
  if (state == 2) reconnect();
}

static int connect_now(void);

int dn_connect(void) {
  if (state == 1) return 0;
  int saved = errno;
  int r = connect_now();
  if (r == 0) errno = saved; /* registering is the library's business; a failure sets errno for the caller */
  return r;
}

static int connect_now(void) {
  if (state == 2) return reconnect();
  if (state == -1) {
    errno = failed_errno;
    return -1;
  }
  if (!dn_enabled()) {
    set_state(-1);
    failed_errno = ENOTCONN;
    errno = ENOTCONN;
    return -1;
  }
  int rc = do_register();
  if (rc < 0) {
    set_state(-1);
    failed_errno = -rc;
    dn_log("cannot register with the tenant service at %s: %s; paths under its mounts are not served", getenv(DN_ENV_SOCKET), strerror(-rc));
    errno = -rc;
    return -1;
  }
  set_state(1);
  return 0;
}

int64_t dn_mutations(uint32_t *generation) {
  *generation = 0;
  if (!dn_registered() || header == NULL || attr_timeout_ns <= 0) return 0;
  if (__atomic_load_n(&header->status, __ATOMIC_ACQUIRE) != DANAUS_REGION_READY) return 0;
  *generation = __atomic_load_n(&header->mutations, __ATOMIC_ACQUIRE);
  return attr_timeout_ns;
}

void dn_connection_forked(void) {
  /* The parent keeps its registration; this child's copy of the socket must not keep it alive, nor may the child
   * write into the parent's request buffer. Mounts and the region mapping are re-read at the next registration. */
  drop_registration();
  for (int i = 0; i < dn_mount_count; i++) free(dn_mounts[i].path);
  dn_mount_count = 0;
  if (state == 1 || state == 2) set_state(0);
  /* The child starts with an empty cache: its registration (on its first call) may be with a restarted service. */
  dn_attrs_clear();
}

/* ---- the ring ---- */

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout) {
  return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static int service_alive(void) {
  if (__atomic_load_n(&header->status, __ATOMIC_ACQUIRE) == DANAUS_REGION_CLOSED) return 0;
  if (service_pid <= 0) return 1;
  return kill(service_pid, 0) == 0 || errno == EPERM;
}

static void gone(void) {
  if (state == 1) {
    dn_log("the tenant service went away (killed, restarted or stopped): calls on its mounts fail with ENOTCONN");
    set_state(2);
  }
}

/**
 * Whether this thread runs on a core of its queue's service threads (a program started by `danaus run` runs in the
 * tenant's pool, beside its service): spinning there only keeps the service off the core it needs to answer.
 */
static int beside_service(void) {
  int cpu = sched_getcpu();
  return cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, &queue_cpus);
}

/**
 * Waits while *word == value: spin (unless beside the service), then futex sleeps of LIVENESS_SLICE_NS with
 * `sleepers` raised. 0, or -ENOTCONN.
 */
static int wait_change(uint32_t *word, uint32_t value, uint32_t *sleepers) {
  int spin = beside_service() ? 0 : SPIN;
  for (int i = 0; i < spin; i++) {
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value) return 0;
    __builtin_ia32_pause();
  }
  for (;;) {
    __atomic_add_fetch(sleepers, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != value) {
      __atomic_sub_fetch(sleepers, 1, __ATOMIC_SEQ_CST);
      return 0;
    }
    struct timespec slice = {0, LIVENESS_SLICE_NS};
    futex(word, FUTEX_WAIT, value, &slice);
    __atomic_sub_fetch(sleepers, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value) return 0;
    if (!service_alive()) return -ENOTCONN;
  }
}

static struct danaus_entry *entry_at(uint32_t slot) {
  return (struct danaus_entry *)(entries + (size_t)slot * header->entry_slot);
}

static void announce_free(void) {
  __atomic_add_fetch(&queue->free_seq, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&queue->producer_sleepers, __ATOMIC_SEQ_CST) != 0) futex(&queue->free_seq, FUTEX_WAKE, INT32_MAX, NULL);
}

static int64_t call(uint32_t opcode, const int64_t *args, int nargs, uint32_t length, uint32_t *reply_length);

/* A call answers through its result; the futex waits and liveness checks on its way (EAGAIN, ETIMEDOUT…) must not
 * leave their errno behind, since programs read errno after calls that succeed (readdir's end, strtol's idiom). */
int64_t dn_call(uint32_t opcode, const int64_t *args, int nargs, uint32_t length, uint32_t *reply_length) {
  int saved = errno;
  int64_t result = call(opcode, args, nargs, length, reply_length);
  errno = saved;
  return result;
}

static int64_t call(uint32_t opcode, const int64_t *args, int nargs, uint32_t length, uint32_t *reply_length) {
  if (reply_length) *reply_length = 0;
  if (state != 1) return -ENOTCONN;
  if (length > dn_bufsize) return -EINVAL;
  if (__atomic_load_n(&header->status, __ATOMIC_ACQUIRE) == DANAUS_REGION_CLOSED) {
    gone();
    return -ENOTCONN;
  }
  struct danaus_entry *e = NULL;
  uint32_t slot = 0;
  for (;;) {
    uint32_t seq = __atomic_load_n(&queue->free_seq, __ATOMIC_SEQ_CST);
    slot = __atomic_fetch_add(&queue->submit_hint, 1, __ATOMIC_SEQ_CST) % capacity;
    for (uint32_t tried = 0; tried < capacity; tried++, slot = slot + 1 == capacity ? 0 : slot + 1) {
      struct danaus_entry *candidate = entry_at(slot);
      uint32_t expected = DANAUS_ENTRY_EMPTY;
      if (__atomic_load_n(&candidate->state, __ATOMIC_ACQUIRE) != DANAUS_ENTRY_EMPTY) continue;
      if (__atomic_compare_exchange_n(&candidate->state, &expected, DANAUS_ENTRY_WRITING, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        e = candidate;
        break;
      }
    }
    if (e != NULL) break;
    if (wait_change(&queue->free_seq, seq, &queue->producer_sleepers) < 0) {
      gone();
      return -ENOTCONN;
    }
  }
  e->opcode = opcode;
  e->client = client_id;
  e->request_id = next_request++;
  e->buffer = buffer_index;
  e->offset = 0;
  e->length = length;
  e->reply_length = 0;
  for (int i = 0; i < DANAUS_ARG_COUNT; i++) e->args[i] = i < nargs ? args[i] : 0;
  e->result = 0;
  __atomic_store_n(&e->waiters, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&e->state, DANAUS_ENTRY_VALID, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&queue->pending, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&queue->post_seq, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&queue->consumer_sleepers, __ATOMIC_SEQ_CST) != 0) futex(&queue->post_seq, FUTEX_WAKE, 1, NULL);
  for (;;) {
    uint32_t now = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
    if (now == DANAUS_ENTRY_DONE) break;
    if (now != DANAUS_ENTRY_VALID && now != DANAUS_ENTRY_SERVING) {
      /* Someone rewrote our entry: the reply is lost. */
      return -EIO;
    }
    if (wait_change(&e->state, now, &e->waiters) < 0) {
      gone();
      return -ENOTCONN;
    }
  }
  int64_t result = e->result;
  uint32_t reply = e->reply_length;
  __atomic_store_n(&e->state, DANAUS_ENTRY_EMPTY, __ATOMIC_SEQ_CST);
  announce_free();
  if (reply > length) return -EIO;
  if (reply_length) *reply_length = reply;
  return result;
}
