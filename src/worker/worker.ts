/**
 * `npm run worker`: a process that only runs campaigns handed to it by pg-boss (SCHEDULER_DRIVER=pg-boss,
 * for more than one process). Web processes queue the jobs; any number of these execute them, and the
 * campaign's claim in the database makes sure each campaign runs in one place at a time.
 *
 * Environment (validated by src/env.ts): DATABASE_URL (PostgreSQL, required), WAHA_URL (required: the
 * built-in sandbox WAHA lives inside the web process), WAHA_API_KEY, WAHA_TIMEOUT_MS, DATA_DIR (its
 * `media` folder must be the web process's, for image campaigns), LOG_LEVEL, LOG_FORMAT.
 */
import { EnvError, parseEnv } from "../env";
import { createAppServices } from "../server/app";
import { logger, resolveLogFormat, setLogFormat } from "../server/logger";

async function main() {
  const config = parseEnv();
  logger.level = config.LOG_LEVEL;
  setLogFormat(resolveLogFormat(config.LOG_FORMAT, Boolean(process.stdout.isTTY)));
  const log = logger.child({ component: "worker", pid: process.pid });
  if (!config.DATABASE_URL) throw new EnvError(["DATABASE_URL must be set: workers share the web process's PostgreSQL"]);
  if (!config.WAHA_URL) throw new EnvError(["WAHA_URL must be set: a worker cannot reach the web process's sandbox WAHA"]);
  if (config.SCHEDULER_DRIVER !== "pg-boss") {
    log.warn("SCHEDULER_DRIVER is not pg-boss: web processes will not queue jobs for this worker");
  }

  // The one composition root, as a worker: it runs the campaigns pg-boss hands it, nothing else.
  // Migrating is safe beside a web process doing the same (one migrator at a time).
  const services = await createAppServices({ ...config, SCHEDULER_DRIVER: "pg-boss" }, { role: "worker" });
  await services.scheduler.initialize();
  // Workers share the outgoing webhooks' outbox with the web process (leases, skip locked).
  services.webhookDeliverer.start();
  log.info("worker ready: running queued campaigns");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker stopping");
    let code = 0;
    try {
      await services.close();
    } catch (error) {
      log.error({ err: error }, "error while stopping");
      code = 1;
    }
    process.exit(code);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof EnvError) console.error(error.message);
  else logger.fatal({ err: error }, "worker start-up failed");
  process.exit(1);
});
