/**
 * A well-behaved client process for the fuzz test: keeps `files` files open under its own directory and, until the
 * stop file appears, writes random chunks (some larger than a request buffer) at random offsets, reads every write
 * back, checks sizes with fstat and periodically compares whole files with its in-memory model. Any error or any byte
 * that differs is recorded. Prints {ready} once set up, then one report line when stopped.
 */
import { existsSync } from "node:fs";
import { constants } from "node:fs";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { dieWithParent, say } from "./helpers.ts";

/** What the good client reports. */
export interface GoodReport {
  ops: number;
  bytesVerified: number;
  errors: string[];
  mismatches: string[];
}

const { socket, seed, stopFile, files, maxChunk } = JSON.parse(process.argv[2]!) as {
  socket: string; seed: number; stopFile: string; files: number; maxChunk: number;
};
await dieWithParent();

let state = (seed ^ 0x9e3779b9) >>> 0;
function below(n: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
}

const client = DanausClient.connect({ socket });
const dir = `/m0/good-${seed}-${process.pid}`;
client.mkdir(dir, 0o700);
const models: Uint8Array[] = [];
const fds: number[] = [];
for (let i = 0; i < files; i++) {
  fds.push(client.open(`${dir}/f${i}`, constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600));
  models.push(new Uint8Array(0));
}
say({ ready: true, files });

const report: GoodReport = { ops: 0, bytesVerified: 0, errors: [], mismatches: [] };
const MAX_FILE = 4 * maxChunk;

function compare(what: string, got: Uint8Array, want: Uint8Array): void {
  report.bytesVerified += want.length;
  if (got.length !== want.length) {
    report.mismatches.push(`${what}: ${got.length} bytes, expected ${want.length}`);
    return;
  }
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      report.mismatches.push(`${what}: byte ${i} is ${got[i]}, expected ${want[i]}`);
      return;
    }
  }
}

for (let round = 0; !existsSync(stopFile) && report.errors.length < 20; round++) {
  const i = below(files);
  const fd = fds[i]!;
  try {
    const kind = below(10);
    if (kind < 6) {
      const offset = below(MAX_FILE);
      const data = new Uint8Array(1 + below(maxChunk));
      for (let k = 0; k < data.length; k++) data[k] = below(256);
      if (client.pwrite(fd, data, offset) !== data.length) report.errors.push(`short write on f${i}`);
      const model = models[i]!;
      const grown = new Uint8Array(Math.max(model.length, offset + data.length));
      grown.set(model);
      grown.set(data, offset);
      models[i] = grown;
      const back = new Uint8Array(data.length);
      const n = client.pread(fd, back, offset);
      compare(`f${i} read-back at ${offset}`, back.subarray(0, n), data);
    } else if (kind < 8) {
      const model = models[i]!;
      const whole = new Uint8Array(model.length);
      const n = client.pread(fd, whole, 0);
      compare(`f${i} whole`, whole.subarray(0, n), model);
      const size = client.fstat(fd).st_size;
      if (size !== model.length) report.mismatches.push(`f${i} fstat size ${size}, expected ${model.length}`);
    } else if (kind < 9) {
      const length = below(MAX_FILE);
      client.ftruncate(fd, length);
      const model = models[i]!;
      const cut = new Uint8Array(length);
      cut.set(model.subarray(0, Math.min(length, model.length)));
      models[i] = cut;
    } else {
      client.close(fd);
      fds[i] = client.open(`${dir}/f${i}`, constants.O_RDWR, 0);
      const st = client.stat(`${dir}/f${i}`);
      if (st.st_size !== models[i]!.length) report.mismatches.push(`f${i} stat size ${st.st_size}, expected ${models[i]!.length}`);
    }
    report.ops++;
  } catch (error) {
    report.errors.push(`round ${round} on f${i}: ${(error as Error).message}`);
  }
}
say(report);
client.disconnect();
