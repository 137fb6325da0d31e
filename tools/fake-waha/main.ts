import { parseArgs } from "node:util";
import { type NowebStoreMode, startFakeWaha, type WahaEngine } from "./server";

/**
 * npm run fake-waha -- [--port N (default 0: a free port)] [--host H] [--api-key K] [--engine NOWEB|WEBJS|GOWS] [--without-new-message-id]
 *   [--noweb-store always|config (NOWEB: every session keeps messages, or only those created with the store on)]
 * Prints the URL, runs until SIGINT/SIGTERM.
 */

const USAGE =
  "usage: npm run fake-waha -- --port N [--host 127.0.0.1] [--api-key K] [--engine NOWEB|WEBJS|GOWS] [--without-new-message-id] [--noweb-store always|config]";
const ENGINES: readonly WahaEngine[] = ["NOWEB", "WEBJS", "GOWS"];

function fail(message: string): never {
  process.stderr.write(`fake-waha: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        "api-key": { type: "string" },
        engine: { type: "string", default: "WEBJS" },
        "without-new-message-id": { type: "boolean", default: false },
        "noweb-store": { type: "string", default: "always" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`--port must be an integer 0..65535, got "${values.port}"`);
  const engine = values.engine.toUpperCase() as WahaEngine;
  if (!ENGINES.includes(engine)) fail(`--engine must be one of ${ENGINES.join(", ")}, got "${values.engine}"`);
  const nowebStore = values["noweb-store"] as NowebStoreMode;
  if (nowebStore !== "always" && nowebStore !== "config") fail(`--noweb-store must be always or config, got "${values["noweb-store"]}"`);

  const fake = await startFakeWaha({
    port,
    host: values.host,
    engine,
    newMessageId: !values["without-new-message-id"],
    nowebStore,
    ...(values["api-key"] ? { apiKey: values["api-key"] } : {}),
  });
  const storeNote = engine === "NOWEB" && nowebStore === "config" ? ", messages kept only with config.noweb.store.enabled" : "";
  process.stdout.write(`fake WAHA (${engine}${storeNote}${values["api-key"] ? ", API key required" : ""}) listening on ${fake.url}\n`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stdout.write(`fake-waha: ${signal}, closing\n`);
    fake.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error));
});
