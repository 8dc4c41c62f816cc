/** @module helpers — child processes speaking JSON lines, router stats and polling, shared by the robustness tests. */
import type { Subprocess } from "bun";
import { writeSync } from "node:fs";
import type { TestRouter } from "../router-harness.ts";

/** What `stats` answers (see IpcRouter.stats). */
export interface RouterStats {
  clients: number;
  openFiles: number;
  buffersInUse: number;
  threads: number[];
}

/** Asks a test router for its stats. */
export async function routerStats(router: TestRouter): Promise<RouterStats> {
  router.command("stats");
  return JSON.parse(await router.nextLine()) as RouterStats;
}

/** Asks a test router how many service threads each queue has. */
export async function routerThreads(router: TestRouter): Promise<number[]> {
  router.command("threads");
  const line = await router.nextLine();
  if (!line.startsWith("threads ")) throw new Error(`router answered "${line}" to "threads"`);
  return line.slice("threads ".length).split(",").map(Number);
}

/**
 * `work`, failed at once (with the router's last log lines) if the router process exits first: a crashed router must
 * fail the test now, not after the peers' own hang guards.
 */
export async function whileRouterLives<T>(router: TestRouter, work: Promise<T>): Promise<T> {
  const died = router.proc.exited.then((code) => {
    throw new Error(`the router exited (${code ?? router.proc.signalCode}); its last lines:\n${router.logs.slice(-12).join("\n")}`);
  });
  return Promise.race([work, died]);
}

/** Polls `check` every 20 ms until it returns a truthy value; throws after `limitMs` (a hang guard, not a threshold). */
export async function eventually<T>(what: string, check: () => T | Promise<T>, limitMs = 30_000): Promise<NonNullable<T>> {
  const deadline = performance.now() + limitMs;
  let last: unknown;
  for (;;) {
    last = await check();
    if (last) return last as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what} (last: ${JSON.stringify(last)})`);
    await Bun.sleep(20);
  }
}

function stdoutReader(proc: Subprocess<"pipe", "pipe", "pipe">) {
  return proc.stdout.getReader();
}

/** A child `bun` process that prints one JSON object per stdout line and may read command lines on stdin. */
export class Child {
  readonly stderr: string[] = [];
  private pending = "";
  private readonly decoder = new TextDecoder();
  private readonly reader: ReturnType<typeof stdoutReader>;

  constructor(readonly proc: Subprocess<"pipe", "pipe", "pipe">, readonly name: string) {
    this.reader = stdoutReader(proc);
    void (async () => {
      for await (const chunk of proc.stderr) this.stderr.push(new TextDecoder().decode(chunk));
    })();
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Sends one command line. */
  send(line: string): void {
    this.proc.stdin.write(line + "\n");
    this.proc.stdin.flush();
  }

  /** The next JSON line the child prints (throws with its stderr when it exits first). */
  async next<T = Record<string, unknown>>(): Promise<T> {
    for (;;) {
      const newline = this.pending.indexOf("\n");
      if (newline >= 0) {
        const line = this.pending.slice(0, newline);
        this.pending = this.pending.slice(newline + 1);
        try {
          return JSON.parse(line) as T;
        } catch {
          throw new Error(`${this.name} printed a non-JSON line: ${line}`);
        }
      }
      const { value, done } = await this.reader.read();
      if (done) {
        await this.proc.exited;
        throw new Error(`${this.name} (pid ${this.pid}) exited with ${this.proc.exitCode ?? this.proc.signalCode} before answering: ${this.stderr.join("").slice(-2000)}`);
      }
      this.pending += this.decoder.decode(value);
    }
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGKILLs this child (by its pid) if it still runs, and reaps it. */
  async kill(): Promise<void> {
    if (this.running) this.proc.kill("SIGKILL");
    await this.proc.exited;
  }
}

const children = new Set<Child>();

/**
 * Starts `bun <script> <JSON args>` (after `launcher`, e.g. setpriv, with `env` added to the environment);
 * {@link killChildren} kills it by pid if it is still running.
 */
export function spawnChild(script: string, args: unknown, name = script.split("/").pop()!, launcher: string[] = [], env: Record<string, string> = {}): Child {
  const proc = Bun.spawn([...launcher, process.execPath, script, JSON.stringify(args)], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
  const child = new Child(proc, name);
  children.add(child);
  return child;
}

/** Kills (by pid) and reaps every child this test file started that still runs. */
export async function killChildren(): Promise<void> {
  const all = [...children];
  children.clear();
  await Promise.all(all.map((child) => child.kill()));
}

/** Makes a child process die with its parent (the test runner), so a crashed test leaves no orphan behind. */
export async function dieWithParent(): Promise<void> {
  const { setParentDeathSignal } = await import("../../../../kernel/sys/libc.ts");
  if (!setParentDeathSignal(9, process.ppid)) process.exit(1);
}

/** Reads stdin as lines, calling `onLine` for each (the child's command loop). */
export async function commandLines(onLine: (line: string) => void | Promise<void>): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of Bun.stdin.stream()) {
    rest += decoder.decode(chunk);
    let newline: number;
    while ((newline = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, newline).trim();
      rest = rest.slice(newline + 1);
      if (line) await onLine(line);
    }
  }
}

/**
 * Prints one JSON line on stdout, synchronously: a child that says "calling" and then blocks its thread in a
 * synchronous call must have said it before blocking (process.stdout.write may only flush on the next event-loop turn).
 */
export function say(value: unknown): void {
  writeSync(1, JSON.stringify(value) + "\n");
}
