/**
 * A campaign's recipients with their outcomes as CSV (issue 14), streamed: keyset pages in send order
 * (the (campaign, position) unique index), each page written before the next is read, and a full
 * socket buffer waited out (`drain`), so memory stays one page whatever the campaign's size.
 *
 * Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading
 * apostrophe: a contact's name or a WAHA error is not a command for the reader's spreadsheet. A phone
 * number in E.164 ("+4915…", digits only) is left as it is: it cannot hold a formula.
 */
import type { Writable } from "node:stream";
import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "../db/client";
import { campaignRecipients, contacts, type RecipientStatus } from "../db/schema";

/** Rows per read: a page is a few hundred kB at most. */
const PAGE_SIZE = 2000;

export const RECIPIENT_CSV_COLUMNS = ["phone", "name", "outcome", "status", "skipReason", "sentAt", "ack", "ackAt", "repliedAt", "lastError"] as const;

/**
 * What happened to one recipient, most advanced first: `read` (ack >= 3), `delivered` (ack >= 2),
 * else its status (`sent`, `failed` — an ack −1 after sending makes it so —, `skipped`, `cancelled`,
 * `unknown`, or `pending`/`sending` while the campaign runs).
 */
export function recipientOutcome(row: { status: RecipientStatus; ack: number | null }): string {
  if (row.status === "sent" && row.ack !== null && row.ack >= 3) return "read";
  if (row.status === "sent" && row.ack !== null && row.ack >= 2) return "delivered";
  return row.status;
}

const E164 = /^\+\d{6,15}$/;

/** One CSV cell: quoted when it needs it, neutralised when a spreadsheet would evaluate it. */
export function csvCell(value: string | number | Date | null): string {
  if (value === null) return "";
  let text = value instanceof Date ? value.toISOString() : String(value);
  // An E.164 phone ("+4915…") is a plain number to a spreadsheet, no formula: it stays readable.
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text) && !E164.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Writes the header and every recipient of the campaign to `out`; returns the number of rows written.
 * Stops early (without error) when `out` is destroyed, e.g. the client went away. The caller checks
 * that the campaign is the caller's.
 */
export async function writeRecipientsCsv(db: Db, campaignId: string, out: Writable): Promise<number> {
  await writeChunk(out, `${RECIPIENT_CSV_COLUMNS.join(",")}\r\n`);
  let after = -1;
  let written = 0;
  for (;;) {
    if (out.destroyed) return written;
    const page = await db
      .select({
        position: campaignRecipients.position,
        phone: campaignRecipients.phone,
        name: contacts.firstName,
        status: campaignRecipients.status,
        skipReason: campaignRecipients.skipReason,
        sentAt: campaignRecipients.sentAt,
        ack: campaignRecipients.ack,
        ackAt: campaignRecipients.ackAt,
        repliedAt: campaignRecipients.repliedAt,
        lastError: campaignRecipients.lastError,
      })
      .from(campaignRecipients)
      .leftJoin(contacts, eq(contacts.id, campaignRecipients.contactId))
      .where(and(eq(campaignRecipients.campaignId, campaignId), gt(campaignRecipients.position, after)))
      .orderBy(asc(campaignRecipients.position))
      .limit(PAGE_SIZE);
    if (page.length === 0) return written;
    let chunk = "";
    for (const row of page) {
      chunk += [
        csvCell(row.phone),
        csvCell(row.name),
        recipientOutcome(row),
        row.status,
        csvCell(row.skipReason),
        csvCell(row.sentAt),
        csvCell(row.ack),
        csvCell(row.ackAt),
        csvCell(row.repliedAt),
        csvCell(row.lastError),
      ].join(",");
      chunk += "\r\n";
    }
    await writeChunk(out, chunk);
    written += page.length;
    after = page[page.length - 1]!.position;
    if (page.length < PAGE_SIZE) return written;
  }
}

/** Writes, and when the buffer is full waits for it to drain (or for the stream to close). */
async function writeChunk(out: Writable, chunk: string): Promise<void> {
  if (out.destroyed) return;
  if (out.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}
