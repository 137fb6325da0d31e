/** `npm run db:migrate`: applies the committed migrations to DATABASE_URL (or the PGlite in DATA_DIR). */
import { EnvError, parseEnv } from "../env";
import { migrateDatabase, openDatabase } from "../server/db/client";

try {
  const config = parseEnv();
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL ?? null, dataDir: config.DATA_DIR });
  await migrateDatabase(database);
  await database.close();
  console.log(`Migrations applied (${database.kind}).`);
} catch (error) {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
}
