/**
 * What the REST routes answer, for the OpenAPI document. The procedures declare no output schemas
 * (their answers are the services' rows and views), so these describe those shapes; they document,
 * they do not validate. Enums come from the database schema, so a new status shows up here too.
 */
import { campaignStatus, recipientStatus } from "../db/schema";
import type { JsonSchema } from "./inputSchemas";
import { REST_ERROR_STATUS } from "./errors";

const uuid: JsonSchema = { type: "string", format: "uuid" };
const dateTime: JsonSchema = { type: "string", format: "date-time" };
const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: "null" }] });
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

function object(properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema {
  return { type: "object", properties, required, additionalProperties: true };
}

function page(item: string): JsonSchema {
  return object({
    items: { type: "array", items: ref(item) },
    nextCursor: { ...nullable({ type: "string" }), description: "Pass as ?cursor= for the next page; null on the last" },
  });
}

export const responseSchemas: Record<string, JsonSchema> = {
  Error: object(
    {
      error: object(
        {
          code: { type: "string", enum: Object.keys(REST_ERROR_STATUS) },
          message: { type: "string", description: "Safe to show; says what to fix" },
          field: { type: "string", description: "The input field at fault, e.g. scheduledAt or contacts.0.phone" },
        },
        ["code", "message"],
      ),
    },
    ["error"],
  ),
  Health: object({
    status: { type: "string", enum: ["ok", "degraded"] },
    db: { type: "string", enum: ["ok", "error"] },
    scheduler: object({
      driver: { type: "string" },
      initialized: { type: "boolean" },
      armedJobs: { type: "integer" },
    }),
    waha: {
      type: "string",
      enum: ["ok", "sandbox", "unreachable", "unknown"],
      description: "What the app last saw of WAHA (the probe itself never calls WAHA); unknown before any WAHA call",
    },
    wahaLastAnsweredAt: { ...nullable(dateTime), description: "When WAHA last answered a call of this process" },
  }),
  OpenApiDocument: { type: "object", description: "An OpenAPI 3.1 document", additionalProperties: true },
  Session: object({
    id: uuid,
    name: { type: "string" },
    wahaSessionName: { type: "string", description: "Its name on the WAHA server" },
    serverId: { ...nullable(uuid), description: "The registered WAHA server holding it; null = the default server" },
    serverHealth: {
      ...nullable({ type: "string", enum: ["unknown", "healthy", "unreachable", "unauthorized"] }),
      description: "Its registered server's health; null on the default server",
    },
    status: {
      type: "string",
      description: "WAHA's session status, as last reported: STOPPED, STARTING, SCAN_QR_CODE, WORKING or FAILED (kept while its server is unreachable)",
    },
    statusText: {
      ...nullable({ type: "string" }),
      description: "The server's state when it decides the number's: \"server unreachable\", \"server refuses the API key\"; null otherwise",
    },
    phoneNumber: nullable({ type: "string", description: "E.164, once a phone has scanned the QR code" }),
    pushName: nullable({ type: "string" }),
    timeZone: { type: "string", description: "IANA zone whose calendar days and hours the limits count" },
    dailyLimit: { ...nullable({ type: "integer" }), description: "Messages per local day, all campaigns; null = no limit" },
    hourlyLimit: { ...nullable({ type: "integer" }), description: "Messages per local clock hour; null = no limit" },
    warmup: { type: "boolean", description: "A new number's daily cap climbs through warmupSchedule to dailyLimit" },
    typing: { type: "boolean", description: "sendSeen, startTyping (time grows with the text), stopTyping before each send" },
    checkExists: { type: "boolean", description: "Skip recipients WAHA says are not on WhatsApp (skipReason not_on_whatsapp)" },
    maxConsecutiveFailures: { ...nullable({ type: "integer" }), description: "Pause the number's campaigns after this many failed sends in a row" },
    todayLimit: { ...nullable({ type: "integer" }), description: "Today's cap: dailyLimit, or the warm-up's step for today" },
    warmupSchedule: {
      ...nullable({ type: "array", items: nullable({ type: "integer" }) }),
      description: "Daily caps, each for 3 days from the first send, ending with dailyLimit (null = no cap); null when warm-up is off",
    },
    firstSentAt: nullable(dateTime),
    restrictedUntil: { ...nullable(dateTime), description: "WhatsApp restricts the number: its campaigns wait until then" },
    restrictionReason: nullable({ type: "string" }),
    createdAt: dateTime,
  }),
  SessionPage: page("Session"),
  WahaServer: object({
    id: uuid,
    name: { type: "string" },
    url: { type: "string" },
    hasApiKey: { type: "boolean", description: "Whether a key is stored (the key itself is never returned)" },
    health: { type: "string", enum: ["unknown", "healthy", "unreachable", "unauthorized"] },
    healthDetail: { ...nullable({ type: "string" }), description: "Why the last check failed" },
    healthCheckedAt: nullable(dateTime),
    numbers: { type: "integer", description: "WhatsApp numbers on this server" },
    createdAt: dateTime,
  }),
  WahaServerPage: page("WahaServer"),
  List: object({ id: uuid, name: { type: "string" }, memberCount: { type: "integer" }, createdAt: dateTime }),
  ListPage: page("List"),
  Contact: object({
    id: uuid,
    phone: { type: "string", description: "E.164" },
    firstName: nullable({ type: "string" }),
    attributes: { type: "object", additionalProperties: { type: "string" } },
    optedOut: { type: "boolean" },
    tags: { type: "array", items: { type: "string" }, description: "Lower-cased, distinct (issue 15)" },
    createdAt: dateTime,
  }),
  ContactPage: object({
    items: { type: "array", items: ref("Contact") },
    nextCursor: { ...nullable({ type: "string" }), description: "Pass as ?cursor= for the next page; null on the last" },
    total: { type: "integer", description: "Members matching (the search, if any) in all pages" },
  }),
  ContactOptOut: object({
    id: uuid,
    phone: { type: "string", description: "E.164" },
    optedOut: { type: "boolean" },
    optedOutAt: nullable(dateTime),
    optedOutSource: { ...nullable({ type: "string" }), description: "keyword, manual, api or suppression_import" },
    optedInAt: nullable(dateTime),
    optedInByUserId: { ...nullable(uuid), description: "Who opted the contact back in (null for an API key)" },
  }),
  ContactTags: object({
    id: uuid,
    tags: { type: "array", items: { type: "string" }, description: "Lower-cased, distinct, in alphabetical order" },
  }),
  SuppressionImportResult: object({
    received: { type: "integer", description: "Rows read" },
    optedOut: { type: "integer", description: "Contacts this import opted out, new ones included" },
    alreadyOptedOut: { type: "integer", description: "Already opted out: unchanged" },
    created: { type: "integer", description: "Phones that were no contact yet: created, opted out" },
    rejected: { type: "array", items: object({ line: { type: "integer" }, value: { type: "string" }, reason: { type: "string" } }) },
  }),
  OptOutSettings: object({
    keywords: { type: "array", items: { type: "string" }, description: "Whole-message matches, case- and accent-insensitive" },
    usesDefaultKeywords: { type: "boolean" },
    defaultKeywords: { type: "array", items: { type: "string" } },
    confirmation: { ...nullable({ type: "string" }), description: "Sent once after an opt-out by keyword; null: none" },
    replyAttributionDays: { type: "integer" },
  }),
  ImportResult: object({
    received: { type: "integer", description: "Rows (or array items) read" },
    added: { type: "integer", description: "New contacts" },
    updated: { type: "integer", description: "Contacts that existed in the workspace and were updated" },
    duplicatesMerged: { type: "integer", description: "Rows merged into an earlier row with the same number" },
    rejected: {
      type: "array",
      items: object({
        line: { type: "integer", description: "CSV line number (the header is line 1), or array position from 1" },
        value: { type: "string" },
        reason: { type: "string" },
      }),
    },
  }),
  Template: object({
    id: uuid,
    name: { type: "string" },
    body: { type: "string" },
    mediaId: { ...nullable(uuid), description: "The template's image, sent unless a campaign gives its own mediaId" },
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
  TemplatePage: page("Template"),
  Campaign: object(
    {
      id: uuid,
      name: { type: "string" },
      status: { type: "string", enum: [...campaignStatus.enumValues] },
      scheduledAt: { ...nullable(dateTime), description: "When it starts; null only for a Draft saved without a time" },
      startedAt: nullable(dateTime),
      completedAt: nullable(dateTime),
      listId: nullable(uuid),
      audience: {
        ...nullable({
          type: "object",
          properties: {
            listIds: { type: "array", items: uuid },
            tags: { type: "array", items: { type: "string" } },
            excludeTags: { type: "array", items: { type: "string" } },
          },
        }),
        description: "Lists and/or tags reached besides listId, minus contacts with an excluded tag (issue 15)",
      },
      templateId: nullable(uuid),
      messageText: nullable({ type: "string" }),
      mediaId: nullable(uuid),
      sessionId: { ...uuid, description: "The campaign's first number (with one number, its only one)" },
      sessionIds: { type: "array", items: uuid, description: "Every number it sends from, in order; the first is sessionId (issue 15)" },
      numberAssignment: {
        type: "string",
        enum: ["balanced", "sticky"],
        description: "balanced: whichever number is free sends the next recipient; sticky: a contact keeps the number that messaged them before",
      },
      reassignOnDrop: { type: "boolean", description: "A number that drops mid-run gives its pending recipients to the others (else they wait for it)" },
      delayMinMs: { type: "integer" },
      delayMaxMs: { type: "integer" },
      pauseReason: {
        ...nullable({ type: "string" }),
        description:
          "paused_by_user; waha_unavailable and session_not_working resume by themselves once the cause clears; session_not_found and waha_unauthorized need a person",
      },
      pausedAt: nullable(dateTime),
      autoResumeAt: { ...nullable(dateTime), description: "When the paused campaign's cause is checked next; null when it does not resume by itself" },
      autoResumeEveryMs: { ...nullable({ type: "integer" }), description: "How far apart the checks are now (5 s growing to 60 s)" },
      autoResumeStoppedAt: { ...nullable(dateTime), description: "Paused by the system for longer than AUTO_RESUME_GIVE_UP_HOURS: no longer resumes by itself" },
      lastError: nullable({ type: "string" }),
      retryOf: { ...nullable(uuid), description: "The campaign whose failed recipients this one retries (POST /api/v1/campaigns/{id}/retry-failed)" },
      counts: object(
        Object.fromEntries(
          // Issue 14: beside the counts per status, the funnel after sending: delivered (ack >= 2), read
          // (ack >= 3), replied, and optedOut (contacts whose reply to this campaign opted them out).
          ["total", ...recipientStatus.enumValues, "delivered", "read", "replied", "optedOut"].map((key) => [key, { type: "integer" } satisfies JsonSchema]),
        ),
      ),
      etaSeconds: { ...nullable({ type: "integer" }), description: "Estimated seconds left; null when not active" },
      sendWindow: {
        ...nullable(
          object(
            {
              start: { type: "string", description: "HH:MM, 24 h" },
              end: { type: "string", description: "HH:MM; before start = across midnight" },
              timeZone: { type: "string", description: "IANA zone" },
              days: { type: "array", items: { type: "integer", minimum: 1, maximum: 7 }, description: "ISO weekdays, 1 = Monday; absent = every day" },
              recipientLocal: { type: "boolean", description: "In each recipient's zone, from the phone's country (several zones: timeZone)" },
            },
            ["start", "end", "timeZone"],
          ),
        ),
        description: "When it may send; null = any time",
      },
      batchSize: { ...nullable({ type: "integer" }), description: "After this many messages from this campaign, pause batchPauseMs" },
      batchPauseMs: nullable({ type: "integer" }),
      latestStart: { ...nullable(dateTime), description: "Not started by then: Missed instead of running late" },
      missedReason: { ...nullable({ type: "string" }), description: "Why a Missed campaign never ran" },
      recurrence: {
        ...nullable(
          object(
            {
              cron: { type: "string", description: "Five fields: minute hour day month weekday, e.g. 0 9 * * MON" },
              timeZone: { type: "string", description: "IANA zone the cron is read in (daylight saving included)" },
              until: { ...nullable(dateTime), description: "No run after this; null = for ever" },
            },
          ),
        ),
        description: "Set on a recurring campaign (status Recurring, issue 15), whose scheduledAt is its next run",
      },
      seriesId: { ...nullable(uuid), description: "On a run of a recurring campaign: that campaign" },
      occurrenceAt: { ...nullable(dateTime), description: "On a run of a recurring campaign: the occurrence it was made for" },
      waiting: {
        ...nullable(
          object(
            {
              reason: { type: "string", enum: ["daily_limit", "hourly_limit", "send_window", "batch_pause", "number_busy"] },
              until: { ...nullable(dateTime), description: "When it goes on" },
              detail: {
                ...nullable({ type: "string" }),
                description: "The limit (\"40\"), the window's hours (\"09:00–20:00\"), the batch size, or the other campaign's name",
              },
            },
            ["reason", "until"],
          ),
        ),
        description: "What holds an active campaign back now (it stays Running or Scheduled); null when nothing does",
      },
      waitingReason: {
        ...nullable({ type: "string", enum: ["daily_limit", "hourly_limit", "send_window", "batch_pause", "number_busy"] }),
        description: "What holds a Running campaign back now; null when it is not waiting",
      },
      waitingUntil: { ...nullable(dateTime), description: "When it goes on" },
      waitingDetail: { ...nullable({ type: "string" }), description: "The limit, the window's hours, the batch size, or the other campaign's name" },
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  ),
  CampaignPage: page("Campaign"),
  CampaignRuns: object({
    runs: {
      type: "array",
      items: object({
        id: uuid,
        occurrenceAt: dateTime,
        status: { type: "string", enum: [...campaignStatus.enumValues] },
        missedReason: nullable({ type: "string" }),
        startedAt: nullable(dateTime),
        completedAt: nullable(dateTime),
        counts: { type: "object", additionalProperties: { type: "integer" }, description: "As a campaign's counts" },
      }),
    },
    nextOccurrences: { type: "array", items: dateTime, description: "The next 5 occurrences (UTC instants), from the run already armed" },
  }),
  Media: object({
    id: uuid,
    filename: { type: "string" },
    mimetype: { type: "string", enum: ["image/jpeg", "image/png", "image/webp"] },
    sizeBytes: { type: "integer", maximum: 5 * 1024 * 1024 },
    createdAt: dateTime,
  }),
  MediaPage: page("Media"),
  CampaignEvent: object({
    id: { type: "integer" },
    campaignId: uuid,
    at: dateTime,
    kind: { type: "string", enum: ["paused", "resumed", "auto_resume_stopped"] },
    reason: { ...nullable({ type: "string" }), description: "The pause reason; for resumed: user or auto" },
    detail: nullable({ type: "string" }),
  }),
  CampaignEventList: { type: "array", items: ref("CampaignEvent") },
  CampaignNumber: object({
    sessionId: uuid,
    name: nullable({ type: "string" }),
    phoneNumber: nullable({ type: "string" }),
    status: { ...nullable({ type: "string" }), description: "The number's session status (WORKING, STOPPED, ...)" },
    sent: { type: "integer", description: "Recipients this number sent" },
    sending: { type: "integer", description: "Recipients in flight on this number" },
    waiting: { type: "integer", description: "Pending recipients kept for this number (sticky, or waiting for it to come back)" },
  }),
  CampaignNumberList: { type: "array", items: ref("CampaignNumber") },
  Recipient: object({
    id: { type: "integer" },
    position: { type: "integer" },
    phone: { type: "string" },
    contactId: nullable(uuid),
    renderedText: { type: "string" },
    status: { type: "string", enum: [...recipientStatus.enumValues] },
    attempts: { type: "integer" },
    lastError: nullable({ type: "string" }),
    sentAt: nullable(dateTime),
    ack: { ...nullable({ type: "integer" }), description: "WAHA ack: -1 ERROR, 0 PENDING, 1 SERVER, 2 DEVICE, 3 READ, 4 PLAYED" },
    wahaMessageId: nullable({ type: "string" }),
    skipReason: { ...nullable({ type: "string" }), description: "Why a skipped recipient was not sent: not_on_whatsapp, opted_out, ..." },
    ackAt: { ...nullable(dateTime), description: "When the furthest ack arrived (the read time once ack is 3)" },
    repliedAt: { ...nullable(dateTime), description: "The first reply attributed to this send" },
  }),
  RecipientPage: page("Recipient"),
  WebhookEndpoint: object({
    id: uuid,
    url: { type: "string" },
    events: { type: "array", items: { type: "string" } },
    createdAt: dateTime,
    disabledAt: nullable(dateTime),
  }),
  WebhookEndpointCreated: object({
    id: uuid,
    url: { type: "string" },
    events: { type: "array", items: { type: "string" } },
    createdAt: dateTime,
    disabledAt: nullable(dateTime),
    secret: { type: "string", description: "The HMAC-SHA256 key of X-Webhook-Signature; shown only in this answer" },
  }),
  WebhookEndpointPage: page("WebhookEndpoint"),
  WebhookDelivery: object({
    id: { type: "integer" },
    eventId: { ...uuid, description: "X-Webhook-Id: the same at every attempt" },
    eventType: { type: "string" },
    campaignId: nullable(uuid),
    state: { type: "string", enum: ["delivered", "pending", "retrying", "gave_up"] },
    attempts: { type: "integer" },
    lastStatus: { ...nullable({ type: "integer" }), description: "The receiver's last HTTP status; null when it never answered" },
    lastError: nullable({ type: "string" }),
    createdAt: dateTime,
    deliveredAt: nullable(dateTime),
    nextAttemptAt: nullable(dateTime),
    payload: { type: "object", additionalProperties: true, description: "The event's data" },
  }),
  WebhookDeliveryPage: object({
    items: { type: "array", items: ref("WebhookDelivery") },
    nextBefore: { ...nullable({ type: "integer" }), description: "Pass as ?before= for older deliveries; null on the last page" },
  }),
};
