/** @module protocol — the typed channel's wire format: operations, errno, struct layouts, queue entries and the region layout. */
export * from "./scalar.ts";
export * from "./struct.ts";
export * from "./errno.ts";
export * from "./entry.ts";
export * from "./operations.ts";
export * from "./payload.ts";
export * from "./names.ts";
export * from "./stat.ts";
export * from "./statfs.ts";
export * from "./dirent.ts";
export * from "./fifo-node.ts";
export * from "./region-layout.ts";
export * from "./c-header.ts";
export * from "./linux.ts";
export * from "./file-system.ts";
export * from "./read-directory.ts";
export * from "./stream-frame.ts";
