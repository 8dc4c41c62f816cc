/**
 * @module test/kernel/ipc/server/change-log — the ring of what clients changed: file records and name records (paths
 * of any bytes), drains, once per drain, quiet clients, lapping of the ring and of the path arena.
 */
import { describe, expect, test } from "bun:test";
import { ChangeLog } from "../../../../kernel/ipc/server/change-log.ts";

describe("ChangeLog", () => {
  test("records are drained in order from where the last drain ended; a file is recorded once per drain, client and descriptor", () => {
    const shared = ChangeLog.allocate();
    const writer = new ChangeLog(shared);
    const reader = new ChangeLog(shared);
    expect(writer.watched).toBe(false);
    reader.watch(1);
    expect(writer.watched).toBe(true);
    const from = reader.written;
    const write = (client: number, fd: number, dev: number, ino: number) => {
      if (!writer.seen(client, fd)) writer.record(client, dev, ino);
    };
    write(7, 3, 1, 100);
    write(7, 3, 1, 100);
    write(8, 3, 1, 100);
    write(7, 4, 2 ** 40, 2 ** 50);
    const first = reader.drain(from);
    expect(first.changes).toEqual([
      { client: 7, st_dev: 1, st_ino: 100 },
      { client: 8, st_dev: 1, st_ino: 100 },
      { client: 7, st_dev: 2 ** 40, st_ino: 2 ** 50 },
    ]);
    expect(first.lost).toBe(0);
    // After a drain, the same file is recorded again.
    write(7, 3, 1, 100);
    expect(reader.drain(first.next).changes).toEqual([{ client: 7, st_dev: 1, st_ino: 100 }]);
    reader.watch(-1);
    expect(writer.watched).toBe(false);
  });

  test("quiet clients are listed until made loud again", () => {
    const log = new ChangeLog(ChangeLog.allocate());
    log.quiet(5, true);
    log.quiet(6, true);
    log.quiet(5, true);
    expect(log.isQuiet(5)).toBe(true);
    expect(log.isQuiet(6)).toBe(true);
    expect(log.isQuiet(7)).toBe(false);
    log.quiet(5, false);
    expect(log.isQuiet(5)).toBe(false);
    log.quiet(9, true);
    expect(log.isQuiet(9)).toBe(true);
    expect(log.isQuiet(6)).toBe(true);
  });

  test("writers that lap the reader: the lost entries are counted, the newest read", () => {
    const shared = ChangeLog.allocate();
    const writer = new ChangeLog(shared);
    const reader = new ChangeLog(shared);
    const from = reader.written;
    for (let ino = 0; ino < 5000; ino++) writer.record(1, 1, ino);
    const { changes, lost, next } = reader.drain(from);
    expect(lost).toBe(5000 - 4096);
    expect(changes.length).toBe(4096);
    expect(changes[0]!.st_ino).toBe(5000 - 4096);
    expect(next).toBe(from + 5000);
  });

  test("name changes come back with their kind, mount, file and exact path bytes, in order with the file records", () => {
    const shared = ChangeLog.allocate();
    const writer = new ChangeLog(shared);
    const reader = new ChangeLog(shared);
    const from = reader.written;
    // Byte strings: one char per byte, 0x80-0xff included (not UTF-8), and a path of DANAUS_PATH_MAX length.
    const odd = "/d\xff/n\x80\xfe";
    const deep = "/" + "x".repeat(65_534);
    writer.recordName(3, 1, "added", odd);
    writer.record(3, 1, 100);
    writer.recordName(3, 2, "removed", "/gone", undefined, { st_dev: 1, st_ino: 100 });
    writer.recordName(4, 1, "moved", odd, deep, { st_dev: 2 ** 40, st_ino: 7 });
    const { changes, names, lost, next } = reader.drain(from);
    expect(lost).toBe(0);
    expect(next).toBe(from + 4);
    expect(changes).toEqual([{ client: 3, st_dev: 1, st_ino: 100 }]);
    expect(names).toEqual([
      { client: 3, mount: 1, kind: "added", path: odd, st_dev: 0, st_ino: 0 },
      { client: 3, mount: 2, kind: "removed", path: "/gone", st_dev: 1, st_ino: 100 },
      { client: 4, mount: 1, kind: "moved", path: odd, to: deep, st_dev: 2 ** 40, st_ino: 7 },
    ]);
  });

  test("paths whose bytes later writers overwrote are counted lost, the newer ones read", () => {
    const shared = ChangeLog.allocate();
    const writer = new ChangeLog(shared);
    const reader = new ChangeLog(shared);
    const from = reader.written;
    // 16 paths of 32 KiB fill the 256 KiB arena twice over: the first eight are overwritten by the last eight.
    for (let i = 0; i < 16; i++) writer.recordName(1, 0, "added", `/${String.fromCharCode(0x61 + i)}${"y".repeat(32 * 1024 - 2)}`);
    const { names, lost } = reader.drain(from);
    expect(lost).toBe(8);
    expect(names.map((n) => n.path[1])).toEqual([..."ijklmnop"]);
    expect(names.every((n) => n.path === `/${n.path[1]}${"y".repeat(32 * 1024 - 2)}`)).toBe(true);
  });
});
