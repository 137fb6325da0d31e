/**
 * Admin CLI: `npm run cli -- create-user --email E --password P [--api-key K]`
 * creates a user in a workspace of their own (and an API key for REST, when given). With
 * SIGNUP=closed or invite, this (or BOOTSTRAP_*) is how the first user is made; the password rules
 * are the sign-up's (8+ characters, not one of the 10,000 most common).
 *
 * `npm run cli -- sign-webhooks` gives every number's webhook on WAHA this app's key
 * (WAHA_WEBHOOK_SECRET, else AUTH_SECRET): numbers created before it was set post unsigned events,
 * which are refused (services/webhookKeys.ts).
 */
import { parseArgs } from "node:util";
import { EnvError, parseEnv } from "../env";
import { migrateDatabase, openDatabase } from "../server/db/client";
import { createApiKey, createUser, newAccountSchema } from "../server/services/auth";
import { PasswordHasher } from "../server/services/auth/passwords";
import { AppError } from "../server/services/errors";
import { WahaApiClient } from "../server/services/waha/client";
import { configuredWebhookKey, serverWebhookTargets, signNumberWebhooks } from "../server/services/webhookKeys";

const USAGE = "usage: npm run cli -- create-user --email E --password P [--api-key K]\n       npm run cli -- sign-webhooks";

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "sign-webhooks" && rest.length === 0) return signWebhooks();
  if (command !== "create-user") {
    console.error(command ? `Unknown command "${[command, ...rest].join(" ")}".\n${USAGE}` : USAGE);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: "string" }, password: { type: "string" }, "api-key": { type: "string" } },
  });
  const credentials = newAccountSchema.safeParse({ email: values.email, password: values.password });
  if (!credentials.success) {
    const issue = credentials.error.issues[0]!;
    console.error(`--${issue.path.join(".")}: ${issue.message}\n${USAGE}`);
    return 2;
  }
  const apiKey = values["api-key"];
  if (apiKey !== undefined && apiKey.length < 16) {
    console.error("--api-key: must be at least 16 characters");
    return 2;
  }
  const config = parseEnv();
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL ?? null, dataDir: config.DATA_DIR });
  try {
    await migrateDatabase(database);
    const user = await createUser(database.db, credentials.data, { passwords: new PasswordHasher() });
    if (apiKey) {
      await createApiKey(database.db, { workspaceId: user.workspaceId, userId: user.id, name: "cli", rawKey: apiKey });
    }
    console.log(`Created user ${user.email} (workspace ${user.workspaceId})${apiKey ? " with an API key" : ""}.`);
    return 0;
  } finally {
    await database.close();
  }
}

/** Signs the webhook of every number on the real WAHA; exit 1 when WAHA refused one. */
async function signWebhooks(): Promise<number> {
  const config = parseEnv();
  const hmacKey = configuredWebhookKey(config);
  if (!config.WAHA_URL || !config.WAHA_WEBHOOK_URL || !hmacKey) {
    console.error("sign-webhooks needs WAHA_URL, WAHA_WEBHOOK_URL and WAHA_WEBHOOK_SECRET (or AUTH_SECRET) set, as the web process has them");
    return 2;
  }
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL ?? null, dataDir: config.DATA_DIR });
  const waha = new WahaApiClient({ baseUrl: config.WAHA_URL, apiKey: config.WAHA_API_KEY, timeoutMs: config.WAHA_TIMEOUT_MS });
  // Issue 15: numbers on registered WAHA servers are signed there, with each server's own key.
  const servers = serverWebhookTargets(database.db, waha, config);
  try {
    await migrateDatabase(database);
    const results = await signNumberWebhooks(database.db, waha, { webhookUrl: config.WAHA_WEBHOOK_URL, hmacKey }, servers);
    for (const result of results) {
      console.log(`${result.name} (${result.wahaSessionName}): ${result.outcome}${result.error ? ` (${result.error})` : ""}`);
    }
    if (results.length === 0) console.log("No numbers.");
    return results.some((result) => result.outcome === "failed") ? 1 : 0;
  } finally {
    servers.close();
    waha.close();
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof EnvError || error instanceof AppError) console.error(error.message);
    else console.error(error);
    process.exit(1);
  },
);
