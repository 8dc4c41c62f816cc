/** @module fuse-legacy/protocol — the FUSE kernel ABI declared once as data: opcodes, struct layouts, flags, message framing. */
export * from "./structs.ts";
export * from "./flags.ts";
export * from "./opcodes.ts";
export * from "./message.ts";
export * from "./dirent.ts";
