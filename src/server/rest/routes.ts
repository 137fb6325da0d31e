/**
 * The REST v1 route table (shared/DESIGN.md §5). Each route names the tRPC procedure it calls, so
 * validation, workspace scoping and errors are the procedure's own; the route only says where the
 * input comes from (path, query, JSON or CSV body) and how the answer is shaped. The OpenAPI
 * document (openapi.ts) is generated from this table and the procedures' zod inputs.
 */
import type { AnyTRPCProcedure, TRPCRouterRecord } from "@trpc/server";
import type { AppRouter } from "../api/root";

type PathsOf<TRecord> = {
  [K in keyof TRecord & string]: TRecord[K] extends AnyTRPCProcedure
    ? K
    : TRecord[K] extends TRPCRouterRecord
      ? `${K}.${PathsOf<TRecord[K]>}`
      : never;
}[keyof TRecord & string];

/** "campaign.get", "contactList.importCsv", ...: every procedure of the app router. */
export type ProcedurePath = PathsOf<AppRouter["_def"]["record"]>;

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";
export type RouteTag = "Meta" | "Sessions" | "WahaServers" | "Lists" | "Contacts" | "Templates" | "Campaigns" | "Media" | "Webhooks";

interface RouteBase {
  method: HttpMethod;
  /** A path template; `{name}` is a path parameter and a field of the procedure's input. */
  path: `/api/v1${string}`;
  operationId: string;
  summary: string;
  description?: string;
  tag: RouteTag;
  status: 200 | 201 | 204;
  /** Component schema of the success answer (responseSchemas.ts); none for 204. */
  response?: string;
}

export interface ProcedureRoute extends RouteBase {
  kind: "procedure";
  procedure: ProcedurePath;
  /**
   * Where the input fields other than path parameters come from: the query string, a JSON body,
   * a CSV body (the `csv` field; a JSON body is accepted too), an image body (the `dataBase64`
   * field, from the raw bytes: rest/imageBody.ts), or nowhere.
   */
  input: "query" | "json" | "csv" | "image" | "none";
  /** Input fields a body route also reads from the query string (`?defaultCountry=US`). */
  queryFields?: string[];
  /** A JSON array body stands for this one field (a bare array of contacts). */
  arrayBodyField?: string;
  /** Turns the procedure's answer into this route's (e.g. an array into a page). */
  present?: (result: unknown) => unknown;
  /** What the route calls that may be down or stopping: the OpenAPI document lists a 503 for it. */
  dependsOn?: Array<"waha" | "scheduler">;
  /** `?format=csv` answers the whole collection as streamed CSV instead (rest/handler.ts; issue 14). */
  csvFormat?: true;
}

/** Routes answered without a procedure and without an API key. */
export interface PublicRoute extends RouteBase {
  kind: "public";
  name: "health" | "openapi";
}

export type RestRoute = ProcedureRoute | PublicRoute;

const asPage = (items: unknown) => ({ items, nextCursor: null });

/** A stored image as the API shows it: never where it is kept on disk. */
const withoutStoragePath = (item: unknown) => {
  const { storagePath: _storagePath, workspaceId: _workspaceId, ...shown } = item as Record<string, unknown>;
  return shown;
};

export const restRoutes: RestRoute[] = [
  {
    kind: "public",
    name: "health",
    method: "GET",
    path: "/api/v1/health",
    operationId: "getHealth",
    summary: "Health of the database, the scheduler and WAHA (no API key needed)",
    tag: "Meta",
    status: 200,
    response: "Health",
  },
  {
    kind: "public",
    name: "openapi",
    method: "GET",
    path: "/api/v1/openapi.json",
    operationId: "getOpenApiDocument",
    summary: "This OpenAPI 3.1 document (no API key needed)",
    tag: "Meta",
    status: 200,
    response: "OpenApiDocument",
  },

  // WhatsApp numbers (WAHA sessions)
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/sessions",
    procedure: "whatsappSession.create",
    input: "json",
    operationId: "createSession",
    summary: "Add a WhatsApp number: creates and starts its WAHA session",
    description:
      "The session then waits for a QR scan (status SCAN_QR_CODE) until it is WORKING. `serverId` (a server from " +
      "GET /api/v1/waha-servers) places it on that WAHA server (422 naming serverId for an unknown one, 409 naming it when it is not healthy); " +
      "`serverId: null` on the operator's default server; without it, on the least-loaded healthy server of the workspace " +
      "(fewest numbers, the default server counting as one and first on a tie; 503 when none is healthy). A workspace " +
      "that registered no server keeps the default server.",
    tag: "Sessions",
    status: 201,
    response: "Session",
    dependsOn: ["waha"],
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/sessions",
    procedure: "whatsappSession.list",
    input: "none",
    operationId: "listSessions",
    summary: "The workspace's WhatsApp numbers, with their current status",
    tag: "Sessions",
    status: 200,
    response: "SessionPage",
    present: asPage,
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/sessions/{id}",
    procedure: "whatsappSession.get",
    input: "query",
    operationId: "getSession",
    summary: "One WhatsApp number, its status refreshed from WAHA",
    tag: "Sessions",
    status: 200,
    response: "Session",
  },
  {
    kind: "procedure",
    method: "PATCH",
    path: "/api/v1/sessions/{id}",
    procedure: "whatsappSession.update",
    input: "json",
    operationId: "updateSession",
    summary: "Change a WhatsApp number's sending policy: limits, warm-up, typing, check-exists, time zone",
    description:
      "Any subset of `timeZone`, `dailyLimit`, `hourlyLimit` (null = no limit), `warmup`, `typing`, `checkExists`, " +
      "`maxConsecutiveFailures` (null = never pause on failures). Numbers created here start with the safe defaults " +
      "(README: Keeping your number safe). Takes effect at the number's next send, in every campaign.",
    tag: "Sessions",
    status: 200,
    response: "Session",
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/sessions/{id}/simulate-scan",
    procedure: "whatsappSession.simulateScan",
    input: "none",
    operationId: "simulateSessionScan",
    summary: "Sandbox only: play the phone that scans the QR code (the session becomes WORKING)",
    description: "Answers 409 when the app talks to a real WAHA (WAHA_URL is set).",
    tag: "Sessions",
    status: 200,
    response: "Session",
  },
  {
    kind: "procedure",
    method: "DELETE",
    path: "/api/v1/sessions/{id}",
    procedure: "whatsappSession.delete",
    input: "none",
    operationId: "deleteSession",
    summary: "Delete a WhatsApp number and its WAHA session (WAHA stops and logs it out)",
    description:
      "409 while a campaign that has not ended sends from it, or while finished campaigns still refer to it " +
      "(delete those first: their history names the number).",
    tag: "Sessions",
    status: 204,
    dependsOn: ["waha"],
  },

  // WAHA servers (issue 15): where a workspace's numbers live
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/waha-servers",
    procedure: "wahaServer.create",
    input: "json",
    operationId: "createWahaServer",
    summary: "Register a WAHA server: `{name, url, apiKey?}`; it is checked at once and then on a timer",
    description:
      "The API key is stored encrypted (AES-256-GCM, a key from ENCRYPTION_KEY, else AUTH_SECRET, else WAHA_WEBHOOK_SECRET) " +
      "and never returned: answers say only `hasApiKey`. With none of those set, a key is refused (400). " +
      "`health` is `healthy`, `unreachable` or `unauthorized` (the key is refused), from a GET /api/sessions.",
    tag: "WahaServers",
    status: 201,
    response: "WahaServer",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/waha-servers",
    procedure: "wahaServer.list",
    input: "none",
    operationId: "listWahaServers",
    summary: "The workspace's WAHA servers with their health and how many numbers each holds (never their keys)",
    tag: "WahaServers",
    status: 200,
    response: "WahaServerPage",
    present: asPage,
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/waha-servers/{id}",
    procedure: "wahaServer.get",
    input: "query",
    operationId: "getWahaServer",
    summary: "One WAHA server and its last health check",
    tag: "WahaServers",
    status: 200,
    response: "WahaServer",
  },
  {
    kind: "procedure",
    method: "PATCH",
    path: "/api/v1/waha-servers/{id}",
    procedure: "wahaServer.update",
    input: "json",
    operationId: "updateWahaServer",
    summary: "Change a WAHA server's name, url or apiKey (null removes the key); it is checked again at once",
    tag: "WahaServers",
    status: 200,
    response: "WahaServer",
  },
  {
    kind: "procedure",
    method: "DELETE",
    path: "/api/v1/waha-servers/{id}",
    procedure: "wahaServer.delete",
    input: "none",
    operationId: "deleteWahaServer",
    summary: "Forget a WAHA server (nothing is done on the server itself)",
    description: "409 while numbers are on it: delete them first.",
    tag: "WahaServers",
    status: 204,
  },

  // Contact lists
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/lists",
    procedure: "contactList.create",
    input: "json",
    operationId: "createList",
    summary: "Create a named contact list",
    tag: "Lists",
    status: 201,
    response: "List",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/lists",
    procedure: "contactList.list",
    input: "query",
    operationId: "listLists",
    summary: "The workspace's contact lists, newest first",
    tag: "Lists",
    status: 200,
    response: "ListPage",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/lists/{id}",
    procedure: "contactList.get",
    input: "query",
    operationId: "getList",
    summary: "One contact list with its member count",
    tag: "Lists",
    status: 200,
    response: "List",
  },
  {
    kind: "procedure",
    method: "DELETE",
    path: "/api/v1/lists/{id}",
    procedure: "contactList.delete",
    input: "none",
    operationId: "deleteList",
    summary: "Delete a contact list (its contacts stay in the workspace); 409 while a campaign that has not ended uses it",
    tag: "Lists",
    status: 204,
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/lists/{id}/contacts",
    procedure: "contactList.members",
    input: "query",
    operationId: "listListContacts",
    summary: "The contacts of a list in import order (first added first), with their `total`; `search` matches phone or first name",
    tag: "Lists",
    status: 200,
    response: "ContactPage",
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/lists/{id}/contacts",
    procedure: "contactList.addContacts",
    input: "json",
    arrayBodyField: "contacts",
    queryFields: ["defaultCountry", "tag"],
    operationId: "addListContacts",
    summary: "Add contacts to a list from a JSON array of {phone, first_name?, ...}",
    description:
      "The body is the array itself, or `{contacts, defaultCountry?, mapping?}`. Numbers are normalised to " +
      "E.164 (numbers without a country code use `defaultCountry`), duplicates are merged, other keys become " +
      "attributes usable as {{key}} in templates. Every rejected item is reported with its position (from 1).",
    tag: "Lists",
    status: 200,
    response: "ImportResult",
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/contacts/{id}/opt-out",
    procedure: "contact.optOut",
    input: "none",
    operationId: "optOutContact",
    summary: "Opt a contact out of the workspace: it is never messaged again, even by a campaign already running",
    description: "Idempotent. Pending recipients of running campaigns become `skipped` (`opted_out`) when their turn comes.",
    tag: "Contacts",
    status: 200,
    response: "ContactOptOut",
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/contacts/{id}/opt-in",
    procedure: "contact.optIn",
    input: "none",
    operationId: "optInContact",
    summary: "Opt a contact back in, recording who did it and when (only ever by hand: imports never opt in)",
    tag: "Contacts",
    status: 200,
    response: "ContactOptOut",
  },
  {
    kind: "procedure",
    method: "PATCH",
    path: "/api/v1/contacts/{id}/tags",
    procedure: "contact.editTags",
    input: "json",
    operationId: "editContactTags",
    summary: "Add and/or remove a contact's tags: `{add?: [...], remove?: [...]}`; answers the contact's tags",
    description: "Tags are trimmed and lower-cased; adding a tag the contact has, or removing one it lacks, changes nothing.",
    tag: "Contacts",
    status: 200,
    response: "ContactTags",
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/suppression/import",
    procedure: "contact.importSuppressed",
    input: "csv",
    queryFields: ["defaultCountry"],
    operationId: "importSuppression",
    summary: "Opt out every phone of a CSV (a phone column) or of a plain list (one per line); missing contacts are created opted out",
    tag: "Contacts",
    status: 200,
    response: "SuppressionImportResult",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/settings/opt-out",
    procedure: "contact.optOutSettings",
    input: "none",
    operationId: "getOptOutSettings",
    summary: "The workspace's opt-out keywords, confirmation text and reply attribution window",
    tag: "Contacts",
    status: 200,
    response: "OptOutSettings",
  },
  {
    kind: "procedure",
    method: "PATCH",
    path: "/api/v1/settings/opt-out",
    procedure: "contact.updateOptOutSettings",
    input: "json",
    operationId: "updateOptOutSettings",
    summary: "Set the opt-out keywords (null: the defaults), the confirmation (null: none) or the attribution window in days",
    tag: "Contacts",
    status: 200,
    response: "OptOutSettings",
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/lists/{id}/import",
    procedure: "contactList.importCsv",
    input: "csv",
    queryFields: ["defaultCountry", "tag"],
    operationId: "importListCsv",
    summary: "Import a CSV file (Content-Type: text/csv) into a list",
    description:
      "A `phone_number` column is required; `first_name` and any other columns are optional (other columns " +
      "become attributes), except `tags`: the contact's tags, separated by `,` `;` or `|`; `?tag=` tags every imported contact. `,`, `;` and tab separators, quotes and a BOM are understood. Every rejected row " +
      "is reported with its line number and reason; nothing is imported when the file cannot be read. " +
      "A JSON body `{csv, defaultCountry?, mapping?}` is accepted too.",
    tag: "Lists",
    status: 200,
    response: "ImportResult",
  },

  // Templates
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/templates",
    procedure: "template.create",
    input: "json",
    operationId: "createTemplate",
    summary: "Create a message template with {{placeholders}} ({{first_name|fallback}}, imported columns)",
    description: "`mediaId` (optional): an image from the media library, sent with the text unless a campaign gives its own `mediaId`.",
    tag: "Templates",
    status: 201,
    response: "Template",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/templates",
    procedure: "template.list",
    input: "query",
    operationId: "listTemplates",
    summary: "The workspace's templates, newest first",
    tag: "Templates",
    status: 200,
    response: "TemplatePage",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/templates/{id}",
    procedure: "template.get",
    input: "query",
    operationId: "getTemplate",
    summary: "One template",
    tag: "Templates",
    status: 200,
    response: "Template",
  },
  {
    kind: "procedure",
    method: "PATCH",
    path: "/api/v1/templates/{id}",
    procedure: "template.update",
    input: "json",
    operationId: "updateTemplate",
    summary: "Change a template's name, body or image (`mediaId: null` takes the image off)",
    description: "Campaigns that have not started send the new body and image; a started campaign keeps what it fixed when it started.",
    tag: "Templates",
    status: 200,
    response: "Template",
  },
  {
    kind: "procedure",
    method: "DELETE",
    path: "/api/v1/templates/{id}",
    procedure: "template.delete",
    input: "none",
    operationId: "deleteTemplate",
    summary: "Delete a template; 409 while a campaign that has not rendered its texts yet (Draft, Scheduled, Paused) uses it",
    description: "A Running campaign rendered every text when it started, so it no longer needs the template.",
    tag: "Templates",
    status: 204,
  },

  // Media library
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/media",
    procedure: "media.upload",
    input: "image",
    queryFields: ["filename"],
    operationId: "uploadMedia",
    summary: "Upload an image (JPEG, PNG or WebP, at most 5 MB) for campaigns' `mediaId`",
    description:
      "The body is the image itself with its Content-Type (`curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg'`); " +
      "`?filename=` names it. The bytes decide the type, not the name: anything else is 422.",
    tag: "Media",
    status: 201,
    response: "Media",
    present: withoutStoragePath,
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/media",
    procedure: "media.list",
    input: "query",
    operationId: "listMedia",
    summary: "The workspace's images, newest first",
    tag: "Media",
    status: 200,
    response: "MediaPage",
  },
  {
    kind: "procedure",
    method: "DELETE",
    path: "/api/v1/media/{id}",
    procedure: "media.delete",
    input: "none",
    operationId: "deleteMedia",
    summary: "Delete an image; 409 while a campaign that has not ended sends it",
    tag: "Media",
    status: 204,
  },

  // Campaigns
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/campaigns",
    procedure: "campaign.create",
    input: "json",
    operationId: "createCampaign",
    summary: "Schedule a campaign (a list, a template or a text, a WhatsApp number and a time), or save a draft",
    description:
      "`scheduledAt` is ISO-8601 with a time zone offset and must be in the future. `sessionId` may be left " +
      "out when the workspace has exactly one WhatsApp number. Delays between messages default to the " +
      "server's SEND_DELAY_MIN_MS / SEND_DELAY_MAX_MS. With `status: \"Draft\"` only `name` is needed: the " +
      "list, the text or template and the time may wait; schedule it later with POST /api/v1/campaigns/{id}/schedule. " +
      "With `recurrence: {cron, timeZone, until?}` (issue 15) it repeats: it is created `Recurring`, and each occurrence " +
      "of `cron` (five fields) in `timeZone` is a run, a campaign of its own (`seriesId`) with the audience as it is then; " +
      "`scheduledAt`, when given, is when the series starts. A bad cron, an unknown zone or an `until` before the first " +
      "occurrence is a 400 naming recurrence.cron, recurrence.timeZone or recurrence.until.",
    tag: "Campaigns",
    status: 201,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/campaigns",
    procedure: "campaign.list",
    input: "query",
    operationId: "listCampaigns",
    summary: "The workspace's campaigns, newest first; filter with ?status=Running&status=Paused",
    tag: "Campaigns",
    status: 200,
    response: "CampaignPage",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/campaigns/{id}",
    procedure: "campaign.get",
    input: "query",
    operationId: "getCampaign",
    summary: "One campaign with its status and counts",
    tag: "Campaigns",
    status: 200,
    response: "Campaign",
  },
  {
    kind: "procedure",
    method: "PATCH",
    path: "/api/v1/campaigns/{id}",
    procedure: "campaign.update",
    input: "json",
    operationId: "updateCampaign",
    summary: "Edit or reschedule a campaign that has not started (409 once it has)",
    tag: "Campaigns",
    status: 200,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "DELETE",
    path: "/api/v1/campaigns/{id}",
    procedure: "campaign.delete",
    input: "none",
    operationId: "deleteCampaign",
    summary: "Delete a campaign; an active one is cancelled first, so nothing more is sent",
    tag: "Campaigns",
    status: 204,
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/campaigns/{id}/schedule",
    procedure: "campaign.schedule",
    input: "json",
    operationId: "scheduleCampaign",
    summary: "Schedule a draft: everything is checked now (list, text or template, time ahead); 409 unless Draft",
    description:
      "`scheduledAt` (ISO-8601 with an offset) may be left out when the draft was saved with a time. " +
      "A 422 names the field to fill in first (listId, text, scheduledAt).",
    tag: "Campaigns",
    status: 200,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/campaigns/{id}/pause",
    procedure: "campaign.pause",
    input: "none",
    operationId: "pauseCampaign",
    summary: "Pause a scheduled or running campaign",
    tag: "Campaigns",
    status: 200,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/campaigns/{id}/resume",
    procedure: "campaign.resume",
    input: "none",
    operationId: "resumeCampaign",
    summary: "Resume a paused campaign with its next pending recipient (409 unless Paused)",
    tag: "Campaigns",
    status: 200,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/campaigns/{id}/cancel",
    procedure: "campaign.cancel",
    input: "none",
    operationId: "cancelCampaign",
    summary: "Cancel a campaign: nothing more is sent once this returns",
    tag: "Campaigns",
    status: 200,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/campaigns/{id}/retry-failed",
    procedure: "campaign.retryFailed",
    input: "json",
    operationId: "retryFailedRecipients",
    summary: "A new campaign (retryOf) of only the failed recipients, each once; 409 while the campaign runs, or when already retried",
    description:
      "Takes the recipients whose outcome is `failed` (a refused send, or WhatsApp's ack -1 after sending): never one `sent`, " +
      "`unknown` (it may have arrived), `skipped` or `cancelled`, nor a contact opted out since. Each gets the text it was " +
      "rendered with the first time. Starts now, or at `scheduledAt` (ISO-8601 with an offset). One retry per campaign: " +
      "retry the retry's own failures after it.",
    tag: "Campaigns",
    status: 201,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/campaigns/{id}/duplicate",
    procedure: "campaign.duplicate",
    input: "json",
    operationId: "duplicateCampaign",
    summary: "Copy a campaign's settings as a Draft (or Scheduled at `scheduledAt`)",
    description:
      "List, message or template, image, number, pacing, send window and batches are copied; the list's members are read " +
      "when the copy runs. Without `scheduledAt` the copy is a Draft: review it, then POST /api/v1/campaigns/{id}/schedule.",
    tag: "Campaigns",
    status: 201,
    response: "Campaign",
    dependsOn: ["scheduler"],
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/campaigns/{id}/recipients",
    procedure: "campaign.recipients",
    input: "query",
    operationId: "listCampaignRecipients",
    summary: "Per-recipient outcome, in send order; filter with ?status=failed; ?format=csv streams them all as CSV",
    tag: "Campaigns",
    status: 200,
    response: "RecipientPage",
    csvFormat: true,
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/campaigns/{id}/events",
    procedure: "campaign.events",
    input: "none",
    operationId: "listCampaignEvents",
    summary: "Pauses and resumes, newest first: why it paused, and whether a person or the app resumed it",
    tag: "Campaigns",
    status: 200,
    response: "CampaignEventList",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/campaigns/{id}/numbers",
    procedure: "campaign.numbers",
    input: "none",
    operationId: "listCampaignNumbers",
    summary: "The numbers a campaign sends from (issue 15), each with how many it sent, has in flight, and keeps waiting",
    tag: "Campaigns",
    status: 200,
    response: "CampaignNumberList",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/campaigns/{id}/runs",
    procedure: "campaign.series",
    input: "none",
    operationId: "listCampaignRuns",
    summary: "A recurring campaign's runs, newest first, with their counts, and its next 5 occurrences (empty for a one-off campaign)",
    description:
      "Each run is a campaign of its own (GET /api/v1/campaigns/{runId}); a run whose previous one was still running when it came due " +
      "is Missed with missedReason \"the previous run was still running\".",
    tag: "Campaigns",
    status: 200,
    response: "CampaignRuns",
  },

  // Outgoing webhooks (docs/rest-api.md: events, payloads, signature)
  {
    kind: "procedure",
    method: "POST",
    path: "/api/v1/webhooks",
    procedure: "webhook.create",
    input: "json",
    operationId: "createWebhook",
    summary: "Register a URL to receive events (campaign.started, recipient.sent, contact.opted_out, ...); its secret is shown once",
    description:
      "`{url, events}`. Only http(s) URLs; a host that is or resolves to a loopback, private, link-local or other " +
      "non-public address is a 400 unless the server sets WEBHOOK_ALLOW_PRIVATE=true. Every delivery is signed with " +
      "the `secret` in this answer (X-Webhook-Signature); it is not shown again.",
    tag: "Webhooks",
    status: 201,
    response: "WebhookEndpointCreated",
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/webhooks",
    procedure: "webhook.list",
    input: "none",
    operationId: "listWebhooks",
    summary: "The workspace's webhook endpoints (without their secrets)",
    tag: "Webhooks",
    status: 200,
    response: "WebhookEndpointPage",
    present: asPage,
  },
  {
    kind: "procedure",
    method: "DELETE",
    path: "/api/v1/webhooks/{id}",
    procedure: "webhook.delete",
    input: "none",
    operationId: "deleteWebhook",
    summary: "Delete a webhook endpoint: nothing more is delivered to it, and its delivery log goes with it",
    tag: "Webhooks",
    status: 204,
  },
  {
    kind: "procedure",
    method: "GET",
    path: "/api/v1/webhooks/{id}/deliveries",
    procedure: "webhook.deliveries",
    input: "query",
    operationId: "listWebhookDeliveries",
    summary: "An endpoint's delivery log, newest first: each event, its attempts, the last answer, delivered or not",
    description: "Page back with `?before=` the `nextBefore` of the previous answer.",
    tag: "Webhooks",
    status: 200,
    response: "WebhookDeliveryPage",
  },
];

/** `{id}` names of a path template, in order. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
}

interface CompiledRoute {
  route: RestRoute;
  pattern: RegExp;
  params: string[];
}

const compiled: CompiledRoute[] = restRoutes.map((route) => ({
  route,
  params: pathParameters(route.path),
  pattern: new RegExp(`^${route.path.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "([^/]+)")}$`),
}));

export type RouteMatch =
  | { kind: "found"; route: RestRoute; params: Record<string, string> }
  | { kind: "wrong-method"; allowed: HttpMethod[] }
  | { kind: "none" };

export function matchRoute(requestMethod: string, pathname: string): RouteMatch {
  // HEAD is GET without the body (node:http leaves the body out), as HTTP asks of every GET resource.
  const method = requestMethod === "HEAD" ? "GET" : requestMethod;
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const allowed: HttpMethod[] = [];
  for (const entry of compiled) {
    const match = entry.pattern.exec(path);
    if (!match) continue;
    if (entry.route.method !== method) {
      allowed.push(entry.route.method);
      continue;
    }
    const params: Record<string, string> = {};
    entry.params.forEach((name, index) => {
      params[name] = safeDecode(match[index + 1]!);
    });
    return { kind: "found", route: entry.route, params };
  }
  return allowed.length > 0 ? { kind: "wrong-method", allowed } : { kind: "none" };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
