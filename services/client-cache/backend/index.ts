/** @module backend — the client-cache's backends behind the FileSystem interface; for now the `local` one (a host directory). */
export { LocalBackend } from "./local-backend.ts";
export { offsetToCookie } from "./readdir.ts";
export * from "./cephfs/index.ts";
