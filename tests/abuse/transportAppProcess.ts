/**
 * The app's HTTP server (tRPC + REST + webhooks, no Next.js pages) alone in a child process, so that
 * tests/abuse/transport.test.ts can read that process's memory (/proc/<pid>/status) while attacking it.
 * File-backed PGlite in DATA_DIR, sandbox WAHA (no WAHA_URL): nothing outside the process.
 * stdout: one JSON line `{ port }` once it listens. Stops on SIGTERM.
 */
import type { AddressInfo } from "node:net";
import { parseEnv } from "~/env";
import { createAppServices } from "~/server/app";
import { createHttpServer } from "~/server/http/server";

const config = parseEnv({ ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" });
const services = await createAppServices(config);
const server = createHttpServer(services, null);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);

process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void services.close().finally(() => process.exit(0));
});
