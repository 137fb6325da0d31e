/**
 * Admin CLI: `npm run cli -- create-user --email E --password P [--api-key K]`
 * creates a user in a workspace of their own (and an API key for REST, when given). With
 * SIGNUP=closed or invite, this (or BOOTSTRAP_*) is how the first user is made; the password rules
 * are the sign-up's (8+ characters, not one of the 10,000 most common).
 */
import { parseArgs } from "node:util";
import { EnvError, parseEnv } from "../env";
import { migrateDatabase, openDatabase } from "../server/db/client";
import { createApiKey, createUser, newAccountSchema } from "../server/services/auth";
import { PasswordHasher } from "../server/services/auth/passwords";
import { AppError } from "../server/services/errors";

const USAGE = "usage: npm run cli -- create-user --email E --password P [--api-key K]";

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "create-user") {
    console.error(command ? `Unknown command "${command}".\n${USAGE}` : USAGE);
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof EnvError || error instanceof AppError) console.error(error.message);
    else console.error(error);
    process.exit(1);
  },
);
