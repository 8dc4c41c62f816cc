/** @module linux — the Linux x86-64 flag values the cache looks at in open flags, modes and whence arguments. */
export { AT_SYMLINK_NOFOLLOW, O, RENAME_EXCHANGE, S_IFMT, S_IFREG, SEEK } from "../../../kernel/ipc/protocol/linux.ts";
