/** @module test/kernel/ipc/server/path-stage — paths staged per request buffer ahead of the request that uses them. */
import { describe, expect, test } from "bun:test";
import { ERRNO } from "../../../../kernel/ipc/protocol/index.ts";
import { PathStage, STAGE_BYTES } from "../../../../kernel/ipc/server/index.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | number) => (typeof data === "number" ? data : new TextDecoder().decode(data));

describe("PathStage", () => {
  test("pieces in order make the stage the next request takes once; another view of the buffers sees it", () => {
    const shared = PathStage.allocate(4);
    const stage = new PathStage(shared);
    const other = new PathStage(shared);
    // A client id above 2^31 (the owner table holds it as an int32).
    const client = 0xfffffff0;
    expect(stage.put(2, client, 0, 9, bytes("/a/"))).toBe(3);
    expect(other.put(2, client, 3, 9, bytes("b\0/c\0"))).toBe(5);
    expect(text(other.take(2, client))).toBe(ERRNO.EINVAL); // one byte short
    expect(stage.put(2, client, 0, 6, bytes("/a/b\0"))).toBe(5);
    expect(stage.put(2, client, 5, 6, bytes("\0"))).toBe(1);
    expect(text(other.take(2, client))).toBe("/a/b\0\0");
    expect(stage.take(2, client)).toBe(ERRNO.EINVAL);
    expect(stage.usedBytes).toBe(0);
  });

  test("another client, another buffer, or a piece out of order gets EINVAL; a new stage frees the one left on its buffer", () => {
    const stage = new PathStage(PathStage.allocate(2));
    expect(stage.put(0, 7, 0, 100_000, new Uint8Array(10))).toBe(10);
    const held = stage.usedBytes;
    expect(held).toBeGreaterThan(0);
    expect(stage.take(1, 7)).toBe(ERRNO.EINVAL);
    expect(stage.put(0, 7, 0, 100_000, new Uint8Array(10))).toBe(10);
    expect(stage.usedBytes).toBe(held);
    expect(stage.put(0, 8, 10, 100_000, new Uint8Array(10))).toBe(-ERRNO.EINVAL);
    expect(stage.usedBytes).toBe(0);
    expect(stage.put(1, 7, 0, 20, new Uint8Array(10))).toBe(10);
    expect(stage.take(1, 8)).toBe(ERRNO.EINVAL);
    expect(stage.put(1, 7, 10, 20, new Uint8Array(10))).toBe(-ERRNO.EINVAL);
    stage.drop(1);
    expect(stage.usedBytes).toBe(0);
  });

  test("a total over the pool answers ENAMETOOLONG, a pool full of other stages ENOMEM until they go", () => {
    const stage = new PathStage(PathStage.allocate(3));
    expect(stage.put(0, 1, 0, STAGE_BYTES + 1, new Uint8Array(1))).toBe(-ERRNO.ENAMETOOLONG);
    expect(stage.put(0, 1, 0, STAGE_BYTES / 2 + 1, new Uint8Array(1))).toBe(1);
    expect(stage.put(1, 2, 0, STAGE_BYTES / 2, new Uint8Array(1))).toBe(-ERRNO.ENOMEM);
    stage.drop(0);
    expect(stage.put(1, 2, 0, STAGE_BYTES / 2, new Uint8Array(1))).toBe(1);
    expect(stage.put(2, 3, 0, STAGE_BYTES / 2, new Uint8Array(1))).toBe(1);
  });
});
