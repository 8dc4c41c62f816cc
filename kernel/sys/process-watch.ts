/** @module process-watch — tells whether another process has exited, immune to pid reuse (a pidfd, polled). */
import { syscall } from "./libc.ts";
import { closeFd, pollIn } from "./unix-socket.ts";

const SYS_PIDFD_OPEN = 434;

/** A handle on one process, taken while it runs. */
export class ProcessWatch {
  private constructor(private fd: number, readonly pid: number) {}

  /** Watches `pid`; null when it does not exist (already gone). */
  static open(pid: number): ProcessWatch | null {
    const fd = syscall(SYS_PIDFD_OPEN, pid, 0);
    return fd < 0 ? null : new ProcessWatch(fd, pid);
  }

  /** Whether the process has exited (a pidfd becomes readable when it does). */
  exited(): boolean {
    return this.fd < 0 || pollIn(this.fd, 0);
  }

  /** Releases the handle. */
  close(): void {
    if (this.fd >= 0) closeFd(this.fd);
    this.fd = -1;
  }
}
