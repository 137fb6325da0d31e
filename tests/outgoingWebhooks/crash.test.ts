/**
 * A crash never loses an event: the app delivering the outbox is SIGKILLed again and again, some
 * kills landing right after the receiver answered (before the app could record the delivery). In the
 * end the receiver has every event, with a valid signature, in order per campaign; an event arrives
 * twice (same id) only where a kill fell between its delivery and its record.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { type Database, migrateDatabase, openDatabase, queryRows } from "~/server/db/client";
import { webhookEndpoints, workspaces } from "~/server/db/schema";
import { emitWebhookEvent } from "~/server/services/outgoingWebhooks/emit";
import { verifyWebhookSignature } from "~/server/services/outgoingWebhooks/signature";
import { backends, createTestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/waitFor";
import { createReceiver, type ReceivedWebhook } from "./receiver";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixture = path.join(repoRoot, "tests/outgoingWebhooks/fixtures/appProcess.ts");

const CAMPAIGNS = 4;
const EVENTS_PER_CAMPAIGN = 40;
const KILLS = 4;
/** The fixture's concurrency: at most this many deliveries are in flight when a kill lands. */
const CONCURRENCY = 3;

interface AppChild {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startApp(env: Record<string, string>): AppChild {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { process: child, exited };
}

for (const backend of backends) {
  describe(`[${backend}] outgoing webhooks: SIGKILL while delivering`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    it("loses no event; a duplicate only where a kill fell between a delivery and its record", async () => {
      const receiver = await createReceiver({ delayMs: () => 2 + Math.random() * 8 });
      await receiver.start();
      cleanups.push(() => receiver.stop());

      // The database the app processes share: file-backed PGlite (one process at a time) or PostgreSQL.
      let env: Record<string, string>;
      let open: () => Promise<Database>;
      if (backend === "postgres") {
        const database = await createTestDatabase("postgres");
        cleanups.push(() => database.close());
        env = { DATABASE_URL: database.url! };
        open = async () => ({ ...database, close: async () => undefined });
      } else {
        const dataDir = mkdtempSync(path.join(os.tmpdir(), "waha-campaigns-webhooks-"));
        env = { DATA_DIR: dataDir };
        open = async () => openDatabase({ dataDir });
      }

      const secret = "whsec_crash_test_secret";
      const campaignIds = Array.from({ length: CAMPAIGNS }, () => randomUUID());
      const seeding = await open();
      await migrateDatabase(seeding);
      const [workspace] = await seeding.db.insert(workspaces).values({ name: "Crash" }).returning();
      await seeding.db.insert(webhookEndpoints).values({ workspaceId: workspace!.id, url: receiver.url, events: ["recipient.sent"], secret });
      // Interleaved campaigns, each event numbered within its campaign.
      for (let seq = 0; seq < EVENTS_PER_CAMPAIGN; seq++) {
        for (const campaignId of campaignIds) {
          await emitWebhookEvent(seeding.db, { type: "recipient.sent", workspaceId: workspace!.id, campaignId, data: { campaignId, seq } });
        }
      }
      await seeding.close();
      const total = CAMPAIGNS * EVENTS_PER_CAMPAIGN;

      // Kill the app KILLS times, every other time right after the receiver answered a delivery.
      const killedGenerations = new Set<number>();
      for (let generation = 1; generation <= KILLS; generation++) {
        receiver.tag = generation;
        const before = receiver.received.length;
        const child = startApp(env);
        await Promise.race([
          waitFor("the app to deliver", () => receiver.received.length >= before + 15, { timeoutMs: 30_000, intervalMs: 2 }),
          child.exited.then((exit) => {
            throw new Error(`the app exited (${exit.code}): ${exit.stderr.slice(-1000)}`);
          }),
        ]);
        if (generation % 2 === 0) {
          await new Promise<void>((resolve) => {
            receiver.onAnswered = () => {
              child.process.kill("SIGKILL");
              resolve();
            };
          });
          receiver.onAnswered = null;
        } else {
          child.process.kill("SIGKILL");
        }
        const exit = await child.exited;
        expect(exit.signal).toBe("SIGKILL");
        killedGenerations.add(generation);
      }

      // A last app finishes: the dead processes' leases expire and their rows are delivered again.
      receiver.tag = KILLS + 1;
      const last = startApp(env);
      await waitFor("every event received", () => new Set(receiver.received.map((webhook) => webhook.id)).size >= total, { timeoutMs: 60_000, intervalMs: 20 });
      if (backend === "postgres") {
        const checking = await open();
        await waitFor("every delivery recorded", async () => {
          const [row] = await queryRows<{ n: number }>(checking.db, sql`select count(*)::int as n from webhook_outbox where delivered_at is null`);
          return row!.n === 0;
        }, { timeoutMs: 20_000 });
      }
      last.process.kill("SIGTERM");
      expect((await last.exited).code).toBe(0);
      if (backend === "pglite") {
        const checking = await open();
        const [row] = await queryRows<{ n: number }>(checking.db, sql`select count(*)::int as n from webhook_outbox where delivered_at is null`);
        expect(row!.n).toBe(0);
        await checking.close();
      }

      // Every event, signed, with its id in the body.
      const ids = new Set(receiver.received.map((webhook) => webhook.id));
      expect(ids.size).toBe(total);
      for (const webhook of receiver.received) {
        expect(verifyWebhookSignature(secret, webhook.timestamp, webhook.body, webhook.signature)).toBe(true);
        expect(webhook.json.id).toBe(webhook.id);
      }
      // In order per campaign: once repeats are folded, each campaign's events arrive 0, 1, 2, ...
      for (const campaignId of campaignIds) {
        const seqs = receiver.received.filter((webhook) => webhook.json.data.campaignId === campaignId).map((webhook) => webhook.json.data.seq as number);
        const folded = seqs.filter((seq, index) => index === 0 || seq !== seqs[index - 1]);
        expect(folded).toEqual(Array.from({ length: EVENTS_PER_CAMPAIGN }, (_, seq) => seq));
      }
      // A duplicate only where a kill fell between the delivery and its record: its first arrival was
      // among the last deliveries in flight of a process that was then killed.
      const firstArrival = new Map<string, number>();
      receiver.received.forEach((webhook, index) => {
        if (!firstArrival.has(webhook.id)) firstArrival.set(webhook.id, index);
      });
      const duplicates = [...ids].filter((id) => receiver.received.filter((webhook) => webhook.id === id).length > 1);
      for (const id of duplicates) {
        const first: ReceivedWebhook = receiver.received[firstArrival.get(id)!]!;
        expect(killedGenerations.has(first.tag), `duplicate ${id} first came from a process that was not killed`).toBe(true);
        const ofGeneration = receiver.received.filter((webhook) => webhook.tag === first.tag);
        const lastOnes = ofGeneration.slice(-CONCURRENCY).map((webhook) => webhook.id);
        expect(lastOnes, `duplicate ${id} was not in flight at the kill`).toContain(id);
        expect(receiver.received.filter((webhook) => webhook.id === id).length).toBe(2);
      }
      expect(receiver.received.length).toBe(total + duplicates.length);
      console.log(`[${backend}] ${total} events, ${KILLS} kills, ${duplicates.length} duplicate(s) from kills between a delivery and its record`);
    }, 180_000);
  });
}
