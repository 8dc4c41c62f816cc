/** @module generate-c-header — writes shims/include/danaus_proto.h from the protocol tables: `bun kernel/ipc/protocol/generate-c-header.ts`. */
import { join } from "node:path";
import { C_HEADER_PATH, renderCHeader } from "./c-header.ts";

/** Absolute path of the generated header in this checkout. */
export const C_HEADER_FILE = join(import.meta.dir, "..", "..", "..", C_HEADER_PATH);

/** Write the header; returns its path. */
export async function writeCHeader(file: string = C_HEADER_FILE): Promise<string> {
  await Bun.write(file, renderCHeader());
  return file;
}

if (import.meta.main) {
  process.stdout.write(`wrote ${await writeCHeader()}\n`);
}
