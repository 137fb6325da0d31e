import { backends } from "../helpers/db";
import { defineSchedulerCases } from "./fixtures/integrationCases";

// pg-boss is for PostgreSQL (when TEST_DATABASE_URL is set); on PGlite it runs through the
// executeSql adapter (scheduling/pgBossPglite.ts), for a single process.
for (const kind of backends) defineSchedulerCases({ driver: "pg-boss", kind, onTimeMs: 3_000 });
