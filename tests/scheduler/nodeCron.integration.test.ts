import { backends } from "../helpers/db";
import { defineSchedulerCases } from "./fixtures/integrationCases";

// PGlite always; PostgreSQL too when TEST_DATABASE_URL is set.
for (const kind of backends) defineSchedulerCases({ driver: "node-cron", kind, onTimeMs: 1_000 });
