/** @module main — `bun run supervisor [--config host.toml]`: runs the supervisor in the foreground until Ctrl-C or `danaus shutdown`. */
import { ConfigError, loadHost } from "./config/index.ts";
import { ControlServer } from "./control/index.ts";
import { rootLogger } from "./log/index.ts";
import { Supervisor } from "./supervisor/index.ts";
import { attachEventLog } from "./supervisor/event-log.ts";
import { hostConfigPath } from "./cli/host-path.ts";

const log = rootLogger.child({ service: "supervisor" });
const file = hostConfigPath(process.argv.slice(2));

let loaded;
try {
  loaded = loadHost(file);
} catch (error) {
  if (error instanceof ConfigError) {
    for (const issue of error.issues) process.stderr.write(`${issue.message}\n`);
    process.exit(2);
  }
  throw error;
}

const supervisor = new Supervisor(loaded.host, loaded.defaults, log);
attachEventLog(supervisor.events, log);

let control: ControlServer;
try {
  control = await ControlServer.listen(loaded.host.controlSocket, (request) => supervisor.handle(request), log);
} catch (error) {
  log.error((error as Error).message);
  process.exit(1);
}

supervisor.events.on("supervisor:stopped", () => {
  control.close();
  log.info("supervisor stopped");
  process.exit(0);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log.info("stopping every tenant", { signal });
    void supervisor.shutdown();
  });
}

log.info("supervisor starting", { config: file, instance: loaded.host.instance, controlSocket: loaded.host.controlSocket });
await supervisor.start();
log.info("supervisor running", { tenants: supervisor.status().map((t) => `${t.name}:${t.state}`) });
