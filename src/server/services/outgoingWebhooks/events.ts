/**
 * The events a workspace's webhook endpoints can subscribe to (issue 14). Campaign and recipient
 * events are written by database triggers (migration 0007) in the transaction that made the change;
 * replies and opt-outs by `emitWebhookEvent` from the code that records them.
 */
export const WEBHOOK_EVENT_TYPES = [
  "campaign.started",
  "campaign.paused",
  "campaign.completed",
  "recipient.sent",
  "recipient.failed",
  "recipient.replied",
  "contact.opted_out",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}
