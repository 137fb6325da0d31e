/** Shapes the pages receive from tRPC, inferred from the router (types only: no server code ships). */
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "~/server/api/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export type Campaign = RouterOutputs["campaign"]["get"];
export type CampaignStatus = Campaign["status"];
export type Recipient = RouterOutputs["campaign"]["recipients"]["items"][number];
export type RecipientStatus = Recipient["status"];
export type WhatsappSession = RouterOutputs["whatsappSession"]["list"][number];
export type ContactList = RouterOutputs["contactList"]["list"]["items"][number];
export type ImportResult = RouterOutputs["contactList"]["importCsv"];
export type Template = RouterOutputs["template"]["list"]["items"][number];
export type MediaItem = RouterOutputs["media"]["list"]["items"][number];

export const CAMPAIGN_STATUSES: CampaignStatus[] = ["Draft", "Scheduled", "Running", "Paused", "Completed", "Failed", "Cancelled"];
export const RECIPIENT_STATUSES: RecipientStatus[] = ["pending", "sending", "sent", "failed", "skipped", "unknown"];
/** A campaign in these states may still change: pages poll it. */
export const LIVE_STATUSES: CampaignStatus[] = ["Scheduled", "Running", "Paused"];
