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

export const RECIPIENT_STATUSES: RecipientStatus[] = ["pending", "sending", "sent", "failed", "skipped", "unknown"];
/** Campaign statuses have one home (it imports types only, so no server code ships with the pages). */
export { CAMPAIGN_STATUSES, LIVE_STATUSES } from "~/server/services/campaignStatuses";
