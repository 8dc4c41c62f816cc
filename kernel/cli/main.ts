/** @module main — `bun run danaus <command>`: the CLI that talks to a running supervisor and checks configs. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkFile, ConfigError, jsonSchemas, loadHost } from "../config/index.ts";
import { ControlUnreachableError, FAULT_KINDS, request, type Reply } from "../control/index.ts";
import { renderStatusTable, type TenantStatus } from "../supervisor/index.ts";
import { ImageError } from "../images/index.ts";
import { flag, intFlag, parseArgs, requiredFlag, UsageError, type Args } from "./args.ts";
import { CLONE_USAGE, cloneCommand } from "./clone.ts";
import { hostConfigPath } from "./host-path.ts";
import { IMAGE_USAGE, imageCommand } from "./image.ts";
import { preloadPathCommand, RUN_USAGE, RunError, runCommand } from "./run.ts";

const USAGE = `usage: bun run danaus <command> [--config host.toml]

  status [--json]                       tenants and services: pid, state, cpus, uptime, restarts, last exit
  fault <kind> --tenant T --service S   inject a fault into one service of one tenant; kinds:
        kill | hang | crash-loop [--times N] | slow [--latency MS] [--duration MS] | oom | exit [--code N]
  ping --tenant T --service S           round trip of a control message to one service
  reload                                re-read tenant files; restart only changed tenants
  start-tenant T | stop-tenant T        start (or retry a failed) / stop one tenant
  shutdown                              stop every tenant in reverse order and exit the supervisor
  check <file> [--host host.toml]       validate a host or tenant file; exit 1 with the errors (a tenant file
                                        with --host also against that host's cores, memory and other tenants)
  schema [--out DIR]                    print (or write to DIR) the JSON Schemas of host and tenant files
${IMAGE_USAGE}
${CLONE_USAGE}
${RUN_USAGE}

The host config is --config, else $DANAUS_CONFIG, else config/demo/host.toml.`;

function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : text + "\n");
}

function hostFile(args: Args): string {
  return hostConfigPath(["--config", flag(args, "config") ?? hostConfigPath([])]);
}

function controlSocket(args: Args): string {
  return loadHost(hostFile(args)).host.controlSocket;
}

async function call(args: Args, body: Record<string, unknown>): Promise<unknown> {
  const reply: Reply = await request(controlSocket(args), body);
  if (!reply.ok) {
    process.stderr.write(`danaus: ${reply.error.code}: ${reply.error.message}\n`);
    process.exit(1);
  }
  return reply.result;
}

async function run(args: Args): Promise<number> {
  if (args.rest.length > 0 && args.command !== "run") throw new UsageError(`only run takes a command after --, not ${args.command ?? "the bare CLI"}`);
  switch (args.command) {
    case "status": {
      const tenants = (await call(args, { cmd: "status" })) as TenantStatus[];
      print(args.flags.has("json") ? JSON.stringify(tenants, null, 2) : renderStatusTable(tenants));
      return 0;
    }
    case "fault": {
      const kind = args.positionals[0];
      if (!kind || !(FAULT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`fault needs a kind: ${FAULT_KINDS.join(", ")}`);
      const body = {
        cmd: "fault",
        kind,
        tenant: requiredFlag(args, "tenant"),
        service: requiredFlag(args, "service"),
        times: intFlag(args, "times"),
        durationMs: intFlag(args, "duration"),
        latencyMs: intFlag(args, "latency"),
        code: intFlag(args, "code"),
      };
      print(JSON.stringify(await call(args, body)));
      return 0;
    }
    case "ping":
      print(JSON.stringify(await call(args, { cmd: "ping", tenant: requiredFlag(args, "tenant"), service: requiredFlag(args, "service") })));
      return 0;
    case "reload":
      print(JSON.stringify(await call(args, { cmd: "reload" }), null, 2));
      return 0;
    case "start-tenant":
    case "stop-tenant": {
      const tenant = args.positionals[0] ?? flag(args, "tenant");
      if (!tenant) throw new UsageError(`${args.command} needs a tenant name`);
      const result = (await call(args, { cmd: args.command, tenant })) as TenantStatus;
      print(renderStatusTable([result]));
      return 0;
    }
    case "shutdown":
      print(JSON.stringify(await call(args, { cmd: "shutdown" })));
      return 0;
    case "check": {
      const file = args.positionals[0];
      if (!file) throw new UsageError("check needs a file");
      const host = flag(args, "host");
      const issues = checkFile(resolve(file), host ? { host: resolve(host) } : undefined);
      for (const issue of issues) process.stderr.write(`${issue.message}\n`);
      if (issues.length === 0) print(`${file}: ok`);
      return issues.length === 0 ? 0 : 1;
    }
    case "schema": {
      const schemas = jsonSchemas();
      const out = flag(args, "out");
      if (!out) {
        print(JSON.stringify(schemas, null, 2));
        return 0;
      }
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, "host.schema.json"), JSON.stringify(schemas.host, null, 2) + "\n");
      writeFileSync(join(out, "tenant.schema.json"), JSON.stringify(schemas.tenant, null, 2) + "\n");
      print(`wrote ${join(out, "host.schema.json")} and ${join(out, "tenant.schema.json")}`);
      return 0;
    }
    case "image":
      return imageCommand(args, hostFile(args), print);
    case "clone":
      return cloneCommand(args, hostFile(args), print);
    case "run":
      return runCommand(args, hostFile(args), args.rest);
    case "preload-path":
      return preloadPathCommand(args, print);
    case undefined:
    case "help":
      print(USAGE);
      return args.command ? 0 : 2;
    default:
      throw new UsageError(`unknown command "${args.command}"`);
  }
}

try {
  const args = parseArgs(process.argv.slice(2));
  if (args.flags.has("help")) {
    print(USAGE);
    process.exit(0);
  }
  process.exit(await run(args));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`danaus: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    for (const issue of error.issues) process.stderr.write(`${issue.message}\n`);
    process.exit(2);
  }
  if (error instanceof RunError) {
    process.stderr.write(`danaus: ${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof ImageError) {
    process.stderr.write(`danaus: ${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof ControlUnreachableError) {
    process.stderr.write(`danaus: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
