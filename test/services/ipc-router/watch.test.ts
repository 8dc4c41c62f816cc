/**
 * @module test/services/ipc-router/watch — the "watch" connection of the registration socket (registry.ts): a watcher
 * of a mount hears the names other processes' clients change there, every byte of them, in whole lines even when it
 * reads late and the router's lines overflow the socket's buffer (what the socket does not take waits for its drain).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { constants } from "node:fs";
import { DanausClient } from "../../../shims/ts/client.ts";
import { waitFor } from "../../integration/harness.ts";
import { startTestRouter, type TestRouter } from "./router-harness.ts";

let router: TestRouter | undefined;
beforeAll(async () => {
  router = await startTestRouter({ cpus: [0] });
}, 30_000);
afterAll(() => router?.stop(), 30_000);

test("a watcher that reads late still hears every name change, whole and byte for byte, or is told how many it lost", async () => {
  const client = DanausClient.connect({ socket: router!.socket });
  const heard: string[] = [];
  let lost = 0;
  let pending = "";
  let acknowledged = false;
  let broken: unknown;
  const socket = await Bun.connect({
    unix: router!.socket,
    socket: {
      open: (s) => void s.write(JSON.stringify({ op: "watch", pid: 1, mount: "/m0" }) + "\n"),
      data: (_s, chunk) => {
        pending += chunk.toString("latin1");
        for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
          const text = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          try {
            const line = JSON.parse(text) as { ok?: boolean; names?: { path: string }[]; lost?: number };
            if (line.ok === true) acknowledged = true;
            for (const name of line.names ?? []) heard.push(Buffer.from(name.path, "base64").toString("latin1"));
            lost += line.lost ?? 0;
          } catch (error) {
            broken = error;
          }
        }
      },
    },
  });
  try {
    await waitFor("the watch reply", () => acknowledged, 10_000);
    // Paths of ~2 KB, names not UTF-8: 300 of them are ~0.8 MB of lines, more than a socket's buffer holds. This loop
    // keeps the test's event loop busy, so nothing is read before it ends.
    const deep = Array.from({ length: 8 }, (_, i) => `d${i}-\xff${"x".repeat(240)}`);
    let dir = "/m0";
    for (const part of deep) {
      dir += `/${part}`;
      client.mkdir(Buffer.from(dir, "latin1"), 0o755);
    }
    const made: string[] = [];
    for (let i = 0; i < 300; i++) {
      const path = `${dir}/f${i}-\x80\xfe`;
      client.close(client.open(Buffer.from(path, "latin1"), constants.O_CREAT | constants.O_WRONLY, 0o644));
      made.push(path.slice("/m0".length));
    }
    await waitFor("every change heard or told lost", () => heard.length + lost >= deep.length + made.length, 30_000);
    expect(broken).toBeUndefined();
    expect(heard.length).toBeGreaterThan(0);
    // Whatever was heard is whole and exact, and in order.
    const expected = [...deep.map((_, i) => `/${deep.slice(0, i + 1).join("/")}`), ...made];
    let at = 0;
    for (const path of heard) {
      at = expected.indexOf(path, at);
      expect(at).toBeGreaterThanOrEqual(0);
    }
    expect(heard.length + lost).toBe(expected.length);
  } finally {
    socket.end();
    client.disconnect();
  }
}, 60_000);
