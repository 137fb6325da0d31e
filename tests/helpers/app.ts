/**
 * A whole app for integration tests: real database (per backend), the fake WAHA over HTTP, the
 * services, and the HTTP server (tRPC + REST, without Next.js pages) on a random port.
 */
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DatabaseKind } from "~/server/db/client";
import { parseEnv } from "~/env";
import { type AppServices, createAppServices } from "~/server/app";
import { createCaller } from "~/server/api/root";
import { createUser, createApiKey, type Caller } from "~/server/services/auth";
import { createHttpServer } from "~/server/http/server";
import type { PasswordHasherOptions, ScryptParams } from "~/server/services/auth/passwords";
import type { ThrottlePolicy } from "~/server/services/auth/throttle";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { createTestDatabase, type TestDatabase } from "./db";

/** A cheap scrypt cost for test apps. */
export const TEST_SCRYPT: ScryptParams = { logN: 10, r: 8, p: 1 };

export interface TestApp {
  services: AppServices;
  database: TestDatabase;
  fakeWaha: FakeWaha;
  /** Base URL of the HTTP server (tRPC at /api/trpc, REST at /api/v1). */
  url: string;
  close(): Promise<void>;
}

/** Tests that set WAHA_URL need a webhook key (parseEnv refuses a real WAHA without one). */
export const TEST_WEBHOOK_SECRET = "test-webhook-secret-0123456789";

export async function startTestApp(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  options: {
    initializeScheduler?: boolean;
    autoResume?: boolean;
    autoResumeTickMs?: number;
    /** Default: scrypt at N = 2^10 so that tests stay fast (production: 2^17, tests/abuse/accounts.test.ts checks it). */
    passwordHashing?: PasswordHasherOptions;
    throttlePolicy?: ThrottlePolicy;
    /** The fake WAHA's engine (default WEBJS); GOWS reports reachout timelocks and capping. */
    fakeWahaEngine?: "WEBJS" | "NOWEB" | "GOWS";
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  const fakeWaha = await startFakeWaha({ port: 0, ...(options.fakeWahaEngine ? { engine: options.fakeWahaEngine } : {}) });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "waha-campaigns-test-"));
  const config = parseEnv({
    NODE_ENV: "test",
    WAHA_URL: fakeWaha.url,
    WAHA_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    DATA_DIR: dataDir,
    SEND_DELAY_MIN_MS: "0",
    SEND_DELAY_MAX_MS: "0",
    LOG_LEVEL: "silent",
    ...env,
  });
  const services = await createAppServices(config, {
    database,
    sweepCron: "*/1 * * * * *",
    passwordHashing: options.passwordHashing ?? { params: TEST_SCRYPT },
    ...(options.throttlePolicy ? { throttlePolicy: options.throttlePolicy } : {}),
    ...(options.autoResumeTickMs ? { autoResumeTickMs: options.autoResumeTickMs } : {}),
  });
  if (options.initializeScheduler !== false) await services.scheduler.initialize();
  if (options.autoResume) services.autoResume.start();
  const server = createHttpServer(services, null);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    services,
    database,
    fakeWaha,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await services.close();
      await fakeWaha.close();
      await database.close();
    },
  };
}

let userCounter = 0;

/** A new user in a workspace of their own, with a tRPC caller and a REST API key. */
export async function createTestUser(app: TestApp) {
  const email = `user${++userCounter}-${Date.now()}@example.com`;
  const user = await createUser(app.services.db, { email, password: "correct horse battery" }, { passwords: app.services.passwords });
  const { key } = await createApiKey(app.services.db, { workspaceId: user.workspaceId, userId: user.id, name: "test" });
  const caller: Caller = { userId: user.id, workspaceId: user.workspaceId, email, via: "session" };
  return {
    ...user,
    apiKey: key,
    trpc: createCaller({ services: app.services, caller, cookies: null }),
  };
}
