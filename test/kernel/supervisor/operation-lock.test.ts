/** @module operation-lock.test — the order in which the supervisor's control operations run (no processes). */
import { describe, expect, test } from "bun:test";
import { OperationLock } from "../../../kernel/supervisor/operation-lock.ts";

/** An operation that records when it starts and ends, and ends when the test says so. */
function gate(log: string[], name: string) {
  let open: () => void = () => {};
  let signalStarted: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  const started = new Promise<void>((resolve) => (signalStarted = resolve));
  const op = async () => {
    log.push(`${name} start`);
    signalStarted();
    await opened;
    log.push(`${name} end`);
    return name;
  };
  return { op, open, started };
}

describe("OperationLock", () => {
  test("host-wide operations run one at a time, in the order asked", async () => {
    const lock = new OperationLock();
    const log: string[] = [];
    const a = gate(log, "a");
    const b = gate(log, "b");
    const first = lock.exclusive(a.op);
    const second = lock.exclusive(b.op);
    await a.started;
    a.open();
    b.open();
    expect(await Promise.all([first, second])).toEqual(["a", "b"]);
    expect(log).toEqual(["a start", "a end", "b start", "b end"]);
  });

  test("operations on one tenant run one at a time; on different tenants they run together", async () => {
    const lock = new OperationLock();
    const log: string[] = [];
    const a1 = gate(log, "a1");
    const a2 = gate(log, "a2");
    const b = gate(log, "b");
    const runs = [lock.keyed("a", a1.op), lock.keyed("a", a2.op), lock.keyed("b", b.op)];
    // b starts while a1 still holds tenant a: the wait would never end if b queued behind it.
    await Promise.all([a1.started, b.started]);
    expect(log).toEqual(["a1 start", "b start"]);
    a1.open();
    await a2.started;
    expect(log).toEqual(["a1 start", "b start", "a1 end", "a2 start"]);
    a2.open();
    b.open();
    expect(await Promise.all(runs)).toEqual(["a1", "a2", "b"]);
  });

  test("a host-wide operation waits for the tenant operations before it, and those after it wait for it", async () => {
    const lock = new OperationLock();
    const log: string[] = [];
    const a = gate(log, "a");
    const reload = gate(log, "reload");
    const b = gate(log, "b");
    const runs = [lock.keyed("a", a.op), lock.exclusive(reload.op), lock.keyed("b", b.op)];
    await a.started;
    a.open();
    await reload.started;
    expect(log).toEqual(["a start", "a end", "reload start"]);
    reload.open();
    b.open();
    await Promise.all(runs);
    expect(log).toEqual(["a start", "a end", "reload start", "reload end", "b start", "b end"]);
  });

  test("an operation that throws releases the lock, and its caller gets the error", async () => {
    const lock = new OperationLock();
    const failing = lock.keyed("a", async () => {
      throw new Error("no such service");
    });
    const next = lock.keyed("a", async () => "next");
    await expect(failing).rejects.toThrow("no such service");
    expect(await next).toBe("next");
  });

  test("close refuses the queued and later operations, and resolves once the running one has finished", async () => {
    const lock = new OperationLock();
    const log: string[] = [];
    const running = gate(log, "running");
    const first = lock.exclusive(running.op);
    const queued = lock.keyed("a", async () => "ran");
    await running.started;
    let drained = false;
    const closed = lock.close(() => new Error("shutting down")).then(() => (drained = true));
    await expect(queued).rejects.toThrow("shutting down");
    await expect(lock.exclusive(async () => "ran")).rejects.toThrow("shutting down");
    expect(drained).toBe(false);
    running.open();
    await closed;
    expect(await first).toBe("running");
    expect(log).toEqual(["running start", "running end"]);
    // A second close returns at once: nothing runs.
    await lock.close(() => new Error("again"));
  });
});
