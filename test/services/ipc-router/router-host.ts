/** A process that runs one ipc-router for tests: reads its tenant config and limits from argv[2] (JSON), prints "ready". */
import { Logger } from "../../../kernel/log/index.ts";
import { FaultState, type ServiceContext } from "../../../kernel/service-host/index.ts";
import { DEFAULT_LIMITS, IpcRouter } from "../../../services/ipc-router/index.ts";

const { tenant, runtime, limits } = JSON.parse(process.argv[2]!) as Pick<ServiceContext, "tenant" | "runtime"> & { limits: object };
const faults = new FaultState();
const ctx: ServiceContext = { tenant, runtime, faults, log: new Logger({ tenant: tenant.name, service: "ipc-router" }, "debug") };
const router = await IpcRouter.start(ctx, { ...DEFAULT_LIMITS, ...limits });
process.on("SIGTERM", async () => {
  await router.stop();
  process.exit(0);
});
// stdin lines are test commands: "slow <ms> <duration>", "threads", "stats" (answered on stdout, one line each).
(async () => {
  for await (const chunk of Bun.stdin.stream()) {
    for (const line of new TextDecoder().decode(chunk).split("\n")) {
      const [command, a, b] = line.trim().split(" ");
      if (command === "slow") faults.slow(Number(a), Number(b));
      if (command === "threads") process.stdout.write(`threads ${router.threadCounts().join(",")}\n`);
      if (command === "stats") process.stdout.write(`${JSON.stringify(router.stats())}\n`);
    }
  }
})();
process.stdout.write("ready\n");
