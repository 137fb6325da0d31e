/** How measurement children open the database: exactly as the app does. */
import type { Database } from "~/server/db/client";

export interface OpenArgs {
  backend: "pglite" | "postgres";
  databaseUrl: string | null;
  dataDir: string;
}

export async function openBenchDatabase(args: OpenArgs): Promise<Database> {
  const { openDatabase } = await import("~/server/db/client");
  return args.backend === "pglite" ? openDatabase({ dataDir: args.dataDir }) : openDatabase({ databaseUrl: args.databaseUrl });
}
