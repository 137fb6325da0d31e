/**
 * The composition root: builds every service once per process from the validated environment, for
 * every process entry (src/worker/web.ts, worker.ts, the CLI, tests), never a page or a route module.
 * Services get their settings here, through their constructors. Nothing runs at import time.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { eq } from "drizzle-orm";
import { EnvError, type Env } from "../env";
import { startFakeWaha, type FakeWaha } from "../../tools/fake-waha/server";
import { type Database, type Db, migrateDatabase, openDatabase } from "./db/client";
import { listenForSlotReleases } from "./db/notifications";
import { whatsappSessions } from "./db/schema";
import { childLogger } from "./logger";
import { bootstrapAdmin, type SignupMode } from "./services/auth";
import { PasswordHasher, type PasswordHasherOptions } from "./services/auth/passwords";
import { AuthThrottle, type ThrottlePolicy } from "./services/auth/throttle";
import type { QuotaDefaults } from "./services/quotas";
import { CampaignService } from "./services/campaigns";
import { MediaService } from "./services/media";
import { WebhookDeliverer, type WebhookDelivererOptions } from "./services/outgoingWebhooks/deliverer";
import { AutoResumeService } from "./services/runner/autoResume";
import { announcePresence } from "./services/runner/presence";
import { SchedulerService } from "./services/scheduler";
import { WahaApiClient } from "./services/waha/client";
import { WahaClientRegistry } from "./services/waha/clientRegistry";
import { SecretBox } from "./services/waha/secretBox";
import { WahaServerService } from "./services/wahaServers";
import { WhatsappSessionService } from "./services/whatsappSessions";
import { configuredWebhookKey } from "./services/webhookKeys";

export interface AppServices {
  config: Env;
  database: Database;
  db: Db;
  waha: WahaApiClient;
  /** True when no WAHA_URL is set: the built-in fake WAHA plays WhatsApp. */
  sandbox: boolean;
  fakeWaha: FakeWaha | null;
  /** The key WAHA signs webhooks with: WAHA_WEBHOOK_SECRET, else AUTH_SECRET, else (sandbox) one made at start. */
  webhookSecret: string;
  sessions: WhatsappSessionService;
  /** One WahaApiClient per WAHA server: the default (`waha`) and each registered one. */
  wahaClients: WahaClientRegistry;
  /** Registered WAHA servers and their health; the web entry starts the health checks. */
  wahaServers: WahaServerService;
  /** Hashes and checks passwords; one per process, so its limiter bounds scrypt for the whole process. */
  passwords: PasswordHasher;
  /** Log-in and sign-up throttle (database-backed: every process shares it). */
  authThrottle: AuthThrottle;
  /** SIGNUP, or by default `open` in sandbox mode and `invite` with a real WAHA. */
  signupMode: SignupMode;
  /** QUOTA_* defaults; a workspace's own quota columns win. */
  quotas: QuotaDefaults;
  campaigns: CampaignService;
  media: MediaService;
  scheduler: SchedulerService;
  /** Resumes campaigns paused by an outage once it passes; started by the web process entry. */
  autoResume: AutoResumeService;
  /** Posts the outgoing webhooks' outbox; started by the process entries (web and worker), stopped by close(). */
  webhookDeliverer: WebhookDeliverer;
  mediaDir: string;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  /** An already open database (tests); otherwise opened from DATABASE_URL / DATA_DIR. */
  database?: Database;
  /** "web" for `npm start`; "worker" for `npm run worker` (pg-boss only). */
  role?: "all" | "web" | "worker";
  /** Tests drive the sweep faster. */
  sweepCron?: string;
  /** Tests check paused campaigns' causes more often. */
  autoResumeTickMs?: number;
  /** Tests lower scrypt's cost (production: PRODUCTION_SCRYPT). */
  passwordHashing?: PasswordHasherOptions;
  /** Tests shorten the throttle's blocks. */
  throttlePolicy?: ThrottlePolicy;
  /** Tests shorten the outgoing webhooks' poll, timeout and backoff. */
  webhookDelivery?: Omit<WebhookDelivererOptions, "holderId" | "allowPrivate">;
}

const log = childLogger("app");

export async function createAppServices(config: Env, options: CreateAppOptions = {}): Promise<AppServices> {
  // Every webhook is signed (parseEnv already refuses a real WAHA without a key). In sandbox mode the
  // built-in fake WAHA is told this key with each number created, and signs with it.
  const webhookSecret = configuredWebhookKey(config) ?? (config.WAHA_URL ? null : randomBytes(32).toString("hex"));
  if (!webhookSecret) throw new EnvError(["WAHA_WEBHOOK_SECRET is required when WAHA_URL is set (or set AUTH_SECRET)"]);
  const database =
    options.database ??
    (await openDatabase({ databaseUrl: config.DATABASE_URL ?? null, dataDir: config.DATA_DIR }));
  await migrateDatabase(database);
  const { db } = database;
  const passwords = new PasswordHasher(options.passwordHashing);
  const quotas: QuotaDefaults = { numbers: config.QUOTA_NUMBERS, contacts: config.QUOTA_CONTACTS, mediaBytes: config.QUOTA_MEDIA_BYTES };

  // The first user is the web process's to make (a worker starting beside it would race it).
  if (options.role !== "worker") {
    const bootstrap = await bootstrapAdmin(db, {
      email: config.BOOTSTRAP_ADMIN_EMAIL,
      password: config.BOOTSTRAP_ADMIN_PASSWORD,
      apiKey: config.BOOTSTRAP_API_KEY,
    }, { passwords });
    if (bootstrap.created) log.info({ email: bootstrap.email }, "created the first user from BOOTSTRAP_ADMIN_EMAIL");
  }

  let fakeWaha: FakeWaha | null = null;
  if (!config.WAHA_URL) {
    fakeWaha = await startFakeWaha({ port: 0, apiKey: config.WAHA_API_KEY });
    // The sandbox's sessions live in memory: bring back those that were connected before a restart.
    const connected = await db.select().from(whatsappSessions).where(eq(whatsappSessions.status, "WORKING"));
    for (const session of connected) fakeWaha.setSessionStatus(session.wahaSessionName, "WORKING");
    // The fake's own URL only at debug: the first URL a newcomer reads must be the app's (web.ts ready line).
    log.warn("sandbox mode: no WAHA_URL set, messages go to the built-in fake WAHA (no real WhatsApp)");
    log.debug({ fakeWahaUrl: fakeWaha.url }, "sandbox fake WAHA listening");
  }
  const waha = new WahaApiClient({
    baseUrl: config.WAHA_URL ?? fakeWaha!.url,
    apiKey: config.WAHA_API_KEY,
    timeoutMs: config.WAHA_TIMEOUT_MS,
  });
  // Registered servers' API keys are sealed with a key from the operator's secret; none set = keys refused.
  const encryptionSecret = config.ENCRYPTION_KEY ?? config.AUTH_SECRET ?? config.WAHA_WEBHOOK_SECRET ?? null;
  const wahaClients = new WahaClientRegistry(
    waha,
    (target) => new WahaApiClient({ ...target, timeoutMs: config.WAHA_TIMEOUT_MS }),
    (serverId) => wahaServers.target(serverId),
  );
  const wahaServers: WahaServerService = new WahaServerService(db, encryptionSecret ? new SecretBox(encryptionSecret) : null, wahaClients, {
    healthIntervalMs: config.SESSION_PROBE_INTERVAL_MS,
    // The operator's server takes numbers too (placement), unless the last call to it could not reach it.
    defaultServer: { name: fakeWaha ? "the sandbox WAHA" : "the default WAHA server", healthy: () => waha.reachability().state !== "unreachable" },
  });
  const mediaDir = path.resolve(config.DATA_DIR, "media");
  // A run waiting for a busy number, or a cancel waiting out a send, wakes when the slot is freed.
  const slotWakeups = await listenForSlotReleases(database, log);
  // Its runs hold leases as this process: if it dies, another process takes them over at once.
  const presence = await announcePresence(database, log);
  const scheduler = new SchedulerService(db, waha, {
    driver: config.SCHEDULER_DRIVER,
    role: options.role ?? (config.SCHEDULER_DRIVER === "pg-boss" ? "web" : "all"),
    databaseUrl: database.url,
    pglite: database.pglite,
    runnerOptions: {
      mediaDir,
      slotWakeups,
      holderId: presence.holderId,
      clientForSession: async (sessionId) => {
        const [number] = await db.select({ serverId: whatsappSessions.serverId }).from(whatsappSessions).where(eq(whatsappSessions.id, sessionId));
        return wahaClients.forSession({ serverId: number?.serverId ?? null });
      },
    },
    ...(options.sweepCron ? { sweepCron: options.sweepCron } : {}),
  });
  const services: AppServices = {
    config,
    database,
    db,
    waha,
    sandbox: fakeWaha !== null,
    fakeWaha,
    webhookSecret,
    passwords,
    authThrottle: new AuthThrottle(db, options.throttlePolicy),
    // Anyone may sign up only where nothing real is at stake: a real WAHA's numbers are the owner's.
    signupMode: config.SIGNUP ?? (fakeWaha ? "open" : "invite"),
    quotas,
    wahaClients,
    wahaServers,
    sessions: new WhatsappSessionService(db, waha, {
      clients: wahaClients,
      servers: wahaServers,
      quotas,
      sandboxUrl: fakeWaha?.url ?? null,
      webhookUrl: config.WAHA_WEBHOOK_URL ?? null,
      webhookHmacKey: webhookSecret,
    }),
    campaigns: new CampaignService(
      db,
      scheduler,
      { delayMinMs: config.SEND_DELAY_MIN_MS, delayMaxMs: config.SEND_DELAY_MAX_MS },
      { waha, mediaDir, slotWakeups, clientForSession: (sessionId) => services.sessions.clientForNumber(sessionId) },
    ),
    media: new MediaService(db, mediaDir, quotas),
    scheduler,
    autoResume: new AutoResumeService(db, waha, (campaignId) => scheduler.startCampaignNow(campaignId), {
      giveUpAfterMs: config.AUTO_RESUME_GIVE_UP_HOURS * 3_600_000,
      sessionProbeMs: config.SESSION_PROBE_INTERVAL_MS,
      clientForServer: (serverId) => wahaClients.forSession({ serverId }),
      ...(options.autoResumeTickMs ? { tickMs: options.autoResumeTickMs } : {}),
    }),
    // Leases its outbox rows as this process (like the runs): another process takes them once they expire.
    webhookDeliverer: new WebhookDeliverer(db, childLogger("webhooks"), {
      holderId: presence.holderId,
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      ...options.webhookDelivery,
    }),
    mediaDir,
    close: async () => {
      await services.autoResume.stop();
      wahaServers.stopHealthChecks();
      await services.webhookDeliverer.stop();
      await scheduler.stop();
      await slotWakeups.close();
      await presence.close();
      waha.close();
      wahaClients.close();
      await fakeWaha?.close();
      if (!options.database) await database.close();
    },
  };
  return services;
}
