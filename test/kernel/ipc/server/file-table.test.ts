/** @module file-table.test — the shared open-file table's directory-stream limit per client. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_MAX_DIR_STREAMS, FileTable } from "../../../../kernel/ipc/server/file-table.ts";

const A = 11;
const B = 22;

describe("directory streams per client", () => {
  test("a client gets its limit of directory streams and -1 past it; files and other clients are not counted", () => {
    const table = new FileTable(FileTable.allocate(64, 4));
    expect(table.maxDirStreams).toBe(4);
    const dirs = [1, 2, 3, 4].map((handle) => table.insert(A, 0, handle, true));
    for (const fd of dirs) expect(fd).toBeGreaterThanOrEqual(0);
    expect(table.insert(A, 0, 5, true)).toBe(-1);
    expect(table.dirStreams(A)).toBe(4);
    // Plain files of the same client and another client's streams are not limited by A's streams.
    expect(table.insert(A, 0, 6)).toBeGreaterThanOrEqual(0);
    expect(table.insert(B, 0, 7, true)).toBeGreaterThanOrEqual(0);
    expect(table.dirStreams(B)).toBe(1);
    // The refused insert left no slot behind: 4 streams + 1 file of A, 1 stream of B.
    expect(table.openCount()).toBe(6);
    // Closing one stream makes room for another.
    expect(table.remove(dirs[0]!, A)).toEqual({ handle: 1, mount: 0 });
    expect(table.insert(A, 0, 8, true)).toBeGreaterThanOrEqual(0);
    expect(table.insert(A, 0, 9, true)).toBe(-1);
  });

  test("a client's death releases its streams", () => {
    const table = new FileTable(FileTable.allocate(16, 2));
    table.insert(A, 0, 1, true);
    table.insert(A, 0, 2, true);
    expect(table.insert(A, 0, 3, true)).toBe(-1);
    expect(table.removeClient(A)).toHaveLength(2);
    expect(table.dirStreams(A)).toBe(0);
    expect(table.insert(A, 0, 4, true)).toBeGreaterThanOrEqual(0);
  });

  test("a descriptor opened without O_DIRECTORY counts once it is read as a directory", () => {
    const table = new FileTable(FileTable.allocate(16, 1));
    const plain = table.insert(A, 0, 1);
    const other = table.insert(A, 0, 2);
    expect(table.markDirStream(plain, A)).toBe(true);
    expect(table.markDirStream(plain, A)).toBe(true);
    expect(table.dirStreams(A)).toBe(1);
    expect(table.markDirStream(other, A)).toBe(false);
    expect(table.dirStreams(A)).toBe(1);
    expect(table.insert(A, 0, 3, true)).toBe(-1);
  });

  test("the default limit is 1024, and never above the table", () => {
    expect(new FileTable(FileTable.allocate(4096)).maxDirStreams).toBe(DEFAULT_MAX_DIR_STREAMS);
    expect(new FileTable(FileTable.allocate(8, 100)).maxDirStreams).toBe(8);
    expect(() => FileTable.allocate(8, 0)).toThrow(RangeError);
  });
});
