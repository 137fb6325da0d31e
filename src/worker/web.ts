/**
 * `npm start`: the web process. Validates the environment, migrates, bootstraps, initialises the
 * scheduler once, then serves the dashboard, tRPC and REST on one port.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { EnvError, parseEnv } from "../env";
import { createAppServices } from "../server/app";
import { createHttpServer } from "../server/http/server";
import { logger, resolveLogFormat, setLogFormat } from "../server/logger";
import { useLeanHeap } from "./leanHeap";
import { readyLine } from "./readyLine";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

async function main() {
  useLeanHeap();
  const config = parseEnv();
  logger.level = config.LOG_LEVEL;
  setLogFormat(resolveLogFormat(config.LOG_FORMAT, Boolean(process.stdout.isTTY)));
  const dev = process.argv.includes("--dev");
  const services = await createAppServices(config);
  // Before taking traffic: arm future campaigns, run the missed ones (once per process).
  await services.scheduler.initialize();
  // Campaigns paused by an outage resume by themselves once it passes (runner/autoResume.ts).
  services.autoResume.start();
  services.wahaServers.startHealthChecks();
  // Outgoing webhooks: this process delivers the outbox too (services/outgoingWebhooks/deliverer.ts).
  services.webhookDeliverer.start();

  const pages = next({ dev, dir: repoRoot, quiet: !dev });
  await pages.prepare();
  const handler = pages.getRequestHandler();
  const server = createHttpServer(services, (req, res) => handler(req, res), { devPages: dev });
  server.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.PORT;
    // The sandbox's fake WAHA runs here: it can post its events straight back to this process.
    if (services.sandbox && !config.WAHA_WEBHOOK_URL) {
      services.sessions.setWebhookUrl(`http://127.0.0.1:${port}/api/webhooks/waha`);
    }
    logger.info({ port, database: services.database.kind, scheduler: config.SCHEDULER_DRIVER, sandbox: services.sandbox }, "listening");
    // Always plain, always last: the one line a newcomer (or a script) looks for.
    process.stdout.write(
      `${readyLine({ host: config.HOST, port, sandbox: services.sandbox, database: services.database.kind, dataDir: config.DATA_DIR })}\n`,
    );
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    server.close();
    await services.close().catch((error: unknown) => logger.error({ err: error }, "error while stopping"));
    await pages.close?.();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof EnvError) {
    console.error(error.message);
  } else {
    logger.fatal({ err: error }, "start-up failed");
  }
  process.exit(1);
});
