/** @module host-path — which host config the supervisor and the CLI use: --config, then $DANAUS_CONFIG, then the demo. */
import { resolve } from "node:path";

/** The demo host config shipped with the project (two tenants, alpha and beta, on the local backend). */
export const DEMO_HOST_CONFIG = resolve(import.meta.dir, "../../config/demo/host.toml");

/** The host config path from `--config <file>` in `args`, else $DANAUS_CONFIG, else the demo config. */
export function hostConfigPath(args: string[]): string {
  const index = args.indexOf("--config");
  if (index >= 0 && args[index + 1]) return resolve(args[index + 1]!);
  return process.env.DANAUS_CONFIG ? resolve(process.env.DANAUS_CONFIG) : DEMO_HOST_CONFIG;
}
