/** @module main — process entry of the client-cache service (started by the supervisor; it may host other services of its group). */
import { runServiceProcess } from "../../kernel/service-host/index.ts";
import { loadService } from "../registry.ts";

await runServiceProcess("client-cache", loadService);
