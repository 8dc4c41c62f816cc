/* main.c — the library's start-up: resolves the real libc calls, reads its environment (DANAUS_SOCKET names the
 * tenant's registration socket; without it, or in a setuid program, every call goes to libc unchanged), installs the
 * fork handlers and adopts descriptors handed over by the program that exec'ed this one. */
#include "preload.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

struct dn_real dn_real;
pthread_mutex_t dn_lock = PTHREAD_MUTEX_INITIALIZER;
int dn_debug;
mode_t dn_umask = 022;
char *dn_saved_preload;
char *dn_saved_socket;
pid_t dn_pid;

int dn_shared_memory_child(void) { return getpid() != dn_pid; }

#define RESOLVE(name) dn_real.name = (__typeof__(dn_real.name))dlsym(RTLD_NEXT, #name)

void dn_resolve(void) {
  RESOLVE(open);
  RESOLVE(openat);
  RESOLVE(close);
  RESOLVE(read);
  RESOLVE(write);
  RESOLVE(fcntl);
  RESOLVE(dup);
  RESOLVE(dup2);
  RESOLVE(dup3);
  RESOLVE(close_range);
  RESOLVE(execve);
  RESOLVE(execvpe);
  RESOLVE(fexecve);
}

static char *saved(const char *name) {
  const char *value = getenv(name);
  if (value == NULL) return NULL;
  size_t n = strlen(name) + strlen(value) + 2;
  char *entry = malloc(n);
  if (entry != NULL) snprintf(entry, n, "%s=%s", name, value);
  return entry;
}

mode_t umask(mode_t mask) {
  static __typeof__(&umask) next_umask;
  if (next_umask == NULL) next_umask = (__typeof__(&umask))dlsym(RTLD_NEXT, "umask");
  mode_t old = next_umask(mask);
  dn_umask = mask & 0777;
  return old;
}

__attribute__((constructor)) static void start(void) {
  dn_resolve();
  dn_pid = getpid();
  const char *debug = getenv(DN_ENV_DEBUG);
  dn_debug = debug != NULL && strcmp(debug, "1") == 0;
  mode_t mask = umask(0);
  umask(mask);
  if (getauxval(AT_SECURE)) {
    /* setuid/setgid: never act on the environment of the caller. */
    dn_disable();
    unsetenv(DN_ENV_SOCKET);
    unsetenv(DN_ENV_INHERIT);
    unsetenv(DN_ENV_CWD);
    unsetenv(DN_ENV_POSITIONS);
    return;
  }
  dn_saved_preload = saved("LD_PRELOAD");
  dn_saved_socket = saved(DN_ENV_SOCKET);
  dn_fork_handlers();
  pthread_mutex_lock(&dn_lock);
  dn_inherit();
  pthread_mutex_unlock(&dn_lock);
  dn_stdio_adopt();
}

/**
 * At exit, before the process's open files give up their positions: glibc's last flush of its streams comes after
 * every destructor, so the library's own streams (stdio.c) are flushed here while their positions are still theirs.
 */
__attribute__((destructor)) static void finish(void) {
  dn_stdio_flush_at_exit();
  dn_positions_exit();
}
