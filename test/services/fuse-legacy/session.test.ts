/**
 * @module test/services/fuse-legacy/session — FuseSession without a mount: hand-built requests in, replies checked
 * byte-wise: INIT negotiation, ENOSYS for unknown and unimplemented opcodes, EIO (and a log line) for a handler bug,
 * no reply for FORGET / BATCH_FORGET / INTERRUPT, lookup counts, LINK answering the old node.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import {
  FUSE_OP,
  fuse_attr,
  fuse_dirent,
  fuse_entry_out,
  fuse_init_out,
  fuse_open_out,
  fuse_out_header,
  FUSE_ENTRY_OUT_ATTR,
} from "../../../services/fuse-legacy/protocol/index.ts";
import { FuseSession, NodeTable } from "../../../services/fuse-legacy/server/index.ts";
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { recordingLogger } from "./fixtures/mount-support.ts";

const root = mkdtempSync(join(tmpdir(), "danaus-fuse-session-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: number): number[] => [...u32(n >>> 0), ...u32(Math.floor(n / 2 ** 32))];
const cstr = (text: string): number[] => [...new TextEncoder().encode(text), 0];

/** A request: the 40-byte fuse_in_header (uid/gid/pid 0) then `body`. */
function request(opcode: number, unique: number, nodeid: number, body: number[] = []): Uint8Array {
  return new Uint8Array([...u32(40 + body.length), ...u32(opcode), ...u64(unique), ...u64(nodeid), ...u32(0), ...u32(0), ...u32(0), 0, 0, 0, 0, ...body]);
}

/** Runs one request; returns the reply header and a view of the body, or undefined when no reply is due. */
function run(session: FuseSession, bytes: Uint8Array) {
  const length = session.handle(bytes, bytes.length);
  if (length === 0) return undefined;
  const view = new DataView(session.reply.buffer);
  return { header: fuse_out_header.read(view, 0), view, length };
}

const initBody = (major: number, minor: number, flags: number, flags2 = 0) => [...u32(major), ...u32(minor), ...u32(131072), ...u32(flags), ...u32(flags2), ...new Array<number>(44).fill(0)];

describe("FuseSession", () => {
  const backend = new LocalBackend(root);

  test("INIT: minor 31, only the wanted flags the kernel offered, max_write 1 MiB", () => {
    const session = new FuseSession(backend);
    const reply = run(session, request(FUSE_OP.INIT, 1, 0, initBody(7, 45, 0xffffffff)))!;
    expect(reply.header).toEqual({ len: 16 + 64, error: 0, unique: 1 });
    const init = fuse_init_out.read(reply.view, 16);
    expect(init.major).toBe(7);
    expect(init.minor).toBe(31);
    expect(init.flags).toBe(0x1 | 0x20 | 0x1000 | 0x2000 | 0x4000 | 0x40000 | 0x400000);
    expect(init.max_write).toBe(1 << 20);
    expect(init.max_pages).toBe(256);
    expect(session.minor).toBe(31);
  });

  test("INIT: FUSE_DIRECT_IO_ALLOW_MMAP is taken through FUSE_INIT_EXT when offered, and only then", () => {
    const offered = run(new FuseSession(backend), request(FUSE_OP.INIT, 1, 0, initBody(7, 45, 0xffffffff, 0xffffffff)))!;
    const init = fuse_init_out.read(offered.view, 16);
    expect(init.flags & (1 << 30)).not.toBe(0);
    expect(init.flags2).toBe(1 << 4);
    // Without FUSE_INIT_EXT from the kernel, flags2 means nothing: none taken.
    const plain = fuse_init_out.read(run(new FuseSession(backend), request(FUSE_OP.INIT, 2, 0, initBody(7, 45, 0x3fffffff, 0xffffffff)))!.view, 16);
    expect(plain.flags & (1 << 30)).toBe(0);
    expect(plain.flags2).toBe(0);
  });

  test("INIT: a kernel older than 7.12 is refused EPROTO; a newer major gets our major only", () => {
    const session = new FuseSession(backend);
    expect(run(session, request(FUSE_OP.INIT, 2, 0, initBody(7, 11, 0)))!.header.error).toBe(-71);
    const newer = run(session, request(FUSE_OP.INIT, 3, 0, initBody(8, 0, 0)))!;
    expect(newer.header.error).toBe(0);
    expect(fuse_init_out.read(newer.view, 16).major).toBe(7);
  });

  test("an unknown opcode and an unimplemented one are answered ENOSYS with the request's unique", () => {
    const session = new FuseSession(backend);
    expect(run(session, request(9999, 77, 1))!.header).toEqual({ len: 16, error: -38, unique: 77 });
    expect(run(session, request(22, 78, 1, [...u32(100), ...u32(0), ...cstr("user.x")]))!.header.error).toBe(-38); // GETXATTR
  });

  test("FORGET, BATCH_FORGET and INTERRUPT get no reply; a truncated request neither", () => {
    const session = new FuseSession(backend);
    expect(run(session, request(FUSE_OP.FORGET, 5, 2, u64(1)))).toBeUndefined();
    expect(run(session, request(FUSE_OP.BATCH_FORGET, 6, 0, [...u32(1), ...u32(0), ...u64(2), ...u64(1)]))).toBeUndefined();
    expect(run(session, request(FUSE_OP.INTERRUPT, 7, 0, u64(5)))).toBeUndefined();
    expect(session.handle(new Uint8Array(20), 20)).toBe(0);
  });

  test("a handler throwing a non-FsError is answered EIO and logged", () => {
    const logger = recordingLogger();
    const broken = new Proxy(backend, {
      get(target, property) {
        if (property === "lstat") return () => { throw new TypeError("boom"); };
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as FileSystem;
    const session = new FuseSession(broken, {}, logger);
    expect(run(session, request(FUSE_OP.GETATTR, 9, 1, [...u32(0), ...u32(0), ...u64(0)]))!.header).toEqual({ len: 16, error: -5, unique: 9 });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.level).toBe("error");
    expect(JSON.stringify(logger.lines[0]?.fields)).toContain("boom");
  });

  test("LOOKUP: ENOENT for a missing name; an existing one gets a node id, counted per lookup, dropped by FORGET", () => {
    writeFileSync(join(root, "f"), "12345");
    const session = new FuseSession(backend, { attrTimeoutMs: 1500, entryTimeoutMs: 250 });
    expect(run(session, request(FUSE_OP.LOOKUP, 10, 1, cstr("missing")))!.header.error).toBe(-2);
    const first = run(session, request(FUSE_OP.LOOKUP, 11, 1, cstr("f")))!;
    expect(first.header.len).toBe(16 + 128);
    const entry = fuse_entry_out.read(first.view, 16);
    expect(entry).toMatchObject({ generation: 0, entry_valid: 0, entry_valid_nsec: 250_000_000, attr_valid: 1, attr_valid_nsec: 500_000_000 });
    expect(fuse_attr.read(first.view, 16 + FUSE_ENTRY_OUT_ATTR).size).toBe(5);
    const id = entry.nodeid;
    run(session, request(FUSE_OP.LOOKUP, 12, 1, cstr("f")));
    expect(session.nodes.lookups(id)).toBe(2);
    run(session, request(FUSE_OP.FORGET, 13, id, u64(2)));
    expect(session.nodes.path(id)).toBeUndefined();
    expect(run(session, request(FUSE_OP.GETATTR, 14, id, [...u32(0), ...u32(0), ...u64(0)]))!.header.error).toBe(-116); // ESTALE
  });

  test("LINK answers the old node's id with the new link count; a LOOKUP of either name answers it too", () => {
    writeFileSync(join(root, "linked"), "abc");
    const session = new FuseSession(backend);
    const old = fuse_entry_out.read(run(session, request(FUSE_OP.LOOKUP, 30, 1, cstr("linked")))!.view, 16).nodeid;
    const linked = run(session, request(FUSE_OP.LINK, 31, 1, [...u64(old), ...cstr("linked-too")]))!;
    expect(linked.header.error).toBe(0);
    expect(fuse_entry_out.read(linked.view, 16).nodeid).toBe(old);
    expect(fuse_attr.read(linked.view, 16 + FUSE_ENTRY_OUT_ATTR).nlink).toBe(2);
    expect(fuse_entry_out.read(run(session, request(FUSE_OP.LOOKUP, 32, 1, cstr("linked-too")))!.view, 16).nodeid).toBe(old);
    expect(session.nodes.lookups(old)).toBe(3);
    // UNLINK of the first name: the node answers GETATTR through the other, with one link.
    expect(run(session, request(FUSE_OP.UNLINK, 33, 1, cstr("linked")))!.header.error).toBe(0);
    const attr = run(session, request(FUSE_OP.GETATTR, 34, old, [...u32(0), ...u32(0), ...u64(0)]))!;
    expect(attr.header.error).toBe(0);
    expect(fuse_attr.read(attr.view, 16 + 16).nlink).toBe(1);
  });

  test("RENAME over a name that a LOOKUP from another Worker saw replaced before the rename's table update: the node resolves by its new name", () => {
    mkdirSync(join(root, "race"));
    writeFileSync(join(root, "race", "t2"), "new");
    writeFileSync(join(root, "race", "winner"), "old");
    // Two Workers' sessions over one table; the second's LOOKUP runs inside the first's RENAME, after the backend's.
    const nodes = new NodeTable();
    let racing: (() => void) | undefined;
    const fs = Object.create(backend) as FileSystem;
    fs.rename = (from, to, flags) => {
      backend.rename(from, to, flags);
      racing?.();
    };
    const first = new FuseSession(fs, {}, undefined, nodes);
    const second = new FuseSession(backend, {}, undefined, nodes);
    const dir = fuse_entry_out.read(run(first, request(FUSE_OP.LOOKUP, 40, 1, cstr("race")))!.view, 16).nodeid;
    const moving = fuse_entry_out.read(run(first, request(FUSE_OP.LOOKUP, 41, dir, cstr("t2")))!.view, 16).nodeid;
    run(first, request(FUSE_OP.LOOKUP, 42, dir, cstr("winner")));
    racing = () => expect(fuse_entry_out.read(run(second, request(FUSE_OP.LOOKUP, 43, dir, cstr("winner")))!.view, 16).nodeid).toBe(moving);
    // RENAME: newdir, then the two names.
    expect(run(first, request(FUSE_OP.RENAME, 44, dir, [...u64(dir), ...cstr("t2"), ...cstr("winner")]))!.header.error).toBe(0);
    racing = undefined;
    expect(nodes.path(moving)).toBe("/race/winner");
    const attr = run(first, request(FUSE_OP.GETATTR, 45, moving, [...u32(0), ...u32(0), ...u64(0)]))!;
    expect(attr.header.error).toBe(0);
    expect(fuse_attr.read(attr.view, 16 + 16).size).toBe(3);
  });

  test("READDIR fills the reply up to `size` and continues from the last entry's offset", () => {
    mkdirSync(join(root, "dir"));
    for (let i = 0; i < 20; i++) writeFileSync(join(root, "dir", `name-${i}`), "");
    const session = new FuseSession(backend);
    const dirEntry = run(session, request(FUSE_OP.LOOKUP, 20, 1, cstr("dir")))!;
    const dirId = fuse_entry_out.read(dirEntry.view, 16).nodeid;
    const opened = run(session, request(FUSE_OP.OPENDIR, 21, dirId, [...u32(0), ...u32(0)]))!;
    const fh = fuse_open_out.read(opened.view, 16).fh;
    const names: string[] = [];
    let offset = 0;
    for (let round = 0; round < 50; round++) {
      const reply = run(session, request(FUSE_OP.READDIR, 22 + round, dirId, [...u64(fh), ...u64(offset), ...u32(100), ...u32(0), ...u64(0), ...u32(0), ...u32(0)]))!;
      expect(reply.header.error).toBe(0);
      const bodyLength = reply.header.len - 16;
      expect(bodyLength).toBeLessThanOrEqual(100);
      if (bodyLength === 0) break;
      for (let at = 16; at < 16 + bodyLength; ) {
        const dirent = fuse_dirent.read(reply.view, at);
        names.push(new TextDecoder().decode(session.reply.subarray(at + 24, at + 24 + dirent.namelen)));
        offset = dirent.off;
        at += (24 + dirent.namelen + 7) & ~7;
      }
    }
    expect(names.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `name-${i}`).sort());
    expect(run(session, request(FUSE_OP.RELEASEDIR, 90, dirId, [...u64(fh), ...u32(0), ...u32(0), ...u64(0)]))!.header.error).toBe(0);
  });

  test("READDIRPLUS gives each name its entry (one lookup each, never for an entry that did not fit); . and .. get node 0", () => {
    mkdirSync(join(root, "plus"));
    for (let i = 0; i < 12; i++) writeFileSync(join(root, "plus", `entry-${i}`), "x".repeat(i));
    const session = new FuseSession(backend);
    const dirId = fuse_entry_out.read(run(session, request(FUSE_OP.LOOKUP, 100, 1, cstr("plus")))!.view, 16).nodeid;
    const fh = fuse_open_out.read(run(session, request(FUSE_OP.OPENDIR, 101, dirId, [...u32(0), ...u32(0)]))!.view, 16).fh;
    const seen = new Map<string, { nodeid: number; size: number }>();
    let offset = 0;
    for (let round = 0; round < 50; round++) {
      // 400 bytes: two or three records per reply, so some entries are left for the next round.
      const reply = run(session, request(FUSE_OP.READDIRPLUS, 102 + round, dirId, [...u64(fh), ...u64(offset), ...u32(400), ...u32(0), ...u64(0), ...u32(0), ...u32(0)]))!;
      expect(reply.header.error).toBe(0);
      const bodyLength = reply.header.len - 16;
      expect(bodyLength).toBeLessThanOrEqual(400);
      if (bodyLength === 0) break;
      for (let at = 16; at < 16 + bodyLength; ) {
        const entry = fuse_entry_out.read(reply.view, at);
        const dirent = fuse_dirent.read(reply.view, at + 128);
        const name = new TextDecoder().decode(session.reply.subarray(at + 128 + 24, at + 128 + 24 + dirent.namelen));
        seen.set(name, { nodeid: entry.nodeid, size: fuse_attr.read(reply.view, at + FUSE_ENTRY_OUT_ATTR).size });
        offset = dirent.off;
        at += 128 + ((24 + dirent.namelen + 7) & ~7);
      }
    }
    for (let i = 0; i < 12; i++) {
      const got = seen.get(`entry-${i}`)!;
      expect(got.size).toBe(i);
      expect(session.nodes.lookups(got.nodeid)).toBe(1);
      expect(session.nodes.path(got.nodeid)).toBe(`/plus/entry-${i}`);
    }
    if (seen.has(".")) expect(seen.get(".")!.nodeid).toBe(0);
    // Twelve files plus the directory and the root: nothing else was counted.
    expect(session.nodes.size).toBe(14);
  });

  test("LOOKUP of a missing name: ENOENT, or a negative entry (node 0) kept for negativeTimeoutMs", () => {
    const plain = new FuseSession(backend);
    expect(run(plain, request(FUSE_OP.LOOKUP, 200, 1, cstr("nothing-here")))!.header.error).toBe(-2);
    const negative = new FuseSession(backend, { negativeTimeoutMs: 2500 });
    const reply = run(negative, request(FUSE_OP.LOOKUP, 201, 1, cstr("nothing-here")))!;
    expect(reply.header).toEqual({ len: 16 + 128, error: 0, unique: 201 });
    expect(fuse_entry_out.read(reply.view, 16)).toMatchObject({ nodeid: 0, entry_valid: 2, entry_valid_nsec: 500_000_000, attr_valid: 0 });
    expect(negative.nodes.size).toBe(1);
    // Other errors stay errors.
    writeFileSync(join(root, "plain-file"), "");
    expect(run(negative, request(FUSE_OP.LOOKUP, 202, 1, cstr("plain-file/below")))!.header.error).toBe(-20);
  });
});
