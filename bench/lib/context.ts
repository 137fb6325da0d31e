/** What every measurement gets from bench/main.ts, and what it gives back. */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { onCleanup } from "./cleanup";
import type { FakeWahaProcess } from "./fakeWaha";
import type { Row } from "./table";

export interface BenchContext {
  quick: boolean;
  /** Children's logs; kept after a failed run, for inspection. */
  logDir: string;
  fakeWaha: FakeWahaProcess;
  /** A fresh temp folder, removed at cleanup. */
  tempDir(label: string): string;
  /**
   * A temp DATA_DIR holding an already migrated PGlite database (a copy of one made once per run):
   * creating a PGlite database (initdb) takes seconds, and is set-up, not what is measured.
   */
  pgliteDataDir(label: string): Promise<string>;
  /** Progress to stderr (the table goes to stdout). */
  progress(message: string): void;
}

export interface MeasurementResult {
  rows: Row[];
  /** Raw figures for --json. */
  figures: Record<string, unknown>;
}

export function makeTempDir(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `waha-bench-${label}-`));
  onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Returns `pgliteDataDir` for a context: the template is made on first use. */
export function pgliteDataDirs(): (label: string) => Promise<string> {
  let template: Promise<string> | null = null;
  const makeTemplate = async () => {
    const dir = makeTempDir("pglite-template");
    const { migrateDatabase, openDatabase } = await import("~/server/db/client");
    const database = await openDatabase({ dataDir: dir });
    try {
      await migrateDatabase(database);
    } finally {
      await database.close();
    }
    return dir;
  };
  return async (label) => {
    template ??= makeTemplate();
    const source = await template;
    const dir = makeTempDir(label);
    cpSync(path.join(source, "pglite"), path.join(dir, "pglite"), { recursive: true });
    return dir;
  };
}

/** An error as a short table cell. */
export function errorCell(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // fetch's "fetch failed" says nothing by itself: its cause names the socket error.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `error: ${`${message.split("\n")[0]!}${cause}`.slice(0, 160)}`;
}
