/**
 * The recipients CSV download (issue 14), for both doors: `GET /api/v1/campaigns/{id}/recipients?format=csv`
 * (API key, rest/handler.ts) and `GET /api/campaigns/{id}/recipients.csv` (the dashboard's session
 * cookie: a plain link the browser downloads). The campaign must be the caller's; the body streams
 * (services/recipientExport.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppServices } from "../app";
import { childLogger } from "../logger";
import { callerFromSessionToken, type Caller } from "../services/auth";
import { AppError } from "../services/errors";
import { writeRecipientsCsv } from "../services/recipientExport";
import { toRestError } from "../rest/errors";
import { readSessionToken } from "./cookies";

const log = childLogger("recipients-csv");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The cookie-authenticated download's path. */
export const RECIPIENTS_CSV_PATH = /^\/api\/campaigns\/([0-9a-f-]{36})\/recipients\.csv$/i;

/** Answers the CSV of the caller's campaign (404 when it is not theirs). Errors before the first byte are JSON. */
export async function sendRecipientsCsv(services: AppServices, caller: Caller, campaignId: string, res: ServerResponse): Promise<void> {
  if (!UUID.test(campaignId)) throw new AppError("BAD_REQUEST", "The campaign id is not a UUID: use the id the campaigns list returns", "id");
  const campaign = await services.campaigns.row(caller.workspaceId, campaignId);
  res.statusCode = 200;
  res.setHeader("content-type", "text/csv; charset=utf-8");
  res.setHeader("content-disposition", `attachment; filename="campaign-${campaign.id}-recipients.csv"`);
  res.setHeader("cache-control", "no-store");
  try {
    await writeRecipientsCsv(services.db, campaign.id, res);
    res.end();
  } catch (error) {
    // Headers are out: all that is left is to cut the download short, which the client sees.
    log.error({ err: error, campaignId }, "recipients CSV export failed midway");
    res.destroy(error instanceof Error ? error : undefined);
  }
}

/** `GET /api/campaigns/{id}/recipients.csv` with the session cookie (server.ts routes only GET here). */
export async function handleRecipientsCsvDownload(services: AppServices, req: IncomingMessage, res: ServerResponse, campaignId: string): Promise<void> {
  try {
    const token = readSessionToken(req);
    const caller = token ? await callerFromSessionToken(services.db, token) : null;
    if (!caller) throw new AppError("UNAUTHORIZED", "Log in to download a campaign's recipients (or use GET /api/v1/campaigns/{id}/recipients?format=csv with an API key)");
    await sendRecipientsCsv(services, caller, campaignId, res);
  } catch (error) {
    if (res.headersSent) return;
    const restError = toRestError(error);
    res.statusCode = restError.status;
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.end(JSON.stringify(restError.toBody()));
  }
}
