/* static-writer.c — a statically linked program (built by spawn.test.ts with cc -static) that writes one line to the
 * descriptor named by its argument: it never loads the preload library. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char line[] = "written by a static program\n";
  int fd = argc > 1 ? atoi(argv[1]) : 1;
  return write(fd, line, strlen(line)) == (ssize_t)strlen(line) ? 0 : 1;
}
