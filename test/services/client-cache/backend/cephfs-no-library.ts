/**
 * @module test/services/client-cache/backend/cephfs-no-library — a child process run where libcephfs.so.2 cannot be
 * loaded: importing the backend must work, the first use must throw CephLibraryMissingError. Prints one JSON line.
 */
import { CephBackend, CephMount } from "../../../../services/client-cache/backend/index.ts";

const report: { imported: boolean; name?: string; message?: string } = { imported: typeof CephBackend === "function" };
try {
  CephMount.open({ conf: "/nonexistent/ceph.conf", clientId: "admin" });
} catch (error) {
  report.name = (error as Error).name;
  report.message = (error as Error).message;
}
process.stdout.write(`${JSON.stringify(report)}\n`);
