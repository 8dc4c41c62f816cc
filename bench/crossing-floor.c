/*
 * crossing-floor — part of `bun run bench ipc`: the least time a request can take through a chain of processes of one
 * tenant, whatever their code does. A client on core CLIENT_CPU hands a request to a front process on core SERVICE_CPU
 * by a shared word it spins on (as the ring's client and an idle service thread do across cores); the front passes it
 * to HOPS more processes one after the other, all on SERVICE_CPU, each woken by a futex and waking the next, and the
 * answer comes back the same way. No process does anything else, so the time per request is the floor of a topology
 * whose services are HOPS processes beyond the front, sharing the tenant's one core.
 *
 * Usage: crossing-floor HOPS SERVICE_CPU CLIENT_CPU REQUESTS. Prints one line: "median_ns p99_ns".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOPS 8

/*
 * One word per link of the chain: link 0 between the client and the front, link i between process i-1 and process i.
 * A link holds the request's sequence number when a request waits at its far end, and its negation once answered.
 */
struct chain {
  _Atomic int link[MAX_HOPS + 1];
  _Atomic int stop;
};

static long futex(_Atomic int *word, int op, int value) {
  return syscall(SYS_futex, (int *)word, op, value, NULL, NULL, 0);
}

static int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

/* Waits (on the futex) until `word` is not `seen`; returns its new value. */
static int sleep_while(_Atomic int *word, int seen) {
  int now;
  while ((now = atomic_load(word)) == seen) futex(word, FUTEX_WAIT, seen);
  return now;
}

/* Process `index` of the chain (1..hops): takes each request at link index-1 and answers it. */
static void serve(struct chain *c, int index, int hops) {
  int seen = 0;
  for (;;) {
    int request;
    if (index == 1) {
      // The front spins on the client's word, as an idle service thread on a core of its own does.
      while ((request = atomic_load(&c->link[0])) == seen || request < 0) {
        if (atomic_load(&c->stop)) return;
      }
      if (atomic_load(&c->stop)) return;
    } else {
      request = sleep_while(&c->link[index - 1], seen);
      if (atomic_load(&c->stop)) return;
      if (request < 0) {
        seen = request;
        continue;
      }
    }
    seen = request;
    if (index < hops + 1) {
      atomic_store(&c->link[index], request);
      futex(&c->link[index], FUTEX_WAKE, 1);
      sleep_while(&c->link[index], request);
    }
    atomic_store(&c->link[index - 1], -request);
    if (index > 1) futex(&c->link[index - 1], FUTEX_WAKE, 1);
    seen = -request;
  }
}

static int by_value(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: crossing-floor HOPS SERVICE_CPU CLIENT_CPU REQUESTS\n");
    return 2;
  }
  int hops = atoi(argv[1]);
  int service_cpu = atoi(argv[2]);
  int client_cpu = atoi(argv[3]);
  long requests = atol(argv[4]);
  if (hops < 0 || hops > MAX_HOPS - 1 || requests < 1) {
    fprintf(stderr, "crossing-floor: HOPS must be 0..%d and REQUESTS positive\n", MAX_HOPS - 1);
    return 2;
  }
  struct chain *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (c == MAP_FAILED) {
    perror("crossing-floor: mmap");
    return 1;
  }
  memset(c, 0, sizeof *c);
  pid_t pids[MAX_HOPS + 1];
  for (int i = 1; i <= hops + 1; i++) {
    pids[i] = fork();
    if (pids[i] < 0) {
      perror("crossing-floor: fork");
      return 1;
    }
    if (pids[i] == 0) {
      if (pin(service_cpu) != 0) _exit(1);
      serve(c, i, hops);
      _exit(0);
    }
  }
  if (pin(client_cpu) != 0) {
    perror("crossing-floor: sched_setaffinity");
    return 1;
  }
  long *ns = malloc(sizeof *ns * (size_t)requests);
  if (ns == NULL) return 1;
  for (long r = 1; r <= requests; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    atomic_store(&c->link[0], (int)r);
    while (atomic_load(&c->link[0]) != -(int)r) {
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns[r - 1] = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
  }
  atomic_store(&c->stop, 1);
  for (int i = 2; i <= hops + 1; i++) {
    atomic_store(&c->link[i - 1], 0);
    futex(&c->link[i - 1], FUTEX_WAKE, 1);
  }
  for (int i = 1; i <= hops + 1; i++) waitpid(pids[i], NULL, 0);
  qsort(ns, (size_t)requests, sizeof *ns, by_value);
  printf("%ld %ld\n", ns[requests / 2], ns[requests * 99 / 100]);
  free(ns);
  return 0;
}
