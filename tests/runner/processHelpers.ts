/**
 * Runner child processes (tests/runner/fixtures/runCampaign.ts) for the multi-process and crash tests:
 * start one, or kill one with SIGKILL again and again while it sends. The fake WAHA's log is the judge.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Database, openDatabase } from "~/server/db/client";
import type { FakeWaha } from "../../tools/fake-waha/server";
import { waitFor } from "../helpers/waitFor";
import { type Seeded, sessionMessages } from "./helpers";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixture = path.join(repoRoot, "tests/runner/fixtures/runCampaign.ts");

export interface Child {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function startRunner(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "silent", CLIENT_TIMEOUT_MS: "400", SEND_TIMEOUT_MS: "500", LEASE_MS: "1000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { process: child, exited };
}

/**
 * Starts a runner, waits until it is sending (the fake's log grows), lets it run a random moment,
 * SIGKILLs it; `kills` times. Then a last runner finishes the campaign.
 */
export async function killRepeatedly(fake: FakeWaha, seeded: Seeded, env: Record<string, string>, kills: number): Promise<{ killedAt: number[]; final: string }> {
  const killedAt: number[] = [];
  for (let round = 0; round < kills; round++) {
    const before = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
    const child = startRunner(env);
    const finishedEarly = await Promise.race([
      waitFor("the runner to send", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length > before, { timeoutMs: 20_000, intervalMs: 5 }).then(() => false),
      child.exited.then(() => true),
    ]);
    if (!finishedEarly) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 120));
      if (round % 2 === 1) {
        // Every other kill lands just after WAHA recorded a send, so some kills surely interrupt a
        // send in flight (with the fake's latency: accepted by WAHA, not yet recorded by the runner)
        // instead of leaving that to chance.
        const seen = sessionMessages(fake.messages(), seeded.wahaSessionName).length;
        await Promise.race([
          waitFor("the next send", () => sessionMessages(fake.messages(), seeded.wahaSessionName).length > seen, { timeoutMs: 5_000, intervalMs: 1 }),
          child.exited,
        ]).catch(() => undefined);
      }
      child.process.kill("SIGKILL");
    }
    const exit = await child.exited;
    killedAt.push(sessionMessages(fake.messages(), seeded.wahaSessionName).length);
    if (exit.signal !== "SIGKILL") throw new Error(`runner ended before it was killed: ${exit.code} ${exit.stderr.slice(-500)}`);
  }
  const last = startRunner(env);
  const exit = await last.exited;
  if (exit.code !== 0) throw new Error(`the last runner failed (${exit.code}): ${exit.stderr.slice(-1000)}`);
  return { killedAt, final: exit.stdout.trim() };
}

/** Opens the file-backed PGlite database in `dir` for one use and closes it: a child process opens it next. */
export async function withFileDatabase<T>(dir: string, use: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase({ dataDir: dir });
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}
