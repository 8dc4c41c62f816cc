/**
 * FIFOs through the shared-memory client: the service never waits on a pipe. A reader's blocking open waits in its own
 * process while other clients are served and no service thread is held; a writer arriving later releases it, bytes
 * flow both ways through the kernel, O_NONBLOCK behaves as on ext4, and killing a side blocked in its open leaves
 * nothing held in the service.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { killChildren, routerStats, spawnChild, whileRouterLives, type Child } from "./helpers.ts";

const { O_RDONLY, O_WRONLY, O_NONBLOCK } = constants;
const CLIENT = join(import.meta.dir, "fixtures", "command-client.ts");
let router: TestRouter;

/** A FIFO in the backend directory of mount /m0 (made by the host's mkfifo). */
function mkfifoSync(path: string, mode: number): void {
  expect(spawnSync("mkfifo", ["-m", mode.toString(8), path]).status).toBe(0);
}

beforeAll(async () => {
  router = await startTestRouter({ cpus: [0] });
}, 30_000);
afterEach(killChildren);
afterAll(async () => {
  await router?.stop();
}, 30_000);

async function client(name: string): Promise<Child> {
  const child = spawnChild(CLIENT, { socket: router.socket }, name);
  expect(Object.keys(await child.next())).toEqual(["connected"]);
  return child;
}

async function ask(child: Child, line: string): Promise<Record<string, unknown>> {
  child.send(line);
  return whileRouterLives(router, child.next());
}

/** Waits until process `pid` is blocked in openat(2) (its /proc syscall file names syscall 257). */
async function blockedInOpen(pid: number): Promise<void> {
  for (let tries = 0; !readFileSync(`/proc/${pid}/syscall`, "utf8").startsWith("257 "); tries++) {
    if (tries > 1500) throw new Error(`process ${pid} never blocked in openat`);
    await Bun.sleep(20);
  }
}

/** Held requests and service threads of the router now. */
async function service(): Promise<{ held: string[]; threads: number[]; openFiles: number }> {
  const stats = (await routerStats(router)) as unknown as { held: string[]; threads: number[]; openFiles: number };
  return { held: stats.held, threads: stats.threads, openFiles: stats.openFiles };
}

test("a reader's open waits in its own process; others are served; the writer releases it; bytes flow both ways", async () => {
  mkfifoSync(join(router.backendRoot, "m0", "p"), 0o600);
  mkfifoSync(join(router.backendRoot, "m0", "q"), 0o600);
  const baseline = (await service()).openFiles;
  const [reader, other, writer] = [await client("reader"), await client("other"), await client("writer")];

  reader.send(`open p /m0/p ${O_RDONLY}`);
  const opened = reader.next();
  await blockedInOpen(reader.pid);
  // While the reader waits for a writer, another client is answered, nothing is held in the service.
  expect(await ask(other, "stat /m0")).toEqual({ stat: constants.S_IFDIR | 0o700 });
  expect(await ask(other, "stat /m0/p")).toEqual({ stat: constants.S_IFIFO | 0o600 });
  expect(await service()).toMatchObject({ held: [], threads: [1] });

  expect(await ask(writer, `open p /m0/p ${O_WRONLY}`)).toMatchObject({ open: "p" });
  expect(await whileRouterLives(router, opened)).toMatchObject({ open: "p" });
  expect(await ask(writer, "write p ping")).toEqual({ wrote: 4 });
  expect(await ask(reader, "read p")).toEqual({ read: "ping" });

  // The other way round on the second FIFO: the former reader writes, the former writer reads.
  writer.send(`open q /m0/q ${O_RDONLY}`);
  const second = writer.next();
  expect(await ask(reader, `open q /m0/q ${O_WRONLY}`)).toMatchObject({ open: "q" });
  expect(await whileRouterLives(router, second)).toMatchObject({ open: "q" });
  expect(await ask(reader, "write q pong")).toEqual({ wrote: 4 });
  expect(await ask(writer, "read q")).toEqual({ read: "pong" });

  // Writers gone and drained: end of file.
  expect(await ask(writer, "close p")).toEqual({ closed: "p" });
  expect(await ask(reader, "read p")).toEqual({ read: "" });
  for (const [child, name] of [[reader, "p"], [reader, "q"], [writer, "q"]] as const) expect(await ask(child, `close ${name}`)).toEqual({ closed: name });
  expect((await service()).openFiles).toBe(baseline);
}, 60_000);

test("O_NONBLOCK as on ext4: a reader opens at once, a writer without a reader gets ENXIO", async () => {
  mkfifoSync(join(router.backendRoot, "m0", "n"), 0o600);
  const one = await client("one");
  expect(await ask(one, `open w /m0/n ${O_WRONLY | O_NONBLOCK}`)).toEqual({ errno: "ENXIO" });
  expect(await ask(one, `open r /m0/n ${O_RDONLY | O_NONBLOCK}`)).toMatchObject({ open: "r" });
  expect(await ask(one, "read r")).toEqual({ read: "" });
  expect(await ask(one, `open w /m0/n ${O_WRONLY | O_NONBLOCK}`)).toMatchObject({ open: "w" });
  expect(await ask(one, "read r")).toEqual({ errno: "EAGAIN" });
  expect(await ask(one, "write w x")).toEqual({ wrote: 1 });
  expect(await ask(one, "read r")).toEqual({ read: "x" });
}, 60_000);

test("a client killed while its open waits for a partner leaves no thread and no descriptor held", async () => {
  mkfifoSync(join(router.backendRoot, "m0", "k"), 0o600);
  const baseline = (await service()).openFiles;
  const victim = await client("victim");
  victim.send(`open k /m0/k ${O_RDONLY}`);
  // The service answered the victim's open with the FIFO's node (one descriptor more); the victim now waits in the kernel.
  for (let tries = 0; (await service()).openFiles !== baseline + 1; tries++) {
    if (tries > 1500) throw new Error("the victim's open never reached the service");
    await Bun.sleep(20);
  }
  await blockedInOpen(victim.pid);
  const other = await client("other");
  expect(await ask(other, "stat /m0/k")).toEqual({ stat: constants.S_IFIFO | 0o600 });
  expect(await service()).toMatchObject({ held: [], threads: [1] });
  await victim.kill();
  // The victim's registration closes with its process: its descriptor of the FIFO node is released.
  for (let tries = 0; (await service()).openFiles !== baseline; tries++) {
    if (tries > 1500) throw new Error("the killed client's descriptor was never released");
    await Bun.sleep(20);
  }
  expect(await service()).toMatchObject({ held: [], threads: [1] });
  // And the FIFO still works for others.
  expect(await ask(other, `open r /m0/k ${O_RDONLY | O_NONBLOCK}`)).toMatchObject({ open: "r" });
}, 60_000);
