/**
 * Seeding for the runner's tests: a workspace, a WhatsApp session (also WORKING on the
 * fake), contacts in a list, and a campaign due now, inserted directly with Drizzle.
 */
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import * as s from "~/server/db/schema";
import type { FakeMessage } from "../../tools/fake-waha/server";

export interface SeedOptions {
  recipients: number;
  delayMinMs?: number;
  delayMaxMs?: number;
  /** Template body; default "Hi {{first_name|there}}, code {{code}}". */
  body?: string;
  /** Use the text on the campaign instead of a template. */
  messageText?: string;
  status?: s.CampaignStatus;
  scheduledAt?: Date;
  /** Reuse a session (two campaigns on one number). */
  session?: { id: string; wahaSessionName: string; workspaceId: string };
  mediaId?: string | null;
}

export interface Seeded {
  workspaceId: string;
  sessionId: string;
  wahaSessionName: string;
  campaignId: string;
  listId: string;
  contacts: Array<{ id: string; phone: string; chatId: string; firstName: string | null; code: string }>;
}

let phoneCounter = 0;

/** Distinct valid E.164 numbers across a test file (and across processes: random prefix). */
const phonePrefix = `+4915${(Math.floor(Math.random() * 90) + 10).toString()}`;
export function nextPhone(): string {
  phoneCounter++;
  return `${phonePrefix}${phoneCounter.toString().padStart(7, "0")}`;
}

export function chatIdOf(phone: string): string {
  return `${phone.replace(/^\+/, "")}@c.us`;
}

export async function seedCampaign(db: Db, options: SeedOptions): Promise<Seeded> {
  let workspaceId: string;
  let sessionId: string;
  let wahaSessionName: string;
  if (options.session) {
    ({ workspaceId, id: sessionId, wahaSessionName } = options.session);
  } else {
    const [workspace] = await db.insert(s.workspaces).values({ name: "w" }).returning();
    workspaceId = workspace!.id;
    wahaSessionName = `s-${randomBytes(4).toString("hex")}`;
    const [session] = await db
      .insert(s.whatsappSessions)
      .values({ workspaceId, name: wahaSessionName, wahaSessionName, status: "WORKING" })
      .returning();
    sessionId = session!.id;
  }
  const [list] = await db.insert(s.contactLists).values({ workspaceId, name: `l-${randomBytes(4).toString("hex")}` }).returning();
  const contacts: Seeded["contacts"] = [];
  const rows = [];
  for (let i = 0; i < options.recipients; i++) {
    const phone = nextPhone();
    const code = `C${i}`;
    rows.push({ workspaceId, phone, firstName: i % 5 === 4 ? null : `Name${i}`, attributes: { code } });
  }
  for (let start = 0; start < rows.length; start += 1000) {
    const inserted = await db.insert(s.contacts).values(rows.slice(start, start + 1000)).returning();
    for (const contact of inserted) {
      contacts.push({ id: contact.id, phone: contact.phone, chatId: chatIdOf(contact.phone), firstName: contact.firstName, code: contact.attributes.code! });
    }
  }
  // Members added one after another: the send order is the order of this array.
  const base = Date.now() - 60_000;
  for (let start = 0; start < contacts.length; start += 1000) {
    await db.insert(s.contactListMembers).values(
      contacts.slice(start, start + 1000).map((contact, index) => ({ listId: list!.id, contactId: contact.id, addedAt: new Date(base + start + index) })),
    );
  }
  let templateId: string | null = null;
  if (options.messageText === undefined) {
    const [template] = await db
      .insert(s.templates)
      .values({ workspaceId, name: `t-${randomBytes(4).toString("hex")}`, body: options.body ?? "Hi {{first_name|there}}, code {{code}}" })
      .returning();
    templateId = template!.id;
  }
  const [campaign] = await db
    .insert(s.campaigns)
    .values({
      workspaceId,
      name: "c",
      listId: list!.id,
      templateId,
      messageText: options.messageText ?? null,
      sessionId,
      scheduledAt: options.scheduledAt ?? new Date(Date.now() - 1_000),
      status: options.status ?? "Scheduled",
      delayMinMs: options.delayMinMs ?? 0,
      delayMaxMs: options.delayMaxMs ?? 0,
      mediaId: options.mediaId ?? null,
    })
    .returning();
  return { workspaceId, sessionId, wahaSessionName, campaignId: campaign!.id, listId: list!.id, contacts };
}

/** The text the default template renders for a seeded contact. */
export function expectedText(contact: Seeded["contacts"][number]): string {
  return `Hi ${contact.firstName ?? "there"}, code ${contact.code}`;
}

export async function recipientCounts(db: Db, campaignId: string): Promise<Record<string, number>> {
  const result = (await db.execute(
    sql`select status::text as status, count(*)::int as n from campaign_recipients where campaign_id = ${campaignId} group by status`,
  )) as unknown as { rows: Array<{ status: string; n: number }> };
  return Object.fromEntries(result.rows.map((row) => [row.status, Number(row.n)]));
}

export async function campaignRow(db: Db, campaignId: string): Promise<s.Campaign | undefined> {
  const [row] = await db.select().from(s.campaigns).where(eq(s.campaigns.id, campaignId));
  return row;
}

/** How many times each chat got a message, from the fake's log, for one session. */
export function perChat(messages: FakeMessage[], session: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) if (message.session === session) counts.set(message.chatId, (counts.get(message.chatId) ?? 0) + 1);
  return counts;
}

export function sessionMessages(messages: FakeMessage[], session: string): FakeMessage[] {
  return messages.filter((message) => message.session === session);
}
