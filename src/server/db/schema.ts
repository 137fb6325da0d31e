/**
 * The whole product's data model (shared/DESIGN.md §1). One schema serves PGlite and PostgreSQL.
 * Every row a user owns carries `workspaceId`; queries are always scoped by it.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from "drizzle-orm/pg-core";

export interface SendWindow {
  /** "HH:MM", 24 h. A window whose end is before its start crosses midnight. */
  start: string;
  end: string;
  /** IANA zone, e.g. "Asia/Jakarta". */
  timeZone: string;
  /** ISO weekdays the window is open (1 = Monday ... 7 = Sunday); absent = every day. */
  days?: number[];
  /** Apply the window in each recipient's own zone, from their phone number's country. */
  recipientLocal?: boolean;
}

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

export const campaignStatus = pgEnum("campaign_status", [
  "Draft",
  "Scheduled",
  "Running",
  "Paused",
  "Completed",
  "Failed",
  "Cancelled",
  /** It could not start by its `latestStart` (issue 13): it never ran, and `missedReason` says why. */
  "Missed",
  /** A recurring campaign (issue 15): the series itself, never armed nor run; each occurrence is a child campaign. */
  "Recurring",
]);
export type CampaignStatus = (typeof campaignStatus.enumValues)[number];

export const recipientStatus = pgEnum("recipient_status", [
  "pending",
  "sending",
  "sent",
  "failed",
  "skipped",
  "unknown",
  /** Never sent because its campaign was cancelled (issue 14). */
  "cancelled",
]);
export type RecipientStatus = (typeof recipientStatus.enumValues)[number];

export const workspaces = pgTable("workspaces", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** Per-workspace quota overrides; null = the installation's default (QUOTA_* in the env). */
  quotaNumbers: integer("quota_numbers"),
  quotaContacts: integer("quota_contacts"),
  quotaMediaBytes: bigint("quota_media_bytes", { mode: "number" }),
  /** Replies that opt a contact out (whole message, case- and accent-insensitive); null = the defaults. */
  optOutKeywords: text("opt_out_keywords").array(),
  /** Sent once after an opt-out, on the same number; null = no confirmation. */
  optOutConfirmation: text("opt_out_confirmation"),
  /** A reply is attributed to the last campaign that messaged the contact from that number within this many days. */
  replyAttributionDays: integer("reply_attribution_days").notNull().default(7),
  createdAt: createdAt(),
});

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** Stored lower-cased; unique across the installation (it is the login). */
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_unique").on(t.email), index("users_workspace_idx").on(t.workspaceId)],
);

/** Browser log-in sessions; the cookie holds the token, the row holds its hash. */
export const authSessions = pgTable(
  "auth_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    /** Last request seen with this session: an idle session expires before `expiresAt`. */
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("auth_sessions_token_unique").on(t.tokenHash),
    index("auth_sessions_user_idx").on(t.userId),
    index("auth_sessions_expires_idx").on(t.expiresAt),
  ],
);

/**
 * Failed log-ins and sign-ups per key (`ip:<address>` or `email:<address>`), shared by every process:
 * after a few failures the key is blocked until `blockedUntil`, with a backoff that grows.
 */
export const authThrottles = pgTable("auth_throttles", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull().default(0),
  firstFailureAt: timestamp("first_failure_at", { withTimezone: true }).notNull().defaultNow(),
  blockedUntil: timestamp("blocked_until", { withTimezone: true }),
});

/** Invitations to join a workspace (SIGNUP=invite): the link holds the token, the row its hash. */
export const invites = pgTable(
  "invites",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** When set, only this email may use the invite. */
    email: text("email"),
    tokenHash: text("token_hash").notNull(),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("invites_token_unique").on(t.tokenHash), index("invites_workspace_idx").on(t.workspaceId)],
);

/** REST API keys: shown once, stored as a SHA-256 hash; `prefix` lets a user tell keys apart. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_keys_hash_unique").on(t.keyHash), index("api_keys_workspace_idx").on(t.workspaceId)],
);

/**
 * A WhatsApp number = one WAHA session. The send slot columns pace sends per number across every
 * campaign and process: one send in flight (`sendSlotHolder` until `sendSlotExpiresAt`) and no
 * send before `nextSendAt`.
 */
/**
 * A WAHA server a workspace registered (issue 15). Numbers with a null `server_id` live on the
 * operator's default server (WAHA_URL, or the sandbox's built-in fake). The API key is stored only
 * encrypted (AES-256-GCM, services/waha/secretBox.ts) and never read back out of the service.
 */
export const wahaServers = pgTable(
  "waha_servers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    url: text("url").notNull(),
    /** `v1.<iv>.<tag>.<ciphertext>` (base64url); null = the server takes no key. */
    apiKeyEncrypted: text("api_key_encrypted"),
    /**
     * The key this server signs its webhooks with (X-Webhook-Hmac), sealed like the API key; made at
     * registration and never shown. Null for a server registered before it existed: one is made on first use.
     */
    webhookSecretEncrypted: text("webhook_secret_encrypted"),
    /** "unknown" until first checked, then "healthy" or "unreachable" / "unauthorized". */
    healthStatus: text("health_status").notNull().default("unknown"),
    healthDetail: text("health_detail"),
    healthCheckedAt: timestamp("health_checked_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("waha_servers_workspace_name_unique").on(t.workspaceId, t.name)],
);

export const whatsappSessions = pgTable(
  "whatsapp_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** Its name on the WAHA server, where names are global: unique across workspaces. */
    wahaSessionName: text("waha_session_name").notNull(),
    /** The registered WAHA server holding this number; null = the operator's default server. */
    serverId: uuid("server_id").references((): AnyPgColumn => wahaServers.id, { onDelete: "restrict" }),
    status: text("status").notNull().default("STOPPED"),
    phoneNumber: text("phone_number"),
    pushName: text("push_name"),
    statusCheckedAt: timestamp("status_checked_at", { withTimezone: true }),
    sendSlotHolder: text("send_slot_holder"),
    sendSlotExpiresAt: timestamp("send_slot_expires_at", { withTimezone: true }),
    nextSendAt: timestamp("next_send_at", { withTimezone: true }),
    /**
     * The sending policy (issue 13). Column defaults are neutral (no limit, no typing): the service
     * gives numbers created by a person the safe defaults, which the owner sees and may change.
     * Limits count calendar days and hours in `timeZone`.
     */
    timeZone: text("time_zone").notNull().default("UTC"),
    dailyLimit: integer("daily_limit"),
    hourlyLimit: integer("hourly_limit"),
    warmup: boolean("warmup").notNull().default(false),
    typing: boolean("typing").notNull().default(false),
    checkExists: boolean("check_exists").notNull().default(false),
    /** Pause the number's campaigns after this many failed sends in a row; null = never. */
    maxConsecutiveFailures: integer("max_consecutive_failures"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /** The first message this number sent through us: the warm-up counts days from it. */
    firstSentAt: timestamp("first_sent_at", { withTimezone: true }),
    /** WhatsApp restricts the number (capping, reachout timelock): no sends before this time. */
    restrictedUntil: timestamp("restricted_until", { withTimezone: true }),
    restrictionReason: text("restriction_reason"),
    /**
     * Messages this number sent in its current local day and hour (taken by wc_send_step under the
     * row's lock, so every process counts the same): the bucket's start, and the count in it.
     */
    sentDayStart: timestamp("sent_day_start", { withTimezone: true }),
    sentDayCount: integer("sent_day_count").notNull().default(0),
    sentHourStart: timestamp("sent_hour_start", { withTimezone: true }),
    sentHourCount: integer("sent_hour_count").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("whatsapp_sessions_waha_name_unique").on(t.wahaSessionName),
    uniqueIndex("whatsapp_sessions_workspace_name_unique").on(t.workspaceId, t.name),
  ],
);

export const contacts = pgTable(
  "contacts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** E.164, normalised with libphonenumber-js. */
    phone: text("phone").notNull(),
    firstName: text("first_name"),
    /** Any other imported column, usable as a `{{placeholder}}`. */
    attributes: jsonb("attributes").$type<Record<string, string>>().notNull().default({}),
    optedOut: boolean("opted_out").notNull().default(false),
    /** When and how the contact opted out (`keyword`, `manual`, `api`, `suppression_import`) or back in. */
    optedOutAt: timestamp("opted_out_at", { withTimezone: true }),
    optedOutSource: text("opted_out_source"),
    optedInAt: timestamp("opted_in_at", { withTimezone: true }),
    optedInByUserId: uuid("opted_in_by_user_id").references(() => users.id, { onDelete: "set null" }),
    /** check-exists cache (issue 13): null = never checked. `whatsappChatId` is WAHA's answer. */
    onWhatsapp: boolean("on_whatsapp"),
    whatsappChatId: text("whatsapp_chat_id"),
    whatsappCheckedAt: timestamp("whatsapp_checked_at", { withTimezone: true }),
    /**
     * Tags (issue 15), lower-cased and distinct. A text[] on the row, not a join table: a contact's
     * tags come with it in one read, and the GIN index answers an audience's `tags && {...}` directly.
     */
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("contacts_workspace_phone_unique").on(t.workspaceId, t.phone),
    index("contacts_tags_gin_idx").using("gin", t.tags),
  ],
);

export const contactLists = pgTable(
  "contact_lists",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("contact_lists_workspace_name_unique").on(t.workspaceId, t.name)],
);

export const contactListMembers = pgTable(
  "contact_list_members",
  {
    listId: uuid("list_id")
      .notNull()
      .references(() => contactLists.id, { onDelete: "cascade" }),
    contactId: uuid("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    addedAt: timestamp("added_at", { withTimezone: true }).notNull().defaultNow(),
    /** Import order: rows of one import share added_at, so the list shows them by this (issue 16). */
    position: bigint("position", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.listId, t.contactId] }),
    index("contact_list_members_contact_idx").on(t.contactId),
    index("contact_list_members_position_idx").on(t.listId, t.position),
  ],
);

export const templates = pgTable(
  "templates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    body: text("body").notNull(),
    /** The template's image (issue 16); a campaign's own `mediaId` overrides it. */
    mediaId: uuid("media_id").references((): AnyPgColumn => mediaItems.id, { onDelete: "restrict" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("templates_workspace_name_unique").on(t.workspaceId, t.name)],
);

/** Images kept under DATA_DIR/media; the row is the index of the file. */
export const mediaItems = pgTable(
  "media_items",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    filename: text("filename").notNull(),
    mimetype: text("mimetype").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    storagePath: text("storage_path").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("media_items_workspace_idx").on(t.workspaceId)],
);

/** Lists and tags whose contacts a campaign reaches, minus contacts with an excluded tag. */
export type CampaignAudience = { listIds?: string[]; tags?: string[]; excludeTags?: string[] };
/** A recurring campaign's rule (issue 15): a cron expression read in `timeZone`, until an instant (ISO) or for ever. */
export type CampaignRecurrence = { cron: string; timeZone: string; until?: string | null };

export const campaigns = pgTable(
  "campaigns",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The audience until recipients are materialised; null once its list is deleted. */
    listId: uuid("list_id").references(() => contactLists.id, { onDelete: "set null" }),
    /** More audience (issue 15): other lists and/or tags, minus excluded tags; joined with `listId`. */
    audience: jsonb("audience").$type<CampaignAudience>(),
    templateId: uuid("template_id").references(() => templates.id, { onDelete: "set null" }),
    /** The campaign this one retries (only its failed recipients), or duplicates. */
    retryOf: uuid("retry_of").references((): AnyPgColumn => campaigns.id, { onDelete: "set null" }),
    /** The text to send when no template is used; with a template, a copy is not kept here. */
    messageText: text("message_text"),
    mediaId: uuid("media_id").references(() => mediaItems.id, { onDelete: "restrict" }),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => whatsappSessions.id, { onDelete: "restrict" }),
    /** When it starts; null only while it is a Draft (scheduling sets it, and validates everything). */
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
    status: campaignStatus("status").notNull().default("Scheduled"),
    pauseReason: text("pause_reason"),
    /** When the current pause began (what "paused since" shows). */
    pausedAt: timestamp("paused_at", { withTimezone: true }),
    /**
     * A pause the system made (WAHA unreachable, number not WORKING) resumes by itself: the next
     * check of its cause is due at `autoResumeAt`, and the checks are `autoResumeEveryMs` apart
     * (growing from 5 s to 60 s). `autoResumeStoppedAt`: it stopped trying (paused too long) and waits
     * for a person. All null for a pause a person made.
     */
    autoResumeAt: timestamp("auto_resume_at", { withTimezone: true }),
    autoResumeEveryMs: integer("auto_resume_every_ms"),
    autoResumeStoppedAt: timestamp("auto_resume_stopped_at", { withTimezone: true }),
    lastError: text("last_error"),
    delayMinMs: integer("delay_min_ms").notNull(),
    delayMaxMs: integer("delay_max_ms").notNull(),
    /** `{start: "09:00", end: "20:00", timeZone, days?: [1..7], recipientLocal?}`; null = any time. */
    sendWindow: jsonb("send_window").$type<SendWindow>(),
    /** After `batchSize` messages from this campaign, pause `batchPauseMs`. */
    batchSize: integer("batch_size"),
    batchPauseMs: integer("batch_pause_ms"),
    /** A campaign that could not start by then becomes Missed instead of running late. */
    latestStart: timestamp("latest_start", { withTimezone: true }),
    missedReason: text("missed_reason"),
    /** Why a Running/Scheduled campaign is held back now, and until when (daily_limit, send_window...). */
    waitingReason: text("waiting_reason"),
    waitingUntil: timestamp("waiting_until", { withTimezone: true }),
    waitingDetail: text("waiting_detail"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    /** Set when recipient rows were created: ahead of the start (scheduling/prepareRecipients.ts) or at the first start. */
    recipientsMaterializedAt: timestamp("recipients_materialized_at", { withTimezone: true }),
    /** What the rows were rendered from (message body, audience, window), so a campaign edited after its rows were made ahead is made again at its start. */
    recipientsPreparedFor: text("recipients_prepared_for"),
    /**
     * Several numbers (issue 15): `balanced` (a shared pool: whichever number is free takes the next
     * recipient) or `sticky` (a contact keeps the number that messaged them before, when it is in the
     * set). Only read when the campaign has rows in campaign_sessions.
     */
    numberAssignment: text("number_assignment").$type<"sticky" | "balanced">().notNull().default("balanced"),
    /** A number that drops mid-run gives its pending recipients back to the pool (else they wait for it). */
    reassignOnDrop: boolean("reassign_on_drop").notNull().default(false),
    /** The running process's lease: whoever holds it sends; an expired lease may be taken over. */
    leaseHolder: text("lease_holder"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    /** Set on a series (status `Recurring`): when its runs happen. */
    recurrence: jsonb("recurrence").$type<CampaignRecurrence>(),
    /** A run of a series: the series (parent row) and the occurrence it is. */
    seriesId: uuid("series_id").references((): AnyPgColumn => campaigns.id, { onDelete: "cascade" }),
    occurrenceAt: timestamp("occurrence_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("campaigns_status_scheduled_idx").on(t.status, t.scheduledAt),
    // One run per occurrence: creating the next run twice (two processes, a retry) is harmless.
    uniqueIndex("campaigns_series_occurrence_idx").on(t.seriesId, t.occurrenceAt),
    index("campaigns_workspace_created_idx").on(t.workspaceId, t.createdAt),
    index("campaigns_list_idx").on(t.listId),
    index("campaigns_session_idx").on(t.sessionId),
    // Only a draft may lack its time: the scheduler reads every other campaign's.
    check("campaigns_time_unless_draft", sql`${t.status} = 'Draft' or ${t.scheduledAt} is not null`),
  ],
);

export const campaignRecipients = pgTable(
  "campaign_recipients",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => campaigns.id, { onDelete: "cascade" }),
    contactId: uuid("contact_id").references(() => contacts.id, { onDelete: "set null" }),
    /** Stable send order, fixed when the rows are created. */
    position: integer("position").notNull(),
    phone: text("phone").notNull(),
    chatId: text("chat_id").notNull(),
    /** Personalised when the run first starts, so an edit of the template cannot change a sent text. */
    renderedText: text("rendered_text").notNull(),
    status: recipientStatus("status").notNull().default("pending"),
    /** Fixed before the send call and passed to WAHA, so a crash can be settled by asking for it. */
    wahaMessageId: text("waha_message_id"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** Why a `skipped` recipient was not sent: `not_on_whatsapp`, `opted_out`, ... */
    skipReason: text("skip_reason"),
    /** The recipient's own IANA zone, fixed when the rows are created, for a recipient-local send window; null otherwise. */
    timeZone: text("time_zone"),
    sendingStartedAt: timestamp("sending_started_at", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    /** WAHA ack: -1 ERROR, 0 PENDING, 1 SERVER, 2 DEVICE, 3 READ, 4 PLAYED. */
    ack: integer("ack"),
    ackAt: timestamp("ack_at", { withTimezone: true }),
    /** The first reply attributed to this send (issue 14). */
    repliedAt: timestamp("replied_at", { withTimezone: true }),
    /**
     * The number that sends (or sent) it, set by the take (issue 15); a sticky campaign sets it ahead
     * for contacts a number messaged before. Null: any of the campaign's numbers may take it (rows taken
     * before issue 15 were sent by `campaigns.session_id`). No foreign key: the take sets it on every
     * message, and a number in use by a campaign cannot be deleted anyway.
     */
    sessionId: uuid("session_id"),
  },
  (t) => [
    uniqueIndex("campaign_recipients_campaign_contact_unique").on(t.campaignId, t.contactId),
    index("campaign_recipients_campaign_status_position_idx").on(t.campaignId, t.status, t.position),
    /** Send order across statuses: the CSV export's and the recipients page's keyset (issue 14, migration 0012). */
    index("campaign_recipients_campaign_position_idx").on(t.campaignId, t.position),
    index("campaign_recipients_waha_message_idx")
      .on(t.wahaMessageId)
      .where(sql`${t.wahaMessageId} is not null`),
    /** A number's take: its own rows, then the pool (session_id null), each one index probe, never past other numbers' rows. */
    index("campaign_recipients_pending_session_idx")
      .on(t.campaignId, t.sessionId, t.position)
      .where(sql`${t.status} = 'pending'`),
    /** Sticky numbers: who last messaged a contact. */
    index("campaign_recipients_contact_sent_idx")
      .on(t.contactId)
      .where(sql`${t.status} = 'sent'`),
  ],
);

/**
 * The numbers of a campaign that sends from more than one (issue 15), in order; position 0 is
 * `campaigns.session_id`. A campaign with one number has no rows here: its number is
 * `campaigns.session_id`, as before.
 */
export const campaignSessions = pgTable(
  "campaign_sessions",
  {
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => campaigns.id, { onDelete: "cascade" }),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => whatsappSessions.id, { onDelete: "restrict" }),
    position: integer("position").notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.sessionId] }), index("campaign_sessions_session_idx").on(t.sessionId)],
);

/**
 * How many of a campaign's recipients are in each status, kept by statement-level triggers on
 * `campaign_recipients` (migration 0003): reading a campaign's counts is one indexed lookup, whatever
 * its size, and keeping them adds no statement to the send loop.
 */
export const campaignRecipientCounts = pgTable(
  "campaign_recipient_counts",
  {
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => campaigns.id, { onDelete: "cascade" }),
    status: recipientStatus("status").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.status] })],
);

/**
 * How far a campaign's messages got after sending (issue 14): delivered (ack >= 2), read (ack >= 3),
 * replied (`replied_at` set). Not statuses, so kept beside `campaign_recipient_counts` by a trigger
 * of their own on `campaign_recipients` (migration 0010): reading the funnel is one lookup by key.
 */
export const campaignOutcomeCounts = pgTable("campaign_outcome_counts", {
  campaignId: uuid("campaign_id")
    .primaryKey()
    .references(() => campaigns.id, { onDelete: "cascade" }),
  delivered: integer("delivered").notNull().default(0),
  read: integer("read").notNull().default(0),
  replied: integer("replied").notNull().default(0),
});

/** What happened to a campaign and why: pauses, resumes (by a person or by themselves), give-ups. */
export const campaignEvents = pgTable(
  "campaign_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => campaigns.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** `paused`, `resumed`, `auto_resume_stopped`. */
    kind: text("kind").notNull(),
    /** The pause reason (`waha_unavailable`, `paused_by_user`, ...) or who resumed (`user`, `auto`). */
    reason: text("reason"),
    detail: text("detail"),
  },
  (t) => [index("campaign_events_campaign_idx").on(t.campaignId, t.id)],
);

/** Webhook deliveries already handled: WAHA may deliver an event twice. */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    eventId: text("event_id").primaryKey(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_events_received_idx").on(t.receivedAt)],
);

/** Messages contacts sent to a number (WAHA `message` events), attributed to a campaign when one messaged them. */
export const inboundMessages = pgTable(
  "inbound_messages",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => whatsappSessions.id, { onDelete: "cascade" }),
    contactId: uuid("contact_id").references(() => contacts.id, { onDelete: "set null" }),
    campaignId: uuid("campaign_id").references(() => campaigns.id, { onDelete: "set null" }),
    recipientId: bigint("recipient_id", { mode: "number" }).references(() => campaignRecipients.id, { onDelete: "set null" }),
    wahaMessageId: text("waha_message_id").notNull(),
    fromPhone: text("from_phone").notNull(),
    chatId: text("chat_id").notNull(),
    body: text("body").notNull(),
    /** The message matched an opt-out keyword. */
    optOut: boolean("opt_out").notNull().default(false),
    /** The opt-out confirmation this message triggered: `sent`, `held` (the number at a limit or restricted), `failed`; null: none. */
    confirmation: text("confirmation"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("inbound_messages_session_message_unique").on(t.sessionId, t.wahaMessageId),
    index("inbound_messages_contact_idx").on(t.contactId, t.receivedAt),
    index("inbound_messages_campaign_idx").on(t.campaignId, t.receivedAt),
  ],
);

/** Outgoing webhooks (issue 14): where a workspace wants its events, and the secret that signs them. */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workspaceId: uuid("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** Event types delivered (`campaign.started`, `recipient.sent`, ...). */
    events: text("events").array().notNull(),
    /** HMAC-SHA256 key, shown once at creation; kept because every delivery is signed with it. */
    secret: text("secret").notNull(),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_endpoints_workspace_idx").on(t.workspaceId)],
);

/**
 * The durable outbox: one row per (event, endpoint), written in the same transaction as the change
 * it reports, delivered at least once with retries; the rows are the page's delivery log.
 */
export const webhookOutbox = pgTable(
  "webhook_outbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    /** Stable across retries: receivers deduplicate on it. */
    eventId: uuid("event_id").notNull().defaultRandom(),
    eventType: text("event_type").notNull(),
    /** Events of one campaign are delivered in order. */
    campaignId: uuid("campaign_id"),
    payload: jsonb("payload").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    /** A process delivering it now, until `lockedUntil` (another process may take it after). */
    lockedBy: text("locked_by"),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_outbox_due_idx").on(t.nextAttemptAt).where(sql`${t.deliveredAt} is null`),
    index("webhook_outbox_endpoint_idx").on(t.endpointId, t.id),
  ],
);

export type Campaign = typeof campaigns.$inferSelect;
export type CampaignEvent = typeof campaignEvents.$inferSelect;
export type NewCampaign = typeof campaigns.$inferInsert;
export type CampaignRecipient = typeof campaignRecipients.$inferSelect;
export type Contact = typeof contacts.$inferSelect;
export type ContactList = typeof contactLists.$inferSelect;
export type Template = typeof templates.$inferSelect;
export type WhatsappSession = typeof whatsappSessions.$inferSelect;
export type MediaItem = typeof mediaItems.$inferSelect;
export type User = typeof users.$inferSelect;
